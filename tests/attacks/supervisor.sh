#!/usr/bin/env bash
# What a task can do to wm itself rather than to the host: flood it with
# denied calls, rewrite its own log, take policies that deny what wm's own
# setup needs, fill its output or shared memory, read wm's state from a
# workspace that contains it. And what wm must say about limits it cannot
# enforce, and clean up after orchestrators that were killed.
. "$(dirname "$0")/../lib.sh"

probe_workspace 777

# ---- a storm of denied calls beside a task with a 2 s timeout ----
cat >"$WS/storm.md" <<'MD'
---
max_parallel: 2
keep_going: true
---
## storm

```sh
"$WM_WORKSPACE/probe" storm 5
```

## slow
- timeout: 2s

```sh
sleep 30
```
MD
expect_exit "a run with a storm of denials ends" 1 "$WM" run "$WS/storm.md"
run=$(run_dir_of "$OUT")
calls=$(grep -o '[0-9]* calls made' "$run/logs/storm.log" | cut -d' ' -f1)
check "the storm made a storm of calls (${calls:-0})" test "${calls:-0}" -gt 10000
late=$(checkpoint "$run" | jq '.tasks.slow | .ended_ms - .started_ms - 2000')
check "the other task's timeout fired within 0.5 s of due (${late}ms late)" test "$late" -lt 500
check "the timeout is what ended it" test "$(task_field "$run" slow limit)" = timeout
lines=$(wc -l <"$run/audit.jsonl")
check "the audit log stays small ($lines lines)" test "$lines" -lt 100
check "one suppressed line counts the rest" \
	grep -q '"event":"seccomp.denied.suppressed"' "$run/audit.jsonl"
named=$(grep -c '"event":"seccomp.denied"' "$run/audit.jsonl")
check "at most 64 calls are named ($named)" test "$named" -le 64

# ---- a task cannot rewrite its own log ----
cat >"$WS/trunc.md" <<'MD'
## flaky
- retries: 1
- backoff: 10ms

```sh
if [ "$WM_ATTEMPT" = 1 ]; then echo "first attempt output"; exit 1; fi
( : > /proc/self/fd/1 ) 2>/dev/null || true
python3 -c 'import os; os.truncate("/proc/self/fd/1", 0)' 2>/dev/null || true
python3 -c 'import os; os.ftruncate(1, 0)' 2>/dev/null || true
echo "second attempt output"
```
MD
expect_exit "a task that truncates its stdout on its retry" 0 "$WM" run "$WS/trunc.md"
run=$(run_dir_of "$OUT")
check "the first attempt's output is still in the log" grep -q "first attempt output" "$run/logs/flaky.log"
check "the second attempt's output follows it" grep -q "second attempt output" "$run/logs/flaky.log"

# ---- policies that deny what wm's own setup needs ----
cat >"$T/deny.yaml" <<'YAML'
version: 1
policies:
  noexec:
    inherits: standard
    seccomp: {deny: [execve, write]}
  onlyread:
    inherits: standard
    seccomp: {profile: onlyread.json}
YAML
printf '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}\n' \
	>"$T/onlyread.json"
for p in noexec onlyread; do
	timeout 20 "$WM" sandbox --timeout 1s --policies "$T/deny.yaml" --policy "$p" -- true \
		>"$T/deny.out" 2>&1
	rc=$?
	check "a policy denying exec ($p) does not hang wm (status $rc)" test "$rc" != 124
	check "it is reported as not executable ($p)" test "$rc" = 126
done
printf -- '---\npolicies: %s\n---\n## t\n- policy: noexec\n\n```sh\ntrue\n```\n' "$T/deny.yaml" >"$WS/noexec.md"
timeout 20 "$WM" run "$WS/noexec.md" >"$T/noexec.out" 2>&1
rc=$?
check "a run under such a policy ends (status $rc)" test "$rc" = 1
expect_in "and says why" "exec" "$(cat "$T/noexec.out")"

# ---- /dev, /dev/shm and $WM_OUT ----
for p in standard hardened paranoid; do
	expect_exit "/dev is read-only under $p" 0 "$WM" sandbox --policy "$p" -- \
		sh -c '! touch /dev/planted 2>/dev/null && echo x >/dev/null'
done
expect_exit "standard's /dev/shm holds 256M" 0 "$WM" sandbox --policy standard -- \
	sh -c 'test "$(df -k /dev/shm | awk "NR==2 {print \$2}")" = 262144'
