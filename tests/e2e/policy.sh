#!/usr/bin/env bash
# `wm policy`: list, show, check, diff, import-oci; exit codes and
# FILE:LINE:COL errors.
. "$(dirname "$0")/../lib.sh"
D=$REPO_DIR/tests/data/policies
export XDG_CONFIG_HOME=$T/config

expect_exit "list exits 0" 0 "$WM" policy list
for p in minimal development testing standard hardened paranoid; do
	expect_in "list names $p" "$p" "$OUT"
done
expect_in "list gives the source" "builtin:standard" "$OUT"

expect_exit "show standard" 0 "$WM" policy show standard
expect_in "show prints the allowlist" "default_action: errno" "$OUT"
expect_in "show prints a hash" "sha256 " "$OUT"
expect_exit "show unknown policy is exit 2" 2 "$WM" policy show standrd
expect_in "unknown policy gets a hint" "did you mean 'standard'" "$OUT"

# show | check | show is a fixed point, for every built-in.
for p in minimal development testing standard hardened paranoid; do
	"$WM" policy show "$p" >"$T/$p.yaml" 2>/dev/null
	expect_exit "check accepts show $p" 0 "$WM" policy check "$T/$p.yaml"
	"$WM" policy show "$p" --policies "$T/$p.yaml" >"$T/$p.again" 2>/dev/null
	check "show | check | show is stable for $p" cmp -s "$T/$p.yaml" "$T/$p.again"
done

expect_exit "check a good file" 0 "$WM" policy check "$D/inherit.yaml"
expect_in "check names the policies" "ok base child oci quiet" "$OUT"
expect_exit "check a bad file is exit 2" 2 "$WM" policy check "$D/errors.yaml"
expect_in "error has FILE:LINE:COL" "errors.yaml:5:5: error: unknown key 'netwrok'" "$OUT"
expect_in "every error is reported" "errors.yaml:28:15: error: 'six' inherits itself" "$OUT"
expect_in "unknown syscall is named" "unknown system call 'ptrcae' (did you mean 'ptrace'?)" "$OUT"
expect_in "unknown capability is named" "unknown capability 'cap_frobnicate'" "$OUT"
expect_in "error count" "14 errors" "$OUT"
OUT=$(cd "$D" && "$WM" policy check errors.yaml 2>&1)
expect_in "errors name the file as written" $'\nerrors.yaml:5:5: error:' $'\n'"$OUT"
expect_exit "check a missing file is bad input: exit 2" 2 "$WM" policy check "$T/nope.yaml"
expect_in "check a missing file: named" "nope.yaml\`: No such file or directory" "$OUT"

expect_exit "diff exits 1 when they differ, as diff(1)" 1 "$WM" policy diff development testing
expect_in "diff explains network" "network: A host, B loopback (B can reach loopback services)" "$OUT"
expect_in "diff compares limits" "memory limit: A 16G, B 4G" "$OUT"
expect_exit "diff standard hardened" 1 "$WM" policy diff hardened standard
expect_in "diff lists syscalls" "syscalls B allows that A denies:" "$OUT"
expect_exit "diff of equal policies" 0 "$WM" policy diff standard standard
expect_in "equal policies" "no difference in effect" "$OUT"
expect_exit "diff needs two names" 2 "$WM" policy diff standard

expect_exit "import-oci" 0 "$WM" policy import-oci "$D/oci-deny-uname.json" --name nouname
printf '%s\n' "$OUT" >"$T/imported.yaml"
expect_in "import-oci names the profile" "profile: $D/oci-deny-uname.json" "$OUT"
expect_exit "imported policy checks" 0 "$WM" policy check "$T/imported.yaml"
expect_exit "imported policy shows" 0 "$WM" policy show nouname --policies "$T/imported.yaml"
expect_in "imported filter denies uname" "deny: [bpf, kexec_load, mount, ptrace, uname]" "$OUT"
expect_exit "import-oci of a bad profile" 2 "$WM" policy import-oci "$D/oci-bad.json" --name x
expect_in "bad profile error" "unknown action 'SCMP_ACT_FROB'" "$OUT"
expect_exit "import-oci of broken JSON" 2 "$WM" policy import-oci "$D/oci-syntax.json" --name x
expect_in "broken JSON located" "oci-syntax.json:4:24: error: JSON:" "$OUT"
expect_exit "import-oci needs --name" 2 "$WM" policy import-oci "$D/oci-all.json"

# The user's config is part of the search order.
mkdir -p "$XDG_CONFIG_HOME/wm"
printf 'version: 1\npolicies:\n  mine: {inherits: testing, description: from config}\n' \
	>"$XDG_CONFIG_HOME/wm/policies.yaml"
expect_exit "list with a user config" 0 "$WM" policy list
expect_in "user config policy listed" "from config" "$OUT"
printf 'version: 1\npolicies:\n  mine: {inherits: testng}\n' >"$XDG_CONFIG_HOME/wm/policies.yaml"
expect_exit "bad user config is exit 2" 2 "$WM" policy list
expect_in "user config error located" "policies.yaml:3:20: error:" "$OUT"
rm -f "$XDG_CONFIG_HOME/wm/policies.yaml"

expect_exit "unknown subcommand" 2 "$WM" policy frob
expect_exit "no subcommand" 2 "$WM" policy

# A policy under which nothing can start is valid but warned about.
printf 'version: 1\npolicies:\n  q:\n    inherits: standard\n    seccomp: {deny: [execve, write]}\n  fine:\n    inherits: standard\n' >"$T/startup.yaml"
expect_exit "a policy denying execve still checks" 0 "$WM" policy check "$T/startup.yaml"
expect_in "but is warned about, with the calls" "policy \`q\` denies execve, write: no program can start" "$OUT"
expect_not_in "a sound policy beside it is not" "policy \`fine\`" "$OUT"
