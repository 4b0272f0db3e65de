/* Unit tests for the workflow parser (workflow/workflow.h, SPEC.md section 1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/diagcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

/* Shared with nothing else: compiled into this program only. */
#include "fixture/wf_fixture.c"

/* ---- helpers ---- */

static struct wm_workflow *parse_ok(const char *text)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	int rc = wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d);

	for (size_t i = 0; i < d.n; i++) {
		char *s = wm_diag_format(&d.v[i]);
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.n_errors, 0);
	assert_non_null(wf);
	wm_diags_release(&d);
	return wf;
}

/* Parses text expecting failure; returns the diagnostics (caller releases). */
static struct wm_diags parse_bad(const char *text)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = (struct wm_workflow *)&d; /* must be reset to NULL */

	assert_int_equal(wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d), -1);
	assert_null(wf);
	assert_true(d.n_errors > 0);
	return d;
}

static bool has_diag(const struct wm_diags *d, enum wm_diag_level lv, unsigned line, unsigned col,
		     const char *text)
{
	return wm_test_has_diag(d, (int)lv, line, col, text);
}

static const struct wm_task *task(const struct wm_workflow *wf, const char *id)
{
	long i = wm_workflow_find(wf, id);

	assert_true(i >= 0);
	return &wf->tasks[i];
}

static char *path_in_repo(const char *rel)
{
	const char *root = wf_test_repo_root();

	assert_non_null(root);
	return wm_xasprintf("%s/%s", root, rel);
}

/* ---- fixtures ---- */

/* The fixtures shared between projects, when the checkout has them beside
 * it; tests/data holds the project's own copies, so their absence skips. */
static void test_shared_fixtures(void **state)
{
	char *dir = path_in_repo("../shared/fixtures/workflows");
	struct stat st;
	bool present = stat(dir, &st) == 0;
	size_t n = 0;
	int bad = present ? wf_test_check_dir(dir, &n) : 0;

	(void)state;
	free(dir);
	if (!present)
		skip();
	assert_int_equal(bad, 0);
	assert_true(n >= 4); /* errors, fences, interpreters, prose at least */
}

static void test_invalid_fixtures(void **state)
{
	char *dir = path_in_repo("tests/data/invalid");
	size_t n = 0;

	(void)state;
	assert_int_equal(wf_test_check_dir(dir, &n), 0);
	assert_true(n >= 20);
	free(dir);
}

static void test_valid_fixtures(void **state)
{
	char *dir = path_in_repo("tests/data/valid");
	size_t n = 0;

	(void)state;
	assert_int_equal(wf_test_check_dir(dir, &n), 0);
	assert_true(n >= 8);
	free(dir);
}

/* The checker itself must catch a wrong expectation. */
static void test_fixture_checker_detects_mismatch(void **state)
{
	char dir[] = "/tmp/wm-fixture-XXXXXX";
	char *md, *exp;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	md = wm_xasprintf("%s/w.md", dir);
	exp = wm_xasprintf("%s/w.expect", dir);
	f = fopen(md, "w");
	fputs("## a\n```sh\ntrue\n```\n## b\n- depends: nope\n", f);
	fclose(f);
	f = fopen(exp, "w");
	fputs("error 6:12 | nope\n", f);
	fclose(f);
	assert_int_equal(wf_test_check_fixture(md), 0);
	f = fopen(exp, "w");
	fputs("error 6:13 | nope\n", f); /* wrong column */
	fclose(f);
	assert_true(wf_test_check_fixture(md) > 0);
	f = fopen(exp, "w");
	fputs("", f); /* an unexpected error */
	fclose(f);
	assert_true(wf_test_check_fixture(md) > 0);
	unlink(md);
	unlink(exp);
	rmdir(dir);
	free(md);
	free(exp);
}

/* ---- slugs, ids ---- */

static void check_slug(const char *in, const char *want)
{
	char *s = wm_workflow_slug(in);

	assert_string_equal(s, want);
	free(s);
}

