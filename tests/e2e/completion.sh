#!/usr/bin/env bash
# Bash completion (tools/completion/wm.bash): the completion function is
# called the way readline calls it, with COMP_WORDS/COMP_CWORD set, and its
# COMPREPLY is checked. Then zsh (tests/tools/zsh_complete.zsh) and fish
# (complete -C) complete the same things with tools/completion/_wm and wm.fish.
. "$(dirname "$0")/../lib.sh"

# shellcheck source=../../tools/completion/wm.bash
. "$REPO_DIR/tools/completion/wm.bash"

# complete WORD...: completes the last word of the line "WORD..." into $REPLY_TEXT.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_wm
	REPLY_TEXT=" ${COMPREPLY[*]-} "
}

# Nothing from the real environment leaks in.
unset XDG_STATE_HOME
mkdir -p "$WM_STATE_DIR/runs/20261122-081503-a1b2/logs" "$WM_STATE_DIR/runs/20261121-070000-ffff"
touch "$WM_STATE_DIR/runs/20261122-081503-a1b2/logs/build.log" \
	"$WM_STATE_DIR/runs/20261122-081503-a1b2/logs/fetch-sources.log"

if [[ $(complete -p wm 2>/dev/null) == *"-F _wm"* ]]; then
	pass "sourcing registers the completion for wm"
else
	fail "sourcing registers the completion for wm" "$(complete -p wm 2>&1)"
fi

complete_line "$WM" ""
expect_in "commands: run" " run " "$REPLY_TEXT"
expect_in "commands: policy" " policy " "$REPLY_TEXT"
expect_in "commands: doctor" " doctor " "$REPLY_TEXT"
complete_line "$WM" res
[[ $REPLY_TEXT == " resume " ]] && pass "prefix 'res' gives resume only" ||
	fail "prefix 'res' gives resume only" "$REPLY_TEXT"

complete_line "$WM" run -
for o in --jobs --policy --policies --env --secret --keep-going --dry-run --interactive \
	--detach --workspace --json; do
	expect_in "run option $o" " $o " "$REPLY_TEXT"
done
# --secret NAME: the names of the environment's variables.
WM_TEST_SECRET_NAME=x complete_line "$WM" run --secret WM_TEST_SECRET_
[[ $REPLY_TEXT == " WM_TEST_SECRET_NAME " ]] && pass "run --secret completes variable names" ||
	fail "run --secret completes variable names" "$REPLY_TEXT"
# ... and takes that one word: the workflow FILE still follows.
mkdir -p "$T/compl" && touch "$T/compl/deploy.md"
(cd "$T/compl" && complete_line "$WM" run --secret API_TOKEN "" &&
	expect_in "after --secret NAME, the workflow file" " deploy.md " "$REPLY_TEXT")
expect_not_in "run has no --force" "--force" "$REPLY_TEXT"
complete_line "$WM" resume --f
[[ $REPLY_TEXT == " --force " ]] && pass "resume --f gives --force" ||
	fail "resume --f gives --force" "$REPLY_TEXT"
complete_line "$WM" plan --format ""
expect_in "plan --format values" " text dot json " "$REPLY_TEXT"
complete_line "$WM" resume --rel
[[ $REPLY_TEXT == " --reload " ]] && pass "resume --rel gives --reload" ||
	fail "resume --rel gives --reload" "$REPLY_TEXT"
complete_line "$WM" run --ye
[[ $REPLY_TEXT == " --yes " ]] && pass "run --ye gives --yes" || fail "run --ye gives --yes" "$REPLY_TEXT"
complete_line "$WM" plan --pol
[[ $REPLY_TEXT == " --policy " ]] && pass "plan --pol gives --policy" ||
	fail "plan --pol gives --policy" "$REPLY_TEXT"

complete_line "$WM" resume ""
expect_in "run id from the state dir" " 20261122-081503-a1b2 " "$REPLY_TEXT"
expect_in "every run id" " 20261121-070000-ffff " "$REPLY_TEXT"
complete_line "$WM" status 2026112
expect_in "run id by prefix" " 20261122-081503-a1b2 " "$REPLY_TEXT"
complete_line "$WM" resume 20261122-081503-a1b2 ""
[[ $REPLY_TEXT == "  " ]] && pass "resume takes one run id" || fail "resume takes one run id" "$REPLY_TEXT"

other=$T/other-state
mkdir -p "$other/runs/20260101-000000-beef"
complete_line "$WM" --state-dir "$other" cancel ""
[[ $REPLY_TEXT == " 20260101-000000-beef " ]] && pass "--state-dir on the line is honoured" ||
	fail "--state-dir on the line is honoured" "$REPLY_TEXT"
