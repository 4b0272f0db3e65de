#!/usr/bin/env bash
# wm prune: which runs go (--keep, --older-than), which never go (a live
# run, and without --force the resumable, orphaned and broken ones), what
# --dry-run says and leaves alone, the space freed, and removal that never
# follows a link a task planted. The live run is a real `wm run` of this
# test, stopped by its own pid; nothing else is signalled.
. "$(dirname "$0")/../lib.sh"

need_mkrun "prune"
S=$WM_STATE_DIR
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
day=86400
there() { test -d "$S/runs/$1"; }
gone() { test ! -e "$S/runs/$1"; }

expect_exit "prune needs --keep or --older-than" 2 "$WM" prune
expect_in "and says so" "--keep N, --older-than AGE, or both" "$OUT"
expect_exit "a bad age" 2 "$WM" prune --older-than 7
expect_in "names the units" "age '7' has no unit" "$OUT"
expect_exit "a bad --keep" 2 "$WM" prune --keep -1
expect_exit "nothing to prune in an empty state dir" 0 "$WM" prune --keep 0
expect_in "says so" "nothing to remove (0 runs, 0 kept)" "$OUT"

ok=$("$MKRUN" --tasks 2 --run-state succeeded --name old-ok --ago $((10 * day)))
failed=$("$MKRUN" --tasks 2 --states succeeded,failed --run-state failed --name old-failed --ago $((9 * day)))
intr=$("$MKRUN" --tasks 2 --states succeeded,cancelled --run-state interrupted --name old-intr --ago $((9 * day)))
orphan=$("$MKRUN" --tasks 2 --states succeeded,running --run-state running --name old-orphan --ago $((8 * day)))
recent=$("$MKRUN" --tasks 2 --run-state succeeded --name recent --ago $((2 * day)))
check "five runs made" test -n "$ok" -a -n "$failed" -a -n "$intr" -a -n "$orphan" -a -n "$recent"
# A leftover of a removal cut short.
mkdir -p "$S/runs/.removing-20200101-000000-dead/out/x"

# ---- --dry-run changes nothing ----
du_ok=$(du -sB1 "$S/runs/$ok" | cut -f1)
expect_exit "dry run" 0 "$WM" prune --older-than 7d --dry-run
expect_in "would remove the old successful run" "would remove $ok (old-ok, succeeded): " "$OUT"
expect_in "keeps the failed run" "kept $failed (old-failed, failed): failed, resumable: \`wm resume $failed\`; --force removes it" "$OUT"
expect_in "keeps the interrupted run" "kept $intr (old-intr, interrupted): interrupted, resumable" "$OUT"
expect_in "keeps the orphan" "kept $orphan (old-orphan, orphaned): orphaned: \`wm resume $orphan\` finishes it" "$OUT"
expect_not_in "the recent run is no candidate" "$recent" "$OUT"
expect_in "says what it would free" "would remove 1 run, freeing " "$OUT"
expect_in "and that it is a dry run" "(dry run: nothing was removed)" "$OUT"
check "nothing was removed" there "$ok"
check "not even the leftover" test -d "$S/runs/.removing-20200101-000000-dead"
bytes=$("$WM" prune --older-than 7d --dry-run --json | jq '.removed[0].bytes')
check "--dry-run --json: the space is what du counts" test "$bytes" = "$du_ok"
check "--json says it was a dry run" test "$("$WM" prune --older-than 7d --dry-run --json | jq .dry_run)" = true

# ---- --older-than ----
expect_exit "prune --older-than 7d" 0 "$WM" prune --older-than 7d
expect_in "finishes the leftover first" "finished removing 1 run an earlier prune left half removed" "$OUT"
check "the leftover is gone" test ! -e "$S/runs/.removing-20200101-000000-dead"
expect_in "removed the old successful run" "removed $ok (old-ok, succeeded): " "$OUT"
expect_in "and the space freed" "removed 1 run, freed " "$OUT"
check "its directory is gone" gone "$ok"
check "the failed run is there" there "$failed"
check "the interrupted run is there" there "$intr"
check "the orphan is there" there "$orphan"
check "the recent run is there" there "$recent"
expect_exit "the removed run is unknown now" 2 "$WM" status "$ok"
check "nothing half removed is left" test -z "$(find "$S/runs" -maxdepth 1 -name '.removing-*')"

# ---- --keep ----
new1=$("$MKRUN" --tasks 1 --run-state succeeded --name new1)
sleep 1.1 # run ids sort by their second
new2=$("$MKRUN" --tasks 1 --run-state succeeded --name new2)
expect_exit "prune --keep 1" 0 "$WM" prune --keep 1 --json
J=$OUT
check "keeps the newest run" there "$new2"
check "removes older successful ones" gone "$new1"
check "the 2-day-old successful run too" gone "$recent"
check "--json lists them" test "$(jq -r '.removed[].id' <<<"$J" | sort | xargs)" = "$(printf '%s\n' "$new1" "$recent" | sort | xargs)"
check "--json: the bytes add up" test "$(jq '[.removed[].bytes] | add' <<<"$J")" = "$(jq .freed_bytes <<<"$J")"
check "--json: kept runs with reasons" test "$(jq '.kept | length' <<<"$J")" = 3
expect_exit "--keep and --older-than: a run must be both" 0 "$WM" prune --keep 0 --older-than 1h --force --dry-run
expect_not_in "the new run is not old enough" "$new2" "$OUT"
expect_in "the old failed run is" "would remove $failed" "$OUT"

