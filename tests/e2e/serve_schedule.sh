#!/usr/bin/env bash
# The scheduler of `wm serve --workflows DIR`: a real `every 2s` schedule
# runs 3 times, a workflow that does not plan is reported and skipped, a
# restart never fires a time twice, `wm schedule list|pause|resume`,
# reloads on SIGHUP and on a changed file, concurrency skip, replace and
# queue, path triggers.
# Only 127.0.0.1.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"

need_serve "serve schedules"
D=$T/wf
mkdir -p "$D"
chmod 777 "$D"

cat >"$D/tick.md" <<'MD'
---
name: tick
schedule: every 2s
---
## a
```sh
date +%s.%N >> "$WM_WORKSPACE/ticks"
```
MD
cat >"$D/broken.md" <<'MD'
---
schedule: "0 0 * * *"
---
## a
- depends: nope
```sh
true
```
MD
printf -- '# not scheduled\n## a\n```sh\ntrue\n```\n' >"$D/plain.md"

# wait_ticks N [SECONDS]: until $D/ticks has N lines.
wait_ticks() {
	for _ in $(seq $((${2:-10} * 20))); do
		(($(cat "$D/ticks" 2>/dev/null | wc -l) >= $1)) && return 0
		sleep 0.05
	done
	return 1
}
# spaced: every two ticks at least 0.9 s apart: no time fired twice (fires
# 2 s apart start on the server's 1 s tick, so up to 1 s late).
spaced() {
	awk 'NR > 1 && $1 - prev < 0.9 { bad = 1 } { prev = $1 } END { exit bad }' "$D/ticks"
}

start_serve --workflows "$D"
wait_ticks 3 10 && pass "every 2s: 3 runs" || fail "every 2s" "$(cat "$T/serve.out")"
awk 'NR > 1 && ($1 - prev < 1 || $1 - prev > 3) { bad = 1 } { prev = $1 } END { exit bad }' "$D/ticks" &&
	pass "about 2 s apart" || fail "spacing" "$(cat "$D/ticks")"
expect_in "the broken workflow is reported" "broken.md: not scheduled: 1 error" "$(cat "$T/serve.out")"
expect_in "with its error at its place" "broken.md:5:12: error: unknown dependency" "$(cat "$T/serve.out")"
(($(ls "$WM_STATE_DIR/runs" | wc -l) >= 3)) && pass "ordinary runs in the state directory" ||
	fail "runs" "$(ls "$WM_STATE_DIR/runs")"

expect_exit "schedule list" 0 "$WM" schedule list
expect_in "lists tick" "every 2s" "$OUT"
expect_in "lists broken, in error" "broken               error" "$OUT"
expect_not_in "an unscheduled file is not listed" "plain" "$OUT"
expect_exit "schedule list --json" 0 "$WM" schedule list --json
[[ $(jq -r '.[] | select(.name == "tick") | .next_fire > .last_fire' <<<"$OUT") == true &&
	$(jq -r '.[] | select(.name == "broken") | .state' <<<"$OUT") == error ]] &&
	pass "json: next after last fire; broken in error" || fail "list json" "$OUT"

# ---- restart right after a fire: the same time never fires twice ----
n=$(wc -l <"$D/ticks")
wait_ticks $((n + 1)) 4
stop_serve
start_serve --workflows "$D"
sleep 2.5
stop_serve
spaced && pass "restart: no time fired twice" || fail "restart" "$(cat "$D/ticks")"

# ---- pause and resume ----
expect_exit "pause an unknown schedule" 2 "$WM" schedule pause nosuch
start_serve --workflows "$D"
expect_exit "pause" 0 "$WM" schedule pause tick
sleep 1.2 # a fire may have started before the pause was seen
n=$(wc -l <"$D/ticks")
sleep 4.5
[[ $(wc -l <"$D/ticks") == "$n" ]] && pass "paused: no fire in 4.5 s" || fail "pause" "$(tail -3 "$D/ticks")"
[[ $("$WM" schedule list --json | jq -r '.[] | select(.name == "tick") | .state') == paused ]] &&
	pass "listed as paused" || fail "paused state"
expect_exit "resume" 0 "$WM" schedule resume tick
wait_ticks $((n + 1)) 4 && pass "resumed: fires again" || fail "resume"

# ---- reload: SIGHUP, and a file changed in DIR ----
sed -i '/- depends: nope/d' "$D/broken.md"
kill -HUP "$SPID"
sleep 0.5
[[ $("$WM" schedule list --json | jq -r '.[] | select(.name == "broken") | .state') == active ]] &&
	pass "SIGHUP: the fixed workflow is scheduled" || fail "sighup" "$("$WM" schedule list)"
