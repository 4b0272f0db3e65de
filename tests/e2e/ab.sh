#!/usr/bin/env bash
# wm ab: runs made by tests/tools/mkrun with crafted times, then workflows
# whose difference is known, run for real.
. "$(dirname "$0")/../lib.sh"
need_mkrun "wm ab"

# mkruns NAME STATE MS...: one run of NAME per duration; prints the ids.
mkruns() {
	local name=$1 state=$2 ms
	shift 2
	for ms in "$@"; do
		"$MKRUN" --state-dir "$WM_STATE_DIR" --name "$name" --run-state "$state" \
			--tasks 2 --duration "$ms"
	done
}

# Crafted: A 1.0-1.4 s, B 2.0-2.4 s: U=0, exact p = 2/C(10,5) = 0.0079;
# medians 1.2 s and 2.2 s, A faster by 1/2.2 = 45%.
a_ids=$(mkruns craft-a succeeded 1000 1100 1200 1300 1400 | paste -sd,)
b_ids=$(mkruns craft-b succeeded 2000 2100 2200 2300 2400 | paste -sd,)
expect_exit "ab over named workflows" 0 "$WM" ab --a-name craft-a --b-name craft-b
expect_in "the verdict names the faster" "A is faster by 45% (p=0.0079); success rates do not differ (5/5 against 5/5, p=1)" "$OUT"
expect_in "exact test said" "wall time: Mann-Whitney U=0, p=0.0079 (exact)" "$OUT"
expect_in "side A summarised" "5 runs, 5 succeeded (100%, 95% CI 57-100%), wall p50 1.2s p95 1.38s" "$OUT"
expect_in "per-task line" "t1                           1.2s    1.38s     2.2s    2.38s  p=0.0079" "$OUT"
json=$("$WM" ab --a-runs "$a_ids" --b-runs "$b_ids" --json)
check "ab --json by ids: format" test "$(jq -r .format <<<"$json")" = wm-ab
check "json: U and p" test "$(jq -r '"\(.wall.u) \(.wall.p*10000|round) \(.wall.exact) \(.wall.faster)"' <<<"$json")" = "0 79 true a"
check "json: A's runs are the ids given" test "$(jq -r '.a.runs | join(",")' <<<"$json")" = "$a_ids"
check "json: medians" test "$(jq -r '"\(.a.wall.p50_ms) \(.b.wall.p50_ms)"' <<<"$json")" = "1200 2200"
check "json: Wilson interval of 5/5" test "$(jq -r '.a.success_ci[0]*1000|round' <<<"$json")" = 566
check "json: two tasks compared" test "$(jq -r '[.tasks[].task] | join(" ")' <<<"$json")" = "t1 t2"
# Swapped, the same numbers name B.
expect_exit "ab swapped" 0 "$WM" ab --a-runs "$b_ids" --b-runs "$a_ids"
expect_in "B is now the faster" "B is faster by 45% (p=0.0079)" "$OUT"

# The same times on both sides: no difference, no winner.
same_a=$(mkruns same-a succeeded 1000 1000 1000 1000 | paste -sd,)
same_b=$(mkruns same-b succeeded 1000 1000 1000 1000 | paste -sd,)
expect_exit "ab of equal runs" 0 "$WM" ab --a-runs "$same_a" --b-runs "$same_b"
expect_in "no difference" "times do not differ (p=1); success rates do not differ (4/4 against 4/4, p=1)" "$OUT"

# Too few runs: no claim even when every number differs.
few_a=$(mkruns few-a succeeded 1000 1010 | paste -sd,)
few_b=$(mkruns few-b succeeded 5000 5010 | paste -sd,)
expect_exit "ab of two runs each" 0 "$WM" ab --a-runs "$few_a" --b-runs "$few_b"
expect_in "too few to tell" "too few successful runs to compare times (2 and 2; 3 each needed); too few runs to compare success rates (2 and 2; 3 each needed)" "$OUT"

# Failed runs count in the success rate, not in the times.
mkruns craft-a failed 900 900 900 >/dev/null
json=$("$WM" ab --a-name craft-a --b-name craft-b --json)
check "failed runs counted" test "$(jq -r '"\(.a.n_runs) \(.a.succeeded) \(.a.wall.n)"' <<<"$json")" = "8 5 5"
check "Fisher p of 5/8 against 5/5" test "$(jq -r '.success.p*1000|round' <<<"$json")" = 231

# Bad input: exit 2, said once.
live=$("$MKRUN" --state-dir "$WM_STATE_DIR" --name craft-a --run-state running)
expect_exit "a running run is refused" 2 "$WM" ab --a-runs "$live" --b-runs "$b_ids"
expect_in "says why" "run $live is orphaned: wm ab compares runs that succeeded or failed" "$OUT"
expect_exit "an unknown run" 2 "$WM" ab --a-runs 20990101-000000-beef --b-runs "$b_ids"
expect_exit "an unknown workflow name" 2 "$WM" ab --a-name nosuch --b-name craft-b
expect_in "names it" "no finished run of workflow 'nosuch'" "$OUT"
expect_exit "files need --runs" 2 "$WM" ab a.md b.md
expect_in "asks for --runs" "wm: how many runs of each? (--runs N)" "$OUT"
expect_exit "files and ids" 2 "$WM" ab a.md b.md --runs 2 --a-runs "$a_ids"
expect_exit "a side missing" 2 "$WM" ab --a-name craft-a
expect_in "names the side" "side B needs one of --b-runs and --b-name" "$OUT"
expect_exit "bad --runs" 2 "$WM" ab a.md b.md --runs 0

