/* The built-in filters, loaded for real: ordinary tools run under each of
 * them and the calls each must deny fail. The filter is built here from
 * struct wm_policy the plain way (one libseccomp rule per resolved rule),
 * in a forked child, so the test checks the policies' content, not the
 * sandbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policies/policies.h"

static uint32_t action(enum wm_seccomp_action a, int e)
{
	switch (a) {
	case WM_SC_ALLOW:
		return SCMP_ACT_ALLOW;
	case WM_SC_ERRNO:
		return SCMP_ACT_ERRNO((uint32_t)(e ? e : EPERM));
	case WM_SC_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case WM_SC_TRAP:
		return SCMP_ACT_TRAP;
	case WM_SC_LOG:
		return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

/* Builds the filter; fails the test on a rule libseccomp refuses (other than
 * "same action as the default"), which would also break the sandbox. */
static scmp_filter_ctx build(const struct wm_policy *p)
{
	static const enum scmp_compare ops[] = { SCMP_CMP_EQ,	    SCMP_CMP_NE, SCMP_CMP_LT,
						 SCMP_CMP_LE,	    SCMP_CMP_GT, SCMP_CMP_GE,
						 SCMP_CMP_MASKED_EQ };
	scmp_filter_ctx c =
		seccomp_init(action(p->seccomp.default_action, p->seccomp.default_errno));

	assert_non_null(c);
	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
		struct scmp_arg_cmp cmp[6];
		int nr = seccomp_syscall_resolve_name(r->name), rc;

		if (nr < 0)
			continue; /* not on this architecture */
		for (size_t k = 0; k < r->n_args; k++) {
			cmp[k].arg = r->args[k].index;
			cmp[k].op = ops[r->args[k].op];
			cmp[k].datum_a = r->args[k].value;
			cmp[k].datum_b = r->args[k].value_two;
		}
		rc = seccomp_rule_add_array(c, action(r->action, r->errno_ret), nr,
					    (unsigned)r->n_args, cmp);
		if (rc < 0 && rc != -EACCES)
			fail_msg("%s: rule for %s refused: %s", p->name, r->name, strerror(-rc));
	}
	return c;
}

/* Runs `sh -c script` under the policy's filter; returns its wait status. */
static int run(const char *policy, const char *script)
{
	struct wm_policy_set *set = wm_policy_set_new();
	scmp_filter_ctx c = build(wm_policy_set_get(set, policy));
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(c) < 0)
			_exit(99);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	seccomp_release(c);
	wm_policy_set_free(set);
	return status;
}

static const char tools[] =
	"set -e; echo hi; ls / >/dev/null; cat /etc/hostname >/dev/null; x=$(date);"
	"test -n \"$x\"; d=/tmp/wm-pol-run.$$; mkdir $d; echo a >$d/f; sort $d/f >/dev/null;"
	"sed s/a/b/ $d/f >/dev/null; tar cf /dev/null $d/f; rm -r $d;"
	"python3 -c 'import subprocess, json, os; subprocess.run([\"true\"], check=True);"
	"json.dumps(os.listdir(\"/\"))'";

static void test_tools_run(void **state)
{
	static const char *const names[] = { "development", "testing", "standard", "hardened",
					     "paranoid" };

	(void)state;
	if (run("development", "true") == 99 << 8)
		skip(); /* no seccomp on this host */
	for (size_t i = 0; i < 5; i++) {
		int st = run(names[i], tools);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("ordinary tools fail under %s (status %#x)", names[i], st);
	}
}

static void test_denials(void **state)
{
	static const char *const strict[] = { "standard", "hardened", "paranoid" };
	int st;

	(void)state;
	if (run("development", "true") == 99 << 8)
		skip();
	/* ptrace (101 on x86_64) fails everywhere from development on. */
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		st = run("development", "python3 -c 'import ctypes, sys; l=ctypes.CDLL(None);"
					"sys.exit(0 if l.syscall(101, 16, 1, 0, 0) == -1 else 1)'");
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (size_t i = 0; i < 3; i++) {
		/* No namespaces, no personality flags beyond the allowed values. */
		st = run(strict[i], "unshare -U true");
		assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		st = run(strict[i], "setarch -R true");
		assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Sockets fail under paranoid; unlisted calls kill. */
	st = run("paranoid", "exec python3 -c 'import socket, sys\ntry: socket.socket()\n"
			     "except PermissionError: sys.exit(0)\nsys.exit(1)'");
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run("paranoid", "exec python3 -c 'import os; os.setsid()'");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tools_run),
		cmocka_unit_test(test_denials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