static void test_slug(void **state)
{
	(void)state;
	check_slug("Fetch sources", "fetch-sources");
	check_slug("  Build -- the  DOCS! ", "build-the-docs");
	check_slug("v2.0 release", "v2-0-release");
	check_slug("Ünïcode café", "n-code-caf");
	check_slug("???", "");
	check_slug("a_b", "a-b");
	check_slug("already-slugged", "already-slugged");
}

static void test_id_attribute_and_heading_markup(void **state)
{
	struct wm_workflow *wf = parse_ok("## Build `the` *docs*\n```sh\ntrue\n```\n"
					  "## Other\n- id: custom.id_1\n\n```sh\ntrue\n```\n");

	(void)state;
	assert_string_equal(wf->tasks[0].id, "build-the-docs");
	assert_string_equal(wf->tasks[0].title, "Build the docs");
	assert_string_equal(wf->tasks[1].id, "custom.id_1");
	assert_string_equal(wf->tasks[1].title, "Other");
	assert_int_equal(wm_workflow_find(wf, "custom.id_1"), 1);
	assert_int_equal(wm_workflow_find(wf, "other"), -1);
	wm_workflow_free(wf);
}

static void test_duplicate_slug_is_error_at_second_heading(void **state)
{
	struct wm_diags d = parse_bad("## Build it\n```sh\ntrue\n```\n\n## build-it\n```sh\n"
				      "true\n```\n");

	(void)state;
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 6, 1, "duplicate task id `build-it`"));
	wm_diags_release(&d);
}

/* ---- front matter ---- */

static void test_front_matter_values(void **state)
{
	struct wm_workflow *wf = parse_ok("---\nname: rel\npolicy: hardened\npolicies: p.yaml\n"
					  "max_parallel: 3\nkeep_going: true\nrollback: manual\n"
					  "env:\n  LANG: C.UTF-8\n  EMPTY:\ninterpreters:\n"
					  "  awk: [awk, -f]\n---\n## a\n```awk\nBEGIN{}\n```\n");

	(void)state;
	assert_string_equal(wf->name, "rel");
	assert_string_equal(wf->policy, "hardened");
	assert_int_equal(wf->policy_loc.line, 3);
	assert_int_equal(wf->policy_loc.col, 9);
	assert_string_equal(wf->policies_file, "p.yaml");
	assert_int_equal(wf->max_parallel, 3);
	assert_true(wf->keep_going);
	assert_int_equal(wf->rollback, WM_ROLLBACK_MANUAL);
	assert_int_equal(wm_strv_len(wf->env), 2);
	assert_string_equal(wf->env[0], "LANG=C.UTF-8");
	assert_string_equal(wf->env[1], "EMPTY=");
	assert_int_equal(wf->n_interpreters, 1);
	assert_string_equal(wf->tasks[0].body.lang, "awk");
	assert_string_equal(wf->tasks[0].body.argv[0], "awk");
	assert_string_equal(wf->tasks[0].body.argv[1], "-f");
	assert_null(wf->tasks[0].body.argv[2]);
	assert_string_equal(wm_task_policy(wf, &wf->tasks[0]), "hardened");
	wm_workflow_free(wf);
}

