/* Unit tests for orchestrator/rundoc.c (the run document) and
 * orchestrator/serve/assets.c (the embedded dashboard files). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/rundoc.h"
#include "orchestrator/serve/assets.h"
#include "state/audit.h"
#include "state/checkpoint.h"
#include "state/rundir.h"
#include "state/runstate.h"
#include "state_helpers.h"

/* main.c's, which the run options' parser (runopts.c) names; never
 * called here. */
int wm_usage_error(const char *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	return WM_EXIT_USAGE;
}

#define HOSTILE "</script><script>alert(1)</script>"

static const char workflow[] = "---\nname: diamond\n---\n"
			       "## Prepare it\n- id: a\n\n```sh\ntrue\n```\n"
			       "## b\n- depends: a\n- retries: 1\n\n```sh\ntrue\n```\n"
			       "## c\n- depends: a\n\n```sh\ntrue\n```\n"
			       "## d\n- depends: b, c\n\n```sh\ntrue\n```\n";

struct fixture {
	char *state;
	char *run_dir;
	char id[WM_RUN_ID_LEN + 1];
};

static void append(struct wm_audit *a, const char *task, const char *event, json_t *fields)
{
	struct wm_error *err = NULL;

	assert_int_equal(wm_audit_append(a, task, event, fields, &err), 0);
	json_decref(fields);
}

/* a, then b twice (a retry), c, d: as the audit log of a real run has it. */
static void write_audit(struct fixture *f, struct wm_run_state *rs)
{
	unsigned char key[WM_AUDIT_KEY_LEN];
	wm_autofree char *path = wm_rundir_file(f->run_dir, WM_RUN_AUDIT);
	struct wm_error *err = NULL;
	struct wm_audit *a;
	static const struct {
		const char *task;
		int attempt, exit;
		const char *what;
	} att[] = { { "a", 1, 0, "succeed" },
		    { "b", 1, 3, "retry" },
		    { "c", 1, 0, "succeed" },
		    { "b", 2, 0, "succeed" },
		    { "d", 1, 0, "succeed" } };

	assert_int_equal(wm_audit_key_load(f->state, false, key, &err), 0);
	a = wm_audit_open(path, f->id, key, NULL, &err);
	assert_non_null(a);
	append(a, NULL, "run.start", json_pack("{s:i}", "max_parallel", 2));
	for (size_t i = 0; i < sizeof(att) / sizeof(att[0]); i++) {
		append(a, att[i].task, "task.start",
		       json_pack("{s:i, s:i, s:s}", "attempt", att[i].attempt, "wait_ms", 40,
				 "policy", "standard"));
		append(a, att[i].task, "task.end",
		       json_pack("{s:i, s:i, s:i, s:n, s:[s]}", "attempt", att[i].attempt, "exit",
				 att[i].exit, "duration_ms", 5, "limit", "denied", "ptrace"));
		append(a, att[i].task, "decision",
		       json_pack("{s:i, s:s, s:s}", "attempt", att[i].attempt, "what", att[i].what,
				 "why", "because"));
	}
	assert_int_equal(wm_audit_flush(a, &err), 0);
	wm_run_state_set_audit(rs, a);
	wm_audit_close(a);
}

static void fill_state(struct wm_run_state *rs)
{
	static const char *const ids[] = { "a", "b", "c", "d" };

	rs->name = wm_xstrdup("diamond");
	rs->state = WM_RUN_SUCCEEDED;
	rs->created_ms = rs->started_ms = 1000000;
	rs->ended_ms = 1009000;
	for (size_t i = 0; i < 4; i++) {
		long k = wm_run_state_add_task(rs, ids[i], NULL);
		struct wm_task_state *t = &rs->tasks[k];

		t->state = WM_TASK_SUCCEEDED;
		t->attempts = i == 1 ? 2 : 1;
		t->exit_code = 0;
		t->started_ms = 1000000 + (long long)i * 2000;
		t->ended_ms = t->started_ms + 1500;
		t->policy = wm_xstrdup("standard");
		wm_task_add_decision(t, t->ended_ms, t->attempts, "succeed", "exited 0");
	}
	wm_task_add_denied(&rs->tasks[2], "ptrace");
	rs->tasks[3].limit = wm_xstrdup("memory");
}

