/* Unit tests for policies/: loader errors, built-ins, inheritance, OCI
 * import, hashing, show | check round trip, search order. Fixtures live in
 * tests/data/policies/; run from the repository's top directory. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strutil.h"
#include "policies/policies.h"

#define DATA "tests/data/policies/"
#define PODMAN "/usr/share/containers/seccomp.json"

static const char *const dangerous[] = {
	"ptrace",
	"mount",
	"umount2",
	"pivot_root",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"bpf",
	"perf_event_open",
	"keyctl",
	"add_key",
	"request_key",
	"userfaultfd",
	"open_by_handle_at",
	"name_to_handle_at",
	"reboot",
	"swapon",
	"swapoff",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
};

static bool allowed(const struct wm_policy *p, const char *name)
{
	int cond;
	enum wm_seccomp_action a = wm_policy_syscall_action(p, name, NULL, &cond);
	return a == WM_SC_ALLOW || a == WM_SC_LOG || cond;
}

/* Is there a diagnostic "FILE:LINE:COL: error: ...NEEDLE..."? */
/* On a miss, shows what the loader did say. */
static bool has_diag(const struct wm_diags *d, unsigned line, unsigned col, const char *needle)
{
	if (wm_test_has_diag(d, WM_DIAG_ANY, line, col, needle))
		return true;
	wm_test_print_diags(d);
	fprintf(stderr, "  wanted %u:%u %s\n", line, col, needle);
	return false;
}

static int load_text(struct wm_policy_set *set, const char *text, struct wm_diags *d)
{
	return wm_policy_set_load_text(set, "test.yaml", text, strlen(text), d, NULL);
}

static void test_builtins_exist(void **state)
{
	static const char *const names[] = { "minimal",	 "development", "testing",
					     "standard", "hardened",	"paranoid" };
	struct wm_policy_set *set = wm_policy_set_new();

	(void)state;
	assert_int_equal(wm_policy_set_count(set), 6);
	for (size_t i = 0; i < 6; i++) {
		const struct wm_policy *p = wm_policy_set_at(set, i);
		assert_string_equal(p->name, names[i]);
		assert_non_null(p->description);
		assert_true(wm_str_has_prefix(p->source, "builtin:"));
		assert_non_null(p->env.keep);
		assert_true(wm_strv_contains(p->env.keep, "PATH"));
	}
	wm_policy_set_free(set);
}