static void test_defaults_and_name_from_path(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	const char *text = "## a\n```sh\ntrue\n```\n";

	(void)state;
	assert_int_equal(wm_workflow_parse("dir/sub/release.md", text, strlen(text), &wf, &d), 0);
	assert_string_equal(wf->name, "release");
	assert_null(wf->policy);
	assert_string_equal(wm_task_policy(wf, &wf->tasks[0]), "standard");
	assert_int_equal(wf->max_parallel, 0);
	assert_false(wf->keep_going);
	assert_int_equal(wf->rollback, WM_ROLLBACK_OFF);
	assert_int_equal(wf->tasks[0].backoff_ms, 1000);
	assert_int_equal(wf->tasks[0].priority, WM_PRIO_MEDIUM);
	assert_int_equal(wf->tasks[0].condition, WM_COND_SUCCESS);
	assert_int_equal(wf->tasks[0].level, 2);
	wm_workflow_free(wf);
	/* `policies` is resolved against the workflow's directory. */
	text = "---\npolicies: p.yaml\n---\n## a\n```sh\ntrue\n```\n";
	assert_int_equal(wm_workflow_parse("dir/sub/w.md", text, strlen(text), &wf, &d), 0);
	assert_string_equal(wf->policies_file, "dir/sub/p.yaml");
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_front_matter_line_offsets(void **state)
{
	/* Seven lines of front matter: the heading is on line 9 of the file. */
	struct wm_workflow *wf =
		parse_ok("---\nname: x\n# a comment\n\nenv:\n  A: b\n"
			 "max_parallel: 2\n---\n## a\n- timeout: 3s\n- policy: dev\n"
			 "\n```sh\ntrue\n```\n");
	struct wm_diags d;

	(void)state;
	assert_int_equal(wf->tasks[0].loc.line, 9);
	assert_int_equal(wf->tasks[0].loc.col, 1);
	assert_int_equal(wf->tasks[0].policy_loc.line, 11);
	assert_int_equal(wf->tasks[0].policy_loc.col, 11);
	assert_int_equal(wf->tasks[0].body.loc.line, 13);
	wm_workflow_free(wf);

	d = parse_bad("---\nname: x\n\nmax_parallel: many\n---\n\n## a\n- retries: x\n\n"
		      "```sh\ntrue\n```\n");
	assert_int_equal(d.n, 2);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 4, 15, "max_parallel"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 8, 12, "retries"));
	wm_diags_release(&d);
}

static void test_front_matter_not_at_top_is_markdown(void **state)
{
	/* A `---` later in the file is a thematic break, not front matter. */
	struct wm_workflow *wf = parse_ok("\n---\nname: x\n---\n## a\n```sh\ntrue\n```\n");

	(void)state;
	assert_string_equal(wf->name, "t");
	wm_workflow_free(wf);
}

static void test_empty_front_matter(void **state)
{
	struct wm_workflow *wf = parse_ok("---\n---\n## a\n```sh\ntrue\n```\n");

	(void)state;
	assert_int_equal(wf->tasks[0].loc.line, 3);
	wm_workflow_free(wf);
}

static void test_byte_order_mark_and_crlf(void **state)
{
	struct wm_workflow *wf = parse_ok("\xef\xbb\xbf---\r\nname: bom\r\n---\r\n## a\r\n"
					  "- timeout: 2s\r\n\r\n```sh\r\ntrue\r\n```\r\n");

	(void)state;
	assert_string_equal(wf->name, "bom");
	assert_int_equal(wf->tasks[0].loc.line, 4);
	assert_int_equal(wf->tasks[0].timeout_ms, 2000);
	wm_workflow_free(wf);
}

/* ---- attributes ---- */

static void test_all_attributes(void **state)
{
	struct wm_workflow *wf = parse_ok(
		"## dep\n```sh\ntrue\n```\n"
		"## Main task\n- id: main\n- depends: dep\n- policy: testing\n- timeout: 1h30m\n"
		"- retries: 3\n- backoff: 250ms\n- priority: low\n- condition: failure\n"
		"- only_if: `test -f go`\n- env: A=1\n- env: B=x=y\n- workdir: sub/dir\n- sla: 2m\n"
		"- outputs: a.txt, dir/b.bin\n- outputs: c\n\n```bash\nmake\n```\n");
	const struct wm_task *t = task(wf, "main");

	(void)state;
	assert_string_equal(t->depends[0], "dep");
	assert_null(t->depends[1]);
	assert_int_equal(t->depends_loc[0].line, 7);
	assert_int_equal(t->depends_loc[0].col, 12);
	assert_string_equal(t->policy, "testing");
	assert_int_equal(t->timeout_ms, 5400000);
	assert_int_equal(t->retries, 3);
	assert_int_equal(t->backoff_ms, 250);
	assert_int_equal(t->priority, WM_PRIO_LOW);
	assert_int_equal(t->condition, WM_COND_FAILURE);
	assert_string_equal(t->only_if, "test -f go");
	assert_string_equal(t->env[0], "A=1");
	assert_string_equal(t->env[1], "B=x=y");
	assert_null(t->env[2]);
	assert_string_equal(t->workdir, "sub/dir");
	assert_int_equal(t->sla.ms[WM_SLA_WARN], 120000);
	assert_string_equal(t->outputs[0], "a.txt");
	assert_string_equal(t->outputs[1], "dir/b.bin");
	assert_string_equal(t->outputs[2], "c");
	assert_null(t->outputs[3]);
	assert_string_equal(t->body.text, "make\n");
	assert_string_equal(t->body.argv[0], "bash");
	assert_string_equal(t->body.argv[4], "pipefail");
	wm_workflow_free(wf);
}