printf -- '---\nname: fresh\nschedule: "@hourly"\n---\n## a\n```sh\ntrue\n```\n' >"$D/fresh.md"
for _ in $(seq 60); do "$WM" schedule list | grep -q '^fresh ' && break; sleep 0.1; done
expect_in "a new file is seen without a restart" "fresh" "$("$WM" schedule list)"

# ---- concurrency skip: a run longer than the interval ----
cat >"$D/slow.md" <<'MD'
---
name: slow
schedule: every 1s
concurrency: skip
---
## a
```sh
echo start >> "$WM_WORKSPACE/slow"
sleep 2.5
```
MD
for _ in $(seq 100); do (($(jq -r .skipped "$WM_STATE_DIR/schedule/slow.json" 2>/dev/null || echo 0) >= 2)) && break; sleep 0.1; done
(($(jq -r .skipped "$WM_STATE_DIR/schedule/slow.json") >= 2)) && pass "skip: fires during a run are dropped" ||
	fail "skip" "$(cat "$WM_STATE_DIR/schedule/slow.json")"
rm "$D/slow.md"

# ---- concurrency replace: the previous run is interrupted, resumable ----
cat >"$D/repl.md" <<'MD'
---
name: repl
schedule: every 2s
concurrency: replace
---
## a
```sh
echo "$WM_RUN_ID" >> "$WM_WORKSPACE/repl"
sleep 30
```
MD
for _ in $(seq 200); do (($(cat "$D/repl" 2>/dev/null | wc -l) >= 2)) && break; sleep 0.05; done
first=$(head -1 "$D/repl" 2>/dev/null)
for _ in $(seq 100); do
	[[ -n $first && $(checkpoint "$WM_STATE_DIR/runs/$first" 2>/dev/null | jq -r .state) == interrupted ]] && break
	sleep 0.05
done
[[ -n $first && $(checkpoint "$WM_STATE_DIR/runs/$first" | jq -r .state) == interrupted ]] &&
	pass "replace: the previous run is interrupted (resumable)" ||
	fail "replace" "$(cat "$D/repl" 2>&1) $(checkpoint "$WM_STATE_DIR/runs/$first" 2>&1 | jq -r .state)"
(($(wc -l <"$D/repl") >= 2)) && pass "replace: and the next one runs" || fail "replace next"
rm "$D/repl.md"
expect_exit "pause repl (a run may go on)" 0 "$WM" schedule pause repl
for id in $(cat "$D/repl"); do "$WM" cancel "$id" >/dev/null 2>&1; done

# ---- concurrency queue: a fire during a run waits for it; runs never overlap ----
cat >"$D/queued.md" <<'MD'
---
name: queued
schedule: every 1s
concurrency: queue
---
## a
```sh
echo start >> "$WM_WORKSPACE/queued"
sleep 2
echo end >> "$WM_WORKSPACE/queued"
```
MD
for _ in $(seq 300); do (($(grep -c '^end' "$D/queued" 2>/dev/null) >= 2)) && break; sleep 0.05; done
rm "$D/queued.md"
(($(grep -c '^end' "$D/queued") >= 2)) && pass "queue: a fire during a run runs after it" ||
	fail "queue" "$(cat "$D/queued" 2>&1) $(tail -3 "$T/serve.out")"
awk 'NR % 2 == 1 && $1 != "start" || NR % 2 == 0 && $1 != "end" { bad = 1 } END { exit bad }' "$D/queued" &&
	pass "queue: each run starts after the previous one ended" || fail "queue overlap" "$(cat "$D/queued")"
! grep -q "queued: fire skipped" "$T/serve.out" && pass "queue: no fire is dropped" ||
	fail "queue dropped" "$(grep queued "$T/serve.out")"

# ---- trigger: {paths: [...]}: a matching change starts a run, debounced ----
mkdir -p "$D/src/a"
cat >"$D/build.md" <<'MD'
---
name: build
trigger: {paths: ["src/**/*.c"]}
---
## a
```sh
date +%s.%N >> "$WM_WORKSPACE/built"
```
MD
for _ in $(seq 60); do "$WM" schedule list | grep -q '^build ' && break; sleep 0.1; done
echo 'int x;' >"$D/src/a/x.c"
sleep 0.3
echo 'int y;' >"$D/src/a/x.c"
echo 'notes' >"$D/src/readme.txt"
for _ in $(seq 100); do [[ -s $D/built ]] && break; sleep 0.05; done
sleep 2.5
[[ $(cat "$D/built" 2>/dev/null | wc -l) == 1 ]] && pass "paths: two quick changes, one run" ||
	fail "paths" "$(cat "$D/built" 2>&1) $(tail -3 "$T/serve.out")"
