/* Unit tests for wm_policy_at_least_as_strict(): the order of the
 * built-ins, reflexivity, inheritance that only removes permissions, and
 * every axis on its own (README.md, "At least as strict"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "policies/policies.h"

static const char *const order[] = { "minimal",	 "development", "testing",
				     "standard", "hardened",	"paranoid" };
#define N_BUILTIN 6

/* A set of the built-ins plus `yaml` (which must load). */
static struct wm_policy_set *set_with(const char *yaml)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	if (yaml && wm_policy_set_load_text(set, "/t/strict.yaml", yaml, strlen(yaml), &d, NULL)) {
		wm_diags_print(&d, stderr);
		fail_msg("test policies do not load");
	}
	wm_diags_release(&d);
	return set;
}

/* geq(p, f): is p at least as strict as f? `reason` gets why not. */
static int geq(const struct wm_policy_set *set, const char *p, const char *f, char **reason)
{
	struct wm_buf b = WM_BUF_INIT;
	const struct wm_policy *pp = wm_policy_set_get(set, p), *ff = wm_policy_set_get(set, f);
	int r;

	assert_non_null(pp);
	assert_non_null(ff);
	r = wm_policy_at_least_as_strict(pp, ff, &b);
	if (reason)
		*reason = wm_buf_detach(&b, NULL);
	wm_buf_release(&b);
	return r;
}

static void expect_weaker(const struct wm_policy_set *set, const char *p, const char *f,
			  const char *needle)
{
	char *why = NULL;

	if (geq(set, p, f, &why))
		fail_msg("%s counts as at least as strict as %s", p, f);
	if (!strstr(why, needle))
		fail_msg("%s vs %s: reason '%s' lacks '%s'", p, f, why, needle);
	free(why);
}

static void expect_geq(const struct wm_policy_set *set, const char *p, const char *f)
{
	char *why = NULL;

	if (!geq(set, p, f, &why))
		fail_msg("%s is not at least as strict as %s: %s", p, f, why);
	free(why);
}

static void test_builtin_order(void **state)
{
	struct wm_policy_set *set = wm_policy_set_new();

	(void)state;
	for (size_t i = 0; i < N_BUILTIN; i++) {
		for (size_t j = 0; j < N_BUILTIN; j++) {
			char *why = NULL;
			int r = geq(set, order[j], order[i], &why);

			if (j >= i && !r)
				fail_msg("%s should be at least as strict as %s: %s", order[j],
					 order[i], why);
			if (j < i && r)
				fail_msg("%s should be weaker than %s", order[j], order[i]);
			if (!r)
				assert_true(strlen(why) > 0);
			free(why);
		}
	}
	/* The reasons name the axis and both values. */
	expect_weaker(set, "minimal", "development",
		      "filesystem view host-rw is weaker than host-ro");
	expect_weaker(set, "development", "testing", "network host is weaker than loopback");
	expect_weaker(set, "testing", "standard", "network loopback is weaker than none");
	expect_weaker(set, "standard", "hardened", "filesystem view host-ro is weaker than system");
	expect_weaker(set, "hardened", "paranoid", "filesystem view system is weaker than minimal");
	wm_policy_set_free(set);
}

static const char *const example =
	"version: 1\npolicies:\n"
	"  base:\n    inherits: standard\n    filesystem: {hide: [/srv], bind: [{src: /var/cache/x,"
	" dst: /cache, mode: rw}], devices: [tty]}\n"
	"    capabilities: [cap_net_bind_service]\n    limits: {cpu: 2, fsize: 1G, out: 1G}\n";