static void test_builtin_rows(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	const struct wm_policy *mi = wm_policy_set_get(set, "minimal");
	const struct wm_policy *de = wm_policy_set_get(set, "development");
	const struct wm_policy *te = wm_policy_set_get(set, "testing");
	const struct wm_policy *st = wm_policy_set_get(set, "standard");
	const struct wm_policy *ha = wm_policy_set_get(set, "hardened");
	const struct wm_policy *pa = wm_policy_set_get(set, "paranoid");

	(void)state;
	/* minimal: host, host rw, no filter, timeout only. */
	assert_int_equal(mi->network, WM_NET_HOST);
	assert_int_equal(mi->fs.view, WM_VIEW_HOST_RW);
	assert_false(mi->seccomp.enabled);
	assert_true(mi->limits.timeout_ms > 0);
	assert_true(mi->limits.memory == 0 && mi->limits.pids == 0 && mi->limits.nofile == 0);
	/* development: host read-only, private /tmp, denylist. */
	assert_int_equal(de->network, WM_NET_HOST);
	assert_int_equal(de->fs.view, WM_VIEW_HOST_RO);
	assert_int_equal(de->fs.workspace, WM_WS_RW);
	assert_true(de->fs.tmp_size > 0);
	assert_int_equal(de->seccomp.default_action, WM_SC_ALLOW);
	/* testing: loopback, deterministic env. */
	assert_int_equal(te->network, WM_NET_LOOPBACK);
	assert_true(wm_strv_contains(te->env.set, "TZ=UTC"));
	assert_true(te->limits.memory > 0 && te->limits.memory < de->limits.memory);
	/* standard: allowlist with errno default and the Docker shapes. */
	assert_int_equal(st->network, WM_NET_NONE);
	assert_int_equal(st->seccomp.default_action, WM_SC_ERRNO);
	assert_true(st->limits.memory && st->limits.pids && st->limits.nofile);
	{
		int e, cond;
		assert_int_equal(wm_policy_syscall_action(st, "clone3", &e, &cond), WM_SC_ERRNO);
		assert_int_equal(e, ENOSYS);
		wm_policy_syscall_action(st, "clone", NULL, &cond);
		assert_true(cond);
		wm_policy_syscall_action(st, "personality", NULL, &cond);
		assert_true(cond);
		for (size_t i = 0; i < st->seccomp.n_rules; i++) {
			const struct wm_seccomp_rule *r = &st->seccomp.rules[i];
			if (strcmp(r->name, "clone") == 0) {
				assert_int_equal(r->n_args, 1);
				assert_int_equal(r->args[0].op, WM_SC_OP_MASKED_EQ);
				assert_true(r->args[0].value == 0x7e020000 &&
					    r->args[0].value_two == 0);
			}
		}
	}
	/* hardened: system view, workspace ro, strictly less than standard. */
	assert_int_equal(ha->fs.view, WM_VIEW_SYSTEM);
	assert_int_equal(ha->fs.workspace, WM_WS_RO);
	assert_true(ha->limits.memory < st->limits.memory);
	/* paranoid: minimal view, kill, landlock, PATH only. */
	assert_int_equal(pa->fs.view, WM_VIEW_MINIMAL);
	assert_int_equal(pa->seccomp.default_action, WM_SC_KILL);
	assert_true(pa->landlock);
	assert_int_equal(wm_strv_len(pa->env.keep), 1);
	assert_true(wm_strv_contains(pa->fs.hide, "/home") &&
		    wm_strv_contains(pa->fs.hide, "/root"));
	assert_true(pa->limits.memory < ha->limits.memory);
	/* Strictly narrower: every call hardened allows, standard allows; the same
	 * for paranoid under hardened; and each drops some. */
	{
		size_t fewer_h = 0, fewer_p = 0;
		for (int nr = 0; nr < 1024; nr++) {
			char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
			if (!n)
				continue;
			if (allowed(ha, n))
				assert_true(allowed(st, n));
			if (allowed(pa, n))
				assert_true(allowed(ha, n));
			fewer_h += allowed(st, n) && !allowed(ha, n);
			fewer_p += allowed(ha, n) && !allowed(pa, n);
			free(n);
		}
		assert_true(fewer_h > 10 && fewer_p > 10);
	}
	wm_policy_set_free(set);
}

static bool tiocsti_blocked(const struct wm_policy *p)
{
	/* Evaluate the ioctl rules for request TIOCSTI (also with high bits set). */
	const uint64_t reqs[] = { 0x5412, 0x100005412ULL };

	for (size_t k = 0; k < 2; k++) {
		bool allow = p->seccomp.default_action == WM_SC_ALLOW, matched_uncond = false;
		for (size_t i = 0; i < p->seccomp.n_rules; i++) {
			const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
			bool all = true;
			if (strcmp(r->name, "ioctl") != 0)
				continue;
			if (!r->n_args)
				matched_uncond = true;
			for (size_t j = 0; j < r->n_args; j++) {
				const struct wm_seccomp_arg *a = &r->args[j];
				assert_int_equal(a->index, 1);
				assert_int_equal(a->op, WM_SC_OP_MASKED_EQ);
				all = all && (reqs[k] & a->value) == a->value_two;
			}
			if (all && r->n_args)
				allow = r->action == WM_SC_ALLOW;
		}
		if (allow || matched_uncond)
			return false;
	}
	return true;
}

