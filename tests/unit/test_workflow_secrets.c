/* Unit tests for the front matter's `secrets` (workflow/frontmatter.c):
 * a list of variable names, errors at their FILE:LINE:COL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "tests/unit/support/diagcheck.h"
#include "workflow/workflow.h"

static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d);
	return wf;
}

static void test_names(void **state)
{
	const char *text = "---\nsecrets: [API_TOKEN, db_password, _X1]\n---\n"
			   "## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	assert_string_equal(wf->secrets[0], "API_TOKEN");
	assert_string_equal(wf->secrets[1], "db_password");
	assert_string_equal(wf->secrets[2], "_X1");
	assert_null(wf->secrets[3]);
	wm_workflow_free(wf);
	wm_diags_release(&d);

	/* Block style, and an empty list. */
	text = "---\nsecrets:\n  - TOKEN\n---\n## a\n```sh\ntrue\n```\n";
	wf = parse(text, &d);
	assert_non_null(wf);
	assert_string_equal(wf->secrets[0], "TOKEN");
	assert_null(wf->secrets[1]);
	wm_workflow_free(wf);
	text = "---\nsecrets: []\n---\n## a\n```sh\ntrue\n```\n";
	wf = parse(text, &d);
	assert_non_null(wf);
	assert_null(wf->secrets);
	wm_workflow_free(wf);
	assert_int_equal(d.n, 0);
	wm_diags_release(&d);
}

static void test_errors_at_their_place(void **state)
{
	const char *text = "---\n"
			   "secrets: [API-TOKEN, 1X, WM_RUN_ID, OK, OK, {a: b}]\n"
			   "---\n"
			   "## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 11, "`API-TOKEN` is not a variable name") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 22, "`1X` is not a variable name") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 26, "`WM_RUN_ID`: names starting with WM_") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 41, "`OK` is listed twice") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 45, "`a mapping` is not a variable name")) {
		wm_test_print_diags(&d);
		fail_msg("a diagnostic is missing or misplaced");
	}
	assert_false(wm_test_has_diag(&d, WM_DIAG_ANY, 2, 37, ""));
	wm_diags_release(&d);

	/* Not a list: one error at the value; a value, not a name, is refused. */
	text = "---\nsecrets: API_TOKEN=abc\n---\n## a\n```sh\ntrue\n```\n";
	wf = parse(text, &d);
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 10, "`secrets` must be a list")) {
		wm_test_print_diags(&d);
		fail_msg("no error at the value");
	}
	wm_diags_release(&d);
	text = "---\nsecret: [A]\n---\n## a\n```sh\ntrue\n```\n";
	wf = parse(text, &d);
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 1, "did you mean `secrets`")) {
		wm_test_print_diags(&d);
		fail_msg("no hint for a near miss");
	}
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errors_at_their_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
