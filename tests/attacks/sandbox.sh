#!/usr/bin/env bash
# Escape attempts under every policy that promises to stop them, as root and
# as an unprivileged user. Each runs build/tests/probe inside `wm sandbox`.
# "Blocked" is a positive signal: the probe must have run (its "probe: ran"
# line, with seccomp mode 2 under a filtered policy) and exited 10 with a
# BLOCKED line; a sandbox that failed to start fails the check. Where the
# filter is what stops it, wm must also name the call.
. "$(dirname "$0")/../lib.sh"

probe_workspace 755

# A loopback server and a host process the sandbox must not reach.
start_host_targets

# What each group of policies promises (README, "Threat model").
ALL="development testing standard hardened paranoid"
NONET="testing standard hardened paranoid"
STRICT="standard hardened paranoid"

users=(root)
if is_root && userns_ok; then
	users+=(nobody)
elif is_root; then
	skip "rootless attacks" "unprivileged user namespaces unavailable"
fi

# killed_for STATUS OUTPUT: the probe ran and was killed by what stops the
# attack: a default-kill filter (SIGKILL with the call named), a foreign
# ABI (SIGSYS, which only seccomp sends), or a limit wm names.
killed_for() {
	[[ $1 == 159 ]] ||
		[[ $1 == 137 && ($2 == *"denied syscall "* || $2 == *"killed: "*" limit"*) ]] ||
		[[ $1 == 124 && $2 == *"killed: timeout limit"* ]]
}

