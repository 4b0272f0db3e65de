#!/usr/bin/env bash
# Webhook triggers of `wm serve --workflows DIR` (front matter `trigger:`):
# a good signature starts a run with the declared params of the body as
# environment variables (extra fields ignored); a bad or missing signature
# is 401, a replayed delivery id 409, an unknown hook 404, a huge body 413;
# each request is audited. Signatures are computed here, independently of
# wm. Only 127.0.0.1.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"

need_serve "webhooks"
D=$T/wf
mkdir -p "$D"
chmod 777 "$D"

cat >"$D/deploy.md" <<'MD'
---
name: deploy
trigger:
  webhook: deploy
  secret_env: HOOK_SECRET
  params: [ref, sha]
---
## record
```sh
printf '%s %s %s\n' "$ref" "$sha" "${extra-unset}" >> "$WM_WORKSPACE/got"
```
MD
export HOOK_SECRET=s3cr3t-k3y
start_serve --workflows "$D"
expect_in "the hook is loaded" "1 webhook" "$(cat "$T/serve.out")"

hmac() {
	/usr/bin/python3 -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}
# post NAME BODYFILE [SIGNATURE] [DELIVERY]: the HTTP status in $CODE.
post() {
	local h=()
	[[ -n ${3-} ]] && h+=(-H "X-Hub-Signature-256: $3")
	[[ -n ${4-} ]] && h+=(-H "X-GitHub-Delivery: $4")
	CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST "${h[@]}" \
		-H 'Content-Type: application/json' --data-binary "@$2" \
		"http://127.0.0.1:$PORT/api/v1/hooks/$1")
}

printf '{"ref":"main","sha":"abc123","extra":"ignored","WM_RUN_ID":"x"}' >"$T/good.json"
sig="sha256=$(hmac s3cr3t-k3y "$T/good.json")"
post deploy "$T/good.json" "$sig" d-001
[[ $CODE == 201 ]] && pass "good signature: 201" || fail "good signature" "$CODE $(cat "$T/resp")"
[[ $(jq -r .run_id "$T/resp") =~ ^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$ ]] && pass "answers the run id" ||
	fail "run id" "$(cat "$T/resp")"
for _ in $(seq 100); do [[ -s $D/got ]] && break; sleep 0.05; done
[[ $(cat "$D/got" 2>/dev/null) == "main abc123 unset" ]] &&
	pass "declared params as environment values, extra fields ignored" || fail "params" "$(cat "$D/got" 2>&1)"
run=$(jq -r .run_id "$T/resp")
expect_in "the run names the hook as its actor" '"actor":"hook:deploy"' "$(cat "$WM_STATE_DIR/runs/$run/audit.jsonl")"

post deploy "$T/good.json" "$sig" d-001
[[ $CODE == 409 ]] && pass "replayed delivery id: 409" || fail "replay" "$CODE"
post deploy "$T/good.json" "sha256=$(hmac wrong-key "$T/good.json")" d-002
[[ $CODE == 401 ]] && pass "bad signature: 401" || fail "bad signature" "$CODE"
post deploy "$T/good.json" "" d-003
[[ $CODE == 401 ]] && pass "no signature: 401" || fail "no signature" "$CODE"
printf '{"ref":"evil","sha":"abc123","extra":"ignored","WM_RUN_ID":"x"}' >"$T/tampered.json"
post deploy "$T/tampered.json" "$sig" d-004
[[ $CODE == 401 ]] && pass "body changed under a signature: 401" || fail "tampered" "$CODE"
post nosuch "$T/good.json" "$sig" d-005
[[ $CODE == 404 ]] && pass "unknown hook: 404" || fail "unknown hook" "$CODE"
head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"ref":"/; s/$/"}/' >"$T/huge.json"
post deploy "$T/huge.json" "sha256=$(hmac s3cr3t-k3y "$T/huge.json")" d-006
[[ $CODE == 413 ]] && pass "huge body: 413" || fail "huge body" "$CODE"
printf 'not json' >"$T/bad.json"
post deploy "$T/bad.json" "sha256=$(hmac s3cr3t-k3y "$T/bad.json")" d-007
[[ $CODE == 400 ]] && pass "a signed body that is not JSON: 400" || fail "not json" "$CODE"
sleep 0.5
[[ $(wc -l <"$D/got") == 1 ]] && pass "only the good request ran" || fail "runs" "$(cat "$D/got")"

log=$WM_STATE_DIR/hooks/audit.jsonl
statuses=$(jq -r '.status' "$log" 2>/dev/null | tr '\n' ' ')
[[ $statuses == "201 409 401 401 401 404 400 " ]] && pass "every request audited" ||
	fail "audit" "$statuses"
[[ $(jq -r 'select(.status == 401) | .outcome' "$log" | head -1) == "missing or bad X-Hub-Signature-256" &&
	$(jq -r '.mac' "$log" | grep -c '^[0-9a-f]\{64\}$') == 7 ]] &&
	pass "with why, each line MAC'd" || fail "audit lines" "$(head -2 "$log")"
check "the key is never written" bash -c "! grep -rq s3cr3t-k3y '$WM_STATE_DIR'"