static void test_reflexive(void **state)
{
	struct wm_policy_set *set = set_with(example);

	(void)state;
	for (size_t i = 0; i < wm_policy_set_count(set); i++) {
		const struct wm_policy *p = wm_policy_set_at(set, i);
		struct wm_buf b = WM_BUF_INIT;

		assert_int_equal(wm_policy_at_least_as_strict(p, p, &b), 1);
		assert_string_equal(b.data, "");
		wm_buf_release(&b);
	}
	/* Equal in effect, distinct objects: a copy through show | check. */
	{
		char *y = wm_policy_to_yaml(wm_policy_set_get(set, "base"));
		struct wm_policy_set *again = wm_policy_set_new();
		struct wm_diags d = WM_DIAGS_INIT;

		assert_int_equal(
			wm_policy_set_load_text(again, "/t/b.yaml", y, strlen(y), &d, NULL), 0);
		assert_int_equal(wm_policy_at_least_as_strict(wm_policy_set_get(again, "base"),
							      wm_policy_set_get(set, "base"), NULL),
				 1);
		free(y);
		wm_diags_release(&d);
		wm_policy_set_free(again);
	}
	wm_policy_set_free(set);
}

/* Children that only take permissions away are at least as strict as their
 * parent, and the parent is weaker than each of them. */
static void test_inheritance_removing(void **state)
{
	static const char *const yaml =
		"version: 1\npolicies:\n"
		"  dev-quiet: {inherits: development, network: none}\n"
		"  dev-deny: {inherits: development, seccomp: {deny: [socket]}}\n"
		"  std-small: {inherits: standard, limits: {memory: 1G, pids: 10}}\n"
		"  std-ro: {inherits: standard, filesystem: {workspace: ro, hide: [/home]}}\n"
		"  std-env: {inherits: standard, env: {keep: [PATH]}}\n"
		"  hard-kill: {inherits: hardened, seccomp: {default_action: kill}}\n"
		"  para-less: {inherits: paranoid, seccomp: {deny: [write]}, limits: {out: 1M}}\n"
		"  min-filter: {inherits: minimal, seccomp: {default_action: allow, deny: "
		"[ptrace]}}\n";
	static const char *const pairs[][3] = {
		{ "dev-quiet", "development", "network host is weaker than none" },
		{ "dev-deny", "development", "system call socket is allowed, the floor denies it" },
		{ "std-small", "standard", "memory limit 2G is weaker than 1G" },
		{ "std-ro", "standard", "workspace rw is weaker than ro" },
		{ "std-env", "standard", "keeps variable HOME, which the floor drops" },
		{ "hard-kill", "hardened", "seccomp default action errno is weaker than kill" },
		{ "para-less", "paranoid", "system call write is allowed, the floor denies it" },
		{ "min-filter", "minimal", "no seccomp filter is weaker than the floor's filter" },
	};
	struct wm_policy_set *set = set_with(yaml);

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		expect_geq(set, pairs[i][0], pairs[i][1]);
		expect_weaker(set, pairs[i][1], pairs[i][0], pairs[i][2]);
	}
	/* Transitive along the built-in chain: a child of hardened is at least as
	 * strict as every built-in below hardened. */
	for (size_t i = 0; i < 5; i++)
		expect_geq(set, "hard-kill", order[i]);
	wm_policy_set_free(set);
}

