#!/usr/bin/env bash
# wm list reads each run's small summary.json (plus the journal's last
# record) instead of loading its checkpoint, and falls back to the
# checkpoint whenever the summary is missing, corrupt or stale. Its task
# counts keep states apart, its filters (--state, --name, --since) and -q
# pick runs, and its columns fit the width.
. "$(dirname "$0")/../lib.sh"
unset COLUMNS

# line_of ID: the line of $OUT that lists run ID.
line_of() { grep -F -- "$1" <<<"$OUT"; }

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((800000 + RANDOM))
S=$WM_STATE_DIR
{
	echo "---"
	echo "name: listed"
	echo "---"
	prev=
	for i in 1 2 3 4 5; do
		echo "## t$i"
		[[ -n $prev ]] && echo "- depends: $prev"
		echo
		echo '```sh'
		echo 'true'
		echo '```'
		prev=t$i
	done
	echo "## last"
	echo "- depends: t5"
	echo
	echo '```sh'
	echo "sleep $marker"
	echo '```'
} >"$W/l.md"

# rename_in_summary DIR NAME: edits the name the summary holds, nothing
# else (python keeps the 64-bit mtime exact, where jq would round it).
rename_in_summary() {
	python3 -c 'import json, sys
p = sys.argv[1] + "/summary.json"; s = json.load(open(p)); s["name"] = sys.argv[2]
open(p, "w").write(json.dumps(s))' "$1" "$2"
}

expect_exit "list with no runs" 0 "$WM" list
expect_in "says how to start one" "no runs yet in $S: start one with wm run FILE" "$OUT"
expect_exit "list -q with no runs" 0 "$WM" list -q
check "prints nothing" test -z "$OUT"
check "list --json with no runs is []" test "$("$WM" list --json | jq -c .)" = "[]"