static int setup(void **state)
{
	struct fixture *f = wm_xcalloc(1, sizeof(*f));
	wm_autofree char *wf = NULL, *log = NULL, *big = NULL;
	struct wm_error *err = NULL;
	struct wm_audit_key *k;
	struct wm_run_state *rs;
	struct wm_buf b = WM_BUF_INIT;

	f->state = scratch_dir();
	k = wm_audit_key_open(f->state, WM_AUDIT_KEY_CREATE, &err);
	assert_non_null(k);
	wm_audit_key_free(k);
	wf = wm_xasprintf("%s/diamond.md", f->state);
	write_text(wf, workflow);
	f->run_dir = wm_rundir_create(f->state, wf, f->id, &err);
	assert_non_null(f->run_dir);
	rs = wm_run_state_new(f->id);
	fill_state(rs);
	write_audit(f, rs);
	assert_int_equal(wm_checkpoint_write(f->run_dir, rs, 0, &err), 0);
	wm_run_state_free(rs);
	/* a: short, hostile, with a byte that is not UTF-8; b: longer than a tail. */
	log = wm_xasprintf("%s/logs/a.log", f->run_dir);
	write_text(log, "hello\n" HOSTILE "\nbad \xff byte\n");
	free(log);
	for (unsigned i = 0; b.len <= WM_RUNDOC_LOG_TAIL * 2; i++)
		wm_buf_addf(&b, "line %u\n", i);
	log = wm_xasprintf("%s/logs/b.log", f->run_dir);
	spit(log, b.data, b.len);
	wm_buf_release(&b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	scratch_free(f->state);
	free(f->run_dir);
	free(f);
	return 0;
}

static json_t *task_of(json_t *plan, const char *id)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(plan, "tasks"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
			return t;
	}
	fail_msg("no task %s in the plan", id);
	return NULL;
}

static void test_plan_levels_and_edges(void **state)
{
	struct fixture *f = *state;
	struct wm_error *err = NULL;
	json_t *doc = wm_rundoc_build(f->state, f->id, 0, &err);
	json_t *plan = json_object_get(doc, "plan");

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "format")), WM_RUNDOC_FORMAT);
	assert_string_equal(json_string_value(json_object_get(doc, "run_id")), f->id);
	assert_string_equal(json_string_value(json_object_get(doc, "state")), "succeeded");
	assert_int_equal(json_integer_value(json_object_get(plan, "levels")), 3);
	assert_int_equal(json_integer_value(json_object_get(task_of(plan, "a"), "level")), 0);
	assert_int_equal(json_integer_value(json_object_get(task_of(plan, "b"), "level")), 1);
	assert_int_equal(json_integer_value(json_object_get(task_of(plan, "c"), "level")), 1);
	assert_int_equal(json_integer_value(json_object_get(task_of(plan, "d"), "level")), 2);
	assert_string_equal(json_string_value(json_object_get(task_of(plan, "a"), "title")),
			    "Prepare it");
	assert_int_equal(json_array_size(json_object_get(task_of(plan, "d"), "depends")), 2);
	assert_int_equal(json_array_size(json_object_get(plan, "edges")), 4);
	/* The status object is `wm status --json`'s, the stats `wm stats`'s. */
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "status"), "format")),
		"wm-checkpoint");
	assert_non_null(json_object_get(json_object_get(doc, "status"), "live"));
	assert_non_null(json_object_get(json_object_get(doc, "stats"), "parallelism"));
	/* Without flags: no logs, no audit verification. */
	assert_null(json_object_get(doc, "logs"));
	assert_null(json_object_get(doc, "audit"));
	json_decref(doc);
}

static void test_attempts_from_audit(void **state)
{
	struct fixture *f = *state;
	struct wm_error *err = NULL;
	json_t *doc = wm_rundoc_build(f->state, f->id, 0, &err);
	json_t *att = json_object_get(doc, "attempts"), *a;
	unsigned b_seen = 0;
	size_t i;

	assert_int_equal(json_array_size(att), 5);
	assert_true(json_is_false(json_object_get(doc, "attempts_truncated")));
	json_array_foreach(att, i, a)
	{
		json_int_t q = json_integer_value(json_object_get(a, "queued_ms"));
		json_int_t s = json_integer_value(json_object_get(a, "started_ms"));

		assert_int_equal(s - q, 40);
		assert_true(json_integer_value(json_object_get(a, "ended_ms")) >= s);
		assert_string_equal(
			json_string_value(json_array_get(json_object_get(a, "denied"), 0)),
			"ptrace");
		if (strcmp(json_string_value(json_object_get(a, "task")), "b") != 0)
			continue;
		b_seen++;
		assert_int_equal(json_integer_value(json_object_get(a, "attempt")), b_seen);
		assert_string_equal(json_string_value(json_object_get(a, "outcome")),
				    b_seen == 1 ? "retry" : "succeed");
		assert_int_equal(json_integer_value(json_object_get(a, "exit")),
				 b_seen == 1 ? 3 : 0);
	}
	assert_int_equal(b_seen, 2);
	assert_int_equal(json_array_size(json_object_get(doc, "decisions")), 4);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(doc, "denied"), 0), "syscall")),
			    "ptrace");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(doc, "limits"), 0), "task")),
			    "d");
	json_decref(doc);
}

