/* Unit tests for the exposure score and the risk groups (policies/score.h):
 * the built-ins' order, children that allow more scoring higher, the parts
 * adding up, and the group table. */
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
#include "policies/score.h"

static struct wm_policy_set *set_with(const char *yaml)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	if (yaml && wm_policy_set_load_text(set, "/t/score.yaml", yaml, strlen(yaml), &d, NULL)) {
		wm_diags_print(&d, stderr);
		fail_msg("test policies do not load");
	}
	wm_diags_release(&d);
	return set;
}

static double score_of(const struct wm_policy_set *set, const char *name)
{
	const struct wm_policy *p = wm_policy_set_get(set, name);
	struct wm_policy_score s;
	double sum = 0;

	assert_non_null(p);
	wm_policy_score(p, &s, NULL);
	for (size_t i = 0; i < WM_SCORE_PART_COUNT; i++) {
		assert_true(s.part[i] >= 0 && s.part[i] <= s.max[i]);
		sum += s.part[i];
	}
	assert_true(sum > s.total - 1e-9 && sum < s.total + 1e-9);
	return s.total;
}

static void builtins_strictly_ordered(void **state)
{
	static const char *const order[] = { "minimal",	 "development", "testing",
					     "standard", "hardened",	"paranoid" };
	struct wm_policy_set *set = set_with(NULL);
	double max = 0;

	(void)state;
	for (size_t i = 0; i < WM_SCORE_PART_COUNT; i++) {
		struct wm_policy_score s;

		wm_policy_score(wm_policy_set_get(set, "minimal"), &s, NULL);
		max += s.max[i];
	}
	assert_true(max > 99.999 && max < 100.001);
	for (size_t i = 0; i + 1 < 6; i++)
		if (!(score_of(set, order[i]) > score_of(set, order[i + 1])))
			fail_msg("%s (%.2f) does not score above %s (%.2f)", order[i],
				 score_of(set, order[i]), order[i + 1],
				 score_of(set, order[i + 1]));
	assert_true(score_of(set, "minimal") <= 100 && score_of(set, "paranoid") >= 0);
	wm_policy_set_free(set);
}

/* Each child allows one thing more than its parent, on a different part. */
static const char *const children = "version: 1\n"
				    "policies:\n"
				    "  p-chmod:\n"
				    "    inherits: paranoid\n"
				    "    seccomp: {allow: [chmod]}\n"
				    "  h-hostname:\n"
				    "    inherits: hardened\n"
				    "    seccomp: {allow: [sethostname]}\n"
				    "  s-ptrace:\n"
				    "    inherits: standard\n"
				    "    seccomp: {allow: [ptrace]}\n"
				    "  s-net:\n"
				    "    inherits: standard\n"
				    "    network: loopback\n"
				    "  s-cap:\n"
				    "    inherits: standard\n"
				    "    capabilities: [cap_net_bind_service]\n"
				    "  s-bind:\n"
				    "    inherits: standard\n"
				    "    filesystem: {bind: [{src: /srv, mode: rw}]}\n"
				    "  h-nolimit:\n"
				    "    inherits: hardened\n"
				    "    limits: {memory: 0}\n";

static void children_that_allow_more_score_higher(void **state)
{
	static const char *const pairs[][2] = {
		{ "p-chmod", "paranoid" },   { "h-hostname", "hardened" },
		{ "s-ptrace", "standard" },  { "s-net", "standard" },
		{ "s-cap", "standard" },     { "s-bind", "standard" },
		{ "h-nolimit", "hardened" },
	};
	struct wm_policy_set *set = set_with(children);

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!(score_of(set, pairs[i][0]) > score_of(set, pairs[i][1])))
			fail_msg("%s (%.3f) does not score above %s (%.3f)", pairs[i][0],
				 score_of(set, pairs[i][0]), pairs[i][1],
				 score_of(set, pairs[i][1]));
	/* One critical call is most of the harm. */
	assert_true(score_of(set, "s-ptrace") >= score_of(set, "standard") + 10);
	wm_policy_set_free(set);
}

static void explanation_names_every_part(void **state)
{
	struct wm_policy_set *set = set_with(NULL);
	struct wm_buf why = WM_BUF_INIT;
	struct wm_policy_score s;

	(void)state;
	wm_policy_score(wm_policy_set_get(set, "standard"), &s, &why);
	for (size_t i = 0; i < WM_SCORE_PART_COUNT; i++)
		assert_non_null(strstr(why.data, wm_score_part_name(i)));
	assert_non_null(strstr(why.data, "none: no network"));
	assert_non_null(strstr(why.data, "missing: cpu 1, fsize 0.5"));
	assert_int_equal(s.cls_passing[WM_RISK_CRITICAL], 0);
	wm_buf_release(&why);
	wm_policy_set_free(set);
}

static void groups_table(void **state)
{
	struct wm_buf b = WM_BUF_INIT;

	(void)state;
	assert_int_equal(wm_risk_group_of("ptrace"), WM_GRP_PTRACE);
	assert_int_equal(wm_risk_group_of("umount2"), WM_GRP_MOUNT);
	assert_int_equal(wm_risk_group_of("clock_settime"), WM_GRP_HOST);
	assert_int_equal(wm_risk_group_of("read"), -1);
	assert_int_equal(wm_risk_group_of("mount_setatt"), -1); /* whole words only */
	assert_int_equal(wm_risk_group_find("keyrings"), WM_GRP_KEYRINGS);
	assert_int_equal(wm_risk_group_find("nosuch"), -1);
	assert_int_equal(wm_risk_group_class(WM_GRP_BPF), WM_RISK_CRITICAL);
	assert_int_equal(wm_risk_group_class(WM_GRP_IDENTITY), WM_RISK_ELEVATED);
	assert_string_equal(wm_risk_class_name(WM_RISK_ORDINARY), "ordinary");
	assert_non_null(strstr(wm_risk_group_reason(WM_GRP_KEYRINGS), "not namespaced"));
	wm_risk_group_calls(WM_GRP_KEYRINGS, &b);
	assert_string_equal(b.data, "keyctl, add_key, request_key");
	/* No call in two groups: the first would hide the second. */
	for (size_t g = 0; g < WM_RISK_GROUP_COUNT; g++) {
		struct wm_buf calls = WM_BUF_INIT;
		char *save = NULL;

		wm_risk_group_calls(g, &calls);
		for (char *w = strtok_r(calls.data, ", ", &save); w;
		     w = strtok_r(NULL, ", ", &save))
			if (wm_risk_group_of(w) != (int)g)
				fail_msg("%s is in %s and an earlier group", w,
					 wm_risk_group_name(g));
		wm_buf_release(&calls);
	}
	wm_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtins_strictly_ordered),
		cmocka_unit_test(children_that_allow_more_score_higher),
		cmocka_unit_test(explanation_names_every_part),
		cmocka_unit_test(groups_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
