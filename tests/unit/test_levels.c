/* Unit tests for orchestrator/levels.c: each rule of each validation level
 * fires where it should, at its place and with its level, and stays quiet
 * on a workflow that satisfies it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/levels.h"
#include "policies/policies.h"
#include "workflow/workflow.h"

/* A task that passes every level, under the front matter's `policy`. */
#define GOOD_TASK "## build\n- timeout: 30s\n\n```sh\ntrue\n```\n"

struct checked {
	struct wm_diags d;
	char *text; /* every diagnostic, one a line */
};

/* The findings of `level` for the workflow `md` (its tasks under their
 * policies, resolved against the built-ins). */
static struct checked check(const char *md, enum wm_level level, char *const *cli_env)
{
	struct checked c = { .d = WM_DIAGS_INIT };
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_workflow *wf = NULL;
	struct wm_buf b = WM_BUF_INIT;
	const struct wm_policy **pol;

	assert_int_equal(wm_workflow_parse_checked("w.md", md, strlen(md), &wf, &c.d), 0);
	pol = wm_xcalloc(wf->n_tasks, sizeof(*pol));
	for (size_t i = 0; i < wf->n_tasks; i++)
		assert_non_null(pol[i] = wm_policy_set_get(set, wm_task_policy(wf, &wf->tasks[i])));
	struct wm_level_input in = { .wf = wf, .policy = pol, .set = set, .cli_env = cli_env };
	wm_levels_check(&in, wm_level_effective(level, wf), &c.d);
	for (size_t k = 0; k < c.d.n; k++) {
		wm_autofree char *s = wm_diag_format(&c.d.v[k]);
		wm_buf_addf(&b, "%s\n", s);
	}
	c.text = wm_buf_detach(&b, NULL);
	free(pol);
	wm_workflow_free(wf);
	wm_policy_set_free(set);
	return c;
}

static void release(struct checked *c)
{
	wm_diags_release(&c->d);
	free(c->text);
}

/* `md` has exactly one error at `level` and none at the level below;
 * it reads `want`. */
static void fires_at(const char *md, enum wm_level level, const char *want)
{
	struct checked below = check(md, (enum wm_level)(level - 1), NULL);
	struct checked at = check(md, level, NULL);

	if (below.d.n_errors)
		fail_msg("errors below %s: %s", wm_level_name(level), below.text);
	if (at.d.n_errors != 1 || !strstr(at.text, want))
		fail_msg("wanted one error '%s' at %s, got: %s", want, wm_level_name(level),
			 at.text);
	release(&below);
	release(&at);
}

static void quiet(const char *md, enum wm_level level)
{
	struct checked c = check(md, level, NULL);

	if (c.d.n)
		fail_msg("unexpected at %s: %s", wm_level_name(level), c.text);
	release(&c);
}

static void test_clean_passes_every_level(void **state)
{
	(void)state;
	for (int l = WM_LEVEL_BASIC; l <= WM_LEVEL_PARANOID; l++)
		quiet("---\npolicy: hardened\n---\n" GOOD_TASK, (enum wm_level)l);
	/* A join node runs nothing: no timeout, no policy asked of it. */
	quiet("---\npolicy: hardened\n---\n" GOOD_TASK "## all\n- depends: build\n",
	      WM_LEVEL_STRICT);
}

