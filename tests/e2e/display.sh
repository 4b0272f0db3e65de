#!/usr/bin/env bash
# What a run shows: one line per finished task, a failed task's last lines
# inline, a reason for every task in the summary, --output stream, -v, no
# escape codes for TERM=dumb, and a reader that goes away never takes the
# run with it.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
cat >"$W/f.md" <<'MD'
---
rollback: auto
policy: minimal
---
## build
```sh
echo building
```
```sh rollback
echo undo build
```
## flaky
- retries: 1
- backoff: 100ms
```sh
for i in $(seq 1 30); do echo "line $i"; done
exit 3
```
## deploy
- depends: flaky
```sh
echo deploy
```
MD
run() { "$WM" run --yes --workspace "$W" "$@"; }

# ---- the compact default ----
expect_exit "a failing run exits 1" 1 run "$W/f.md"
rid=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
expect_in "one line for a success" "ok        build" "$OUT"
expect_not_in "no task.end lines without -v" "task.end" "$OUT"
expect_not_in "no decision lines without -v" "decision " "$OUT"
expect_in "a retry is a line" "retry     flaky  exited with status 3; attempt 2 follows" "$OUT"
expect_in "the failure, with why" "FAILED    flaky  exited with status 3; all 2 attempts used" "$OUT"
expect_in "its last line inline" "| line 30" "$OUT"
expect_in "20 lines by default: line 11" "| line 11" "$OUT"
expect_not_in "20 lines by default: not line 10" "| line 10" "$OUT"
expect_not_in "the attempt header is not output" "| === flaky" "$OUT"
expect_in "where to see all" "see all: wm logs $rid flaky" "$OUT"
expect_in "a skip says why" "skipped   deploy dependency 'flaky' did not succeed" "$OUT"
expect_in "a rollback is a line" "undone    build  its rollback ran" "$OUT"
# The summary: a reason column, rolled-back tasks as such.
expect_in "summary has a reason column" "REASON" "$OUT"
expect_in "summary: rolled back" "rolled-back" "$OUT"
expect_in "summary: failed with why" "all 2 attempts used" "$(grep '^flaky ' <<<"$OUT")"
expect_in "summary: skipped with why" "dependency 'flaky' did not succeed" "$(grep '^deploy ' <<<"$OUT")"

expect_exit "--tail 3" 1 run --tail 3 "$W/f.md"
expect_in "--tail 3: line 28" "| line 28" "$OUT"
expect_not_in "--tail 3: not line 27" "| line 27" "$OUT"
expect_exit "--tail 0" 1 run --tail 0 "$W/f.md"
expect_not_in "--tail 0: no lines" "| line" "$OUT"
expect_exit "--tail wants a number" 2 run --tail many "$W/f.md"

# ---- -v: every event ----
expect_exit "-v" 1 run -v "$W/f.md"
expect_in "-v shows task.end" "task.end" "$OUT"
expect_in "-v shows decisions" "decision" "$OUT"

# ---- --output stream ----
cat >"$W/slow.md" <<'MD'
---
policy: minimal
---
## slow
```sh
echo first-line
sleep 5
echo last-line
```
MD
"$WM" run --yes --output stream --workspace "$W" "$W/slow.md" >"$T/stream.out" 2>&1 &
pid=$!
seen=
for _ in $(seq 1 150); do
	if grep -q "^\[slow\] first-line" "$T/stream.out"; then
		seen=$(grep -c "last-line" "$T/stream.out")
		break
	fi
	sleep 0.1
done
wait "$pid"
[[ $seen == 0 ]] && pass "stream: a line shows while the task still runs" ||
	fail "stream: a line shows while the task still runs" "$(cat "$T/stream.out")"
expect_in "stream: every line prefixed" "[slow] last-line" "$(cat "$T/stream.out")"
expect_exit "--output wants compact or stream" 2 run --output loud "$W/slow.md"