static void test_depends_columns(void **state)
{
	struct wm_workflow *wf = parse_ok("## a\n```sh\ntrue\n```\n## b\n```sh\ntrue\n```\n"
					  "## c\n-   depends:   a ,b\n- depends: `a`\n");
	const struct wm_task *t = task(wf, "c");

	(void)state;
	assert_string_equal(t->depends[0], "a");
	assert_string_equal(t->depends[1], "b");
	assert_string_equal(t->depends[2], "a");
	assert_int_equal(t->depends_loc[0].col, 16);
	assert_int_equal(t->depends_loc[1].col, 19);
	assert_int_equal(t->depends_loc[2].line, 11);
	assert_int_equal(t->depends_loc[2].col, 13);
	wm_workflow_free(wf);
}

static void test_attribute_list_rules(void **state)
{
	struct wm_workflow *wf = parse_ok(
		/* first item unknown, no body: prose, so the heading is prose */
		"## Requirements\n- python: 3.11\n\n"
		/* a body and a list whose first item is not key: value: prose list */
		"## prose list\n- Note: read me\n- timeout: 5s\n\n```sh\ntrue\n```\n"
		/* a paragraph first: the list is not right under the heading */
		"## para first\nText.\n\n- timeout: 5s\n\n```sh\ntrue\n```\n"
		/* an ordered list is never an attribute list */
		"## ordered\n1. timeout: 5s\n\n```sh\ntrue\n```\n"
		/* a known first key without a body: a join node */
		"## join\n- depends: prose-list\n");

	(void)state;
	assert_int_equal(wf->n_tasks, 4);
	assert_int_equal(wm_workflow_find(wf, "requirements"), -1);
	assert_int_equal(task(wf, "prose-list")->timeout_ms, 0);
	assert_int_equal(task(wf, "para-first")->timeout_ms, 0);
	assert_int_equal(task(wf, "ordered")->timeout_ms, 0);
	assert_null(task(wf, "join")->body.lang);
	assert_string_equal(task(wf, "join")->depends[0], "prose-list");
	wm_workflow_free(wf);
}

static void test_identifier_list_with_body_is_checked(void **state)
{
	/* Every item looks like `identifier: value` and there is a body: it is
	 * the attribute list, so the unknown key is an error with a hint. */
	struct wm_diags d =
		parse_bad("## a\n- prority: low\n- policy: standard\n\n```sh\ntrue\n```\n");

	(void)state;
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 3, "did you mean `priority`"));
	wm_diags_release(&d);
}

static void test_every_error_reported_sorted(void **state)
{
	struct wm_diags d = parse_bad("---\nbogus: 1\n---\n## a\n- timeout: x\n- retries: -2\n"
				      "- priority: hig\n\n```sh\ntrue\n```\n## b\n- depends: zz\n");

	(void)state;
	assert_int_equal(d.n, 5);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[1].line, 5);
	assert_int_equal(d.v[2].line, 6);
	assert_int_equal(d.v[3].line, 7);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 7, 13, "did you mean `high`"));
	assert_int_equal(d.v[4].line, 13);
	wm_diags_release(&d);
}

