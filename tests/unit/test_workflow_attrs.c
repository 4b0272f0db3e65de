/* Unit tests for the one list of task attributes (workflow/attrs.h) and the
 * definition hash derived from it (workflow/taskhash.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/diagcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
#include "workflow/workflow.h"

/* Parses without the dependency checks: an example may name any task. */
static struct wm_workflow *parse(const char *text)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	int rc = wm_workflow_parse("t.md", text, strlen(text), &wf, &d);

	wm_test_print_diags(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	wm_diags_release(&d);
	return wf;
}

static char *hash_of(const char *text)
{
	struct wm_workflow *wf = parse(text);
	char *h;

	assert_int_equal(wf->n_tasks, 1);
	h = wm_task_definition_hash(&wf->tasks[0], "P");
	wm_workflow_free(wf);
	return h;
}

static bool is_list_kind(enum wm_attr_kind k)
{
	return k == WM_AK_IDS || k == WM_AK_ENV || k == WM_AK_PATHS || k == WM_AK_MATRIX ||
	       k == WM_AK_GLOBS;
}

/* A matrix makes several tasks out of one (or needs another attribute):
 * test_workflow_matrix.c checks how it enters the instances' hashes. */
static bool makes_one_task(const struct wm_attr_info *a)
{
	return a->kind != WM_AK_MATRIX;
}

static void test_list_is_well_formed(void **state)
{
	(void)state;
	for (size_t i = 0; i < WM_ATTR_COUNT; i++) {
		const struct wm_attr_info *a = &wm_attrs[i];

		assert_non_null(a->key);
		assert_int_equal(wm_attr_find(a->key), (int)i);
		assert_true(a->example && *a->example);
		assert_true(a->what && *a->what);
		/* The body, the rollback, the policy hash, matrix values and
		 * parameter values use these. */
		assert_null(strchr("BRHVA", a->tag));
		for (size_t j = 0; j < i; j++)
			if (wm_attrs[j].tag == a->tag)
				fail_msg("`%s` and `%s` share the hash tag '%c'", wm_attrs[j].key,
					 a->key, a->tag);
		/* Values add up only where the field holds a list. */
		assert_int_equal(a->repeat, is_list_kind(a->kind));
	}
	assert_int_equal(wm_attr_find("nope"), -1);
}

/* Whatever attribute is added to the list, its example must parse and
 * change the task's definition hash; else resume would keep a task whose
 * definition changed. */
static void test_every_attribute_changes_the_hash(void **state)
{
	char *base = hash_of("## a\n```sh\ntrue\n```\n");

	(void)state;
	for (size_t i = 0; i < WM_ATTR_COUNT; i++) {
		const struct wm_attr_info *a = &wm_attrs[i];
		char *text, *h;

		if (!makes_one_task(a))
			continue;
		text = wm_xasprintf("## a\n- %s: %s\n\n```sh\ntrue\n```\n", a->key, a->example);
		h = hash_of(text);

		if (strcmp(h, base) == 0)
			fail_msg("`- %s: %s` leaves the definition hash unchanged", a->key,
				 a->example);
		free(h);
		free(text);
	}
	free(base);
}

/* Each repeatable attribute given twice differs from once. */
static void test_repeated_values_change_the_hash(void **state)
{
	(void)state;
	for (size_t i = 0; i < WM_ATTR_COUNT; i++) {
		const struct wm_attr_info *a = &wm_attrs[i];
		char *once, *twice, *h1, *h2;

		if (!a->repeat || !makes_one_task(a))
			continue;
		once = wm_xasprintf("## a\n- %s: %s\n\n```sh\ntrue\n```\n", a->key, a->example);
		twice = wm_xasprintf("## a\n- %s: %s\n- %s: X%s\n\n```sh\ntrue\n```\n", a->key,
				     a->example, a->key, a->example);
		h1 = hash_of(once);
		h2 = hash_of(twice);
		assert_string_not_equal(h1, h2);
		free(h1);
		free(h2);
		free(once);
		free(twice);
	}
}

/* Hashes computed before the attribute list existed, by the hand-written
 * serialization: runs started by an earlier wm resume against the same
 * hashes. */
static void test_hashes_of_earlier_versions(void **state)
{
	const char *text =
		"---\ninterpreters:\n  awk: [awk, -f]\n---\n"
		"## dep\n```sh\ntrue\n```\n"
		"## Main task\n- id: main\n- depends: dep\n- policy: testing\n- timeout: 1h30m\n"
		"- retries: 3\n- backoff: 250ms\n- priority: low\n- condition: failure\n"
		"- only_if: `test -f go`\n- env: A=1\n- env: B=x=y\n- workdir: sub/dir\n- sla: 2m\n"
		"- outputs: a.txt, dir/b.bin\n- outputs: c\n\n```bash\nmake\n```\n"
		"```sh rollback\nundo\n```\n"
		"## join\n- depends: main, dep\n- priority: high\n- condition: always\n"
		"## awk\n```awk\nBEGIN{}\n```\n";
	static const char *const want[] = {
		"271e3557bd1d9aa80c0dcfe6a9a455d2a7c2facdf89bbb186cd8585438f07f05",
		"ee5f5aabdf5704b553907b2189160ccedc1cd0dfec830ba67f25f9b52056a97f",
		"d7e6411b996a6e989f012a2936617559eefc8370a41fc166ada8c7056a9d29c5",
		"a6939ab9ec7ff609b288108cab663121e01b29a5f19414ec427f02b26f9f420f",
	};
	struct wm_workflow *wf = parse(text);
	char *h;

	(void)state;
	assert_int_equal(wf->n_tasks, 4);
	for (size_t i = 0; i < 4; i++) {
		h = wm_task_definition_hash(&wf->tasks[i], "P1");
		assert_string_equal(h, want[i]);
		free(h);
	}
	h = wm_task_definition_hash(&wf->tasks[0], NULL);
	assert_string_equal(h, "2af3560b821b001c0080c3cfc00e0ae1ef36d6df44dc0b3085120e32e7ffba2c");
	free(h);
	wm_workflow_free(wf);
}

