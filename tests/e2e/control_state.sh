#!/usr/bin/env bash
# wm cancel and wm logs -f when the orchestrator does not behave: a stopped
# (SIGSTOP) orchestrator makes cancel time out and say so, an orchestrator
# that dies makes logs -f say so and fail.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((900000 + RANDOM))
printf '# C\n## sleeper\n```sh\necho started\nsleep %s\n```\n' "$marker" >"$W/c.md"

start() {
	"$WM" run --detach "$W/c.md" >"$T/id"
	ID=$(cat "$T/id")
	for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
	PID=$(sed -n 's/^pid //p' "$WM_STATE_DIR/runs/$ID/lock")
}

# ---- cancel of a stopped orchestrator ----
start
check "the orchestrator's pid is known" test -n "$PID"
kill -STOP "$PID"
expect_exit "cancel of a stopped orchestrator times out with exit 3" 3 "$WM" cancel --timeout 1s "$ID"
expect_in "it says the orchestrator is stopped" "is stopped" "$OUT"
expect_in "it names the pid" "pid $PID" "$OUT"
kill -CONT "$PID"
for _ in $(seq 200); do "$WM" status "$ID" 2>/dev/null | grep -q "orchestrator live" || break; sleep 0.05; done
check "once continued, the pending SIGTERM stopped the run" test "$(checkpoint "$WM_STATE_DIR/runs/$ID" | jq -r .state)" = interrupted
check "its task is gone" no_process "sleep $marker"
expect_exit "cancel --timeout wants a duration" 2 "$WM" cancel --timeout soon "$ID"

# ---- logs -f when the orchestrator dies ----
start
"$WM" logs -f "$ID" sleeper >"$T/logs.out" 2>&1 &
lpid=$!
for _ in $(seq 100); do grep -q started "$T/logs.out" && break; sleep 0.05; done
kill -KILL "$PID"
wait "$lpid"
rc=$?
check "logs -f fails when the orchestrator dies" test "$rc" = 1
check "it says the orchestrator died" grep -q "died before the run ended" "$T/logs.out"
check "it says how to resume" grep -q "wm resume $ID" "$T/logs.out"
for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
check "no task outlived its orchestrator" no_process "sleep $marker"