static void test_workdir_and_outputs_containment(void **state)
{
	struct wm_workflow *wf = parse_ok("## a\n- workdir: a/../b/./c\n- outputs: x/../y, ./z\n"
					  "\n```sh\ntrue\n```\n");
	struct wm_diags d;

	(void)state;
	assert_string_equal(wf->tasks[0].workdir, "a/../b/./c");
	wm_workflow_free(wf);
	d = parse_bad("## a\n- workdir: a/../../b\n- outputs: ok, ..\n\n```sh\ntrue\n```\n");
	assert_int_equal(d.n, 2);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 12, "workdir"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 3, 16, "outputs"));
	wm_diags_release(&d);
}

/* ---- bodies and fences ---- */

static void test_fence_bodies(void **state)
{
	struct wm_workflow *wf = parse_ok("## tilde\n~~~sh\necho ~\n~~~\n"
					  "## long\n````bash\n```sh\ninner\n```\n````\n"
					  "## py\n```python\nprint(1)\n```\n"
					  "## py3\n```python3 {.numberLines}\nprint(3)\n```\n");

	(void)state;
	assert_string_equal(task(wf, "tilde")->body.text, "echo ~\n");
	assert_string_equal(task(wf, "tilde")->body.argv[0], "/bin/sh");
	assert_string_equal(task(wf, "tilde")->body.argv[1], "-e");
	assert_null(task(wf, "tilde")->body.argv[2]);
	assert_string_equal(task(wf, "long")->body.text, "```sh\ninner\n```\n");
	assert_string_equal(task(wf, "long")->body.lang, "bash");
	assert_string_equal(task(wf, "py")->body.argv[0], "python3");
	assert_string_equal(task(wf, "py3")->body.lang, "python3");
	assert_int_equal(task(wf, "long")->body.loc.line, 6);
	wm_workflow_free(wf);
}

static void test_fences_in_lists_and_quotes_are_prose(void **state)
{
	struct wm_diags d = parse_bad("## in list\n\n- item:\n\n  ```sh\n  echo\n  ```\n\n"
				      "## quoted\n\n> ```sh\n> echo\n> ```\n\n"
				      "## indented\n\n    echo indented\n");

	(void)state;
	/* None of the three headings is a task. */
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 1, 1, "no tasks"));
	wm_diags_release(&d);
}

static void test_section_ends_at_any_heading(void **state)
{
	/* The block under `###` belongs to the `###` section, not to `## a`,
	 * and `# b` ends the section of `### c` too. */
	struct wm_workflow *wf = parse_ok("## a\n- priority: high\n\n### c\n```sh\necho c\n```\n"
					  "# b\n```sh\necho never\n```\n");

	(void)state;
	assert_int_equal(wf->n_tasks, 2);
	assert_null(task(wf, "a")->body.lang);
	assert_string_equal(task(wf, "c")->body.text, "echo c\n");
	assert_int_equal(task(wf, "c")->level, 3);
	wm_workflow_free(wf);
}

static void test_rollback_and_two_bodies(void **state)
{
	struct wm_workflow *wf = parse_ok("## a\n```sh rollback\nundo\n```\n```sh\nfirst\n```\n"
					  "```bash\nsecond\n```\n```bash rollback\nlater\n```\n");
	const struct wm_task *t = &wf->tasks[0];

	(void)state;
	assert_string_equal(t->body.text, "first\n");
	assert_string_equal(t->rollback.lang, "sh");
	assert_string_equal(t->rollback.text, "undo\n");
	assert_int_equal(t->rollback.loc.line, 2);
	wm_workflow_free(wf);
}

