/* Unit tests for the DAG planner (workflow/dag.h). */
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
#include "workflow/dag.h"
#include "workflow/workflow.h"

/* A workflow built by hand: task i is "t<i>", deps given as index lists. */
static struct wm_workflow *make_wf(size_t n)
{
	struct wm_workflow *wf = wm_xcalloc(1, sizeof(*wf));

	wf->path = wm_xstrdup("g.md");
	wf->name = wm_xstrdup("g");
	wf->tasks = wm_xcalloc(n, sizeof(*wf->tasks));
	wf->n_tasks = n;
	for (size_t i = 0; i < n; i++) {
		wf->tasks[i].id = wm_xasprintf("t%zu", i);
		wf->tasks[i].title = wm_xstrdup(wf->tasks[i].id);
		wf->tasks[i].loc = (struct wm_loc){ (unsigned)(i * 10 + 1), 1 };
	}
	return wf;
}

static void add_dep_name(struct wm_workflow *wf, size_t i, const char *id)
{
	struct wm_task *t = &wf->tasks[i];
	size_t n = wm_strv_len(t->depends);

	wm_strv_push(&t->depends, &n, id);
	t->depends_loc = wm_xrealloc(t->depends_loc, n * sizeof(*t->depends_loc));
	t->depends_loc[n - 1] = (struct wm_loc){ t->loc.line + 1, (unsigned)(12 + 4 * (n - 1)) };
}

static void add_dep(struct wm_workflow *wf, size_t i, size_t j)
{
	char id[32];

	snprintf(id, sizeof(id), "t%zu", j);
	add_dep_name(wf, i, id);
}

static size_t pos_in_order(const struct wm_dag *g, size_t task)
{
	for (size_t k = 0; k < g->n; k++)
		if (g->order[k] == task)
			return k;
	fail_msg("task %zu not in the order", task);
	return 0;
}

static void assert_valid_order(const struct wm_dag *g)
{
	for (size_t i = 0; i < g->n; i++)
		for (size_t e = 0; e < wm_dag_n_deps(g, i); e++)
			assert_true(pos_in_order(g, wm_dag_deps(g, i)[e]) < pos_in_order(g, i));
}

static bool has_diag(const struct wm_diags *d, enum wm_diag_level lv, unsigned line, unsigned col,
		     const char *text)
{
	return wm_test_has_diag(d, (int)lv, line, col, text);
}

static void test_diamond(void **state)
{
	/* t0 <- t1, t0 <- t2, {t1, t2} <- t3, plus an independent t4 */
	struct wm_workflow *wf = make_wf(5);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	add_dep(wf, 1, 0);
	add_dep(wf, 2, 0);
	add_dep(wf, 3, 2);
	add_dep(wf, 3, 1);
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(g->n, 5);
	assert_valid_order(g);
	/* Ready tasks leave in file order. */
	assert_int_equal(g->order[0], 0);
	assert_int_equal(g->order[1], 1);
	assert_int_equal(g->order[2], 2);
	assert_int_equal(g->order[3], 3);
	assert_int_equal(g->order[4], 4);
	/* Dependencies as written; dependents in file order. */
	assert_int_equal(wm_dag_n_deps(g, 3), 2);
	assert_int_equal(wm_dag_deps(g, 3)[0], 2);
	assert_int_equal(wm_dag_deps(g, 3)[1], 1);
	assert_int_equal(wm_dag_n_dependents(g, 0), 2);
	assert_int_equal(wm_dag_dependents(g, 0)[0], 1);
	assert_int_equal(wm_dag_dependents(g, 0)[1], 2);
	assert_int_equal(wm_dag_n_dependents(g, 3), 0);
	/* Longest chains to a sink. */
	assert_int_equal(g->chain[0], 3);
	assert_int_equal(g->chain[1], 2);
	assert_int_equal(g->chain[2], 2);
	assert_int_equal(g->chain[3], 1);
	assert_int_equal(g->chain[4], 1);
	wm_dag_free(g);
	wm_workflow_free(wf);
}

static void test_order_waits_for_late_dependencies(void **state)
{
	/* t0 depends on t2: t0 must come after t2 even though it is first in the file. */
	struct wm_workflow *wf = make_wf(3);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	add_dep(wf, 0, 2);
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(g->order[0], 1);
	assert_int_equal(g->order[1], 2);
	assert_int_equal(g->order[2], 0);
	assert_int_equal(g->chain[2], 2);
	wm_dag_free(g);
	wm_workflow_free(wf);
}