sed "s/sleep $marker/true/" "$W/l.md" >"$W/done.md"
expect_exit "a finished run" 0 "$WM" run "$W/done.md"
R=$(run_dir_of "$OUT")
id=${R##*/}
check "the run has a summary.json" test -s "$R/summary.json"
check "it is a wm summary" test "$(jq -r .format "$R/summary.json")" = wm-summary
check "its counts are the run's" test "$(jq -r .counts.succeeded "$R/summary.json")" = 6
expect_exit "list" 0 "$WM" list
expect_in "list has a header" "ID                    STATE      STARTED           WORKFLOW  TASKS" "$OUT"
expect_in "list shows the run" "$id  succeeded  " "$OUT"
expect_in "with its workflow and tasks" "  listed    6/6 ok" "$(line_of "$id")"

rename_in_summary "$R" from-summary
expect_exit "list after the summary changed" 0 "$WM" list
expect_in "list takes what it shows from the summary, not the checkpoint" "  from-summary  " "$(line_of "$id")"
name=$("$WM" list --json | jq -r ".[] | select(.id == \"$id\") | .workflow")
check "list --json too" test "$name" = from-summary

echo 'not json' >"$R/summary.json"
expect_exit "a corrupt summary" 0 "$WM" list
expect_in "falls back to the checkpoint" "  listed  " "$(line_of "$id")"

rm "$R/summary.json"
expect_exit "no summary" 0 "$WM" list
expect_in "falls back to the checkpoint too" "  listed  " "$(line_of "$id")"

expect_exit "a resume writes a fresh summary" 0 "$WM" resume --force "$id"
rename_in_summary "$R" again-summary
touch -d '2001-01-01' "$R/checkpoint.json.zst"
expect_exit "a checkpoint changed after the summary" 0 "$WM" list
expect_in "is noticed: the summary is not trusted" "  listed  " "$(line_of "$id")"

# A live run and then an orphan: progress comes from the journal's last
# record, newer than the summary written at the run's start.
"$WM" run "$W/l.md" >"$T/o.out" 2>&1 &
pid=$!
for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
R=$(run_dir_of "$(cat "$T/o.out")")
id=${R##*/}
rename_in_summary "$R" live-summary
expect_exit "list with a live run" 0 "$WM" list
expect_in "a live run's progress comes from its journal" "  live-summary  5/6 ok, 1 running" "$(line_of "$id")"
expect_in "a live run is running" "$id  running  " "$OUT"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
expect_exit "list after the orchestrator died" 0 "$WM" list
expect_in "the orphan is marked from the summary" "$id  orphaned  " "$OUT"
expect_in "with its progress" "  live-summary  5/6 ok, 1 running" "$(line_of "$id")"
expect_exit "orphans" 0 "$WM" orphans
expect_in "orphans lists it" "$id" "$OUT"

# ---- an interrupted run is not "done" ----
# Two quick tasks, two that sleep (cancelled by SIGTERM), one that would
# follow them (skipped): 5 tasks in a final state, 2 of them succeeded.
{
	echo "---"
	echo "name: cut-short"
	echo "---"
	for t in a b; do printf '## %s\n```sh\ntrue\n```\n' "$t"; done
	for t in slow1 slow2; do printf '## %s\n- depends: a, b\n\n```sh\nsleep %s\n```\n' "$t" "$marker"; done
	printf '## after\n- depends: slow1\n\n```sh\ntrue\n```\n'
} >"$W/cut.md"
"$WM" run "$W/cut.md" >"$T/cut.out" 2>&1 &
pid=$!
for _ in $(seq 200); do (($(pgrep -fc "sleep $marker") >= 2)) && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
check "the run was interrupted (exit 130)" test $? = 130
cut=$(run_dir_of "$(cat "$T/cut.out")")
cut=${cut##*/}
expect_exit "list after an interrupted run" 0 "$WM" list
expect_in "it is interrupted" "$cut  interrupted  " "$OUT"
expect_in "its tasks are counted apart" "2/5 ok, 1 skipped, 2 cancelled" "$(line_of "$cut")"
expect_not_in "never as 5/5" "5/5" "$(line_of "$cut")"
c=$("$WM" list --json | jq -c ".[] | select(.id == \"$cut\") | .counts | [.succeeded, .skipped, .cancelled, .failed]")
check "list --json counts each state" test "$c" = "[2,1,2,0]"

# ---- filters ----
need_mkrun "filters"
# ids: the run ids in $1, sorted (runs made in the same second sort by
# their random suffix, so the tests compare sets).
ids() { tr -s ' \n' '\n' <<<"$1" | sed '/^$/d' | sort | xargs; }
both() { printf '%s\n' "$@" | sort | xargs; }
old_id=$("$MKRUN" --tasks 2 --states succeeded,failed --run-state failed --name nightly-old --ago $((3 * 86400)))
new_id=$("$MKRUN" --tasks 2 --run-state succeeded --name nightly-new)
expect_exit "--state failed" 0 "$WM" list --state failed -q
check "-q lists the failed run's id alone" test "$OUT" = "$old_id"
expect_exit "--state with a comma list" 0 "$WM" list -q --state failed,interrupted
check "both runs" test "$(ids "$OUT")" = "$(both "$cut" "$old_id")"
expect_exit "--state repeated" 0 "$WM" list -q --state failed --state interrupted
check "the same" test "$(ids "$OUT")" = "$(both "$cut" "$old_id")"
expect_exit "an unknown state" 2 "$WM" list --state runing
expect_in "did you mean" "unknown run state 'runing' (did you mean 'running'?)" "$OUT"
expect_in "the states are named" "orphaned, broken" "$OUT"
expect_exit "--state for orphans is refused" 2 "$WM" orphans --state failed
expect_exit "--name a glob" 0 "$WM" list -q --name 'nightly-*'
check "the nightly runs" test "$(ids "$OUT")" = "$(both "$new_id" "$old_id")"
expect_exit "--name exact" 0 "$WM" list -q --name nightly-new
check "one run" test "$OUT" = "$new_id"
expect_exit "--since 2d" 0 "$WM" list -q --since 2d --name 'nightly-*'
check "leaves out the 3-day-old run" test "$OUT" = "$new_id"
expect_exit "--since 1w" 0 "$WM" list -q --since 1w --name 'nightly-*'
check "takes it in" test "$(ids "$OUT")" = "$(both "$new_id" "$old_id")"
d=$(date -u -d '4 days ago' +%F)
expect_exit "--since an absolute date" 0 "$WM" list -q --since "$d" --name 'nightly-*'
check "takes it in too" test "$(ids "$OUT")" = "$(both "$new_id" "$old_id")"
expect_exit "--since yesterday" 0 "$WM" list -q --since yesterday --state failed
check "the old run started before yesterday" test -z "$OUT"
expect_exit "--since a bad time" 2 "$WM" list --since soon
expect_in "names the forms" "3d, 1w, today or yesterday" "$OUT"
expect_exit "filters that match nothing" 0 "$WM" list --since now
expect_in "say so" "no runs match (" "$OUT"
got=$("$WM" list --json --state failed,succeeded --since 1w --name 'nightly-*' | jq -r '.[].id')
check "--json takes the same filters" test "$(ids "$got")" = "$(both "$new_id" "$old_id")"
expect_exit "-q and --json conflict" 2 "$WM" list -q --json

# ---- columns that fit ----
long=a-workflow-name-far-too-long-for-a-narrow-terminal-window
# widest: the longest line of $OUT in characters (the ellipsis is one).
widest() { python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().splitlines()))' <<<"$OUT"; }
long_id=$("$MKRUN" --tasks 1 --run-state succeeded --name "$long")
expect_exit "list, not on a terminal" 0 "$WM" list
expect_in "shows names whole" "$long" "$(line_of "$long_id")"
expect_exit "list in 80 columns" 0 env COLUMNS=80 "$WM" list --name "$long" --state succeeded
check "every line fits" test "$(widest)" -le 80
expect_in "the name is cut with an ellipsis" "a-workflow-name-far" "$(line_of "$long_id")"
expect_in "ending in …" "…  1/1 ok" "$(line_of "$long_id")"
expect_in "STARTED stays at 80" "STARTED" "$OUT"
expect_exit "list in 60 columns" 0 env COLUMNS=60 "$WM" list --name "$long"
check "every line fits in 60 too" test "$(widest)" -le 60
expect_not_in "STARTED goes first" "STARTED" "$OUT"
expect_in "the id stays whole" "$long_id  succeeded  " "$OUT"