static void test_program_language_warning(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	const char *text = "## a\n```ruby\nputs 1\n```\n```json\n{}\n```\n```text\nx\n```\n"
			   "```console\n$ x\n```\n```sh\ntrue\n```\n"
			   "```perl\nafter the body\n```\n";

	(void)state;
	assert_int_equal(wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, WM_DIAG_WARNING, 2, 1, "`ruby`"));
	assert_non_null(strstr(d.v[0].msg, "interpreters"));
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_near_attribute_warnings(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	const char *text = "## a\n- timeout 5m\n- Retries: 2\n- depends on the network\n"
			   "- depends b, c\n\n```sh\ntrue\n```\n"
			   "## j\n- Depends: a\n"
			   "## prose\n- timeout of the day\n- retries 3\n";

	(void)state;
	assert_int_equal(wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d), 0);
	assert_true(has_diag(&d, WM_DIAG_WARNING, 2, 3, "write `- timeout: 5m`"));
	assert_true(has_diag(&d, WM_DIAG_WARNING, 3, 3, "attribute names are lower case"));
	assert_true(has_diag(&d, WM_DIAG_WARNING, 5, 3, "write `- depends: b, c`"));
	assert_true(has_diag(&d, WM_DIAG_WARNING, 11, 3, "`Depends:` looks like the attribute"));
	/* Prose stays prose: a sentence, and a list under a heading with no body. */
	assert_int_equal(d.n, 4);
	assert_int_equal(wf->n_tasks, 1);
	assert_null(wf->tasks[0].depends);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_select_part(void **state)
{
	/* a <- b <- c, d alone; b -> e */
	struct wm_workflow *wf = parse_ok("## a\n```sh\ntrue\n```\n"
					  "## b\n- depends: a\n\n```sh\ntrue\n```\n"
					  "## c\n- depends: b\n\n```sh\ntrue\n```\n"
					  "## d\n```sh\ntrue\n```\n"
					  "## e\n- depends: b\n\n```sh\ntrue\n```\n");
	struct wm_diags d = WM_DIAGS_INIT;
	bool *up, *down;
	size_t b = 1;

	(void)state;
	up = wm_workflow_closure(wf, &b, 1, false);
	down = wm_workflow_closure(wf, &b, 1, true);
	assert_true(up[0] && up[1] && !up[2] && !up[3] && !up[4]);
	assert_true(!down[0] && down[1] && down[2] && !down[3] && down[4]);
	/* Cut to what c needs: a, b, c; ids and the graph follow. */
	down[0] = true, down[4] = false;
	assert_int_equal(wm_workflow_keep_only(wf, down, &d), 0);
	assert_int_equal(wf->n_tasks, 3);
	assert_int_equal(wm_workflow_find(wf, "c"), 2);
	assert_int_equal(wm_workflow_find(wf, "e"), -1);
	assert_int_equal(wm_dag_n_deps(wf->dag, 2), 1);
	assert_int_equal(wm_dag_deps(wf->dag, 2)[0], 1);
	assert_int_equal(d.n, 0);
	free(up);
	free(down);
	wm_workflow_free(wf);
}

static void test_join_node(void **state)
{
	struct wm_workflow *wf = parse_ok("## a\n```sh\ntrue\n```\n## b\n```sh\ntrue\n```\n"
					  "## all\n- depends: a, b\n- condition: always\n");
	const struct wm_task *t = task(wf, "all");

	(void)state;
	assert_null(t->body.lang);
	assert_null(t->body.argv);
	assert_null(t->body.text);
	assert_int_equal(t->condition, WM_COND_ALWAYS);
	assert_int_equal(wm_strv_len(t->depends), 2);
	wm_workflow_free(wf);
}

static void test_interpreter_overrides_builtin(void **state)
{
	struct wm_workflow *wf = parse_ok("---\ninterpreters:\n  sh: [dash, -eu]\n---\n"
					  "## a\n```sh\ntrue\n```\n");

	(void)state;
	assert_string_equal(wf->tasks[0].body.argv[0], "dash");
	assert_string_equal(wf->tasks[0].body.argv[1], "-eu");
	wm_workflow_free(wf);
}

/* ---- parse vs parse_checked vs load ---- */

