/* Unit tests for the front matter of scheduled workflows (workflow/fm_sched.c):
 * schedule, jitter, timezone, concurrency, catchup and notify; errors at
 * their FILE:LINE:COL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/xalloc.h"
#include "tests/unit/support/diagcheck.h"
#include "workflow/workflow.h"

static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d);
	return wf;
}

static void test_scheduled_workflow(void **state)
{
	const char *text = "---\n"
			   "schedule: \"30 2 * * 1-5\"\n"
			   "jitter: 5m\n"
			   "timezone: America/New_York\n"
			   "concurrency: queue\n"
			   "catchup: latest\n"
			   "notify:\n"
			   "  - on: [run.failed, sla.breach]\n"
			   "    webhook: http://127.0.0.1:8080/hook\n"
			   "    secret_env: HOOK_KEY\n"
			   "    timeout: 2s\n"
			   "    retries: 0\n"
			   "  - on: run.succeeded\n"
			   "    command: [/usr/bin/logger, -t, wm]\n"
			   "    policy: testing\n"
			   "---\n"
			   "## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);
	const struct wm_notify *n;

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	assert_string_equal(wf->sched.expr, "30 2 * * 1-5");
	assert_int_equal(wf->sched.when.kind, WM_SCHEDULE_CRON);
	assert_int_equal(wf->sched.when.minutes, 1ULL << 30);
	assert_int_equal(wf->sched.loc.line, 2);
	assert_int_equal(wf->sched.jitter_ms, 5 * 60 * 1000);
	assert_string_equal(wf->sched.timezone, "America/New_York");
	assert_int_equal(wf->sched.concurrency, WM_CONCURRENCY_QUEUE);
	assert_int_equal(wf->sched.catchup, WM_CATCHUP_LATEST);
	assert_int_equal(wf->n_notify, 2);
	n = &wf->notify[0];
	assert_int_equal(n->on, 1u << WM_NOTIFY_RUN_FAILED | 1u << WM_NOTIFY_SLA_BREACH);
	assert_string_equal(n->webhook, "http://127.0.0.1:8080/hook");
	assert_string_equal(n->secret_env, "HOOK_KEY");
	assert_int_equal(n->timeout_ms, 2000);
	assert_int_equal(n->retries, 0);
	assert_null(n->command);
	n = &wf->notify[1];
	assert_int_equal(n->on, 1u << WM_NOTIFY_RUN_SUCCEEDED);
	assert_null(n->webhook);
	assert_string_equal(n->command[2], "wm");
	assert_string_equal(n->policy, "testing");
	assert_int_equal(n->retries, 3); /* the default, unused by a command */
	assert_string_equal(wm_notify_event_name(WM_NOTIFY_SECCOMP_DENIED), "seccomp.denied");
	assert_int_equal(wm_notify_event_find("limit.hit"), WM_NOTIFY_LIMIT_HIT);
	assert_int_equal(wm_notify_event_find("run.fail"), -1);
	assert_string_equal(wm_concurrency_name(WM_CONCURRENCY_REPLACE), "replace");
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void test_defaults(void **state)
{
	const char *text = "---\nschedule: every 6h\n---\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wf->sched.when.kind, WM_SCHEDULE_EVERY);
	assert_int_equal(wf->sched.when.every_ms, 6 * 3600 * 1000);
	assert_int_equal(wf->sched.concurrency, WM_CONCURRENCY_SKIP);
	assert_int_equal(wf->sched.catchup, WM_CATCHUP_NONE);
	assert_null(wf->sched.timezone);
	assert_int_equal(wf->n_notify, 0);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	/* Not scheduled at all. */
	wf = parse("## a\n```sh\ntrue\n```\n", &d);
	assert_non_null(wf);
	assert_null(wf->sched.expr);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void expect_diag(const struct wm_diags *d, unsigned line, unsigned col, const char *text)
{
	if (!wm_test_has_diag(d, WM_DIAG_ERROR, line, col, text)) {
		wm_test_print_diags(d);
		fail_msg("no error at %u:%u with `%s`", line, col, text);
	}
}

static void test_errors_at_their_place(void **state)
{
	const char *text = "---\n"
			   "schedule: 0 25 * * *\n"
			   "jitter: soon\n"
			   "timezone: ../etc/passwd\n"
			   "concurrency: parallel\n"
			   "catchup: all\n"
			   "notify:\n"
			   "  - on: [run.fail]\n"
			   "    webhook: ftp://x\n"
			   "  - on: [run.failed]\n"
			   "    webhook: http://127.0.0.1/\n"
			   "    command: [true]\n"
			   "  - webhok: http://127.0.0.1/\n"
			   "  - on: [task.failed]\n"
			   "    command: [logger]\n"
			   "    retries: 2\n"
			   "  - on: [task.failed]\n"
			   "    webhook: http://127.0.0.1/\n"
			   "    timeout: 1h\n"
			   "    retries: 11\n"
			   "    policy: paranoid\n"
			   "---\n"
			   "## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	expect_diag(&d, 2, 13, "bad hour");
	expect_diag(&d, 3, 9, "`jitter`");
	expect_diag(&d, 4, 11, "IANA zone name");
	expect_diag(&d, 5, 14, "must be skip, queue or replace");
	expect_diag(&d, 6, 10, "must be none or latest");
	expect_diag(&d, 8, 10, "notify.on must be run.failed, run.succeeded");
	expect_diag(&d, 9, 14, "http:// or https://");
	expect_diag(&d, 10, 5, "either `webhook: URL` or `command: [argv]`");
	expect_diag(&d, 13, 5, "unknown key `webhok` (did you mean `webhook`?)");
	expect_diag(&d, 13, 5, "needs `on:`");
	expect_diag(&d, 14, 5, "are a webhook's");
	expect_diag(&d, 19, 14, "from 1ms to 5m");
	expect_diag(&d, 20, 14, "from 0 to 10");
	expect_diag(&d, 17, 5, "`policy` is for a command");
	wm_diags_release(&d);
}

static void test_quoted_schedule_column(void **state)
{
	const char *text = "---\nschedule: '*/5 * 32 * *'\n---\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	/* Column of `32` inside the quotes (the quote is column 11). */
	expect_diag(&d, 2, 18, "bad day of month");
	wm_diags_release(&d);
}

static void test_sla_levels(void **state)
{
	const char *text = "## a\n- sla: 10m\n```sh\ntrue\n```\n"
			   "## b\n- sla: 10m warn, 30m notify, 1h cancel\n```sh\ntrue\n```\n"
			   "## c\n- sla: 1h cancel\n```sh\ntrue\n```\n";
	const char *bad = "## a\n- sla: 10m warn, 20m panic\n```sh\ntrue\n```\n"
			  "## b\n- sla: 10m, 20m\n```sh\ntrue\n```\n"
			  "## c\n- sla: soon cancel\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);
	char *h[3];

	(void)state;
	assert_non_null(wf);
	assert_int_equal(wf->tasks[0].sla.ms[WM_SLA_WARN], 600000);
	assert_int_equal(wf->tasks[0].sla.ms[WM_SLA_CANCEL], 0);
	assert_int_equal(wf->tasks[1].sla.ms[WM_SLA_WARN], 600000);
	assert_int_equal(wf->tasks[1].sla.ms[WM_SLA_NOTIFY], 1800000);
	assert_int_equal(wf->tasks[1].sla.ms[WM_SLA_CANCEL], 3600000);
	assert_int_equal(wf->tasks[2].sla.ms[WM_SLA_WARN], 0);
	assert_int_equal(wf->tasks[2].sla.ms[WM_SLA_CANCEL], 3600000);
	assert_string_equal(wm_sla_level_name(WM_SLA_NOTIFY), "notify");
	/* Levels change the definition hash (a and b differ only by them). */
	for (int i = 0; i < 3; i++)
		h[i] = wm_task_definition_hash(&wf->tasks[i], NULL);
	free(wf->tasks[1].id);
	wf->tasks[1].id = wm_xstrdup("a");
	free(h[1]);
	h[1] = wm_task_definition_hash(&wf->tasks[1], NULL);
	assert_string_not_equal(h[0], h[1]);
	for (int i = 0; i < 3; i++)
		free(h[i]);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	wf = parse(bad, &d);
	assert_null(wf);
	expect_diag(&d, 2, 22, "`panic` is not a level");
	expect_diag(&d, 7, 13, "level `warn` is given twice");
	expect_diag(&d, 12, 8, "sla: invalid duration");
	wm_diags_release(&d);
}

static void test_trigger(void **state)
{
	const char *good = "---\ntrigger:\n  webhook: deploy-main\n  secret_env: HOOK_SECRET\n"
			   "  params: [ref, sha]\n---\n## a\n```sh\ntrue\n```\n";
	const char *bad = "---\ntrigger:\n  webhook: Deploy!\n  params: [ref, WM_X, 3]\n"
			  "  secrt_env: X\n---\n## a\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(good, &d);

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	assert_string_equal(wf->trigger.webhook, "deploy-main");
	assert_string_equal(wf->trigger.secret_env, "HOOK_SECRET");
	assert_string_equal(wf->trigger.params[1], "sha");
	assert_null(wf->trigger.params[2]);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	wf = parse(bad, &d);
	assert_null(wf);
	expect_diag(&d, 3, 12, "trigger.webhook must be a hook name");
	expect_diag(&d, 4, 17, "`WM_X` is not a variable name");
	expect_diag(&d, 4, 23, "`3` is not a variable name");
	expect_diag(&d, 5, 3, "unknown key `secrt_env` (did you mean `secret_env`?)");
	expect_diag(&d, 3, 3, "trigger needs `webhook: NAME` or `paths: [globs]`");
	wm_diags_release(&d);
	wf = parse(
		"---\ntrigger: {paths: [\"src/**/*.c\", Makefile]}\n---\n## a\n```sh\ntrue\n```\n",
		&d);
	assert_non_null(wf);
	assert_string_equal(wf->trigger.paths[0], "src/**/*.c");
	assert_null(wf->trigger.webhook);
	wm_workflow_free(wf);
	wf = parse("---\ntrigger: {paths: [../etc/passwd]}\n---\n## a\n```sh\ntrue\n```\n", &d);
	assert_null(wf);
	expect_diag(&d, 2, 19, "not a pattern relative to the workspace");
	wm_diags_release(&d);
	/* A webhook is always signed. */
	wf = parse("---\ntrigger: {webhook: x}\n---\n## a\n```sh\ntrue\n```\n", &d);
	assert_null(wf);
	expect_diag(&d, 2, 10, "a webhook needs `secret_env`");
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheduled_workflow),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors_at_their_place),
		cmocka_unit_test(test_quoted_schedule_column),
		cmocka_unit_test(test_sla_levels),
		cmocka_unit_test(test_trigger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
