#!/usr/bin/env bash
# `wm policy learn`: real programs learned under a base, then run under the
# learned policy with no denial; a call the learning run did not see is
# denied and reported; dangerous calls the base denies are refused while
# learning, listed as needed but not granted, and granted only by --grant.
# As root and as nobody (rootless).
. "$(dirname "$0")/../lib.sh"
export XDG_CONFIG_HOME=$T/config

probe_workspace 777
users=(root)
if is_root && userns_ok; then users+=(nobody); fi
# learn_in USER FILE ARGS...: `wm policy learn ARGS` run in $WS as USER, the
# policy into $WS/FILE (stdout and stderr in $OUT, status in $RC).
learn_in() {
	local u=$1 f=$2
	shift 2
	OUT=$(cd "$WS" && run_as "$u" "$WM" policy learn -o "$WS/$f" "$@" 2>&1)
	RC=$?
}
# under USER FILE NAME CMD...: CMD under the learned policy NAME.
under() {
	local u=$1 f=$2 n=$3
	shift 3
	OUT=$(run_as "$u" "$WM" sandbox --policies "$WS/$f" --policy "$n" --workspace "$WS" -- "$@" 2>&1)
	RC=$?
}

for u in "${users[@]}"; do
	# --- a real program, learned, then run under what was learned ---
	if [[ -x /usr/bin/python3 ]]; then
		prog='import json, hashlib; print(json.dumps({"h": hashlib.sha256(b"x").hexdigest()[:8]}))'
		learn_in "$u" py.yaml --base standard --name py-$u -- /usr/bin/python3 -c "$prog"
		check "$u: python3 learned (exit 0)" test "$RC" = 0
		expect_in "$u: python3 ran while learning" '"h": "2d711642"' "$OUT"
		expect_exit "$u: the learned policy passes check" 0 "$WM" policy check "$WS/py.yaml"
		expect_in "$u: it inherits the base" "inherits: standard" "$(cat "$WS/py.yaml")"
		check "$u: openat allowed with the task and count" grep -Eq '^ +- openat +# python3 [0-9]+$' "$WS/py.yaml"
		check "$u: a call the base allows and nobody made is denied" grep -q 'socket' "$WS/py.yaml"
		# Without a cgroup for the task, memory and pids are per process and
		# per user: the base's are kept, and the file says why.
		check "$u: limits from the peaks" grep -Eq "^ +(memory: [0-9]+M +# peak|# memory and pids: standard's \(here )" "$WS/py.yaml"
		check "$u: timeout from the longest task" grep -Eq '^ +timeout: [0-9]+s +# longest task' "$WS/py.yaml"
		under "$u" py.yaml py-$u /usr/bin/python3 -c "$prog"
		check "$u: python3 runs under the learned policy" test "$RC" = 0
		expect_not_in "$u: with no denial" "denied syscall" "$OUT"
		under "$u" py.yaml py-$u /usr/bin/python3 -c 'import socket; socket.socket()'
		check "$u: a socket the learning run never made fails" test "$RC" != 0
		expect_in "$u: and is reported by name" "denied syscall socket" "$OUT"
	else
		skip "$u: python3" "/usr/bin/python3 is not installed"
	fi

	# --- archivers and a build, learned as one command ---
	for tool in tar gzip; do
		command -v $tool >/dev/null || { skip "$u: $tool" "not installed"; continue; }
	done
	if command -v tar >/dev/null && command -v gzip >/dev/null; then
		cmd="mkdir -p d-$u && echo data >d-$u/f && tar czf d-$u.tgz d-$u && rm -rf d-$u && tar xzf d-$u.tgz && cat d-$u/f"
		learn_in "$u" tar.yaml --base standard --name tar-$u -- sh -c "$cmd"
		check "$u: tar and gzip learned" test "$RC" = 0
		check "$u: the calls name the task" grep -Eq '^ +- (openat|newfstatat) +# sh [0-9]+$' "$WS/tar.yaml"
		under "$u" tar.yaml tar-$u sh -c "$cmd"
		check "$u: tar and gzip run under it" test "$RC" = 0
		expect_not_in "$u: tar: no denial" "denied syscall" "$OUT"
	fi
	if command -v make >/dev/null && command -v cc >/dev/null; then
		printf 'all: hello\nhello: hello.c\n\tcc -o hello hello.c\n' >"$WS/Makefile"
		printf '#include <stdio.h>\nint main(void) { puts("built"); return 0; }\n' >"$WS/hello.c"
		chmod a+rw "$WS/Makefile" "$WS/hello.c"
		cmd='rm -f hello && make -s && ./hello'
		learn_in "$u" make.yaml --base standard --name make-$u -- sh -c "$cmd"
		check "$u: make and cc learned" test "$RC" = 0
		under "$u" make.yaml make-$u sh -c "$cmd"
		check "$u: make and cc run under it" test "$RC" = 0
		expect_in "$u: the program was built" "built" "$OUT"
		expect_not_in "$u: make: no denial" "denied syscall" "$OUT"
	else
		skip "$u: make and cc" "not installed"
	fi
	if command -v git >/dev/null; then
		cmd='git init -q r && cd r && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x && git log --oneline | wc -l && cd .. && rm -rf r'
		learn_in "$u" git.yaml --base standard --name git-$u -- env HOME="$WS" sh -c "$cmd"
		check "$u: git learned" test "$RC" = 0
		under "$u" git.yaml git-$u env HOME="$WS" sh -c "$cmd"
		check "$u: git runs under it" test "$RC" = 0
		expect_not_in "$u: git: no denial" "denied syscall" "$OUT"
	else
		skip "$u: git" "not installed"
	fi

	# --- a probe: what it did is allowed, one extra call is denied ---
	learn_in "$u" probe.yaml --base standard --name probe-$u -- ./probe read /etc/hostname
	check "$u: probe learned" grep -q "inherits: standard" "$WS/probe.yaml"
	under "$u" probe.yaml probe-$u ./probe read /etc/hostname
	expect_in "$u: the probe runs under it" "probe: ran" "$OUT"
	expect_not_in "$u: probe: no denial" "denied syscall" "$OUT"
	under "$u" probe.yaml probe-$u ./probe connect 1
	expect_in "$u: a socket the learning run did not see is denied" "BLOCKED: socket" "$OUT"
	expect_in "$u: and reported" "denied syscall socket" "$OUT"
	OUT=$(run_as "$u" "$WM" sandbox --policy standard --workspace "$WS" -- ./probe connect 1 2>&1)
	expect_not_in "$u: while the base allows it" "BLOCKED: socket" "$OUT"

	# --- dangerous groups: refused while learning, listed, granted on demand ---
	learn_in "$u" mount.yaml --base standard --name mount-$u -- ./probe mount
	expect_in "$u: mount really failed while learning" "BLOCKED: mount tmpfs" "$OUT"
	expect_in "$u: the refusal is said" "refused mount" "$OUT"
	check "$u: mount is not allowed" bash -c "! grep -Eq '^ +- mount\b' '$WS/mount.yaml'"
	check "$u: mount is needed but not granted" grep -q "^# Needed but not granted" "$WS/mount.yaml"
	check "$u: with the group's reason" grep -q "^#   mount: rearranges the filesystem view" "$WS/mount.yaml"
	expect_exit "$u: the file still passes check" 0 "$WM" policy check "$WS/mount.yaml"
	learn_in "$u" ptrace.yaml --base standard --name ptrace-$u -- ./probe ptrace
	expect_in "$u: ptrace really failed while learning" "BLOCKED: ptrace" "$OUT"
	check "$u: ptrace listed with its reason" grep -q "^#   ptrace: reads and steers other processes" "$WS/ptrace.yaml"
	check "$u: ptrace is not allowed" bash -c "! grep -Eq '^ +- ptrace\b' '$WS/ptrace.yaml'"
	learn_in "$u" grant.yaml --base standard --name grant-$u --grant mount -- ./probe mount
	expect_not_in "$u: --grant mount lets it through" "refused mount" "$OUT"
	check "$u: granted mount is allowed" grep -Eq '^ +- mount +# probe 1$' "$WS/grant.yaml"
	check "$u: and not listed as refused" bash -c "! grep -q 'Needed but not granted' '$WS/grant.yaml'"
