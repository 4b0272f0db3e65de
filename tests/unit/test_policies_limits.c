/* Unit tests for policies/: names a file may not define (built-ins, their
 * case variants, a workflow file replacing a user's policy) and the limits
 * on hostile policy files (size, nesting, aliases, values, policies, list
 * entries, inheritance depth), each an error at its place naming the limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/diagcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "policies/policies.h"

static bool has_diag(const struct wm_diags *d, unsigned line, unsigned col, const char *needle)
{
	if (wm_test_has_diag(d, WM_DIAG_ANY, line, col, needle))
		return true;
	wm_test_print_diags(d);
	fprintf(stderr, "  wanted %u:%u %s\n", line, col, needle);
	return false;
}

static int load(struct wm_policy_set *set, const char *text, size_t len, struct wm_diags *d)
{
	return wm_policy_set_load_text(set, "/t/p.yaml", text, len, d, NULL);
}

/* A list with an entry three times over keeps it once, in first place. */
static void test_list_duplicates(void **state)
{
	static const char *const y =
		"version: 1\npolicies:\n  a:\n    env: {keep: [B, A, B, C, B, A]}\n";
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	char *const *keep;

	(void)state;
	assert_int_equal(load(set, y, strlen(y), &d), 0);
	keep = wm_policy_set_get(set, "a")->env.keep;
	assert_string_equal(keep[0], "B");
	assert_string_equal(keep[1], "A");
	assert_string_equal(keep[2], "C");
	assert_null(keep[3]);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_builtins_reserved(void **state)
{
	static const char *const y = "version: 1\npolicies:\n  ok: {inherits: standard}\n"
				     "  paranoid:\n    inherits: minimal\n"
				     "  Standard: {inherits: standard}\n  HARDENED: {}\n";
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	const struct wm_policy *before = wm_policy_set_get(set, "paranoid");

	(void)state;
	assert_int_equal(load(set, y, strlen(y), &d), -1);
	assert_true(has_diag(&d, 4, 3, "'paranoid' is a built-in policy and cannot be redefined"));
	assert_true(has_diag(&d, 6, 3,
			     "'Standard' differs from the built-in policy 'standard' only in "
			     "letter case"));
	assert_true(has_diag(&d, 7, 3, "'HARDENED' differs from the built-in policy 'hardened'"));
	assert_int_equal(d.n_errors, 3);
	/* Nothing changed: paranoid is still the built-in. */
	assert_ptr_equal(wm_policy_set_get(set, "paranoid"), before);
	assert_string_equal(before->source, "builtin:paranoid");
	assert_null(wm_policy_set_get(set, "ok"));
	wm_diags_release(&d);
	/* What `wm policy show paranoid` prints is the built-in itself: accepted,
	 * and the built-in stays. */
	{
		char *shown = wm_policy_to_yaml(before);

		assert_int_equal(load(set, shown, strlen(shown), &d), 0);
		assert_ptr_equal(wm_policy_set_get(set, "paranoid"), before);
		free(shown);
	}
	/* Changed in any way, it is a redefinition. */
	{
		char *shown = wm_policy_to_yaml(before), *p = strstr(shown, "memory: 256M");

		assert_non_null(p);
		p[8] = '5'; /* 256M -> 512M */
		p[9] = '1';
		p[10] = '2';
		assert_int_equal(load(set, shown, strlen(shown), &d), -1);
		assert_true(has_diag(&d, 3, 3, "cannot be redefined"));
		free(shown);
	}
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

/* A deep chain is refused at the first `inherits` past the limit, and costs
 * little: each level is merged once. */
static void test_inheritance_depth(void **state)
{
	struct wm_buf y = WM_BUF_INIT;
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	(void)state;
	wm_buf_addstr(&y, "version: 1\npolicies:\n  p0: {inherits: standard}\n");
	for (int i = 1; i <= 63; i++)
		wm_buf_addf(&y, "  p%d: {inherits: p%d, seccomp: {deny: [uname]}}\n", i, i - 1);
	assert_int_equal(load(set, y.data, y.len, &d), 0); /* 64 levels below standard */
	assert_int_equal(wm_policy_at_least_as_strict(wm_policy_set_get(set, "p63"),
						      wm_policy_set_get(set, "standard"), NULL),
			 1);
	wm_policy_set_free(set);
	set = wm_policy_set_new();
	wm_buf_addstr(&y, "  p64: {inherits: p63}\n");
	assert_int_equal(load(set, y.data, y.len, &d), -1);
	assert_true(has_diag(&d, 67, 19,
			     "'p64' inherits through more than 64 levels (the limit of "
			     "inheritance)"));
	wm_buf_release(&y);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void expect_limit(const char *text, size_t len, unsigned line, unsigned col,
			 const char *needle)
{
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	assert_int_equal(load(set, text, len, &d), -1);
	assert_true(has_diag(&d, line, col, needle));
	assert_int_equal(wm_policy_set_count(set), 6);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

static void test_yaml_limits(void **state)
{
	struct wm_buf y = WM_BUF_INIT;

	(void)state;
	/* Size: refused at the byte past the limit. */
	wm_buf_addstr(&y, "version: 1\n# ");
	while (y.len < (1u << 20) + 100)
		wm_buf_addch(&y, 'x');
	expect_limit(y.data, y.len, 2, (1u << 20) - 11 + 1,
		     "the policy file is larger than the limit of 1048576 bytes");
	/* Nesting. */
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies: ");
	for (int i = 0; i < 40000; i++)
		wm_buf_addch(&y, '[');
	expect_limit(y.data, y.len, 2, 11 + 31,
		     "nesting deeper than the limit of 32 levels in the policy file");
	/* Aliases: refused outright, wherever they are. */
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies:\n  a: &x {network: none}\n  b: *x\n");
	expect_limit(y.data, y.len, 4, 6, "aliases (*x) are not allowed in the policy file");
	/* Values. */
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies:\n  a:\n    seccomp:\n      allow: [");
	for (int i = 0; i < 100001; i++)
		wm_buf_addstr(&y, "a,");
	wm_buf_addstr(&y, "a]\n");
	expect_limit(y.data, y.len, 5, 199993,
		     "more values than the limit of 100000 in the policy file");
	/* Entries of one list. */
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies:\n  a:\n    env:\n      keep: [");
	for (int i = 0; i < 4100; i++)
		wm_buf_addf(&y, "V%d,", i);
	wm_buf_addstr(&y, "V]\n");
	expect_limit(y.data, y.len, 5, 23480, "'env.keep' has more than 4096 entries");
	/* Policies in one file. */
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies:\n");
	for (int i = 0; i < 1025; i++)
		wm_buf_addf(&y, "  p%d: {}\n", i);
	expect_limit(y.data, y.len, 1027, 3, "more policies than the limit of 1024 in one file");
	wm_buf_release(&y);
}

/* 20,000 aliases of a 1 MB string (the bomb of the review) and a chain of
 * 8,000 policies are refused, whatever they would have grown to. */
static void test_bombs(void **state)
{
	struct wm_buf y = WM_BUF_INIT;
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;

	(void)state;
	wm_buf_addstr(&y, "version: 1\npolicies:\n  a:\n    description: &s '");
	for (int i = 0; i < 1000; i++)
		wm_buf_addch(&y, 'x');
	wm_buf_addstr(&y, "'\n    env: {keep: [");
	for (int i = 0; i < 20000; i++)
		wm_buf_addstr(&y, "*s, ");
	wm_buf_addstr(&y, "*s]}\n");
	assert_int_equal(load(set, y.data, y.len, &d), -1);
	assert_true(has_diag(&d, 5, 18, "aliases (*s) are not allowed"));
	wm_diags_release(&d);
	wm_buf_setlen(&y, 0);
	wm_buf_addstr(&y, "version: 1\npolicies:\n  p0: {inherits: standard}\n");
	for (int i = 1; i < 8000; i++)
		wm_buf_addf(&y, "  p%d: {inherits: p%d}\n", i, i - 1);
	assert_int_equal(load(set, y.data, y.len, &d), -1);
	assert_true(has_diag(&d, 1027, 3, "more policies than the limit of 1024"));
	assert_true(has_diag(&d, 67, 19, "through more than 64 levels"));
	wm_buf_release(&y);
	wm_diags_release(&d);
	wm_policy_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_duplicates),
		cmocka_unit_test(test_builtins_reserved),
		cmocka_unit_test(test_inheritance_depth),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_bombs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