static void test_unknown_self_and_duplicate(void **state)
{
	struct wm_workflow *wf = make_wf(3);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = (struct wm_dag *)&d;

	(void)state;
	add_dep_name(wf, 1, "t0");
	add_dep_name(wf, 1, "t0");     /* twice: warning at the second */
	add_dep_name(wf, 1, "tO");     /* typo of t0 */
	add_dep_name(wf, 2, "t2");     /* itself */
	add_dep_name(wf, 2, "zzzzzz"); /* nothing close */
	assert_int_equal(wm_dag_build(wf, &g, &d), -1);
	assert_null(g);
	assert_int_equal(d.n_errors, 3);
	assert_int_equal(d.n, 4);
	assert_true(has_diag(&d, WM_DIAG_WARNING, 12, 16, "listed twice"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 12, 20,
			     "unknown dependency `tO` (did you mean `t0`?)"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 22, 12, "`t2` depends on itself"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 22, 16, "unknown dependency `zzzzzz`"));
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, "zzzzzz"))
			assert_null(strstr(d.v[i].msg, "did you mean"));
	wm_diags_release(&d);
	wm_workflow_free(wf);
}

static void test_cycles_reported_with_path(void **state)
{
	/* t0 -> t2 -> t1 -> t0 (x -> y: x depends on y), t3 <-> t4, and t5
	 * depending on both cycles without being in one. */
	struct wm_workflow *wf = make_wf(6);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	add_dep(wf, 0, 2);
	add_dep(wf, 2, 1);
	add_dep(wf, 1, 0);
	add_dep(wf, 3, 4);
	add_dep(wf, 4, 3);
	add_dep(wf, 5, 4);
	add_dep(wf, 5, 0);
	assert_int_equal(wm_dag_build(wf, &g, &d), -1);
	assert_null(g);
	assert_int_equal(d.n, 2);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 12, "dependency cycle: t0 -> t2 -> t1 -> t0"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 32, 12, "dependency cycle: t3 -> t4 -> t3"));
	wm_diags_release(&d);
	wm_workflow_free(wf);
}

static void test_cycle_and_unknown_together(void **state)
{
	struct wm_workflow *wf = make_wf(2);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	add_dep(wf, 0, 1);
	add_dep_name(wf, 1, "nowhere");
	add_dep(wf, 1, 0);
	assert_int_equal(wm_dag_build(wf, &g, &d), -1);
	assert_int_equal(d.n, 2);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 12, 12, "unknown dependency `nowhere`"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 12, "dependency cycle: t0 -> t1 -> t0"));
	wm_diags_release(&d);
	wm_workflow_free(wf);
}

#define BIG 10000

static void test_deep_chain_without_recursion(void **state)
{
	struct wm_workflow *wf = make_wf(BIG);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	/* Written backwards: t0 depends on t1, ... t9998 on t9999. */
	for (size_t i = 0; i + 1 < BIG; i++)
		add_dep(wf, i, i + 1);
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(d.n, 0);
	for (size_t k = 0; k < BIG; k++)
		assert_int_equal(g->order[k], BIG - 1 - k);
	assert_int_equal(g->chain[BIG - 1], BIG);
	assert_int_equal(g->chain[0], 1);
	wm_dag_free(g);
	wm_workflow_free(wf);
}

static void test_deep_cycle_without_recursion(void **state)
{
	struct wm_workflow *wf = make_wf(BIG);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	for (size_t i = 0; i < BIG; i++)
		add_dep(wf, i, (i + 1) % BIG);
	assert_int_equal(wm_dag_build(wf, &g, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "dependency cycle: t0 -> t1 -> t2 -> "));
	assert_non_null(strstr(d.v[0].msg, "-> t9999 -> t0"));
	wm_diags_release(&d);
	wm_workflow_free(wf);
}

static void test_wide(void **state)
{
	/* One root, 9,998 tasks after it, one join after all of them. */
	struct wm_workflow *wf = make_wf(BIG);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	for (size_t i = 1; i + 1 < BIG; i++) {
		add_dep(wf, i, 0);
		add_dep(wf, BIG - 1, i);
	}
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(g->order[0], 0);
	assert_int_equal(g->order[BIG - 1], BIG - 1);
	assert_int_equal(wm_dag_n_dependents(g, 0), BIG - 2);
	assert_int_equal(wm_dag_n_deps(g, BIG - 1), BIG - 2);
	assert_int_equal(g->chain[0], 3);
	assert_valid_order(g);
	wm_dag_free(g);
	wm_workflow_free(wf);
}

static void test_empty_graph(void **state)
{
	struct wm_workflow *wf = make_wf(0);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_dag *g = NULL;

	(void)state;
	assert_int_equal(wm_dag_build(wf, &g, &d), 0);
	assert_int_equal(g->n, 0);
	wm_dag_free(g);
	wm_dag_free(NULL);
	wm_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_order_waits_for_late_dependencies),
		cmocka_unit_test(test_unknown_self_and_duplicate),
		cmocka_unit_test(test_cycles_reported_with_path),
		cmocka_unit_test(test_cycle_and_unknown_together),
		cmocka_unit_test(test_deep_chain_without_recursion),
		cmocka_unit_test(test_deep_cycle_without_recursion),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_empty_graph),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