# ---- a broken run stays without --force ----
made=$("$MKRUN" --tasks 1 --run-state failed --name broken)
broken=20200101-000000-beef # from long ago, as its id says
mv "$S/runs/$made" "$S/runs/$broken"
rm -f "$S/runs/$broken/summary.json" "$S/runs/$broken/checkpoint.json.zst.prev"
echo garbage >"$S/runs/$broken/checkpoint.json.zst"
expect_exit "a broken run" 0 "$WM" prune --keep 0
expect_in "is kept" "kept $broken (-, broken): broken: its state cannot be read; --force removes it" "$OUT"
check "and there" there "$broken"
# A run directory made a moment ago without a state yet: a `wm run` starting.
starting=$(date -u +%Y%m%d-%H%M%S)-abcd
mkdir -p "$S/runs/$starting/logs"
touch "$S/runs/$starting/workflow.md"
expect_exit "a run being created" 0 "$WM" prune --keep 0 --force --dry-run
expect_in "is kept even with --force" "kept $starting (-, broken): created less than a minute ago: it may be starting" "$OUT"
rm -rf "${S:?}/runs/$starting"

# ---- a live run is never removed, not even with --force ----
marker=$((700000 + RANDOM))
cat >"$W/live.md" <<MD
---
name: live
---
## hold
\`\`\`sh
sleep $marker
\`\`\`
MD
still_running() { pgrep -f "sleep $marker" >/dev/null; }
"$WM" run "$W/live.md" >"$T/live.out" 2>&1 &
pid=$!
for _ in $(seq 200); do still_running && break; sleep 0.05; done
live=$(run_dir_of "$(cat "$T/live.out")")
live=${live##*/}
check "the live run started" test -n "$live"
expect_exit "prune --keep 0 --force with a live run" 0 "$WM" prune --keep 0 --force
expect_in "keeps the live run" "kept $live (live, running): live: its orchestrator holds the lock" "$OUT"
check "its directory is there" there "$live"
check "its task still runs" still_running
check "--force removed the others" gone "$failed"
check "the orphan too" gone "$orphan"
check "the broken run too" gone "$broken"
kill -TERM "$pid"
wait "$pid"
check "the live run stopped on its own pid's SIGTERM (exit 130)" test $? = 130
for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
expect_exit "once interrupted" 0 "$WM" prune --keep 0
expect_in "it is resumable, so kept" "kept $live (live, interrupted): interrupted, resumable" "$OUT"
expect_exit "--force" 0 "$WM" prune --keep 0 --force
check "removes it" gone "$live"

# ---- removal follows no link a task planted ----
V=$T/victims
mkdir -p "$V/dir"
echo precious >"$V/file"
echo precious >"$V/dir/inside"
chmod -R a+rwX "$V"
cat >"$W/plant.md" <<MD
---
name: plant
---
## plant
\`\`\`sh
ln -s $V/file "\$WM_OUT/file-link"
ln -s $V/dir "\$WM_OUT/dir-link"
ln -s $V "\$WM_OUT/victims"
mkdir -p "\$WM_OUT/sub"
ln -s $V/dir/inside "\$WM_OUT/sub/inside-link"
# Read-only and unreadable directories (a Go module cache is read-only).
mkdir -p "\$WM_OUT/ro/sub" "\$WM_OUT/locked/in"
touch "\$WM_OUT/ro/sub/f" "\$WM_OUT/locked/in/f"
chmod -R a-w "\$WM_OUT/ro"
chmod 000 "\$WM_OUT/locked"
\`\`\`
MD
# run_prune_planted WHO: a run planting links and read-only directories,
# pruned by WHO (root or nobody).
run_prune_planted() {
	local who=$1 run=() state=$S
	if [[ $who == nobody ]]; then
		run=(as_user)
		state=$WM_STATE_DIR.nobody
	fi
	expect_exit "$who: the planting run" 0 "${run[@]}" "$WM" run "$W/plant.md"
	local R=$state/runs/$(sed -n 's/^run \([0-9]\{8\}-[0-9]\{6\}-[0-9a-f]\{4\}\).*/\1/p' <<<"$OUT" | head -1)
	check "$who: the links are there" test -L "$R/out/plant/file-link" -a -L "$R/out/plant/dir-link"
	check "$who: a read-only directory is there" test "$(stat -c %a "$R/out/plant/ro")" = 555
	check "$who: an unreadable one too" test "$(stat -c %a "$R/out/plant/locked")" = 0
	expect_exit "$who: prune" 0 "${run[@]}" "$WM" prune --keep 0
	check "$who: the run is gone" test ! -e "$R"
	check "$who: the linked file survives" test "$(cat "$V/file")" = precious
	check "$who: the linked directory survives, with its file" test "$(cat "$V/dir/inside")" = precious
	check "$who: nothing else in it went" test "$(ls "$V" | xargs)" = "dir file"
}
run_prune_planted root
if is_root; then
	if userns_ok; then
		run_prune_planted nobody
	else
		skip "prune as nobody" "unprivileged user namespaces are disabled on this host"
	fi
fi
