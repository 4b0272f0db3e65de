#!/usr/bin/env bash
# The compiled-filter cache: a cached filter steers every later sandbox of
# its policy, so an entry is used only when it is our private file and its
# MAC (under a subkey of the audit key) verifies. Edited, swapped,
# group-writable and linked entries are rejected, recompiled and reported;
# no task, minimal's included, can even see the cache.
. "$(dirname "$0")/../lib.sh"

export XDG_CACHE_HOME=$T/cache
C=$XDG_CACHE_HOME/wm/seccomp
mkdir -p "$T/ws"

expect_exit "a first sandbox compiles and caches standard's filter" 0 "$WM" sandbox -- true
entry=$(ls "$C"/*.bpf 2>/dev/null | head -1)
check "the entry exists" test -f "$entry"
check "the cache directory is private" test "$(stat -c %a "$C")" = 700
check "the entry is private" test "$(stat -c %a "$entry")" = 600
expect_exit "the cached filter is used silently" 0 "$WM" sandbox -- true
expect_not_in "no warning for a good entry" "rejected" "$OUT"

# One byte changed: the MAC no longer verifies.
cp "$entry" "$T/good"
printf '\x01' | dd of="$entry" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_exit "an edited entry still gives a working sandbox" 0 "$WM" sandbox -- true
expect_in "an edited entry is rejected" "its MAC does not verify; recompiled" "$OUT"
check "the entry was rewritten" cmp -s "$entry" "$T/good"

# Another policy's genuine entry under standard's name: the MAC covers the name.
"$WM" sandbox --policy paranoid -- true >/dev/null 2>&1
other=$(ls "$C"/*.bpf | grep -v "$(basename "$entry")" | head -1)
cp "$other" "$entry"
expect_exit "a swapped entry still gives a working sandbox" 0 "$WM" sandbox -- true
expect_in "a swapped entry is rejected" "its MAC does not verify" "$OUT"

chmod 660 "$entry"
expect_exit "a group-writable entry gives a working sandbox" 0 "$WM" sandbox -- true
expect_in "a group-writable entry is rejected" "not a private regular file of ours" "$OUT"

cp "$T/good" "$T/elsewhere" && rm -f "$entry" && ln -s "$T/elsewhere" "$entry"
expect_exit "a linked entry gives a working sandbox" 0 "$WM" sandbox -- true
expect_in "a linked entry is rejected" "cannot be opened as a plain file" "$OUT"
check "the link is replaced, its target untouched" cmp -s "$T/elsewhere" "$T/good"

# wm run records a rejection in the audit log.
printf '\x01' | dd of="$entry" bs=1 seek=200 conv=notrunc 2>/dev/null
printf '## t\n\n```sh\ntrue\n```\n' >"$T/ws/w.md"
expect_exit "a run with an edited entry succeeds" 0 "$WM" run "$T/ws/w.md"
run=$(run_dir_of "$OUT")
check "the rejection is in the audit log" grep -q '"event":"seccomp.cache.rejected"' "$run/audit.jsonl"

# No task sees the cache, whatever its policy.
for p in minimal standard; do
	expect_exit "the cache is invisible under $p" 0 "$WM" sandbox --policy "$p" --workspace "$T/ws" -- \
		sh -c "test -z \"\$(ls -A '$C' 2>/dev/null)\" && ! touch '$C/planted' 2>/dev/null"
done
check "nothing was planted in the cache" test ! -e "$C/planted"
