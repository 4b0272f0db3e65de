#!/usr/bin/env bash
# wm resume: interrupted, failed and orphaned runs finish without redoing work.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((300000 + RANDOM))

cat >"$W/chain.md" <<MD
# Chain
## one
\`\`\`sh
echo one >> "\$WM_WORKSPACE/ran"
\`\`\`

## two
- depends: one

\`\`\`sh
echo two >> "\$WM_WORKSPACE/ran"
[ -e "\$WM_WORKSPACE/fixed" ] || exit 1
\`\`\`

## three
- depends: two

\`\`\`sh
echo three >> "\$WM_WORKSPACE/ran"
\`\`\`
MD

expect_exit "first run fails at two" 1 "$WM" run "$W/chain.md"
RUN=$(run_dir_of "$OUT")
ID=${RUN##*/}
touch "$W/fixed"
expect_exit "resume by prefix finishes the run" 0 "$WM" resume "${ID:0:17}"
check "one was kept, two and three ran once more" test "$(tr '\n' ' ' < "$W/ran")" = "one two two three "
check "same run, now succeeded" test "$(checkpoint "$RUN" | jq -r .state)" = succeeded
check "audit records run.resume with what was kept" grep -q '"event":"run.resume".*"kept":\["one"\]' "$RUN/audit.jsonl"
expect_exit "audit chain intact across the resume" 0 "$WM" audit verify "$ID"
expect_exit "resuming a finished run is a no-op" 0 "$WM" resume "$ID"
expect_in "no-op says so" "nothing to do" "$OUT"
check "nothing ran again" test "$(wc -l < "$W/ran")" = 4

# Resume runs the workflow as the run started, not the file as it is now.
sed -i 's/echo three >>/echo THREE >>/' "$W/chain.md"
expect_exit "resume ignores an edited file" 0 "$WM" resume "$ID"
expect_in "still nothing to do" "nothing to do" "$OUT"
# --reload: a changed task reruns with its dependents; unchanged ones stay.
expect_exit "resume --reload after editing three" 0 "$WM" resume --reload "$ID"
expect_in "--reload shows what changed" "! task three (definition or policy changed)" "$OUT"
expect_in "--reload names both versions" "+++ $W/chain.md" "$OUT"
check "only the edited task ran" test "$(tail -1 "$W/ran")" = THREE
check "and nothing else" test "$(wc -l < "$W/ran")" = 5
check "the run's copy is the reloaded file" cmp -s "$W/chain.md" "$RUN/workflow.md"

# A workflow that no longer parses is refused.
printf '## broken\n- depends: nowhere\n\n```sh\ntrue\n```\n' >"$W/chain.md"
expect_exit "broken workflow refused" 2 "$WM" resume --reload "$ID"
expect_exit "unknown run id is exit 2" 2 "$WM" resume 19990101-000000-dead

# ---- SIGINT: stop, checkpoint, exit 130, resumable ----
cat >"$W/slow.md" <<MD
# Slow
## sleeper
\`\`\`sh
sleep $marker
\`\`\`

## after
- depends: sleeper

\`\`\`sh
true
\`\`\`
MD
"$WM" run "$W/slow.md" >"$T/slow.out" 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
check "interrupted run exits 130" test $? = 130
RUN=$(run_dir_of "$(cat "$T/slow.out")")
check "interrupted run is recorded" test "$(checkpoint "$RUN" | jq -r .state)" = interrupted
check "the running task is cancelled" test "$(task_field "$RUN" sleeper state)" = cancelled
check "its process is gone" no_process "sleep $marker"
sed -i "s/sleep $marker/true/" "$W/slow.md"
expect_exit "interrupted run resumes" 0 "$WM" resume --reload "${RUN##*/}"

# ---- two resumes of one live run: exactly one proceeds ----
printf '# Slow\n## sleeper\n```sh\nsleep %s\n```\n' "$marker" >"$W/slow2.md"
"$WM" run "$W/slow2.md" >"$T/slow2.out" 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.1; done
RUN=$(run_dir_of "$(cat "$T/slow2.out")")
expect_exit "resume of a live run exits 3" 3 "$WM" resume "${RUN##*/}"
expect_in "the holder's pid is named" "pid $pid" "$OUT"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 50); do no_process "sleep $marker" && break; sleep 0.1; done
check "SIGKILLed orchestrator leaves no task behind" no_process "sleep $marker"
expect_exit "the dead run is an orphan" 0 "$WM" orphans
expect_in "orphans lists it" "${RUN##*/}" "$OUT"
sed -i "s/sleep $marker/sleep 1/" "$W/slow2.md"
"$WM" resume --reload "${RUN##*/}" >"$T/r1" 2>&1 &
p1=$!
"$WM" resume --reload "${RUN##*/}" >"$T/r2" 2>&1 &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
check "of two concurrent resumes one wins" test "$(printf '%s\n' $s1 $s2 | sort | tr '\n' ' ')" = "0 3 "
check "the run finished" test "$(checkpoint "$RUN" | jq -r .state)" = succeeded

# ---- a task that rewrites its own workflow cannot change what resume runs ----
cat >"$W/self.md" <<MD
# Self
## rewrite
\`\`\`sh
sed -i 's/echo original/echo REWRITTEN/' "\$WM_WORKSPACE/self.md"
\`\`\`

## after
- depends: rewrite

\`\`\`sh
echo original >> "\$WM_WORKSPACE/self.ran"
[ -e "\$WM_WORKSPACE/self.ok" ] || exit 1
\`\`\`
MD
expect_exit "self-rewriting run fails at after" 1 "$WM" run "$W/self.md"
RUN=$(run_dir_of "$OUT")
check "the task did rewrite the file" grep -q REWRITTEN "$W/self.md"
touch "$W/self.ok"
expect_exit "resume runs the copy" 0 "$WM" resume "${RUN##*/}"
check "what ran is the workflow as started" test "$(tr '\n' ' ' <"$W/self.ran")" = "original original "
check "the run's copy is unchanged" grep -q "echo original" "$RUN/workflow.md"

# ---- ... nor the policy file the workflow names ----
cat >"$W/selfpol.yaml" <<'YAML'
version: 1
policies:
  mine:
    inherits: standard
YAML
cat >"$W/selfpol.md" <<MD
---
policies: selfpol.yaml
policy: mine
---
# Self policy
## rewrite
\`\`\`sh
printf 'version: 1\\npolicies:\\n  mine:\\n    inherits: development\\n' > "\$WM_WORKSPACE/selfpol.yaml"
\`\`\`

## after
- depends: rewrite

\`\`\`sh
[ -e "\$WM_WORKSPACE/selfpol.ok" ] || exit 1
\`\`\`
MD
expect_exit "a run whose task rewrites its policy file fails at after" 1 "$WM" run "$W/selfpol.md"
RUN=$(run_dir_of "$OUT")
check "the task did rewrite the policy file" grep -q development "$W/selfpol.yaml"
check "the run kept the policy file as started" grep -q "inherits: standard" "$RUN/policies.yaml"
touch "$W/selfpol.ok"
expect_exit "resume runs the policy file's copy" 0 "$WM" resume "${RUN##*/}"
# `after`, resumed, ran under `mine` as the run started with it: the same
# hash as `rewrite` had then (the rewritten file would hash otherwise).
h_rewrite=$(grep '"event":"task.start"' "$RUN/audit.jsonl" | grep '"task":"rewrite"' |
	jq -r .policy_hash | head -1)
h_after=$(grep '"event":"task.start"' "$RUN/audit.jsonl" | grep '"task":"after"' |
	jq -r .policy_hash | tail -1)
check "the resumed task ran under the policy as started" test -n "$h_after" -a "$h_after" = "$h_rewrite"
check "the finished task was kept" test "$(grep -c '"event":"task.start".*"task":"rewrite"' "$RUN/audit.jsonl")" = 1

# ---- the floor applies on resume: options.json keeps --policy ----
cat >"$W/floor.md" <<MD
# Floor
## one
\`\`\`sh
[ -e "\$WM_WORKSPACE/floor.ok" ] || exit 1
\`\`\`
MD
expect_exit "run under a floor" 1 "$WM" run --policy hardened "$W/floor.md"
RUN=$(run_dir_of "$OUT")
check "options.json records the floor" test "$(jq -r .policy "$RUN/options.json")" = hardened
sed -i 's/^## one$/## one\n- policy: minimal\n/' "$W/floor.md"
touch "$W/floor.ok"
expect_exit "resume --reload of a task below the floor is refused" 2 "$WM" resume --reload "${RUN##*/}"
expect_in "the floor is named" "policy 'minimal' is weaker than the floor 'hardened' (--policy)" "$OUT"
# The resuming user's own floor applies too.
sed -i '/policy: minimal/d' "$W/floor.md"
WM_POLICY_FLOOR=paranoid expect_exit "resume under a stricter user floor" 0 "$WM" resume "${RUN##*/}"
check "the task ran under the user's floor" test "$(task_field "$RUN" one policy)" = paranoid
