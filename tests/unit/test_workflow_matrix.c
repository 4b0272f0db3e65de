/* Unit tests for matrix tasks (workflow/matrix.c): expansion order, ids,
 * environment, exclude/include, the cap, bad values at their place,
 * depends on a whole matrix or one instance, per-instance hashes. */
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
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

static struct wm_workflow *load(const char *text)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	int rc = wm_workflow_parse_checked("m.md", text, strlen(text), &wf, &d);

	wm_test_print_diags(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n_errors, 0);
	wm_diags_release(&d);
	return wf;
}

/* The text must fail with an error at line:col containing `msg`. */
static void expect_error(const char *text, unsigned line, unsigned col, const char *msg)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	int rc = wm_workflow_parse_checked("m.md", text, strlen(text), &wf, &d);

	assert_int_equal(rc, -1);
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, line, col, msg)) {
		wm_test_print_diags(&d);
		fail_msg("no error `%s` at %u:%u", msg, line, col);
	}
	wm_diags_release(&d);
}

static const char *env_of(const struct wm_task *t, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; t->env && t->env[i]; i++)
		if (strncmp(t->env[i], name, len) == 0 && t->env[i][len] == '=')
			return t->env[i] + len + 1;
	return NULL;
}

#define BODY "\n```sh\ntrue\n```\n"

static void test_expansion_order_and_ids(void **state)
{
	struct wm_workflow *wf = load("## Test\n- matrix: os=debian,alpine; py=3.11,3.12\n"
				      "- env: A=1\n- retries: 2\n" BODY);
	static const char *const ids[] = { "test[os=debian,py=3.11]", "test[os=debian,py=3.12]",
					   "test[os=alpine,py=3.11]", "test[os=alpine,py=3.12]" };

	(void)state;
	assert_int_equal(wf->n_tasks, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct wm_task *t = &wf->tasks[i];

		assert_string_equal(t->id, ids[i]);
		assert_int_equal(wm_workflow_find(wf, ids[i]), (long)i);
		assert_string_equal(t->matrix_of, "test");
		assert_int_equal(t->retries, 2);
		assert_string_equal(env_of(t, "A"), "1");
		assert_memory_equal(env_of(t, "WM_MATRIX"), strchr(ids[i], '[') + 1,
				    strlen(env_of(t, "WM_MATRIX")));
		assert_int_equal(strlen(env_of(t, "WM_MATRIX")), strlen(ids[i]) - 6);
	}
	assert_string_equal(env_of(&wf->tasks[2], "MATRIX_OS"), "alpine");
	assert_string_equal(env_of(&wf->tasks[2], "MATRIX_PY"), "3.11");
	assert_string_equal(wf->tasks[1].matrix[0], "os=debian");
	assert_string_equal(wf->tasks[1].matrix[1], "py=3.12");
	assert_null(wf->tasks[1].matrix[2]);
	assert_null(wf->tasks[0].matrix_axes.vals);
	assert_int_equal(wm_workflow_find(wf, "test"), -1);
	wm_workflow_free(wf);
}

/* Repeated `matrix` items add axes; axis names keep their case in ids and
 * are upper-cased in variable names. */
static void test_axes_add_up(void **state)
{
	struct wm_workflow *wf =
		load("## t\n- matrix: Arch=x86\n- matrix: cc = gcc , clang\n" BODY);

	(void)state;
	assert_int_equal(wf->n_tasks, 2);
	assert_string_equal(wf->tasks[1].id, "t[Arch=x86,cc=clang]");
	assert_string_equal(env_of(&wf->tasks[1], "MATRIX_ARCH"), "x86");
	assert_string_equal(env_of(&wf->tasks[1], "MATRIX_CC"), "clang");
	wm_workflow_free(wf);
}

