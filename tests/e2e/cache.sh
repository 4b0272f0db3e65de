#!/usr/bin/env bash
# The task cache: a second run of an unchanged workflow runs nothing; an
# input, a dependency's output content, the environment or the policy
# changing reruns exactly what it reaches; a tampered entry is found,
# audited and the task runs; tasks never see the cache.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W/src"
chmod 777 "$W" "$W/src"
C=$WM_STATE_DIR/cache

# Each body appends its name to ran: what ran is what the file gains.
cat >"$W/w.md" <<'MD'
---
cache: true
---
## gen
- inputs: src/*.c

```sh
echo gen >> "$WM_WORKSPACE/ran"
cat "$WM_WORKSPACE"/src/*.c > "$WM_OUT/all"
```

## count
- depends: gen

```sh
echo count >> "$WM_WORKSPACE/ran"
wc -c < "$WM_IN/gen/all" | tr -d ' ' > "$WM_OUT/n"
```

## report
- depends: count

```sh
echo report >> "$WM_WORKSPACE/ran"
echo "size $(cat "$WM_IN/count/n")" > "$WM_OUT/report"
```

## other
- cache: false

```sh
echo other >> "$WM_WORKSPACE/ran"
```
MD
echo 'int a;' >"$W/src/a.c"
echo 'int b;' >"$W/src/b.c"

# What ran, sorted (independent tasks run in parallel).
ran() { sort "$W/ran" 2>/dev/null | tr '\n' ' '; }
run_again() { : >"$W/ran"; expect_exit "$1" 0 "$WM" run "$W/w.md" "${@:2}"; RUN=$(run_dir_of "$OUT"); }

run_again "a first run succeeds"
FIRST=${RUN##*/}
check "it ran every task" test "$(ran)" = "count gen other report "
check "three entries are stored" test "$(find "$C" -name manifest.json | wc -l)" = 3
check "the cache directory is private" test "$(stat -c %a "$C")" = 700
entry=$(dirname "$(grep -l '"task":"gen"' "$C"/*/manifest.json)")
check "a stored file is read-only" test "$(stat -c %a "$entry/files/all")" = 444

run_again "the second run succeeds"
check "an unchanged workflow runs only the task that does not cache" test "$(ran)" = "other "
expect_in "progress says which run is reused" "reusing run $FIRST" "$OUT"
check "the restored output is there" grep -q 'size 14' "$RUN/out/report/report"
check "status says cached" test "$(task_field "$RUN" gen state)" = cached
check "the checkpoint names the key and run" \
	test "$(checkpoint "$RUN" | jq -r '.tasks.gen.cache.run')" = "$FIRST"
