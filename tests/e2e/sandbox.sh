#!/usr/bin/env bash
# The other side of the sandbox: ordinary programs keep working under every
# policy, statuses follow podman's convention, the workspace and environment
# are what the policy says; and `wm doctor`.
. "$(dirname "$0")/../lib.sh"

WS=$T/ws
mkdir -p "$WS"
chmod 777 "$WS"

users=(root)
if is_root && userns_ok; then users+=(nobody); fi

for p in minimal development testing standard hardened paranoid; do
	for u in "${users[@]}"; do
		expect_exit "$p as $u: pipeline" 0 run_as "$u" "$WM" sandbox --policy "$p" \
			--workspace "$WS" -- sh -c 'seq 1 100 | sort -rn | head -1 | grep -qx 100'
		expect_exit "$p as $u: mktemp in /tmp" 0 run_as "$u" "$WM" sandbox --policy "$p" \
			--workspace "$WS" -- sh -c 'f=$(mktemp) && echo x >"$f" && grep -q x "$f"'
		expect_exit "$p as $u: python threads" 0 run_as "$u" "$WM" sandbox --policy "$p" \
			--workspace "$WS" -- python3 -c '
import threading
r = []
ts = [threading.Thread(target=r.append, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
assert sorted(r) == [0, 1, 2, 3]'
		expect_exit "$p as $u: WM_WORKSPACE set and cwd" 0 run_as "$u" "$WM" sandbox \
			--policy "$p" --workspace "$WS" -- sh -c '[ "$WM_WORKSPACE" = "$PWD" ]'
	done
done

# Exit statuses.
expect_exit "own status 0" 0 "$WM" sandbox -- true
expect_exit "own status 3" 3 "$WM" sandbox -- sh -c 'exit 3'
expect_exit "not found is 127" 127 "$WM" sandbox -- no-such-command-here
expect_in "not found says why" "exec no-such-command-here" "$OUT"
printf 'echo hi\n' >"$WS/noexec.sh"
chmod 644 "$WS/noexec.sh"
expect_exit "not executable is 126" 126 "$WM" sandbox --workspace "$WS" -- "$WS/noexec.sh"
expect_exit "signal N is 128+N" 143 "$WM" sandbox -- sh -c 'kill -TERM $$'
# Too few descriptors for wm's own pipes: the sandbox cannot be set up.
expect_exit "setup failure is 125" 125 bash -c "ulimit -n 4; exec '$WM' sandbox -- true"
expect_in "setup failure says why" "wm: sandbox" "$OUT"
expect_exit "unknown policy is a usage error" 2 "$WM" sandbox --policy nope -- true
expect_exit "missing command is a usage error" 2 "$WM" sandbox

# Workspace read-write under standard, read-only under hardened.
expect_exit "standard: workspace writable" 0 "$WM" sandbox --policy standard --workspace "$WS" -- \
	sh -c 'echo ok >"$WM_WORKSPACE/out"'
check "standard: write reached the host" grep -qx ok "$WS/out"
expect_exit "hardened: workspace read-only" 2 "$WM" sandbox --policy hardened --workspace "$WS" -- \
	sh -c 'echo no >"$WM_WORKSPACE/out2"'
check "hardened: nothing written" test ! -e "$WS/out2"
expect_exit "paranoid: /home hidden" 0 "$WM" sandbox --policy paranoid --workspace "$WS" -- \
	sh -c '[ ! -e /root/.bashrc ] && [ -z "$(ls -A /home 2>/dev/null)" ]'

# Environment cleared to the policy's list.
expect_exit "environment cleared" 0 env WM_SECRET=leak "$WM" sandbox -- \
	sh -c '[ -z "${WM_SECRET:-}" ]'
expect_exit "PATH kept under standard" 0 env PATH=/usr/bin:/bin "$WM" sandbox -- \
	sh -c '[ "$PATH" = /usr/bin:/bin ]'
expect_exit "testing sets a deterministic env" 0 "$WM" sandbox --policy testing -- \
	sh -c '[ "$TZ" = UTC ] && [ "$CI" = true ]'

# A denied call that makes the command fail is still named.
expect_exit "denial then failure" 1 "$WM" sandbox -- python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
sys.exit(0 if libc.syscall(101, 16, 0, 0, 0) == 0 else 1)' # ptrace(PTRACE_ATTACH, 0)
expect_in "denial named" "denied syscall ptrace" "$OUT"

# Doctor.
"$WM" doctor >"$T/doctor" 2>&1
rc=$?
if [[ $rc == 0 || $rc == 3 ]]; then pass "doctor exits 0 or 3"; else fail "doctor exits 0 or 3" "$rc"; fi
expect_in "doctor: user namespaces" "user_namespaces" "$(cat "$T/doctor")"
expect_in "doctor: seccomp notify" "seccomp_notify" "$(cat "$T/doctor")"
expect_in "doctor: landlock" "landlock" "$(cat "$T/doctor")"
expect_in "doctor: cgroups" "cgroups" "$(cat "$T/doctor")"
expect_exit "doctor --json" 0 sh -c "'$WM' doctor --json | jq -e '.features | length > 5'"
if is_root; then
	expect_in "doctor as root names cgroup v1 here" "cgroup" "$(cat "$T/doctor")"
	run_as nobody "$WM" doctor >"$T/doctor.nobody" 2>&1
	expect_in "doctor as nobody: rlimits" "rlimits only" "$(cat "$T/doctor.nobody")"
fi

# A CPU limit the host cannot enforce is never silent: `wm doctor` has a
# cpu_limit item in both modes, and a policy with limits.cpu warns (and
# records limit.unenforced) where that item says no. Rootless without a
# delegated cgroup, the cpu controller is out of reach.
printf 'version: 1\npolicies:\n  cpu-1:\n    inherits: standard\n    limits: {cpu: 1}\n' >"$T/cpu.yaml"
chmod 644 "$T/cpu.yaml"
printf -- '---\npolicy: cpu-1\npolicies: cpu.yaml\n---\n## spin\n```sh\ntrue\n```\n' >"$T/cpu.md"
chmod 644 "$T/cpu.md"
unenforced_seen=0
for u in "${users[@]}"; do
	json=$(run_as "$u" "$WM" doctor --json 2>/dev/null)
	cpu_ok=$(jq -r '.features[] | select(.name == "cpu_limit") | .ok' <<<"$json")
	[[ $cpu_ok == true || $cpu_ok == false ]] && pass "doctor --json as $u: cpu_limit item" ||
		fail "doctor --json as $u: cpu_limit item" "$json"
	expect_in "doctor as $u: cpu_limit line" "cpu_limit " "$(run_as "$u" "$WM" doctor 2>&1)"
	expect_exit "cpu-1 sandbox as $u" 0 run_as "$u" "$WM" sandbox --policies "$T/cpu.yaml" \
		--policy cpu-1 --workspace "$WS" -- true
	if [[ $cpu_ok == false ]]; then
		unenforced_seen=1
		expect_in "doctor as $u says what it costs" "limits.cpu" \
			"$(jq -r '.features[] | select(.name == "cpu_limit") | .cost' <<<"$json")"
		expect_in "sandbox as $u: unenforced cpu warned" "limits.cpu (1) is not enforced" \
			"$(grep '^wm: warning: policy cpu-1: ' <<<"$OUT")"
		expect_exit "run as $u: a cpu limit it cannot enforce" 0 run_as "$u" "$WM" run "$T/cpu.md"
		expect_in "run as $u: warned at start" "limits.cpu (1) is not enforced" \
			"$(grep '^wm: warning: policy cpu-1: ' <<<"$OUT")"
		rd=$(sed -n 's/^run \([0-9-]*[0-9a-f]\{4\}\).*/\1/p' <<<"$OUT" | head -1)
		expect_in "run as $u: audited" "limits.cpu (1) is not enforced" \
			"$(run_as "$u" "$WM" audit show "$rd" --event limit.unenforced --json 2>&1)"
	else
		expect_not_in "sandbox as $u: an enforced cpu limit is not warned about" "limits.cpu" "$OUT"
	fi
done
((unenforced_seen)) || skip "unenforced cpu limit" "every user here has the cpu controller"

# Landlock under paranoid: given a /dev/shm (a writable tmpfs), Landlock
# still lets paranoid write only below /tmp, the workspace (when rw) and its
# binds.
printf 'version: 1\npolicies:\n  paranoid-shm:\n    inherits: paranoid\n    filesystem: {shm: 16M}\n' \
	>"$T/paranoid-shm.yaml"
if "$WM" doctor | grep -q '^landlock *ok'; then
	expect_exit "paranoid: Landlock refuses writes outside /tmp" 2 "$WM" sandbox \
		--policies "$T/paranoid-shm.yaml" --policy paranoid-shm -- sh -c 'echo x >/dev/shm/f'
	expect_in "paranoid: Landlock says permission denied" "Permission denied" "$OUT"
	expect_exit "standard: no Landlock, /dev/shm writable" 0 "$WM" sandbox --policy standard \
		-- sh -c 'echo x >/dev/shm/f'
else
	skip "Landlock" "the kernel has no Landlock"
fi

# SIGTERM to wm reaches the command, which may clean up; its status is kept.
"$WM" sandbox -- sh -c 'trap "exit 7" TERM; echo ready; sleep 100 & wait' >"$T/fwd" 2>&1 &
wmpid=$!
for _ in $(seq 50); do grep -q ready "$T/fwd" && break; sleep 0.1; done
kill -TERM "$wmpid"
wait "$wmpid"
rc=$?
if [[ $rc == 7 ]]; then pass "SIGTERM forwarded to the command"; else fail "SIGTERM forwarded to the command" "status $rc"; fi

# Sockets that come and go while sandboxes start (another program's): the
# sandbox masks those it finds, and one gone by the time it is masked is
# nothing to mask, not a failure to start. Nothing is created in its place.
mkdir -p "$T/churn"
/usr/bin/python3 - "$T/churn" "$T/churn.stop" <<'PY' &
import os, socket, sys
d, stop = sys.argv[1], sys.argv[2]
while not os.path.exists(stop):
    socks = []
    for i in range(40):
        s = socket.socket(socket.AF_UNIX)
        p = os.path.join(d, "s%d" % i)
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        s.bind(p)
        socks.append((s, p))
    for s, p in socks:
        s.close()
        os.unlink(p)
PY
churn=$!
bad=0
for _ in $(seq 40); do
	"$WM" sandbox --policy standard --workspace "$T/churn" -- true >"$T/churn.out" 2>&1 ||
		{ bad=$((bad + 1)); cp "$T/churn.out" "$T/churn.fail"; }
done
touch "$T/churn.stop"
wait "$churn"
if ((bad == 0)); then
	pass "sockets vanishing during start: 40 sandboxes start"
else
	fail "sockets vanishing during start: 40 sandboxes start" "$bad failed: $(head -c 300 "$T/churn.fail")"
fi
left=$(find "$T/churn" -type f | wc -l)
if ((left == 0)); then pass "no file made where a socket was"; else fail "no file made where a socket was" "$left files"; fi

# A rootfs tarball: wm loads libarchive only now, extracts it once into the
# cache, and the task sees the tarball's files, not the host's.
RF=$T/rootfs
for f in /bin/true /bin/sh $(ldd /bin/true | grep -o '/[^ ]*') $(ldd /bin/sh | grep -o '/[^ ]*'); do
	mkdir -p "$RF$(dirname "$f")"
	cp -L "$f" "$RF$f"
done
mkdir -p "$RF/dev" "$RF/proc" "$RF/tmp"
echo "from the tarball" >"$RF/marker"
tar -C "$RF" -czf "$T/rootfs.tar.gz" .
cat >"$T/tarred.yaml" <<YAML
version: 1
policies:
  tarred:
    inherits: standard
    filesystem: {rootfs: $T/rootfs.tar.gz}
YAML
mkdir -p "$T/tarws"
expect_exit "a rootfs tarball runs its own files" 0 env XDG_CACHE_HOME="$T/cache" "$WM" sandbox \
	--policies "$T/tarred.yaml" --policy tarred --workspace "$T/tarws" -- \
	/bin/sh -c 'read -r m </marker && echo "$m" && ! test -e /usr/bin/env'
expect_in "the tarball's marker was read" "from the tarball" "$OUT"
n=$(find "$T/cache/wm/rootfs" -name marker 2>/dev/null | wc -l)
if ((n == 1)); then pass "the tarball is extracted once into the cache"; else fail "the tarball is extracted once into the cache" "$n copies"; fi
echo "not a tarball" >"$T/bad.tar.gz"
sed "s|rootfs.tar.gz|bad.tar.gz|" "$T/tarred.yaml" >"$T/bad.yaml"
expect_exit "a broken tarball is refused" 125 env XDG_CACHE_HOME="$T/cache" "$WM" sandbox \
	--policies "$T/bad.yaml" --policy tarred --workspace "$T/tarws" -- /bin/true
expect_in "the broken tarball is named" "bad.tar.gz" "$OUT"
if is_root && userns_ok; then
	mkdir -p "$T/nbcache" "$T/nbws"
	chown nobody "$T/nbcache" "$T/nbws"
	chmod 755 "$T"
	expect_exit "a rootfs tarball runs rootless" 0 as_user env XDG_CACHE_HOME="$T/nbcache" \
		"$WM" sandbox --policies "$T/tarred.yaml" --policy tarred --workspace "$T/nbws" -- \
		/bin/sh -c 'read -r m </marker && echo "$m" && ! test -e /usr/bin/env'
	expect_in "rootless: the tarball's marker was read" "from the tarball" "$OUT"
fi
