/* Unit tests for code blocks' languages (workflow/lang.c): the interpreter
 * table. */
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
#include "common/xalloc.h"
#include "workflow/workflow.h"

/* Parses with every check; the diagnostics go to *d (caller releases). */
static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	*d = (struct wm_diags)WM_DIAGS_INIT;
	if (wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d) < 0)
		assert_null(wf);
	wm_test_print_diags(d);
	return wf;
}

static void assert_argv(const char *const *argv, const char *const *want)
{
	size_t i;

	assert_non_null(argv);
	for (i = 0; want[i]; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[i]);
}

static void test_builtin_interpreters(void **state)
{
	static const char *const sh[] = { "/bin/sh", "-e", NULL };
	static const char *const bash[] = {
		"bash", "--noprofile", "--norc", "-eo", "pipefail", NULL
	};
	static const char *const py[] = { "python3", NULL };

	(void)state;
	assert_argv(wm_interpreter_argv(NULL, "sh"), sh);
	assert_argv(wm_interpreter_argv(NULL, "bash"), bash);
	assert_argv(wm_interpreter_argv(NULL, "python"), py);
	assert_argv(wm_interpreter_argv(NULL, "python3"), py);
	assert_null(wm_interpreter_argv(NULL, "ruby"));
	assert_null(wm_interpreter_argv(NULL, "Bash"));
	assert_null(wm_interpreter_argv(NULL, ""));
}

/* The front matter's entry wins for its workflow; a body's argv is what the
 * one table gives. */
static void test_declared_interpreters(void **state)
{
	static const char *const dash[] = { "dash", "-eu", NULL };
	static const char *const awk[] = { "awk", "-f", NULL };
	static const char *const sh[] = { "/bin/sh", "-e", NULL };
	struct wm_diags d;
	struct wm_workflow *wf = parse("---\ninterpreters:\n  sh: [dash, -eu]\n  awk: [awk, -f]\n"
				       "---\n## a\n```sh\ntrue\n```\n## b\n```awk\nBEGIN{}\n```\n",
				       &d);

	(void)state;
	assert_non_null(wf);
	assert_argv(wm_interpreter_argv(wf, "sh"), dash);
	assert_argv(wm_interpreter_argv(wf, "awk"), awk);
	assert_argv(wm_interpreter_argv(NULL, "sh"), sh);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		const struct wm_task *t = &wf->tasks[i];
		assert_argv((const char *const *)t->body.argv,
			    wm_interpreter_argv(wf, t->body.lang));
	}
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_interpreters),
		cmocka_unit_test(test_declared_interpreters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
