/* Unit tests for orchestrator/tasklog.c: a failed task's tail and
 * following a log as it grows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "orchestrator/tasklog.h"

struct dir {
	char path[64];
};

static void make_dir(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/wm-tasklog.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	char *logs = wm_xasprintf("%s/logs", d->path);
	assert_int_equal(mkdir(logs, 0700), 0);
	free(logs);
}

static void append(const struct dir *d, const char *task, const char *text)
{
	char *path = wm_xasprintf("%s/logs/%s.log", d->path, task);
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void remove_dir(const struct dir *d)
{
	char *cmd = wm_xasprintf("rm -rf '%s'", d->path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_tail_newest_attempt(void **state)
{
	struct dir d = { { 0 } };
	bool cut;
	char *t;

	(void)state;
	make_dir(&d);
	append(&d, "a", "=== a body, attempt 1, T ===\nold 1\nold 2\n");
	append(&d, "a", "=== a body, attempt 2, T ===\nnew 1\nnew 2\nnew 3\n");
	t = wm_tasklog_tail(d.path, "a", 2, &cut);
	assert_string_equal(t, "new 2\nnew 3\n");
	assert_true(cut);
	free(t);
	/* More lines asked than the attempt has: that attempt only. */
	t = wm_tasklog_tail(d.path, "a", 10, &cut);
	assert_string_equal(t, "new 1\nnew 2\nnew 3\n");
	assert_false(cut);
	free(t);
	/* A last line without its newline counts. */
	append(&d, "b", "=== b body, attempt 1, T ===\nx\ny");
	t = wm_tasklog_tail(d.path, "b", 1, &cut);
	assert_string_equal(t, "y");
	free(t);
	assert_null(wm_tasklog_tail(d.path, "none", 5, &cut));
	remove_dir(&d);
}

static void test_tail_does_not_follow_links(void **state)
{
	struct dir d = { { 0 } };
	bool cut;
	char *link;

	(void)state;
	make_dir(&d);
	link = wm_xasprintf("%s/logs/evil.log", d.path);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_null(wm_tasklog_tail(d.path, "evil", 5, &cut));
	free(link);
	remove_dir(&d);
}

static void collect(void *ctx, const char *line, size_t len)
{
	wm_buf_addf(ctx, "<%.*s>", (int)len, line);
}

static void test_follow(void **state)
{
	struct wm_tasklog_follow f;
	struct wm_buf got = WM_BUF_INIT;
	struct dir d = { { 0 } };

	(void)state;
	make_dir(&d);
	wm_tasklog_follow_init(&f, 2);
	wm_tasklog_follow(&f, d.path, 0, "a", false, collect, &got); /* no log yet */
	assert_string_equal(got.data, "");
	append(&d, "a", "one\ntw");
	wm_tasklog_follow(&f, d.path, 0, "a", false, collect, &got);
	assert_string_equal(got.data, "<one>"); /* half a line waits */
	append(&d, "a", "o\nthree");
	wm_tasklog_follow(&f, d.path, 0, "a", false, collect, &got);
	assert_string_equal(got.data, "<one><two>");
	wm_tasklog_follow(&f, d.path, 0, "a", true, collect, &got);
	assert_string_equal(got.data, "<one><two><three>");
	wm_tasklog_follow(&f, d.path, 0, "a", true, collect, &got); /* nothing new */
	assert_string_equal(got.data, "<one><two><three>");
	wm_tasklog_follow(&f, d.path, 5, "a", true, collect, &got); /* no such task */
	assert_string_equal(got.data, "<one><two><three>");
	wm_tasklog_follow_release(&f);
	wm_buf_release(&got);
	remove_dir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_newest_attempt),
		cmocka_unit_test(test_tail_does_not_follow_links),
		cmocka_unit_test(test_follow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