(
	unset WM_STATE_DIR
	export XDG_STATE_HOME=$T/xdg
	mkdir -p "$XDG_STATE_HOME/wm/runs/20260202-000000-cafe"
	complete_line "$WM" logs ""
	[[ $REPLY_TEXT == " 20260202-000000-cafe " ]] && pass "XDG_STATE_HOME/wm without WM_STATE_DIR" ||
		fail "XDG_STATE_HOME/wm without WM_STATE_DIR" "$REPLY_TEXT"
)

complete_line "$WM" logs 20261122-081503-a1b2 ""
expect_in "logs RUN: task ids" " build fetch-sources " "$REPLY_TEXT"
touch "$WM_STATE_DIR/runs/20261122-081503-a1b2/logs/test[os=a,py=1].log"
complete_line "$WM" logs 20261122-081503-a1b2 te
[[ $REPLY_TEXT == ' test\[os=a\,py=1\] ' ]] && pass "a matrix instance's id, escaped" ||
	fail "a matrix instance's id, escaped" "$REPLY_TEXT"
rm "$WM_STATE_DIR/runs/20261122-081503-a1b2/logs/test[os=a,py=1].log"
complete_line "$WM" logs 20261122-08 f
[[ $REPLY_TEXT == " fetch-sources " ]] && pass "task ids of a run given by prefix" ||
	fail "task ids of a run given by prefix" "$REPLY_TEXT"

mkdir -p "$T/files/sub"
touch "$T/files/release.md" "$T/files/notes.txt" "$T/files/pol.yaml" "$T/files/seccomp.json"
cd "$T/files" || exit 1
complete_line "$WM" run ""
expect_in "run FILE: workflows" " release.md " "$REPLY_TEXT"
expect_in "run FILE: directories" " sub " "$REPLY_TEXT"
expect_not_in "run FILE: no other files" "notes.txt" "$REPLY_TEXT"
complete_line "$WM" run --policies ""
expect_in "--policies: yaml" " pol.yaml " "$REPLY_TEXT"
expect_not_in "--policies: not markdown" "release.md" "$REPLY_TEXT"
complete_line "$WM" policy import-oci ""
expect_in "import-oci: json" " seccomp.json " "$REPLY_TEXT"
complete_line "$WM" policy ""
expect_in "policy subcommands" " list show check diff import-oci " "$REPLY_TEXT"
complete_line "$WM" audit ""
expect_in "audit subcommands" " show verify " "$REPLY_TEXT"
complete_line "$WM" cache ""
expect_in "cache subcommands" " ls show rm prune " "$REPLY_TEXT"
key=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir -p "$WM_STATE_DIR/cache/$key" && touch "$WM_STATE_DIR/cache/$key/manifest.json"
complete_line "$WM" cache show ""
expect_in "cache show completes keys" " 0123456789ab " "$REPLY_TEXT"
complete_line "$WM" cache ls --
expect_in "cache ls --json" " --json " "$REPLY_TEXT"
complete_line "$WM" run --no-
expect_in "run --no-cache" " --no-cache " "$REPLY_TEXT"
complete_line "$WM" plan --ex
expect_in "plan --explain" " --explain " "$REPLY_TEXT"
complete_line "$WM" audit show --
expect_in "audit show options" " --task --event --since --json " "$REPLY_TEXT"
complete_line "$WM" help ""
expect_in "help COMMAND" " export " "$REPLY_TEXT"

# Policy names come from `wm policy list` (the built-ins at least).
complete_line "$WM" run --policy ""
for p in minimal development testing standard hardened paranoid; do
	expect_in "--policy: $p" " $p " "$REPLY_TEXT"
done
printf 'version: 1\npolicies:\n  ci-build:\n    inherits: standard\n' >"$T/files/pol.yaml"
if "$WM" policy list >/dev/null 2>&1; then
	export XDG_CONFIG_HOME=$T/config
	mkdir -p "$XDG_CONFIG_HOME/wm"
	cp "$T/files/pol.yaml" "$XDG_CONFIG_HOME/wm/policies.yaml"
	complete_line "$WM" policy show ci
	[[ $REPLY_TEXT == " ci-build " ]] && pass "policy names from wm policy list" ||
		fail "policy names from wm policy list" "$REPLY_TEXT"
else
	skip "policy names from wm policy list" "'wm policy list' does not work in this build"
fi