/* One variant per axis, weaker than `base` there and equal elsewhere. */
static void test_each_axis(void **state)
{
	static const char *const yaml =
		"version: 1\npolicies:\n"
		"  base:\n    inherits: standard\n    filesystem: {view: system, workspace: ro, "
		"hide: [/srv],"
		" bind: [{src: /var/cache/x, dst: /cache, mode: ro}], devices: [tty], tmp: 64M,"
		" shm: 16M}\n"
		"    capabilities: [cap_net_bind_service]\n    user_namespace: true\n"
		"    landlock: true\n    limits: {cpu: 2, fsize: 1G, out: 1G, core: 0, strict: "
		"true}\n"
		"  net: {inherits: base, network: loopback}\n"
		"  view: {inherits: base, filesystem: {view: host-ro}}\n"
		"  rootfs: {inherits: base, filesystem: {rootfs: /srv/image}}\n"
		"  ws: {inherits: base, filesystem: {workspace: rw}}\n"
		"  wsnone: {inherits: base, filesystem: {workspace: none}}\n"
		"  tmp: {inherits: base, filesystem: {tmp: 1G}}\n"
		"  shm: {inherits: base, filesystem: {shm: 32M}}\n"
		"  hide: {inherits: base, filesystem: {hide: []}}\n"
		"  bindrw: {inherits: base, filesystem: {bind: [{src: /var/cache/x, dst: /cache,"
		" mode: rw}]}}\n"
		"  bindnew: {inherits: base, filesystem: {bind: [{src: /var/cache/x, dst: /cache},"
		" {src: /etc, dst: /etc2}]}}\n"
		"  dev: {inherits: base, filesystem: {devices: [tty, pts]}}\n"
		"  cap: {inherits: base, capabilities: [cap_net_bind_service, cap_chown]}\n"
		"  userns: {inherits: base, user_namespace: false}\n"
		"  landlock: {inherits: base, landlock: false}\n"
		"  nofilter: {inherits: base, seccomp: none}\n"
		"  default: {inherits: base, seccomp: {default_action: log}}\n"
		"  call: {inherits: base, seccomp: {allow: [ptrace]}}\n"
		"  clone: {inherits: base, seccomp: {allow: [clone]}}\n"
		"  memory: {inherits: base, limits: {memory: 3G}}\n"
		"  nomemory: {inherits: base, limits: {memory: none}}\n"
		"  pids: {inherits: base, limits: {pids: 5000}}\n"
		"  cpu: {inherits: base, limits: {cpu: 2.5}}\n"
		"  timeout: {inherits: base, limits: {timeout: 3h}}\n"
		"  nofile: {inherits: base, limits: {nofile: none}}\n"
		"  fsize: {inherits: base, limits: {fsize: 2G}}\n"
		"  out: {inherits: base, limits: {out: none}}\n"
		"  core: {inherits: base, limits: {core: 1M}}\n"
		"  strict: {inherits: base, limits: {strict: false}}\n"
		"  env: {inherits: base, env: {keep: [PATH, HOME, USER, LOGNAME, LANG, LC_ALL, "
		"LC_CTYPE,"
		" TERM, TZ, SSH_AUTH_SOCK]}}\n";
	static const char *const axes[][2] = {
		{ "net", "network loopback is weaker than none" },
		{ "view", "filesystem view host-ro is weaker than system" },
		{ "rootfs", "root filesystem /srv/image is not the floor's (the host's)" },
		{ "ws", "workspace rw is weaker than ro" },
		{ "tmp", "/tmp: a private 1G /tmp is weaker than a private 64M /tmp" },
		{ "shm", "/dev/shm 32M is weaker than 16M" },
		{ "hide", "/srv is visible, the floor hides it" },
		{ "bindrw", "bind /var/cache/x -> /cache (rw) is not one the floor has" },
		{ "bindnew", "bind /etc -> /etc2 (ro) is not one the floor has" },
		{ "dev", "device /dev/pts is offered" },
		{ "cap", "keeps capability cap_chown" },
		{ "userns", "no user namespace as root is weaker than one" },
		{ "landlock", "no Landlock is weaker than Landlock" },
		{ "nofilter", "no seccomp filter is weaker than the floor's filter" },
		{ "default", "seccomp default action log is weaker than errno" },
		{ "call", "system call ptrace is allowed, the floor denies it" },
		{ "clone", "system call clone is allowed for arguments the floor does not allow" },
		{ "memory", "memory limit 3G is weaker than 2G" },
		{ "nomemory", "memory limit none is weaker than 2G" },
		{ "pids", "pids limit 5000 is weaker than 1024" },
		{ "cpu", "cpu limit 2.5 is weaker than 2" },
		{ "timeout", "timeout limit 3h is weaker than 2h" },
		{ "nofile", "nofile limit none is weaker than 4096" },
		{ "fsize", "fsize limit 2G is weaker than 1G" },
		{ "out", "$WM_OUT size limit none is weaker than 1G" },
		{ "core", "core dumps of 1048576 bytes are weaker than 0" },
		{ "strict", "limits.strict false is weaker than true" },
		{ "env", "keeps variable SSH_AUTH_SOCK, which the floor drops" },
	};
	struct wm_policy_set *set = set_with(yaml);

	(void)state;
	for (size_t i = 0; i < sizeof(axes) / sizeof(axes[0]); i++) {
		expect_weaker(set, axes[i][0], "base", axes[i][1]);
		/* Weaker on this axis only: the base is at least as strict as it,
		 * except where the axis is not ordered (a different rootfs). */
		if (strcmp(axes[i][0], "rootfs") != 0)
			expect_geq(set, "base", axes[i][0]);
	}
	/* No workspace at all is stricter, not weaker. */
	expect_geq(set, "wsnone", "base");
	wm_policy_set_free(set);
}

