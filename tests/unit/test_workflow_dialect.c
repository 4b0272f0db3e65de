/* Unit tests for other tools' Markdown (workflow/dialect*.c): detection,
 * the corpus under tests/data/dialects/ with the plan each file must give
 * (ids in order, dependencies, parameters, menu), places moved back to the
 * original, the `$MASK` warning, wm import's text planning the same tasks,
 * and the native warning for xc-style attribute lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "tests/unit/support/diagcheck.h"
#include "workflow/dialect_internal.h"
#include "workflow/workflow.h"

#include "fixture/wf_fixture.c"

static struct wm_workflow *load(const char *rel, enum wm_dialect d, struct wm_diags *diags)
{
	char *path = wm_xasprintf("%s/tests/data/dialects/%s", wf_test_repo_root(), rel);
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;

	wm_workflow_load_in(path, path, d, &wf, diags, &err);
	wm_test_print_diags(diags);
	assert_null(err);
	free(path);
	return wf;
}

static const struct wm_task *task(const struct wm_workflow *wf, const char *id)
{
	long i = wm_workflow_find(wf, id);

	if (i < 0)
		fail_msg("no task `%s`", id);
	return &wf->tasks[i];
}

/* "a,b" for a task's dependencies, "" for none. */
static char *deps(const struct wm_task *t)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; t->depends && t->depends[i]; i++)
		wm_buf_addf(&b, "%s%s", i ? "," : "", t->depends[i]);
	return wm_buf_detach(&b, NULL);
}

/* "name:type:default" for each parameter, ',' between; '!' for required. */
static char *params(const struct wm_task *t)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; i < t->params.n; i++) {
		const struct wm_param *p = &t->params.v[i];
		wm_buf_addf(&b, "%s%s:%s:%s", i ? "," : "", p->name, wm_param_type_name(p->type),
			    p->def ? p->def : "!");
	}
	return wm_buf_detach(&b, NULL);
}

static void expect_task(const struct wm_workflow *wf, size_t at, const char *id,
			const char *want_deps, const char *want_params, bool join)
{
	const struct wm_task *t = task(wf, id);
	char *d = deps(t), *p = params(t);

	assert_string_equal(wf->tasks[at].id, id);
	assert_string_equal(d, want_deps);
	assert_string_equal(p, want_params);
	assert_int_equal(wm_task_is_join(t), join);
	free(d);
	free(p);
}

static void test_detect(void **state)
{
	static const struct {
		const char *path, *text;
		enum wm_dialect want;
	} cases[] = {
		{ "x/maskfile.md", "## a\n", WM_DIALECT_MASK },
		{ "MASKFILE.md", "", WM_DIALECT_MASK },
		{ "a.md", "## build\n**OPTIONS**\n* v\n", WM_DIALECT_MASK },
		{ "a.md", "## deploy (env)\n```sh\ntrue\n```\n", WM_DIALECT_MASK },
		/* A native file with an argument heading stays native (and is warned). */
		{ "a.md", "## deploy (env)\n- depends: x\n", WM_DIALECT_WM },
		{ "a.md", "---\nname: x\n---\n## deploy [env]\n", WM_DIALECT_WM },
		{ "a.md", "---\nrunme:\n  id: 1\n---\n# x\n", WM_DIALECT_RUNME },
		{ "a.md", "## Tasks\n### b\nRequires: a\n", WM_DIALECT_XC },
		/* A Tasks section whose blocks have no language is xc's too. */
		{ "a.md", "## Tasks\n### b\n```\nmake\n```\n", WM_DIALECT_XC },
		{ "a.md", "```\nmake\n```\n## Tasks\n### b\n```sh\nmake\n```\n", WM_DIALECT_WM },
		/* Requires: before a Tasks heading, or inside a fence, is not xc. */
		{ "a.md", "Requires: a\n## Tasks\n", WM_DIALECT_WM },
		{ "a.md", "## Tasks\n```text\nRequires: a\n```\n", WM_DIALECT_WM },
		{ "a.md", "## build\n```sh\nmake\n```\n", WM_DIALECT_WM },
		{ "a.md", "", WM_DIALECT_WM },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum wm_dialect got =
			wm_dialect_detect(cases[i].path, cases[i].text, strlen(cases[i].text));
		if (got != cases[i].want)
			fail_msg("case %zu: %s, want %s", i, wm_dialect_name(got),
				 wm_dialect_name(cases[i].want));
	}
	assert_int_equal(wm_dialect_find("xc"), WM_DIALECT_XC);
	assert_int_equal(wm_dialect_find("make"), -1);
}