static void test_unknown_attribute_hints(void **state)
{
	const char *text = "## a\n- timeout: 1s\n- retires: 2\n- frobnicate: yes\n- polcy: x\n\n"
			   "```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	char *want;

	(void)state;
	assert_int_equal(wm_workflow_parse("t.md", text, strlen(text), &wf, &d), -1);
	assert_int_equal(d.n, 3);
	/* A near miss names the attribute and what it does. */
	want = wm_xasprintf("did you mean `retries`, %s?", wm_attrs[WM_ATTR_RETRIES].what);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 3, 3, want));
	free(want);
	want = wm_xasprintf("did you mean `policy`, %s?", wm_attrs[WM_ATTR_POLICY].what);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 5, 3, want));
	free(want);
	/* Anything else lists every attribute. */
	for (size_t i = 0; i < WM_ATTR_COUNT; i++)
		assert_non_null(strstr(d.v[1].msg, wm_attrs[i].key));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 3, "unknown attribute `frobnicate`"));
	wm_diags_release(&d);
}

static void test_missing_value_shows_the_example(void **state)
{
	(void)state;
	for (size_t i = 0; i < WM_ATTR_COUNT; i++) {
		const struct wm_attr_info *a = &wm_attrs[i];
		char *text = wm_xasprintf("## a\n- %s:\n\n```sh\ntrue\n```\n", a->key);
		char *want = wm_xasprintf("`%s` has no value (e.g. `- %s: %s`)", a->key, a->key,
					  a->example);
		struct wm_diags d = WM_DIAGS_INIT;
		struct wm_workflow *wf = NULL;

		assert_int_equal(wm_workflow_parse("t.md", text, strlen(text), &wf, &d), -1);
		/* At the place the value is missing: after "- KEY:". */
		assert_true(
			wm_test_has_diag(&d, WM_DIAG_ERROR, 2, (unsigned)strlen(a->key) + 4, want));
		wm_diags_release(&d);
		free(text);
		free(want);
	}
}

/* Choices: every name parses to its value and back. */
static void test_choices_round_trip(void **state)
{
	static const enum wm_priority prio[] = { WM_PRIO_LOW, WM_PRIO_MEDIUM, WM_PRIO_HIGH };
	static const enum wm_condition cond[] = { WM_COND_SUCCESS, WM_COND_FAILURE,
						  WM_COND_ALWAYS };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *text = wm_xasprintf("## a\n- priority: %s\n- condition: %s\n\n```sh\ntrue\n"
					  "```\n",
					  wm_priority_name(prio[i]), wm_condition_name(cond[i]));
		struct wm_workflow *wf = parse(text);

		assert_int_equal(wf->tasks[0].priority, prio[i]);
		assert_int_equal(wf->tasks[0].condition, cond[i]);
		wm_workflow_free(wf);
		free(text);
	}
	assert_string_equal(wm_rollback_name(WM_ROLLBACK_MANUAL), "manual");
	assert_string_equal(wm_rollback_name(WM_ROLLBACK_OFF), "off");
	assert_string_equal(wm_rollback_name(WM_ROLLBACK_AUTO), "auto");
}

/* inputs and cache (the task cache): parsed, checked, front matter too. */
static void test_cache_attributes(void **state)
{
	struct wm_workflow *wf =
		parse("---\ncache: true\n---\n## a\n- inputs: src/**/*.c, Makefile\n"
		      "- inputs: doc/*.md\n- cache: false\n\n```sh\ntrue\n```\n"
		      "## b\n```sh\ntrue\n```\n");
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *bad = NULL;
	const char *text = "## a\n- inputs: ../x\n- cache: maybe\n\n```sh\ntrue\n```\n";

	(void)state;
	assert_true(wf->cache);
	assert_int_equal(wm_strv_len(wf->tasks[0].inputs), 3);
	assert_string_equal(wf->tasks[0].inputs[0], "src/**/*.c");
	assert_string_equal(wf->tasks[0].inputs[2], "doc/*.md");
	assert_int_equal(wf->tasks[0].cache, WM_SWITCH_OFF);
	assert_int_equal(wf->tasks[1].cache, WM_SWITCH_UNSET);
	wm_workflow_free(wf);
	assert_int_equal(wm_workflow_parse("w.md", text, strlen(text), &bad, &d), -1);
	assert_int_equal(d.n_errors, 2);
	assert_non_null(strstr(d.v[0].msg, "`../x` must be a pattern relative to the workspace"));
	assert_non_null(strstr(d.v[1].msg, "cache: expected true or false, not `maybe`"));
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_is_well_formed),
		cmocka_unit_test(test_every_attribute_changes_the_hash),
		cmocka_unit_test(test_repeated_values_change_the_hash),
		cmocka_unit_test(test_hashes_of_earlier_versions),
		cmocka_unit_test(test_unknown_attribute_hints),
		cmocka_unit_test(test_missing_value_shows_the_example),
		cmocka_unit_test(test_choices_round_trip),
		cmocka_unit_test(test_cache_attributes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
