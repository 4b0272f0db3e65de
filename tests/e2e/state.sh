#!/usr/bin/env bash
# State commands end to end: list, orphans, status, audit show/verify,
# export, exit codes, over runs made by the test-only tests/tools/mkrun.
. "$(dirname "$0")/../lib.sh"

need_mkrun "state e2e"
S=$WM_STATE_DIR

expect_exit "list with no runs exits 0" 0 "$WM" list
expect_exit "status with no runs is exit 2" 2 "$WM" status
expect_exit "status of an unknown run is exit 2" 2 "$WM" status 19990101
expect_in "unknown run is named" "19990101" "$OUT"

done_id=$("$MKRUN" --tasks 3 --run-state succeeded --name finished)
expect_exit "status of a finished run" 0 "$WM" status "$done_id"
expect_in "status shows the state" "succeeded" "$OUT"
expect_in "status counts tasks" "3 succeeded" "$OUT"
fmt=$(zstdcat "$S/runs/$done_id/checkpoint.json.zst" | jq -r .format)
check "zstdcat checkpoint | jq .format is wm-checkpoint" test "$fmt" = wm-checkpoint
ver=$(zstdcat "$S/runs/$done_id/checkpoint.json.zst" | jq -r .version)
check "checkpoint has a version" test "$ver" = 1
ntasks=$("$WM" status --json "$done_id" | jq '.tasks | length')
check "status --json has every task" test "$ntasks" = 3
jstate=$("$WM" status --json "$done_id" | jq -r '.tasks.t3.state')
check "status --json applies the journal (t3 only in the journal)" test "$jstate" = succeeded

orphan_id=$("$MKRUN" --tasks 4 --states succeeded,running --run-state running --name orphan)
expect_exit "list" 0 "$WM" list
expect_in "list marks the orphan" "$orphan_id  orphaned" "$OUT"
expect_in "list shows done/total" "2/4" "$OUT"
expect_exit "orphans" 0 "$WM" orphans
expect_in "orphans lists it" "$orphan_id" "$OUT"
expect_not_in "orphans skips finished runs" "$done_id" "$OUT"
expect_exit "status of an orphan" 0 "$WM" status "${orphan_id:0:18}"
expect_in "status says the orchestrator died" "died (lock free)" "$OUT"
expect_in "status says how to resume" "wm resume $orphan_id" "$OUT"
n=$("$WM" orphans --json | jq 'length')
check "orphans --json is an array of one" test "$n" = 1
o=$("$WM" list --json | jq -r ".[] | select(.id == \"$orphan_id\") | .orphaned")
check "list --json marks orphaned" test "$o" = true

boot_id=$("$MKRUN" --tasks 1 --states running --boot-id 00000000-0000-0000-0000-000000000000)
expect_exit "status of a run from an earlier boot" 0 "$WM" status "$boot_id"
expect_in "status names the earlier boot" "earlier boot" "$OUT"

# A live orchestrator: the lock is held, so it is no orphan.
"$MKRUN" --tasks 2 --states running --hold 60 >"$T/live.id" &
live_pid=$!
for _ in $(seq 50); do [[ -s $T/live.id ]] && break; sleep 0.1; done
live_id=$(cat "$T/live.id")
expect_exit "list with a live run" 0 "$WM" list
expect_in "a live run is running" "$live_id  running" "$OUT"
"$WM" orphans >"$T/orph.txt"
expect_not_in "a live run is no orphan" "$live_id" "$(cat "$T/orph.txt")"
kill -KILL "$live_pid"
wait "$live_pid" 2>/dev/null
expect_exit "list after the holder died" 0 "$WM" list
expect_in "its run is now orphaned" "$live_id  orphaned" "$OUT"

expect_exit "ambiguous prefix is exit 2" 2 "$WM" status 2
expect_in "ambiguous prefix lists candidates" "ambiguous" "$OUT"

