#!/usr/bin/env bash
# Resume bookkeeping: attempt numbers go on, kept tasks are marked kept
# everywhere, run.end tells this part's time and the whole, a run whose
# only unfinished tasks were skipped has nothing to do, and `wm resume`
# without an id takes the newest resumable run.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
cat >"$W/r.md" <<'MD'
---
policy: minimal
---
## a
```sh
echo a >> runs.log
```
## flaky
- retries: 1
- backoff: 50ms
```sh
test -e ok.flag || exit 4
```
## after
- depends: flaky
```sh
echo after >> runs.log
```
MD
expect_exit "the first run fails" 1 "$WM" run --yes --workspace "$W" "$W/r.md"
rid=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
touch "$W/ok.flag"
sleep 1.2 # so that the whole run is longer than this part
expect_exit "resume without an id" 0 "$WM" resume
expect_in "takes the newest resumable run" "run $rid (resumed)" "$OUT"
expect_in "the summary marks a kept" "kept" "$(grep '^a ' <<<"$OUT")"
expect_in "and says the whole time" "since it first started" "$OUT"
RUN=$WM_STATE_DIR/runs/$rid
check "attempt numbers go on: 3 attempts" test "$(task_field "$RUN" flaky attempts)" = 3
expect_in "the decision names attempt 3" "exited 0 on attempt 3" \
	"$(checkpoint "$RUN" | jq -r '.tasks.flaky.decisions[-1].why')"
check "kept in the checkpoint" test "$(task_field "$RUN" a kept)" = true
check "not kept: what ran" test "$(task_field "$RUN" flaky kept)" = null
expect_exit "status" 0 "$WM" status "$rid"
expect_in "status marks a kept" "kept" "$(grep '^  a ' <<<"$OUT")"
expect_exit "status --json" 0 "$WM" status --json "$rid"
check "status --json marks a kept" test "$(jq -r .tasks.a.kept <<<"$OUT")" = true
end=$("$WM" audit show --json --event run.end "$rid" | tail -1)
d=$(jq .duration_ms <<<"$end")
total=$(jq .total_ms <<<"$end")
[[ $d =~ ^[0-9]+$ && $total =~ ^[0-9]+$ && $total -gt $((d + 1000)) ]] &&
	pass "run.end: this part and the whole" || fail "run.end: this part and the whole" "$end"
expect_in "a ran once" "a after " "$(sort "$W/runs.log" | tr '\n' ' ')"

# ---- only skipped tasks left: nothing to do ----
cat >"$W/s.md" <<'MD'
---
policy: minimal
---
## a
```sh
true
```
## maybe
- only_if: false
```sh
echo never
```
MD
expect_exit "a run with a skipped task" 0 "$WM" run --yes --workspace "$W" "$W/s.md"
sid=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
expect_exit "resuming it" 0 "$WM" resume "$sid"
expect_in "has nothing to do" "nothing to do" "$OUT"
expect_exit "resume with nothing resumable" 2 "$WM" resume
expect_in "says so" "no run to resume" "$OUT"
