#!/usr/bin/env bash
# Tasks on a real single-node Slurm cluster, started here (tools/slurm-up)
# and stopped on exit whatever happens: the diamond with outputs through
# $WM_IN, the sandbox on the node, retries, timeouts (wm's on the node and
# Slurm's TIMEOUT), out of memory, a lost node, cancel, only_if, a local
# task among cluster ones, rootless submission, and SIGKILL then resume
# adopting the jobs that went on. Without Slurm the suite fails, saying why.
. "$(dirname "$0")/../lib.sh"

if ! is_root; then
	fail "slurm: start a cluster" "the daemons start as root; run the suite as root (CI does)"
	exit 0
fi
SL=$T/slurm
export WM_SLURM_PORT=$((7000 + RANDOM % 900 * 2))
trap '"$REPO_DIR/tools/slurm-down" "$SL" >/dev/null 2>&1; rm -rf "$T"' EXIT
if ! up=$("$REPO_DIR/tools/slurm-up" "$SL" 2>&1); then
	fail "slurm: start a cluster" "$up"
	exit 0
fi
pass "slurm: a single-node cluster starts"
export SLURM_CONF=$SL/slurm.conf
WS=$T/ws
mkdir -p "$WS"
chmod 777 "$WS"

# The run id `wm run` printed first ("run ID").
run_id() { grep -o -m1 '20[0-9]\{6\}-[0-9]\{6\}-[0-9a-f]\{4\}' <<<"$1"; }
# The completion log's state of the job named $1 (sacct -c does not
# filter by name: every line is read).
job_state() { sacct -c -n -P -o jobname,state 2>/dev/null | awk -F'|' -v n="$1" '$1 == n { s = $2 } END { print s }'; }

# ---- doctor ----
out=$("$WM" doctor 2>&1)
expect_in "doctor: the controller answers" "slurm            ok" "$out"
expect_in "doctor: the partitions" "debug (UP)" "$out"

# ---- the diamond, outputs through $WM_IN, the sandbox on the node ----
cat >"$WS/diamond.md" <<'EOF'
---
executor: slurm
---
## a
- outputs: x
```sh
echo hello > "$WM_OUT/x"
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status > "$WM_OUT/status"
env > "$WM_OUT/env"
```
## b
- depends: a
```sh
tr a-z A-Z < "$WM_IN/a/x" > "$WM_OUT/y"
```
## c
- depends: a
```sh
rev < "$WM_IN/a/x" > "$WM_OUT/z"
```
## d
- depends: b, c
```sh
cat "$WM_IN/b/y" "$WM_IN/c/z" > "$WM_OUT/result"
```
EOF
expect_exit "diamond: succeeds on the cluster" 0 "$WM" run --workspace "$WS" "$WS/diamond.md"
id=$(run_id "$OUT")
rd=$WM_STATE_DIR/runs/$id
expect_in "diamond: outputs flow through \$WM_IN" $'HELLO\nolleh' "$(cat "$rd/out/d/result" 2>&1)"
for t in a b c d; do
	st=$(job_state "wm-$id-$t-1")
	if [[ $st == COMPLETED ]]; then pass "diamond: $t ran as Slurm job wm-$id-$t-1"; else fail "diamond: $t ran as Slurm job wm-$id-$t-1" "state '$st'"; fi
done
status=$(cat "$rd/out/a/status" 2>&1)
expect_in "diamond: seccomp filters the task on the node" "Seccomp:	2" "$status"
expect_in "diamond: no new privileges on the node" "NoNewPrivs:	1" "$status"
expect_not_in "diamond: Slurm's environment stays out of the sandbox" "SLURM_JOB_ID" "$(cat "$rd/out/a/env" 2>&1)"
expect_exit "diamond: the audit log verifies" 0 "$WM" audit verify "$id"
expect_in "diamond: task.start records the pinned policy hash" '"policy_hash"' "$(grep task.start "$rd/audit.jsonl")"

