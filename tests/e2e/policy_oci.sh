#!/usr/bin/env bash
# `wm sandbox` under a policy whose filter is an imported OCI seccomp
# profile: what the profile denies fails, and the denial is reported by name.
. "$(dirname "$0")/../lib.sh"
D=$REPO_DIR/tests/data/policies
PODMAN=/usr/share/containers/seccomp.json

probe=$("$WM" sandbox --policy minimal -- true 2>&1)
if [[ $probe == *"not implemented yet"* ]]; then
	skip "policy_oci" "wm sandbox not implemented"
	exit 0
fi

expect_exit "control: allowed command runs" 0 "$WM" sandbox --policies "$D/oci-e2e.yaml" \
	--policy oci-uname -- true
# The command's own messages go to /dev/null: a name in the output comes
# from wm's report of the denial.
expect_exit "uname denied by the imported profile fails" 1 "$WM" sandbox \
	--policies "$D/oci-e2e.yaml" --policy oci-uname -- sh -c 'uname -a >/dev/null 2>&1'
expect_in "the denial names uname" "uname" "$OUT"
expect_exit "a call the profile allows still works" 0 "$WM" sandbox \
	--policies "$D/oci-e2e.yaml" --policy oci-uname -- sh -c 'echo ok >/dev/null'
expect_not_in "no denial reported when none happened" "uname" "$OUT"

if [[ -r $PODMAN ]]; then
	printf 'version: 1\npolicies:\n  podman:\n    inherits: development\n    seccomp: {profile: %s}\n' \
		"$PODMAN" >"$T/podman.yaml"
	expect_exit "podman profile: allowed command runs" 0 "$WM" sandbox --policies \
		"$T/podman.yaml" --policy podman -- sh -c 'echo hi'
	expect_in "podman profile: output" "hi" "$OUT"
	OUT=$("$WM" sandbox --policies "$T/podman.yaml" --policy podman -- \
		sh -c 'chroot / true >/dev/null 2>&1' 2>&1)
	rc=$?
	if ((rc != 0)); then pass "podman profile: chroot denied"; else fail "podman profile: chroot denied" "exit 0"; fi
	expect_in "podman profile: denial names chroot" "chroot" "$OUT"
else
	skip "podman profile" "$PODMAN missing (tools/install-deps installs it)"
fi