/* Stricter on one axis, weaker on another: neither is at least as strict. */
static void test_partial_order(void **state)
{
	static const char *const yaml =
		"version: 1\npolicies:\n"
		"  a: {inherits: standard, network: loopback, limits: {memory: 1G}}\n"
		"  b: {inherits: standard, limits: {memory: 4G}}\n"
		"  tmp-host: {inherits: standard, filesystem: {tmp: none}}\n";
	struct wm_policy_set *set = set_with(yaml);

	(void)state;
	expect_weaker(set, "a", "b", "network loopback is weaker than none");
	expect_weaker(set, "b", "a", "memory limit 4G is weaker than 1G");
	expect_weaker(set, "a", "standard", "network loopback is weaker than none");
	expect_weaker(set, "standard", "a", "memory limit 2G is weaker than 1G");
	/* The host's /tmp read-only and a private /tmp are not comparable. */
	expect_weaker(set, "tmp-host", "standard",
		      "/tmp: the root's own /tmp, read-only is weaker than a private 1G /tmp");
	expect_weaker(set, "standard", "tmp-host",
		      "/tmp: a private 1G /tmp is weaker than the root's own /tmp, read-only");
	wm_policy_set_free(set);
}

/* Argument conditions: TIOCSTI denied by development, ioctl allowed bit by
 * bit by standard; clone allowed without namespaces. */
static void test_conditions(void **state)
{
	static const char *const yaml =
		"version: 1\npolicies:\n"
		"  ioctl-any: {inherits: development, seccomp: {allow: [ioctl]}}\n"
		"  ioctl-eq: {inherits: standard, seccomp: {rules: [{names: [ioctl], action: allow,"
		" args: [{index: 1, op: eq, value: 0x5413}]}]}}\n"
		"  ioctl-tiocsti: {inherits: standard, seccomp: {rules: [{names: [ioctl], action: "
		"allow, args: [{index: 1, op: eq, value: 0x5412}]}]}}\n"
		"  clone-narrow: {inherits: standard, seccomp: {rules: [{names: [clone], action: "
		"allow, args: [{index: 0, op: masked_eq, value: 0x7e020000, value_two: 0},"
		" {index: 1, op: eq, value: 0}]}]}}\n";
	struct wm_policy_set *set = set_with(yaml);

	(void)state;
	expect_weaker(set, "ioctl-any", "development",
		      "system call ioctl is allowed for arguments the floor does not allow");
	expect_geq(set, "standard", "development"); /* the 32 rules all miss TIOCSTI */
	expect_geq(set, "ioctl-eq", "development");
	expect_geq(set, "ioctl-eq", "standard");
	expect_weaker(set, "ioctl-tiocsti", "development",
		      "system call ioctl is allowed for arguments the floor does not allow");
	expect_geq(set, "clone-narrow", "standard"); /* more conditions, fewer arguments */
	expect_weaker(set, "standard", "clone-narrow",
		      "system call clone is allowed for arguments");
	wm_policy_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_order),	     cmocka_unit_test(test_reflexive),
		cmocka_unit_test(test_inheritance_removing), cmocka_unit_test(test_each_axis),
		cmocka_unit_test(test_partial_order),	     cmocka_unit_test(test_conditions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