# Live: workflows whose difference is known.
mkdir -p "$T/ab" "$T/tmp"
cat >"$T/ab/fast.md" <<'MD'
---
name: ab-fast
---
## work
```sh
sleep 0.05
echo "$WM_AB_SIDE $WM_AB_RUN" >"$WM_OUT/who"
```
MD
sed -e 's/ab-fast/ab-slow/' -e 's/sleep 0.05/sleep 0.35/' "$T/ab/fast.md" >"$T/ab/slow.md"
# Fails on odd runs: one time in two, deterministically.
cat >"$T/ab/flaky.md" <<'MD'
---
name: ab-flaky
---
## work
```sh
test $((WM_AB_RUN % 2)) = 0
```
MD
runs_before=$(ls "$WM_STATE_DIR/runs" | wc -l)
json=$(TMPDIR=$T/tmp "$WM" ab "$T/ab/fast.md" "$T/ab/slow.md" --runs 8 --json 2>"$T/ab.err")
check "live: the slower is named, p small" test "$(jq -r '"\(.wall.faster) \(.wall.p < 0.01)"' <<<"$json")" = "a true"
expect_in "live verdict" "A is faster by " "$(jq -r .verdict <<<"$json")"
if [[ $(jq -r '"\(.a.succeeded) \(.b.succeeded)"' <<<"$json") == "8 8" ]]; then
	pass "live: 8 runs a side, all succeeded"
else
	for id in $(jq -r '.a.runs[], .b.runs[]' <<<"$json"); do
		[[ $(checkpoint "$WM_STATE_DIR/runs/$id" | jq -r .state) == succeeded ]] ||
			fail "live: run $id did not succeed" "$(cat "$WM_STATE_DIR/runs/$id"/logs/* | head -c 600; checkpoint "$WM_STATE_DIR/runs/$id" | jq -c .tasks)"
	done
fi
check "live: runs recorded in the state dir" test "$(ls "$WM_STATE_DIR/runs" | wc -l)" = $((runs_before + 16))
check "live: workspaces removed" test -z "$(ls -A "$T/tmp")"
a1=$(jq -r '.a.runs[0]' <<<"$json")
b3=$(jq -r '.b.runs[2]' <<<"$json")
check "live: run k of a side gets WM_AB_SIDE and WM_AB_RUN" \
	test "$(cat "$WM_STATE_DIR/runs/$a1/out/work/who") $(cat "$WM_STATE_DIR/runs/$b3/out/work/who")" = "A 1 B 3"
started() { checkpoint "$WM_STATE_DIR/runs/$(jq -r "$1" <<<"$json")" | jq .started_ms; }
check "live: sides alternate" test "$(started '.a.runs[0]')" -lt "$(started '.b.runs[0]')" -a \
	"$(started '.b.runs[0]')" -lt "$(started '.a.runs[1]')"

json=$(TMPDIR=$T/tmp "$WM" ab "$T/ab/fast.md" "$T/ab/flaky.md" --runs 10 --json 2>/dev/null)
check "live flaky: 10/10 against 5/10" test "$(jq -r '"\(.a.succeeded)/\(.a.n_runs) \(.b.succeeded)/\(.b.n_runs)"' <<<"$json")" = "10/10 5/10"
check "live flaky: Fisher p 0.0325" test "$(jq -r '.success.p*10000|round' <<<"$json")" = 325
expect_in "live flaky: verdict names the reliable one" "A succeeds more often (10/10 against 5/10, p=0.033)" "$(jq -r .verdict <<<"$json")"

# Two identical workflows: success rates cannot differ. (Their times are
# not asserted: a test at p < 0.05 calls a difference in 1 of 20 such
# comparisons by chance; the crafted equal runs above check that verdict.)
json=$(TMPDIR=$T/tmp "$WM" ab "$T/ab/fast.md" "$T/ab/fast.md" --runs 4 --json 2>/dev/null)
check "live identical: no reliability winner" test "$(jq -r .success.more_reliable <<<"$json")" = null
expect_in "live identical: success rates do not differ" "success rates do not differ (4/4 against 4/4, p=1)" "$(jq -r .verdict <<<"$json")"

# -j reaches each run, which records it with its workspace, gone since.
json=$(TMPDIR=$T/tmp "$WM" ab "$T/ab/fast.md" "$T/ab/fast.md" --runs 1 -j 3 --json 2>/dev/null)
opts=$WM_STATE_DIR/runs/$(jq -r '.b.runs[0]' <<<"$json")/options.json
check "-j passed to the run" test "$(jq -r .jobs "$opts")" = 3
check "its workspace was a fresh one under TMPDIR" test "$(jq -r .workspace "$opts" | sed 's/\.[^.]*$//')" = "$T/tmp/wm-ab"
check "and is gone" test ! -e "$(jq -r .workspace "$opts")"

# A workflow wm run refuses is bad input.
printf '## a\n- retires: 1\n```sh\ntrue\n```\n' >"$T/ab/bad.md"
expect_exit "live: a workflow that does not plan" 2 env TMPDIR="$T/tmp" "$WM" ab "$T/ab/fast.md" "$T/ab/bad.md" --runs 1
expect_in "live: names it" "bad.md: wm run did not run it (exit 2)" "$OUT"
check "live: its workspace removed too" test -z "$(ls -A "$T/tmp")"

# As an unprivileged user.
if is_root && ! userns_ok; then
	skip "ab as nobody" "no user namespaces for nobody"
else
	mkdir -p "$T/tmpn" && chmod 1777 "$T/tmpn"
	expect_exit "ab as nobody" 0 as_user env TMPDIR="$T/tmpn" "$WM" ab "$T/ab/fast.md" "$T/ab/slow.md" --runs 2
	expect_in "as nobody: too few to tell" "too few successful runs to compare times (2 and 2" "$OUT"
	check "as nobody: workspaces removed" test -z "$(ls -A "$T/tmpn")"
fi