# Audit log.
expect_exit "audit show" 0 "$WM" audit show "$done_id"
expect_in "audit show has a table" "task.start" "$OUT"
expect_exit "audit show --task" 0 "$WM" audit show "$done_id" --task t2
expect_not_in "audit show --task filters" " t1 " "$OUT"
lines=$("$WM" audit show "$done_id" --event task.end --json | jq -r .event | sort -u)
check "audit show --event --json" test "$lines" = task.end
lines=$("$WM" audit show "$done_id" --since 2999-01-01 --json | wc -l)
check "audit show --since filters" test "$lines" = 0
expect_exit "audit show --since bad time is exit 2" 2 "$WM" audit show "$done_id" --since soon
expect_in "a bad time names the forms" "30m, 2h, 3d, 1w, today or yesterday" "$OUT"
all=$("$WM" audit show "$done_id" --json | wc -l)
lines=$("$WM" audit show "$done_id" --since 1h --json | wc -l)
check "audit show --since 1h: the run is from the last hour" test "$lines" -gt 0 -a "$lines" = "$all"
lines=$("$WM" audit show "$done_id" --since yesterday --json | wc -l)
check "audit show --since yesterday" test "$lines" = "$all"
lines=$("$WM" audit show "$done_id" --since now --json | wc -l)
check "audit show --since now: nothing yet" test "$lines" = 0
expect_exit "audit verify intact" 0 "$WM" audit verify "$done_id"
expect_in "audit verify says intact" "intact" "$OUT"

A=$S/runs/$done_id/audit.jsonl
cp "$A" "$T/audit.orig"
sed -i '3s/"exit":0/"exit":1/' "$A"
expect_exit "edited audit line is exit 1" 1 "$WM" audit verify "$done_id"
expect_in "edited line named by seq" "first bad seq 3 (edited)" "$OUT"
cp "$T/audit.orig" "$A"
sed -i '4d' "$A"
expect_exit "removed audit line is exit 1" 1 "$WM" audit verify "$done_id"
expect_in "removed line named" "first bad seq 4 (removed)" "$OUT"
cp "$T/audit.orig" "$A"
head -n -2 "$T/audit.orig" >"$A"
expect_exit "cut-off audit tail is exit 1" 1 "$WM" audit verify "$done_id"
expect_in "cut-off tail detected through the checkpoint" "truncated" "$OUT"
cp "$T/audit.orig" "$A"
mv "$S/audit.key" "$T/key"
expect_exit "missing audit key is exit 2" 2 "$WM" audit verify "$done_id"
expect_in "missing key named" "audit.key" "$OUT"
mv "$T/key" "$S/audit.key"
mv "$A" "$T/audit.moved"
expect_exit "missing audit log is exit 2" 2 "$WM" audit verify "$done_id"
mv "$T/audit.moved" "$A"
expect_exit "restored audit log verifies" 0 "$WM" audit verify "$done_id"

# Export.
expect_exit "export" 0 "$WM" export "$done_id" -o "$T/run.tar.zst"
listing=$(zstdcat "$T/run.tar.zst" | tar -tf - 2>&1)
expect_in "export has the workflow" "$done_id/workflow.md" "$listing"
expect_in "export has the checkpoint" "$done_id/checkpoint.json.zst" "$listing"
expect_in "export has the journal" "$done_id/journal.jsonl" "$listing"
expect_in "export has the audit log" "$done_id/audit.jsonl" "$listing"
expect_in "export has logs/" "$done_id/logs/" "$listing"
expect_in "export has out/" "$done_id/out/" "$listing"
expect_exit "export without -o is exit 2" 2 "$WM" export "$done_id"
expect_exit "export of an unknown run is exit 2" 2 "$WM" export 1999 -o "$T/x.tar.zst"
# The bundle is zstd whatever the name: a name saying otherwise is refused.
for name in x.tar.gz x.tgz bundle; do
	expect_exit "export -o $name is refused" 2 "$WM" export "$done_id" -o "$T/$name"
	check "export -o $name writes nothing" test ! -e "$T/$name"
