/* Unit tests for the lists of policy.h (network modes, filesystem views,
 * workspace modes, seccomp actions and operators): every value has a name
 * that the loader parses back to it and that `wm policy show` writes, a
 * description where diff uses one, an OCI name, and a place in the
 * strictness order. A value added to a list without its columns fails
 * here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/xalloc.h"
#include "policies/policies.h"

typedef const char *(*name_fn)(unsigned v);

static const char *net_name(unsigned v)
{
	return wm_net_mode_name((enum wm_net_mode)v);
}

static const char *view_name(unsigned v)
{
	return wm_fs_view_name((enum wm_fs_view)v);
}

static const char *ws_name(unsigned v)
{
	return wm_ws_mode_name((enum wm_ws_mode)v);
}

static const char *action_name(unsigned v)
{
	return wm_seccomp_action_name((enum wm_seccomp_action)v);
}

static const char *op_name(unsigned v)
{
	return wm_seccomp_op_name((enum wm_seccomp_op)v);
}

/* Every value named, no two alike, and nothing past the end. */
static void check_names(name_fn name, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		assert_non_null(name(i));
		assert_true(name(i)[0] != '\0');
		assert_string_not_equal(name(i), "?");
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(name(i), name(j));
	}
	assert_string_equal(name(count), "?");
}

static void test_names(void **state)
{
	(void)state;
	check_names(net_name, WM_NET_MODE_COUNT);
	check_names(view_name, WM_FS_VIEW_COUNT);
	check_names(ws_name, WM_WS_MODE_COUNT);
	check_names(action_name, WM_SECCOMP_ACTION_COUNT);
	check_names(op_name, WM_SECCOMP_OP_COUNT);
	/* The names on disk: policy files and hashes depend on them. */
	assert_string_equal(wm_net_mode_name(WM_NET_LOOPBACK), "loopback");
	assert_string_equal(wm_fs_view_name(WM_VIEW_HOST_RO), "host-ro");
	assert_string_equal(wm_ws_mode_name(WM_WS_NONE), "none");
	assert_string_equal(wm_seccomp_action_name(WM_SC_ERRNO), "errno");
	assert_string_equal(wm_seccomp_op_name(WM_SC_OP_MASKED_EQ), "masked_eq");
}

/* Loads policy `t` whose keys are `body` (YAML, indented by four). */
static struct wm_policy_set *load_t(const char *body)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *text = wm_xasprintf("version: 1\npolicies:\n  t:\n%s", body);

	if (wm_policy_set_load_text(set, "/t/enums.yaml", text, strlen(text), &d, NULL) != 0) {
		wm_diags_print(&d, stderr);
		fail_msg("does not load:\n%s", text);
	}
	free(text);
	wm_diags_release(&d);
	return set;
}

/* The policy written by `wm policy show` loads back to the same hash. */
static void check_show_round_trip(const struct wm_policy *p)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *y = wm_policy_to_yaml(p), *h1 = wm_policy_hash(p), *h2;

	assert_int_equal(wm_policy_set_load_text(set, "/t/show.yaml", y, strlen(y), &d, NULL), 0);
	h2 = wm_policy_hash(wm_policy_set_get(set, p->name));
	assert_string_equal(h1, h2);
	free(y);
	free(h1);
	free(h2);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_parse_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < WM_NET_MODE_COUNT; i++) {
		char *body = wm_xasprintf("    network: %s\n", net_name(i));
		struct wm_policy_set *set = load_t(body);
		const struct wm_policy *p = wm_policy_set_get(set, "t");

		assert_int_equal(p->network, i);
		check_show_round_trip(p);
		free(body);
		wm_policy_set_free(set);
	}
	for (unsigned i = 0; i < WM_FS_VIEW_COUNT; i++) {
		for (unsigned j = 0; j < WM_WS_MODE_COUNT; j++) {
			char *body = wm_xasprintf("    filesystem: {view: %s, workspace: %s}\n",
						  view_name(i), ws_name(j));
			struct wm_policy_set *set = load_t(body);
			const struct wm_policy *p = wm_policy_set_get(set, "t");

			assert_int_equal(p->fs.view, i);
			assert_int_equal(p->fs.workspace, j);
			check_show_round_trip(p);
			free(body);
			wm_policy_set_free(set);
		}
	}
}

