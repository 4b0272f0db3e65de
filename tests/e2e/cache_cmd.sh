#!/usr/bin/env bash
# wm cache ls|show|rm|prune, and the cache's size cap (config
# cache.max_size): least recently used entries go first.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W" "$T/cfg/wm"
chmod 777 "$W"
export XDG_CONFIG_HOME=$T/cfg
C=$WM_STATE_DIR/cache

# Three tasks of 1000 bytes of output each, one after the other.
cat >"$W/w.md" <<'MD'
---
cache: true
max_parallel: 1
---
## one
```sh
echo one >> "$WM_WORKSPACE/ran"
head -c 1000 /dev/zero > "$WM_OUT/f"
```

## two
- depends: one

```sh
echo two >> "$WM_WORKSPACE/ran"
head -c 1000 /dev/zero | tr '\0' 2 > "$WM_OUT/f"
```

## three
- depends: two

```sh
echo three >> "$WM_WORKSPACE/ran"
head -c 1000 /dev/zero | tr '\0' 3 > "$WM_OUT/f"
```
MD

expect_exit "ls of no cache" 0 "$WM" cache ls
expect_in "ls says there is nothing" "0 entries" "$OUT"
expect_exit "a first run" 0 "$WM" run "$W/w.md"
first=$(run_dir_of "$OUT")
first=${first##*/}
expect_exit "ls" 0 "$WM" cache ls
expect_in "ls lists three entries" "3 entries" "$OUT"
expect_in "ls names the task and run" "two" "$OUT"
expect_in "ls names the run" "$first" "$OUT"
json=$("$WM" cache ls --json)
check "ls --json has three entries" test "$(jq length <<<"$json")" = 3
key=$(jq -r '.[] | select(.task=="two") | .key' <<<"$json")
check "ls --json gives sizes" test "$(jq -r '.[] | select(.task=="two") | .size' <<<"$json")" = 1000
expect_exit "show by prefix" 0 "$WM" cache show "${key:0:10}"
expect_in "show gives the whole key" "$key" "$OUT"
expect_in "show lists the key parts" "dep:one" "$OUT"
expect_in "show lists the files" "f " "$OUT"
check "show --json is the manifest" \
	test "$("$WM" cache show "${key:0:10}" --json | jq -r '.files[0].hash | length')" = 64
expect_exit "show of a short prefix" 2 "$WM" cache show abc
expect_in "a short prefix is refused" "at least 6 hex digits" "$OUT"
expect_exit "show of an unknown key" 2 "$WM" cache show 0000000000
expect_in "an unknown key is named" "no cache entry \`0000000000\`" "$OUT"
expect_exit "a bad subcommand" 2 "$WM" cache frob
expect_in "it says what is expected" "expected ls, show KEY, rm KEY... or prune" "$OUT"

expect_exit "rm" 0 "$WM" cache rm "${key:0:10}"
check "the entry is gone" test ! -e "$C/$key"
: >"$W/ran"
expect_exit "a run after rm" 0 "$WM" run "$W/w.md"
check "only the removed entry's task reran" test "$(cat "$W/ran")" = two

# The cap: 2500 bytes hold two entries; the least recently used goes. A
# run that stores an entry enforces it (three is stored again here).
printf 'cache:\n  max_size: 2500\n' >"$T/cfg/wm/config.yaml"
"$WM" cache rm "$("$WM" cache ls --json | jq -r '.[] | select(.task=="three") | .key')" >/dev/null
expect_exit "a run under a cap" 0 "$WM" run "$W/w.md"
check "the cap holds: two entries" test "$(find "$C" -name manifest.json | wc -l)" = 2
check "the oldest use went: one" test -z "$(grep -l '"task":"one"' "$C"/*/manifest.json)"
total=$("$WM" cache ls --json | jq '[.[].size] | add')
check "the entries take at most the cap" test "$total" -le 2500
printf 'cache:\n  max_size: lots\n' >"$T/cfg/wm/config.yaml"
expect_exit "a bad cap is an error at its place" 2 "$WM" plan "$W/w.md"
expect_in "the bad cap is named" "config.yaml:2:13: error: cache.max_size" "$OUT"
rm "$T/cfg/wm/config.yaml"

# prune: --older-than removes entries unused for that long; without it,
# stores a crash left are removed.
mkdir "$C/.tmp.$key.999999999"
expect_exit "prune" 0 "$WM" cache prune
expect_in "prune removed the leftover store" "1 unfinished store" "$OUT"
check "the leftover is gone" test ! -e "$C/.tmp.$key.999999999"
sleep 1.1
expect_exit "prune --older-than 1s" 0 "$WM" cache prune --older-than 1s
expect_in "prune removed both entries" "removed 2 entries" "$OUT"
expect_exit "ls after prune" 0 "$WM" cache ls
expect_in "nothing is left" "0 entries" "$OUT"
expect_exit "prune --older-than bad" 2 "$WM" cache prune --older-than soon