done
expect_in "export: the hint names the right file" "name the file $T/bundle.tar.zst" "$OUT"
expect_exit "export -o x.tar.gz" 2 "$WM" export "$done_id" -o "$T/x.tar.gz"
expect_in "export: .tar.gz becomes .tar.zst" "zstd-compressed tar: name the file $T/x.tar.zst, not $T/x.tar.gz" "$OUT"

# A corrupt checkpoint falls back to the previous generation, loudly.
C=$S/runs/$orphan_id/checkpoint.json.zst
printf '\x00garbage' | dd of="$C" bs=1 seek=20 conv=notrunc status=none
expect_exit "corrupt checkpoint: status uses the previous one" 0 "$WM" status "$orphan_id"
expect_in "the fallback is reported" "using the previous checkpoint" "$OUT"
expect_in "the previous state is shown" "orphaned" "$OUT"
# Without a previous generation: clear error, no crash.
rm "$C.prev"
expect_exit "corrupt checkpoint is an error, not a crash" 1 "$WM" status "$orphan_id"
expect_in "corrupt checkpoint explained" "checkpoint" "$OUT"
expect_exit "list survives a broken run" 0 "$WM" list
expect_in "list marks the broken run" "$orphan_id  broken" "$OUT"

# Rootless: the same as an unprivileged user with its own state dir.
if is_root; then
	if as_user test -x "$MKRUN"; then
		# $T belongs to root: give nobody a directory to make its state dir in.
		mkdir -p "$T/nobody" && chown nobody "$T/nobody"
		export WM_STATE_DIR_ROOT=$WM_STATE_DIR
		WM_STATE_DIR=$T/nobody/state
		uid=$(as_user "$MKRUN" --tasks 2 --run-state succeeded)
		check "as nobody: mkrun made a run" test -n "$uid"
		expect_exit "as nobody: list" 0 as_user "$WM" list
		expect_in "as nobody: the run is listed" "$uid" "$OUT"
		expect_exit "as nobody: audit verify" 0 as_user "$WM" audit verify
		mode=$(stat -c %a "$WM_STATE_DIR.nobody/audit.key")
		check "as nobody: audit.key is 0600" test "$mode" = 600
		owner=$(stat -c %U "$WM_STATE_DIR.nobody/runs/$uid/checkpoint.json.zst")
		check "as nobody: the run belongs to nobody" test "$owner" = nobody
		WM_STATE_DIR=$WM_STATE_DIR_ROOT
	else
		skip "as nobody" "nobody cannot execute $MKRUN"
	fi
fi

# Crashes in the middle of writes (test-only fault injection).
new_run() { comm -13 <(sort <<<"$1") <(ls "$S/runs" | sort); }
before=$(ls "$S/runs")
WM_TEST_CRASH_AT=journal:2 "$MKRUN" --tasks 3 --journal 2 --name torn >/dev/null 2>&1
rc=$?
check "crash injected in the 2nd journal append kills the writer" test "$rc" = 137
torn_id=$(new_run "$before")
expect_exit "status after a torn journal line" 0 "$WM" status "$torn_id"
expect_in "the torn record is reported" "torn last record skipped" "$OUT"
expect_in "the run is an orphan" "orphaned" "$OUT"
before=$(ls "$S/runs")
WM_TEST_CRASH_AT=checkpoint:1 "$MKRUN" --tasks 1 --name nock >/dev/null 2>&1
rc=$?
check "crash injected in the first checkpoint kills the writer" test "$rc" = 137
nock_id=$(new_run "$before")
check "no half-written checkpoint under the real name" test ! -e "$S/runs/$nock_id/checkpoint.json.zst"
expect_exit "status of a run without a checkpoint is an error" 1 "$WM" status "$nock_id"
expect_in "missing checkpoint explained" "no checkpoint" "$OUT"
