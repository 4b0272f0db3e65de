# Helpers for the tests of `wm serve` (tests/e2e/serve*.sh, tests/attacks/serve.sh,
# tools/bench/serve-load). Source after lib.sh. The server listens on
# 127.0.0.1 only, on a port the kernel picks (--listen 127.0.0.1:0), which
# start_serve reads from its first line.

# need_serve WHAT: ends the script with WHAT skipped when wm-serve or curl is missing.
need_serve() {
	if [[ ! -x $(dirname "$WM")/wm-serve ]]; then
		skip "$1" "wm-serve is not built beside $WM"
		exit 0
	fi
	if ! command -v curl >/dev/null; then
		skip "$1" "curl is not installed"
		exit 0
	fi
}

# wait_for N CMD...: runs CMD every 0.1 s until it succeeds, at most N times.
wait_for() {
	local n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_serve ARGS...: starts `wm serve --listen 127.0.0.1:0 ARGS...` (as
# nobody, with nobody's state directory as as_user gives it, when
# SERVE_AS_NOBODY=1 and root); sets SPID and PORT. One simple command, so
# that SPID is the server itself (wm execs wm-serve), never a subshell.
start_serve() {
	: >"$T/serve.out" # emptied here, before the server's own redirection races the wait
	if [[ ${SERVE_AS_NOBODY:-} == 1 ]] && is_root; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
			env WM_STATE_DIR="$WM_STATE_DIR.nobody" PATH=/usr/local/bin:/usr/bin:/bin \
			"$WM" serve --listen 127.0.0.1:0 "$@" >"$T/serve.out" 2>&1 &
	else
		"$WM" serve --listen 127.0.0.1:0 "$@" >"$T/serve.out" 2>&1 &
	fi
	SPID=$!
	trap 'kill $SPID 2>/dev/null; rm -rf "$T"' EXIT
	if ! wait_for 100 grep -q 'listening on' "$T/serve.out"; then
		fail "wm serve starts" "$(cat "$T/serve.out")"
		exit 1
	fi
	PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/serve.out")
}

stop_serve() {
	kill "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SERVE_RC=$?
	return 0
}

# api METHOD PATH [CURL ARGS]...: one request; CODE, $T/body, $T/headers.
api() {
	local method=$1 path=$2
	shift 2
	CODE=$(curl -s --path-as-is -o "$T/body" -D "$T/headers" -w '%{http_code}' \
		-X "$method" "http://127.0.0.1:$PORT$path" "$@")
}

# sse FILE PATH [CURL ARGS]...: what an event stream sends in its first 1.5 s.
sse() {
	local file=$1 path=$2
	shift 2
	curl -s -N --max-time 1.5 "http://127.0.0.1:$PORT$path" "$@" >"$file"
}

# sse_start FILE PATH [CURL ARGS]...: follows a stream into FILE until sse_stop.
sse_start() {
	local file=$1 path=$2
	shift 2
	curl -s -N "http://127.0.0.1:$PORT$path" "$@" >"$file" &
	SSE_PID=$!
	wait_for 50 grep -q '^retry:' "$file"
}

sse_stop() {
	kill "$SSE_PID" 2>/dev/null
	wait "$SSE_PID" 2>/dev/null
}

# wait_run ID: until run ID (in $WM_STATE_DIR) has ended, at most 30 s.
run_ended() {
	"$WM" status "$1" --json 2>/dev/null |
		jq -e '(.live | not) and (.state != "pending") and (.state != "running")' >/dev/null
}
wait_run() { wait_for 300 run_ended "$1"; }

# jqt FILTER FILE: jq -e, quietly. jqs: the same over the lines of a JSON Lines file.
jqt() { jq -e "$@" >/dev/null; }
jqs() { jq -se "$@" >/dev/null; }
