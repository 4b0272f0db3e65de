#!/usr/bin/env bash
# wm serve: API keys, every route of the REST API and its error codes, event
# streams resumed with Last-Event-ID, runs started, cancelled and resumed
# over HTTP with the key's name in their audit log; as root and as nobody.
# The server listens on 127.0.0.1 only, on a port the kernel picks.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../serve_lib.sh"

need_serve "serve"
WF=$T/workflows
mkdir -p "$WF"
chmod 755 "$WF"
cat >"$WF/hello.md" <<'EOF'
---
name: hello
---
## greet
```sh
echo "hello $WHO" > "$WM_OUT/greeting"
echo greeted
```

## after
- depends: greet
```sh
cat "$WM_IN/greet/greeting"
```
EOF
cat >"$WF/slow.md" <<'EOF'
## wait
```sh
sleep 30
```
EOF
printf '## broken\n- depends: nowhere\n```sh\ntrue\n```\n' >"$WF/broken.md"
cat >"$WF/ticker.md" <<'EOF'
## tick
```sh
for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.4; done
```
EOF
chmod 644 "$WF"/*.md

# ---- API keys ----
expect_exit "token create refuses a missing role" 2 "$WM" serve token create
RUNKEY=$("$WM" serve token create --role run --name alice 2>"$T/err")
check "token create prints one wmk_ token" grep -qxE 'wmk_[0-9a-f]{64}' <<<"$RUNKEY"
READKEY=$("$WM" serve token create --role read --name reader 2>/dev/null)
GONEKEY=$("$WM" serve token create --role run --name gone 2>/dev/null)
expect_exit "token create refuses a name in use" 2 "$WM" serve token create --role read --name alice
expect_exit "token create refuses a bad name" 2 "$WM" serve token create --role read --name ../x
check "tokens.json is 0600" test "$(stat -c %a "$WM_STATE_DIR/serve/tokens.json")" = 600
check "token.key is 0600" test "$(stat -c %a "$WM_STATE_DIR/serve/token.key")" = 600
check "the serve directory is 0700" test "$(stat -c %a "$WM_STATE_DIR/serve")" = 700
check "no token is stored in clear" bash -c "! grep -rqF '${RUNKEY#wmk_}' '$WM_STATE_DIR/serve'"
OUT=$("$WM" serve token list)
expect_in "token list names the keys" "alice" "$OUT"
expect_not_in "token list never shows a token" "${RUNKEY:4:20}" "$OUT"
OUT=$("$WM" serve token list --json)
check "token list --json has no hash" bash -c "jq -e 'all(.[]; has(\"hash\") | not) and length == 3' <<<'$OUT' >/dev/null"
expect_exit "token revoke" 0 "$WM" serve token revoke gone
expect_exit "token revoke of an unknown key" 2 "$WM" serve token revoke gone

# ---- bad options ----
expect_exit "--no-auth-read refused off loopback" 2 "$WM" serve --listen 0.0.0.0:0 --no-auth-read
expect_exit "--listen wants a numeric address" 2 "$WM" serve --listen localhost:80
expect_exit "--listen wants a port" 2 "$WM" serve --listen 127.0.0.1
expect_exit "--workflows must exist" 2 "$WM" serve --listen 127.0.0.1:0 --workflows "$T/nowhere"
expect_exit "unknown option" 2 "$WM" serve --bogus

start_serve --workflows "$WF"
RK=(-H "Authorization: Bearer $RUNKEY")
RD=(-H "Authorization: Bearer $READKEY")

# ---- auth ----
api GET /api/v1/runs
check "no key: 401" test "$CODE" = 401
check "401 says how to authenticate" grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
check "errors are JSON with a field" jqt '.error and .field == "Authorization"' "$T/body"
api GET /api/v1/runs -H "Authorization: Bearer wmk_$(printf '0%.0s' {1..64})"
check "wrong key: 401" test "$CODE" = 401
api GET /api/v1/runs -H "Authorization: Bearer $GONEKEY"
check "revoked key: 401" test "$CODE" = 401
api GET /api/v1/runs "${RD[@]}"
check "read key: 200" test "$CODE" = 200
check "no CORS header without --cors" bash -c "! grep -qi '^Access-Control' '$T/headers'"
api OPTIONS /api/v1/runs "${RD[@]}"
check "no preflight without --cors: 405" test "$CODE" = 405
api POST /api/v1/runs "${RD[@]}" -d '{"workflow":"hello.md"}'
check "read key on a POST: 403" test "$CODE" = 403

# ---- POST /runs really runs the workflow ----
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"hello.md","env":{"WHO":"web"}}'
check "POST /runs: 201" test "$CODE" = 201
ID=$(jq -r .run_id "$T/body")
check "POST /runs gives the run id" grep -qE '^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$' <<<"$ID"
wait_run "$ID"
RUN=$WM_STATE_DIR/runs/$ID
check "the run wrote its output" grep -qx "hello web" "$RUN/out/greet/greeting"
check "run.start names the key" jqs 'map(select(.event == "run.start"))[0].actor == "api:alice"' "$RUN/audit.jsonl"

# ---- reads ----
api GET "/api/v1/runs?state=succeeded&limit=5" "${RD[@]}"
check "GET /runs filters by state" jqt --arg id "$ID" '.runs[0].id == $id and .total == 1' "$T/body"
api GET "/api/v1/runs?state=failed" "${RD[@]}"
check "GET /runs: a state with no run" jqt '.runs == [] and .total == 0' "$T/body"
api GET "/api/v1/runs?name=nomatch*" "${RD[@]}"
check "GET /runs filters by name" jqt '.total == 0' "$T/body"
api GET "/api/v1/runs?since=1h&offset=1" "${RD[@]}"
check "GET /runs pages" jqt '.runs == [] and .total == 1 and .offset == 1' "$T/body"
api GET "/api/v1/runs?state=bogus" "${RD[@]}"
check "bad state: 400 naming the field" jqt '.field == "state"' "$T/body"
check "bad state: 400" test "$CODE" = 400
api GET "/api/v1/runs?limit=abc" "${RD[@]}"
check "bad limit: 400 naming the field" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"limit\"' '$T/body' >/dev/null"
api GET "/api/v1/runs?since=tomorrowish" "${RD[@]}"
check "bad since: 400" test "$CODE" = 400
api GET "/api/v1/runs/$ID" "${RD[@]}"
check "GET /runs/{id} is wm status --json" bash -c "[[ $CODE == 200 ]] && diff <(jq -S 'del(.state_shown)' '$T/body') <('$WM' status '$ID' --json | jq -S .)"
api GET "/api/v1/runs/$ID/tasks/greet" "${RD[@]}"
check "GET a task" jqt '.id == "greet" and .state == "succeeded"' "$T/body"
api GET "/api/v1/runs/$ID/tasks/nosuch" "${RD[@]}"
check "unknown task: 404" test "$CODE" = 404
api GET "/api/v1/runs/20990101-000000-abcd" "${RD[@]}"
check "unknown run: 404" test "$CODE" = 404
api GET "/api/v1/runs/not-a-run" "${RD[@]}"
check "bad run id: 400" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"id\"' '$T/body' >/dev/null"
api GET "/api/v1/runs/$ID/logs/greet" "${RD[@]}"
check "GET a log" bash -c "[[ $CODE == 200 ]] && grep -q greeted '$T/body'"
api GET "/api/v1/runs/$ID/logs/greet" "${RD[@]}" -H "Range: bytes=0-3"
check "a log's byte range: 206" bash -c "[[ $CODE == 206 ]] && [[ \$(wc -c <'$T/body') == 4 ]] && grep -qi '^Content-Range: bytes 0-3/' '$T/headers'"
api GET "/api/v1/runs/$ID/logs/greet" "${RD[@]}" -H "Range: bytes=99999-"
check "an unsatisfiable range: 416" test "$CODE" = 416
api GET "/api/v1/runs/$ID/audit?event=task.end" "${RD[@]}"
check "GET audit filters by event" jqt '(.records | length) == 2 and all(.records[]; .event == "task.end")' "$T/body"
api GET "/api/v1/runs/$ID/audit/verify" "${RD[@]}"
check "audit verify: intact" jqt '.intact == true' "$T/body"
api GET "/api/v1/runs/$ID/stats" "${RD[@]}"
check "GET run stats" jqt '.critical_path == ["greet", "after"]' "$T/body"
api GET "/api/v1/stats" "${RD[@]}"
check "GET history stats" jqt 'any(.tasks[]; .task == "greet" and .runs == 1)' "$T/body"
api GET "/api/v1/policies" "${RD[@]}"
check "GET policies" jqt 'any(.policies[]; .name == "standard")' "$T/body"
api GET "/api/v1/policies/paranoid" "${RD[@]}"
check "GET one policy" jqt '.name == "paranoid" and (.yaml | length) > 0' "$T/body"
api GET "/api/v1/policies/nosuch" "${RD[@]}"
check "unknown policy: 404" test "$CODE" = 404
api GET "/api/v1/policies/diff?a=standard&b=paranoid" "${RD[@]}"
check "policy diff" jqt '.differ == true and (.diff | length) > 0' "$T/body"
api GET "/api/v1/policies/diff?a=standard" "${RD[@]}"
check "policy diff without b: 400" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"b\"' '$T/body' >/dev/null"
api GET "/api/v1/workflows" "${RD[@]}"
check "GET workflows" jqt '[.workflows[].name] == ["broken.md", "hello.md", "slow.md", "ticker.md"]' "$T/body"
api GET "/api/v1/workflows/hello.md/plan" "${RD[@]}"
check "GET a plan" jqt '.format == "wm-plan" and .order == ["greet", "after"]' "$T/body"
api GET "/api/v1/workflows/broken.md/plan" "${RD[@]}"
check "a broken workflow's plan: 422 with diagnostics" bash -c "[[ $CODE == 422 ]] && jq -e '.diagnostics | length > 0' '$T/body' >/dev/null"
api GET "/api/v1/openapi.json"
check "openapi.json without a key" jqt '.openapi | startswith("3.")' "$T/body"
api GET "/docs"
check "the /docs page" bash -c "[[ $CODE == 200 ]] && grep -q '/api/v1/runs/{id}/events' '$T/body'"

# Every route the router has (the /docs table is made from it) is in the
# OpenAPI document, and the document has no route the router lacks.
check "OpenAPI lists exactly the router's routes" python3 - "$T/body" "$REPO_DIR/orchestrator/serve/openapi.json" <<'EOF'
import json, re, sys
docs = open(sys.argv[1]).read()
rows = set(re.findall(r"<tr><td>(GET|POST)</td><td><code>([^<]+)</code>", docs))
api = json.load(open(sys.argv[2]))
ops = {(m.upper(), p) for p, item in api["paths"].items() for m in item}
sys.exit(0 if rows and rows == ops else f"router {sorted(rows - ops)} openapi {sorted(ops - rows)}")
EOF

# ---- errors ----
api GET "/api/v1/nothing" "${RD[@]}"
check "unknown route: 404 JSON" bash -c "[[ $CODE == 404 ]] && jq -e .error '$T/body' >/dev/null"
api DELETE "/api/v1/runs" "${RK[@]}"
check "wrong method: 405 with Allow" bash -c "[[ $CODE == 405 ]] && grep -qi '^Allow: GET, HEAD, POST' '$T/headers'"
api POST "/api/v1/runs/$ID" "${RK[@]}" -d '{}'
check "POST on a GET route: 405" test "$CODE" = 405
head -c 70000 /dev/zero | tr '\0' x >"$T/big"
api POST /api/v1/runs "${RK[@]}" --data-binary @"$T/big"
check "body over the limit: 413" test "$CODE" = 413
api POST /api/v1/runs "${RK[@]}" -d '{"workflow": '
check "bad JSON: 400 naming the body" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"body\"' '$T/body' >/dev/null"
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"hello.md","color":"red"}'
check "unknown field: 400 naming it" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"color\"' '$T/body' >/dev/null"
api POST /api/v1/runs "${RK[@]}" -d '{"env":{}}'
check "no workflow: 400" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"workflow\"' '$T/body' >/dev/null"
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"hello.md","env":{"1BAD":"x"}}'
check "bad env name: 400" bash -c "[[ $CODE == 400 ]] && jq -e '.field == \"env\"' '$T/body' >/dev/null"
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"nosuch.md"}'
check "unknown workflow: 404" test "$CODE" = 404

# ---- corrupt and vanished runs ----
BAD=$("$WM" run --detach "$WF/hello.md" 2>/dev/null)
wait_run "$BAD"
printf 'garbage' >"$WM_STATE_DIR/runs/$BAD/checkpoint.json.zst"
printf 'garbage' >"$WM_STATE_DIR/runs/$BAD/checkpoint.json.zst.prev"
rm -f "$WM_STATE_DIR/runs/$BAD"/journal* "$WM_STATE_DIR/runs/$BAD/summary.json"
api GET "/api/v1/runs/$BAD" "${RD[@]}"
check "a corrupt checkpoint: 500 with a message" bash -c "[[ $CODE == 500 ]] && jq -e '.error | contains(\"$BAD\")' '$T/body' >/dev/null"
rm -rf "${WM_STATE_DIR:?}/runs/$BAD"
api GET "/api/v1/runs" "${RD[@]}"
check "a run removed under the server" bash -c "[[ $CODE == 200 ]] && jq -e '.total == 1' '$T/body' >/dev/null"

# ---- event streams ----
sse "$T/ev1" "/api/v1/runs/$ID/events" "${RD[@]}"
check "a run's stream replays its records" grep -qx "id: $ID/1" "$T/ev1"
N=$(grep -c '^id: ' "$T/ev1")
sse "$T/ev2" "/api/v1/runs/$ID/events" "${RD[@]}" -H "Last-Event-ID: $ID/3"
check "Last-Event-ID resumes right after it" bash -c "[[ \$(grep '^id: ' '$T/ev2' | head -1) == 'id: $ID/4' ]] && [[ \$(grep -c '^id: ' '$T/ev2') == $((N - 3)) ]]"
api GET "/api/v1/runs/$ID/events" "${RD[@]}" -H "Last-Event-ID: nonsense"
check "a bad Last-Event-ID: 400" test "$CODE" = 400
sse_start "$T/live" "/api/v1/events?access_token=$READKEY"
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"hello.md"}'
ID2=$(jq -r .run_id "$T/body")
wait_run "$ID2"
wait_for 50 grep -q "\"event\":\"run.end\".*\"run\":\"$ID2\"" "$T/live"
check "GET /events streams a new run live" grep -q "^id: $ID2/1\$" "$T/live"
LAST=$(grep '^id: ' "$T/live" | sed -n 2p | cut -c5-)
sse_stop
sse "$T/again" "/api/v1/events" "${RD[@]}" -H "Last-Event-ID: $LAST"
check "GET /events resumes after Last-Event-ID" bash -c "diff <(grep '^id: ' '$T/live' | sed -n '3,\$p') <(grep '^id: ' '$T/again')"

# ---- cancel and resume ----
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"slow.md"}'
SLOW=$(jq -r .run_id "$T/body")
wait_for 100 grep -q '"event":"task.start"' "$WM_STATE_DIR/runs/$SLOW/audit.jsonl"
api GET "/api/v1/runs/$SLOW/tasks/wait" "${RD[@]}"
check "a live run's task is running" jqt '.state == "running"' "$T/body"
api POST "/api/v1/runs/$SLOW/cancel" "${RD[@]}"
check "cancel with a read key: 403" test "$CODE" = 403
api POST "/api/v1/runs/$SLOW/cancel" "${RK[@]}"
check "cancel: 200" test "$CODE" = 200
check "the run is cancelled" bash -c "'$WM' status '$SLOW' --json | jq -e '.state == \"interrupted\" or .state == \"cancelled\"' >/dev/null"
api GET "/api/v1/runs/$SLOW/tasks/wait" "${RD[@]}"
check "the API shows the task's new state, not a stale one" jqt '.state != "running"' "$T/body"
api GET "/api/v1/runs/$SLOW" "${RD[@]}"
check "the API shows the run's new state" jqt '.live == false and .state != "running"' "$T/body"
check "run.interrupt names the key" jqs 'any(.[]; .event == "run.interrupt" and .actor == "api:alice")' "$WM_STATE_DIR/runs/$SLOW/audit.jsonl"
api POST "/api/v1/runs/$SLOW/resume" "${RK[@]}"
check "resume: 202" test "$CODE" = 202
wait_for 100 grep -q '"event":"run.resume"' "$WM_STATE_DIR/runs/$SLOW/audit.jsonl"
check "run.resume names the key" jqs 'any(.[]; .event == "run.resume" and .actor == "api:alice")' "$WM_STATE_DIR/runs/$SLOW/audit.jsonl"
api POST "/api/v1/runs/$SLOW/resume" "${RK[@]}"
check "resuming a live run: 409" test "$CODE" = 409
"$WM" cancel "$SLOW" >/dev/null 2>&1
check "the server is still up" kill -0 "$SPID"
stop_serve
check "the server stops on SIGTERM" grep -q 'stopping after' "$T/serve.out"
check "and exits 0" test "$SERVE_RC" = 0
check "key use is recorded" bash -c "'$WM' serve token list --json | jq -e 'any(.[]; .name == \"alice\" and .last_used != null)' >/dev/null"

# ---- followed logs, heartbeats, bounded streams, no fd left behind ----
start_serve --workflows "$WF" --heartbeat 1 --max-streams 2
fds() { find "/proc/$SPID/fd" -mindepth 1 | wc -l; }
fds_back() { (($(fds) <= FDS)); }
FDS=$(fds)
api POST /api/v1/runs "${RK[@]}" -d '{"workflow":"ticker.md"}'
TICK=$(jq -r .run_id "$T/body")
wait_for 50 test -s "$WM_STATE_DIR/runs/$TICK/logs/tick.log"
curl -s -N --max-time 4 "http://127.0.0.1:$PORT/api/v1/runs/$TICK/logs/tick?follow=1&access_token=$READKEY" >"$T/follow"
check "?follow=1 streams the log as it grows" grep -qx "tick 6" "$T/follow"
check "a followed log starts at its start" grep -qx "tick 1" "$T/follow"
sse "$T/beat" /api/v1/events "${RD[@]}"
check "heartbeats on an idle stream" grep -qx ': ping' "$T/beat"
check "a stream whose client left is let go" wait_for 30 fds_back
sse_start "$T/s1" /api/v1/events "${RD[@]}"
S1=$SSE_PID
sse_start "$T/s2" /api/v1/events "${RD[@]}"
api GET /api/v1/events "${RD[@]}" --max-time 2
check "streams over --max-streams: 503" test "$CODE" = 503
kill "$S1" "$SSE_PID" 2>/dev/null
wait "$S1" "$SSE_PID" 2>/dev/null
for _ in 1 2 3 4 5; do
	curl -s -N --max-time 0.3 "http://127.0.0.1:$PORT/api/v1/runs/$TICK/logs/tick?follow=1" "${RD[@]}" >/dev/null
	curl -s -N --max-time 0.3 "http://127.0.0.1:$PORT/api/v1/events" "${RD[@]}" >/dev/null
done
check "clients that left release their descriptors" wait_for 30 fds_back
api GET /api/v1/events "${RD[@]}" --max-time 0.5
check "their stream slots are free again" test "$CODE" = 200
stop_serve

# ---- rate limit, CORS, --no-auth-read ----
start_serve --rate 1 --burst 2 --cors https://dash.example --no-auth-read
# A new server has no memory of the events sent: it replays by time.
sse "$T/restarted" /api/v1/events -H "Last-Event-ID: $ID/3"
check "after a restart, Last-Event-ID goes on after that record" \
	bash -c "grep -qx 'id: $ID/4' '$T/restarted' && ! grep -qx 'id: $ID/3' '$T/restarted'"
check "after a restart, later runs' records follow" grep -qx "id: $ID2/1" "$T/restarted"
api GET /api/v1/runs
check "--no-auth-read: reads without a key" test "$CODE" = 200
check "--cors: the origin is allowed" grep -qi '^Access-Control-Allow-Origin: https://dash.example' "$T/headers"
api OPTIONS /api/v1/runs -H "Origin: https://dash.example" -H "Access-Control-Request-Method: POST"
check "--cors: a preflight is answered" bash -c "[[ $CODE == 204 ]] && grep -qi '^Access-Control-Allow-Methods: GET, HEAD, POST' '$T/headers'"
api GET /api/v1/runs
api GET /api/v1/runs
check "over the rate: 429" test "$CODE" = 429
check "429 says when to retry" grep -qiE '^Retry-After: [0-9]+' "$T/headers"
api POST /api/v1/runs -d '{"workflow":"hello.md"}'
check "--no-auth-read: POST still needs a key" test "$CODE" = 401
stop_serve

# ---- as nobody ----
if is_root; then
	NS=$WM_STATE_DIR.nobody
	NKEY=$(as_user "$WM" serve token create --role run 2>/dev/null)
	check "nobody makes a key" grep -qE '^wmk_' <<<"$NKEY"
	check "nobody's tokens.json is theirs, 0600" test "$(stat -c '%U %a' "$NS/serve/tokens.json")" = "nobody 600"
	SERVE_AS_NOBODY=1 start_serve --workflows "$WF"
	api GET /api/v1/runs -H "Authorization: Bearer $NKEY"
	check "nobody's server answers" test "$CODE" = 200
	if userns_ok; then
		api POST /api/v1/runs -H "Authorization: Bearer $NKEY" -d '{"workflow":"hello.md","env":{"WHO":"nobody"}}'
		NID=$(jq -r .run_id "$T/body")
		WM_STATE_DIR=$NS wait_run "$NID"
		check "nobody's server runs a workflow" grep -qx "hello nobody" "$NS/runs/$NID/out/greet/greeting"
	else
		skip "nobody's server runs a workflow" "no user namespaces for nobody"
	fi
	stop_serve
	check "nobody's server ends cleanly on SIGTERM" test "$SERVE_RC" = 0
else
	skip "wm serve as nobody" "needs root to become nobody"
fi