# ---- retries, wm's own timeout, out of memory, only_if, a local task ----
cat >"$WS/mixed.md" <<'EOF'
---
executor: slurm
keep_going: true
---
## flaky
- retries: 2
- backoff: 100ms
```sh
echo run >> flaky.count
[ "$(wc -l < flaky.count)" -ge 2 ]
```
## slow
- timeout: 2s
```sh
sleep 60
```
## hungry
- memory: 100M
- retries: 2
```sh
/usr/bin/python3 -c 'import time; x = bytearray(400 << 20); time.sleep(5)'
```
## check
- only_if: test -e nothing-here
```sh
echo ran > check.ran
```
## here
- executor: local
```sh
echo "$WM_TASK_ID" > here.ran
```
EOF
expect_exit "mixed: fails (slow, hungry) but goes on" 1 "$WM" run --workspace "$WS" "$WS/mixed.md"
id=$(run_id "$OUT")
rd=$WM_STATE_DIR/runs/$id
st=$("$WM" status --json "$id")
expect_in "retries: the second attempt succeeds" "2" "$(jq -r '.tasks.flaky.attempts' <<<"$st") $(jq -r '.tasks.flaky.state' <<<"$st")"
expect_in "retries: flaky succeeded" "succeeded" "$(jq -r '.tasks.flaky.state' <<<"$st")"
expect_in "retries: one Slurm job per attempt" "COMPLETED" "$(job_state "wm-$id-flaky-2")"
expect_in "timeout: enforced on the node" "timeout" "$(jq -r '.tasks.slow.limit' <<<"$st")"
expect_in "memory: Slurm's kill is a memory limit" "memory" "$(jq -r '.tasks.hungry.limit' <<<"$st")"
expect_in "memory: not retried" "1" "$(jq -r '.tasks.hungry.attempts' <<<"$st")"
expect_in "memory: the decision says why" "memory limit" "$(jq -r '.tasks.hungry.decisions[-1].why' <<<"$st")"
expect_in "only_if: false skips the task" "skipped" "$(jq -r '.tasks.check.state' <<<"$st")"
check "only_if: the body never ran" test ! -e "$WS/check.ran"
check "only_if: its check ran as a job" test -e "$rd/logs/check.only_if.1.sbatch"
expect_in "local: the local task ran" "here" "$(cat "$WS/here.ran" 2>&1)"
check "local: no batch job for it" test ! -e "$rd/logs/here.body.1.sbatch"

# ---- rollback blocks run through the same executor ----
cat >"$WS/rollback.md" <<'EOF'
---
executor: slurm
rollback: auto
---
## first
```sh
echo first >> rb.log
```
```sh rollback
echo undo-first >> rb.log
```
## second
- depends: first
```sh
exit 3
```
EOF
expect_exit "rollback: the run fails" 1 "$WM" run --workspace "$WS" "$WS/rollback.md"
rid=$(run_id "$OUT")
expect_in "rollback: the rollback block ran" "first undo-first" "$(tr '\n' ' ' <"$WS/rb.log")"
expect_in "rollback: as a Slurm job of its own" "COMPLETED" "$(job_state "wm-$rid-first-1-rollback")"

# ---- a node lost under a job: retried, not counted against retries ----
cat >"$WS/lost.md" <<'EOF'
---
executor: slurm
---
## victim
```sh
echo run >> victim.count
[ "$(wc -l < victim.count)" -ge 2 ] || sleep 30
```
EOF
"$WM" run --workspace "$WS" "$WS/lost.md" >"$T/lost.out" 2>&1 &
wmpid=$!
for _ in $(seq 100); do [[ -s $WS/victim.count ]] && break; sleep 0.1; done
node=$(sinfo -h -o %N | head -1)
scontrol update NodeName="$node" State=DOWN Reason=wm-test
# slurmd still answers: the node returns by itself (ReturnToService=2);
# RESUME is for when it has not.
sleep 1
sinfo -h -o %t | grep -q down && scontrol update NodeName="$node" State=RESUME
wait "$wmpid"
rc=$?
id=$(run_id "$(cat "$T/lost.out")")
rd=$WM_STATE_DIR/runs/$id
if [[ $rc == 0 ]]; then pass "lost node: the run succeeds (retries: 0)"; else fail "lost node: the run succeeds (retries: 0)" "exit $rc: $(tail -5 "$T/lost.out")"; fi
expect_in "lost node: Slurm said NODE_FAIL" "NODE_FAIL" "$(job_state "wm-$id-victim-1")"
expect_in "lost node: retried for free" "not counted against retries" "$("$WM" status "$id")"

# Slurm's TIMEOUT takes Slurm a minute or more: it runs detached meanwhile
# (after the lost node, which would have taken this job down too).
cat >"$WS/slurm_timeout.md" <<'EOF'
---
executor: slurm
---
## long
- time: 1m
```sh
sleep 600
```
EOF
tmo_id=$(run_id "$("$WM" run --detach --workspace "$WS" "$WS/slurm_timeout.md" 2>&1)")

# ---- cancel: wm cancel scancels the run's jobs ----
cat >"$WS/cancel.md" <<'EOF'
---
executor: slurm
---
## one
```sh
sleep 600
```
## two
```sh
sleep 600
```
EOF
cid=$(run_id "$("$WM" run --detach --workspace "$WS" "$WS/cancel.md" 2>&1)")
for _ in $(seq 100); do [[ $(squeue -h -t R -o %j | grep -c "wm-$cid-") == 2 ]] && break; sleep 0.1; done
expect_exit "cancel: wm cancel" 0 "$WM" cancel "$cid"
left=$(squeue -h -o %j | grep -c "wm-$cid-")
if [[ $left == 0 ]]; then pass "cancel: no job of the run is left in the queue"; else fail "cancel: no job of the run is left in the queue" "$left left"; fi
expect_in "cancel: tasks cancelled" "2 cancelled" "$("$WM" status "$cid")"