done

# --- a workflow, and the same workflow by its run id ---
cat >"$WS/w.md" <<'MD'
# learn a workflow

## gen
```sh
echo hello >"$WM_OUT/x.txt"
```

## shout
- depends: gen

```sh
tr a-z A-Z <"$WM_IN/gen/x.txt"
```
MD
OUT=$("$WM" policy learn --base standard --name flow "$WS/w.md" 2>"$T/err")
RC=$?
check "workflow learned" test "$RC" = 0
expect_in "its tasks ran in order" "HELLO" "$(cat "$T/err")"
printf '%s\n' "$OUT" >"$WS/flow.yaml"
check "policy on stdout, tasks' output kept off it" bash -c "! grep -q HELLO '$WS/flow.yaml'"
check "calls name each task" grep -Eq '^ +- [a-z0-9_]+ +# gen [0-9]+, shout [0-9]+$' "$WS/flow.yaml"
expect_in "each task's exit status" "# Tasks (exit status): gen 0, shout 0" "$OUT"
# run_id OUTPUT: the id a run printed.
run_id() { sed -n 's/^run \([0-9a-z-]*\).*/\1/p' <<<"$1" | head -1; }
printf -- '---\npolicies: flow.yaml\npolicy: flow\n---\n' >"$WS/w2.md"
sed 1d "$WS/w.md" >>"$WS/w2.md"
expect_exit "the workflow runs under its learned policy" 0 "$WM" run "$WS/w2.md"
"$WM" audit show "$(run_id "$OUT")" --event seccomp.denied >"$T/denied" 2>&1
check "with no denial in its audit log" bash -c "! grep -q seccomp.denied '$T/denied'"
# A task making calls nobody made while learning (python3 under a policy
# learned from sh and tr): denied, and the audit log says so.
printf -- '\n## extra\n- depends: shout\n\n```sh\n/usr/bin/python3 -c "import socket; socket.socket()" || true\n```\n' >>"$WS/w2.md"
expect_exit "a task making calls nobody made while learning" 0 "$WM" run "$WS/w2.md"
"$WM" audit show "$(run_id "$OUT")" --event seccomp.denied >"$T/denied" 2>&1
check "is denied, and the audit log names the calls" grep -Eq '^[^ ]+ +extra +seccomp.denied .*syscall=' "$T/denied"
check "while the learned tasks still had none" bash -c "! grep -Eq ' (gen|shout) +seccomp.denied' '$T/denied'"
expect_exit "a run of the workflow" 0 "$WM" run "$WS/w.md"
OUT=$("$WM" policy learn --base standard --name again "$(run_id "$OUT")" 2>&1)
expect_in "learning by run id reruns its workflow" "# gen " "$OUT"

