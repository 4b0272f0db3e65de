#!/usr/bin/env bash
# The command-line skeleton: help, version, usage errors and their exit codes.
. "$(dirname "$0")/../lib.sh"

expect_exit "version exits 0" 0 "$WM" --version
expect_in "version names wm" "wm " "$OUT"
expect_exit "help exits 0" 0 "$WM" help
expect_in "help lists every command" "sandbox" "$OUT"
expect_exit "help of one command" 0 "$WM" help plan
expect_in "help plan shows usage" "plan FILE" "$OUT"
expect_exit "no command is a usage error" 2 "$WM"
expect_exit "unknown command is a usage error" 2 "$WM" frobnicate
expect_in "unknown command is named" "frobnicate" "$OUT"
expect_exit "help of unknown command" 2 "$WM" help frobnicate
expect_exit "bad global option" 2 "$WM" --bogus plan x

# ---- --help and -h on every command, the same text as `wm help CMD` ----
for cmd in $("$WM" help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}'); do
	want=$("$WM" help "$cmd")
	expect_exit "$cmd --help exits 0" 0 "$WM" "$cmd" --help
	[[ $OUT == "$want" ]] && pass "$cmd --help is wm help $cmd" || fail "$cmd --help is wm help $cmd" "$OUT"
	expect_exit "$cmd -h exits 0" 0 "$WM" "$cmd" -h
	expect_in "$cmd -h shows its usage" "usage: wm $cmd" "$OUT"
done
expect_exit "help run describes every option" 0 "$WM" help run
for o in --jobs --policy --policies --env --keep-going --dry-run --interactive --detach \
	--workspace --json --yes --executor; do
	expect_in "help run: $o" "$o" "$OUT"
done
expect_exit "cancel -h is help, not a run id" 0 "$WM" cancel -h
expect_not_in "cancel -h: no run lookup" "unknown run" "$OUT"
# A sandboxed command's own -h is its own.
expect_exit "sandbox: the command's -h is the command's" 0 "$WM" sandbox --policy minimal -- \
	/bin/sh -c 'echo "got $1"' sh -h
expect_in "sandbox: -h reached the command" "got -h" "$OUT"

# ---- option errors: said once, precisely, with the usage line ----
expect_exit "unknown option" 2 "$WM" run --bogus x.md
expect_in "unknown option is named" "wm: unknown or ambiguous option '--bogus'" "$OUT"
n=$(grep -c "bogus" <<<"$OUT")
[[ $n == 1 ]] && pass "unknown option said once" || fail "unknown option said once" "$OUT"
expect_in "with the usage line" "usage: wm run FILE" "$OUT"
expect_exit "misspelt option" 2 "$WM" run --jsno x.md
expect_in "did you mean, for options" "did you mean '--json'?" "$OUT"
expect_exit "option without its value" 2 "$WM" plan --format
expect_in "names the option wanting a value" "option '--format' needs a value" "$OUT"
expect_exit "value for a flag" 2 "$WM" status --json=yes
expect_in "flag given a value" "option '--json' takes no value" "$OUT"
expect_exit "short option without its value" 2 "$WM" run -j
expect_in "names the short option" "option '-j' needs a value" "$OUT"
expect_exit "did you mean, for commands" 2 "$WM" rnu x.md
expect_in "rnu suggests run" "did you mean 'run'?" "$OUT"
expect_exit "help of a misspelt command" 2 "$WM" help plna
expect_in "plna suggests plan" "did you mean 'plan'?" "$OUT"

# ---- global options after the command ----
mkdir -p "$T/g"
printf '## a\n```sh\necho hi\n```\n' >"$T/g/a.md"
expect_exit "a run in another state dir" 0 "$WM" --state-dir "$T/g/state" run --policy minimal --yes "$T/g/a.md"
rid=$("$WM" --state-dir "$T/g/state" list --json | jq -r '.[0].id')
expect_exit "--state-dir after the command" 0 "$WM" list --state-dir "$T/g/state"
expect_in "after the command, the same state dir" "$rid" "$OUT"
expect_exit "--state-dir=DIR after the command" 0 "$WM" status --json --state-dir="$T/g/state"
expect_in "status found the run there" '"succeeded"' "$OUT"

# ---- exit codes as SPEC says ----
expect_exit "missing --policies file is bad input" 2 "$WM" run --policies "$T/nope.yaml" "$T/g/a.md"
expect_exit "missing --workspace is bad input" 2 "$WM" run --workspace "$T/nope" "$T/g/a.md"
expect_exit "sandbox --timeout exits 124 like timeout(1)" 124 "$WM" sandbox --policy minimal \
	--timeout 300ms -- sleep 5
expect_exit "policy diff: 1 when the policies differ" 1 "$WM" policy diff standard hardened
expect_exit "policy diff: 0 when they do not" 0 "$WM" policy diff standard standard
expect_exit "cancel of a run that ended: exit 0" 0 "$WM" --state-dir "$T/g/state" cancel "$rid"
expect_in "cancel says it ended" "already ended (succeeded)" "$OUT"

# ---- did you mean: dependency ids, run ids, task names, capabilities ----
printf '## lint-code\n```sh\ntrue\n```\n## b\n- depends: lint\n```sh\ntrue\n```\n' >"$T/dep.md"
expect_exit "unknown dependency" 2 "$WM" plan "$T/dep.md"
expect_in "lint suggests lint-code" "unknown dependency \`lint\` (did you mean \`lint-code\`?)" "$OUT"
# one character of the tail changed (to one it is not)
last=${rid: -1}
[[ $last == 0 ]] && repl=1 || repl=0
bad=${rid%?}$repl
expect_exit "a mistyped run id" 2 "$WM" --state-dir "$T/g/state" status "$bad"
expect_in "suggests the run id" "did you mean $rid?" "$OUT"
expect_exit "logs of an unknown task" 2 "$WM" --state-dir "$T/g/state" logs "$rid" b
expect_exit "logs of a misspelt task" 2 "$WM" --state-dir "$T/g/state" logs "$rid" aa
expect_in "suggests the task" "has no task 'aa' (did you mean 'a'?)" "$OUT"
printf 'version: 1\npolicies:\n  p1:\n    inherits: standard\n    capabilities: [net_admn, cap_sys_chrot]\n' >"$T/caps.yaml"
expect_exit "misspelt capabilities" 2 "$WM" policy check "$T/caps.yaml"
expect_in "capability without cap_ and misspelt" "'net_admn' (did you mean 'cap_net_admin'?)" "$OUT"
expect_in "capability misspelt" "'cap_sys_chrot' (did you mean 'cap_sys_chroot'?)" "$OUT"

# ---- attribute lists that almost parse: a warning at the place ----
printf '## a\n- timeout 5m\n- Retries: 2\n\n```sh\ntrue\n```\n' >"$T/near.md"
expect_exit "a near attribute list still plans" 0 "$WM" plan "$T/near.md"
expect_in "a key without its colon" "near.md:2:3: warning: \`timeout 5m\` looks like an attribute without its colon" "$OUT"
expect_in "a key in another case" "near.md:3:3: warning: \`Retries:\` looks like the attribute \`retries\`" "$OUT"
