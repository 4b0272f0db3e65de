#!/usr/bin/env bash
# wm plan: exit codes, located diagnostics, and the text, dot and json outputs.
. "$(dirname "$0")/../lib.sh"

# plan_fixture FILE.md: exit 2 with every expected error printed as
# FILE:LINE:COL when its .expect lists errors, else exit 0.
plan_fixture() {
	local md=$1 exp=${1%.md}.expect name want place kind rest
	name=$(basename "$md")
	if [[ ! -f $exp ]]; then
		fail "plan $name" "no $exp"
		return
	fi
	want=0
	grep -q '^error ' "$exp" && want=2
	expect_exit "plan $name exits $want" "$want" "$WM" plan "$md"
	while read -r kind place rest; do
		[[ $kind == error || $kind == warning ]] || continue
		[[ $place == '*' ]] && place=
		expect_in "plan $name prints $kind ${place:-anywhere}" "$md:${place:+$place: }" "$OUT"
		expect_in "plan $name $kind ${place:-anywhere} is an $kind" "$kind:" "$OUT"
	done <"$exp"
}

# The project's own fixtures (tests/data/README.md), then the shared ones
# when a checkout has them beside it.
for md in "$REPO_DIR"/tests/data/invalid/*.md "$REPO_DIR"/tests/data/valid/*.md; do
	plan_fixture "$md"
done
if [[ -d $FIXTURES/workflows ]]; then
	for md in "$FIXTURES"/workflows/*.md; do
		[[ $(basename "$md") == README.md ]] || plan_fixture "$md"
	done
else
	skip "shared fixtures" "no $FIXTURES/workflows beside this checkout"
fi
DATA=$REPO_DIR/tests/data

# The cycle in errors.md is printed with its path.
"$WM" plan "$DATA/invalid/errors.md" >/dev/null 2>"$T/err"
expect_in "cycle path printed" "dependency cycle: one -> three -> two -> one" "$(cat "$T/err")"

# The DAG is built once: a warning it gives is printed once.
printf '## a\n```sh\ntrue\n```\n## b\n- depends: a, a\n' >"$T/dup.md"
"$WM" plan "$T/dup.md" >/dev/null 2>"$T/err"
check "a DAG warning is printed once" test "$(grep -c 'listed twice' "$T/err")" = 1

# A fence without a language before the body is an error at its place, for
# plan and for run alike (it was a join node that failed at run time).
nolang=$REPO_DIR/tests/data/invalid/fence-without-language.md
expect_exit "fence without a language exits 2" 2 "$WM" plan "$nolang"
expect_in "fence without a language located" \
	"$nolang:10:1: error: code block without a language: write \`\`\`sh or \`\`\`bash" "$OUT"
printf '## build\n- timeout: 5m\n\n```\ntouch %s/ran\n```\n' "$T" >"$T/nolang.md"
expect_exit "run refuses a fence without a language" 2 "$WM" run "$T/nolang.md"
expect_in "run names its place" "nolang.md:4:1: error: code block without a language" "$OUT"
check "run started nothing" test ! -e "$T/ran"
# Shell names and near misses point at sh or bash, not at `interpreters`.
"$WM" plan "$REPO_DIR/tests/data/valid/near-languages.md" >/dev/null 2>"$T/err"
expect_in "zsh gets sh or bash" "near-languages.md:17:1: warning: \`zsh\` blocks are not run, so this is prose; to run it, write \`\`\`sh or \`\`\`bash" "$(cat "$T/err")"
expect_in "Bash gets bash" "near-languages.md:26:1: warning: \`Bash\` blocks are not run, so this is prose; language names are case-sensitive: write \`\`\`bash" "$(cat "$T/err")"
check "only real other languages get the interpreters hint" \
	test "$(grep -c 'interpreters' "$T/err")" = 2

# Text output of the example: every task, in an order that respects dependencies.
expect_exit "plan demo" 0 "$WM" plan "$REPO_DIR/examples/demo.md"
expect_in "text names the workflow" "workflow demo" "$OUT"
expect_in "text shows the dependencies" "after generate-words, count-to-three" "$OUT"
expect_in "text shows the policy" "policy standard" "$OUT"
expect_in "text shows the timeout" "timeout 30s" "$OUT"
combine=$(grep -n '\. combine' <<<"$OUT" | cut -d: -f1)
gen=$(grep -n '\. generate-words' <<<"$OUT" | cut -d: -f1)
if [[ -n $combine && -n $gen ]] && ((gen < combine)); then
	pass "text order puts dependencies first"
else
	fail "text order puts dependencies first" "$OUT"
fi

# Warnings go to stderr; the plan to stdout.
"$WM" plan "$DATA/valid/interpreters.md" >"$T/out" 2>"$T/err"
expect_in "warning on stderr" "interpreters.md:14:1: warning:" "$(cat "$T/err")"
expect_not_in "no warning on stdout" "warning" "$(cat "$T/out")"

# JSON: parses, documented shape, resolved values.
if "$WM" plan --format json "$REPO_DIR/examples/demo.md" >"$T/demo.json" &&
	jq -e . "$T/demo.json" >/dev/null; then
	pass "json parses"
else
	fail "json parses" "$(head -c 400 "$T/demo.json")"
fi
check "json format and version" jq -e '.format == "wm-plan" and .version == 1' "$T/demo.json"
check "json has the three tasks" jq -e '[.tasks[].id] == ["generate-words","count-to-three","combine"]' "$T/demo.json"
check "json order" jq -e '.order | length == 3 and .[2] == "combine"' "$T/demo.json"
check "json workflow" jq -e '.workflow.name == "demo" and .workflow.max_parallel == 2 and .workflow.env.GREETING == "hello"' "$T/demo.json"
check "json task fields" jq -e '.tasks[1] | .retries == 2 and .backoff_ms == 200 and .policy == "standard" and .lang == "sh"' "$T/demo.json"
check "json depends and outputs" jq -e '.tasks[2] | .depends == ["generate-words","count-to-three"] and .outputs == ["report.txt"]' "$T/demo.json"
"$WM" plan --format=json "$DATA/valid/prose.md" >"$T/prose.json"
check "json attributes of prose.md" jq -e '.tasks[0] | .id == "build" and .timeout_ms == 120000 and .priority == "high" and .env.CC == "gcc" and .has_rollback' "$T/prose.json"
check "json join node" jq -e '.tasks[2] | .id == "all" and .lang == null and .depends == ["build","ship"]' "$T/prose.json"
check "json condition and sla" jq -e '.tasks[1] | .condition == "always" and .sla_ms == 30000' "$T/prose.json"

# Graphviz.
expect_exit "dot exits 0" 0 "$WM" plan --format dot "$REPO_DIR/examples/demo.md"
expect_in "dot is a digraph" 'digraph "demo" {' "$OUT"
expect_in "dot has the edges" '"generate-words" -> "combine";' "$OUT"
if command -v dot >/dev/null; then
	"$WM" plan --format dot "$REPO_DIR/examples/demo.md" | dot -Tsvg >/dev/null
	check "graphviz accepts the dot" test "${PIPESTATUS[1]}" = 0
else
	skip "graphviz accepts the dot" "graphviz is not installed"
fi

# Bad input and usage.
expect_exit "missing file exits 2" 2 "$WM" plan "$T/nope.md"
expect_in "missing file names the reason" "No such file" "$OUT"
expect_in "missing file names the file" "$T/nope.md" "$OUT"
expect_exit "a directory exits 2" 2 "$WM" plan "$T"
expect_exit "unknown format exits 2" 2 "$WM" plan --format yaml "$REPO_DIR/examples/demo.md"
expect_exit "no file exits 2" 2 "$WM" plan
expect_exit "two files exit 2" 2 "$WM" plan a.md b.md
printf '## a\n```sh\ntrue\n```\n' >"$T/ok.md"
chmod 000 "$T/ok.md"
if is_root; then
	expect_exit "unreadable file exits 2" 2 as_user "$WM" plan "$T/ok.md"
	expect_in "unreadable file names the reason" "Permission denied" "$OUT"
else
	expect_exit "unreadable file exits 2" 2 "$WM" plan "$T/ok.md"
fi

# Policy names resolve against the built-ins and the workflow's policy file.
printf -- '---\npolicy: standrd\n---\n## a\n- policy: hardened\n\n```sh\ntrue\n```\n\n## b\n- policy: nosuch\n\n```sh\ntrue\n```\n' >"$T/pol.md"
expect_exit "unknown policy names exit 2" 2 "$WM" plan "$T/pol.md"
expect_in "front matter policy located" "pol.md:2:9:" "$OUT"
expect_in "task policy located" "pol.md:12:11:" "$OUT"
expect_in "unknown name is named" "nosuch" "$OUT"
cat >"$T/pols.yaml" <<'YAML'
version: 1
policies:
  mine:
    inherits: standard
    description: a tuned policy
YAML
printf -- '---\npolicies: pols.yaml\n---\n## a\n- policy: mine\n\n```sh\ntrue\n```\n' >"$T/mine.md"
expect_exit "a policy from the workflow's policy file plans" 0 "$WM" plan "$T/mine.md"
expect_in "and is shown" "mine" "$OUT"