# named_denial A|B|... OUTPUT: wm named one of these calls as denied.
named_denial() {
	local d
	for d in ${1//|/ }; do
		[[ $2 == *"denied syscall $d"* ]] && return 0
	done
	return 1
}

# judge NAME STATUS OUTPUT DENIED POLICY: the positive signal described above.
judge() {
	local name=$1 rc=$2 out=$3 denied=$4 policy=$5
	if [[ $out != *"probe: ran "* ]]; then
		fail "$name" "the probe never ran (status $rc): $(head -c 400 <<<"$out")"
	elif [[ $rc == 20 ]]; then
		fail "$name" "the attack worked: $out"
	elif [[ $rc == 30 ]]; then
		skip "$name" "inconclusive here: $out"
	elif ! [[ $rc == 10 && $out == *"BLOCKED: "* ]] && ! killed_for "$rc" "$out"; then
		fail "$name" "status $rc without a BLOCKED line or a kill wm explains: $out"
	elif [[ $policy != minimal && $out != *"seccomp=2 "* ]]; then
		fail "$name" "the probe ran without a seccomp filter: $out"
	elif [[ $denied != - ]] && ! named_denial "$denied" "$out"; then
		fail "$name" "blocked, but no denial of $denied reported: $out"
	else
		pass "$name"
	fi
}

# attack POLICIES DENIED-SYSCALL PROBE-ARGS...: under each policy and user.
attack() {
	local policies=$1 denied=$2 p u out rc
	shift 2
	for p in $policies; do
		for u in "${users[@]}"; do
			out=$(run_as "$u" env WM_CANARY=wm-canary-4711 "$WM" sandbox --policy "$p" \
				--workspace "$WS" -- "$WS/probe" "$@" 9>"$T/leak" 2>&1)
			rc=$?
			judge "$* blocked under $p as $u" "$rc" "$out" "$denied" "$p"
		done
	done
}

# baseline NAME PROBE-ARGS...: the attack works outside any sandbox (so that
# "blocked" inside means something); false, with a skip, when it does not.
baseline() {
	local name=$1 out
	shift
	out=$("$WS/probe" "$@" 2>&1)
	[[ $? == 20 ]] && return 0
	skip "$name" "the host itself refuses it: $out"
	return 1
}

attack "$ALL" - seepid "$HOSTPID"
attack "$NONET" - connect "$PORT"
attack "$ALL" - write /etc/passwd
attack "$ALL" - write /usr
attack "$ALL" - write /proc/sys/kernel/hostname
attack "$ALL" ptrace ptrace
attack "$ALL" mount mount
attack "$ALL" unshare unshare
attack "$ALL" clone clone_ns
attack "$ALL" keyctl keyctl
attack "$ALL" bpf bpf
attack "$ALL" perf_event_open perf_event_open
attack "$ALL" userfaultfd userfaultfd
attack "$ALL" open_by_handle_at open_by_handle_at
attack "$ALL" kexec_load kexec_load
attack "$ALL" io_uring_setup io_uring_setup
attack "$STRICT" ioctl tiocsti
attack "$STRICT" ioctl tiocsti_high
attack "$ALL" - x32
attack "$ALL" - caps
attack "$ALL" - fd 9
attack "$ALL" - nonnp
attack "$STRICT" - forkbomb 2000
attack "$STRICT" - memhog 3072 # above standard's 2G, hardened's 1G and paranoid's 256M

# pid 1 is no window into wm: its environment (wm's, with a canary), its
# memory and its system call are out of reach, and so are its descriptors.
attack "$ALL" - init-environ wm-canary-4711
attack "$ALL" - init-cmdline
attack "$ALL" - init-syscall
attack "$ALL" - init-mem-read
attack "$ALL" - init-mem-write
attack "$ALL" "pidfd_getfd|pidfd_open" init-getfd

# From standard up the task is never host root, even when wm is.
attack "$STRICT" - hostroot
attack "$STRICT" - read /etc/shadow

# Calls newer than libseccomp's tables (listmount, 458 on x86_64) are denied
# too; compared with the same call made outside, which reaches the kernel.
if [[ $(uname -m) == x86_64 ]] && baseline "listmount reaches this kernel" raw 458; then
	attack "$ALL" - raw 458
fi

# Without the host's network: no family a network namespace leaves open
# (AF_VSOCK is 40), and no Unix socket of the host, here one the test made
# where the read-only view shows it and one in the workspace.
if baseline "AF_VSOCK exists on this host" family 40; then
	attack "$NONET" - family 40
fi
SOCKDIR=$(mktemp -d /var/tmp/wm-attack.XXXXXX)
chmod 755 "$SOCKDIR"
DEEP=$SOCKDIR/a/b/c/d/e/f/g/h
mkdir -p "$DEEP" "$SOCKDIR/rel" "$SOCKDIR/ns"
chmod -R 755 "$SOCKDIR"
trap 'kill $HOST_SERVER $HOSTPID $SOCK_SERVER $NS_SERVER 2>/dev/null; rm -rf "$T" "$SOCKDIR"' EXIT
# unix_server DIR-TO-CHDIR PATH...: listens on each path (a relative one is
# bound relative to the directory), then makes PATH1.ready.
unix_server() {
	exec python3 -c '
import os, socket, sys, time
os.chdir(sys.argv[1])
socks = []
for p in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX); s.bind(p); os.chmod(p, 0o777); s.listen(64); socks.append(s)
open(sys.argv[2] + ".ready", "w").close()
while True:
    time.sleep(1000)
' "$@"
}
# try_sockets PATH...: each answers outside (checked) and not inside.
try_sockets() {
	local s
	for s in "$@"; do
		if baseline "the test's socket $s answers outside" unix-connect "$s"; then
			attack "$NONET" - unix-connect "$s"
		fi
	done
}
# Sockets of the host's network namespace: next to the view's files, in the
# workspace and 11 levels down (beyond any bounded search); and, as root,
# one bound in another network namespace.
unix_server / "$SOCKDIR/host.sock" "$WS/ws.sock" "$DEEP/deep.sock" &
SOCK_SERVER=$!
if is_root; then
	unshare --net bash -c "$(declare -f unix_server); unix_server / $SOCKDIR/ns/ns.sock" &
	NS_SERVER=$!
fi
for _ in $(seq 50); do [[ -e $SOCKDIR/host.sock.ready ]] && break; sleep 0.1; done
for _ in $(seq 50); do [[ -z ${NS_SERVER:-} || -e $SOCKDIR/ns/ns.sock.ready ]] && break; sleep 0.1; done
try_sockets "$SOCKDIR/host.sock" "$WS/ws.sock" "$DEEP/deep.sock"
[[ -n ${NS_SERVER:-} ]] && try_sockets "$SOCKDIR/ns/ns.sock"
kill $SOCK_SERVER ${NS_SERVER:-} 2>/dev/null
wait $SOCK_SERVER ${NS_SERVER:-} 2>/dev/null
# One bound by a relative path: the kernel lists it without its directory.
unix_server "$SOCKDIR/rel" rel.sock &
SOCK_SERVER=$!
for _ in $(seq 50); do [[ -e $SOCKDIR/rel/rel.sock.ready ]] && break; sleep 0.1; done
try_sockets "$SOCKDIR/rel/rel.sock"
kill $SOCK_SERVER 2>/dev/null
rm -f "$WS/ws.sock"

# clone3 must fail with ENOSYS (libc then falls back to clone).
for p in $ALL; do
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
	expect_exit "timeout kills the tree as $u (status 124)" 124 run_as "$u" "$WM" sandbox \
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
