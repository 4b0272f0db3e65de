#!/usr/bin/env bash
# Notifications (front matter `notify:`): webhooks sent by build/wm-notify to
# a receiver on 127.0.0.1 made here (tests/tools/receiver.py), their bodies,
# HMAC signatures (recomputed here), retries after 500s, the audit log, no
# secret written anywhere, no delivery once `notify` is removed, a command
# target in its sandbox, and a notification due at SIGKILL sent after
# `wm resume`. As root and as nobody.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
RECEIVER=$REPO_DIR/tests/tools/receiver.py
if [[ ! -x $(dirname "$WM")/wm-notify ]]; then
	skip "notify" "build/wm-notify not built (make builds it)"
	exit 0
fi
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$T"' EXIT

# receiver NAME [FAILS]: starts one; $PORT, and $T/NAME.log gets the requests.
receiver() {
	rm -f "$T/$1.port"
	"$PY" "$RECEIVER" "$T/$1.port" "$T/$1.log" --fail "${2:-0}" &
	PIDS+=($!)
	for _ in $(seq 100); do [[ -s $T/$1.port ]] && break; sleep 0.05; done
	PORT=$(cat "$T/$1.port")
	touch "$T/$1.log"
	chmod 666 "$T/$1.log"
}

# wait_lines FILE N: until FILE has N lines (10 s at most).
wait_lines() {
	for _ in $(seq 200); do
		(($(wc -l <"$1") >= $2)) && return 0
		sleep 0.05
	done
	return 1
}

# wait_audit RUN EVENT N [STATE_DIR]: until the run's audit log has N EVENT lines.
wait_audit() {
	local f=${4:-$WM_STATE_DIR}/runs/$1/audit.jsonl
	for _ in $(seq 200); do
		(($(grep -c "\"event\":\"$2\"" "$f" 2>/dev/null) >= $3)) && return 0
		sleep 0.05
	done
	return 1
}

# hmac KEY TEXT: hex HMAC-SHA-256, computed independently of wm.
hmac() {
	"$PY" -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$1" "$2"
}

receiver hooks 2
cat >"$W/fail.md" <<MD
---
name: failing
notify:
  - on: [task.failed, run.failed]
    webhook: http://127.0.0.1:$PORT/hook?token=abc
    secret_env: HOOK_KEY
    timeout: 2s
    retries: 3