static void test_mask_corpus(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = load("maskfile.md", WM_DIALECT_AUTO, &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wf->dialect, WM_DIALECT_MASK);
	assert_true(wf->menu);
	assert_int_equal(wf->n_tasks, 3);
	expect_task(wf, 0, "build", "", "target:string:!,release:bool:false,jobs:int:!", false);
	expect_task(wf, 1, "db.migrate", "", "version:string:", false);
	expect_task(wf, 2, "hello", "", "", false);
	assert_string_equal(task(wf, "build")->about, "Build the project for a target.");
	assert_string_equal(task(wf, "db.migrate")->body.lang, "sh");
	assert_string_equal(task(wf, "hello")->body.lang, "python");
	/* Places are the original's: the heading, and the fence of the body. */
	assert_int_equal(task(wf, "db.migrate")->loc.line, 22);
	assert_int_equal(task(wf, "build")->body.loc.line, 16);
	/* The script starts with what mask gives it, then the file's lines. */
	assert_non_null(strstr(task(wf, "build")->body.text, "export target=\"$PARAM_TARGET\""));
	assert_non_null(strstr(task(wf, "build")->body.text, "MASKFILE_DIR=\"$WM_WORKSPACE\""));
	/* Its lines stay where they are: the variables are set on the first. */
	assert_non_null(strstr(task(wf, "db.migrate")->body.text,
			       "fi; $MASK build x\necho migrate \"$version\" > out.migrate\n"));
	/* `$MASK build x` on line 27, column 1. */
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 27, 1, "- depends: build`"));
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_xc_corpus(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = load("xc-README.md", WM_DIALECT_AUTO, &d);
	const struct wm_task *b;

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wf->dialect, WM_DIALECT_XC);
	assert_true(wf->menu);
	assert_int_equal(wf->n_tasks, 3); /* the block before Tasks is not one */
	expect_task(wf, 0, "lint", "", "", false);
	expect_task(wf, 1, "build", "lint", "VERSION:string:!", false);
	expect_task(wf, 2, "ci", "build,lint", "", true);
	b = task(wf, "build");
	assert_string_equal(b->workdir, "src");
	assert_string_equal(b->env[0], "MODE=fast");
	assert_string_equal(b->env[1], "X=1");
	assert_string_equal(task(wf, "lint")->body.lang, "sh"); /* untagged */
	assert_string_equal(b->about, "Build it.");
	assert_int_equal(b->depends_loc[0].line, 22);
	assert_int_equal(b->depends_loc[0].col, 11);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_runme_corpus(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = load("runme.md", WM_DIALECT_AUTO, &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wf->dialect, WM_DIALECT_RUNME);
	assert_true(wf->menu);
	assert_int_equal(wf->n_tasks, 2); /* the unnamed block is prose */
	expect_task(wf, 0, "setup", "", "", false);
	expect_task(wf, 1, "show", "", "", false);
	assert_string_equal(task(wf, "setup")->workdir, "src");	   /* front matter cwd */
	assert_string_equal(task(wf, "show")->workdir, ".");	   /* its own */
	assert_string_equal(task(wf, "setup")->body.lang, "bash"); /* shell: bash */
	assert_string_equal(task(wf, "setup")->about, "Set things up.");
	assert_int_equal(d.n_errors, 0);
	/* runme's own keys are noted, at their places, for wm run -v. */
	assert_non_null(wf->notes);
	assert_non_null(strstr(wf->notes[0], "runme.md:2:1: note: front matter `runme`"));
	assert_non_null(
		strstr(wf->notes[1], "runme.md:13:1: note: runme block `setup`: `interactive`"));
	assert_null(wf->notes[2]);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

/* A mistake in a dialect file is reported at its place in that file. */
static void test_error_places(void **state)
{
	static const char xc[] = "# P\n\n## Tasks\n\n### a\n\nDirectory: /etc\n\n```\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	(void)state;
	assert_int_equal(
		wm_workflow_parse_dialect("x.md", xc, strlen(xc), WM_DIALECT_AUTO, &wf, &d), -1);
	assert_null(wf);
	wm_test_print_diags(&d);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 7, 12, "workdir"));
	wm_diags_release(&d);
}

