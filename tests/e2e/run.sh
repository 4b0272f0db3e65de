#!/usr/bin/env bash
# wm run: the scheduler's rules, each checked on a real workflow in real sandboxes.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

# ---- a diamond passing outputs along ----
cat >"$W/diamond.md" <<'MD'
---
name: diamond
env:
  FROM_FRONT: front
---
# Diamond

## a
```sh
echo hello > "$WM_OUT/x"
printf '%s %s %s\n' "$FROM_FRONT" "$FROM_TASK" "$FROM_CLI" > "$WM_OUT/env"
```

## b
- depends: a
- env: FROM_TASK=task

```sh
tr a-z A-Z < "$WM_IN/a/x" > "$WM_OUT/y"
```

## c
- depends: a

```python
import os
open(os.path.join(os.environ["WM_OUT"], "z"), "w").write(open(os.environ["WM_IN"] + "/a/x").read().strip() + "!\n")
```

## d
- depends: b, c
- outputs: result

```bash
cat "$WM_IN/b/y" "$WM_IN/c/z" > "$WM_OUT/result"
# Inputs are read-only.
if echo tamper > "$WM_IN/b/y" 2>/dev/null; then exit 9; fi
```
MD
expect_exit "diamond succeeds" 0 "$WM" run "$W/diamond.md" -e FROM_CLI=cli
RUN=$(run_dir_of "$OUT")
check "run id printed first" test -n "$RUN"
expect_in "summary table lists d" "d" "$OUT"
check "d combined both outputs" grep -qx "HELLO" "$RUN/out/d/result"
check "c's python output arrived" grep -qx "hello!" "$RUN/out/d/result"
check "dependency inputs are read-only" test "$(task_field "$RUN" d exit_code)" = 0
check "front matter and -e env reach the task" grep -qx "front  cli" "$RUN/out/a/env"
check "checkpoint is a wm-checkpoint" test "$(checkpoint "$RUN" | jq -r .format)" = wm-checkpoint
check "checkpoint says succeeded" test "$(checkpoint "$RUN" | jq -r .state)" = succeeded
check "every task succeeded" test "$(checkpoint "$RUN" | jq '[.tasks[].state] | map(select(. == "succeeded")) | length')" = 4
check "each task has a log" test -s "$RUN/logs/d.log"
check "workflow copied into the run" cmp -s "$W/diamond.md" "$RUN/workflow.md"
expect_exit "audit log verifies" 0 "$WM" audit verify "${RUN##*/}"
check "audit has task.start with policy hash" grep -q '"event":"task.start".*"policy_hash"' "$RUN/audit.jsonl"

# ---- a flaky task that succeeds on its third attempt ----
cat >"$W/flaky.md" <<'MD'
# Flaky
## flaky
- retries: 3
- backoff: 50ms

```sh
echo "attempt $WM_ATTEMPT" >> "$WM_WORKSPACE/flaky.attempts"
[ "$WM_ATTEMPT" -ge 3 ]
```
MD
expect_exit "flaky task eventually succeeds" 0 "$WM" run "$W/flaky.md"
RUN=$(run_dir_of "$OUT")
check "three attempts recorded" test "$(task_field "$RUN" flaky attempts)" = 3
check "three attempts ran" test "$(wc -l < "$W/flaky.attempts")" = 3
check "two retry decisions" test "$(task_field "$RUN" flaky decisions | jq '[.[] | select(.what == "retry")] | length')" = 2
check "log holds every attempt" test "$(grep -c '^=== flaky body, attempt' "$RUN/logs/flaky.log")" = 3

# ---- a timeout whose task leaves a child behind ----
marker=$((200000 + RANDOM))
cat >"$W/timeout.md" <<MD
# Timeout
## slow
- timeout: 1s

