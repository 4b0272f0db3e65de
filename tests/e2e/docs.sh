#!/usr/bin/env bash
# The documentation agrees with the program: every command `wm help` lists
# is in the man page's SYNOPSIS (with every option its usage names) and in
# the README's table of commands; the man page renders no markup literally;
# policy keys are spelled as the loader reads them.
. "$(dirname "$0")/../lib.sh"

SCD=$REPO_DIR/tools/wm.1.scd
README=$REPO_DIR/README.md
synopsis=$(awk '/^# SYNOPSIS/ { on = 1; next } /^# / { on = 0 } on' "$SCD")
# The README's table of commands: the rows after the "## Commands" heading.
table=$(awk '/^## Commands/ { on = 1; next } on && /^\|/ { print; seen = 1; next } seen { exit }' "$README")
[[ -n $synopsis ]] && pass "the man page has a SYNOPSIS" || fail "the man page has a SYNOPSIS"
[[ $(wc -l <<<"$table") -ge 10 ]] && pass "the README has a table of commands" ||
	fail "the README has a table of commands" "$table"

commands=$("$WM" help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[[ $(wc -l <<<"$commands") -ge 16 ]] && pass "wm help lists the commands" || fail "wm help lists the commands" "$commands"
for c in $commands; do
	expect_in "SYNOPSIS has wm $c" "*wm $c" "$synopsis"
	expect_in "README table has wm $c" "\`wm $c" "$table"
	# Every long option of the command's usage, in its SYNOPSIS lines.
	usage=$("$WM" help "$c" | awk 'NR == 1 || /^ / { print } /^$/ { exit }')
	lines=$(awk -v c="$c" '$0 ~ "^\\*wm " c "[* ]" { on = 1 } /^$/ { on = 0 } on' <<<"$synopsis")
	for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$usage" | sort -u); do
		[[ $o == --help ]] && continue
		expect_in "SYNOPSIS of $c has $o" "$o*" "$lines"
	done
done

# scdoc markup that would show literally: an underscore pair inside a word.
if [[ -f $REPO_DIR/build/wm.1 ]] && command -v man >/dev/null; then
	page=$(MANWIDTH=100 man -l "$REPO_DIR/build/wm.1" 2>/dev/null)
	expect_not_in "the man page shows no _N_" "_N_" "$page"
	expect_not_in "the man page shows no stray *" "*wm" "$page"
else
	skip "rendered man page" "build/wm.1 or man missing"
fi
expect_not_in "the scd source has no 128+_N_" "+_N_" "$(cat "$SCD")"

# The loader's key is `inherits`; nothing documents another spelling.
grep -q '"inherits"' "$REPO_DIR/policies/load.c" && pass "the loader reads inherits" ||
	fail "the loader reads inherits"
for f in "$README" "$SCD" "$REPO_DIR/policies.example.yaml"; do
	bad=$(grep -nE '`inherit`|\binherit:|\*inherit\*' "$f")
	[[ -z $bad ]] && pass "${f##*/} spells the key inherits" || fail "${f##*/} spells the key inherits" "$bad"
done
