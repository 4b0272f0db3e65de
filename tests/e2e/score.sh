#!/usr/bin/env bash
# `wm policy score`: the exposure figure, its breakdown, --json, the order
# of the built-ins, and the scores in `wm policy diff` and `wm plan`.
. "$(dirname "$0")/../lib.sh"
export XDG_CONFIG_HOME=$T/config

expect_exit "score standard" 0 "$WM" policy score standard
expect_in "score gives the total" "policy standard: exposure " "$OUT"
for part in network filesystem syscalls capabilities limits; do
	expect_in "score breaks down $part" "$part" "$OUT"
done
expect_in "score names the risk classes" "critical 0.0 (0/" "$OUT"

# The built-ins, from most exposed to least, in --json.
prev=101
for p in minimal development testing standard hardened paranoid; do
	s=$("$WM" policy score --json "$p" | jq -r .score)
	check "$p scores below the policy before it ($s < $prev)" awk -v a="$s" -v b="$prev" 'BEGIN { exit !(a < b) }'
	prev=$s
done
"$WM" policy score --json standard >"$T/s.json" 2>&1
check "json parts add up to the score" jq -e '([.parts[].points] | add) - .score | fabs < 0.5' "$T/s.json"
check "json gives each part's maximum" jq -e '([.parts[].max] | add) == 100' "$T/s.json"

# A policy of the user's that allows more scores more.
cat >"$T/pols.yaml" <<'YAML'
version: 1
policies:
  tracer:
    inherits: standard
    seccomp: {allow: [ptrace]}
YAML
base=$("$WM" policy score --json standard | jq .score)
mine=$("$WM" policy score --json --policies "$T/pols.yaml" tracer | jq .score)
check "a child allowing ptrace scores above standard ($mine > $base)" awk -v a="$mine" -v b="$base" 'BEGIN { exit !(a > b + 9) }'

expect_exit "score of an unknown policy is exit 2" 2 "$WM" policy score standrd
expect_in "unknown policy gets a hint" "did you mean 'standard'" "$OUT"
expect_exit "score needs one name" 2 "$WM" policy score

expect_exit "diff shows both scores" 1 "$WM" policy diff standard hardened
expect_in "diff scores A and B" "A = standard (exposure $base), B = hardened (exposure " "$OUT"

printf -- '## a\n- policy: hardened\n\n```sh\ntrue\n```\n\n## b\n\n```sh\ntrue\n```\n' >"$T/w.md"
expect_exit "plan" 0 "$WM" plan "$T/w.md"
expect_in "plan shows a task's score" "policy hardened (exposure " "$OUT"
expect_in "plan shows the default policy's score" "policy standard (exposure $base)" "$OUT"
"$WM" plan --format json "$T/w.md" >"$T/plan.json" 2>&1
check "plan json gives each task's exposure" jq -e --argjson b "$base" '.tasks[1].exposure == $b and .tasks[0].exposure < $b' "$T/plan.json"
