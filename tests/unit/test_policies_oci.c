/* Unit tests for OCI/Docker seccomp profiles (issue 12 item 4): Docker's own
 * profile and fixtures as Debian ships them (golang-github-docker-docker-dev,
 * which tools/install-deps installs), and tests/data's copy extended with
 * what newer upstream profiles carry: architectures and system calls this
 * libseccomp does not know are skipped with a warning at their place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/diagcheck.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "policies/policies.h"

#define DOCKER_DIR "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/"
#define NEWER "tests/data/policies/docker-default-newer.json"
#define PODMAN "/usr/share/containers/seccomp.json"
#define DOCKER DOCKER_DIR "default.json"

static bool allowed(const struct wm_policy *p, const char *name)
{
	int cond;
	enum wm_seccomp_action a = wm_policy_syscall_action(p, name, NULL, &cond);

	return a == WM_SC_ALLOW || a == WM_SC_LOG || cond;
}

/* Loads `policies:` with one policy `p` on `profile` keeping `caps`. */
static struct wm_policy_set *load(const char *profile, const char *caps, struct wm_diags *d,
				  int want)
{
	struct wm_policy_set *set = wm_policy_set_new();
	char y[1024];

	snprintf(y, sizeof(y),
		 "version: 1\npolicies:\n  p:\n    inherits: standard\n    capabilities: [%s]\n"
		 "    seccomp: {profile: %s}\n",
		 caps, profile);
	if (wm_policy_set_load_text(set, "docker.yaml", y, strlen(y), d, NULL) != want) {
		wm_test_print_diags(d);
		fail_msg("loading %s", profile);
	}
	return set;
}

static void check_real_profile(const char *path)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *y = NULL;
	const struct wm_policy *p, *q;

	y = NULL;
	{
		size_t n = 2 * strlen(path) + 200;
		y = malloc(n);
		snprintf(y, n,
			 "version: 1\npolicies:\n  plain:\n    seccomp: {profile: %s}\n"
			 "  chroot:\n    capabilities: [cap_sys_chroot]\n    seccomp: {profile: "
			 "%s}\n",
			 path, path);
	}
	assert_int_equal(wm_policy_set_load_text(set, "real.yaml", y, strlen(y), &d, NULL), 0);
	assert_int_equal(d.n_errors, 0);
	p = wm_policy_set_get(set, "plain");
	q = wm_policy_set_get(set, "chroot");
	assert_int_equal(p->seccomp.default_action, WM_SC_ERRNO);
	assert_true(p->seccomp.n_rules > 300);
	assert_true(allowed(p, "read") && allowed(p, "openat") && allowed(p, "clone"));
	/* Calls the runtimes deny without the capability, allow with it. */
	assert_false(allowed(p, "chroot"));
	assert_true(allowed(q, "chroot"));
	assert_false(allowed(p, "bpf") || allowed(p, "kexec_load") || allowed(p, "init_module"));
	/* socket: filtered by arguments (AF_NETLINK audit) as under the runtimes. */
	{
		int cond;
		wm_policy_syscall_action(p, "socket", NULL, &cond);
		assert_true(cond || allowed(p, "socket"));
	}
	free(y);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_real_profiles(void **state)
{
	bool any = false;

	(void)state;
	if (access(PODMAN, R_OK) == 0) {
		check_real_profile(PODMAN);
		any = true;
	}
	if (access(DOCKER, R_OK) == 0) {
		check_real_profile(DOCKER);
		any = true;
	}
	if (!any)
		skip(); /* tools/install-deps installs both packages */
}

static void need(const char *path)
{
	if (access(path, R_OK) != 0)
		fail_msg("%s missing: tools/install-deps installs golang-github-docker-docker-dev",
			 path);
}

static void test_docker_default(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_policy_set *set;
	const struct wm_policy *p;

	(void)state;
	need(DOCKER_DIR "default.json");
	set = load(DOCKER_DIR "default.json", "", &d, 0);
	p = wm_policy_set_get(set, "p");
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(p->seccomp.default_action, WM_SC_ERRNO);
	assert_true(allowed(p, "read") && allowed(p, "execve") && allowed(p, "openat"));
	assert_false(allowed(p, "kexec_load") || allowed(p, "bpf") || allowed(p, "chroot"));
	wm_policy_set_free(set);
	wm_diags_release(&d);
}