\`\`\`sh
sleep $marker &
sleep $marker
\`\`\`
MD
expect_exit "timed-out task fails the run" 1 "$WM" run "$W/timeout.md"
RUN=$(run_dir_of "$OUT")
check "limit recorded as timeout" test "$(task_field "$RUN" slow limit)" = timeout
check "no process of the task survives" no_process "sleep $marker"
check "audit has limit.hit" grep -q '"event":"limit.hit"' "$RUN/audit.jsonl"

# ---- failure: cleanup with condition failure runs, dependents are skipped ----
cat >"$W/fail.md" <<'MD'
# Failure
## broken
```sh
exit 3
```

## after broken
- depends: broken

```sh
touch "$WM_WORKSPACE/should-not-exist"
```

## cleanup
- depends: broken
- condition: failure

```sh
touch "$WM_WORKSPACE/cleaned"
```

## always
- depends: after-broken
- condition: always

```sh
touch "$WM_WORKSPACE/always-ran"
```
MD
expect_exit "failing run exits 1" 1 "$WM" run "$W/fail.md"
RUN=$(run_dir_of "$OUT")
check "failed task is failed" test "$(task_field "$RUN" broken state)" = failed
check "exit code recorded" test "$(task_field "$RUN" broken exit_code)" = 3
check "dependent skipped" test "$(task_field "$RUN" after-broken state)" = skipped
check "dependent never ran" test ! -e "$W/should-not-exist"
check "condition failure cleanup ran" test -e "$W/cleaned"
check "condition always ran after a skip" test -e "$W/always-ran"
check "decision says why" grep -q 'exited with status 3' <<<"$(task_field "$RUN" broken decisions)"

# ---- rollback in reverse completion order ----
cat >"$W/rollback.md" <<'MD'
---
rollback: auto
---
# Rollback
## first
```sh
echo first >> "$WM_WORKSPACE/rb.log"
```
```sh rollback
echo undo-first >> "$WM_WORKSPACE/rb.log"
```

## second
- depends: first

```sh
echo second >> "$WM_WORKSPACE/rb.log"
```
```sh rollback
echo undo-second >> "$WM_WORKSPACE/rb.log"
```

## third
- depends: second

```sh
exit 1
```
```sh rollback
echo undo-third-must-not-run >> "$WM_WORKSPACE/rb.log"
```
MD
expect_exit "rollback run fails" 1 "$WM" run "$W/rollback.md"
RUN=$(run_dir_of "$OUT")
check "rollbacks ran in reverse completion order" test "$(tr '\n' ' ' < "$W/rb.log")" = "first second undo-second undo-first "
check "audit records rollback.end" grep -q '"event":"rollback.end"' "$RUN/audit.jsonl"

# ---- keep_going: independent branches go on ----
cat >"$W/keepgoing.md" <<'MD'
# Keep going
## bad
- priority: high

```sh
exit 1
```

## good one
```sh
sleep 0.3
touch "$WM_WORKSPACE/good-one"
```

## good two
- depends: good-one

```sh
touch "$WM_WORKSPACE/good-two"
```
MD
expect_exit "keep_going run still exits 1" 1 "$WM" run -j1 --keep-going "$W/keepgoing.md"
RUN=$(run_dir_of "$OUT")
check "independent chain finished with --keep-going" test -e "$W/good-two"
check "good-two succeeded" test "$(task_field "$RUN" good-two state)" = succeeded
rm -f "$W/good-one" "$W/good-two"
expect_exit "without keep_going the run stops launching" 1 "$WM" run -j1 "$W/keepgoing.md"
RUN=$(run_dir_of "$OUT")
check "independent task not started" test ! -e "$W/good-one"
check "it is recorded as skipped" test "$(task_field "$RUN" good-one state)" = skipped

# ---- only_if, sla, outputs, workdir ----
mkdir -p "$W/sub"
chmod 777 "$W/sub"
cat >"$W/misc.md" <<'MD'
# Misc
## gated
- only_if: test -e /nonexistent-gate

```sh
touch "$WM_WORKSPACE/gated-ran"
```

## slow but fine
- sla: 100ms

```sh
sleep 0.5
```

## in subdir
- workdir: sub

```sh
pwd > where
```
MD
expect_exit "misc workflow succeeds" 0 "$WM" run "$W/misc.md"
RUN=$(run_dir_of "$OUT")
check "only_if false skips the task" test "$(task_field "$RUN" gated state)" = skipped
check "gated body never ran" test ! -e "$W/gated-ran"
check "sla breach recorded" grep -q '"event":"sla.breach"' "$RUN/audit.jsonl"
check "task over its sla still succeeded" test "$(task_field "$RUN" slow-but-fine state)" = succeeded
check "workdir is relative to the workspace" grep -qx "$W/sub" "$W/sub/where"

cat >"$W/outputs.md" <<'MD'
# Outputs
## promise
- outputs: missing.txt

```sh
true
```
MD
expect_exit "a missing declared output fails the task" 1 "$WM" run "$W/outputs.md"
expect_in "the missing output is named" "missing.txt" "$OUT"

# ---- dry run, json, bad input ----
runs_before=$(ls "$WM_STATE_DIR/runs" | wc -l)
expect_exit "dry run exits 0" 0 "$WM" run --dry-run "$W/diamond.md"
expect_in "dry run shows resolved policy" "policy=standard" "$OUT"
check "dry run created no run" test "$(ls "$WM_STATE_DIR/runs" | wc -l)" = "$runs_before"
expect_exit "json run succeeds" 0 "$WM" run --json "$W/flaky.md"
check "every json line parses" jq -e . <<<"$OUT" >/dev/null
expect_in "json has task.end events" '"event":"task.end"' "$OUT"
printf '# Bad\n## t\n- policy: nosuch\n\n```sh\ntrue\n```\n' >"$W/badpolicy.md"
expect_exit "unknown policy is exit 2" 2 "$WM" run "$W/badpolicy.md"
expect_in "unknown policy named with its place" "badpolicy.md:3:" "$OUT"
expect_exit "missing file is exit 2" 2 "$WM" run "$W/nonexistent.md"
expect_exit "bad -j is exit 2" 2 "$WM" run -j0 "$W/diamond.md"

# ---- a denied system call is named and not retried ----
cat >"$W/denied.md" <<'MD'
# Denied
## tracer
- retries: 2

```python
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
# ptrace(PTRACE_TRACEME): denied by the standard policy.
r = libc.ptrace(0, 0, 0, 0)
sys.exit(0 if r == 0 else 4)
```
MD
expect_exit "denied syscall fails the task" 1 "$WM" run "$W/denied.md"
RUN=$(run_dir_of "$OUT")
check "seccomp.denied names ptrace" grep -q '"event":"seccomp.denied".*"syscall":"ptrace"' "$RUN/audit.jsonl"
check "denial recorded in the checkpoint" test "$(task_field "$RUN" tracer denied | jq -r '.[0]')" = ptrace
check "a denial is not retried" test "$(task_field "$RUN" tracer attempts)" = 1

# ---- rootless: the same diamond as an unprivileged user ----
if is_root; then
	if userns_ok; then
		expect_exit "diamond succeeds as nobody" 0 as_user "$WM" run "$W/diamond.md" -e FROM_CLI=cli
		expect_in "rootless run printed its id" "run " "$OUT"
	else
		skip "diamond as nobody" "unprivileged user namespaces are disabled on this host"
	fi
fi

# ---- a join node succeeds when its dependencies allow, with no sandbox ----
cat >"$W/join.md" <<'MD'
## a
```sh
echo a > "$WM_OUT/a"
```
## b
```sh
true
```
## all done
- depends: a, b

## after
- depends: all-done
```sh
echo after
```
MD
expect_exit "a workflow with a join node succeeds" 0 "$WM" run "$W/join.md"
run=$(run_dir_of "$OUT")
check "the join node succeeded" test "$(task_field "$run" all-done state)" = succeeded
check "it made no attempt" test "$(task_field "$run" all-done attempts)" = 0
check "its dependent ran" test "$(task_field "$run" after state)" = succeeded
check "no log was opened for it" test ! -e "$run/logs/all-done.log"
printf '## a\n```sh\nfalse\n```\n## j\n- depends: a\n\n## z\n- depends: j\n```sh\ntrue\n```\n' >"$W/join-fail.md"
expect_exit "a join after a failure" 1 "$WM" run "$W/join-fail.md"
run=$(run_dir_of "$OUT")
check "is skipped, and so is what follows it" \
	test "$(task_field "$run" j state) $(task_field "$run" z state)" = "skipped skipped"

# ---- $WM_IN of a task without dependencies: there, empty, read-only ----
# The task reports what it found in its output, so a sandbox that did not
# start fails these checks instead of passing them.
users=(root)
if is_root && userns_ok; then users+=(nobody); fi
for p in minimal development testing standard hardened paranoid; do
	cat >"$W/in-$p.md" <<MD
---
name: in-$p
policy: $p
---
## first
\`\`\`sh
if [ -d "\$WM_IN" ]; then echo dir; else echo missing; fi >"\$WM_OUT/found"
ls -A "\$WM_IN" 2>/dev/null | wc -l >>"\$WM_OUT/found"
if (echo x >"\$WM_IN/x") 2>/dev/null; then echo writable; else echo read-only; fi >>"\$WM_OUT/found"
\`\`\`
MD
	chmod 644 "$W/in-$p.md"
	for u in "${users[@]}"; do
		expect_exit "$p as $u: a first task runs" 0 run_as "$u" "$WM" run --yes "$W/in-$p.md"
		run=$(run_dir_of "$OUT")
		[[ $u == nobody ]] && run=${run/#$WM_STATE_DIR/$WM_STATE_DIR.nobody}
		check "$p as $u: \$WM_IN is an empty, read-only directory" \
			test "$(tr '\n' ' ' <"$run/out/first/found" 2>/dev/null)" = "dir 0 read-only "
	done
done
