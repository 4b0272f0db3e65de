#!/usr/bin/env bash
# Matrix tasks: one task per combination, each with its values in its
# environment, their outputs under $WM_IN for a dependent of the whole
# matrix, one instance run or resumed on its own, the plan's three formats.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

# test[os=alpine,py=3.12] fails until the flag file exists.
cat >"$W/mx.md" <<'MD'
---
name: mx
keep_going: true
---
## Test
- matrix: os=debian,alpine; py=3.11,3.12
- matrix_exclude: os=alpine,py=3.11
- matrix_include: os=fedora,py=3.12
- outputs: result

```sh
echo "$WM_TASK_ID" >> "$WM_WORKSPACE/ran"
echo "running $WM_MATRIX"
if [ "$WM_MATRIX" = os=alpine,py=3.12 ] && [ ! -e "$WM_WORKSPACE/fixed" ]; then
	exit 3
fi
echo "$MATRIX_OS $MATRIX_PY $WM_MATRIX" > "$WM_OUT/result"
touch "$WM_WORKSPACE/made-$MATRIX_OS-$MATRIX_PY"
```

## Report
- depends: test

```sh
for d in "$WM_IN"/*; do
	printf '%s: %s\n' "${d##*/}" "$(cat "$d/result")"
done > "$WM_WORKSPACE/report"
```

## One
- depends: test[os=debian,py=3.11]

```sh
cat "$WM_IN/test[os=debian,py=3.11]/result" > "$WM_WORKSPACE/one"
```
MD

# ---- plan ----
expect_exit "plan" 0 "$WM" plan "$W/mx.md"
expect_in "text: instances in order" "  1. test[os=debian,py=3.11]" "$OUT"
expect_in "text: the include last" "  4. test[os=fedora,py=3.12]" "$OUT"
expect_not_in "text: the excluded combination is not there" "test[os=alpine,py=3.11]" "$OUT"
expect_in "text: report after every instance" \
	"after test[os=debian,py=3.11], test[os=debian,py=3.12], test[os=alpine,py=3.12], test[os=fedora,py=3.12]" "$OUT"
J=$("$WM" plan "$W/mx.md" --format json)
check "json: four instances and two dependents" test "$(jq '.tasks | length' <<<"$J")" = 6
check "json: an instance's matrix values" \
	test "$(jq -c '.tasks[1].matrix' <<<"$J")" = '{"os":"debian","py":"3.12"}'