static void test_exclude_and_include(void **state)
{
	struct wm_workflow *wf = load(
		"## t\n- matrix: os=debian,alpine; py=3.11,3.12\n"
		"- matrix_exclude: os=alpine,py=3.11\n- matrix_exclude: py=3.12, os=debian\n"
		"- matrix_include: os=fedora,py=3.12\n- matrix_include: py=3.9,os=alpine\n" BODY);
	static const char *const ids[] = { "t[os=debian,py=3.11]", "t[os=alpine,py=3.12]",
					   "t[os=fedora,py=3.12]", "t[os=alpine,py=3.9]" };

	(void)state;
	assert_int_equal(wf->n_tasks, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(wf->tasks[i].id, ids[i]);
	wm_workflow_free(wf);

	/* An exclude naming one axis drops every combination with that value. */
	wf = load("## t\n- matrix: os=a,b; py=1,2,3\n- matrix_exclude: os=a\n" BODY);
	assert_int_equal(wf->n_tasks, 3);
	assert_string_equal(wf->tasks[0].id, "t[os=b,py=1]");
	wm_workflow_free(wf);
}

static const struct bad {
	const char *text;
	unsigned line, col;
	const char *msg;
} bad_matrices[] = {
	{ "## t\n- matrix: os=a;;py=1\n" BODY, 2, 16, "empty axis" },
	{ "## t\n- matrix: os=\n" BODY, 2, 14, "empty value in axis `os`" },
	{ "## t\n- matrix: os=a,,b\n" BODY, 2, 16, "empty value" },
	{ "## t\n- matrix: os=a; os=b\n" BODY, 2, 17, "axis `os` is given twice" },
	{ "## t\n- matrix: os=a\n- matrix: OS=b\n" BODY, 3, 11, "axis `OS` is given twice" },
	{ "## t\n- matrix: os=a,b,a\n" BODY, 2, 18, "value `a` is given twice" },
	{ "## t\n- matrix: 1os=a\n" BODY, 2, 11, "`1os` is not an axis name" },
	{ "## t\n- matrix: os=a b\n" BODY, 2, 14, "`a b` is not a matrix value" },
	{ "## t\n- matrix: os=a/b\n" BODY, 2, 14, "not a matrix value" },
	{ "## t\n- matrix: os=x[1]\n" BODY, 2, 14, "not a matrix value" },
	{ "## t\n- matrix: os\n" BODY, 2, 11, "`os` has no values" },
	{ "## t\n- matrix: os=a; =b\n" BODY, 2, 17, "an axis needs a name" },
	{ "## t\n- matrix: os=a\n- matrix_exclude: os=b\n" BODY, 3, 22,
	  "`b` is not a value of axis `os`" },
	{ "## t\n- matrix: os=a\n- matrix_exclude: py=1\n" BODY, 3, 19,
	  "`py` is not an axis of the matrix" },
	{ "## t\n- matrix: os=a,b; py=1\n- matrix_include: os=c\n" BODY, 3, 19,
	  "one value for each axis" },
	{ "## t\n- matrix: os=a,b\n- matrix_include: os=a\n" BODY, 3, 19, "in the matrix already" },
	{ "## t\n- matrix: os=a\n- matrix_exclude: os=a\n" BODY, 2, 11, "leaves no combination" },
	{ "## t\n- matrix_exclude: os=a\n" BODY, 2, 19, "without a `matrix`" },
	{ "## t\n- matrix: os=a\n- env: MATRIX_OS=x\n" BODY, 2, 11, "`env` sets MATRIX_OS" },
	/* Brackets are for instances: not in an id of one's own. */
	{ "## t\n- id: t[os=a]\n" BODY, 2, 7, "is not a valid id" },
};

static void test_bad_matrices(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_matrices) / sizeof(bad_matrices[0]); i++) {
		const struct bad *b = &bad_matrices[i];
		expect_error(b->text, b->line, b->col, b->msg);
	}
}

/* The cap is checked before anything is copied: 10,000 combinations fail
 * at once, at the matrix's value; more than can be counted too. */
static void test_cap(void **state)
{
	struct wm_buf b = WM_BUF_INIT;

	(void)state;
	wm_buf_addstr(&b, "## t\n- matrix: a=");
	for (int i = 0; i < 100; i++)
		wm_buf_addf(&b, "%s%d", i ? "," : "", i);
	wm_buf_addstr(&b, "; b=");
	for (int i = 0; i < 100; i++)
		wm_buf_addf(&b, "%s%d", i ? "," : "", i);
	wm_buf_addstr(&b, "\n" BODY);
	expect_error(b.data, 2, 11, "matrix expands to 10000 tasks; at most 1000");
	wm_buf_release(&b);

	expect_error("## t\n- matrix: a=1,2,3,4,5,6,7,8,9,10; b=1,2,3,4,5,6,7,8,9,10; "
		     "c=1,2,3,4,5,6,7,8,9,10; d=1,2\n" BODY,
		     2, 11, "matrix expands to 2000 tasks");
	/* Exclusions count: 1,100 combinations less 200 fit. */
	struct wm_workflow *wf = load(
		"## t\n- matrix: a=1,2,3,4,5,6,7,8,9,10,11; b=1,2,3,4,5,6,7,8,9,10; "
		"c=1,2,3,4,5,6,7,8,9,10\n- matrix_exclude: a=11\n- matrix_exclude: a=10\n" BODY);
	assert_int_equal(wf->n_tasks, 900);
	wm_workflow_free(wf);
}