# State hardening: resume --accept-audit-gap, cancel --timeout, audit rekey.
complete_line "$WM" resume --acc
expect_in "resume: --accept-audit-gap" " --accept-audit-gap " "$REPLY_TEXT"
complete_line "$WM" cancel --t
expect_in "cancel: --timeout" " --timeout " "$REPLY_TEXT"
complete_line "$WM" audit re
expect_in "audit: rekey" " rekey " "$REPLY_TEXT"
complete_line "$WM" audit rekey ""
[[ -z ${COMPREPLY[*]-} ]] && pass "audit rekey takes no run id" || fail "audit rekey takes no run id" "$REPLY_TEXT"

# wm list: filters, and --state values (the last of a comma list).
complete_line "$WM" list --
for o in --json --quiet --state --name --since; do
	expect_in "list option $o" " $o " "$REPLY_TEXT"
done
complete_line "$WM" list --state int
[[ $REPLY_TEXT == " interrupted " ]] && pass "list --state int gives interrupted" ||
	fail "list --state int gives interrupted" "$REPLY_TEXT"
complete_line "$WM" list --state failed,orph
[[ $REPLY_TEXT == " failed,orphaned " ]] && pass "list --state completes a comma list" ||
	fail "list --state completes a comma list" "$REPLY_TEXT"
complete_line "$WM" list --state failed ""
[[ $REPLY_TEXT == "  " ]] && pass "list takes no positional" || fail "list takes no positional" "$REPLY_TEXT"
complete_line "$WM" orphans --
expect_not_in "orphans has no --state" "--state" "$REPLY_TEXT"

# wm outputs RUN TASK; wm cp RUN:TASK[/PATH] DEST.
R1=$WM_STATE_DIR/runs/20261122-081503-a1b2
mkdir -p "$R1/out/build/dist"
touch "$R1/out/build/report.txt" "$R1/out/build/dist/app.tar"
ln -s / "$R1/out/build/root"
complete_line "$WM" outputs 20261122-081503-a1b2 ""
expect_in "outputs: task ids" " build fetch-sources " "$REPLY_TEXT"
complete_line "$WM" outputs -
expect_in "outputs: --json" " --json " "$REPLY_TEXT"
complete_line "$WM" cp 20261122
[[ $REPLY_TEXT == " 20261122-081503-a1b2: " ]] && pass "cp: run id with ':'" ||
	fail "cp: run id with ':'" "$REPLY_TEXT"
# Where ':' does not break words, the whole RUN:task is the word.
COMP_WORDBREAKS=$' \t\n"\'><=;|&(' complete_line "$WM" cp 20261122-081503-a1b2:bu
[[ $REPLY_TEXT == " 20261122-081503-a1b2:build " ]] && pass "cp: RUN:task" ||
	fail "cp: RUN:task" "$REPLY_TEXT"
