/* Unit tests for orchestrator/stats.c: percentiles and the critical path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "orchestrator/stats.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

static void test_percentile(void **state)
{
	uint64_t v[] = { 50, 10, 40, 20, 30, 100, 90, 80, 70, 60 };

	(void)state;
	assert_int_equal(wm_percentile(v, 10, 50), 50);
	assert_int_equal(wm_percentile(v, 10, 95), 100);
	assert_int_equal(wm_percentile(v, 10, 90), 90);
	assert_int_equal(wm_percentile(v, 10, 1), 10);
	assert_int_equal(wm_percentile(v, 1, 95), 10);
	assert_int_equal(wm_percentile(NULL, 0, 50), 0);
}

static struct wm_workflow *parse(const char *text)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	assert_int_equal(wm_workflow_parse("t.md", text, strlen(text), &wf, &d), 0);
	wm_diags_release(&d);
	return wf;
}

static void test_critical_path_diamond(void **state)
{
	/* a -> {b (slow), c} -> d: the path through b wins. */
	struct wm_workflow *wf = parse("## a\n```sh\ntrue\n```\n"
				       "## b\n- depends: a\n\n```sh\ntrue\n```\n"
				       "## c\n- depends: a\n\n```sh\ntrue\n```\n"
				       "## d\n- depends: b, c\n\n```sh\ntrue\n```\n");
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;
	uint64_t dur[] = { 100, 500, 200, 50 };
	size_t *path, n;

	(void)state;
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(wm_critical_path(g, dur, &path, &n), 650);
	assert_int_equal(n, 3);
	assert_int_equal(path[0], 0);
	assert_int_equal(path[1], 1);
	assert_int_equal(path[2], 3);
	free(path);
	dur[2] = 900; /* now c is the slow branch */
	assert_int_equal(wm_critical_path(g, dur, &path, &n), 1050);
	assert_int_equal(path[1], 2);
	free(path);
	wm_dag_free(g);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_critical_path_independent(void **state)
{
	struct wm_workflow *wf = parse("## a\n```sh\ntrue\n```\n## b\n```sh\ntrue\n```\n");
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;
	uint64_t dur[] = { 10, 30 };
	size_t *path, n;

	(void)state;
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(wm_critical_path(g, dur, &path, &n), 30);
	assert_int_equal(n, 1);
	assert_int_equal(path[0], 1);
	free(path);
	wm_dag_free(g);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_critical_path_diamond),
		cmocka_unit_test(test_critical_path_independent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
