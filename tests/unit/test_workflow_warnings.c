/* Unit tests for what the parser says instead of staying silent
 * (workflow/workflow.c, lint.c, frontmatter.c): second blocks, argument
 * markers in headings, transcripts, `...` closing the front matter, and
 * unknown front matter keys, each at its FILE:LINE:COL. */
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

static void test_second_block(void **state)
{
	const char *text = "## build\n```sh\necho one\n```\n\n```bash\necho two\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_non_null(wf);
	assert_string_equal(wf->tasks[0].body.text, "echo one\n");
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 6, 1,
				     "a second runnable block in task `build` is not run; only "
				     "the first is the body"));
	assert_int_equal(d.n, 1);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_heading_arguments(void **state)
{
	const char *text = "## build (target)\n```sh\ntrue\n```\n"
			   "## deploy [env, region]\n```sh\ntrue\n```\n"
			   "## Build (for Linux 6.1+)\n```sh\ntrue\n```\n"
			   "## plain\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_non_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 1, 1,
				     "heading `build (target)` looks like it takes arguments"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 1, 1, "`- params: target`"));
	assert_true(
		wm_test_has_diag(&d, WM_DIAG_WARNING, 1, 1, "this task's id is `build-target`"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 5, 1, "`- params: env, region`"));
	/* Prose in brackets is not an argument list. */
	assert_int_equal(d.n, 2);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_transcript(void **state)
{
	const char *text = "## setup\n```sh\n$ make\n\n> echo more\n```\n";
	const char *ok = "## setup\n- transcript: ok\n\n```sh\n$ make\n```\n";
	const char *script = "## setup\n```sh\n$ make\necho $HOME\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 1,
				     "the body of task `setup` is a shell transcript"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 1, "remove the prompts"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 1, "`- transcript: ok`"));
	wm_diags_release(&d);

	wf = parse(ok, &d);
	assert_non_null(wf);
	assert_true(wf->tasks[0].transcript_ok);
	assert_int_equal(d.n, 0);
	wm_workflow_free(wf);

	wf = parse(script, &d); /* one line without a prompt: a script */
	assert_non_null(wf);
	assert_int_equal(d.n, 0);
	wm_workflow_free(wf);

	wf = parse("## t\n- transcript: yes\n\n```sh\ntrue\n```\n", &d);
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 15, "the only value is `ok`"));
	wm_diags_release(&d);
}

static void test_dots_end_front_matter(void **state)
{
	const char *text = "---\nname: dotted\n...\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_non_null(wf);
	assert_string_equal(wf->name, "dotted");
	assert_int_equal(wf->tasks[0].loc.line, 4);
	assert_int_equal(d.n, 0);
	wm_workflow_free(wf);

	/* `...` does not open one. */
	wf = parse("...\n## a\n```sh\ntrue\n```\n", &d);
	assert_non_null(wf);
	assert_null(wf->params.v);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_unknown_front_matter_keys(void **state)
{
	const char *text = "---\ntitle: Release notes\ndate: 2026-12-01\npolcy: standard\n"
			   "---\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 2, 1, "`title` is not wm's: ignored"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 3, 1, "`date` is not wm's: ignored"));
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 1, "(did you mean `policy`?)"));
	assert_int_equal(d.n_errors, 1);
	wm_diags_release(&d);

	wf = parse("---\ntitle: x\n---\n## a\n```sh\ntrue\n```\n", &d);
	assert_non_null(wf); /* a warning only */
	assert_int_equal(d.n, 1);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_block),
		cmocka_unit_test(test_heading_arguments),
		cmocka_unit_test(test_transcript),
		cmocka_unit_test(test_dots_end_front_matter),
		cmocka_unit_test(test_unknown_front_matter_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