static void test_parse_leaves_dependencies_to_dag(void **state)
{
	const char *text = "## a\n- depends: nowhere\n\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	(void)state;
	assert_int_equal(wm_workflow_parse("t.md", text, strlen(text), &wf, &d), 0);
	assert_non_null(wf);
	wm_workflow_free(wf);
	assert_int_equal(wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d), -1);
	assert_null(wf);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 12, "unknown dependency `nowhere`"));
	wm_diags_release(&d);
}

/* Loading builds the DAG once and hands it on with the workflow: no caller
 * rebuilds it, so its warnings are reported once. */
static void test_checked_workflow_carries_its_dag(void **state)
{
	const char *text = "## a\n```sh\ntrue\n```\n## b\n- depends: a, a\n\n```sh\ntrue\n```\n"
			   "## c\n- depends: b, a\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	const struct wm_dag *g;

	(void)state;
	assert_int_equal(wm_workflow_parse("t.md", text, strlen(text), &wf, &d), 0);
	assert_null(wf->dag);
	wm_workflow_free(wf);
	assert_int_equal(d.n, 0);
	assert_int_equal(wm_workflow_parse_checked("t.md", text, strlen(text), &wf, &d), 0);
	g = wf->dag;
	assert_non_null(g);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->order[0], 0);
	assert_int_equal(g->order[2], 2);
	assert_int_equal(wm_dag_n_deps(g, 1), 1); /* the duplicate is dropped */
	assert_int_equal(wm_dag_n_deps(g, 2), 2);
	assert_int_equal(g->chain[0], 3);
	assert_int_equal(d.n, 1);
	assert_true(has_diag(&d, WM_DIAG_WARNING, 6, 15, "listed twice"));
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_load_missing_file(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;

	(void)state;
	assert_int_equal(wm_workflow_load("/nonexistent/w.md", &wf, &d, &err), -1);
	assert_null(wf);
	assert_non_null(err);
	assert_int_equal(err->errnum, ENOENT);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "/nonexistent/w.md"));
	assert_int_equal(d.n, 0);
	wm_error_free(err);
}

static void test_long_chain_parses(void **state)
{
	struct wm_buf b = WM_BUF_INIT;
	struct wm_workflow *wf;

	(void)state;
	wm_buf_addstr(&b, "## t0\n```sh\ntrue\n```\n");
	for (int i = 1; i < 10000; i++)
		wm_buf_addf(&b, "## t%d\n- depends: t%d\n\n```sh\ntrue\n```\n", i, i - 1);
	wf = parse_ok(b.data);
	assert_int_equal(wf->n_tasks, 10000);
	assert_int_equal(wm_workflow_find(wf, "t9999"), 9999);
	assert_string_equal(wf->tasks[9999].depends[0], "t9998");
	wm_workflow_free(wf);
	wm_buf_release(&b);
}

/* ---- definition hash ---- */

static void test_definition_hash(void **state)
{
	const char *base = "## a\n- timeout: 1s\n- env: A=1\n\n```sh\ntrue\n```\n"
			   "```sh rollback\nundo\n```\n";
	const char *changed[] = {
		"## a\n- timeout: 2s\n- env: A=1\n\n```sh\ntrue\n```\n```sh rollback\nundo\n```\n",
		"## a\n- timeout: 1s\n- env: A=2\n\n```sh\ntrue\n```\n```sh rollback\nundo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n\n```sh\nfalse\n```\n```sh rollback\nundo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n\n```bash\ntrue\n```\n```sh "
		"rollback\nundo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n\n```sh\ntrue\n```\n```sh rollback\nredo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n\n```sh\ntrue\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n- retries: 1\n\n```sh\ntrue\n```\n```sh "
		"rollback\n"
		"undo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n- policy: p\n\n```sh\ntrue\n```\n```sh rollback\n"
		"undo\n```\n",
		"---\ninterpreters:\n  sh: [dash]\n---\n## a\n- timeout: 1s\n- env: A=1\n\n```sh\n"
		"true\n```\n```sh rollback\nundo\n```\n",
		"## a\n- timeout: 1s\n- env: A=1\n- outputs: x\n\n```sh\ntrue\n```\n```sh "
		"rollback\n"
		"undo\n```\n",
	};
	struct wm_workflow *wf = parse_ok(base), *wf2 = parse_ok(base);
	char *h = wm_task_definition_hash(&wf->tasks[0], "P1");
	char *h2 = wm_task_definition_hash(&wf2->tasks[0], "P1");
	char *hp = wm_task_definition_hash(&wf->tasks[0], "P2");
	char *hn = wm_task_definition_hash(&wf->tasks[0], NULL);

	(void)state;
	assert_int_equal(strlen(h), 64);
	assert_string_equal(h, h2);
	assert_string_not_equal(h, hp);
	assert_string_not_equal(h, hn);
	for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
		struct wm_workflow *w = parse_ok(changed[i]);
		char *hc = wm_task_definition_hash(&w->tasks[0], "P1");
		if (strcmp(hc, h) == 0)
			fail_msg("variant %zu hashes like the base", i);
		free(hc);
		wm_workflow_free(w);
	}
	free(h);
	free(h2);
	free(hp);
	free(hn);
	wm_workflow_free(wf);
	wm_workflow_free(wf2);
}

