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

# A changed task reruns with its dependents; unchanged ones stay.
sed -i 's/echo three >>/echo THREE >>/' "$W/chain.md"
expect_exit "resume after editing three" 0 "$WM" resume "$ID"
check "only the edited task ran" test "$(tail -1 "$W/ran")" = THREE
check "and nothing else" test "$(wc -l < "$W/ran")" = 5

# A workflow that no longer parses is refused.
printf '## broken\n- depends: nowhere\n\n```sh\ntrue\n```\n' >"$W/chain.md"
expect_exit "broken workflow refused" 2 "$WM" resume "$ID"
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
expect_exit "interrupted run resumes" 0 "$WM" resume "${RUN##*/}"

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
"$WM" resume "${RUN##*/}" >"$T/r1" 2>&1 &
p1=$!
"$WM" resume "${RUN##*/}" >"$T/r2" 2>&1 &
p2=$!
wait $p1; s1=$?
wait $p2; s2=$?
check "of two concurrent resumes one wins" test "$(printf '%s\n' $s1 $s2 | sort | tr '\n' ' ')" = "0 3 "
check "the run finished" test "$(checkpoint "$RUN" | jq -r .state)" = succeeded