echo 'notes again' >"$D/src/readme.txt"
sleep 3
[[ $(wc -l <"$D/built") == 1 ]] && pass "paths: a file no glob matches starts nothing" ||
	fail "paths unmatched" "$(cat "$D/built")"
mkdir -p "$D/src/new/deep"
sleep 0.3
echo 'int z;' >"$D/src/new/deep/z.c"
for _ in $(seq 100); do (($(wc -l <"$D/built") >= 2)) && break; sleep 0.05; done
[[ $(wc -l <"$D/built") == 2 ]] && pass "paths: a directory made later is watched" ||
	fail "paths new dir" "$(cat "$D/built")"
stop_serve
expect_in "stops cleanly" "wm serve: stopping" "$(cat "$T/serve.out")"

# ---- a server killed while a run goes on and a fire waits behind it ----
# The restarted server takes the run back and still runs the queued fire,
# after it: without that, the next fire would start at once, beside it.
# The server is killed within 2.5 s of the run's start, the run takes 6 s.
D2=$T/wf2
mkdir -p "$D2"
chmod 777 "$D2"
cat >"$D2/requeue.md" <<'MD'
---
name: requeue
schedule: every 1s
concurrency: queue
---
## a
```sh
echo "start $(date +%s.%N)" >> "$WM_WORKSPACE/requeue"
sleep 6
echo "end $(date +%s.%N)" >> "$WM_WORKSPACE/requeue"
```
MD
start_serve --workflows "$D2"
queued() { jq -e '.queued > 0 and .run.pid > 0' "$WM_STATE_DIR/schedule/requeue.json"; }
wait_for 100 grep -q '^start' "$D2/requeue" && wait_for 25 queued >/dev/null &&
	pass "queue: the waiting fire and the run going on are on disk" ||
	fail "queued on disk" "$(cat "$WM_STATE_DIR/schedule/requeue.json" "$D2/requeue" 2>&1)"
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
start_serve --workflows "$D2"
for _ in $(seq 400); do (($(grep -c '^end' "$D2/requeue" 2>/dev/null) >= 2)) && break; sleep 0.05; done
stop_serve
(($(grep -c '^end' "$D2/requeue") >= 2)) && pass "queue: the queued fire ran after a restart" ||
	fail "queued after restart" "$(cat "$D2/requeue") $(tail -3 "$T/serve.out")"
awk 'NR % 2 == 1 && $1 != "start" || NR % 2 == 0 && $1 != "end" { bad = 1 } END { exit bad }' \
	"$D2/requeue" && pass "queue: no run overlapped another across the restart" ||
	fail "overlap across restart" "$(cat "$D2/requeue")"
# The runs of the schedule end before the test's directory goes.
wait_for 100 no_process "$D2/requeue.md" || fail "requeue runs end" "$(pgrep -af requeue.md)"

# ---- replace, across a restart: the run taken back is the one interrupted ----
cat >"$D2/rerepl.md" <<'MD'
---
name: rerepl
schedule: every 3s
concurrency: replace
---
## a
```sh
echo "$WM_RUN_ID" >> "$WM_WORKSPACE/rerepl"
sleep 30
```
MD
rm -f "$D2/requeue.md"
start_serve --workflows "$D2"
wait_for 100 test -s "$D2/rerepl"
first=$(head -1 "$D2/rerepl" 2>/dev/null)
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
start_serve --workflows "$D2"
interrupted() { [[ $(checkpoint "$WM_STATE_DIR/runs/$first" | jq -r .state) == interrupted ]]; }
[[ -n $first ]] && wait_for 100 interrupted &&
	pass "replace after a restart: the run taken back is interrupted" ||
	fail "replace after restart" "$(cat "$D2/rerepl" 2>&1) $(tail -3 "$T/serve.out")"
two_runs() { (($(wc -l <"$D2/rerepl") >= 2)); }
wait_for 50 two_runs && pass "replace after a restart: the next one runs" ||
	fail "replace next after restart" "$(cat "$D2/rerepl")"
rm "$D2/rerepl.md"
stop_serve
for id in $(cat "$D2/rerepl"); do "$WM" cancel "$id" >/dev/null 2>&1; done
wait_for 100 no_process "$D2/rerepl.md" || fail "rerepl runs end" "$(pgrep -af rerepl.md)"