# As readline calls it: COMP_WORDS split at ':', COMP_LINE whole.
complete_split() {
	COMP_LINE=$1 COMP_POINT=${#1}
	COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
	read -ra COMP_WORDS <<<"${1//:/ : }"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	[[ $1 == *: ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_wm
	REPLY_TEXT=" ${COMPREPLY[*]-} "
	unset COMP_LINE COMP_POINT COMP_WORDBREAKS
}
complete_split "$WM cp 20261122-081503-a1b2:bu"
[[ $REPLY_TEXT == " build " ]] && pass "cp: the task after ':' as readline splits it" ||
	fail "cp: the task after ':' as readline splits it" "$REPLY_TEXT"
complete_split "$WM cp 20261122-081503-a1b2:"
expect_in "cp: every task after ':'" " build fetch-sources " "$REPLY_TEXT"
complete_split "$WM cp 20261122-081503-a1b2:build/"
[[ $REPLY_TEXT == " build/dist/ build/report.txt build/root " ]] && pass "cp: the task's outputs, links not entered" ||
	fail "cp: the task's outputs, links not entered" "$REPLY_TEXT"
complete_split "$WM cp 20261122-081503-a1b2:build/report.txt $T/fi"
expect_in "cp: DEST is a file name" " $T/files " "$REPLY_TEXT"
complete_split "$WM cp 20261122-081503-a1b2:build/report.txt $T/files "
[[ $REPLY_TEXT == "  " ]] && pass "cp: nothing after DEST" || fail "cp: nothing after DEST" "$REPLY_TEXT"

# wm prune: options, and no completion for their values.
complete_line "$WM" prune --
for o in --keep --older-than --dry-run --force --json; do
	expect_in "prune option $o" " $o " "$REPLY_TEXT"
done
complete_line "$WM" prune --older-than ""
[[ $REPLY_TEXT == "  " ]] && pass "prune --older-than takes an age" || fail "prune --older-than takes an age" "$REPLY_TEXT"
complete_line "$WM" prune --keep 3 --d
[[ $REPLY_TEXT == " --dry-run " ]] && pass "prune: --keep's value is skipped" || fail "prune: --keep's value is skipped" "$REPLY_TEXT"

# wm init, run --executor, sandbox --timeout.
complete_line "$WM" in
[[ $REPLY_TEXT == " init " ]] && pass "bash: in gives init" || fail "bash: in gives init" "$REPLY_TEXT"
complete_line "$WM" init -
expect_in "bash: init options" " -t --template -f --force --list " "$REPLY_TEXT"
complete_line "$WM" init --template ""
expect_in "bash: template names from wm init --list" " basic release ci data nightly incident security-scan rollout " \
	"$REPLY_TEXT"
complete_line "$WM" init -t sec
[[ $REPLY_TEXT == " security-scan " ]] && pass "bash: -t sec gives security-scan" ||
	fail "bash: -t sec gives security-scan" "$REPLY_TEXT"
complete_line "$WM" init ""
expect_in "bash: init FILE: workflows" " release.md " "$REPLY_TEXT"
complete_line "$WM" run --executor ""
expect_in "bash: run --executor values" " local slurm " "$REPLY_TEXT"
complete_line "$WM" sandbox --t
expect_in "bash: sandbox --timeout" " --timeout " "$REPLY_TEXT"
complete_line "$WM" run w.md --output ""
expect_in "bash: run --output modes" " compact stream " "$REPLY_TEXT"
complete_line "$WM" export 20261122-081503-a1b2 -o ""
expect_not_in "bash: export -o is a file, not a mode" "compact" "$REPLY_TEXT"

# Every command of `wm help` but the internal exec is completed, in each shell.
help_commands=$("$WM" help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' |
	grep -vx exec)
[[ $(wc -l <<<"$help_commands") -ge 15 ]] && pass "wm help lists the commands" ||
	fail "wm help lists the commands" "$help_commands"
complete_line "$WM" ""
for c in $help_commands; do
	expect_in "bash completes '$c'" " $c " "$REPLY_TEXT"
done

# zsh and fish run the wm they find on PATH for policy and template names.
mkdir -p "$T/bin"
ln -s "$(readlink -f "$WM")" "$T/bin/wm"
export PATH="$T/bin:$PATH"
COMPLETION_DIR=$REPO_DIR/tools/completion

# shell_checks SHELL: what zsh and fish must both complete, through
# SHELL_line LINE, which sets $REPLY_TEXT to " match match ... ".
shell_checks() {
	local sh=$1 o c
	"${sh}_line" "wm "
	for c in $help_commands; do
		expect_in "$sh completes '$c'" " $c " "$REPLY_TEXT"
	done
	expect_not_in "$sh: no internal exec" " exec " "$REPLY_TEXT"
	for c in ru:run ini:init; do
		"${sh}_line" "wm ${c%%:*}"
		[[ $REPLY_TEXT == " ${c#*:} " ]] && pass "$sh: ${c%%:*} gives ${c#*:}" ||
			fail "$sh: ${c%%:*} gives ${c#*:}" "$REPLY_TEXT"
	done
	"${sh}_line" "wm run --"
	for o in --jobs --policy --policies --env --secret --keep-going --dry-run --interactive \
		--detach --workspace --json --yes --executor --from --verbose --output --tail; do
		expect_in "$sh: run option $o" " $o " "$REPLY_TEXT"
	done
	WM_TEST_SECRET_NAME=x "${sh}_line" "wm run --secret WM_TEST_SECRET_"
	expect_in "$sh: --secret completes variable names" " WM_TEST_SECRET_NAME " "$REPLY_TEXT"
	"${sh}_line" "wm resume --output "
	expect_in "$sh: --output modes" " compact stream " "$REPLY_TEXT"
	"${sh}_line" "wm init --"
	expect_in "$sh: init options" " --force --list --template " "$REPLY_TEXT"
	"${sh}_line" "wm init --template "
	expect_in "$sh: template names" " basic ci data incident nightly release rollout security-scan " "$REPLY_TEXT"
	"${sh}_line" "wm run --policy "
	expect_in "$sh: policy names" " paranoid " "$REPLY_TEXT"
	"${sh}_line" "wm resume "
	expect_in "$sh: run ids" " 20261121-070000-ffff 20261122-081503-a1b2 " "$REPLY_TEXT"
	"${sh}_line" "wm --state-dir $other cancel "
	[[ $REPLY_TEXT == " 20260101-000000-beef " ]] && pass "$sh: --state-dir on the line" ||
		fail "$sh: --state-dir on the line" "$REPLY_TEXT"
	"${sh}_line" "wm logs 20261122-08 "
	expect_in "$sh: task ids of a run given by prefix" " build fetch-sources " "$REPLY_TEXT"
	"${sh}_line" "wm audit "
	expect_in "$sh: audit subcommands" " rekey show verify " "$REPLY_TEXT"
	"${sh}_line" "wm sandbox --t"
	expect_in "$sh: sandbox --timeout" " --timeout " "$REPLY_TEXT"
	"${sh}_line" "wm plan --format "
	expect_in "$sh: plan formats" " dot json text " "$REPLY_TEXT"
	"${sh}_line" "wm list --"
	expect_in "$sh: list options" " --json --name --quiet --since --state " "$REPLY_TEXT"
	"${sh}_line" "wm list --state int"
	expect_in "$sh: list --state values" " interrupted " "$REPLY_TEXT"
	"${sh}_line" "wm orphans --"
	expect_not_in "$sh: orphans has no --state" "--state" "$REPLY_TEXT"
	"${sh}_line" "wm stats --"
	expect_in "$sh: stats --since" " --since " "$REPLY_TEXT"
	"${sh}_line" "wm prune --"
	expect_in "$sh: prune options" " --dry-run --force --json --keep --older-than " "$REPLY_TEXT"
	"${sh}_line" "wm outputs 20261122-08 "
	expect_in "$sh: outputs: task ids" " build fetch-sources " "$REPLY_TEXT"
	"${sh}_line" "wm cp 20261122-08"
	expect_in "$sh: cp: a run id, then ':'" "20261122-081503-a1b2" "$REPLY_TEXT"
	"${sh}_line" "wm cp 20261122-081503-a1b2:bu"
	expect_in "$sh: cp: the run's tasks" "build" "$REPLY_TEXT"
	"${sh}_line" "wm cp 20261122-081503-a1b2:build/"
	expect_in "$sh: cp: the task's outputs" "report.txt" "$REPLY_TEXT"
	expect_in "$sh: cp: its directories" "dist" "$REPLY_TEXT"
}

# zsh: an interactive zsh with compinit, in a pseudo-terminal.
if command -v zsh >/dev/null; then
	zsh_line() {
		REPLY_TEXT=" $(timeout 30 zsh -f "$REPO_DIR/tests/tools/zsh_complete.zsh" "$COMPLETION_DIR" "$1" |
			tr '\n' ' ')"
	}
	shell_checks zsh
else
	skip "zsh completion" "zsh is not installed (tools/install-deps installs it)"
fi

# fish: complete -C prints what fish would offer.
if command -v fish >/dev/null; then
	fish_line() {
		REPLY_TEXT=" $(timeout 30 fish -c "set -p fish_complete_path '$COMPLETION_DIR'; complete -C '$1'" 2>&1 |
			cut -f1 | sort | tr '\n' ' ')"
	}
	shell_checks fish
else
	skip "fish completion" "fish is not installed (tools/install-deps installs it)"
fi

# wm image: its subcommands, and --json where it applies.
complete_line "$WM" image ""
[[ $REPLY_TEXT == " ls inspect rm prune " ]] && pass "image subcommands" || fail "image subcommands" "$REPLY_TEXT"
complete_line "$WM" image ls -
[[ $REPLY_TEXT == " --json " ]] && pass "image ls --json" || fail "image ls --json" "$REPLY_TEXT"
complete_line "$WM" image inspect o
[[ $REPLY_TEXT == " oci: " ]] && pass "image inspect offers oci:" || fail "image inspect offers oci:" "$REPLY_TEXT"

# wm serve: its options, the token subcommands and their options.
complete_line "$WM" serve --li
[[ $REPLY_TEXT == " --listen " ]] && pass "serve --listen" || fail "serve --listen" "$REPLY_TEXT"
complete_line "$WM" serve token ""
[[ $REPLY_TEXT == " create list revoke " ]] && pass "serve token subcommands" ||
	fail "serve token subcommands" "$REPLY_TEXT"
complete_line "$WM" serve token create --role ""
[[ $REPLY_TEXT == " read run " ]] && pass "serve token create --role" ||
	fail "serve token create --role" "$REPLY_TEXT"