static void test_standard_interpreters(void **state)
{
	(void)state;
	fires_at("---\npolicy: hardened\ninterpreters: {tcl: [wm-no-such-tclsh]}\n---\n"
		 "## build\n- timeout: 1s\n\n```tcl\nputs x\n```\n",
		 WM_LEVEL_STANDARD,
		 "w.md:8:1: error: task 'build': the interpreter `wm-no-such-tclsh` of its tcl "
		 "block is not on this host (not found in $PATH) [standard]");
	fires_at("---\npolicy: hardened\ninterpreters: {tcl: [/nonexistent/tclsh]}\n---\n"
		 "## build\n- timeout: 1s\n\n```tcl\nputs x\n```\n",
		 WM_LEVEL_STANDARD, "`/nonexistent/tclsh` of its tcl block is not on this host [");
	/* Its rollback's too. */
	fires_at("---\npolicy: hardened\ninterpreters: {tcl: [wm-no-such-tclsh]}\n---\n" GOOD_TASK
		 "\n```tcl rollback\nputs x\n```\n",
		 WM_LEVEL_STANDARD, "w.md:12:1: error: task 'build': the interpreter");
	/* In an image, the image holds the interpreter. */
	quiet("---\npolicy: hardened\ninterpreters: {tcl: [wm-no-such-tclsh]}\n---\n"
	      "## build\n- timeout: 1s\n- image: oci:/tmp@sha256:" /* 64 hex digits */
	      "0000000000000000000000000000000000000000000000000000000000000000"
	      "\n\n```tcl\nputs x\n```\n",
	      WM_LEVEL_PARANOID);
	/* The image itself must be here: a relative path is the workflow's
	 * directory's (w.md is in the current one). */
	fires_at("---\npolicy: hardened\n---\n## build\n- timeout: 1s\n- image: "
		 "oci:wm-no-such-layout:1\n\n```sh\ntrue\n```\n",
		 WM_LEVEL_STANDARD,
		 "w.md:4:1: error: task 'build': its image `oci:wm-no-such-layout:1` is not on "
		 "this host (no `./wm-no-such-layout`) [standard]");
}

static void test_strict_rules(void **state)
{
	(void)state;
	fires_at("---\npolicy: hardened\n---\n## build\n\n```sh\ntrue\n```\n", WM_LEVEL_STRICT,
		 "w.md:4:1: error: task 'build' declares no `timeout` (its policy `hardened` only "
		 "stops it after 30m) [strict]");
	fires_at("## build\n- timeout: 1s\n- policy: minimal\n\n```sh\ntrue\n```\n",
		 WM_LEVEL_STRICT,
		 "w.md:3:11: error: task 'build' runs under `minimal`, weaker than `testing`");
	/* The front matter's choice is the place when the task makes none. */
	fires_at("---\npolicy: development\n---\n" GOOD_TASK, WM_LEVEL_STRICT,
		 "w.md:2:9: error: task 'build' runs under `development`");
	quiet("---\npolicy: testing\n---\n" GOOD_TASK, WM_LEVEL_STRICT);
	fires_at("---\npolicy: hardened\n---\n" GOOD_TASK
		 "## use\n- depends: build\n- timeout: 1s\n\n```sh\ntrue\n```\n",
		 WM_LEVEL_STRICT,
		 "w.md:4:1: error: task 'build' declares no `outputs`, yet 'use' depends on it "
		 "[strict]");
	quiet("---\npolicy: hardened\n---\n## build\n- timeout: 30s\n- outputs: a\n\n```sh\ntrue\n"
	      "```\n## use\n- depends: build\n- timeout: 1s\n\n```sh\ntrue\n```\n",
	      WM_LEVEL_PARANOID);
	fires_at("---\npolicy: hardened\ncache: true\n---\n## build\n- timeout: 30s\n- outputs: "
		 "a\n\n```sh\ntrue\n```\n",
		 WM_LEVEL_STRICT, "task 'build' is cached but declares no `inputs`");
}

static void test_strict_warnings_are_errors(void **state)
{
	struct checked c;

	(void)state;
	c = check("---\npolicy: hardened\ntitle: x\n---\n" GOOD_TASK, WM_LEVEL_STANDARD, NULL);
	assert_int_equal(c.d.n_errors, 0);
	assert_non_null(strstr(c.text, "w.md:3:1: warning: front matter key `title`"));
	release(&c);
	fires_at("---\npolicy: hardened\ntitle: x\n---\n" GOOD_TASK, WM_LEVEL_STRICT,
		 "w.md:3:1: error: front matter key `title` is not wm's: ignored [strict]");
}

