#!/usr/bin/env bash
# The task cache under SIGKILL: the orchestrator killed while it stores an
# entry (inside the store through the test-only WM_TEST_CRASH_AT hook, and
# after varied delays while a big output is copied) never leaves an entry
# that a later run trusts: the later run either reuses a complete, verified
# entry or runs the task, its output is always the true one, and the
# temporary directory a killed store left is removed.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
C=$WM_STATE_DIR/cache

# big writes 24 MiB of a known pattern; small a few bytes; use reads both.
cat >"$W/w.md" <<'MD'
---
cache: true
---
## small
```sh
echo small >> "$WM_WORKSPACE/ran"
echo tiny > "$WM_OUT/s"
```

## big
```sh
echo big >> "$WM_WORKSPACE/ran"
yes 0123456789abcdef | head -c 25165824 > "$WM_OUT/blob"
```

## use
- depends: big, small

```sh
echo use >> "$WM_WORKSPACE/ran"
cksum < "$WM_IN/big/blob" > "$WM_OUT/sum"
cat "$WM_IN/small/s" >> "$WM_OUT/sum"
```
MD
want="$(yes 0123456789abcdef | head -c 25165824 | cksum)
tiny"

# After a kill: no temporary directory is trusted, a later run is right
# and cleans up.
after_kill() {
	local name=$1 run
	: >"$W/ran"
	expect_exit "$name: a later run succeeds" 0 "$WM" run -j1 "$W/w.md"
	run=$(run_dir_of "$OUT")
	check "$name: the result is the true one" test "$(cat "$run/out/use/sum")" = "$want"
	check "$name: no temporary directory is left" \
		test -z "$(find "$C" -maxdepth 1 -name '.tmp.*')"
	for m in "$C"/*/manifest.json; do
		[[ -e $m ]] || continue
		local d
		d=$(dirname "$m")
		# Every file an entry lists is there with its recorded size.
		jq -r '.files[] | select(.type=="f") | "\(.path) \(.size)"' "$m" |
			while read -r p s; do
				[[ $(stat -c %s "$d/files/$p") == "$s" ]] || echo "bad $d $p"
			done >>"$T/bad"
	done
	check "$name: every entry left is whole" test ! -s "$T/bad"
	rm -f "$T/bad"
}

for n in 1 2 3 4 5 6; do
	rm -rf "$C"
	: >"$W/ran"
	WM_TEST_CRASH_AT=cache:$n "$WM" run -j1 "$W/w.md" >"$T/out" 2>&1
	rc=$?
	check "kill inside store point $n: the orchestrator died" test "$rc" = 137
	if ((n % 2)); then
		check "kill inside store point $n: a temporary directory is left" \
			test -n "$(find "$C" -maxdepth 1 -name '.tmp.*')"
	fi
	after_kill "kill inside store point $n"
done

# Killed after varied delays while the big output is stored.
for delay in 0.05 0.15 0.3 0.5; do
	rm -rf "$C"
	: >"$W/ran"
	"$WM" run -j1 "$W/w.md" >"$T/out" 2>&1 &
	pid=$!
	for _ in $(seq 400); do grep -q big "$W/ran" 2>/dev/null && break; sleep 0.02; done
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	after_kill "killed ${delay}s into big"
done

# The last run stored everything: the next one reuses it all.
: >"$W/ran"
expect_exit "a run after the kills" 0 "$WM" run "$W/w.md"
check "everything is reused" test ! -s "$W/ran"