static void test_depends(void **state)
{
	struct wm_workflow *wf =
		load("## prep\n" BODY "## t\n- matrix: os=a,b\n- depends: prep\n" BODY
		     "## all\n- depends: t\n" BODY "## one\n- depends: t[os=b], prep\n" BODY);
	long all = wm_workflow_find(wf, "all"), one = wm_workflow_find(wf, "one");
	const struct wm_dag *g = wf->dag;

	(void)state;
	assert_int_equal(wf->n_tasks, 5);
	assert_int_equal(wm_dag_n_deps(g, 1), 1); /* each instance after prep */
	assert_int_equal(wm_dag_n_deps(g, 2), 1);
	assert_int_equal(wm_dag_n_deps(g, (size_t)all), 2);
	assert_string_equal(wf->tasks[all].depends[0], "t[os=a]");
	assert_string_equal(wf->tasks[all].depends[1], "t[os=b]");
	assert_int_equal(wf->tasks[all].depends_loc[1].line, 14);
	assert_int_equal(wm_dag_n_deps(g, (size_t)one), 2);
	assert_string_equal(wf->tasks[wm_dag_deps(g, (size_t)one)[0]].id, "t[os=b]");
	wm_workflow_free(wf);

	expect_error("## t\n- matrix: os=a,b\n" BODY "## u\n- depends: t[os=c]\n" BODY, 8, 12,
		     "unknown dependency `t[os=c]`");
	expect_error("## t\n- matrix: os=a,b\n" BODY "## u\n- depends: t[os]\n" BODY, 8, 12,
		     "is not a task id");
	expect_error("## t\n- matrix: os=a\n- depends: t\n" BODY, 3, 12, "depends on itself");
	/* A matrix's id is taken: another task may not have it. */
	expect_error("## t\n- matrix: os=a\n" BODY "## t\n" BODY, 7, 1, "duplicate task id `t`");
}

static void test_hashes_per_instance(void **state)
{
	const char *text = "## t\n- matrix: os=a,b\n" BODY;
	struct wm_workflow *wf = load(text), *again = load(text);
	struct wm_workflow *plain = load("## t[os=a]\n- id: t-os-a\n- env: MATRIX_OS=a\n" BODY);
	char *h0 = wm_task_definition_hash(&wf->tasks[0], "P");
	char *h1 = wm_task_definition_hash(&wf->tasks[1], "P");
	char *h0b = wm_task_definition_hash(&again->tasks[0], "P");
	char *hp = wm_task_definition_hash(&plain->tasks[0], "P");

	(void)state;
	assert_string_not_equal(h0, h1);
	assert_string_equal(h0, h0b); /* stable: resume finds it again */
	assert_string_not_equal(h0, hp);
	free(h0);
	free(h1);
	free(h0b);
	free(hp);
	wm_workflow_free(again);
	wm_workflow_free(plain);

	/* Adding an exclusion leaves the remaining instances' hashes alone. */
	again = load("## t\n- matrix: os=a,b\n- matrix_exclude: os=b\n" BODY);
	h0 = wm_task_definition_hash(&wf->tasks[0], "P");
	h0b = wm_task_definition_hash(&again->tasks[0], "P");
	assert_string_equal(h0, h0b);
	free(h0);
	free(h0b);
	wm_workflow_free(again);
	wm_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expansion_order_and_ids),
		cmocka_unit_test(test_axes_add_up),
		cmocka_unit_test(test_exclude_and_include),
		cmocka_unit_test(test_bad_matrices),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_depends),
		cmocka_unit_test(test_hashes_per_instance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
