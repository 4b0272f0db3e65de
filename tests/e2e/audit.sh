#!/usr/bin/env bash
# The audit log across resume and key loss: a damaged log is never
# continued silently (resume refuses; --accept-audit-gap records a
# permanent audit.gap that verify reports forever), a torn last line from a
# crash is still cut quietly, and a lost audit.key is never replaced behind
# the user's back (`wm audit rekey` records the change in every run's log).
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((600000 + RANDOM))
S=$WM_STATE_DIR

cat >"$W/o.md" <<MD
# Orphan
## a
\`\`\`sh
echo a >> "\$WM_WORKSPACE/ran"
\`\`\`

## b
- depends: a

\`\`\`sh
[ -e "\$WM_WORKSPACE/go" ] || sleep $marker
echo b >> "\$WM_WORKSPACE/ran"
\`\`\`
MD

# make_orphan: a run SIGKILLed while b sleeps; prints its id.
make_orphan() {
	rm -f "$W/go"
	"$WM" run "$W/o.md" >"$T/o.out" 2>&1 &
	local pid=$!
	for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
	local dir
	dir=$(run_dir_of "$(cat "$T/o.out")")
	echo "${dir##*/}"
}

# ---- a cut-off tail, then resume ----
id=$(make_orphan)
A=$S/runs/$id/audit.jsonl
n=$(wc -l <"$A")
check "the orphan's log has lines" test "$n" -ge 4
head -n $((n - 2)) "$A" >"$T/cut" && cat "$T/cut" >"$A"
expect_exit "verify sees the cut tail" 1 "$WM" audit verify "$id"
expect_in "verify names it truncated" "truncated" "$OUT"
touch "$W/go"
expect_exit "resume refuses a cut-off log" 3 "$WM" resume "$id"
expect_in "resume says the log is not intact" "audit log" "$OUT"
expect_in "resume names the way out" "--accept-audit-gap" "$OUT"
check "nothing ran on the refused resume" test "$(grep -c b "$W/ran")" = 0
expect_exit "verify still sees the cut (resume did not launder it)" 1 "$WM" audit verify "$id"
expect_exit "resume --accept-audit-gap goes on" 0 "$WM" resume --accept-audit-gap "$id"
expect_in "the gap is announced" "recorded as missing" "$OUT"
check "the gap is an audit event" grep -q '"event":"audit.gap"' "$A"
expect_exit "verify after the gap is not intact" 1 "$WM" audit verify "$id"
expect_in "verify names the gap" "gap: seqs $((n - 1))..$n are missing" "$OUT"
expect_not_in "the gap is not called an edit" "edited" "$OUT"
expect_exit "a second resume changes nothing about that" 0 "$WM" resume "$id"
expect_exit "the gap is reported forever" 1 "$WM" audit verify "$id"
expect_in "still named" "gap: seqs" "$OUT"

# ---- the whole log deleted ----
id=$(make_orphan)
A=$S/runs/$id/audit.jsonl
n=$(wc -l <"$A")
rm "$A"
touch "$W/go"
expect_exit "resume refuses when the log is gone" 3 "$WM" resume "$id"
expect_in "the missing log is named" "missing" "$OUT"
check "no fresh log was started by the refused resume" test ! -e "$A"
expect_exit "resume --accept-audit-gap starts over with a gap" 0 "$WM" resume --accept-audit-gap "$id"
expect_exit "verify of a restarted log is not intact" 1 "$WM" audit verify "$id"
expect_in "verify names the lost seqs" "gap: seqs 1..$n are missing" "$OUT"

# ---- an edited line in the middle ----
id=$(make_orphan)
A=$S/runs/$id/audit.jsonl
sed -i '2s/"event":"task.start"/"event":"task.skip"/' "$A"
touch "$W/go"
expect_exit "resume refuses an edited log" 3 "$WM" resume "$id"
expect_in "the edit is named" "edited" "$OUT"
expect_exit "accepted, the run goes on" 0 "$WM" resume --accept-audit-gap "$id"
check "the damaged lines are kept aside" compgen -G "$A.damaged-2-*" >/dev/null
expect_exit "verify reports the gap" 1 "$WM" audit verify "$id"
expect_in "from the edited seq on" "gap: seqs 2.." "$OUT"

# ---- a torn last line (a crash mid-write) is no gap ----
id=$(make_orphan)
A=$S/runs/$id/audit.jsonl
printf '{"seq":99,"event":"task.en' >>"$A"
touch "$W/go"
expect_exit "a torn last line is cut quietly" 0 "$WM" resume "$id"
expect_exit "and the log verifies intact" 0 "$WM" audit verify "$id"
expect_in "intact" "intact" "$OUT"

# ---- the audit key deleted ----
keep=$(make_orphan)
done_run=$(ls "$S/runs" | head -1)
mv "$S/audit.key" "$T/lost.key"
expect_exit "wm run refuses to replace a lost key silently" 2 "$WM" run "$W/o.md"
expect_in "the refusal names wm audit rekey" "wm audit rekey" "$OUT"
check "no key was made behind the user's back" test ! -e "$S/audit.key"
expect_exit "verify without the key is exit 2" 2 "$WM" audit verify "$done_run"
expect_exit "wm audit rekey" 0 "$WM" audit rekey
expect_in "rekey says what it did" "recorded in" "$OUT"
mode=$(stat -c %a "$S/audit.key")
check "the new key is 0600" test "$mode" = 600
expect_exit "an old run's log: not intact" 1 "$WM" audit verify "$done_run"
expect_in "verify says the key changed" "key changed at seq" "$OUT"
expect_not_in "verify does not call it edited" "edited" "$OUT"
touch "$W/go"
expect_exit "an orphan resumes after the rekey" 0 "$WM" resume "$keep"
expect_exit "its log says key changed, not edited" 1 "$WM" audit verify "$keep"
expect_in "key change named" "key changed at seq" "$OUT"
expect_not_in "no edit reported" "edited" "$OUT"
expect_exit "a new run works with the new key" 0 "$WM" run "$W/o.md"
new=$(run_dir_of "$OUT")
expect_exit "and verifies intact" 0 "$WM" audit verify "${new##*/}"

# ---- rekey while a run is live: its orchestrator records the change ----
rm -f "$W/go"
"$WM" run "$W/o.md" >"$T/live.out" 2>&1 &
pid=$!
for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
live=$(run_dir_of "$(cat "$T/live.out")")
live=${live##*/}
expect_exit "rekey with a live run" 0 "$WM" audit rekey
expect_in "the live run is left to its orchestrator" "run $live is live" "$OUT"
pkill -f "sleep $marker" # b fails: the run ends, its audit lines after the rekey
wait "$pid"
check "the live run ended" test "$(checkpoint "$S/runs/$live" | jq -r .state)" = failed
check "its orchestrator recorded the key change" grep -q '"event":"audit.rekey"' "$S/runs/$live/audit.jsonl"
expect_exit "its log: key changed, not intact" 1 "$WM" audit verify "$live"
expect_in "the change is named" "key changed at seq" "$OUT"
expect_not_in "nothing is called edited" "edited" "$OUT"
