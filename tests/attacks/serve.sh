#!/usr/bin/env bash
# Hostile requests to wm serve: names and ids that try to leave their
# directory (.., encoded '/', encoded NUL, absolute names, symbolic links in
# the workflows directory pointing outside it, a link planted where a log
# should be), ids too long, tokens where they are not taken, bodies that
# are not what they claim. None may read or run anything outside what the
# API exposes, and the server must answer each with a 4xx and stay up.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"

need_serve "serve attacks"
WF=$T/workflows
mkdir -p "$WF" "$T/outside"
printf '## ok\n```sh\ntrue\n```\n' >"$WF/ok.md"
printf '## escaped\n```sh\ntouch %s/escaped\n```\n' "$T" >"$T/outside/evil.md"
ln -s "$T/outside/evil.md" "$WF/evil.md"
ln -s ../outside/evil.md "$WF/rel.md"
ln -s /etc/passwd "$WF/passwd.md"
mkdir -p "$WF/sub"
printf '## sub\n```sh\ntrue\n```\n' >"$WF/sub/deep.md"
KEY=$("$WM" serve token create --role run --name mallory 2>/dev/null)
A=(-H "Authorization: Bearer $KEY")
RUN=$("$WM" run --detach "$WF/ok.md" 2>/dev/null)
start_serve --workflows "$WF"

# expect_status NAME CODE METHOD PATH [CURL ARGS]...
expect_status() {
	local name=$1 want=$2
	shift 2
	api "$@"
	if [[ $CODE == "$want" ]] && jq -e .error "$T/body" >/dev/null 2>&1; then
		pass "$name"
	else
		fail "$name" "HTTP $CODE, wanted $want: $(head -c 300 "$T/body")"
	fi
}

expect_status "encoded '/' in a workflow name" 400 GET "/api/v1/workflows/..%2f..%2fetc%2fpasswd/plan" "${A[@]}"
expect_status "encoded '/' (upper case)" 400 GET "/api/v1/workflows/..%2Foutside%2Fevil.md/plan" "${A[@]}"
expect_status "'..' as a workflow name" 400 GET "/api/v1/workflows/../plan" "${A[@]}"
expect_status "a link leaving the workflows dir: plan" 404 GET "/api/v1/workflows/evil.md/plan" "${A[@]}"
expect_status "a relative link leaving it: plan" 404 GET "/api/v1/workflows/rel.md/plan" "${A[@]}"
expect_status "a link to /etc/passwd: plan" 404 GET "/api/v1/workflows/passwd.md/plan" "${A[@]}"
expect_status "a link leaving it: run" 404 POST /api/v1/runs "${A[@]}" -d '{"workflow":"evil.md"}'
expect_status "an absolute workflow path" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"/etc/passwd"}'
expect_status "a workflow in a subdirectory" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"sub/deep.md"}'
expect_status "a workflow name with ../" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"../outside/evil.md"}'
expect_status "a workflow name with a NUL" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"ok.md\u0000x"}'
expect_status "a directory as a workflow" 404 POST /api/v1/runs "${A[@]}" -d '{"workflow":"sub"}'
sleep 0.5
check "nothing outside the workflows dir ran" test ! -e "$T/escaped"
api GET /api/v1/workflows "${A[@]}"
check "links and directories are not listed" jq -e '[.workflows[].name] == ["ok.md"]' "$T/body"

expect_status "encoded NUL in a run id" 400 GET "/api/v1/runs/${RUN}%00x" "${A[@]}"
expect_status "encoded NUL in a query" 400 GET "/api/v1/runs?state=failed%00" "${A[@]}"
expect_status "'..' as a run id" 400 GET "/api/v1/runs/../tasks/x" "${A[@]}"
expect_status "a run id that is a prefix" 400 GET "/api/v1/runs/${RUN:0:8}" "${A[@]}"
expect_status "a long run id" 400 GET "/api/v1/runs/$(printf 'a%.0s' {1..300})" "${A[@]}"
expect_status "a long task id" 400 GET "/api/v1/runs/$RUN/tasks/$(printf 'a%.0s' {1..300})" "${A[@]}"
expect_status "a target over 4 KiB" 414 GET "/api/v1/runs?name=$(printf 'a%.0s' {1..5000})" "${A[@]}"
expect_status "'..' as a task of logs" 400 GET "/api/v1/runs/$RUN/logs/.." "${A[@]}"
expect_status "an encoded path as a task of logs" 400 GET "/api/v1/runs/$RUN/logs/..%2F..%2Faudit.key" "${A[@]}"
expect_status "a hidden name as a task" 400 GET "/api/v1/runs/$RUN/logs/.hidden" "${A[@]}"
expect_status "too many query parameters" 400 GET "/api/v1/runs?$(printf 'a=1&%.0s' {1..40})" "${A[@]}"
expect_status "a malformed escape" 400 GET "/api/v1/runs/%zz" "${A[@]}"

# A link planted where a task's log would be is never followed.
ln -s "$WM_STATE_DIR/audit.key" "$WM_STATE_DIR/runs/$RUN/logs/planted.log"
api GET "/api/v1/runs/$RUN/logs/planted" "${A[@]}"
check "a planted log link is refused" test "$CODE" != 200
check "the key behind it is not sent" bash -c "! cmp -s '$T/body' '$WM_STATE_DIR/audit.key'"

expect_status "a token in the query of a non-stream route" 401 GET "/api/v1/runs?access_token=$KEY"
# The key with its last character changed (to another one, whatever it was).
last=${KEY: -1}
[[ $last == 0 ]] && other=1 || other=0
expect_status "a token that is almost right" 401 GET /api/v1/runs -H "Authorization: Bearer ${KEY%?}$other"
expect_status "a Basic authorization" 401 GET /api/v1/runs -H "Authorization: Basic $(printf 'a:b' | base64)"
expect_status "duplicate keys in a body" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"ok.md","workflow":"evil.md"}'
expect_status "a body that is an array" 400 POST /api/v1/runs "${A[@]}" -d '["ok.md"]'
expect_status "env that is not an object" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"ok.md","env":"X=1"}'
expect_status "a policy name with a path" 400 POST /api/v1/runs "${A[@]}" -d '{"workflow":"ok.md","policy":"../x"}'
api GET "/../../../etc/passwd"
check "a traversal outside /api gets no file" bash -c "[[ $CODE == 404 || $CODE == 400 ]] && ! grep -q 'root:' '$T/body'"

# A client that goes away mid-stream, many times, leaves the server up.
for _ in 1 2 3 4 5; do
	curl -s -N --max-time 0.3 "http://127.0.0.1:$PORT/api/v1/events" "${A[@]}" >/dev/null
done
api GET /api/v1/runs "${A[@]}"
check "the server survives clients leaving mid-stream" test "$CODE" = 200
check "the server is still up" kill -0 "$SPID"
stop_serve
