#!/usr/bin/env bash
# Schedules: `schedule:` front matter, `wm schedule next`, and the
# foreground loop `wm run --every`, with the WM_TEST_NOW fake clock for DST
# days and missed fires, and the real clock for one short interval.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

cat >"$W/ny.md" <<'MD'
---
name: nightly
schedule: "30 2 * * *"
timezone: America/New_York
---
## a
```sh
echo "$WM_RUN_ID" >> "$WM_WORKSPACE/ran"
```
MD

# ---- wm schedule next: DST in New York (2026-03-08 springs, 11-01 falls) ----
expect_exit "schedule next" 0 "$WM" schedule next "$W/ny.md" --after 2026-03-06T12:00 -n 4
want='2026-03-07T02:30:00-05:00
2026-03-08T03:00:00-04:00
2026-03-09T02:30:00-04:00
2026-03-10T02:30:00-04:00'
[[ $OUT == "$want" ]] && pass "02:30 on the spring-forward day fires once, at 03:00 EDT" ||
	fail "spring forward" "$OUT"
sed -i 's/30 2 \* \* \*/30 1 * * */' "$W/ny.md"
expect_exit "schedule next, fall back" 0 "$WM" schedule next "$W/ny.md" --after 2026-10-31T12:00 -n 3
want='2026-11-01T01:30:00-04:00
2026-11-02T01:30:00-05:00
2026-11-03T01:30:00-05:00'
[[ $OUT == "$want" ]] && pass "01:30 on the fall-back day fires once, the first time" ||
	fail "fall back" "$OUT"
# The fake clock is what `next` starts from without --after.
OUT=$(WM_TEST_NOW=2027-02-27T12:00:00Z "$WM" schedule next "$W/ny.md" -n 2 2>&1)
expect_in "WM_TEST_NOW is now" "2027-02-28T01:30:00-05:00" "$OUT"
expect_exit "WM_TEST_NOW not a time" 2 env WM_TEST_NOW=yesterday-ish "$WM" schedule next "$W/ny.md"
expect_in "says which variable" "WM_TEST_NOW" "$OUT"

# ---- errors at their place ----
cat >"$W/bad.md" <<'MD'
---
schedule: "0 3 * * mon-fri"
timezone: Europe/Berln
---
## a
```sh
true
```
MD
expect_exit "plan refuses an unknown zone" 2 "$WM" plan "$W/bad.md"
expect_in "zone at its place" "bad.md:3:11: error: unknown time zone \`Europe/Berln\`" "$OUT"
expect_exit "run refuses an unknown zone" 2 "$WM" run "$W/bad.md"
expect_in "zone at its place (run)" "bad.md:3:11: error: unknown time zone" "$OUT"
sed -i 's/^timezone: .*/concurrency: parallel/' "$W/bad.md"
expect_exit "plan refuses a bad concurrency" 2 "$WM" plan "$W/bad.md"
expect_in "concurrency at its place" "bad.md:3:14: error: front matter \`concurrency\` must be skip, queue or replace" "$OUT"
sed -i 's/^schedule: .*/schedule: "0 3 * 13 *"/' "$W/bad.md"
expect_exit "plan refuses a bad cron field" 2 "$WM" plan "$W/bad.md"
expect_in "the month's column" "bad.md:2:18: error: schedule: bad month" "$OUT"
expect_exit "schedule next without a schedule" 2 "$WM" schedule next "$W/nothing.md"
printf -- '## a\n```sh\ntrue\n```\n' >"$W/plain.md"
expect_exit "schedule next of an unscheduled file" 2 "$WM" schedule next "$W/plain.md"
expect_in "says so" "no \`schedule:\`" "$OUT"
expect_exit "run --every nonsense" 2 "$WM" run --every soon "$W/plain.md"
expect_in "says what --every takes" "--every wants an interval" "$OUT"
expect_exit "run --count alone" 2 "$WM" run --count 2 "$W/plain.md"
expect_exit "run --every --detach" 2 "$WM" run --every 1h --detach "$W/plain.md"