expect_exit "paranoid has no /dev/shm" 0 "$WM" sandbox --policy paranoid -- sh -c '! test -e /dev/shm'
cat >"$T/out.yaml" <<'YAML'
version: 1
policies:
  small-out:
    inherits: standard
    limits: {out: 8M}
YAML
printf -- '---\npolicies: %s\n---\n## fill\n- policy: small-out\n\n```sh\nhead -c 20000000 /dev/zero > "$WM_OUT/big"\n```\n\n## fits\n- policy: small-out\n\n```sh\nmkdir "$WM_OUT/d"; echo kept > "$WM_OUT/d/f"; ln -s /etc/passwd "$WM_OUT/l"\n```\n' \
	"$T/out.yaml" >"$WS/out.md"
expect_exit "a task writing past limits.out fails" 1 "$WM" run --keep-going "$WS/out.md"
run=$(run_dir_of "$OUT")
check "the limit hit is named 'out'" test "$(task_field "$run" fill limit)" = out
size=$(stat -c %s "$run/out/fill/big" 2>/dev/null || echo 0)
check "no more than the limit was kept ($size bytes)" test "$size" -le $((8 << 20))
check "a task within the limit keeps its files" grep -q kept "$run/out/fits/d/f"
check "a link in \$WM_OUT is kept as a link" test -L "$run/out/fits/l"

# ---- wm's state in a workspace that contains it (a workflow in $HOME) ----
H=$T/home
mkdir -p "$H/.config/wm"
chmod 755 "$H"
echo "version: 1" >"$H/.config/wm/policies.yaml"
cat >"$H/peek.md" <<'MD'
## peek

```sh
H=$WM_WORKSPACE
test -d "$H/.local/state/wm"
! test -e "$H/.local/state/wm/audit.key"
! ls "$H/.local/state/wm/runs/"*/audit.jsonl 2>/dev/null
! test -e "$H/.config/wm/policies.yaml"
! touch "$H/.local/state/wm/planted" 2>/dev/null
echo hidden
```
MD
for p in minimal standard paranoid; do
	sed "s/^## peek/## peek\n- policy: $p/" "$H/peek.md" >"$H/peek-$p.md"
	OUT=$(env -u WM_STATE_DIR HOME="$H" "$WM" run --yes "$H/peek-$p.md" 2>&1)
	rc=$?
	check "under $p, a task in \$HOME sees nothing of wm's state (status $rc)" test "$rc" = 0
done
check "the state directory is the default one inside the workspace" test -f "$H/.local/state/wm/audit.key"
check "nothing was planted in it" test ! -e "$H/.local/state/wm/planted"

# ---- limits the host cannot enforce, rootless ----
if is_root && userns_ok; then
	printf -- '## t\n\n```sh\ntrue\n```\n' >"$WS/un.md"
	OUT=$(as_user "$WM" sandbox -- true 2>&1)
	if [[ $OUT == *"memory holds per process only"* ]]; then
		pass "rootless without a cgroup, the memory limit is said to be per process"
		OUT=$(as_user "$WM" run "$WS/un.md" 2>&1)
		run=$(WM_STATE_DIR=$WM_STATE_DIR.nobody run_dir_of "$OUT")
		check "limit.unenforced is in the audit log" grep -q '"event":"limit.unenforced"' "$run/audit.jsonl"
		printf 'version: 1\npolicies:\n  strict-std:\n    inherits: standard\n    limits: {strict: true}\n' >"$T/strict.yaml"
		chmod 644 "$T/strict.yaml"
		expect_exit "limits.strict refuses to start (wm sandbox: 125)" 125 as_user "$WM" sandbox \
			--policies "$T/strict.yaml" --policy strict-std -- true
		expect_in "naming what it cannot enforce" "limits.strict" "$OUT"
	else
		skip "unenforced limits" "this host gives nobody a writable cgroup: $OUT"
	fi
fi

# ---- cgroups left by an orchestrator that was killed ----
if is_root && [[ -w /sys/fs/cgroup/pids ]]; then
	dead=$( (exit 0) & echo $!)
	wait
	mkdir -p "/sys/fs/cgroup/pids/wm-$dead-1-dead"
	expect_exit "wm doctor --clean" 0 "$WM" doctor --clean
	expect_in "it says what it removed" "leftover cgroup" "$OUT"
	check "the dead orchestrator's cgroup is gone" test ! -d "/sys/fs/cgroup/pids/wm-$dead-1-dead"
else
	skip "leftover cgroups" "no writable cgroup v1 pids hierarchy here"
fi