static void test_attempts_without_audit(void **state)
{
	struct fixture *f = *state;
	wm_autofree char *path = wm_rundir_file(f->run_dir, WM_RUN_AUDIT);
	wm_autofree char *saved = wm_xasprintf("%s.saved", path);
	struct wm_error *err = NULL;
	json_t *doc, *audit;

	assert_int_equal(rename(path, saved), 0);
	doc = wm_rundoc_build(f->state, f->id, WM_RUNDOC_VERIFY, &err);
	assert_int_equal(rename(saved, path), 0);
	assert_non_null(doc);
	/* One attempt per task, from the checkpoint; the badge says why. */
	assert_int_equal(json_array_size(json_object_get(doc, "attempts")), 4);
	audit = json_object_get(doc, "audit");
	assert_false(json_is_true(json_object_get(audit, "verified")));
	assert_non_null(strstr(json_string_value(json_object_get(audit, "error")), "audit"));
	json_decref(doc);
}

static void test_logs_bounded_and_clean(void **state)
{
	struct fixture *f = *state;
	struct wm_error *err = NULL;
	json_t *doc = wm_rundoc_build(f->state, f->id, WM_RUNDOC_LOGS, &err);
	json_t *logs = json_object_get(doc, "logs");
	json_t *a = json_object_get(logs, "a"), *b = json_object_get(logs, "b");
	const char *tail;

	assert_non_null(a);
	assert_false(json_is_true(json_object_get(a, "truncated")));
	assert_string_equal(json_string_value(json_object_get(a, "tail")),
			    "hello\n" HOSTILE "\nbad \xef\xbf\xbd byte\n");
	assert_true(json_is_true(json_object_get(b, "truncated")));
	assert_true(json_integer_value(json_object_get(b, "size")) > WM_RUNDOC_LOG_TAIL * 2);
	tail = json_string_value(json_object_get(b, "tail"));
	assert_true(strlen(tail) <= WM_RUNDOC_LOG_TAIL);
	assert_true(strncmp(tail, "line ", 5) == 0); /* from a line start */
	assert_null(json_object_get(logs, "c"));     /* no log, no entry */
	json_decref(doc);
}

static void test_audit_badge(void **state)
{
	struct fixture *f = *state;
	wm_autofree char *path = wm_rundir_file(f->run_dir, WM_RUN_AUDIT);
	wm_autofree char *text = NULL;
	struct wm_error *err = NULL;
	json_t *doc = wm_rundoc_build(f->state, f->id, WM_RUNDOC_VERIFY, &err);
	json_t *audit = json_object_get(doc, "audit");
	size_t len;
	char *at;

	assert_true(json_is_true(json_object_get(audit, "verified")));
	assert_true(json_is_true(json_object_get(audit, "intact")));
	json_decref(doc);
	/* Edit one line: the badge must say so and where. */
	text = slurp(path, &len);
	at = strstr(text, "\"because\"");
	assert_non_null(at);
	at[1] = 'B';
	spit(path, text, len);
	doc = wm_rundoc_build(f->state, f->id, WM_RUNDOC_VERIFY, &err);
	audit = json_object_get(doc, "audit");
	assert_true(json_is_true(json_object_get(audit, "verified")));
	assert_false(json_is_true(json_object_get(audit, "intact")));
	assert_string_equal(json_string_value(json_object_get(audit, "problem")), "edited");
	assert_int_equal(json_integer_value(json_object_get(audit, "first_bad_seq")), 4);
	json_decref(doc);
	at[1] = 'b';
	spit(path, text, len);
}

/* A run still going: its last attempt has no end yet, and the run has a
 * task its workflow copy lacks (resumed with another version of it). */
