#!/usr/bin/env bash
# wm stats --trend: one workflow's history per day or week, over runs made
# by tests/tools/mkrun with crafted dates, durations and outcomes.
. "$(dirname "$0")/../lib.sh"
need_mkrun "wm stats --trend"
DAY=86400

# mk NAME STATE MS DAYS_AGO [EXTRA_SECONDS]: one run; prints its id.
mk() {
	"$MKRUN" --state-dir "$WM_STATE_DIR" --name "$1" --run-state "$2" --duration "$3" \
		--ago $(($4 * DAY + ${5:-0})) --tasks 1
}

# Ten days: 1.0-1.1 s for five days, then 3.0 s, one run in two failing.
for d in 9 8 7 6 5; do
	mk tr succeeded 1000 "$d" 120 >/dev/null
	mk tr succeeded 1100 "$d" 60 >/dev/null
done
first_slow=$(mk tr succeeded 3000 4 120)
mk tr failed 3100 4 60 >/dev/null
for d in 3 2 1 0; do
	mk tr succeeded 3000 "$d" 120 >/dev/null
	mk tr failed 3100 "$d" 60 >/dev/null
done

json=$("$WM" stats --trend tr --json)
check "json: format and runs" test "$(jq -r '"\(.format) \(.by) \(.runs)"' <<<"$json")" = "wm-trend day 20"
check "json: ten days" test "$(jq '.buckets | length' <<<"$json")" = 10
check "json: first day" test "$(jq -c '.buckets[0] | [.runs, .succeeded, .success_rate, .p50_ms]' <<<"$json")" = "[2,2,1,1050]"
check "json: last day" test "$(jq -c '.buckets[9] | [.runs, .succeeded, .success_rate, .p50_ms]' <<<"$json")" = "[2,1,0.5,3000]"
check "json: days are consecutive UTC dates" test "$(jq -r '.buckets[9].start' <<<"$json")" = "$(date -u -d "@$(( $(date +%s) - 120 - 3 ))" +%F)"
check "json: the duration's change point" test "$(jq -c '.change.duration | [.run, .before, .after]' <<<"$json")" = "[\"$first_slow\",1050,3000]"
check "json: its score" test "$(jq -r '.change.duration.score | floor' <<<"$json")" = 44
check "json: no success change stands out" test "$(jq -c .change.success <<<"$json")" = null

expect_exit "text" 0 env LANG=C.UTF-8 "$WM" stats --trend tr
expect_in "text: a day's line" "$(jq -r .buckets[9].start <<<"$json")     2      50%        3s" "$OUT"
expect_in "text: success sparkline" "success  █████▅▅▅▅▅" "$OUT"
expect_in "text: duration sparkline" "p50      ▁▁▁▁▁█████" "$OUT"
expect_in "text: the change said" "change point (duration): 1.05s before, 3s from run $first_slow (" "$OUT"
expect_in "text: 44.5 deviations" "44.5 pooled standard deviations" "$OUT"
expect_in "text: none for success" "change point (success): none stands out" "$OUT"
expect_exit "text, not UTF-8" 0 env LC_ALL=C "$WM" stats --trend tr
expect_in "ASCII sparkline" "p50      _____#####" "$OUT"
expect_in "ASCII success" "success  #####=====" "$OUT"

# Weeks start on Monday; every run is in one.
json=$("$WM" stats --trend tr --by week --json)
check "weeks: every run counted" test "$(jq '[.buckets[].runs] | add' <<<"$json")" = 20
check "weeks: each starts on a Monday" test "$(jq -r '.buckets[].start' <<<"$json" | xargs -I{} date -u -d {} +%u | sort -u)" = 1
check "weeks: two or three of them" test "$(jq '.buckets | length' <<<"$json")" -ge 2
expect_exit "weeks, text" 0 "$WM" stats --trend tr --by week
expect_in "weeks: header" "WEEK OF" "$OUT"

# Steady, with a gap: days without runs show as blanks; no change point.
mk flat succeeded 1000 6 >/dev/null
mk flat succeeded 1010 6 60 >/dev/null
mk flat succeeded 1005 6 120 >/dev/null
mk flat succeeded 1000 2 >/dev/null
mk flat succeeded 1010 2 60 >/dev/null
mk flat succeeded 1000 2 120 >/dev/null
json=$("$WM" stats --trend flat --json)
check "gap: five days" test "$(jq '.buckets | length' <<<"$json")" = 5
check "gap: empty days have no figures" test "$(jq -c '.buckets[1] | [.runs, .success_rate, .p50_ms]' <<<"$json")" = "[0,null,null]"
check "flat: no change point" test "$(jq -c '.change' <<<"$json")" = '{"duration":null,"success":null}'
expect_exit "gap: text" 0 env LANG=en_US.UTF-8 "$WM" stats --trend flat
expect_in "gap: blanks in the sparkline" "success  █   █" "$OUT"

# Outcomes that turn: five successes, then five failures.
for d in 9 8 7 6 5; do mk turn succeeded 1000 "$d" >/dev/null; done
turned=$(mk turn failed 1000 4)
for d in 3 2 1 0; do mk turn failed 1000 "$d" >/dev/null; done
json=$("$WM" stats --trend turn --json)
check "turn: the success change point" test "$(jq -c '.change.success | [.run, .before, .after, .score]' <<<"$json")" = "[\"$turned\",1,0,null]"
expect_exit "turn: text" 0 "$WM" stats --trend turn
expect_in "turn: said" "change point (success): 100% before, 0% from run $turned (" "$OUT"
expect_in "turn: no spread" "no spread on either side" "$OUT"

# Bad input.
expect_exit "unknown workflow" 2 "$WM" stats --trend nosuch
expect_in "names it" "wm: no finished run of workflow 'nosuch'" "$OUT"
expect_exit "--by month" 2 "$WM" stats --trend tr --by month
expect_in "--by values" "--by is day or week, not 'month'" "$OUT"
expect_exit "--by alone" 2 "$WM" stats --by week
expect_exit "--trend with a run" 2 "$WM" stats --trend tr "$first_slow"
expect_exit "--trend with --since" 2 "$WM" stats --trend tr --since 2d
