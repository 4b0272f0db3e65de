#!/usr/bin/env bash
# The policy floor (issue 11 item 3): --policy, WM_POLICY_FLOOR and
# config.yaml's policy_floor; built-in names reserved; the weak-policy list;
# a workflow the user did not write asking for minimal.
. "$(dirname "$0")/../lib.sh"
export XDG_CONFIG_HOME=$T/config
W=$T/ws
mkdir -p "$W" "$XDG_CONFIG_HOME/wm"

cat >"$W/weak.md" <<'MD'
---
name: weak
---
## Build
- policy: minimal

```sh
echo built >"$WM_OUT/x"
```

## Test
- depends: build

```sh
true
```
MD

expect_exit "a task below --policy is an error" 2 "$WM" run --policy hardened "$W/weak.md"
expect_in "named at the task's policy, with both policies and the axis" \
	"weak.md:5:11: error: task \`build\`: policy 'minimal' is weaker than the floor 'hardened' (--policy): network host is weaker than none" "$OUT"
check "nothing ran: no run directory" test ! -e "$WM_STATE_DIR/runs"
expect_exit "dry run applies the floor" 2 "$WM" run --dry-run --policy standard "$W/weak.md"
expect_exit "plan applies the floor" 2 "$WM" plan --policy standard "$W/weak.md"
expect_exit "a floor the task meets" 0 "$WM" run --dry-run --policy minimal "$W/weak.md"
expect_in "tasks without a policy run under --policy" "test                     policy=minimal" "$OUT"

# The front matter's policy is checked too.
sed 's/^name: weak$/name: weak\npolicy: development/; /- policy: minimal/d' "$W/weak.md" >"$W/fm.md"
expect_exit "front matter below the floor" 2 "$WM" plan --policy testing "$W/fm.md"
expect_in "located at the front matter" \
	"fm.md:3:9: error: the workflow's policy 'development' is weaker than the floor 'testing' (--policy): network host is weaker than loopback" "$OUT"

# Tasks without a policy run under the floor when it is stricter than standard.
printf '## only\n```sh\ntrue\n```\n' >"$W/plain.md"
expect_exit "user floor from the environment" 0 env WM_POLICY_FLOOR=paranoid "$WM" run "$W/plain.md"
check "the task ran under the floor" test "$(task_field "$(run_dir_of "$OUT")" only policy)" = paranoid
expect_exit "WM_POLICY_FLOOR refuses a weaker task" 2 env WM_POLICY_FLOOR=standard "$WM" plan "$W/weak.md"
expect_in "its origin is named" "the floor 'standard' (WM_POLICY_FLOOR)" "$OUT"
expect_exit "an unknown floor" 2 env WM_POLICY_FLOOR=standrd "$WM" plan "$W/plain.md"
expect_in "with a hint" "unknown policy 'standrd' (did you mean 'standard'?)" "$OUT"

# config.yaml
printf 'policy_floor: hardened\n' >"$XDG_CONFIG_HOME/wm/config.yaml"
expect_exit "config floor" 2 "$WM" plan "$W/weak.md"
expect_in "named with its file" "(${XDG_CONFIG_HOME}/wm/config.yaml): network host is weaker than none" "$OUT"
expect_exit "the stricter of --policy and the user floor applies" 0 "$WM" run --policy development "$W/plain.md"
check "the task ran under the user floor" test "$(task_field "$(run_dir_of "$OUT")" only policy)" = hardened
printf 'policy_floor: standard\npolicy_flor: x\n' >"$XDG_CONFIG_HOME/wm/config.yaml"
expect_exit "unknown config key" 2 "$WM" plan "$W/plain.md"
expect_in "located, with a hint" "config.yaml:2:1: error: unknown key 'policy_flor' in the config file (did you mean 'policy_floor'?)" "$OUT"
# Incomparable floors: both apply.
printf 'version: 1\npolicies:\n  loopy: {inherits: standard, network: loopback, limits: {memory: 1G}}\n' \
	>"$XDG_CONFIG_HOME/wm/policies.yaml"
printf 'policy_floor: loopy\n' >"$XDG_CONFIG_HOME/wm/config.yaml"
expect_exit "incomparable floors: a task must meet both" 2 "$WM" plan --policy standard "$W/plain.md"
expect_in "the one it misses is named" "weaker than the floor 'loopy'" "$OUT"
rm -f "$XDG_CONFIG_HOME/wm/config.yaml" "$XDG_CONFIG_HOME/wm/policies.yaml"