/* ---- policies ---- */

static bool known_policy(const char *name, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	return strcmp(name, "standard") == 0 || strcmp(name, "hardened") == 0;
}

static void test_check_policies(void **state)
{
	struct wm_workflow *wf = parse_ok("---\npolicy: hardend\n---\n## a\n- policy: standard\n"
					  "\n```sh\ntrue\n```\n## b\n- policy: paranoia\n\n```sh\n"
					  "true\n```\n## c\n```sh\ntrue\n```\n");
	struct wm_diags d = WM_DIAGS_INIT;
	int calls = 0;

	(void)state;
	wm_workflow_check_policies(wf, known_policy, &calls, &d);
	assert_int_equal(calls, 3);
	assert_int_equal(d.n_errors, 2);
	assert_true(has_diag(&d, WM_DIAG_ERROR, 2, 9, "unknown policy `hardend`"));
	assert_true(has_diag(&d, WM_DIAG_ERROR, 11, 11, "unknown policy `paranoia`"));
	wm_diags_release(&d);
	wm_workflow_free(wf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_fixtures),
		cmocka_unit_test(test_invalid_fixtures),
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_fixture_checker_detects_mismatch),
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_id_attribute_and_heading_markup),
		cmocka_unit_test(test_duplicate_slug_is_error_at_second_heading),
		cmocka_unit_test(test_front_matter_values),
		cmocka_unit_test(test_defaults_and_name_from_path),
		cmocka_unit_test(test_front_matter_line_offsets),
		cmocka_unit_test(test_front_matter_not_at_top_is_markdown),
		cmocka_unit_test(test_empty_front_matter),
		cmocka_unit_test(test_byte_order_mark_and_crlf),
		cmocka_unit_test(test_all_attributes),
		cmocka_unit_test(test_depends_columns),
		cmocka_unit_test(test_attribute_list_rules),
		cmocka_unit_test(test_identifier_list_with_body_is_checked),
		cmocka_unit_test(test_every_error_reported_sorted),
		cmocka_unit_test(test_workdir_and_outputs_containment),
		cmocka_unit_test(test_fence_bodies),
		cmocka_unit_test(test_fences_in_lists_and_quotes_are_prose),
		cmocka_unit_test(test_section_ends_at_any_heading),
		cmocka_unit_test(test_rollback_and_two_bodies),
		cmocka_unit_test(test_program_language_warning),
		cmocka_unit_test(test_join_node),
		cmocka_unit_test(test_interpreter_overrides_builtin),
		cmocka_unit_test(test_parse_leaves_dependencies_to_dag),
		cmocka_unit_test(test_checked_workflow_carries_its_dag),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_long_chain_parses),
		cmocka_unit_test(test_near_attribute_warnings),
		cmocka_unit_test(test_select_part),
		cmocka_unit_test(test_definition_hash),
		cmocka_unit_test(test_check_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
