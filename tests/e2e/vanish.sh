#!/usr/bin/env bash
# The state directory (or one run directory) removed while a run goes on:
# the run stops at its next record with a clear message and a failure
# status, never writes on into deleted files unnoticed, and never recreates
# a partial run directory.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
{
	echo "# Many"
	for i in $(seq -w 1 40); do
		echo "## t$i"
		echo '```sh'
		echo 'echo "$WM_TASK_ID" >> "$WM_WORKSPACE/ran"'
		echo 'sleep 0.05'
		echo '```'
	done
} >"$W/many.md"

# vanish WHAT: starts the run, removes WHAT once three tasks ran, waits.
vanish() {
	rm -f "$W/ran"
	"$WM" run -j2 "$W/many.md" >"$T/out" 2>&1 &
	local pid=$!
	for _ in $(seq 400); do [[ $(cat "$W/ran" 2>/dev/null | wc -l) -ge 3 ]] && break; sleep 0.02; done
	ID=$(sed -n 's/^run \([0-9-]*[0-9a-f]\{4\}\).*/\1/p' "$T/out" | head -1)
	local target=$1
	[[ $target == run ]] && target=$WM_STATE_DIR/runs/$ID || target=$WM_STATE_DIR
	BEFORE=$(cat "$W/ran" 2>/dev/null | wc -l)
	# rm -rf can lose a race with a file wm creates meanwhile: like a user,
	# it tries again until the directory is gone.
	for _ in $(seq 100); do
		rm -rf "$target" 2>/dev/null
		[[ -e $target ]] || break
		sleep 0.02
	done
	wait "$pid"
	RC=$?
	AFTER=$(cat "$W/ran" 2>/dev/null | wc -l)
}

vanish state
check "state dir removed: the run fails" test "$RC" != 0 -a "$RC" != 130
expect_in "the message says the state went away" "while the run was going on" "$(cat "$T/out")"
check "no state directory was recreated" test ! -e "$WM_STATE_DIR"
check "no task started after the removal (at most the two in flight ended)" test "$AFTER" -le $((BEFORE + 2))
expect_not_in "it does not promise a resume" "resumable with" "$(cat "$T/out")"

vanish run
check "run dir removed: the run fails" test "$RC" != 0 -a "$RC" != 130
expect_in "the message names the run directory" "runs/$ID" "$(grep 'going on' "$T/out")"
check "the run directory was not recreated" test ! -e "$WM_STATE_DIR/runs/$ID"
check "the state directory itself stays" test -d "$WM_STATE_DIR/runs"
check "no task started after the removal" test "$AFTER" -le $((BEFORE + 2))
