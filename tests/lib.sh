# Shared helpers for end-to-end, attack and crash tests. Source it:
#     . "$(dirname "$0")/../lib.sh"
# Report with pass/fail/skip; every check must be able to fail.
# $WM is the wm binary under test. Each test script gets a private scratch
# directory $T (world-readable so unprivileged runs can use it) and a
# private state directory, removed on exit.

set -u
: "${WM:?set WM to the wm binary}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
# Fixtures shared between projects, when a checkout has them beside it; the
# tests use their own copies in tests/data and skip these when absent.
FIXTURES=$(cd "$REPO_DIR/../shared/fixtures" 2>/dev/null && pwd || echo "$REPO_DIR/../shared/fixtures")
T=$(mktemp -d /tmp/wm-test.XXXXXX)
chmod 1777 "$T" # like /tmp: unprivileged runs create their own state there
export WM_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; }
skip() { echo "SKIP: $1${2:+: $2}"; }

# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_exit NAME CODE CMD...: runs CMD (stdout+stderr into $OUT), compares its status.
expect_exit() {
	local name=$1 want=$2 got
	shift 2
	OUT=$("$@" 2>&1)
	got=$?
	if [[ $got == "$want" ]]; then
		pass "$name"
	else
		fail "$name" "exit $got, wanted $want; output: $(head -c 600 <<<"$OUT")"
	fi
}

# expect_in NAME NEEDLE HAYSTACK: passes when HAYSTACK contains NEEDLE.
expect_in() {
	if [[ $3 == *"$2"* ]]; then
		pass "$1"
	else
		fail "$1" "'$2' not in: $(head -c 600 <<<"$3")"
	fi
}

expect_not_in() {
	if [[ $3 != *"$2"* ]]; then
		pass "$1"
	else
		fail "$1" "'$2' unexpectedly in: $(head -c 600 <<<"$3")"
	fi
}

is_root() { [[ $(id -u) == 0 ]]; }

# as_user CMD...: runs CMD as nobody (when root), the way users run wm rootless.
as_user() {
	if is_root; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
			env WM_STATE_DIR="$WM_STATE_DIR.nobody" PATH=/usr/local/bin:/usr/bin:/bin "$@"
	else
		"$@"
	fi
}

# run_as USER CMD...: CMD as nobody (USER nobody, see as_user) or as we are.
run_as() {
	local u=$1
	shift
	if [[ $u == nobody ]]; then as_user "$@"; else "$@"; fi
}

# Can an unprivileged user create user namespaces here?
userns_ok() {
	as_user unshare --user --map-root-user true 2>/dev/null
}

# need_mkrun WHAT: sets $MKRUN to the test-only run maker (tests/tools/mkrun),
# or reports WHAT as skipped and ends the script when it is not built.
need_mkrun() {
	MKRUN=$(dirname "$WM")/tests/mkrun
	if [[ ! -x $MKRUN ]]; then
		skip "$1" "build/tests/mkrun not built (make unit or make e2e builds it)"
		exit 0
	fi
}

# checkpoint RUN_DIR: the decompressed checkpoint JSON, as users read it.
checkpoint() { zstdcat "$1/checkpoint.json.zst"; }

# task_field RUN_DIR TASK FIELD: one field of one task in the checkpoint.
task_field() { checkpoint "$1" | jq -r --arg t "$2" --arg f "$3" '.tasks[$t][$f]'; }

# run_dir_of OUTPUT: the run directory of the "run ID" line a run printed.
run_dir_of() {
	local id
	id=$(sed -n 's/^run \([0-9]\{8\}-[0-9]\{6\}-[0-9a-f]\{4\}\).*/\1/p' <<<"$1" | head -1)
	[[ -n $id ]] && echo "$WM_STATE_DIR/runs/$id"
}

# no_process MARKER: true when no process has MARKER in its command line.
no_process() { ! pgrep -f -- "$1" >/dev/null; }

# start_host_targets: what attacks must not reach, on the host side: a TCP
# server on loopback ($PORT) and a process ($HOSTPID). Both end with the test.
start_host_targets() {
	python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()
' >"$T/port" &
	HOST_SERVER=$!
	sleep 1000 &
	HOSTPID=$!
	trap 'kill $HOST_SERVER $HOSTPID 2>/dev/null; rm -rf "$T"' EXIT
	for _ in $(seq 50); do [[ -s $T/port ]] && break; sleep 0.1; done
	PORT=$(cat "$T/port")
}

# probe_workspace MODE: sets $WS to a fresh workspace (chmod MODE) holding
# the attack program build/tests/probe; fails the script if it is not built.
probe_workspace() {
	local probe
	probe=$(dirname "$WM")/tests/probe
	if [[ ! -x $probe ]]; then
		fail "probe built" "$probe missing (make builds it)"
		exit 0
	fi
	WS=$T/ws
	mkdir -p "$WS"
	chmod "$1" "$WS"
	cp "$probe" "$WS/probe"
	chmod a+rx "$WS/probe"
}