# A workflow's own policies file cannot redefine built-ins or the user's policies.
printf 'version: 1\npolicies:\n  paranoid:\n    inherits: minimal\n' >"$W/evil.yaml"
sed 's/^name: weak$/name: evil\npolicies: evil.yaml/; s/- policy: minimal/- policy: paranoid/' "$W/weak.md" >"$W/evil.md"
expect_exit "redefining paranoid" 2 "$WM" run --dry-run "$W/evil.md"
expect_in "refused at its name" "evil.yaml:3:3: error: 'paranoid' is a built-in policy and cannot be redefined" "$OUT"
printf 'version: 1\npolicies:\n  Paranoid: {inherits: minimal}\n' >"$W/evil.yaml"
expect_exit "a case variant" 2 "$WM" run --dry-run "$W/evil.md"
expect_in "refused too" "'Paranoid' differs from the built-in policy 'paranoid' only in letter case" "$OUT"
printf 'version: 1\npolicies:\n  ci: {inherits: hardened}\n' >"$XDG_CONFIG_HOME/wm/policies.yaml"
printf 'version: 1\npolicies:\n  ci: {inherits: minimal}\n  wf-only: {inherits: standard}\n' >"$W/evil.yaml"
expect_exit "replacing the user's policy" 2 "$WM" run --dry-run --policy ci "$W/evil.md"
expect_in "refused" "'ci' is already defined in" "$OUT"
printf 'version: 1\npolicies:\n  wf-only: {inherits: minimal}\n' >"$W/evil.yaml"
expect_exit "a floor from the workflow's own file" 2 "$WM" run --dry-run --policy wf-only "$W/evil.md"
expect_in "is refused" "floor policy 'wf-only' (--policy) comes from the workflow's own policies: file" "$OUT"
rm -f "$XDG_CONFIG_HOME/wm/policies.yaml"

# Weak policies are listed before anything runs.
expect_exit "plan lists weak tasks" 0 "$WM" plan "$W/weak.md"
expect_in "with why" "build                    minimal      network host, host filesystem writable, no seccomp filter" "$OUT"
expect_in "as a warning" "warning: 1 task of $W/weak.md runs under a policy weaker than standard" "$OUT"
# Many weak tasks: one line per policy, not one per task.
{
	printf -- '---\npolicy: minimal\n---\n'
	for i in $(seq 12); do printf '## t%d\n```sh\ntrue\n```\n' "$i"; done
	printf '## dev\n- policy: development\n```sh\ntrue\n```\n'
} >"$W/many.md"
expect_exit "plan of many weak tasks" 0 "$WM" plan "$W/many.md"
expect_in "grouped by policy" "  12 tasks (t1, ...) minimal" "$OUT"
expect_in "one task of another" "  1 task (dev) development" "$OUT"
expect_in "counted" "13 tasks of $W/many.md run under a policy weaker than standard" "$OUT"
check "no line per task" test "$(grep -c '^  t[0-9]' <<<"$OUT")" = 0

# A workflow the user did not write that asks for minimal.
cp "$W/weak.md" "$W/theirs.md"
chmod 666 "$W/theirs.md"
expect_exit "refused without --yes and without a terminal" 2 "$WM" run "$W/theirs.md" </dev/null
expect_in "says how to proceed" "is writable by group or others and asks for a policy as weak as minimal for 1 task; nothing was run. Read it, then run it with --yes" "$OUT"
expect_exit "--yes runs it" 0 "$WM" run --yes "$W/theirs.md" </dev/null
RUN=$(run_dir_of "$OUT")
check "policy.weak is in the audit log" \
	grep -q '"consent":"--yes","event":"policy.weak".*"policy":"minimal","task":"build"' "$RUN/audit.jsonl"
check "with why the file is not the user's" grep -q '"workflow_file":"is writable by group or others"' "$RUN/audit.jsonl"
OUT=$(printf 'y\n' | script -qec "$WM run $W/theirs.md" /dev/null 2>&1)
expect_in "a terminal asks" "asks for a policy as weak as minimal for 1 task? [y/N]" "$OUT"
RUN=$(run_dir_of "$OUT")
check "a yes on the terminal runs it, recorded" grep -q '"consent":"terminal","event":"policy.weak"' "$RUN/audit.jsonl"
OUT=$(printf 'n\n' | script -qec "$WM run $W/theirs.md" /dev/null 2>&1)
expect_in "a no on the terminal runs nothing" "not confirmed: nothing was run" "$OUT"
chmod 644 "$W/theirs.md"
expect_exit "the user's own file needs no --yes" 0 "$WM" run "$W/theirs.md" </dev/null
check "weak tasks are recorded even so" grep -q '"event":"policy.weak".*"workflow_file":"is the user'"'"'s own"' "$(run_dir_of "$OUT")/audit.jsonl"