static void test_paranoid_rules(void **state)
{
	(void)state;
	fires_at("---\npolicy: testing\n---\n" GOOD_TASK, WM_LEVEL_PARANOID,
		 "w.md:2:9: error: task 'build' runs under `testing`, which has network "
		 "(loopback): paranoid allows none [paranoid]");
	fires_at("---\npolicy: standard\n---\n" GOOD_TASK, WM_LEVEL_PARANOID,
		 "task 'build' runs under `standard`, weaker than `hardened` (");
	quiet("---\npolicy: paranoid\n---\n" GOOD_TASK, WM_LEVEL_PARANOID);
	fires_at("---\npolicy: hardened\n---\n## build\n- timeout: 1s\n- image: "
		 "oci:/tmp:3.20\n\n```sh\ntrue\n```\n",
		 WM_LEVEL_PARANOID, "its image `oci:/tmp:3.20` is not pinned by digest");
	fires_at("---\npolicy: hardened\n---\n## build\n- timeout: 1s\n- env: GH_TOKEN=x\n\n```sh\n"
		 "true\n```\n",
		 WM_LEVEL_PARANOID, "w.md:4:1: error: task 'build' sets `GH_TOKEN` in its `env`");
	fires_at("---\npolicy: hardened\nenv: {db_password: x}\n---\n" GOOD_TASK, WM_LEVEL_PARANOID,
		 "w.md:1:1: error: the front matter's `env` sets `db_password`");
	quiet("---\npolicy: hardened\nenv: {LANG: C}\n---\n## build\n- timeout: 1s\n- env: "
	      "MODE=x\n\n```sh\ntrue\n```\n",
	      WM_LEVEL_PARANOID);
}

static void test_paranoid_cli_env(void **state)
{
	char s1[] = "API_KEY=abc", p1[] = "MODE=fast";
	char *secret[] = { s1, NULL }, *plain[] = { p1, NULL };
	struct checked c;

	(void)state;
	c = check("---\npolicy: hardened\n---\n" GOOD_TASK, WM_LEVEL_PARANOID, secret);
	assert_int_equal(c.d.n_errors, 1);
	assert_non_null(strstr(c.text, "wm: error: -e API_KEY=...: pass secrets with --secret "
				       "API_KEY"));
	assert_null(strstr(c.text, "abc"));
	release(&c);
	c = check("---\npolicy: hardened\n---\n" GOOD_TASK, WM_LEVEL_STRICT, secret);
	assert_int_equal(c.d.n, 0);
	release(&c);
	c = check("---\npolicy: hardened\n---\n" GOOD_TASK, WM_LEVEL_PARANOID, plain);
	assert_int_equal(c.d.n, 0);
	release(&c);
}

static void test_front_matter_level(void **state)
{
	struct checked c;

	(void)state;
	/* `level: strict` raises basic to strict, and paranoid stays paranoid. */
	c = check("---\npolicy: hardened\nlevel: strict\n---\n## b\n\n```sh\ntrue\n```\n",
		  WM_LEVEL_BASIC, NULL);
	assert_int_equal(c.d.n_errors, 1);
	assert_non_null(strstr(c.text, "declares no `timeout`"));
	release(&c);
	c = check("---\npolicy: standard\nlevel: basic\n---\n" GOOD_TASK, WM_LEVEL_PARANOID, NULL);
	assert_int_equal(c.d.n_errors, 1);
	release(&c);
	assert_int_equal(wm_level_find("normal"), WM_LEVEL_STANDARD);
	assert_int_equal(wm_level_find("paranoid"), WM_LEVEL_PARANOID);
	assert_int_equal(wm_level_find("high"), -1);
	assert_string_equal(wm_level_name(WM_LEVEL_STRICT), "strict");
}

static void test_level_of_diag(void **state)
{
	char m1[] = "x [paranoid]", m2[] = "a plain parse error", m3[] = "list [a, b]", m4[] = "";
	char *msgs[] = { m1, m2, m3, m4 };
	const enum wm_level want[] = { WM_LEVEL_PARANOID, WM_LEVEL_BASIC, WM_LEVEL_BASIC,
				       WM_LEVEL_BASIC };

	(void)state;
	for (size_t k = 0; k < 4; k++) {
		struct wm_diag dg = { .msg = msgs[k] };
		assert_int_equal(wm_level_of_diag(&dg), want[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_passes_every_level),
		cmocka_unit_test(test_standard_interpreters),
		cmocka_unit_test(test_strict_rules),
		cmocka_unit_test(test_strict_warnings_are_errors),
		cmocka_unit_test(test_paranoid_rules),
		cmocka_unit_test(test_paranoid_cli_env),
		cmocka_unit_test(test_front_matter_level),
		cmocka_unit_test(test_level_of_diag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
