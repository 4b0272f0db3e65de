/* Unit tests for parameters (workflow/params.c): `- params:` and front
 * matter `params:`, errors at their FILE:LINE:COL, values bound from
 * NAME=VALUE, and the definition hash holding the values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strutil.h"
#include "tests/unit/support/diagcheck.h"
#include "workflow/workflow.h"

static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d);
	return wf;
}

/* An owned copy of a NULL-terminated list of string literals. */
static char **strv(const char *const *v)
{
	return wm_strv_dup((char *const *)v);
}

static const char task_text[] =
	"## build\n"
	"- params: target, mode=debug, count:int=3, level:choice(low|high)=low, "
	"verbose:bool=false\n"
	"\n```sh\ntrue\n```\n";

static void test_attribute(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(task_text, &d);
	const struct wm_params *ps;

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	ps = &wf->tasks[0].params;
	assert_int_equal(ps->n, 5);
	assert_string_equal(ps->v[0].name, "target");
	assert_int_equal(ps->v[0].type, WM_PARAM_STRING);
	assert_null(ps->v[0].def);
	assert_string_equal(ps->v[1].def, "debug");
	assert_int_equal(ps->v[2].type, WM_PARAM_INT);
	assert_string_equal(ps->v[2].def, "3");
	assert_int_equal(ps->v[3].type, WM_PARAM_CHOICE);
	assert_string_equal(ps->v[3].choices[0], "low");
	assert_string_equal(ps->v[3].choices[1], "high");
	assert_null(ps->v[3].choices[2]);
	assert_int_equal(ps->v[4].type, WM_PARAM_BOOL);
	assert_int_equal(ps->v[2].loc.line, 2);
	assert_int_equal(ps->v[2].loc.col, 31);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_attribute_errors(void **state)
{
	const char *text = "## a\n"
			   "- params: 1x, n:float, k:int=abc, c:choice(a|b)=z, k2, k2, b:choice()\n"
			   "\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 11, "not a parameter name"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 17, "`float` is not a type"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 24, "`abc` is not a whole number"));
	assert_true(
		wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 35, "`z` is not one of the choices (a, b)"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 56, "`k2` is declared twice"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 62, "`choice()` is not a type"));
	assert_int_equal(d.n_errors, 6);
	wm_diags_release(&d);
}

static void test_front_matter(void **state)
{
	const char *text = "---\nparams:\n"
			   "  region: {type: choice, choices: [eu, us], default: eu, help: where}\n"
			   "  who: world\n"
			   "  n: {type: int}\n"
			   "  size: {choices: [s, m]}\n"
			   "---\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	assert_int_equal(wf->params.n, 4);
	assert_int_equal(wf->params.v[0].type, WM_PARAM_CHOICE);
	assert_string_equal(wf->params.v[0].help, "where");
	assert_string_equal(wf->params.v[1].def, "world");
	assert_int_equal(wf->params.v[2].type, WM_PARAM_INT);
	assert_null(wf->params.v[2].def);
	assert_int_equal(wf->params.v[3].type, WM_PARAM_CHOICE);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_front_matter_errors(void **state)
{
	const char *text = "---\nparams:\n"
			   "  a: {type: float}\n"
			   "  b: {typ: int}\n"
			   "  c: {type: int, default: x}\n"
			   "  d: {type: choice}\n"
			   "  e: [1, 2]\n"
			   "  x: 1\n"
			   "---\n## t\n- params: x\n\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 3, 13, "must be string, int, bool"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 7, "did you mean `type`"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 5, 3, "`x` is not a whole number"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 6, 13, "`choices` is missing"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 7, 6, "a default value or a mapping"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 11, 11, "the front matter declares it"));
	assert_int_equal(d.n_errors, 6);
	wm_diags_release(&d);
}

static void test_bind(void **state)
{
	const char *text = "---\nparams: {region: eu}\n---\n"
			   "## build\n- params: target, count:int=3\n\n```sh\ntrue\n```\n"
			   "## other\n```sh\ntrue\n```\n";
	const char *const given[] = { "target=x", "count=1", "count=7", NULL };
	wm_autostrv char **assign = strv(given);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);
	char **env;

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wm_workflow_check_param_names(wf, assign, &d), 0);
	assert_int_equal(wm_workflow_bind_params(wf, assign, &d), 0);
	env = wf->tasks[0].param_env;
	assert_string_equal(env[0], "PARAM_REGION=eu");
	assert_string_equal(env[1], "PARAM_TARGET=x");
	assert_string_equal(env[2], "PARAM_COUNT=7"); /* the last one wins */
	assert_null(env[3]);
	assert_string_equal(wf->tasks[1].param_env[0], "PARAM_REGION=eu");
	assert_null(wf->tasks[1].param_env[1]);
	assert_int_equal(d.n, 0);
	wm_workflow_free(wf);
}

static void test_bind_errors(void **state)
{
	const char *const given[] = { "levl=high", "count=abc", "mode=x", "flag=yes", NULL };
	wm_autostrv char **assign = strv(given);
	const char *text = "## build\n"
			   "- params: target, count:int=3, level:choice(low|high)=low, "
			   "mode:choice(a|b)=a, flag:bool=false\n\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wm_workflow_check_param_names(wf, assign, &d), -1);
	assert_int_equal(d.n_errors, 1);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 0, 0,
				     "no parameter `levl` (did you mean `level`?)"));
	assert_int_equal(wm_workflow_bind_params(wf, assign, &d), -1);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 0, 0,
				     "`target` (task `build`) of t.md is required"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 0, 0, "`abc` is not a whole number"));
	assert_true(
		wm_test_has_diag(&d, WM_DIAG_ERROR, 0, 0, "`x` is not one of the choices (a, b)"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 0, 0, "`yes` is not true or false"));
	assert_int_equal(d.n_errors, 5);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

/* Other values, another definition: resume runs the task again. */
static void test_hash_holds_values(void **state)
{
	const char *const g1[] = { "target=x", NULL }, *const g2[] = { "target=y", NULL };
	wm_autostrv char **a1 = strv(g1);
	wm_autostrv char **a2 = strv(g2);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(task_text, &d);
	char *h1, *h2, *h3;

	(void)state;
	assert_int_equal(wm_workflow_bind_params(wf, a1, &d), 0);
	h1 = wm_task_definition_hash(&wf->tasks[0], NULL);
	assert_int_equal(wm_workflow_bind_params(wf, a2, &d), 0);
	h2 = wm_task_definition_hash(&wf->tasks[0], NULL);
	assert_int_equal(wm_workflow_bind_params(wf, a1, &d), 0);
	h3 = wm_task_definition_hash(&wf->tasks[0], NULL);
	assert_string_not_equal(h1, h2);
	assert_string_equal(h1, h3);
	free(h1);
	free(h2);
	free(h3);
	wm_workflow_free(wf);
}

static void test_describe(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(task_text, &d);
	char *s;

	(void)state;
	s = wm_param_describe(&wf->tasks[0].params.v[0]);
	assert_string_equal(s, "target (string, required)");
	free(s);
	s = wm_param_describe(&wf->tasks[0].params.v[3]);
	assert_string_equal(s, "level (choice low|high, default low)");
	free(s);
	s = wm_param_var("my_param");
	assert_string_equal(s, "PARAM_MY_PARAM");
	free(s);
	wm_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribute),
		cmocka_unit_test(test_attribute_errors),
		cmocka_unit_test(test_front_matter),
		cmocka_unit_test(test_front_matter_errors),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_bind_errors),
		cmocka_unit_test(test_hash_holds_values),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