static void test_builtin_dangerous_denied(void **state)
{
	static const char *const strict[] = { "development", "testing", "standard", "hardened",
					      "paranoid" };
	struct wm_policy_set *set = wm_policy_set_new();

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		const struct wm_policy *p = wm_policy_set_get(set, strict[i]);
		assert_true(p->seccomp.enabled);
		assert_int_equal(wm_strv_len(p->capabilities), 0);
		for (size_t j = 0; j < sizeof(dangerous) / sizeof(dangerous[0]); j++) {
			if (allowed(p, dangerous[j]))
				fail_msg("%s allows %s", strict[i], dangerous[j]);
		}
		if (!tiocsti_blocked(p))
			fail_msg("%s lets TIOCSTI through", strict[i]);
	}
	wm_policy_set_free(set);
}

static void test_every_error_located(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;

	(void)state;
	assert_int_equal(wm_policy_set_load_file(set, DATA "errors.yaml", &d, &err), -1);
	assert_null(err);
	assert_true(has_diag(&d, 4, 15,
			     "inherits unknown policy 'standrd' (did you mean 'standard'?)"));
	assert_true(
		has_diag(&d, 5, 5, "unknown key 'netwrok' in a policy (did you mean 'network'?)"));
	assert_true(has_diag(&d, 7, 12, "filesystem.tmp: invalid size '12Q'"));
	assert_true(has_diag(&d, 8, 13, "not 'host-rx' (did you mean 'host-rw'?)"));
	assert_true(has_diag(&d, 9, 35, "unknown capability 'cap_frobnicate'"));
	assert_true(has_diag(&d, 11, 23, "unknown system call 'ptrcae' (did you mean 'ptrace'?)"));
	assert_true(has_diag(&d, 12, 14, "unknown system call 'no_such_call'"));
	assert_true(has_diag(&d, 14, 36, "action must be allow, errno"));
	assert_true(has_diag(&d, 16, 16, "duration '30' has no unit"));
	assert_true(has_diag(&d, 17, 15, "limits.memory: invalid size 'lots'"));
	assert_true(has_diag(&d, 18, 13, "limits.pids must be a whole number"));
	assert_true(has_diag(&d, 20, 15, "inheritance cycle: two -> three -> two"));
	assert_true(
		has_diag(&d, 24, 15, "'four' inherits 'five', which is defined later (line 25)"));
	assert_true(has_diag(&d, 28, 15, "'six' inherits itself"));
	assert_int_equal(d.n_errors, 14);
	/* Nothing of a bad file is added. */
	assert_int_equal(wm_policy_set_count(set), 6);
	assert_null(wm_policy_set_get(set, "five"));
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_structure_errors(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	(void)state;
	assert_int_equal(load_text(set, "policies:\n  a: {network: none}\n", &d), -1);
	assert_true(has_diag(&d, 1, 1, "missing 'version: 1'"));
	wm_diags_release(&d);
	assert_int_equal(load_text(set, "version: 2\npolicies: {}\n", &d), -1);
	assert_true(has_diag(&d, 1, 10, "unsupported version '2'"));
	wm_diags_release(&d);
	assert_int_equal(load_text(set, "version: 1\npolicies:\n  a: [x\n", &d), -1);
	assert_int_equal(d.n, 1);
	assert_true(strstr(d.v[0].msg, "YAML:") != NULL);
	assert_int_equal(d.v[0].line, 4);
	wm_diags_release(&d);
	assert_int_equal(load_text(set, "version: 1\npolicies:\n  a: {}\n  a: {}\n", &d), -1);
	assert_true(has_diag(&d, 4, 3, "policy 'a' is defined twice (first at line 3)"));
	wm_diags_release(&d);
	assert_int_equal(
		load_text(set,
			  "version: 1\nverison: 1\npolicies:\n  a:\n    limits: {cpuu: 2}\n"
			  "    filesystem: {bind: [{src: /a, mode: rx}]}\n",
			  &d),
		-1);
	assert_true(has_diag(&d, 2, 1,
			     "unknown key 'verison' in the policy file (did you mean 'version'?)"));
	assert_true(has_diag(&d, 5, 14, "unknown key 'cpuu' in limits (did you mean 'cpu'?)"));
	assert_true(has_diag(&d, 6, 41, "bind mode must be ro or rw, not 'rx'"));
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_inheritance_merges(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	const struct wm_policy *st, *base, *child;

	(void)state;
	assert_int_equal(wm_policy_set_load_file(set, DATA "inherit.yaml", &d, NULL), 0);
	st = wm_policy_set_get(set, "standard");
	base = wm_policy_set_get(set, "base");
	child = wm_policy_set_get(set, "child");
	/* Scalars override, untouched keys come from the parent. */
	assert_int_equal(base->network, WM_NET_LOOPBACK);
	assert_int_equal(base->fs.view, st->fs.view);
	assert_int_equal(base->fs.tmp_size, 128u << 20);
	assert_int_equal(base->limits.nofile, st->limits.nofile);
	assert_int_equal(base->limits.memory, 512u << 20);
	assert_string_equal(base->fs.binds[0].src, "tests/data/policies/cache");
	assert_true(base->fs.binds[0].rw);
	assert_string_equal(base->capabilities[0], "cap_net_bind_service");
	/* allow adds to the parent's allowlist; deny wins over allow. */
	assert_true(allowed(base, "ptrace"));
	assert_false(allowed(base, "socket"));
	assert_true(allowed(base, "read"));
	/* Child: lists add up, maps merge key by key. */
	assert_int_equal(child->network, WM_NET_LOOPBACK);
	assert_int_equal(child->fs.workspace, WM_WS_RO);
	assert_int_equal(child->fs.tmp_size, 128u << 20);
	assert_int_equal(child->limits.pids, 50);
	assert_int_equal(child->limits.memory, 512u << 20);
	assert_true(allowed(child, "ptrace"));
	assert_true(allowed(child, "kcmp"));
	assert_false(allowed(child, "socket")); /* the parent's deny still wins */
	assert_false(allowed(child, "mkdir"));
	assert_true(wm_strv_contains(child->env.set, "A=1"));
	assert_true(wm_strv_contains(child->env.set, "B=3"));
	assert_true(wm_strv_contains(child->env.set, "C=4"));
	assert_string_equal(child->description, "base of the test");
	assert_string_equal(child->inherits, "base");
	/* A policy inheriting minimal and adding a filter. */
	{
		const struct wm_policy *q = wm_policy_set_get(set, "quiet");
		int e;
		assert_true(q->seccomp.enabled);
		assert_int_equal(wm_policy_syscall_action(q, "uname", &e, NULL), WM_SC_ERRNO);
		assert_int_equal(e, EACCES);
		assert_int_equal(wm_policy_syscall_action(q, "read", NULL, NULL), WM_SC_ALLOW);
	}
	/* A later file replaces a user's name and may inherit the one it replaces. */
	assert_int_equal(load_text(set,
				   "version: 1\npolicies:\n  base:\n    inherits: base\n"
				   "    network: none\n",
				   &d),
			 0);
	assert_int_equal(wm_policy_set_get(set, "base")->network, WM_NET_NONE);
	assert_true(allowed(wm_policy_set_get(set, "base"), "read"));
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_oci_fixture(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	const struct wm_policy *p;
	int e, cond;
	size_t n_socket = 0;

	(void)state;
	assert_int_equal(wm_policy_set_load_file(set, DATA "inherit.yaml", &d, NULL), 0);
	/* The unknown name is a warning at its place in the profile, not an error. */
	assert_int_equal(d.n_errors, 0);
	assert_true(
		has_diag(&d, 26, 14, "syscalls[17]: unknown system call 'no_such_call' skipped"));
	assert_string_equal(d.v[0].file, "tests/data/policies/oci-all.json");
	p = wm_policy_set_get(set, "oci");
	assert_string_equal(p->seccomp.profile, "tests/data/policies/oci-all.json");
	assert_int_equal(p->seccomp.default_action, WM_SC_ERRNO);
	assert_int_equal(p->seccomp.default_errno, ENOSYS);
	/* The parent's allow/deny are dropped by a profile; the policy's own apply. */
	assert_false(allowed(p, "ptrace") && !wm_strv_contains(p->capabilities, "cap_sys_ptrace"));
	assert_int_equal(wm_policy_syscall_action(p, "read", &e, NULL), WM_SC_ERRNO);
	assert_int_equal(wm_policy_syscall_action(p, "write", NULL, NULL), WM_SC_ALLOW);
	assert_int_equal(wm_policy_syscall_action(p, "socketpair", NULL, NULL), WM_SC_ERRNO);
	assert_int_equal(wm_policy_syscall_action(p, "uname", &e, NULL), WM_SC_ERRNO);
	assert_int_equal(e, EACCES);
	assert_int_equal(wm_policy_syscall_action(p, "getpid", NULL, NULL), WM_SC_KILL);
	assert_int_equal(wm_policy_syscall_action(p, "gettid", NULL, NULL), WM_SC_TRAP);
	assert_int_equal(wm_policy_syscall_action(p, "getppid", NULL, NULL), WM_SC_LOG);
	assert_int_equal(wm_policy_syscall_action(p, "getuid", NULL, NULL), WM_SC_ALLOW);
	/* includes.caps: cap_sys_ptrace is kept, so ptrace is allowed. */
	assert_int_equal(wm_policy_syscall_action(p, "ptrace", NULL, NULL), WM_SC_ALLOW);
	/* Names the native arch lacks are kept. */
	assert_int_equal(wm_policy_syscall_action(p, "arm_fadvise64_64", NULL, NULL), WM_SC_ALLOW);
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		assert_int_equal(wm_policy_syscall_action(p, "arch_prctl", NULL, NULL),
				 WM_SC_ALLOW);
		assert_int_equal(wm_policy_syscall_action(p, "modify_ldt", NULL, NULL),
				 WM_SC_ERRNO);
		assert_int_equal(wm_policy_syscall_action(p, "sync_file_range2", NULL, NULL),
				 WM_SC_ERRNO);
	}
	/* Arguments: ops kept, same-index conditions split (OR), others AND. */
	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
		if (strcmp(r->name, "socket") == 0) {
			assert_int_equal(r->n_args, 1);
			n_socket++;
		} else if (strcmp(r->name, "kill") == 0) {
			assert_int_equal(r->n_args, 2);
			assert_int_equal(r->args[0].op, WM_SC_OP_GT);
			assert_int_equal(r->args[1].op, WM_SC_OP_NE);
			assert_int_equal(r->args[1].value, 9);
		} else if (strcmp(r->name, "clone") == 0) {
			assert_int_equal(r->args[0].op, WM_SC_OP_MASKED_EQ);
			assert_int_equal(r->args[0].value, 2114060288);
		} else if (strcmp(r->name, "mmap") == 0) {
			assert_int_equal(r->args[0].op, WM_SC_OP_LT);
		} else if (strcmp(r->name, "munmap") == 0) {
			assert_int_equal(r->args[0].op, WM_SC_OP_GE);
		} else if (strcmp(r->name, "mprotect") == 0) {
			assert_int_equal(r->args[0].op, WM_SC_OP_LE);
		}
	}
	assert_int_equal(n_socket, 2);
	wm_policy_syscall_action(p, "personality", NULL, &cond);
	assert_true(cond);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_oci_excludes_without_cap(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	int e;
	const char *yaml =
		"version: 1\npolicies:\n  o:\n    seccomp:\n      profile: " DATA "oci-all.json\n";

	(void)state;
	assert_int_equal(wm_policy_set_load_text(set, "x.yaml", yaml, strlen(yaml), &d, NULL), 0);
	assert_int_equal(wm_policy_syscall_action(wm_policy_set_get(set, "o"), "ptrace", &e, NULL),
			 WM_SC_ERRNO);
	assert_int_equal(e, 0);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_oci_errors(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *text;

	(void)state;
	text = wm_policy_import_oci(DATA "oci-bad.json", "x", &d, NULL);
	assert_null(text);
	/* Each problem at its own place in the JSON; an unknown architecture is
	 * skipped with a warning. */
	assert_true(has_diag(&d, 3, 20, "unknown architecture 'SCMP_ARCH_NOPE' skipped"));
	assert_true(has_diag(&d, 5, 33, "syscalls[0]: unknown action 'SCMP_ACT_FROB'"));
	assert_true(has_diag(&d, 6, 60, "syscalls[1]: unknown operator 'SCMP_CMP_ABOUT'"));
	assert_true(has_diag(&d, 7, 60, "syscalls[2]: args[0]: index must be 0 to 5"));
	assert_true(has_diag(&d, 8, 33, "SCMP_ACT_NOTIFY is not supported"));
	assert_int_equal(d.n_errors, 4);
	wm_diags_release(&d);
	assert_null(wm_policy_import_oci(DATA "oci-syntax.json", "x", &d, NULL));
	assert_true(has_diag(&d, 4, 24, "JSON:"));
	wm_diags_release(&d);
	/* Through a policy file too, problems point into the profile; one that
	 * cannot be read points at the profile: key. */
	{
		const char *y =
			"version: 1\npolicies:\n  o:\n    seccomp: {profile: oci-bad.json}\n"
			"  p:\n    seccomp: {profile: missing.json}\n";
		assert_int_equal(
			wm_policy_set_load_text(set, DATA "x.yaml", y, strlen(y), &d, NULL), -1);
		assert_true(has_diag(&d, 5, 33, "unknown action 'SCMP_ACT_FROB'"));
		assert_true(has_diag(&d, 6, 24, "cannot read the seccomp profile"));
		wm_diags_release(&d);
	}
	text = wm_policy_import_oci(DATA "oci-all.json", "mine", &d, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "  mine:\n"));
	assert_non_null(strstr(text, "profile: tests/data/policies/oci-all.json"));
	assert_int_equal(wm_policy_set_load_text(set, "gen.yaml", text, strlen(text), &d, NULL), 0);
	assert_non_null(wm_policy_set_get(set, "mine"));
	free(text);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_hash(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *h1, *h2, *h3, *h4;

	(void)state;
	assert_int_equal(load_text(set,
				   "version: 1\npolicies:\n"
				   "  a:\n    inherits: standard\n    description: one\n"
				   "    env: {set: {X: '1', Y: '2'}}\n"
				   "  b:\n    inherits: a\n    description: other words\n"
				   "    env: {set: {Y: '2', X: '1'}}\n"
				   "  c:\n    inherits: a\n    limits: {pids: 7}\n",
				   &d),
			 0);
	h1 = wm_policy_hash(wm_policy_set_get(set, "a"));
	h2 = wm_policy_hash(wm_policy_set_get(set, "b"));
	h3 = wm_policy_hash(wm_policy_set_get(set, "c"));
	h4 = wm_policy_hash(wm_policy_set_get(set, "a"));
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, h4);
	assert_string_equal(h1, h2); /* same effect: description, order, inheritance ignored */
	assert_string_not_equal(h1, h3);
	free(h1);
	free(h2);
	free(h3);
	free(h4);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void round_trip(const struct wm_policy *p)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *y1 = wm_policy_to_yaml(p), *y2, *h1 = wm_policy_hash(p), *h2;

	if (wm_policy_set_load_text(set, "/tmp/show.yaml", y1, strlen(y1), &d, NULL) != 0) {
		wm_diags_print(&d, stderr);
		fail_msg("show output of %s does not load", p->name);
	}
	y2 = wm_policy_to_yaml(wm_policy_set_get(set, p->name));
	h2 = wm_policy_hash(wm_policy_set_get(set, p->name));
	assert_string_equal(y1, y2);
	assert_string_equal(h1, h2);
	free(y1);
	free(y2);
	free(h1);
	free(h2);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_show_check_round_trip(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char cwd[4096], path[4200];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/" DATA "inherit.yaml", cwd);
	assert_int_equal(wm_policy_set_load_file(set, path, &d, NULL), 0);
	assert_int_equal(
		load_text(set,
			  "version: 1\npolicies:\n  weird.name-1:\n    inherits: hardened\n"
			  "    description: \"a: b # c\\n\"\n    limits: {cpu: 0.123456789}\n"
			  "    env: {set: {Q: 'yes', E: ''}}\n",
			  &d),
		0);
	for (size_t i = 0; i < wm_policy_set_count(set); i++)
		round_trip(wm_policy_set_at(set, i));
	if (access(PODMAN, R_OK) == 0) {
		const char *y =
			"version: 1\npolicies:\n  pod:\n    seccomp: {profile: " PODMAN "}\n";
		assert_int_equal(wm_policy_set_load_text(set, "p.yaml", y, strlen(y), &d, NULL), 0);
		round_trip(wm_policy_set_get(set, "pod"));
	}
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_shm_out_strict(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	const struct wm_policy *a, *b;
	char *t, *h1, *h2;

	(void)state;
	assert_int_equal(wm_policy_set_get(set, "development")->fs.shm_size, 1ull << 30);
	assert_int_equal(wm_policy_set_get(set, "hardened")->limits.out, 1ull << 30);
	assert_int_equal(wm_policy_set_get(set, "paranoid")->fs.shm_size, 0);
	/* Opt-in: no built-in refuses to start where it cannot enforce a limit. */
	assert_false(wm_policy_set_get(set, "paranoid")->limits.strict);
	assert_false(wm_policy_set_get(set, "standard")->limits.strict);
	assert_int_equal(
		load_text(set,
			  "version: 1\npolicies:\n  a:\n    inherits: standard\n"
			  "    filesystem: {shm: 32M}\n    limits: {out: 2G, strict: true}\n"
			  "  b:\n    inherits: a\n    filesystem: {shm: none}\n"
			  "    limits: {strict: false}\n",
			  &d),
		0);
	a = wm_policy_set_get(set, "a");
	b = wm_policy_set_get(set, "b");
	assert_int_equal(a->fs.shm_size, 32ull << 20);
	assert_int_equal(a->limits.out, 2ull << 30);
	assert_true(a->limits.strict);
	assert_int_equal(b->fs.shm_size, 0);
	assert_int_equal(b->limits.out, 2ull << 30); /* inherited */
	assert_false(b->limits.strict);
	t = wm_policy_diff(a, b);
	assert_non_null(strstr(t, "/dev/shm: A 32M, B none"));
	assert_non_null(strstr(t, "unenforceable limits: A an error, B a warning"));
	free(t);
	h1 = wm_policy_hash(a);
	h2 = wm_policy_hash(b);
	assert_string_not_equal(h1, h2);
	free(h1);
	free(h2);
	round_trip(a);
	round_trip(b);
	assert_int_equal(load_text(set,
				   "version: 1\npolicies:\n  c:\n    filesystem: {shm: lots}\n"
				   "    limits: {out: -1, strict: maybe}\n",
				   &d),
			 -1);
	assert_true(has_diag(&d, 4, 23, "filesystem.shm: invalid size 'lots'"));
	assert_true(has_diag(&d, 5, 19, "limits.out"));
	assert_true(has_diag(&d, 5, 31, "limits.strict must be false or true, not 'maybe'"));
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_diff(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();
	char *t;

	(void)state;
	t = wm_policy_diff(wm_policy_set_get(set, "development"),
			   wm_policy_set_get(set, "testing"));
	assert_non_null(strstr(t, "network: A host, B loopback (B can reach loopback services)"));
	assert_non_null(strstr(t, "memory limit: A 16G, B 4G"));
	free(t);
	t = wm_policy_diff(wm_policy_set_get(set, "hardened"), wm_policy_set_get(set, "standard"));
	assert_non_null(strstr(t, "syscalls B allows that A denies: "));
	assert_non_null(strstr(t, "setuid"));
	assert_null(strstr(t, "syscalls A allows that B denies"));
	free(t);
	t = wm_policy_diff(wm_policy_set_get(set, "standard"), wm_policy_set_get(set, "standard"));
	assert_string_equal(t, "");
	free(t);
	wm_policy_set_free(set);
}

static void test_search_order(void **state)
{
	char dir[] = "/tmp/wm-pol-XXXXXX";
	char *cfg, *user, *flag, *front;
	FILE *f;
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;
	struct wm_policy_set *set;
	const char *old = getenv("XDG_CONFIG_HOME");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&cfg, "%s/wm", dir) > 0);
	assert_int_equal(mkdir(cfg, 0700), 0);
	assert_true(asprintf(&user, "%s/policies.yaml", cfg) > 0);
	assert_true(asprintf(&flag, "%s/flag.yaml", dir) > 0);
	assert_true(asprintf(&front, "%s/front.yaml", dir) > 0);
	f = fopen(user, "w");
	fputs("version: 1\npolicies:\n  mine: {inherits: standard, network: loopback}\n"
	      "  both: {inherits: standard, limits: {pids: 1}}\n",
	      f);
	fclose(f);
	f = fopen(flag, "w");
	fputs("version: 1\npolicies:\n  both: {inherits: mine, limits: {pids: 2}}\n", f);
	fclose(f);
	setenv("XDG_CONFIG_HOME", dir, 1);
	f = fopen(front, "w");
	fputs("version: 1\npolicies:\n  fm: {inherits: mine}\n", f);
	fclose(f);
	set = wm_policy_set_load_search(flag, front, &d, &err);
	assert_non_null(set);
	assert_int_equal(wm_policy_set_get(set, "mine")->network, WM_NET_LOOPBACK);
	assert_int_equal(wm_policy_set_get(set, "fm")->network, WM_NET_LOOPBACK);
	/* The flag's file comes last: its `both` wins, inheriting the config's `mine`. */
	assert_int_equal(wm_policy_set_get(set, "both")->limits.pids, 2);
	assert_int_equal(wm_policy_set_get(set, "both")->network, WM_NET_LOOPBACK);
	assert_string_equal(wm_policy_set_suggest(set, "mne"), "mine");
	assert_ptr_equal(wm_policy_set_resolve(set, "fm", "flow.md", 3, 11, &d),
			 wm_policy_set_get(set, "fm"));
	assert_null(wm_policy_set_resolve(set, "hardend", "flow.md", 7, 11, &d));
	assert_true(has_diag(&d, 7, 11, "unknown policy 'hardend' (did you mean 'hardened'?)"));
	assert_string_equal(d.v[d.n - 1].file, "flow.md");
	assert_true(wm_policy_set_from_workflow(set, "fm"));
	assert_false(wm_policy_set_from_workflow(set, "mine"));
	assert_false(wm_policy_set_from_workflow(set, "both"));
	assert_false(wm_policy_set_from_workflow(set, "standard"));
	wm_policy_set_free(set);
	/* A workflow's file may not replace what the user defined. */
	f = fopen(front, "w");
	fputs("version: 1\npolicies:\n  mine: {inherits: minimal}\n", f);
	fclose(f);
	assert_null(wm_policy_set_load_search(NULL, front, &d, &err));
	assert_true(has_diag(&d, 3, 3, "'mine' is already defined in"));
	assert_true(
		has_diag(&d, 3, 3, "a workflow's policy file may only add policies of new names"));
	/* A missing user config is fine; a missing flag file is an error. */
	unlink(user);
	set = wm_policy_set_load_search(NULL, NULL, &d, &err);
	assert_non_null(set);
	assert_null(wm_policy_set_get(set, "mine"));
	wm_policy_set_free(set);
	assert_null(wm_policy_set_load_search(user, NULL, &d, &err));
	assert_non_null(err);
	assert_int_equal(err->errnum, ENOENT);
	wm_error_free(err);
	if (saved)
		setenv("XDG_CONFIG_HOME", saved, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	free(saved);
	unlink(flag);
	unlink(front);
	free(front);
	rmdir(cfg);
	rmdir(dir);
	free(cfg);
	free(user);
	free(flag);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins_exist),
		cmocka_unit_test(test_builtin_rows),
		cmocka_unit_test(test_builtin_dangerous_denied),
		cmocka_unit_test(test_every_error_located),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_inheritance_merges),
		cmocka_unit_test(test_oci_fixture),
		cmocka_unit_test(test_oci_excludes_without_cap),
		cmocka_unit_test(test_oci_errors),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_show_check_round_trip),
		cmocka_unit_test(test_shm_out_strict),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_search_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