# ---- wm run --every with the fake clock: three nights, one of them DST ----
sed -i 's/30 1 \* \* \*/30 2 * * */' "$W/ny.md"
rm -f "$W/ran"
OUT=$(WM_TEST_NOW=2026-03-07T06:00:00Z "$WM" run --every "30 2 * * *" --count 3 "$W/ny.md" 2>&1)
rc=$?
[[ $rc == 0 ]] && pass "--every --count 3 ends by itself" || fail "--every --count 3" "exit $rc: $OUT"
expect_in "first night" "wm: every: run 1 for 2026-03-07T02:30:00-05:00" "$OUT"
expect_in "DST night at 03:00" "wm: every: run 2 for 2026-03-08T03:00:00-04:00" "$OUT"
expect_in "third night" "wm: every: run 3 for 2026-03-09T02:30:00-04:00" "$OUT"
[[ $(wc -l <"$W/ran") == 3 && $(sort -u "$W/ran" | wc -l) == 3 ]] &&
	pass "three ordinary runs, three run ids" || fail "three runs" "$(cat "$W/ran")"
[[ $(ls "$WM_STATE_DIR/runs" | wc -l) == 3 ]] && pass "each with its run directory" ||
	fail "run directories" "$(ls "$WM_STATE_DIR/runs")"

# ---- missed fires: a run longer than the interval (fake clock, real run) ----
cat >"$W/slow.md" <<'MD'
## slow
```sh
sleep 2.2
echo x >> "$WM_WORKSPACE/slow-ran"
```
MD
OUT=$(WM_TEST_NOW=2026-05-04T10:00:00Z "$WM" run --every 1s --count 2 "$W/slow.md" 2>&1)
expect_in "fires during a run are skipped" "2 fire times passed while the previous run went on: skipped" "$OUT"
expect_in "then the next one is waited for" "wm: every: run 2 for 2026-05-04T10:00:03" "$OUT"
sed -i '1i ---\ncatchup: latest\n---' "$W/slow.md"
OUT=$(WM_TEST_NOW=2026-05-04T10:00:00Z "$WM" run --every 1s --count 2 "$W/slow.md" 2>&1)
expect_in "catchup latest runs the latest missed at once" "wm: every: run 2 for 2026-05-04T10:00:02" "$OUT"
expect_in "and counts the one before as skipped" "1 fire time passed" "$OUT"

# ---- the real clock: every 1s, twice ----
start=$(date +%s%N)
expect_exit "--every 1s --count 2" 0 "$WM" run --every 1s --count 2 "$W/plain.md"
ms=$((($(date +%s%N) - start) / 1000000))
((ms >= 900 && ms < 5000)) && pass "the second run waited for its second (${ms}ms)" ||
	fail "real interval" "${ms}ms"

# ---- SIGINT: between runs the loop ends; during a run the run is interrupted ----
"$WM" run --every 1h "$W/plain.md" >"$T/loop.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "next run at" "$T/loop.out" && break; sleep 0.05; done
kill -INT $pid
wait $pid
rc=$?
[[ $rc == 130 ]] && pass "SIGINT while waiting: exit 130" || fail "SIGINT while waiting" "exit $rc"
expect_in "says it stopped" "stopped by SIGINT after 1 run" "$(cat "$T/loop.out")"

cat >"$W/long.md" <<'MD'
## long
```sh
sleep 30
```
MD
"$WM" run --every 1h "$W/long.md" >"$T/long.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "^run " "$T/long.out" && break; sleep 0.05; done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
[[ $rc == 130 ]] && pass "SIGTERM during a run: exit 130" || fail "SIGTERM during a run" "exit $rc"
dir=$(run_dir_of "$(cat "$T/long.out")")
state=$(checkpoint "$dir" | jq -r .state)
[[ $state == interrupted ]] && pass "the run is interrupted, resumable" || fail "interrupted run" "$state"
grep -q "run 2 for" "$T/long.out" && fail "no second run after SIGTERM" || pass "no second run after SIGTERM"
