#!/usr/bin/env bash
# wm list reads each run's small summary.json (plus the journal's last
# record) instead of loading its checkpoint, and falls back to the
# checkpoint whenever the summary is missing, corrupt or stale.
. "$(dirname "$0")/../lib.sh"

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

sed "s/sleep $marker/true/" "$W/l.md" >"$W/done.md"
expect_exit "a finished run" 0 "$WM" run "$W/done.md"
R=$(run_dir_of "$OUT")
id=${R##*/}
check "the run has a summary.json" test -s "$R/summary.json"
check "it is a wm summary" test "$(jq -r .format "$R/summary.json")" = wm-summary
check "its counts are the run's" test "$(jq -r .counts.succeeded "$R/summary.json")" = 6
expect_exit "list" 0 "$WM" list
expect_in "list shows the run" "$id  succeeded    listed" "$OUT"

rename_in_summary "$R" from-summary
expect_exit "list after the summary changed" 0 "$WM" list
expect_in "list takes what it shows from the summary, not the checkpoint" "$id  succeeded    from-summary" "$OUT"
name=$("$WM" list --json | jq -r ".[] | select(.id == \"$id\") | .workflow")
check "list --json too" test "$name" = from-summary

echo 'not json' >"$R/summary.json"
expect_exit "a corrupt summary" 0 "$WM" list
expect_in "falls back to the checkpoint" "$id  succeeded    listed" "$OUT"

rm "$R/summary.json"
expect_exit "no summary" 0 "$WM" list
expect_in "falls back to the checkpoint too" "$id  succeeded    listed" "$OUT"

expect_exit "a resume writes a fresh summary" 0 "$WM" resume --force "$id"
rename_in_summary "$R" again-summary
touch -d '2001-01-01' "$R/checkpoint.json.zst"
expect_exit "a checkpoint changed after the summary" 0 "$WM" list
expect_in "is noticed: the summary is not trusted" "$id  succeeded    listed" "$OUT"

# A live run and then an orphan: progress comes from the journal's last
# record, newer than the summary written at the run's start.
"$WM" run "$W/l.md" >"$T/o.out" 2>&1 &
pid=$!
for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
R=$(run_dir_of "$(cat "$T/o.out")")
id=${R##*/}
rename_in_summary "$R" live-summary
expect_exit "list with a live run" 0 "$WM" list
row() { printf '%-20s  %-11s  %-20s  %9s' "$@"; }
expect_in "a live run's progress comes from its journal" "$(row "$id" running live-summary 5/6)" "$OUT"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
expect_exit "list after the orchestrator died" 0 "$WM" list
expect_in "the orphan is marked from the summary" "$(row "$id" orphaned live-summary 5/6)" "$OUT"
expect_exit "orphans" 0 "$WM" orphans
expect_in "orphans lists it" "$id" "$OUT"