static void test_running_and_extra_task(void **state)
{
	struct fixture *f = *state;
	unsigned char key[WM_AUDIT_KEY_LEN];
	wm_autofree char *path = wm_rundir_file(f->run_dir, WM_RUN_AUDIT);
	struct wm_error *err = NULL;
	struct wm_run_state *rs = wm_run_state_new(f->id);
	struct wm_audit *a;
	json_t *doc, *att, *last, *plan;

	fill_state(rs);
	rs->state = WM_RUN_RUNNING;
	rs->ended_ms = 0;
	assert_true(wm_run_state_add_task(rs, "extra", NULL) >= 0);
	assert_int_equal(wm_audit_key_load(f->state, false, key, &err), 0);
	a = wm_audit_open(path, f->id, key, NULL, &err);
	assert_non_null(a);
	append(a, "d", "task.start", json_pack("{s:i, s:i}", "attempt", 2, "wait_ms", 0));
	assert_int_equal(wm_audit_flush(a, &err), 0);
	wm_run_state_set_audit(rs, a);
	wm_audit_close(a);
	assert_int_equal(wm_checkpoint_write(f->run_dir, rs, 0, &err), 0);
	wm_run_state_free(rs);

	doc = wm_rundoc_build(f->state, f->id, 0, &err);
	assert_non_null(doc);
	att = json_object_get(doc, "attempts");
	last = json_array_get(att, json_array_size(att) - 1);
	assert_string_equal(json_string_value(json_object_get(last, "task")), "d");
	assert_true(json_is_null(json_object_get(last, "ended_ms")));
	assert_true(json_is_null(json_object_get(last, "outcome")));
	plan = json_object_get(doc, "plan");
	assert_int_equal(json_array_size(json_object_get(plan, "tasks")), 5);
	assert_int_equal(json_integer_value(json_object_get(task_of(plan, "extra"), "level")), 0);
	assert_string_equal(json_string_value(json_object_get(task_of(plan, "extra"), "state")),
			    "pending");
	json_decref(doc);
}

static void test_unknown_run(void **state)
{
	struct fixture *f = *state;
	struct wm_error *err = NULL;

	assert_null(wm_rundoc_build(f->state, "20990101-000000-abcd", 0, &err));
	assert_non_null(err);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	wm_error_free(err);
}

static void test_dump_for_html(void **state)
{
	struct wm_buf b = WM_BUF_INIT;
	json_t *doc = json_pack("{s:s, s:s}", "log", HOSTILE "<!-- x", "u", "caf\xc3\xa9");
	json_t *back;

	(void)state;
	wm_rundoc_dump_for_html(doc, &b);
	assert_null(strchr(b.data, '<'));
	assert_null(strstr(b.data, "</"));
	back = json_loads(b.data, 0, NULL);
	assert_true(json_equal(doc, back)); /* the same document once parsed */
	json_decref(back);
	json_decref(doc);
	wm_buf_release(&b);
}

static void test_utf8_clean(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },		    /* 4 bytes */
		{ "a\xc3", "a\xef\xbf\xbd" },				    /* cut short */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		    /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wm_buf b = WM_BUF_INIT;

		wm_rundoc_utf8_clean(cases[i].in, strlen(cases[i].in), &b);
		assert_string_equal(b.data, cases[i].out);
		wm_buf_release(&b);
	}
}

static void test_assets(void **state)
{
	const struct wm_web_asset *a;

	(void)state;
	a = wm_web_asset_find("/");
	assert_non_null(a);
	assert_string_equal(a->path, "index.html");
	assert_ptr_equal(wm_web_asset_find(""), a);
	assert_ptr_equal(wm_web_asset_find("/index.html"), a);
	assert_non_null(strstr(a->content_type, "text/html"));
	a = wm_web_asset_find("/app.css");
	assert_non_null(a);
	assert_string_equal(a->content_type, "text/css; charset=utf-8");
	assert_int_equal(a->len, strlen(a->data));
	assert_non_null(wm_web_asset_find("draw.js"));
	assert_null(wm_web_asset_find("/../app.css"));
	assert_null(wm_web_asset_find("/nope.js"));
	assert_null(wm_web_asset_find(NULL));
	/* Reports inline the scripts and the style: none may end its element
	 * early. No file reaches the network. */
	for (a = wm_web_assets; a->path; a++) {
		if (!strstr(a->path, ".html")) {
			assert_null(strstr(a->data, "</script"));
			assert_null(strstr(a->data, "</style"));
		}
		assert_null(strstr(a->data, "http://"));
		assert_null(strstr(a->data, "https://"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_levels_and_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts_from_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts_without_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logs_bounded_and_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_badge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_and_extra_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_run, setup, teardown),
		cmocka_unit_test(test_dump_for_html),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_assets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