for u in "${users[@]}"; do
	OUT=$(run_as "$u" "$WM" policy learn --base standard --name flow-$u "$WS/w.md" 2>"$T/err")
	check "$u: workflow learned" grep -Eq '^ +- [a-z0-9_]+ +# gen [0-9]+, shout [0-9]+$' <<<"$OUT"
done

# --- over a base whose default lets calls pass ---
if [[ -x /usr/bin/python3 ]]; then
	learn_in root dev.yaml --base development --name dev -- /usr/bin/python3 -c 'print(6 * 7)'
	check "over development: an allowlist" grep -q "default_action: errno" "$WS/dev.yaml"
	check "over development: no network when none was used" grep -q "^    network: none" "$WS/dev.yaml"
	under root dev.yaml dev /usr/bin/python3 -c 'print(6 * 7)'
	expect_in "python3 runs under it" "42" "$OUT"
	expect_not_in "with no denial" "denied syscall" "$OUT"
	under root dev.yaml dev /usr/bin/python3 -c 'import os; print(os.getppid())'
	expect_in "a call it did not see is denied" "denied syscall getppid" "$OUT"
fi

# --- network: only if used; addresses recorded ---
for u in "${users[@]}"; do
	learn_in "$u" net.yaml --base testing --name net-$u -- ./probe connect 9
	expect_in "$u: loopback connect recorded" "# addresses tried: connect 127.0.0.1:9 1" "$(cat "$WS/net.yaml")"
	check "$u: families recorded" grep -q "^# socket families: AF_INET 1" "$WS/net.yaml"
	check "$u: loopback kept when only loopback was used" bash -c "! grep -q '^    network:' '$WS/net.yaml'"
	learn_in "$u" nonet.yaml --base testing --name nonet-$u -- ./probe read /etc/hostname
	check "$u: no inet socket: network none" grep -q "^    network: none" "$WS/nonet.yaml"
	learn_in "$u" w.yaml --base standard --name wr-$u -- sh -c "echo x >/tmp/learn-w-$u; true"
	check "$u: a write outside the workspace is recorded" grep -q "^# written outside the workspace and \$WM_OUT: /tmp/learn-w-$u 1" "$WS/w.yaml"
done

# --- usage ---
expect_exit "no --base is exit 2" 2 "$WM" policy learn --name x -- true
expect_exit "unknown base is exit 2" 2 "$WM" policy learn --base standrd --name x -- true
expect_in "with a hint" "did you mean 'standard'" "$OUT"
expect_exit "an unknown group is exit 2" 2 "$WM" policy learn --base standard --name x --grant mounts -- true
expect_in "the groups are listed" "groups: ptrace, mount, namespaces" "$OUT"
expect_exit "a name in use is exit 2" 2 "$WM" policy learn --base standard --name hardened -- true
expect_exit "an unknown run id is exit 2" 2 "$WM" policy learn --base standard --name x nosuchrun
