#!/usr/bin/env bash
# Controlling runs: --detach, --interactive, wm logs, wm cancel.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((500000 + RANDOM))

# ---- --detach: the id comes back at once, the run goes on ----
cat >"$W/bg.md" <<'MD'
# Background
## first
```sh
echo one
sleep 0.5
```
## second
- depends: first

```sh
echo two
```
MD
expect_exit "detach returns at once" 0 "$WM" run --detach "$W/bg.md"
ID=$(tr -d '\n' <<<"$OUT")
check "detach prints only the run id" grep -Eq '^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$' <<<"$ID"
for _ in $(seq 100); do
	[[ $(zstdcat "$WM_STATE_DIR/runs/$ID/checkpoint.json.zst" 2>/dev/null | jq -r .state) == succeeded ]] && break
	sleep 0.1
done
check "the detached run finished" test "$(checkpoint "$WM_STATE_DIR/runs/$ID" | jq -r .state)" = succeeded
check "its progress went to orchestrator.log" grep -q "task.end" "$WM_STATE_DIR/runs/$ID/orchestrator.log"

# ---- wm logs ----
expect_exit "logs of one task" 0 "$WM" logs "$ID" second
expect_in "logs show the task's output" "two" "$OUT"
expect_not_in "logs of one task only" "one" "$(grep -v '^===' <<<"$OUT")"
expect_exit "logs of every task" 0 "$WM" logs "$ID"
expect_in "headers name each task" "==> first <==" "$OUT"
expect_in "second's output too" "two" "$OUT"
expect_exit "logs of an unknown task is exit 2" 2 "$WM" logs "$ID" nosuch

# ---- wm logs -f follows until the run ends ----
printf '# F\n## ticker\n```sh\nfor i in 1 2 3; do echo tick$i; sleep 0.3; done\n```\n' >"$W/follow.md"
"$WM" run --detach "$W/follow.md" >"$T/fid"
FID=$(cat "$T/fid")
expect_exit "logs -f ends with the run" 0 timeout 30 "$WM" logs -f "$FID" ticker
expect_in "follow saw the last line" "tick3" "$OUT"

# ---- wm cancel ----
printf '# C\n## sleeper\n```sh\nsleep %s\n```\n' "$marker" >"$W/cancel.md"
"$WM" run --detach "$W/cancel.md" >"$T/cid"
CID=$(cat "$T/cid")
for _ in $(seq 100); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.1; done
expect_exit "cancel stops a live run" 0 "$WM" cancel "$CID"
check "the task's processes are gone" no_process "sleep $marker"
check "the run is recorded interrupted" test "$(checkpoint "$WM_STATE_DIR/runs/$CID" | jq -r .state)" = interrupted
check "the task is cancelled" test "$(task_field "$WM_STATE_DIR/runs/$CID" sleeper state)" = cancelled
expect_exit "cancelling a finished run is exit 0" 0 "$WM" cancel "$CID"
expect_in "and says it already ended" "already ended" "$OUT"

# ---- --interactive: answers come from the terminal ----
if command -v script >/dev/null; then
	printf '# I\n## keep\n```sh\ntouch "$WM_WORKSPACE/kept"\n```\n## drop\n- depends: keep\n\n```sh\ntouch "$WM_WORKSPACE/dropped"\n```\n' >"$W/ask.md"
	printf 'r\ns\n' | script -qec "$WM run --interactive $W/ask.md" /dev/null >"$T/ask.out" 2>&1
	check "interactive: run answered r ran" test -e "$W/kept"
	check "interactive: skip answered s did not run" test ! -e "$W/dropped"
	check "interactive: the prompt names the task" grep -q "run task 'drop'" "$T/ask.out"
	check "interactive: the prompt is a line of its own" \
		grep -q "wm: run task 'drop'? r: run, s: skip, a: abort (one key)"$'\r'"\?$" "$T/ask.out"
	# The question does not stop the run: while b's is open, a's 1 s
	# timeout still fires. One key answers, without Enter.
	cat >"$W/ni.md" <<'MD'
## a
- timeout: 1s
```sh
sleep 30
```
## b
```sh
touch "$WM_WORKSPACE/b.ran"
```
MD
	mkfifo "$T/keys"
	script -qec "$WM run -j2 --interactive $W/ni.md" /dev/null <"$T/keys" >"$T/ni.out" 2>&1 &
	spid=$!
	exec 3>"$T/keys"
	printf r >&3
	state=
	for _ in $(seq 1 100); do
		rid=$("$WM" list --json 2>/dev/null | jq -r '[.[] | select(.workflow == "ni")][0].id // empty')
		[[ -n $rid ]] && state=$("$WM" status --json "$rid" 2>/dev/null | jq -r .tasks.a.state)
		[[ $state == failed ]] && break
		sleep 0.1
	done
	check "interactive: a's timeout fired while b's question was open" test "$state" = failed
	check "interactive: b has not run before its answer" test ! -e "$W/b.ran"
	printf s >&3
	exec 3>&-
	wait "$spid"
	check "interactive: b answered s with one key did not run" test ! -e "$W/b.ran"
	check "interactive: the answer is said" grep -q "wm: 'b': skipped" "$T/ni.out"
else
	skip "interactive" "script(1) is not installed"
fi

# ---- a task waiting out its backoff shows as waiting, not running ----
cat >"$W/wait.md" <<'MD'
## flaky
- retries: 1
- backoff: 3s

```sh
[ -e "$WM_WORKSPACE/wait.ok" ] || { touch "$WM_WORKSPACE/wait.ok"; exit 1; }
```
MD
rm -f "$W/wait.ok"
"$WM" run --detach "$W/wait.md" >"$T/wait.id"
for _ in $(seq 50); do [[ -e $W/wait.ok ]] && break; sleep 0.1; done
sleep 0.5
OUT=$("$WM" status "$(cat "$T/wait.id")")
expect_in "status shows the task waiting to retry" "1 waiting" "$OUT"
expect_not_in "and not running" "1 running" "$OUT"
for _ in $(seq 100); do "$WM" status "$(cat "$T/wait.id")" | grep -q '^state *succeeded' && break; sleep 0.1; done
expect_in "the retry then succeeds" "succeeded" "$("$WM" status "$(cat "$T/wait.id")")"

# ---- SIGINT: a task that ignores SIGTERM gets the grace period ----
cat >"$W/stubborn.md" <<'MD'
## stubborn

```sh
trap 'echo "got TERM" >> "$WM_WORKSPACE/stubborn.log"' TERM
echo started >> "$WM_WORKSPACE/stubborn.log"
while :; do sleep 0.1; done
```
MD
rm -f "$W/stubborn.log"
"$WM" run "$W/stubborn.md" >"$T/stubborn.out" 2>&1 &
wmpid=$!
for _ in $(seq 50); do [[ -s $W/stubborn.log ]] && break; sleep 0.1; done
kill -INT "$wmpid"
wait "$wmpid"
rc=$?
check "one SIGINT stops the run (status $rc)" test "$rc" = 130
check "the task got SIGTERM first and lived on through it" grep -q "got TERM" "$W/stubborn.log"
check "the task was then killed: nothing left" no_process "$WM_STATE_DIR/runs/.*/scripts/stubborn.body"