static void test_seccomp_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < WM_SECCOMP_ACTION_COUNT; i++) {
		/* The rule's action differs from the default, so that it stays. */
		unsigned other = (i + 1) % WM_SECCOMP_ACTION_COUNT;
		char *body = wm_xasprintf("    seccomp:\n      default_action: %s\n"
					  "      rules: [{names: [ptrace], action: %s}]\n",
					  action_name(other), action_name(i));
		struct wm_policy_set *set = load_t(body);
		const struct wm_policy *p = wm_policy_set_get(set, "t");
		int cond;

		assert_int_equal(p->seccomp.default_action, other);
		assert_int_equal(wm_policy_syscall_action(p, "ptrace", NULL, &cond), i);
		check_show_round_trip(p);
		free(body);
		wm_policy_set_free(set);
	}
	for (unsigned i = 0; i < WM_SECCOMP_OP_COUNT; i++) {
		char *body =
			wm_xasprintf("    seccomp:\n      rules: [{names: [ioctl], action: allow,"
				     " args: [{index: 1, op: %s, value: 5, value_two: 4}]}]\n",
				     op_name(i));
		struct wm_policy_set *set = load_t(body);
		const struct wm_policy *p = wm_policy_set_get(set, "t");

		assert_int_equal(p->seccomp.n_rules, 1);
		assert_int_equal(p->seccomp.rules[0].args[0].op, i);
		check_show_round_trip(p);
		free(body);
		wm_policy_set_free(set);
	}
}

/* An unknown value is refused with every name of the list. */
static void check_unknown(const char *body, name_fn name, unsigned count)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *text = wm_xasprintf("version: 1\npolicies:\n  t:\n%s", body);

	assert_int_equal(wm_policy_set_load_text(set, "/t/bad.yaml", text, strlen(text), &d, NULL),
			 -1);
	assert_int_equal(d.n_errors, 1);
	for (unsigned i = 0; i < count; i++)
		if (!strstr(d.v[0].msg, name(i)))
			fail_msg("'%s' does not offer '%s'", d.v[0].msg, name(i));
	free(text);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_unknown_lists_all(void **state)
{
	(void)state;
	check_unknown("    network: lan\n", net_name, WM_NET_MODE_COUNT);
	check_unknown("    filesystem: {view: all}\n", view_name, WM_FS_VIEW_COUNT);
	check_unknown("    filesystem: {workspace: wo}\n", ws_name, WM_WS_MODE_COUNT);
	check_unknown("    seccomp: {default_action: deny}\n", action_name,
		      WM_SECCOMP_ACTION_COUNT);
	check_unknown("    seccomp: {rules: [{names: [ptrace]}]}\n", action_name,
		      WM_SECCOMP_ACTION_COUNT);
	check_unknown("    seccomp: {rules: [{names: [ioctl], action: allow,"
		      " args: [{index: 0, op: in}]}]}\n",
		      op_name, WM_SECCOMP_OP_COUNT);
}

/* `wm policy diff` says what B's network mode or view allows, for each. */
static void test_descriptions(void **state)
{
	(void)state;
	for (unsigned i = 0; i < WM_NET_MODE_COUNT + WM_FS_VIEW_COUNT; i++) {
		bool net = i < WM_NET_MODE_COUNT;
		unsigned v = net ? i : i - WM_NET_MODE_COUNT;
		unsigned n = net ? WM_NET_MODE_COUNT : WM_FS_VIEW_COUNT;
		const char *name = net ? net_name(v) : view_name(v);
		const char *other = net ? net_name((v + 1) % n) : view_name((v + 1) % n);
		const char *pre = net ? "    network: " : "    filesystem: {view: ";
		const char *post = net ? "\n" : "}\n";
		char *a_body = wm_xasprintf("%s%s%s", pre, other, post);
		char *b_body = wm_xasprintf("%s%s%s", pre, name, post);
		struct wm_policy_set *a = load_t(a_body), *b = load_t(b_body);
		char *t = wm_policy_diff(wm_policy_set_get(a, "t"), wm_policy_set_get(b, "t"));
		char *want = wm_xasprintf("A %s, B %s (B ", other, name);
		const char *at = strstr(t, want);

		if (!at) {
			fail_msg("no '%s' in:\n%s", want, t);
			return; /* fail_msg does not return; the analyzer does not know */
		}
		at += strlen(want);
		assert_true(strlen(at) > 2 && at[0] != ')' && at[0] != '?');
		free(want);
		free(t);
		free(a_body);
		free(b_body);
		wm_policy_set_free(a);
		wm_policy_set_free(b);
	}
}