# ---- rootless: sbatch as an unprivileged user, the sandbox on the node ----
NB=$T/nobody
mkdir -p "$NB/ws"
cp "$WS/diamond.md" "$NB/ws/"
chown -R nobody:nogroup "$NB"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$NB" SLURM_CONF="$SLURM_CONF" \
	"$WM" --state-dir "$NB/state" run --workspace "$NB/ws" "$NB/ws/diamond.md" 2>&1)
rc=$?
if [[ $rc == 0 ]]; then pass "rootless: the diamond succeeds as nobody"; else fail "rootless: the diamond succeeds as nobody" "exit $rc: $(tail -5 <<<"$out")"; fi
nrd=$NB/state/runs/$(run_id "$out")
expect_in "rootless: the job ran as nobody" "nobody" "$(stat -c %U "$nrd/logs/a.body.1.slurm.out" 2>&1)"
expect_in "rootless: sandboxed on the node" "Seccomp:	2" "$(cat "$nrd/out/a/status" 2>&1)"
expect_in "rootless: outputs flow" "HELLO" "$(cat "$nrd/out/d/result" 2>&1)"

# ---- SIGKILL the orchestrator; resume adopts the jobs that went on ----
cat >"$WS/adopt.md" <<'EOF'
---
executor: slurm
---
## a
```sh
echo run >> adopt-a.count
sleep 4
```
## b
```sh
echo run >> adopt-b.count
sleep 5
```
## c
- depends: a, b
```sh
echo run >> adopt-c.count
```
EOF
"$WM" run --workspace "$WS" "$WS/adopt.md" >"$T/adopt.out" 2>&1 &
wmpid=$!
for _ in $(seq 100); do [[ -s $WS/adopt-a.count && -s $WS/adopt-b.count ]] && break; sleep 0.1; done
kill -KILL "$wmpid"
wait "$wmpid" 2>/dev/null
aid=$(run_id "$(cat "$T/adopt.out")")
rd=$WM_STATE_DIR/runs/$aid
expect_in "adopt: wm orphans sees the jobs still running" "2 cluster jobs still running" "$("$WM" orphans)"
expect_exit "adopt: resume succeeds" 0 "$WM" resume "$aid"
for t in a b c; do
	n=$(wc -l <"$WS/adopt-$t.count" 2>/dev/null || echo 0)
	if [[ $n == 1 ]]; then pass "adopt: $t ran exactly once"; else fail "adopt: $t ran exactly once" "$n runs"; fi
done
expect_in "adopt: task.adopted in the audit log" "2" "$(grep -c '"event":"task.adopted"' "$rd/audit.jsonl")"
expect_not_in "adopt: nothing submitted again" "wm-$aid-a-2" "$(sacct -c -n -P -o jobname)"
expect_exit "adopt: the audit log verifies" 0 "$WM" audit verify "$aid"
left=$(pgrep -f "exec $aid " | wc -l)
if [[ $left == 0 ]]; then pass "adopt: no process of the run is left"; else fail "adopt: no process of the run is left" "$left"; fi

# A job that ended while wm was dead, long enough ago that only the job
# completion log remembers it (MinJobAge=5): its result is collected.
cat >"$WS/gone.md" <<'EOF'
---
executor: slurm
---
## quick
```sh
echo run >> gone.count
sleep 1
```
EOF
"$WM" run --workspace "$WS" "$WS/gone.md" >"$T/gone.out" 2>&1 &
wmpid=$!
for _ in $(seq 100); do [[ -s $WS/gone.count ]] && break; sleep 0.1; done
kill -KILL "$wmpid"
wait "$wmpid" 2>/dev/null
gid=$(run_id "$(cat "$T/gone.out")")
for _ in $(seq 150); do
	[[ -z $(squeue -h -t all -o %j | grep "wm-$gid-") ]] && break
	sleep 0.1
done
expect_exit "adopt: resume after the job has left Slurm's memory" 0 "$WM" resume "$gid"
expect_in "adopt: collected from the completion log" "ended COMPLETED while wm was away" \
	"$(grep task.adopted "$WM_STATE_DIR/runs/$gid/audit.jsonl")"
n=$(wc -l <"$WS/gone.count")
if [[ $n == 1 ]]; then pass "adopt: the finished job did not run again"; else fail "adopt: the finished job did not run again" "$n runs"; fi

# ---- Slurm's own TIMEOUT (started after the lost node) ----
for _ in $(seq 1500); do
	st=$("$WM" status --json "$tmo_id" 2>/dev/null | jq -r '.state')
	[[ $st != running ]] && break
	sleep 0.1
done
st=$("$WM" status --json "$tmo_id")
expect_in "Slurm TIMEOUT: the task failed" "failed" "$(jq -r '.tasks.long.state' <<<"$st")"
expect_in "Slurm TIMEOUT: mapped to wm's timeout" "timeout" "$(jq -r '.tasks.long.limit' <<<"$st")"
expect_in "Slurm TIMEOUT: the job's state" "TIMEOUT" "$(job_state "wm-$tmo_id-long-1")"