static void test_docker_fixtures(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_policy_set *set;
	const struct wm_policy *p;
	int cond;

	(void)state;
	need(DOCKER_DIR "fixtures/conditional_include.json");
	/* includes.caps / excludes.caps, decided by the policy's capabilities. */
	set = load(DOCKER_DIR "fixtures/conditional_include.json", "", &d, 0);
	p = wm_policy_set_get(set, "p");
	assert_true(allowed(p, "chmod") && allowed(p, "ptrace"));
	assert_false(allowed(p, "syslog") || allowed(p, "read"));
	wm_policy_set_free(set);
	set = load(DOCKER_DIR "fixtures/conditional_include.json", "cap_syslog, cap_sys_admin", &d,
		   0);
	p = wm_policy_set_get(set, "p");
	assert_true(allowed(p, "syslog") && !allowed(p, "ptrace"));
	wm_policy_set_free(set);
	/* The old format: one "name" per entry, with conditions. */
	set = load(DOCKER_DIR "fixtures/example.json", "", &d, 0);
	p = wm_policy_set_get(set, "p");
	assert_true(allowed(p, "open") && allowed(p, "close"));
	wm_policy_syscall_action(p, "clone", NULL, &cond);
	assert_true(cond);
	wm_policy_set_free(set);
	set = load(DOCKER_DIR "fixtures/default-old-format.json", "", &d, 0);
	p = wm_policy_set_get(set, "p");
	assert_true(allowed(p, "read") && allowed(p, "execve") && !allowed(p, "kexec_load"));
	/* Calls newer than the profile fail with ENOSYS, as under runc, so libc
	 * falls back (statx to fstatat); older unlisted calls keep the default. */
	{
		int e = 0;

		assert_int_equal(wm_policy_syscall_action(p, "statx", &e, NULL), WM_SC_ERRNO);
		assert_int_equal(e, ENOSYS);
		assert_int_equal(wm_policy_syscall_action(p, "kexec_load", &e, NULL), WM_SC_ERRNO);
		assert_int_equal(e, 0);
	}
	wm_policy_set_free(set);
	assert_int_equal(d.n_errors, 0);
	wm_diags_release(&d);
}

/* The copy with an SCMP_ARCH_LOONGARCH64 archMap entry and system calls
 * newer than this libseccomp: warnings at their places, and the same filter
 * as the profile Debian ships on this machine. */
static void test_newer_profile(void **state)
{
	static const struct {
		const char *name;
		unsigned line;
	} newer[] = { { "getxattrat", 171 }, { "listxattrat", 172 }, { "removexattrat", 173 },
		      { "setxattrat", 174 }, { "mseal", 175 },	     { "uretprobe", 176 } };
	struct wm_diags d = WM_DIAGS_INIT, d2 = WM_DIAGS_INIT;
	struct wm_policy_set *set, *base;
	char *h1, *h2;
	bool all_unknown = true;

	(void)state;
	need(DOCKER_DIR "default.json");
	set = load(NEWER, "", &d, 0);
	assert_int_equal(d.n_errors, 0);
	if (seccomp_arch_resolve_name("loongarch64") == 0)
		assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 46, 20,
					     "unknown architecture 'SCMP_ARCH_LOONGARCH64' "
					     "skipped"));
	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		char msg[128];

		if (seccomp_syscall_resolve_name(newer[i].name) != __NR_SCMP_ERROR) {
			all_unknown = false;
			continue;
		}
		snprintf(msg, sizeof(msg), "syscalls[0]: unknown system call '%s' skipped",
			 newer[i].name);
		if (!wm_test_has_diag(&d, WM_DIAG_WARNING, newer[i].line, 5, msg)) {
			wm_test_print_diags(&d);
			fail_msg("no warning for %s", newer[i].name);
		}
		assert_string_equal(d.v[0].file, NEWER);
	}
	base = load(DOCKER_DIR "default.json", "", &d2, 0);
	h1 = wm_policy_hash(wm_policy_set_get(set, "p"));
	h2 = wm_policy_hash(wm_policy_set_get(base, "p"));
	if (all_unknown)
		assert_string_equal(h1, h2);
	free(h1);
	free(h2);
	wm_policy_set_free(set);
	wm_policy_set_free(base);
	wm_diags_release(&d);
	wm_diags_release(&d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_profiles),
		cmocka_unit_test(test_docker_default),
		cmocka_unit_test(test_docker_fixtures),
		cmocka_unit_test(test_newer_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