/* Each action and operator by its OCI name, through `wm policy import-oci`. */
static void check_oci(const char *default_action, const char *rule)
{
	char path[] = "/tmp/wm-enums-XXXXXX";
	int fd = mkstemp(path);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;
	char *json = wm_xasprintf("{\"defaultAction\": \"%s\", \"syscalls\": [%s]}", default_action,
				  rule);
	char *text;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	text = wm_policy_import_oci(path, "oci", &d, &err);
	if (!text) {
		wm_diags_print(&d, stderr);
		fail_msg("profile %s does not import", json);
	}
	free(text);
	unlink(path);
	free(json);
	wm_diags_release(&d);
}

static void test_oci_names(void **state)
{
	static const char *const acts[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					    "SCMP_ACT_TRAP", "SCMP_ACT_LOG" };
	static const char *const ops[] = { "SCMP_CMP_EQ",	"SCMP_CMP_NE", "SCMP_CMP_LT",
					   "SCMP_CMP_LE",	"SCMP_CMP_GT", "SCMP_CMP_GE",
					   "SCMP_CMP_MASKED_EQ" };

	(void)state;
	assert_int_equal(sizeof(acts) / sizeof(acts[0]), WM_SECCOMP_ACTION_COUNT);
	assert_int_equal(sizeof(ops) / sizeof(ops[0]), WM_SECCOMP_OP_COUNT);
	for (size_t i = 0; i < WM_SECCOMP_ACTION_COUNT; i++)
		check_oci(acts[i], "");
	for (size_t i = 0; i < WM_SECCOMP_OP_COUNT; i++) {
		char *rule =
			wm_xasprintf("{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\","
				     " \"args\": [{\"index\": 1, \"value\": 5, \"valueTwo\": 4,"
				     " \"op\": \"%s\"}]}",
				     ops[i]);

		check_oci("SCMP_ACT_ERRNO", rule);
		free(rule);
	}
}

/* Each list's values from the strictest up; equal neighbours share a rank. */
static void check_order(const char *pre, const char *post, const char *const *names,
			const int *ranks, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		for (unsigned j = 0; j < count; j++) {
			char *bi = wm_xasprintf("%s%s%s", pre, names[i], post);
			char *bj = wm_xasprintf("%s%s%s", pre, names[j], post);
			struct wm_policy_set *si = load_t(bi), *sj = load_t(bj);
			int geq = wm_policy_at_least_as_strict(wm_policy_set_get(si, "t"),
							       wm_policy_set_get(sj, "t"), NULL);

			if (geq != (ranks[i] <= ranks[j]))
				fail_msg("%s vs %s: at least as strict is %d", names[i], names[j],
					 geq);
			free(bi);
			free(bj);
			wm_policy_set_free(si);
			wm_policy_set_free(sj);
		}
	}
}

static void test_strictness_order(void **state)
{
	static const char *const net[] = { "none", "loopback", "host" };
	static const int net_r[] = { 0, 1, 2 };
	static const char *const view[] = { "minimal", "system", "host-ro", "host-rw" };
	static const int view_r[] = { 0, 1, 2, 3 };
	static const char *const ws[] = { "none", "ro", "rw" };
	static const int ws_r[] = { 0, 1, 2 };
	static const char *const act[] = { "kill", "errno", "trap", "log", "allow" };
	static const int act_r[] = { 0, 1, 1, 2, 3 };

	(void)state;
	/* A value added to a list must find its place here too. */
	assert_int_equal(sizeof(net) / sizeof(net[0]), WM_NET_MODE_COUNT);
	assert_int_equal(sizeof(view) / sizeof(view[0]), WM_FS_VIEW_COUNT);
	assert_int_equal(sizeof(ws) / sizeof(ws[0]), WM_WS_MODE_COUNT);
	assert_int_equal(sizeof(act) / sizeof(act[0]), WM_SECCOMP_ACTION_COUNT);
	check_order("    network: ", "\n", net, net_r, WM_NET_MODE_COUNT);
	/* A private /tmp of one size, or the views' own /tmp would decide. */
	check_order("    filesystem: {tmp: 64M, view: ", "}\n", view, view_r, WM_FS_VIEW_COUNT);
	check_order("    filesystem: {workspace: ", "}\n", ws, ws_r, WM_WS_MODE_COUNT);
	check_order("    seccomp: {default_action: ", "}\n", act, act_r, WM_SECCOMP_ACTION_COUNT);
	for (unsigned i = 0; i < WM_SECCOMP_ACTION_COUNT; i++)
		assert_int_equal(wm_seccomp_action_passes((enum wm_seccomp_action)i),
				 i == WM_SC_ALLOW || i == WM_SC_LOG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_seccomp_round_trip),
		cmocka_unit_test(test_unknown_lists_all),
		cmocka_unit_test(test_descriptions),
		cmocka_unit_test(test_oci_names),
		cmocka_unit_test(test_strictness_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