# ---- terminals: escape codes unless TERM=dumb ----
if command -v script >/dev/null; then
	TERM=xterm script -qec "'$WM' run --yes --workspace '$W' '$W/f.md'" /dev/null >"$T/tty.out" 2>&1
	grep -q $'\033' "$T/tty.out" && pass "a terminal gets the live line" ||
		fail "a terminal gets the live line" "$(head -5 "$T/tty.out")"
	TERM=dumb script -qec "'$WM' run --yes --workspace '$W' '$W/f.md'" /dev/null >"$T/dumb.out" 2>&1
	grep -q $'\033' "$T/dumb.out" && fail "TERM=dumb: no escape codes" "$(cat -v "$T/dumb.out" | head)" ||
		pass "TERM=dumb: no escape codes"
	expect_in "TERM=dumb: still the lines" "FAILED    flaky" "$(cat "$T/dumb.out")"
else
	skip "terminal tests" "no script(1)"
fi

# ---- --json: the run id in every event; a closed stdout ----
expect_exit "--json" 1 run --json "$W/f.md"
n=$(grep -c '^{' <<<"$OUT")
with=$(grep -c '"run":"20' <<<"$OUT")
[[ $n -gt 5 && $n == "$with" ]] && pass "every --json event names the run" ||
	fail "every --json event names the run" "$with of $n"
"$WM" run --yes --json --workspace "$W" "$W/slow.md" 2>"$T/pipe.err" | head -1 >"$T/first.json"
rid=$(jq -r .run "$T/first.json")
for _ in $(seq 1 60); do
	[[ $(zstdcat "$WM_STATE_DIR/runs/$rid/checkpoint.json.zst" 2>/dev/null | jq -r .state) == running ]] || break
	sleep 0.1
done
expect_in "a closed stdout: the run still finishes" "succeeded" \
	"$(zstdcat "$WM_STATE_DIR/runs/$rid/checkpoint.json.zst" | jq -r .state)"
expect_exit "and is not an orphan" 0 "$WM" orphans
expect_not_in "no orphan listed" "$rid" "$OUT"

# ---- a failure under a policy without network says it tried ----
# Probes go to loopback only: where the sandbox gives no network, lo is
# down and connect() says "unreachable"; with the host's network (or a
# sandbox that failed to isolate) it is refused, which names nothing.
cat >"$W/net.md" <<'MD'
## fetch
```sh
python3 -c 'import socket; socket.create_connection(("127.0.0.1", 9), timeout=2)'
```
MD
for u in root nobody; do
	as=()
	if [[ $u == nobody ]]; then
		userns_ok || { skip "network reason as nobody" "no user namespaces"; continue; }
		as=(as_user)
	fi
	expect_exit "no network: the task fails ($u)" 1 "${as[@]}" "$WM" run --workspace "$W" "$W/net.md"
	expect_in "the reason names the policy's network ($u)" \
		"(it tried to use the network, and policy standard has network: none)" "$OUT"
	expect_in "the log line shows why ($u)" "Network is unreachable" "$OUT"
done
expect_exit "with the host's network" 1 run --policy minimal "$W/net.md"
expect_not_in "a refused connection is not blamed on the policy" "tried to use the network" "$OUT"

# ---- an error in a body points at its line in the workflow ----
cat >"$W/tb.md" <<'MD'
# Errors at their place

## crunch
```python
x = 1
y = 0
print(x / y)
```

## shx
```sh
echo ok
nosuchcommand-wm
```

## bashx
```bash
echo ok
nosuchcommand-wm
```
MD
expect_exit "failing bodies" 1 run -k "$W/tb.md"
expect_in "python: the traceback's line, in the file" "error at $W/tb.md:7 (line 3 of the body" "$OUT"
expect_in "sh: the shell's line, in the file" "error at $W/tb.md:13 (line 2 of the body" "$OUT"
expect_in "bash: the shell's line, in the file" "error at $W/tb.md:19 (line 2 of the body" "$OUT"
[[ $(sed -n 7p "$W/tb.md") == "print(x / y)" && $(sed -n 13p "$W/tb.md") == nosuchcommand-wm ]] &&
	pass "those are the failing lines" || fail "those are the failing lines"
