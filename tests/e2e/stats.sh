#!/usr/bin/env bash
# wm stats and metrics.json, checked against runs whose outcomes are known.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
cat >"$W/known.md" <<'MD'
---
name: known
---
# Known outcomes
## quick
```sh
true
```

## flaky
- retries: 2
- backoff: 10ms
- timeout: 10s

```sh
[ "$WM_ATTEMPT" -ge 2 ]
```

## slow
- depends: quick
- timeout: 3s

```sh
sleep 2.5
```
MD
for i in 1 2 3; do
	expect_exit "known run $i" 0 "$WM" run "$W/known.md"
done
RUN=$(run_dir_of "$OUT")
ID=${RUN##*/}
check "metrics.json written" test -s "$RUN/metrics.json"
check "metrics count tasks by state" test "$(jq .tasks.succeeded "$RUN/metrics.json")" = 3
check "metrics count retries" test "$(jq .retries "$RUN/metrics.json")" = 1
check "metrics name the workflow" test "$(jq -r .workflow "$RUN/metrics.json")" = known

expect_exit "stats of one run" 0 "$WM" stats --json "$ID"
S=$OUT
check "attempts per task" test "$(jq -r '.tasks[] | select(.task == "flaky") | .attempts' <<<"$S")" = 2
check "slow took about its sleep" test "$(jq -r '.tasks[] | select(.task == "slow") | .duration_ms' <<<"$S")" -ge 2500
check "critical path is quick -> slow" test "$(jq -c .critical_path <<<"$S")" = '["quick","slow"]'
check "parallelism is a number" jq -e '.parallelism > 0' <<<"$S"
expect_exit "stats text of one run" 0 "$WM" stats "$ID"
expect_in "text names the critical path" "critical path: quick -> slow" "$OUT"

expect_exit "stats over history" 0 "$WM" stats --json
H=$OUT
check "three runs of flaky" test "$(jq -r '.tasks[] | select(.task == "flaky") | .runs' <<<"$H")" = 3
check "flaky retried every run" test "$(jq -r '.tasks[] | select(.task == "flaky") | .retry_rate' <<<"$H")" = 1
check "flaky is called flaky" jq -e '.recommendations | map(select(test("flaky is flaky"))) | length == 1' <<<"$H"
check "slow's p95 is near its timeout" jq -e '.recommendations | map(select(test("known/slow: p95"))) | length == 1' <<<"$H"
check "quick gets no advice" jq -e '.recommendations | map(select(test("known/quick"))) | length == 0' <<<"$H"
expect_exit "stats text over history" 0 "$WM" stats
expect_in "history table has the task" "flaky" "$OUT"
expect_exit "stats of an unknown run is exit 2" 2 "$WM" stats 19990101-000000-dead

# --since: only the runs started then or later.
expect_exit "stats --since 1h" 0 "$WM" stats --json --since 1h
check "--since 1h keeps the three runs" test "$(jq -r '.tasks[] | select(.task == "flaky") | .runs' <<<"$OUT")" = 3
expect_exit "stats --since now" 0 "$WM" stats --json --since now
check "--since now keeps none" test "$(jq '.tasks | length' <<<"$OUT")" = 0
expect_exit "stats --since a bad time is exit 2" 2 "$WM" stats --since tomorrow
expect_in "names the forms" "today or yesterday" "$OUT"
expect_exit "stats --since with a run id is exit 2" 2 "$WM" stats --since 1h "$ID"
