#!/usr/bin/env bash
# Crash safety by crashing: SIGKILL the orchestrator at many moments (after
# varied delays, and inside journal appends and checkpoint writes through
# the test-only WM_TEST_CRASH_AT hook), then prove that the run is an
# orphan, nothing of it still runs, and `wm resume` finishes it with every
# task run exactly once, except tasks that were running at the kill.
. "$(dirname "$0")/../lib.sh"

marker=$((400000 + RANDOM))
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

make_workflow() {
	local chain i prev
	echo "# Two chains"
	for chain in a b; do
		prev=
		for i in $(seq -w 1 12); do
			echo "## $chain$i"
			[[ -n $prev ]] && echo "- depends: $prev"
			echo
			echo '```sh'
			echo 'echo "$WM_TASK_ID" >> "$WM_WORKSPACE/ran"'
			echo "sleep 0.1$marker"
			echo '```'
			echo
			prev=$chain$i
		done
	done
}
make_workflow >"$W/chains.md"

# crash_case NAME [env...] -- delay: runs, kills, checks, resumes, checks.
crash_case() {
	local name=$1 delay=$2
	shift 2
	rm -f "$W/ran"
	env "$@" "$WM" run -j2 "$W/chains.md" >"$T/out" 2>&1 &
	local pid=$!
	if [[ $delay != hook ]]; then
		# The delay counts from the moment the run exists (its id is printed).
		for _ in $(seq 300); do grep -q '^run ' "$T/out" && break; sleep 0.05; done
		sleep "$delay"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	local rc=$?
	local run
	run=$(run_dir_of "$(cat "$T/out")")
	if [[ -z $run ]]; then
		fail "$name: run id" "no run id printed: $(head -3 "$T/out")"
		return
	fi
	local id=${run##*/}
	if [[ $rc == 0 ]]; then
		skip "$name" "the run finished before the kill"
		return
	fi
	for _ in $(seq 50); do no_process "sleep 0.1$marker" && break; sleep 0.1; done
	check "$name: no task outlives the orchestrator" no_process "sleep 0.1$marker"
	if [[ -e $run/checkpoint.json.zst ]]; then
		expect_exit "$name: wm orphans works" 0 "$WM" orphans
		expect_in "$name: run listed as orphan" "$id" "$OUT"
	fi
	local running
	running=$("$WM" status --json "$id" 2>/dev/null | jq -r '.tasks | to_entries[] | select(.value.state == "running") | .key' | sort)
	expect_exit "$name: resume finishes" 0 "$WM" resume "$id"
	check "$name: final checkpoint is one valid zstd frame" zstd -tq "$run/checkpoint.json.zst"
	check "$name: every task succeeded" test "$(checkpoint "$run" | jq '[.tasks[] | select(.state == "succeeded")] | length')" = 24
	local twice bad=
	twice=$(sort "$W/ran" | uniq -d)
	for t in $twice; do
		grep -qx "$t" <<<"$running" || bad+=" $t"
	done
	if [[ -z $bad ]]; then pass "$name: no finished task ran twice"; else fail "$name: no finished task ran twice" "reran:$bad (running at the kill: $(echo $running))"; fi
	check "$name: every task ran" test "$(sort -u "$W/ran" | wc -l)" = 24
	expect_exit "$name: audit verifies" 0 "$WM" audit verify "$id"
}

for delay in 0 0.3 0.7 1.3; do
	crash_case "kill ${delay}s after the run started" "$delay"
done
crash_case "kill inside journal append 1" hook WM_TEST_CRASH_AT=journal:1
crash_case "kill inside journal append 9" hook WM_TEST_CRASH_AT=journal:9
crash_case "kill inside journal append 30" hook WM_TEST_CRASH_AT=journal:30
crash_case "kill inside the first checkpoint write" hook WM_TEST_CRASH_AT=checkpoint:1
crash_case "kill inside the last checkpoint write" hook WM_TEST_CRASH_AT=checkpoint:2
