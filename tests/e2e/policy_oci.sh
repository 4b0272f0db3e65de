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

# Docker's own profile as Debian ships it (golang-github-docker-docker-dev),
# its old-format fixture, and tests/data's copy extended with what newer
# profiles carry (an SCMP_ARCH_LOONGARCH64 archMap entry, getxattrat and
# other calls newer than this libseccomp): ordinary programs run under each.
DOCKER=/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp
if [[ -r $DOCKER/default.json ]]; then
	{
		printf 'version: 1\npolicies:\n'
		printf '  docker: {inherits: standard, seccomp: {profile: %s}}\n' "$DOCKER/default.json"
		printf '  docker-old: {inherits: standard, seccomp: {profile: %s}}\n' \
			"$DOCKER/fixtures/default-old-format.json"
		printf '  docker-newer: {inherits: standard, seccomp: {profile: %s}}\n' \
			"$D/docker-default-newer.json"
	} >"$T/docker.yaml"
	expect_exit "Docker's profiles load" 0 "$WM" policy check "$T/docker.yaml"
	expect_in "the newer copy's unknown architecture is a warning at its place" \
		"docker-default-newer.json:46:20: warning: unknown architecture 'SCMP_ARCH_LOONGARCH64' skipped" "$OUT"
	expect_in "its unknown calls too" \
		"docker-default-newer.json:171:5: warning: syscalls[0]: unknown system call 'getxattrat' skipped" "$OUT"
	for p in docker docker-old docker-newer; do
		expect_exit "$p: sh -c 'echo hi; ls /' runs" 0 "$WM" sandbox --policies "$T/docker.yaml" \
			--policy "$p" -- sh -c 'echo hi; ls /'
		expect_in "$p: its output" "hi" "$OUT"
		expect_in "$p: ls worked" "usr" "$OUT"
		expect_not_in "$p: nothing denied" "denied syscall" "$OUT"
	done
	OUT=$("$WM" sandbox --policies "$T/docker.yaml" --policy docker -- \
		sh -c 'chroot / true >/dev/null 2>&1' 2>&1)
	rc=$?
	if ((rc != 0)); then pass "docker: chroot is denied"; else fail "docker: chroot is denied" "exit 0"; fi
	expect_in "docker: the denial names chroot" "denied syscall chroot" "$OUT"
	expect_exit "import-oci of the newer copy" 0 "$WM" policy import-oci "$D/docker-default-newer.json" --name newer
else
	fail "Docker's profile" "$DOCKER/default.json missing (tools/install-deps installs golang-github-docker-docker-dev)"
fi
