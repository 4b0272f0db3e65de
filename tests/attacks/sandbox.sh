#!/usr/bin/env bash
# Escape attempts under standard, hardened and paranoid, as root and as an
# unprivileged user. Each runs build/tests/probe inside `wm sandbox`; the
# probe exits 10 when blocked, 20 when the attempt worked, 30 inconclusive.
# Where the seccomp filter is what stops it, wm must also name the call.
. "$(dirname "$0")/../lib.sh"

probe_workspace 755

# A loopback server and a host process the sandbox must not reach.
start_host_targets

users=(root)
if is_root && userns_ok; then
	users+=(nobody)
elif is_root; then
	skip "rootless attacks" "unprivileged user namespaces unavailable"
fi

run_as() {
	if [[ $1 == nobody ]]; then
		shift
		as_user "$@"
	else
		shift
		"$@"
	fi
}

# attack DENIED-SYSCALL PROBE-ARGS...: expects anything but success; when
# DENIED-SYSCALL is not "-", wm must report it as denied.
attack() {
	local denied=$1 p u out rc
	shift
	for p in standard hardened paranoid; do
		for u in "${users[@]}"; do
			out=$(run_as "$u" "$WM" sandbox --policy "$p" --workspace "$WS" -- \
				"$WS/probe" "$@" 9>"$T/leak" 2>&1)
			rc=$?
			local name="$* blocked under $p as $u"
			if [[ $rc == 20 ]]; then
				fail "$name" "the attack worked: $out"
			elif [[ $rc == 30 ]]; then
				skip "$name" "inconclusive here: $out"
			elif [[ $denied != - && $out != *"denied syscall $denied"* ]]; then
				fail "$name" "status $rc but no denial of $denied reported: $out"
			else
				pass "$name (status $rc)"
			fi
		done
	done
}

attack - seepid "$HOSTPID"
attack - connect "$PORT"
attack - write /etc/passwd
attack - write /usr
attack - write /proc/sys/kernel/hostname
attack ptrace ptrace
attack mount mount
attack unshare unshare
attack clone clone_ns
attack keyctl keyctl
attack bpf bpf
attack perf_event_open perf_event_open
attack userfaultfd userfaultfd
attack open_by_handle_at open_by_handle_at
attack kexec_load kexec_load
attack io_uring_setup io_uring_setup
attack ioctl tiocsti
attack ioctl tiocsti_high
attack - x32
attack - caps
attack - fd 9
attack - nonnp
attack - forkbomb 2000
attack - memhog 3072   # above standard's 2G, hardened's 1G and paranoid's 256M

# clone3 must fail with ENOSYS (libc then falls back to clone).
for p in standard hardened paranoid; do
	expect_exit "clone3 gives ENOSYS under $p" 10 "$WM" sandbox --policy "$p" --workspace "$WS" -- \
		"$WS/probe" clone3
done

# testing: loopback inside its own namespace works, the host's does not.
expect_exit "testing: host loopback unreachable" 10 "$WM" sandbox --policy testing \
	--workspace "$WS" -- "$WS/probe" connect "$PORT"
expect_exit "testing: own loopback works" 0 "$WM" sandbox --policy testing --workspace "$WS" -- \
	python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); c.close()'

# Timeout kills the whole tree, grandchildren included.
for u in "${users[@]}"; do
	marker="wm-timeout-$RANDOM$RANDOM"
	expect_exit "timeout kills the tree as $u (status 137)" 137 run_as "$u" "$WM" sandbox \
		--timeout 1s --workspace "$WS" -- bash -c "(sleep 1000; : $marker) & (sleep 1000; : $marker); :"
	expect_in "timeout reported as $u" "killed: timeout limit" "$OUT"
	if pgrep -f "$marker" >/dev/null; then
		fail "nothing survives the timeout as $u" "$(pgrep -af "$marker")"
		pkill -KILL -f "$marker"
	else
		pass "nothing survives the timeout as $u"
	fi
done

# SIGKILL of wm takes the tree with it. Subshells keep bash's command line,
# so the marker names every process of the tree.
for u in "${users[@]}"; do
	marker="wm-orphan-$RANDOM$RANDOM"
	run_as "$u" "$WM" sandbox --workspace "$WS" -- bash -c "(sleep 1000; : $marker) & (sleep 1000; : $marker); :" &
	wmpid=$!
	for _ in $(seq 50); do pgrep -f "$marker" >/dev/null && break; sleep 0.1; done
	if ! pgrep -f "$marker" >/dev/null; then
		fail "sandbox started before killing wm as $u"
		continue
	fi
	pkill -KILL -P "$wmpid" -x wm 2>/dev/null # setpriv execs wm in place: wmpid is wm
	kill -KILL "$wmpid" 2>/dev/null
	wait "$wmpid" 2>/dev/null
	for _ in $(seq 50); do pgrep -f "$marker" >/dev/null || break; sleep 0.1; done
	if pgrep -f "$marker" >/dev/null; then
		fail "nothing survives SIGKILL of wm as $u" "$(pgrep -af "$marker")"
		pkill -KILL -f "$marker"
	else
		pass "nothing survives SIGKILL of wm as $u"
	fi
done

# development and testing have a private pts: TIOCSTI on a real pty, high
# bits or not, is still refused by the filter.
for p in development testing; do
	for a in tiocsti tiocsti_high; do
		expect_exit "$a on a pty blocked under $p" 10 "$WM" sandbox --policy "$p" \
			--workspace "$WS" -- "$WS/probe" "$a"
		expect_in "$a under $p named" "denied syscall ioctl" "$OUT"
	done
done
