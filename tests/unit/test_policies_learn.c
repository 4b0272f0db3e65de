/* Unit tests for what `wm policy learn` writes (policies/learn.h): the
 * call evaluator, the grouping, the headroom, and the YAML: it loads, it
 * inherits the base and allows exactly the calls seen, it keeps the base's
 * argument rules, lists refused calls with their reasons, and is stable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/xalloc.h"
#include "policies/learn.h"
#include "policies/policies.h"
#include "policies/score.h"

static const uint64_t no_args[6] = { 0 };

static struct wm_policy_set *builtins(void)
{
	return wm_policy_set_new();
}

/* Loads `yaml` over the built-ins; fails the test when it does not load. */
static struct wm_policy_set *load(const char *yaml)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	if (wm_policy_set_load_text(set, "/t/learned.yaml", yaml, strlen(yaml), &d, NULL) < 0) {
		wm_diags_print(&d, stderr);
		fprintf(stderr, "%s", yaml);
		fail_msg("the learned policy does not load");
	}
	wm_diags_release(&d);
	return set;
}

static void evaluator(void **state)
{
	struct wm_policy_set *set = builtins();
	const struct wm_policy *std = wm_policy_set_get(set, "standard");
	const struct wm_policy *dev = wm_policy_set_get(set, "development");
	const struct wm_policy *min = wm_policy_set_get(set, "minimal");
	uint64_t clone_ns[6] = { 0x10000000 }, tiocsti[6] = { 1, 0x5412 },
		 tcgets[6] = { 1, 0x5401 };
	int e;

	(void)state;
	assert_int_equal(wm_policy_call_action(std, "read", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(std, "mount", no_args, &e), WM_SC_ERRNO);
	assert_int_equal(e, 0);
	assert_int_equal(wm_policy_call_action(std, "clone", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(std, "clone", clone_ns, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(std, "clone3", no_args, &e), WM_SC_ERRNO);
	assert_int_equal(e, 38 /* ENOSYS */);
	assert_int_equal(wm_policy_call_action(std, "ioctl", tcgets, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(std, "ioctl", tiocsti, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(dev, "clone", clone_ns, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(dev, "getpid", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(min, "mount", no_args, &e), WM_SC_ALLOW);
	wm_policy_set_free(set);
}

static void grouping_and_headroom(void **state)
{
	uint64_t ns[6] = { 0x20000 | 17 }, plain[6] = { 17 };

	(void)state;
	assert_int_equal(wm_learn_group_of("clone", ns), WM_GRP_NAMESPACES);
	assert_int_equal(wm_learn_group_of("clone", plain), -1);
	assert_int_equal(wm_learn_group_of("umount2", plain), WM_GRP_MOUNT);
	assert_int_equal(wm_learn_group_of("openat", plain), -1);
	assert_int_equal(wm_learn_headroom(0, 2, 16, 0), 0);	   /* not measured */
	assert_int_equal(wm_learn_headroom(3, 2, 16, 0), 16);	   /* the floor */
	assert_int_equal(wm_learn_headroom(100, 2, 16, 0), 200);   /* the factor */
	assert_int_equal(wm_learn_headroom(100, 2, 16, 150), 150); /* never above the base */
	assert_true(wm_learn_headroom(UINT64_MAX / 2 + 1, 2, 1, 0) == UINT64_MAX);
}

/* A record as the sandbox would fill it. */
static void record(struct wm_learned *l)
{
	uint64_t ns[6] = { 0x10000000 };

	for (int i = 0; i < 3; i++)
		wm_learned_call(l, "build", "openat", -1, false, false);
	wm_learned_call(l, "test", "openat", -1, false, false);
	wm_learned_call(l, "test", "getpid", -1, false, false);
	wm_learned_call(l, "build", "clone", -1, false, false);
	wm_learned_call(l, "build", "ioctl", -1, false, false);
	wm_learned_call(l, "test", "mount", wm_learn_group_of("mount", no_args), true, true);
	wm_learned_call(l, "test", "clone", wm_learn_group_of("clone", ns), true, true);
	wm_learn_tally_add(&l->families, "AF_UNIX", 2);
	wm_learn_tally_add(&l->paths, "/tmp/x", 1);
	wm_learn_tally_add(&l->runs, "build", 0);
	wm_learn_tally_add(&l->runs, "test", 1);
	l->peak_memory = 100ULL << 20;
	l->peak_pids = 3;
	l->wall_ms = 90000;
}

static void yaml_over_standard(void **state)
{
	struct wm_policy_set *set = builtins(), *out;
	const struct wm_policy *std = wm_policy_set_get(set, "standard"), *p;
	struct wm_learned l = { 0 };
	char *yaml, *again;
	int e;

	(void)state;
	record(&l);
	yaml = wm_learned_yaml(std, "mine", &l, 0, "`make`");
	assert_non_null(strstr(yaml, "    inherits: standard\n"));
	assert_non_null(strstr(yaml, "# Tasks (exit status): build 0, test 1\n"));
	assert_non_null(strstr(yaml, "- openat                 # build 3, test 1\n"));
	assert_non_null(strstr(yaml, "# clone (build 1): standard's argument rules kept"));
	assert_null(strstr(yaml, "- mount"));
	assert_non_null(strstr(yaml, "#   mount: rearranges the filesystem view"));
	assert_non_null(strstr(yaml, "#     mount (test 1)\n"));
	assert_non_null(strstr(yaml, "#   namespaces: new namespaces"));
	assert_non_null(strstr(yaml, "memory: 200M   # peak 102400K x 2"));
	assert_non_null(strstr(yaml, "pids: 16"));
	assert_non_null(strstr(yaml, "timeout: 270s"));
	assert_non_null(strstr(yaml, "# socket families: AF_UNIX 2\n"));
	assert_non_null(strstr(yaml, "outside the workspace and $WM_OUT: /tmp/x 1\n"));
	assert_null(strstr(yaml, "network:")); /* standard has none already */
	out = load(yaml);
	p = wm_policy_set_get(out, "mine");
	assert_non_null(p);
	/* Exactly what was used passes; what standard allows but nobody used does not. */
	assert_int_equal(wm_policy_call_action(p, "openat", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "getpid", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "read", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "clone", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "socket", no_args, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(p, "getppid", no_args, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(p, "mount", no_args, &e), WM_SC_ERRNO);
	assert_true(wm_policy_at_least_as_strict(p, std, NULL));
	/* Stable: the same record writes the same text. */
	again = wm_learned_yaml(std, "mine", &l, 0, "`make`");
	assert_string_equal(yaml, again);
	free(again);
	free(yaml);
	wm_policy_set_free(out);
	wm_learned_release(&l);
	wm_policy_set_free(set);
}

static void yaml_over_development(void **state)
{
	struct wm_policy_set *set = builtins(), *out;
	const struct wm_policy *dev = wm_policy_set_get(set, "development"), *p;
	struct wm_learned l = { 0 };
	uint64_t ns[6] = { 0x10000000 }, tiocsti[6] = { 1, 0x5412 };
	char *yaml;
	int e;

	(void)state;
	record(&l);
	yaml = wm_learned_yaml(dev, "mine", &l, 0, "`make`");
	assert_non_null(strstr(yaml, "default_action: errno"));
	assert_non_null(strstr(yaml, "network: none   # no task made an AF_INET"));
	out = load(yaml);
	p = wm_policy_set_get(out, "mine");
	assert_int_equal(p->network, WM_NET_NONE);
	assert_int_equal(wm_policy_call_action(p, "getppid", no_args, &e), WM_SC_ERRNO);
	/* clone keeps its namespace rules, ioctl its TIOCSTI rule. */
	assert_int_equal(wm_policy_call_action(p, "clone", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "clone", ns, &e), WM_SC_ERRNO);
	assert_int_equal(wm_policy_call_action(p, "ioctl", no_args, &e), WM_SC_ALLOW);
	assert_int_equal(wm_policy_call_action(p, "ioctl", tiocsti, &e), WM_SC_ERRNO);
	free(yaml);
	wm_policy_set_free(out);
	wm_learned_release(&l);
	wm_policy_set_free(set);
}

static void granted_and_bounded(void **state)
{
	struct wm_policy_set *set = builtins();
	const struct wm_policy *std = wm_policy_set_get(set, "standard");
	struct wm_learned l = { 0 };
	char name[32], *yaml;

	(void)state;
	/* Granted: the sandbox lets it through, so it is not refused. */
	wm_learned_call(&l, "t", "mount", WM_GRP_MOUNT, false, true);
	yaml = wm_learned_yaml(std, "g", &l, 1u << WM_GRP_MOUNT, "x");
	assert_non_null(strstr(yaml, "- mount                  # t 1\n"));
	assert_null(strstr(yaml, "Needed but not granted"));
	wm_policy_set_free(load(yaml));
	free(yaml);
	for (int i = 0; i < WM_LEARN_MAX_TALLY + 10; i++) {
		snprintf(name, sizeof(name), "/p/%d", i);
		wm_learn_tally_add(&l.paths, name, 1);
	}
	assert_int_equal(l.paths.n, WM_LEARN_MAX_TALLY);
	assert_int_equal(l.paths.more, 10);
	wm_learned_release(&l);
	/* A path a task chose cannot end the comment it stands in. */
	wm_learn_tally_add(&l.paths, "/tmp/x\n    allow: [ptrace]\xff\\", 1);
	assert_string_equal(l.paths.v[0].what, "/tmp/x\\x0a    allow: [ptrace]\\xff\\x5c");
	wm_learned_call(&l, "t\nx", "getpid", -1, false, false);
	yaml = wm_learned_yaml(std, "g", &l, 0, "x");
	assert_non_null(strstr(yaml, "# t\\x0ax 1\n"));
	assert_null(strstr(yaml, "\n    allow: [ptrace]"));
	wm_policy_set_free(load(yaml));
	free(yaml);
	wm_learned_release(&l);
	wm_policy_set_free(set);
}

/* A call the base denies by name cannot be allowed by its child: it is
 * refused while learning and listed apart, with why. */
static void denied_by_name(void **state)
{
	struct wm_policy_set *set = builtins();
	const struct wm_policy *par = wm_policy_set_get(set, "paranoid");
	const struct wm_policy *std = wm_policy_set_get(set, "standard");
	struct wm_learned l = { 0 };
	char *yaml;

	(void)state;
	assert_true(wm_learn_denied_by_name(par, "socket"));
	assert_false(wm_learn_denied_by_name(std, "socket"));
	assert_false(wm_learn_denied_by_name(std, "mount")); /* by its default */
	assert_false(wm_learn_denied_by_name(par, "ioctl")); /* by argument */
	wm_learned_call(&l, "py", "socket", -1, true, true);
	wm_learned_call(&l, "py", "mount", WM_GRP_MOUNT, true, true);
	yaml = wm_learned_yaml(par, "p", &l, 1u << WM_GRP_PTRACE, "x");
	assert_non_null(strstr(yaml, "# Granted with --grant: ptrace\n"));
	assert_non_null(strstr(yaml,
			       "#   denied by name by paranoid, which no policy inheriting "
			       "it can undo (learn over another base):\n#     socket (py 1)\n"));
	assert_non_null(strstr(yaml, "#   mount: rearranges"));
	assert_null(strstr(yaml, "- socket"));
	wm_policy_set_free(load(yaml));
	free(yaml);
	wm_learned_release(&l);
	wm_policy_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(evaluator),	       cmocka_unit_test(grouping_and_headroom),
		cmocka_unit_test(yaml_over_standard),  cmocka_unit_test(yaml_over_development),
		cmocka_unit_test(granted_and_bounded), cmocka_unit_test(denied_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
