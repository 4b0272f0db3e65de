#!/usr/bin/env bash
# Recoverable state is recovered, lost state is reported: both checkpoints
# deleted -> resume rebuilds from the journals and keeps what succeeded;
# journal.jsonl deleted -> a loud warning naming the task ends the audit
# log saw; a flipped bit in a record -> a checksum warning, never a
# different state.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
marker=$((700000 + RANDOM))
S=$WM_STATE_DIR

{
	echo "# Chain"
	prev=
	for i in 1 2 3 4 5; do
		echo "## t$i"
		[[ -n $prev ]] && echo "- depends: $prev"
		echo
		echo '```sh'
		echo 'echo "$WM_TASK_ID" >> "$WM_WORKSPACE/ran"'
		echo '```'
		prev=t$i
	done
	echo "## last"
	echo "- depends: t5"
	echo
	echo '```sh'
	echo "[ -e \"\$WM_WORKSPACE/go\" ] || sleep $marker"
	echo 'echo last >> "$WM_WORKSPACE/ran"'
	echo '```'
} >"$W/chain.md"

make_orphan() {
	rm -f "$W/go" "$W/ran"
	"$WM" run "$W/chain.md" >"$T/o.out" 2>&1 &
	local pid=$!
	for _ in $(seq 200); do pgrep -f "sleep $marker" >/dev/null && break; sleep 0.05; done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	for _ in $(seq 100); do no_process "sleep $marker" && break; sleep 0.05; done
	local dir
	dir=$(run_dir_of "$(cat "$T/o.out")")
	echo "${dir##*/}"
}

# ---- both checkpoints deleted: rebuilt from the journals ----
id=$(make_orphan)
R=$S/runs/$id
check "five tasks ran before the kill" test "$(wc -l <"$W/ran")" = 5
rm -f "$R/checkpoint.json.zst" "$R/checkpoint.json.zst.prev"
expect_exit "status without checkpoints" 0 "$WM" status "$id"
expect_in "status says the state was rebuilt" "rebuilt from its journals" "$OUT"
touch "$W/go"
expect_exit "resume without checkpoints" 0 "$WM" resume "$id"
expect_in "resume says so too" "rebuilt from its journals" "$OUT"
check "succeeded tasks were kept, only 'last' ran again" test "$(tr '\n' ' ' <"$W/ran")" = "t1 t2 t3 t4 t5 last "
check "the run finished" test "$(checkpoint "$R" | jq -r .state)" = succeeded

# ---- journal.jsonl deleted: loud, with the audit log's evidence ----
id=$(make_orphan)
R=$S/runs/$id
rm -f "$R/journal.jsonl"
expect_exit "status with the journal gone" 0 "$WM" status "$id"
expect_in "the missing journal is named" "journal.jsonl\` is missing" "$OUT"
expect_in "the lost task ends are named from the audit log" "t1, t2, t3, t4, t5" "$OUT"
touch "$W/go"
expect_exit "resume with the journal gone" 0 "$WM" resume "$id"
expect_in "resume warns before rerunning" "will run again" "$OUT"

# ---- one flipped bit in a journal record ----
id=$(make_orphan)
R=$S/runs/$id
# The third record's attempts 1 -> 3: valid JSON, a different state.
python3 - "$R/journal.jsonl" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, 'rb').read().split(b'\n')
i = lines[2].index(b'"attempts":1')
b = bytearray(lines[2]); b[i + len(b'"attempts":')] ^= 0x02; lines[2] = bytes(b)
open(p, 'wb').write(b'\n'.join(lines))
PY
expect_exit "status with a flipped bit" 0 "$WM" status "$id"
expect_in "the flip is caught by the checksum" "checksum mismatch" "$OUT"
expect_not_in "no attempt count of 3 is believed" "attempts 3" "$OUT"