---
## broken
\`\`\`sh
exit 3
\`\`\`
MD

# ---- a failing run: two notifications, the first after two 500s ----
OUT=$(HOOK_KEY=k3y-s3cret "$WM" run "$W/fail.md" 2>&1)
rc=$?
[[ $rc == 1 ]] && pass "the run fails as its task does" || fail "run" "exit $rc: $OUT"
[[ $OUT != *wm-notify* && $OUT != *hook* ]] && pass "the run says nothing of the delivery" ||
	fail "run output" "$OUT"
id=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
wait_lines "$T/hooks.log" 4 && pass "4 requests: 2 refused, 2 accepted" ||
	fail "requests" "$(cat "$T/hooks.log")"
first=$(jq -s -c '[.[] | select(.headers["x-wm-event"] == "task.failed")]' "$T/hooks.log")
[[ $(jq length <<<"$first") == 3 && $(jq -r '[.[].status] | join(",")' <<<"$first") == 500,500,200 ]] &&
	pass "task.failed retried after each 500 until accepted" || fail "retries" "$first"
[[ $(jq -r '[.[].headers["x-wm-delivery"]] | unique | length' <<<"$first") == 1 ]] &&
	pass "one delivery id across retries" || fail "delivery id" "$first"
body=$(jq -r '.[2].body' <<<"$first")
[[ $(jq -r .event <<<"$body") == task.failed && $(jq -r .task <<<"$body") == broken &&
	$(jq -r .run <<<"$body") == "$id" && $(jq -r .workflow <<<"$body") == failing ]] &&
	pass "the body names event, task, run and workflow" || fail "body" "$body"
expect_in "the body says why" "exited with status 3" "$body"
sig=$(jq -r '.[2].headers["x-wm-signature-256"]' <<<"$first")
[[ $sig == "sha256=$(hmac k3y-s3cret "$body")" ]] && pass "X-Wm-Signature-256 is the body's HMAC" ||
	fail "signature" "$sig"
[[ $sig != "sha256=$(hmac other-key "$body")" ]] && pass "and not under another key" ||
	fail "signature under another key"
run_end=$(jq -s -r '[.[] | select(.headers["x-wm-event"] == "run.failed")][0].body' "$T/hooks.log")
[[ $(jq -r .event <<<"$run_end") == run.failed && $(jq -r .task <<<"$run_end") == null ]] &&
	pass "run.failed sent once the run ended" || fail "run.failed" "$run_end"
[[ $(jq -s -r '.[0].headers["content-type"]' "$T/hooks.log") == application/json ]] &&
	pass "JSON content type" || fail "content type"

# The outcomes reach the audit log, which stays intact.
wait_audit "$id" notify.delivered 2 && pass "both deliveries audited" ||
	fail "audit" "$(grep notify "$WM_STATE_DIR/runs/$id/audit.jsonl")"
line=$(grep '"notified":"task.failed"' "$WM_STATE_DIR/runs/$id/audit.jsonl")
[[ $(jq -r .attempts <<<"$line") == 3 && $(jq -r .detail <<<"$line") == "HTTP 200" &&
	$(jq -r .target <<<"$line") == "http://127.0.0.1:$PORT" && $(jq -r .task <<<"$line") == broken ]] &&
	pass "audited with attempts, outcome and the URL's origin only" || fail "audit line" "$line"
expect_exit "audit verify after the deliverer's lines" 0 "$WM" audit verify "$id"
# The key is in nobody's file: state, queue, logs, export.
check "no secret in the state directory" bash -c "! grep -rq k3y-s3cret '$WM_STATE_DIR'"
expect_exit "export" 0 "$WM" export "$id" -o "$T/run.tar.zst"
check "no secret in the export" bash -c "! zstdcat '$T/run.tar.zst' | grep -aq k3y-s3cret"
check "the token in the URL is not audited" bash -c "! grep -q token=abc '$WM_STATE_DIR/runs/$id/audit.jsonl'"

# ---- a key that is not set: not sent, and said so ----
n0=$(wc -l <"$T/hooks.log")
OUT=$(env -u HOOK_KEY "$WM" run "$W/fail.md" 2>&1)
id2=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
wait_audit "$id2" notify.failed 2 && pass "unset secret_env: notify.failed audited" ||
	fail "unset key" "$(grep notify "$WM_STATE_DIR/runs/$id2/audit.jsonl" 2>&1)"
expect_in "saying why" "HOOK_KEY is not set" "$(grep notify.failed "$WM_STATE_DIR/runs/$id2/audit.jsonl")"
[[ $(wc -l <"$T/hooks.log") == "$n0" ]] && pass "and nothing unsigned was sent" || fail "sent unsigned"

# ---- notify removed: nothing is sent ----
sed -i '/^notify:/,/^---/{/^---/!d}' "$W/fail.md"
n0=$(wc -l <"$T/hooks.log")
"$WM" run "$W/fail.md" >/dev/null 2>&1
sleep 1.5
[[ $(wc -l <"$T/hooks.log") == "$n0" ]] && pass "no delivery after notify is removed" ||
	fail "delivered without notify" "$(tail -1 "$T/hooks.log")"

# ---- a command target, in its sandbox, the event on stdin ----
cat >"$W/cmd.md" <<MD
---
notify:
  - on: [run.succeeded]
    command: [/bin/sh, -c, 'cat > $T/cmd.json']
    policy: minimal
---
## ok
\`\`\`sh
true
\`\`\`
MD
OUT=$("$WM" run "$W/cmd.md" 2>&1)
id3=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
wait_audit "$id3" notify.delivered 1 && pass "command target ran" ||
	fail "command" "$(cat "$WM_STATE_DIR/runs/$id3/notify.log" 2>&1)"
[[ $(jq -r .event "$T/cmd.json" 2>/dev/null) == run.succeeded ]] &&
	pass "the event JSON on its stdin" || fail "command stdin" "$(cat "$T/cmd.json" 2>&1)"
expect_in "audited as the command" '"target":"/bin/sh"' "$(grep notify.delivered "$WM_STATE_DIR/runs/$id3/audit.jsonl")"

# ---- due at SIGKILL, sent after resume ----
receiver crash 0
cat >"$W/crash.md" <<MD
---
keep_going: true
notify:
  - on: [task.failed]
    webhook: http://127.0.0.1:$PORT/crash
---
## broken
\`\`\`sh
exit 1
\`\`\`

## slow
\`\`\`sh
sleep 0.3
\`\`\`
MD
OUT=$(WM_TEST_CRASH_AT=notify:1 "$WM" run "$W/crash.md" 2>&1)
rc=$?
[[ $rc == 137 ]] && pass "killed right after queueing a notification" || fail "crash point" "exit $rc: $OUT"
id4=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
sleep 0.5
[[ ! -s $T/crash.log ]] && pass "nothing sent before the resume" || fail "sent before resume"
grep -q '"kind":"due"' "$WM_STATE_DIR/runs/$id4/notify.jsonl" && pass "the notification is in the queue" ||
	fail "queue" "$(cat "$WM_STATE_DIR/runs/$id4/notify.jsonl" 2>&1)"
"$WM" resume "$id4" >/dev/null 2>&1
wait_lines "$T/crash.log" 1 && pass "sent after wm resume" || fail "after resume" "$(cat "$WM_STATE_DIR/runs/$id4/notify.log" 2>&1)"
[[ $(jq -r .body "$T/crash.log" | head -1 | jq -r .run) == "$id4" ]] && pass "the crashed run's notification" ||
	fail "crash body" "$(cat "$T/crash.log")"
wait_audit "$id4" notify.delivered 1 && pass "its delivery audited" || fail "crash audit"

# ---- as nobody ----
if is_root; then
	receiver nobody 1
	sed "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/; /^## broken/,\$d" "$W/crash.md" >"$W/nobody.md"
	printf '## broken\n```sh\nexit 1\n```\n' >>"$W/nobody.md"
	sed -i 's/^    webhook: \(.*\)$/    webhook: \1\n    secret_env: NB_KEY/' "$W/nobody.md"
	chmod 644 "$W/nobody.md"
	OUT=$(as_user env NB_KEY=nb-key "$WM" run "$W/nobody.md" 2>&1)
	wait_lines "$T/nobody.log" 2 && pass "as nobody: sent, retried after a 500" ||
		fail "as nobody" "$OUT $(cat "$T/nobody.log")"
	body=$(tail -1 "$T/nobody.log" | jq -r .body)
	sig=$(tail -1 "$T/nobody.log" | jq -r '.headers["x-wm-signature-256"]')
	[[ $sig == "sha256=$(hmac nb-key "$body")" ]] && pass "as nobody: signed" || fail "nobody signature" "$sig"
	id5=$(jq -r .run <<<"$body")
	wait_audit "$id5" notify.delivered 1 "$WM_STATE_DIR.nobody" && pass "as nobody: audited" ||
		fail "nobody audit"
	[[ $(stat -c %U "$WM_STATE_DIR.nobody/runs/$id5/notify.jsonl") == nobody &&
		$(stat -c %a "$WM_STATE_DIR.nobody/runs/$id5/notify.jsonl") == 600 ]] &&
		pass "as nobody: the queue is nobody's, 0600" || fail "nobody queue mode"
fi
