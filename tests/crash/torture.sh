#!/usr/bin/env bash
# Crash torture with random workflows: random DAGs with flaky tasks (retries
# in flight), the orchestrator SIGKILLed at random times, `wm resume` itself
# SIGKILLed, a SIGSTOPped orchestrator, and a run whose output pipe closes
# (SIGPIPE). After each: nothing of the run still runs, no cgroup of a dead
# orchestrator is left once resume ran, no mount of a sandbox shows on the
# host, resume finishes with every task succeeded, no finished task ran
# twice (only tasks running at a kill may), and the audit log verifies.
# The seed is printed so that a failing round can be replayed.
. "$(dirname "$0")/../lib.sh"

seed=${WM_TORTURE_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "torture seed $seed"
RANDOM=$seed
marker=$((600000 + RANDOM))
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

# random_workflow N: N tasks, each depending on up to two earlier ones,
# about one in four failing its first attempt (retries: 2).
random_workflow() {
	local n=$1 i d1 d2
	printf -- '---\nkeep_going: true\n---\n# Random\n'
	for ((i = 1; i <= n; i++)); do
		printf '## t%02d\n' "$i"
		if ((i > 1 && RANDOM % 3)); then
			d1=$((RANDOM % (i - 1) + 1))
			d2=$((RANDOM % (i - 1) + 1))
			printf -- '- depends: t%02d, t%02d\n' "$d1" "$d2"
		fi
		printf '\n'
		if ((RANDOM % 4 == 0)); then
			printf -- '- retries: 2\n- backoff: 100ms\n\n```sh\n'
			printf 'f="$WM_WORKSPACE/flaky.$WM_TASK_ID"\n'
			printf '[ -e "$f" ] || { touch "$f"; sleep 0.0%d%s; exit 1; }\n' $((RANDOM % 9 + 1)) "$marker"
		else
			printf '```sh\n'
		fi
		# Only a successful attempt records itself: a retry is no rerun.
		printf 'sleep 0.%d%s\necho "$WM_TASK_ID" >> "$WM_WORKSPACE/ran"\n```\n\n' \
			$((RANDOM % 3 + 1)) "$marker"
	done
}

# settle RUN_ID: the checks that hold after any crash.
settle() {
	local name=$1 run=$2 n=$3 running=$4
	local id=${run##*/} twice bad= t
	for _ in $(seq 50); do no_process "$marker" && break; sleep 0.1; done
	check "$name: no task outlives the orchestrator" no_process "$marker"
	for _ in 1 2 3; do
		"$WM" resume "$id" >"$T/resume.out" 2>&1 && break
		# A resume that found the run locked (a dying orchestrator) retries.
		sleep 0.5
	done
	expect_exit "$name: resume finishes" 0 "$WM" resume "$id"
	check "$name: every task succeeded" \
		test "$(checkpoint "$run" | jq '[.tasks[] | select(.state == "succeeded")] | length')" = "$n"
	twice=$(sort "$W/ran" | uniq -d)
	for t in $twice; do
		grep -qx "$t" <<<"$running" || bad+=" $t"
	done
	if [[ -z $bad ]]; then
		pass "$name: no finished task ran twice"
	else
		fail "$name: no finished task ran twice" "reran:$bad (running at a kill: $(echo $running))"
	fi
	check "$name: every task ran" test "$(sort -u "$W/ran" | wc -l)" = "$n"
	expect_exit "$name: audit verifies" 0 "$WM" audit verify "$id"
	check "$name: no cgroup of a dead orchestrator is left" test -z "$(dead_cgroups)"
	check "$name: no sandbox mount shows on the host" \
		bash -c "! grep -q -e newroot -e oldroot -e '$T/state/runs' /proc/self/mountinfo"
}

# dead_cgroups: the sandbox cgroups (wm-PID-...) where wm makes them, below
# this shell's own cgroup (which wm inherits), whose PID is no longer a wm.
dead_cgroups() {
	local line ctl path d p
	while IFS=: read -r _ ctl path; do
		for c in ${ctl//,/ }; do
			case $c in memory | pids | cpu) ;; *) continue ;; esac
			for d in /sys/fs/cgroup/"$c$path"/wm-*; do
				[[ -d $d ]] || continue
				p=${d##*/wm-}
				p=${p%%-*}
				[[ $(cat "/proc/$p/comm" 2>/dev/null) == wm ]] || echo "$d"
			done
		done
	done </proc/self/cgroup
}

# The tasks that were running (their attempt may run again after a crash).
running_tasks() {
	"$WM" status --json "$1" 2>/dev/null |
		jq -r '.tasks | to_entries[] | select(.value.state == "running" or .value.state == "waiting") | .key'
}

start_run() {
	rm -f "$W"/ran "$W"/flaky.*
	random_workflow "$1" >"$W/r.md"
	"$WM" run -j$((RANDOM % 3 + 2)) "$W/r.md" >"$T/out" 2>&1 &
	pid=$!
	for _ in $(seq 300); do grep -q '^run ' "$T/out" && break; sleep 0.05; done
	run=$(run_dir_of "$(cat "$T/out")")
}

for round in 1 2 3 4; do
	n=$((RANDOM % 10 + 10))
	start_run "$n"
	sleep "0.$((RANDOM % 9 + 1))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# What the durable state says was running when the orchestrator died:
	# only those may run again (a task starts only once its start is on
	# disk). Read after the kill, since a task may start until the last
	# moment.
	was=$(running_tasks "${run##*/}")
	# Kill resume itself too, once, at a random moment.
	"$WM" resume "${run##*/}" >"$T/r1" 2>&1 &
	rpid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -KILL "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	was+=$'\n'$(running_tasks "${run##*/}")
	settle "round $round ($n tasks, run and resume killed)" "$run" "$n" "$was"
done

# A stopped orchestrator: cancel times out and says so; SIGKILL, resume.
start_run 12
sleep 0.5
kill -STOP "$pid"
expect_exit "a stopped orchestrator: cancel gives up (exit 3)" 3 "$WM" cancel --timeout 1s "${run##*/}"
kill -KILL "$pid"
kill -CONT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
was=$(running_tasks "${run##*/}")
settle "SIGSTOP then SIGKILL" "$run" 12 "$was"

# A run whose output pipe closes at once: whatever wm makes of SIGPIPE, the
# run stays whole and resumable.
rm -f "$W"/ran "$W"/flaky.*
random_workflow 10 >"$W/r.md"
"$WM" run --json "$W/r.md" 2>"$T/err" | head -c 1 >/dev/null
sleep 0.3
id=$(ls -t "$WM_STATE_DIR/runs" | head -1)
run=$WM_STATE_DIR/runs/$id
was=$(running_tasks "$id")
settle "output pipe closed (SIGPIPE)" "$run" 10 "$was"