/* xc's Interactive: planned, warned about, marked for wm run to refuse. */
static void test_xc_interactive(void **state)
{
	static const char text[] = "## Tasks\n\n### shell\n\nInteractive: true\n\n```\nsh\n```\n\n"
				   "### build\n\n```\nmake\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	(void)state;
	assert_int_equal(
		wm_workflow_parse_dialect("x.md", text, strlen(text), WM_DIALECT_AUTO, &wf, &d), 0);
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 5, 14, "refuses to run it"));
	assert_true(task(wf, "shell")->needs_terminal);
	assert_false(task(wf, "build")->needs_terminal);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

/* No dialect file chooses a policy: front matter, attribute-like prose and
 * block attributes never become `policy`. */
static void test_no_policy(void **state)
{
	static const char *const texts[] = {
		"---\nrunme:\n  id: 1\npolicy: minimal\n---\n- policy: minimal\n\n"
		"```sh {name=a policy=minimal}\ntrue\n```\n",
		"---\npolicy: minimal\n---\n## a\n\n- policy: minimal\n\n```sh\ntrue\n```\n",
		"## Tasks\n### a\n- policy: minimal\nRequires: b\n```\ntrue\n```\n### b\n"
		"Policy: minimal\n```\ntrue\n```\n",
	};
	static const enum wm_dialect ds[] = { WM_DIALECT_RUNME, WM_DIALECT_MASK, WM_DIALECT_XC };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct wm_diags d = WM_DIAGS_INIT;
		struct wm_workflow *wf = NULL;

		assert_int_equal(wm_workflow_parse_dialect("p.md", texts[i], strlen(texts[i]),
							   ds[i], &wf, &d),
				 0);
		assert_null(wf->policy);
		for (size_t k = 0; k < wf->n_tasks; k++)
			assert_null(wf->tasks[k].policy);
		assert_true(wf->n_tasks >= 1);
		wm_workflow_free(wf);
		wm_diags_release(&d);
	}
}

/* What wm import writes plans to the same tasks, as a native file. */
static void test_import_round_trip(void **state)
{
	const char *files[] = { "maskfile.md", "xc-README.md", "runme.md" };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		struct wm_diags d = WM_DIAGS_INIT;
		struct wm_workflow *a = load(files[k], WM_DIALECT_AUTO, &d), *b = NULL;
		char *path =
			wm_xasprintf("%s/tests/data/dialects/%s", wf_test_repo_root(), files[k]);
		struct wm_buf text = WM_BUF_INIT;
		char *native;

		assert_int_equal(wm_buf_read_file(&text, path), 0);
		native = wm_dialect_translate(a->dialect, path, text.data, text.len, &d);
		assert_non_null(native);
		assert_int_equal(wm_dialect_detect("imported.md", native, strlen(native)),
				 WM_DIALECT_WM);
		assert_int_equal(wm_workflow_parse_dialect("imported.md", native, strlen(native),
							   WM_DIALECT_AUTO, &b, &d),
				 0);
		assert_false(b->menu);
		assert_int_equal(a->n_tasks, b->n_tasks);
		for (size_t i = 0; i < a->n_tasks; i++) {
			char *da = deps(&a->tasks[i]), *db = deps(&b->tasks[i]);
			char *pa = params(&a->tasks[i]), *pb = params(&b->tasks[i]);

			assert_string_equal(a->tasks[i].id, b->tasks[i].id);
			assert_string_equal(da, db);
			assert_string_equal(pa, pb);
			free(da);
			free(db);
			free(pa);
			free(pb);
		}
		free(native);
		free(path);
		wm_buf_release(&text);
		wm_workflow_free(a);
		wm_workflow_free(b);
		wm_diags_release(&d);
	}
}

