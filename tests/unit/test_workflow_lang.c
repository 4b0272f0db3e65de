/* Unit tests for code blocks' languages (workflow/lang.c): the interpreter
 * table, hints for blocks that do not run, fences without a language, and
 * join nodes. */
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

#define NO_LANG "code block without a language: write ```sh or ```bash"

/* Parses with every check; the diagnostics go to *d (caller releases). */
static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	*d = (struct wm_diags)WM_DIAGS_INIT;
	if (wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d) < 0)
		assert_null(wf);
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

/* Today's bug: with attributes, an unlabelled body made a join node (that
 * `run` then failed); without, the heading silently became prose. */
static void test_fence_without_language_is_an_error(void **state)
{
	struct wm_diags d;
	struct wm_workflow *wf;

	(void)state;
	wf = parse("## build\n- timeout: 5m\n\n```\nmake\n```\n", &d);
	assert_null(wf);
	assert_int_equal(d.n, 1);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 1, NO_LANG));
	wm_diags_release(&d);

	wf = parse("## build\n```\nmake\n```\n## other\n```sh\ntrue\n```\n", &d);
	assert_null(wf);
	assert_int_equal(d.n, 1);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 1, NO_LANG));
	wm_diags_release(&d);

	/* Tildes, indentation up to three spaces, blanks for an info string. */
	wf = parse("## a\n   ~~~   \nx\n   ~~~\n```sh\ntrue\n```\n", &d);
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 4, NO_LANG));
	wm_diags_release(&d);
}

/* After the body, before any task, nested or indented: prose as before. */
static void test_fences_without_language_that_are_prose(void **state)
{
	struct wm_diags d;
	struct wm_workflow *wf =
		parse("```\nbefore any heading\n```\n# Title\n```\nlevel 1\n```\n"
		      "## a\n```sh\ntrue\n```\n```\noutput\n```\n"
		      "## b\n    ```\n    indented code\n\n- item\n\n  ```\n  in a list\n  ```\n\n"
		      "> ```\n> quoted\n> ```\n\n```sh\ntrue\n```\n",
		      &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(d.n, 0);
	assert_int_equal(wf->n_tasks, 2);
	assert_string_equal(wf->tasks[0].body.text, "true\n");
	assert_string_equal(wf->tasks[1].body.lang, "sh");
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

struct hint_case {
	const char *lang, *want;
};

/* Shell names and near misses point at sh, bash or the near name, never
 * at `interpreters`; other programs keep that hint. */
static void test_hints_for_blocks_that_do_not_run(void **state)
{
	static const struct hint_case cases[] = {
		{ "shell", "to run it, write ```sh or ```bash" },
		{ "Shell", "to run it, write ```sh or ```bash" },
		{ "zsh", "to run it, write ```sh or ```bash" },
		{ "ZSH", "to run it, write ```sh or ```bash" },
		{ "ksh", "to run it, write ```sh or ```bash" },
		{ "dash", "to run it, write ```sh or ```bash" },
		{ "shellscript", "to run it, write ```sh or ```bash" },
		{ "Bash", "case-sensitive: write ```bash" },
		{ "SH", "case-sensitive: write ```sh" },
		{ "Python", "case-sensitive: write ```python" },
		{ "pyhton", "did you mean ```python?" },
		{ "bsh", "did you mean ```sh?" },
		{ "ruby", "declare `ruby` under `interpreters`" },
		{ "node", "declare `node` under `interpreters`" },
		{ "perl", "declare `perl` under `interpreters`" },
		{ "fish", "declare `fish` under `interpreters`" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = wm_xasprintf("## a\n```%s\nx\n```\n```sh\ntrue\n```\n", cases[i].lang);
		struct wm_diags d;
		struct wm_workflow *wf = parse(text, &d);

		if (d.n != 1)
			wm_test_print_diags(&d);
		assert_non_null(wf);
		assert_int_equal(d.n, 1);
		if (!wm_test_has_diag(&d, WM_DIAG_WARNING, 2, 1, cases[i].want))
			fail_msg("```%s: wanted \"%s\", got \"%s\"", cases[i].lang, cases[i].want,
				 d.v[0].msg);
		if (!strstr(cases[i].want, "interpreters") && strstr(d.v[0].msg, "interpreters"))
			fail_msg("```%s: hint names `interpreters`: %s", cases[i].lang, d.v[0].msg);
		wm_workflow_free(wf);
		wm_diags_release(&d);
		free(text);
	}
}

static void test_no_hint_for_data_and_transcripts(void **state)
{
	struct wm_diags d;
	struct wm_workflow *wf = parse("## a\n```console\n$ x\n```\n```json\n{}\n```\n"
				       "```shell-session\n$ y\n```\n```TEXT\nz\n```\n```sh\ntrue\n"
				       "```\n",
				       &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(d.n, 0);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_join_node(void **state)
{
	struct wm_diags d;
	struct wm_workflow *wf = parse("## a\n```sh\ntrue\n```\n## b\n```sh rollback\nundo\n```\n"
				       "```bash\ntrue\n```\n## all\n- depends: a, b\n",
				       &d);
	const struct wm_task *all;

	(void)state;
	assert_non_null(wf);
	all = &wf->tasks[2];
	assert_true(wm_task_is_join(all));
	assert_null(all->body.argv);
	assert_null(all->body.text);
	assert_null(all->rollback.lang);
	assert_false(wm_task_is_join(&wf->tasks[0]));
	assert_false(wm_task_is_join(&wf->tasks[1]));
	assert_non_null(wf->tasks[1].body.argv);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_interpreters),
		cmocka_unit_test(test_declared_interpreters),
		cmocka_unit_test(test_fence_without_language_is_an_error),
		cmocka_unit_test(test_fences_without_language_that_are_prose),
		cmocka_unit_test(test_hints_for_blocks_that_do_not_run),
		cmocka_unit_test(test_no_hint_for_data_and_transcripts),
		cmocka_unit_test(test_join_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
