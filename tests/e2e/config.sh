#!/usr/bin/env bash
# The user's default config files ($XDG_CONFIG_HOME/wm/policies.yaml and
# config.yaml) when they cannot be read, as under sudo or setpriv with a
# HOME that is not the user's: a warning, as git gives, and wm goes on.
# A file named on the command line or by the workflow stays an error.
# Runs as nobody when root (a file nobody may not read), else on a file
# of mode 000.
. "$(dirname "$0")/../lib.sh"

cfg=$T/cfg
mkdir -p "$cfg/wm" "$T/ws"
printf 'version: 1\npolicies:\n  mine: {inherits: standard}\n' >"$cfg/wm/policies.yaml"
printf 'policy_floor: paranoid\n' >"$cfg/wm/config.yaml"
printf '## a\n```sh\necho hi > "$WM_OUT/hi"\n```\n' >"$T/ws/w.md"
chmod 755 "$T/ws"
chmod 644 "$T/ws/w.md"
if is_root; then
	chmod 700 "$cfg" # nobody cannot enter it
	as() { as_user env XDG_CONFIG_HOME="$cfg" "$@"; }
else
	chmod 000 "$cfg/wm/policies.yaml" "$cfg/wm/config.yaml"
	as() { env XDG_CONFIG_HOME="$cfg" "$@"; }
fi
if as test -r "$cfg/wm/policies.yaml"; then
	skip "unreadable config" "the test user can read the config files anyway"
	exit 0
fi

want_p="wm: warning: cannot read \`$cfg/wm/policies.yaml\`: Permission denied; ignored"
want_c="wm: warning: cannot read \`$cfg/wm/config.yaml\`: Permission denied; ignored"
expect_exit "plan goes on" 0 as "$WM" plan "$T/ws/w.md"
expect_in "plan warns: policies.yaml" "$want_p" "$OUT"
expect_in "plan warns: config.yaml" "$want_c" "$OUT"
[[ $(grep -c "policies.yaml" <<<"$OUT") == 1 ]] && pass "the warning is given once" ||
	fail "the warning is given once" "$OUT"
expect_in "plan: the floor of the unread config does not apply" "policy standard" "$OUT"
expect_exit "policy list goes on" 0 as "$WM" policy list
expect_in "policy list warns" "$want_p" "$OUT"
expect_in "policy list lists the built-ins" "builtin:paranoid" "$OUT"
expect_not_in "the unread policy is not there" "mine " "$OUT"
expect_exit "policy check goes on" 0 as "$WM" policy check "$REPO_DIR/tests/data/policies/inherit.yaml"
if userns_ok || ! is_root; then
	expect_exit "sandbox goes on" 0 as "$WM" sandbox --workspace "$T/ws" -- true
	expect_in "sandbox warns" "$want_p" "$OUT"
	expect_exit "run goes on" 0 as "$WM" run "$T/ws/w.md"
	expect_in "run warns" "$want_p" "$OUT"
	expect_in "run succeeds" "succeeded" "$OUT"
else
	skip "sandbox and run with an unreadable config" "no unprivileged user namespaces here"
fi

# Named files must be read.
expect_exit "a floor naming a policy of the unread file: exit 2" 2 as "$WM" plan --policy mine "$T/ws/w.md"
expect_exit "policy list --policies unreadable is exit 2" 2 \
	as "$WM" policy list --policies "$cfg/wm/policies.yaml"
expect_in "--policies: the error names the file" \
	"wm: read policy file \`$cfg/wm/policies.yaml\`: Permission denied" "$OUT"
expect_exit "run --policies unreadable is exit 2" 2 \
	as "$WM" run --policies "$cfg/wm/policies.yaml" "$T/ws/w.md"
expect_exit "sandbox --policies unreadable is exit 2" 2 \
	as "$WM" sandbox --policies "$cfg/wm/policies.yaml" -- true
printf -- '---\npolicies: %s\n---\n## a\n```sh\ntrue\n```\n' "$cfg/wm/policies.yaml" >"$T/ws/fm.md"
chmod 644 "$T/ws/fm.md"
expect_exit "front matter policies: unreadable is exit 2" 2 as "$WM" plan "$T/ws/fm.md"
expect_in "front matter policies: named" "Permission denied" "$OUT"

# HOME=/root for someone else, the case that started this.
if is_root && ! as_user test -r /root/.config/wm/policies.yaml 2>/dev/null &&
	! as_user test -x /root; then
	expect_exit "HOME=/root as nobody: plan" 0 as_user env HOME=/root "$WM" plan "$T/ws/w.md"
	expect_not_in "HOME=/root as nobody: no error" "error" "$OUT"
else
	skip "HOME=/root as nobody" "not root, or nobody may enter /root here"
fi

# A readable config is read as before.
if is_root; then
	chmod 755 "$cfg"
	chmod 644 "$cfg/wm/policies.yaml" "$cfg/wm/config.yaml"
else
	chmod 644 "$cfg/wm/policies.yaml" "$cfg/wm/config.yaml"
fi
expect_exit "readable config: plan" 0 as "$WM" plan "$T/ws/w.md"
expect_not_in "readable config: no warning" "cannot read" "$OUT"
expect_in "readable config: its floor applies" "policy paranoid" "$OUT"