static void test_native_menu_and_warnings(void **state)
{
	static const char text[] =
		"## a\n\nRequires: b\n\n```sh\ntrue\n```\n\n## b\n\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	(void)state;
	assert_int_equal(wm_workflow_parse_dialect("dir/README.md", text, strlen(text),
						   WM_DIALECT_AUTO, &wf, &d),
			 0);
	assert_int_equal(wf->dialect, WM_DIALECT_WM);
	assert_true(wf->menu);
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 3, 1, "- depends: NAMES"));
	assert_string_equal(wf->tasks[0].about, "Requires: b");
	wm_workflow_free(wf);
	wf = NULL;
	assert_int_equal(
		wm_workflow_parse_dialect("w.md", text, strlen(text), WM_DIALECT_AUTO, &wf, &d), 0);
	assert_false(wf->menu); /* a native workflow runs whole */
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

/* In a README.md an untagged example block is a warning, elsewhere an error. */
static void test_readme_untagged(void **state)
{
	static const char text[] = "# P\n\n## Install\n\n```\nmake install\n```\n\n## test\n\n"
				   "```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	(void)state;
	assert_int_equal(wm_workflow_parse_dialect("README.md", text, strlen(text), WM_DIALECT_AUTO,
						   &wf, &d),
			 0);
	assert_true(wm_test_has_diag(&d, WM_DIAG_WARNING, 5, 1, "without a language"));
	assert_int_equal(wf->n_tasks, 1);
	wm_workflow_free(wf);
	wf = NULL;
	assert_int_equal(
		wm_workflow_parse_dialect("w.md", text, strlen(text), WM_DIALECT_AUTO, &wf, &d),
		-1);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 5, 1, "without a language"));
	wm_diags_release(&d);
}

/* The pieces the fuzzer also drives: `Key: value` lines, `{k=v}` blocks. */
static void pair(const char *k, size_t kn, const char *v, size_t vn, void *ctx)
{
	wm_buf_addf(ctx, "[%.*s=%.*s]", (int)kn, k, (int)vn, v);
}

static void test_kv_and_braces(void **state)
{
	struct dl_kv kv;
	struct wm_buf b = WM_BUF_INIT;

	(void)state;
	assert_true(dl_kv_line("  Requires: a, b  ", 18, &kv));
	assert_int_equal(kv.key_len, 8);
	assert_int_equal(kv.val_len, 4);
	assert_int_equal(kv.val_col, 12);
	assert_false(dl_kv_line("see http://x", 12, &kv));
	assert_false(dl_kv_line("Requires:", 9, &kv));
	assert_false(dl_kv_line("a:b", 3, &kv));
	dl_brace_attrs("name=x cwd=\"a b\", \"k\": 'v' flag", pair, &b);
	assert_string_equal(b.data, "[name=x][cwd=a b][k=v][flag=]");
	wm_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_mask_corpus),
		cmocka_unit_test(test_xc_corpus),
		cmocka_unit_test(test_runme_corpus),
		cmocka_unit_test(test_error_places),
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_xc_interactive),
		cmocka_unit_test(test_import_round_trip),
		cmocka_unit_test(test_native_menu_and_warnings),
		cmocka_unit_test(test_readme_untagged),
		cmocka_unit_test(test_kv_and_braces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