check "the key is the entry's" test "$(checkpoint "$RUN" | jq -r '.tasks.gen.cache.key')" = "${entry##*/}"
check "the audit log has task.cached" grep -q '"event":"task.cached".*"from_run":"'"$FIRST"'"' "$RUN/audit.jsonl"
check "stats counts the cached tasks" test "$("$WM" stats "${RUN##*/}" --json | jq .cached)" = 3
expect_exit "stats of the run" 0 "$WM" stats "${RUN##*/}"
expect_in "stats says how many were reused" "cached: 3 of 4 tasks reused from earlier runs" "$OUT"
history=$("$WM" stats --json)
check "history counts cached apart from runs" \
	test "$(jq -c '.tasks[] | select(.task=="gen") | [.runs, .cached]' <<<"$history")" = "[1,1]"
json=$("$WM" status "${RUN##*/}" --json 2>&1)
expect_in "status --json says cached" '"state": "cached"' "$(jq . <<<"$json")"

# Rewriting an input with the same content (a new mtime) reuses everything.
sleep 0.01
echo 'int a;' >"$W/src/a.c"
run_again "a rewritten input with the same content"
check "nothing reruns for an mtime" test "$(ran)" = "other "

# wm plan --explain says what the next run would do, and why.
expect_exit "plan --explain of an unchanged workflow" 0 "$WM" plan --explain "$W/w.md"
expect_in "explain: gen would be reused" "gen                      cached  reusing run" "$OUT"
expect_in "explain: a task not caching runs" "other                    runs    caching off" "$OUT"
echo 'int A;' >"$W/src/a.c"
expect_exit "plan --explain after an input changed" 0 "$WM" plan --explain "$W/w.md"
expect_in "explain names the input" "gen                      runs    input src/a.c changed" "$OUT"
expect_in "explain: the dependent reruns" "count                    runs    dependency gen reruns" "$OUT"
json=$("$WM" plan --explain --format json "$W/w.md")
check "explain --format json" test "$(jq -r '.[] | select(.task=="gen") | .cached' <<<"$json")" = false
: >"$W/ran"
"$WM" plan --explain "$W/w.md" >/dev/null
check "plan --explain runs nothing" test ! -s "$W/ran"
echo 'int a;' >"$W/src/a.c"

# wm plan --level strict refuses cached tasks that declare nothing.
expect_exit "plan --level strict" 2 "$WM" plan --level strict "$W/w.md"
expect_in "strict: count declares neither" "w.md:12:1: error: task 'count' is cached but declares no \`outputs\` or \`inputs\`: nothing shows that it depends only on what its cache key covers [strict]" "$OUT"
expect_in "strict: gen declares no outputs" "task 'gen' is cached but declares no \`outputs\`" "$OUT"
expect_not_in "strict: other does not cache" "task 'other' is cached" "$OUT"
expect_exit "plan without --level strict" 0 "$WM" plan "$W/w.md"
expect_not_in "no such warning by default" "is cached but" "$OUT"
expect_exit "plan --level bad" 2 "$WM" plan --level high "$W/w.md"

# A changed input reruns its task and what reads its output; a dependent
# whose own input (count's output) kept its content is reused.
echo 'int A;' >"$W/src/a.c"
run_again "a changed input" -v
check "gen and count rerun, report is reused (same size)" test "$(ran)" = "count gen other "
expect_in "-v says why gen runs" "reason=input src/a.c changed" "$OUT"

# A changed input whose output size changes reruns the chain.
echo 'int aa;' >"$W/src/a.c"
run_again "an input changing the output" -v
check "gen and everything after it rerun" test "$(ran)" = "count gen other report "
expect_in "-v says a dependency changed" "reason=dependency gen reran" "$OUT"

# A new file matching the glob is an input too.
echo 'int c;' >"$W/src/c.c"
run_again "a new input file" -v
check "gen reruns for a new input" test "$(ran)" = "count gen other report "
expect_in "-v names the new input" "reason=input src/c.c is new" "$OUT"

# --no-cache runs everything and --cache caches even `cache: false`.
run_again "--no-cache" --no-cache
check "--no-cache runs every task" test "$(ran)" = "count gen other report "
run_again "--cache" --cache
check "--cache leaves a task saying cache: false alone" test "$(ran)" = "other "
cat >"$W/plain.md" <<'MD'
## plain
```sh
echo plain >> "$WM_WORKSPACE/ran"
```
MD
: >"$W/ran"
"$WM" run "$W/plain.md" >/dev/null 2>&1
"$WM" run "$W/plain.md" >/dev/null 2>&1
check "without cache settings a task always runs" test "$(ran)" = "plain plain "
: >"$W/ran"
"$WM" run --cache "$W/plain.md" >/dev/null 2>&1
expect_exit "--cache again" 0 "$WM" run --cache "$W/plain.md"
check "--cache stores, then reuses" test "$(ran)" = "plain "
expect_in "--cache: reused" "cached" "$OUT"

# -e values are part of the key.
run_again "another -e value" -e X=1 -v
check "every cached task reruns with another environment" test "$(ran)" = "count gen other report "
expect_in "-v says the environment changed" "reason=the environment changed" "$OUT"

# A tampered entry is found, audited, removed, and its task runs.
run_again "a run to tamper with"
entry=$(dirname "$(grep -l '"task":"count"' "$C"/*/manifest.json | head -1)")
for e in "$C"/*/manifest.json; do
	d=$(dirname "$e")
	grep -q '"task":"count"' "$e" && { chmod u+w "$d/files/n"; echo 99 >"$d/files/n"; }
done
run_again "a run with a tampered entry"
check "the tampered task reruns, its dependent is reused" test "$(ran)" = "count other "
expect_in "the user is told" "does not match its recorded hash" "$OUT"
check "the audit log has cache.rejected" grep -q '"event":"cache.rejected"' "$RUN/audit.jsonl"
check "the report is the true one" grep -q "size $(cat "$W"/src/*.c | wc -c)" "$RUN/out/report/report"

# A task never sees the cache: the state directory is masked.
cat >"$W/peek.md" <<MD
## peek
- cache: true

\`\`\`sh
echo probe-ran > "\$WM_WORKSPACE/peeked"
ls "$C" >> "\$WM_WORKSPACE/peeked" 2>&1 && echo LISTED >> "\$WM_WORKSPACE/peeked"
cat "$C"/*/manifest.json >> "\$WM_WORKSPACE/peeked" 2>&1 && echo READ >> "\$WM_WORKSPACE/peeked"
exit 0
\`\`\`
MD
expect_exit "a task looking for the cache runs" 0 "$WM" run "$W/peek.md"
check "the probe ran" grep -q probe-ran "$W/peeked"
check "the cache cannot be listed from a task" eval '! grep -q LISTED "$W/peeked"'
check "inside a sandbox the cache does not exist" grep -q "cannot access '$C': No such file or directory" "$W/peeked"
check "no manifest can be read from a task" eval '! grep -q READ "$W/peeked"'

# Rootless: the same reuse as an unprivileged user.
if is_root; then
	mkdir -p "$T/state.nobody" && chown nobody "$T/state.nobody" && chmod 700 "$T/state.nobody"
fi
: >"$W/ran"
chmod 666 "$W/ran"
expect_exit "rootless: a first run" 0 as_user "$WM" run "$W/w.md"
check "rootless: every task ran" test "$(ran)" = "count gen other report "
: >"$W/ran"
expect_exit "rootless: a second run" 0 as_user "$WM" run "$W/w.md"
check "rootless: nothing cached reran" test "$(ran)" = "other "