check "json: matrix_of" test "$(jq -r '.tasks[3].matrix_of' <<<"$J")" = test
check "json: plain tasks have neither" test "$(jq -c '.tasks[4] | [.matrix, .matrix_of]' <<<"$J")" = '[null,null]'
check "json: the environment" test "$(jq -r '.tasks[2].env.MATRIX_OS, .tasks[2].env.WM_MATRIX' <<<"$J" | xargs)" = "alpine os=alpine,py=3.12"
D=$("$WM" plan "$W/mx.md" --format dot)
expect_in "dot: a cluster per matrix" 'subgraph "cluster_test" {' "$D"
check "dot: the cluster holds the four instances" \
	test "$(sed -n '/subgraph "cluster_test"/,/^\t}/p' <<<"$D" | grep -c $'^\t\t"test\\[')" = 4
check "dot: report outside it" grep -q $'^\t"report" \\[label' <<<"$D"
if command -v dot >/dev/null; then
	check "dot: graphviz reads it" dot -Tsvg -o /dev/null <<<"$D"
else
	skip "dot: graphviz reads it" "no dot"
fi

# ---- a run: one instance fails, keep_going ----
expect_exit "one failing instance fails the run" 1 "$WM" run -j1 "$W/mx.md"
RUN=$(run_dir_of "$OUT")
ID=${RUN##*/}
for c in debian-3.11 debian-3.12 fedora-3.12; do
	check "instance $c ran" test -e "$W/made-$c"
done
check "the failing instance's state" test "$(task_field "$RUN" 'test[os=alpine,py=3.12]' state)" = failed
check "the others succeeded" test "$(task_field "$RUN" 'test[os=fedora,py=3.12]' state)" = succeeded
check "the dependent of the whole matrix is skipped" test "$(task_field "$RUN" report state)" = skipped
check "and did not run" test ! -e "$W/report"
check "a dependent of one instance ran (keep_going)" test "$(cat "$W/one")" = "debian 3.11 os=debian,py=3.11"
check "each instance's output in its own directory" \
	test "$(cat "$RUN/out/test[os=debian,py=3.12]/result")" = "debian 3.12 os=debian,py=3.12"
expect_exit "wm logs of one instance" 0 "$WM" logs "$ID" 'test[os=alpine,py=3.12]'
expect_in "its log holds its output" "running os=alpine,py=3.12" "$OUT"

# ---- resume reruns only the failed instance ----
: >"$W/ran"
touch "$W/fixed"
expect_exit "resume finishes the run" 0 "$WM" resume "$ID"
check "only the failed instance ran again" test "$(cat "$W/ran")" = "test[os=alpine,py=3.12]"
check "report read every instance's output through \$WM_IN" test "$(cat "$W/report")" = "$(
	printf '%s\n' "test[os=alpine,py=3.12]: alpine 3.12 os=alpine,py=3.12" \
		"test[os=debian,py=3.11]: debian 3.11 os=debian,py=3.11" \
		"test[os=debian,py=3.12]: debian 3.12 os=debian,py=3.12" \
		"test[os=fedora,py=3.12]: fedora 3.12 os=fedora,py=3.12"
)"

# ---- one instance on its own, as an unprivileged user too ----
rm -f "$W"/made-* "$W/ran"
expect_exit "wm run FILE INSTANCE" 0 "$WM" run "$W/mx.md" 'test[os=debian,py=3.12]'
check "ran that instance only" test "$(ls "$W" | grep -c '^made-')" = 1 -a -e "$W/made-debian-3.12"
rm -f "$W"/made-* "$W/report" "$W/one"
expect_exit "wm run FILE MATRIX runs every instance" 0 "$WM" run "$W/mx.md" test
check "all four" test "$(ls "$W" | grep -c '^made-')" = 4
check "not the tasks after them" test ! -e "$W/report" -a ! -e "$W/one"
# --from a whole matrix: its instances and what follows; nothing before it.
rm -f "$W"/made-* "$W/report" "$W/one"
expect_exit "wm run --from MATRIX" 0 "$WM" run --from test "$W/mx.md"
check "--from: all four instances ran" test "$(ls "$W" | grep -c '^made-')" = 4
check "--from: and the tasks after them" test -e "$W/report" -a -e "$W/one"
rm -f "$W"/made-* "$W/ran"
if is_root && ! userns_ok; then
	skip "an instance as nobody" "no user namespaces for unprivileged users"
else
	mkdir -p "$WM_STATE_DIR.nobody" && chmod 777 "$WM_STATE_DIR.nobody"
	expect_exit "an instance as nobody" 0 as_user "$WM" run "$W/mx.md" 'test[os=fedora,py=3.12]'
	check "it ran with its values" test -e "$W/made-fedora-3.12"
fi
expect_exit "an unknown instance" 2 "$WM" run "$W/mx.md" 'test[os=alpine,py=3.11]'
expect_in "named as such" "test[os=alpine,py=3.11]" "$OUT"

# ---- errors at their place ----
cat >"$W/bad.md" <<'MD'
## t
- matrix: os=a,b; os=c

```sh
true
```
MD
expect_exit "a duplicate axis" 2 "$WM" plan "$W/bad.md"
expect_in "at the axis" "bad.md:2:19: error: matrix: axis \`os\` is given twice" "$OUT"

{
	printf '## big\n- matrix: a=%s; b=%s\n\n```sh\ntrue\n```\n' "$(seq -s, 1 100)" "$(seq -s, 1 100)"
} >"$W/big.md"
start=$(date +%s%N)
expect_exit "10,000 combinations are refused" 2 "$WM" plan "$W/big.md"
took=$((($(date +%s%N) - start) / 1000000))
expect_in "at the matrix's value" "big.md:2:11: error: matrix expands to 10000 tasks; at most 1000" "$OUT"
check "quickly (${took}ms)" test "$took" -lt 2000
