#!/usr/bin/env bash
# Validation levels: `wm plan --level` and `wm run --level` over workflows
# in tests/data/levels/, each made to trip exactly one rule.
. "$(dirname "$0")/../lib.sh"
L=$REPO_DIR/tests/data/levels

# levels FILE FIRST_FAILING RULE_TEXT PLACE: plan passes below FIRST_FAILING
# (none: passes every level) and fails from it on with one finding there.
levels() {
	local f=$1 first=$2 text=$3 place=$4 failing=false l n
	for l in basic standard strict paranoid; do
		[[ $l == "$first" ]] && failing=true
		if ! $failing; then
			expect_exit "$f passes $l" 0 "$WM" plan --level "$l" "$L/$f.md"
			expect_not_in "$f: no finding at $l" "error:" "$OUT"
			continue
		fi
		expect_exit "$f fails $l" 2 "$WM" plan --level "$l" "$L/$f.md"
		expect_in "$f at $l: the finding at its place, with its level" \
			"$L/$f.md:$place: error: $text" "$OUT"
		[[ $l == "$first" ]] || continue
		n=$(grep -c 'error:' <<<"$OUT")
		check "$f at $l: exactly one finding" test "$n" = 1
	done
}

levels clean none "" ""
levels bad-format basic "unknown attribute" "5:3"
levels no-interpreter standard "task 'build': the interpreter \`wm-test-no-such-tclsh\` of its tcl block is not on this host (not found in \$PATH) [standard]" "11:1"
levels no-timeout strict "task 'build' declares no \`timeout\` (its policy \`standard\` only stops it after 2h) [strict]" "6:1"
levels no-image standard "task 'build': its image \`oci:images/missing@sha256:0000000000000000000000000000000000000000000000000000000000000000\` is not on this host (no \`$L/images/missing\`) [standard]" "6:1"
levels weak-policy strict "task 'build' runs under \`development\`, weaker than \`testing\` (network host is weaker than loopback): strict accepts no task under minimal or development [strict]" "5:11"
levels no-outputs strict "task 'build' declares no \`outputs\`, yet 'check' depends on it [strict]" "6:1"
levels warning strict "front matter key \`title\` is not wm's: ignored [strict]" "3:1"
levels network paranoid "task 'build' runs under \`testing\`, which has network (loopback): paranoid allows none [paranoid]" "2:9"
levels not-hardened paranoid "task 'build' runs under \`standard\`, weaker than \`hardened\` (filesystem view host-ro is weaker than system) [paranoid]" "5:11"
levels unpinned paranoid "task 'build': its image \`oci:images/alpine:3.20\` is not pinned by digest (add @sha256:...) [paranoid]" "6:1"
levels secret-env paranoid "task 'build' sets \`API_TOKEN\` in its \`env\`: declare it under front matter \`secrets\` and pass it with --secret [paranoid]" "6:1"

# Below strict a warning stays a warning.
expect_exit "warning at standard" 0 "$WM" plan "$L/warning.md"
expect_in "warning is a warning at standard" "warning.md:3:1: warning: front matter key \`title\`" "$OUT"

# `normal` is the older name of standard; an unknown level is a usage error.
expect_exit "normal is standard" 2 "$WM" plan --level normal "$L/no-interpreter.md"
expect_in "normal checks interpreters" "[standard]" "$OUT"
expect_exit "unknown level" 2 "$WM" plan --level high "$L/clean.md"
expect_in "unknown level is named" "wm: --level is basic, standard, strict or paranoid, not 'high'" "$OUT"
expect_exit "run: unknown level" 2 "$WM" run --level high "$L/clean.md"

# Front matter `level:` raises the level and is never lowered by --level.
expect_exit "front matter level: strict at the default" 2 "$WM" plan "$L/front-level.md"
expect_in "front matter level applies" "declares no \`timeout\`" "$OUT"
expect_exit "front matter level: strict under --level basic" 2 "$WM" plan --level basic "$L/front-level.md"
expect_exit "front matter level raised by --level paranoid" 2 "$WM" plan --level paranoid "$L/front-level.md"
expect_in "paranoid findings on top of the file's strict" "[paranoid]" "$OUT"
printf -- '---\nlevel: extreme\n---\n## a\n```sh\ntrue\n```\n' >"$T/badlevel.md"
expect_exit "front matter level must be a level" 2 "$WM" plan "$T/badlevel.md"
expect_in "bad front matter level at its place" "badlevel.md:2:8: error: front matter \`level\` must be basic, standard, strict or paranoid, not \`extreme\`" "$OUT"

# --format json lists the findings with their level, and the level checked.
json=$("$WM" plan --level paranoid --format json "$L/weak-policy.md" 2>/dev/null)
check "json: level checked" test "$(jq -r .level <<<"$json")" = paranoid
check "json: two findings" test "$(jq '.findings | length' <<<"$json")" = 2
check "json: the strict one" test "$(jq -r '.findings[0] | "\(.line):\(.col) \(.severity) \(.level)"' <<<"$json")" = "5:11 error strict"
check "json: the paranoid one" test "$(jq -r '.findings[1].level' <<<"$json")" = paranoid
json=$("$WM" plan --format json "$L/clean.md")
check "json: a clean plan has no findings" test "$(jq -c '[.level, .findings]' <<<"$json")" = '["standard",[]]'

# wm run --level strict refuses to start: the task that would write a file
# never runs. At the default level the same file runs and writes it.
mkdir -p "$T/w"
cp "$L/no-timeout.md" "$T/w/w.md"
chmod -R a+rwX "$T/w"
expect_exit "run --level strict refuses" 2 "$WM" run --level strict "$T/w/w.md"
expect_in "run names the finding" "w.md:6:1: error: task 'build' declares no \`timeout\`" "$OUT"
check "nothing ran" test ! -e "$T/w/ran.txt"
check "no run was recorded" test -z "$(ls "$WM_STATE_DIR/runs" 2>/dev/null)"
expect_exit "run --level strict refuses, as nobody" 2 as_user "$WM" run --level strict "$T/w/w.md"
check "nothing ran as nobody" test ! -e "$T/w/ran.txt"
expect_exit "run --level paranoid -e with a secret refuses" 2 \
	"$WM" run --level paranoid -e DB_PASSWORD=x "$L/clean.md"
expect_in "the -e secret is named" "wm: error: -e DB_PASSWORD=...: pass secrets with --secret DB_PASSWORD" "$OUT"
expect_not_in "its value is not printed" "DB_PASSWORD=x" "$OUT"
# The file's own `level: strict` gates `wm run` without --level.
mkdir -p "$T/f"
sed 's/^```sh$/```sh\necho ran >"$WM_WORKSPACE\/ran.txt"/' "$L/front-level.md" >"$T/f/w.md"
expect_exit "run of a file saying level: strict" 2 "$WM" run --level basic "$T/f/w.md"
expect_in "its finding" "declares no \`timeout\`" "$OUT"
check "nothing ran under the file's level" test ! -e "$T/f/ran.txt"
expect_exit "run at the default level runs it" 0 "$WM" run "$T/w/w.md"
check "the task wrote its file" test -e "$T/w/ran.txt"
