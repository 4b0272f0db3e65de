#!/usr/bin/env bash
# The attack suite as a workflow: every escape attempt is a task of one
# `wm run`, under standard, hardened and paranoid, root and rootless. A task
# succeeds only when its attack was blocked (the probe exits 10 when blocked,
# 20 when the attempt worked); calls the filter stops must also be named as
# seccomp.denied in the run's audit log, against that task.
. "$(dirname "$0")/../lib.sh"

probe_workspace 777

# A loopback server and a host process the sandbox must not reach.
start_host_targets

# name|denied syscall or -|probe arguments
attacks=(
	"seepid|-|seepid $HOSTPID"
	"connect|-|connect $PORT"
	"write-etc|-|write /etc/passwd"
	"write-usr|-|write /usr"
	"write-proc-sys|-|write /proc/sys/kernel/hostname"
	"ptrace|ptrace|ptrace"
	"mount|mount|mount"
	"keyctl|keyctl|keyctl"
	"bpf|bpf|bpf"
	"perf|perf_event_open|perf_event_open"
	"userfaultfd|userfaultfd|userfaultfd"
	"handle|open_by_handle_at|open_by_handle_at"
	"kexec|kexec_load|kexec_load"
	"io-uring|io_uring_setup|io_uring_setup"
	"tiocsti|ioctl|tiocsti"
	"tiocsti-high|ioctl|tiocsti_high"
	"x32|-|x32"
	"caps|-|caps"
	"nonnp|-|nonnp"
	"forkbomb|-|forkbomb 2000"
)

{
	printf -- '---\nname: attacks\nkeep_going: true\nmax_parallel: 2\n---\n# Attacks\n\n'
	for p in standard hardened paranoid; do
		for a in "${attacks[@]}"; do
			IFS='|' read -r name _ args <<<"$a"
			printf '## %s %s\n- policy: %s\n\n```sh\n' "$p" "$name" "$p"
			printf 'rc=0\n"$WM_WORKSPACE/probe" %s || rc=$?\n' "$args"
			printf 'echo "probe exited $rc"\n[ "$rc" -ne 20 ] && [ "$rc" -ne 0 ]\n```\n\n'
		done
	done
} >"$WS/attacks.md"

run_suite() { # USER LABEL
	local who=$1 out run
	if [[ $who == nobody ]]; then
		out=$(as_user "$WM" run "$WS/attacks.md" 2>&1)
	else
		out=$("$WM" run "$WS/attacks.md" 2>&1)
	fi
	local rc=$?
	local state_dir=$WM_STATE_DIR
	[[ $who == nobody ]] && state_dir=$WM_STATE_DIR.nobody
	run=$(WM_STATE_DIR=$state_dir run_dir_of "$out")
	if ((rc == 0)); then pass "every attack blocked as $who"; else
		fail "every attack blocked as $who" "wm run exited $rc: $(grep -E 'failed|FAIL' <<<"$out" | head -5)"
	fi
	[[ -n $run ]] || return
	for p in standard hardened paranoid; do
		for a in "${attacks[@]}"; do
			IFS='|' read -r name sys _ <<<"$a"
			local task="$p-$name"
			task=${task//_/-}
			if [[ $(task_field "$run" "$task" state) != succeeded ]]; then
				fail "$name blocked under $p as $who" "$(grep 'probe' "$run/logs/$task.log" | tail -2)"
				continue
			fi
			pass "$name blocked under $p as $who"
			[[ $sys == - ]] && continue
			if grep -q "\"event\":\"seccomp.denied\".*\"syscall\":\"$sys\".*\"task\":\"$task\"" "$run/audit.jsonl"; then
				pass "$sys named in the audit log for $task as $who"
			else
				fail "$sys named in the audit log for $task as $who" "no seccomp.denied event"
			fi
		done
	done
	expect_exit "attack run's audit log verifies as $who" 0 env WM_STATE_DIR="$state_dir" "$WM" audit verify "${run##*/}"
}

run_suite root
if is_root; then
	if userns_ok; then run_suite nobody; else skip "attacks as nobody" "no unprivileged user namespaces"; fi
fi
check "the host process survived untouched" kill -0 "$HOSTPID"
