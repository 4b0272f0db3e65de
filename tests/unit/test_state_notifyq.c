/* Unit tests for state/notifyq.c: the run's notification queue file, its
 * three kinds of line, bounds, torn lines, and copying outcomes into the
 * audit log once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "state/audit.h"
#include "state/notifyq.h"
#include "tests/unit/state_helpers.h"

static void append(const char *dir, json_t *line)
{
	struct wm_error *e = NULL;

	assert_int_equal(wm_notifyq_append(dir, line, &e), 0);
	assert_null(e);
	json_decref(line);
}

static json_t *due(long id)
{
	return json_pack("{s:s, s:I, s:s, s:{s:s}, s:{s:s}}", "kind", "due", "id", (json_int_t)id,
			 "event", "run.failed", "target", "webhook", "http://127.0.0.1:1/x?t=tok",
			 "body", "task", "build");
}

static json_t *result(long id, bool ok)
{
	return json_pack("{s:s, s:I, s:b, s:i, s:s}", "kind", "result", "id", (json_int_t)id, "ok",
			 ok, "attempts", 2, "detail", ok ? "HTTP 200" : "HTTP 500");
}

static void test_lines_and_counts(void **state)
{
	char *dir = scratch_dir();
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, WM_NOTIFYQ_FILE);
	struct wm_notifyq q;
	struct stat st;

	(void)state;
	/* Nothing queued yet: an empty queue, not an error. */
	assert_int_equal(wm_notifyq_load(dir, &q, NULL), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(wm_notifyq_next_id(&q), 1);
	append(dir, due(1));
	append(dir, due(2));
	append(dir, result(1, true));
	append(dir, json_pack("{s:s, s:i}", "kind", "audited", "id", 1));
	append(dir, due(3));
	append(dir, result(3, false));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(wm_notifyq_load(dir, &q, NULL), 0);
	assert_int_equal(q.n, 3);
	assert_int_equal(wm_notifyq_next_id(&q), 4);
	assert_int_equal(wm_notifyq_pending(&q), 1);   /* 2 */
	assert_int_equal(wm_notifyq_unaudited(&q), 1); /* 3 */
	assert_true(q.v[0].audited);
	assert_null(q.v[1].result);
	assert_false(json_is_true(json_object_get(q.v[2].result, "ok")));
	wm_notifyq_release(&q);
	scratch_free(dir);
}

static void test_torn_and_bad_lines(void **state)
{
	char *dir = scratch_dir();
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, WM_NOTIFYQ_FILE);
	const char *text = "{\"kind\":\"due\",\"id\":1,\"event\":\"run.failed\"}\n"
			   "not json\n"
			   "{\"kind\":\"result\",\"id\":7,\"ok\":true}\n" /* of nothing */
			   "{\"kind\":\"due\",\"id\":0}\n"
			   "{\"kind\":\"due\",\"id\":1,\"event\":\"again\"}\n" /* a second 1 */
			   "{\"kind\":\"result\",\"id\":1,\"ok\":tr";	       /* torn by a crash */
	struct wm_notifyq q;

	(void)state;
	spit(path, text, strlen(text));
	assert_int_equal(wm_notifyq_load(dir, &q, NULL), 0);
	assert_int_equal(q.n, 1);
	assert_string_equal(json_string_value(json_object_get(q.v[0].due, "event")), "run.failed");
	assert_int_equal(wm_notifyq_pending(&q), 1);
	wm_notifyq_release(&q);
	scratch_free(dir);
}

static void test_bounded(void **state)
{
	char *dir = scratch_dir();
	struct wm_error *e = NULL;
	json_t *line = due(WM_NOTIFYQ_MAX_DUE + 1);

	(void)state;
	append(dir, due(WM_NOTIFYQ_MAX_DUE));
	assert_int_equal(wm_notifyq_append(dir, line, &e), -1);
	assert_non_null(e);
	assert_int_equal(e->errnum, ENOSPC);
	assert_non_null(strstr(e->msg, "queue full"));
	wm_error_free(e);
	json_decref(line);
	/* Results still go in: the queue bounds what falls due, not outcomes. */
	append(dir, result(WM_NOTIFYQ_MAX_DUE, true));
	scratch_free(dir);
}

static void test_audit_once(void **state)
{
	char *dir = scratch_dir();
	wm_autofree char *log = wm_xasprintf("%s/audit.jsonl", dir);
	unsigned char key[WM_AUDIT_KEY_LEN] = { 7 };
	struct wm_audit *a = wm_audit_open(log, "20261122-081503-a1b2", key, NULL, NULL);
	struct wm_notifyq q;
	char *text;

	(void)state;
	assert_non_null(a);
	append(dir, due(1));
	append(dir, due(2));
	append(dir, result(1, true));
	append(dir, result(2, false));
	assert_int_equal(wm_notifyq_audit(dir, a, NULL), 0);
	assert_int_equal(wm_audit_seq(a), 2);
	/* Marked: a second copy adds nothing. */
	assert_int_equal(wm_notifyq_audit(dir, a, NULL), 0);
	assert_int_equal(wm_audit_seq(a), 2);
	wm_audit_close(a);
	assert_int_equal(wm_notifyq_load(dir, &q, NULL), 0);
	assert_int_equal(wm_notifyq_unaudited(&q), 0);
	wm_notifyq_release(&q);
	text = slurp(log, NULL);
	assert_non_null(strstr(text, "\"event\":\"notify.delivered\""));
	assert_non_null(strstr(text, "\"event\":\"notify.failed\""));
	assert_non_null(strstr(text, "\"target\":\"http://127.0.0.1:1\""));
	assert_non_null(strstr(text, "\"task\":\"build\""));
	assert_null(strstr(text, "tok")); /* a URL's query is never audited */
	free(text);
	scratch_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_counts),
		cmocka_unit_test(test_torn_and_bad_lines),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_audit_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
