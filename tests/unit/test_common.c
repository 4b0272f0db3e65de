/* Unit tests for common/: errors, buffers, diagnostics, units, times, strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/diag.h"
#include "common/error.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/when.h"
#include "common/xalloc.h"

static int fails_with_errno(struct wm_error **err)
{
	return wm_error_set(err, ENOENT, "open `%s`", "/nope");
}

static void test_error_set_wrap_text(void **state)
{
	struct wm_error *err = NULL;
	char *text;

	(void)state;
	assert_int_equal(fails_with_errno(&err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, ENOENT);
	assert_int_equal(err->exit_code, WM_EXIT_FAILED);
	wm_error_wrap(&err, "load policy %d", 2);
	text = wm_error_text(err);
	assert_string_equal(text, "load policy 2: open `/nope`: No such file or directory");
	free(text);
	wm_error_free(err);
	/* Made with both its exit code and errno. */
	err = NULL;
	assert_int_equal(wm_error_make(&err, WM_EXIT_USAGE, EACCES, "read `%s`", "f"), -1);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_int_equal(err->errnum, EACCES);
	assert_string_equal(err->msg, "read `f`");
	/* Taken on as one's own: the code it means here, with or without context. */
	assert_int_equal(wm_error_wrapx(&err, WM_EXIT_CANNOT, NULL), -1);
	assert_int_equal(err->exit_code, WM_EXIT_CANNOT);
	assert_string_equal(err->msg, "read `f`");
	assert_int_equal(wm_error_wrapx(&err, 125, "sandbox %s", "x"), -1);
	assert_int_equal(err->exit_code, 125);
	assert_int_equal(err->errnum, EACCES);
	assert_string_equal(err->msg, "sandbox x: read `f`");
	wm_error_free(err);
	/* Nothing to take on: nothing happens. */
	err = NULL;
	assert_int_equal(wm_error_wrapx(&err, WM_EXIT_USAGE, NULL), -1);
	assert_null(err);
	assert_int_equal(wm_error_wrapx(NULL, WM_EXIT_USAGE, "x"), -1);
}

static void test_error_first_wins_and_null_ok(void **state)
{
	struct wm_error *err = NULL;

	(void)state;
	wm_error_setx(&err, WM_EXIT_CANNOT, "first");
	wm_error_setx(&err, WM_EXIT_USAGE, "second");
	assert_string_equal(err->msg, "first");
	assert_int_equal(err->exit_code, WM_EXIT_CANNOT);
	wm_error_free(err);
	/* A caller that does not want details may pass NULL. */
	assert_int_equal(wm_error_set(NULL, EIO, "ignored"), -1);
	wm_error_free(NULL);
}

static void test_buf(void **state)
{
	struct wm_buf b = WM_BUF_INIT;
	char *s;
	size_t len;

	(void)state;
	assert_string_equal(b.data, "");
	wm_buf_addstr(&b, "abc");
	wm_buf_addch(&b, '-');
	wm_buf_addf(&b, "%d/%s", 42, "x");
	assert_string_equal(b.data, "abc-42/x");
	assert_int_equal(b.len, 8);
	for (int i = 0; i < 10000; i++)
		wm_buf_addch(&b, 'z');
	assert_int_equal(b.len, 10008);
	assert_int_equal(b.data[b.len], '\0');
	wm_buf_setlen(&b, 3);
	assert_string_equal(b.data, "abc");
	s = wm_buf_detach(&b, &len);
	assert_int_equal(len, 3);
	assert_string_equal(s, "abc");
	assert_string_equal(b.data, "");
	free(s);
	wm_buf_add_html(&b, "<a href=\"x\">&</a>");
	wm_buf_add_html(&b, NULL);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
	wm_buf_release(&b);
}

static void test_buf_read_file(void **state)
{
	struct wm_buf b = WM_BUF_INIT;

	(void)state;
	assert_int_equal(wm_buf_read_file(&b, "/proc/self/stat"), 0);
	assert_true(b.len > 10);
	wm_buf_release(&b);
	assert_int_equal(wm_buf_read_file(&b, "/nonexistent/file"), -1);
	assert_int_equal(errno, ENOENT);
	wm_buf_release(&b);
}

static void test_diags_sorted_and_formatted(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	char *s;

	(void)state;
	wm_diags_error(&d, "w.md", 10, 12, "bad duration '%s'", "soon");
	wm_diags_warn(&d, "w.md", 3, 1, "hint");
	wm_diags_error(&d, "w.md", 3, 1, "unknown key");
	assert_int_equal(d.n, 3);
	assert_int_equal(d.n_errors, 2);
	wm_diags_sort(&d);
	/* Stable: the warning added first stays before the error at the same place. */
	assert_string_equal(d.v[0].msg, "hint");
	assert_string_equal(d.v[1].msg, "unknown key");
	s = wm_diag_format(&d.v[2]);
	assert_string_equal(s, "w.md:10:12: error: bad duration 'soon'");
	free(s);
	s = wm_diag_format(&d.v[0]);
	assert_string_equal(s, "w.md:3:1: warning: hint");
	free(s);
	wm_diags_release(&d);
}

static void test_diags_keep_file_order(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;

	(void)state;
	wm_diags_error(&d, "policies.yaml", 30, 1, "p30");
	wm_diags_error(&d, "flow.md", 2, 1, "f2");
	wm_diags_error(&d, "policies.yaml", 4, 1, "p4");
	wm_diags_sort(&d);
	assert_string_equal(d.v[0].msg, "p4");
	assert_string_equal(d.v[1].msg, "p30");
	assert_string_equal(d.v[2].msg, "f2");
	wm_diags_release(&d);
}

/* A problem with a whole file has no place: printed as wm's own message,
 * before the located ones. */
static void test_diags_without_place(void **state)
{
	struct wm_diags d = WM_DIAGS_INIT;
	char *s;

	(void)state;
	wm_diags_error(&d, "flow.md", 2, 1, "f2");
	wm_diags_warn(&d, NULL, 0, 0, "cannot read %s: %s; ignored", "p.yaml", "Permission denied");
	wm_diags_error(&d, "flow.md", 1, 1, "f1");
	assert_int_equal(d.n_errors, 2);
	wm_diags_sort(&d);
	assert_null(d.v[0].file);
	s = wm_diag_format(&d.v[0]);
	assert_string_equal(s, "wm: warning: cannot read p.yaml: Permission denied; ignored");
	free(s);
	assert_string_equal(d.v[1].msg, "f1");
	assert_string_equal(d.v[2].msg, "f2");
	wm_diags_release(&d);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} ok[] = {
		{ "500ms", 500 },     { "90s", 90000 }, { "2m", 120000 },  { "1h", 3600000 },
		{ "1h30m", 5400000 }, { "0s", 0 },	{ "1m5s", 65000 }, { "1s250ms", 1250 },
	};
	static const char *bad[] = { "",     "30",  "soon",
				     "5x",   "m",   "-1s",
				     "1.5s", "1s ", "99999999999999999999s" };
	struct wm_error *err = NULL;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(wm_parse_duration(ok[i].in, &v, &err), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wm_parse_duration(bad[i], &v, &err), -1);
		assert_non_null(err);
		assert_int_equal(err->exit_code, WM_EXIT_USAGE);
		wm_error_free(err);
		err = NULL;
	}
	wm_parse_duration("30", &v, &err);
	assert_non_null(strstr(err->msg, "no unit"));
	wm_error_free(err);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *in;
		uint64_t bytes;
	} ok[] = {
		{ "512K", 512ULL << 10 }, { "64M", 64ULL << 20 }, { "1G", 1ULL << 30 },
		{ "2T", 2ULL << 40 },	  { "4096", 4096 },	  { "1g", 1ULL << 30 },
		{ "64MiB", 64ULL << 20 }, { "1GB", 1ULL << 30 },  { "100B", 100 },
	};
	static const char *bad[] = { "", "M", "12Q", "1.5G", "-1M", "1Gx", "99999999999T" };
	struct wm_error *err = NULL;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(wm_parse_size(ok[i].in, &v, &err), 0);
		assert_int_equal(v, ok[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wm_parse_size(bad[i], &v, &err), -1);
		assert_non_null(err);
		wm_error_free(err);
		err = NULL;
	}
}

static void test_format_units(void **state)
{
	char *s;

	(void)state;
	s = wm_format_duration(5400000);
	assert_string_equal(s, "1h30m");
	free(s);
	s = wm_format_duration(1250);
	assert_string_equal(s, "1s250ms");
	free(s);
	s = wm_format_duration(0);
	assert_string_equal(s, "0s");
	free(s);
	{
		static const struct {
			uint64_t ms;
			const char *out;
		} human[] = { { 0, "0ms" },	  { 850, "850ms" }, { 1380, "1.38s" },
			      { 12345, "12.3s" }, { 59990, "60s" }, { 125400, "2m5s" },
			      { 3600000, "1h" } };

		for (size_t i = 0; i < sizeof(human) / sizeof(human[0]); i++) {
			s = wm_format_duration_human(human[i].ms);
			assert_string_equal(s, human[i].out);
			free(s);
		}
	}
	s = wm_format_size(64ULL << 20);
	assert_string_equal(s, "64M");
	free(s);
	s = wm_format_size(1000);
	assert_string_equal(s, "1000");
	free(s);
	{
		static const struct {
			uint64_t in;
			const char *out;
		} human[] = {
			{ 0, "0B" },
			{ 1023, "1023B" },
			{ 1024, "1.0K" },
			{ 1536, "1.5K" },
			{ 10 * 1024, "10K" },
			{ 1048575, "1023K" },
			{ 12ULL << 20, "12M" },
			{ (33ULL << 30) / 10, "3.3G" },
			{ 5ULL << 40, "5.0T" },
		};

		for (size_t i = 0; i < sizeof(human) / sizeof(human[0]); i++) {
			s = wm_format_size_human(human[i].in);
			assert_string_equal(s, human[i].out);
			free(s);
		}
	}
}

static void test_parse_age(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} ok[] = {
		{ "30m", 30 * 60000ULL },  { "2h", 2 * 3600000ULL },	 { "3d", 3 * 86400000ULL },
		{ "1w", 7 * 86400000ULL }, { "1d12h", 36 * 3600000ULL }, { "90s", 90000 },
		{ "250ms", 250 },	   { "2w3d", 17 * 86400000ULL },
	};
	static const char *bad[] = { "", "3", "3y", "d", "-1d", "1.5d", "3d ", "99999999999999w" };
	struct wm_error *err = NULL;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(wm_parse_age(ok[i].in, &v, &err), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wm_parse_age(bad[i], &v, &err), -1);
		assert_int_equal(err->exit_code, WM_EXIT_USAGE);
		assert_non_null(strstr(err->msg, "age"));
		wm_error_free(err);
		err = NULL;
	}
	/* Durations (timeouts) keep their units: a day-long timeout is written 24h. */
	assert_int_equal(wm_parse_duration("1d", &v, &err), -1);
	wm_error_free(err);
	err = NULL;
	wm_parse_age("3", &v, &err);
	assert_string_equal(err->msg, "age '3' has no unit (write 3ms, 3s, 3m, 3h, 3d or 3w)");
	wm_error_free(err);
}

/* 2026-11-22T08:15:03.120Z, a fixed "now" for the relative forms. */
#define NOW_MS 1795335303120LL
#define DAY_MS (86400LL * 1000)

static void test_parse_since(void **state)
{
	static const struct {
		const char *in;
		long long ms;
	} ok[] = {
		{ "30m", NOW_MS - 30 * 60000LL },
		{ "2h", NOW_MS - 2 * 3600000LL },
		{ "3d", NOW_MS - 3 * DAY_MS },
		{ "1w", NOW_MS - 7 * DAY_MS },
		{ "1d12h", NOW_MS - DAY_MS - 12 * 3600000LL },
		{ "now", NOW_MS },
		{ "today", 1795305600000LL }, /* 2026-11-22T00:00:00Z */
		{ "yesterday", 1795305600000LL - DAY_MS },
		{ "2026-11-22", 1795305600000LL },
		{ "2026-11-22T08:15:03Z", 1795335303000LL },
		{ "2026-11-22T08:15:03.120Z", NOW_MS },
		{ "2026-11-22T08:15:03.1", 1795335303100LL },
		{ "2026-11-22T08:15", 1795335300000LL },
		{ "2026-11-22 08:15:03", 1795335303000LL },
		{ "2026-01-01", 1767225600000LL },
	};
	static const char *bad[] = { "",	   "soon",	  "3",		 "3y",
				     "2026-1-2",   "2026-11-22T", "2026-11-22X", "22/11/2026",
				     "2026-13-01", "Today",	  "-3d",	 "100000w" };
	struct wm_error *err = NULL;
	long long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 0;
		assert_int_equal(wm_parse_since(ok[i].in, NOW_MS, &v, &err), 0);
		if (v != ok[i].ms)
			fail_msg("'%s': %lld, wanted %lld", ok[i].in, v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (wm_parse_since(bad[i], NOW_MS, &v, &err) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(err->exit_code, WM_EXIT_USAGE);
		assert_non_null(strstr(err->msg, bad[i]));
		wm_error_free(err);
		err = NULL;
	}
	/* "today" is the UTC day of now, also a millisecond before midnight. */
	assert_int_equal(wm_parse_since("today", 1795305600000LL - 1, &v, &err), 0);
	assert_int_equal(v, 1795305600000LL - DAY_MS);
	assert_int_equal(wm_parse_utc_time("2026-11-22", &v, &err), 0);
	assert_int_equal(v, 1795305600000LL);
	assert_int_equal(wm_parse_utc_time("1d", &v, &err), -1);
	wm_error_free(err);
}

static void test_strutil(void **state)
{
	static const char *keys[] = { "depends", "priority", "policy", "timeout" };
	char **v = NULL;
	size_t n = 0;
	char *t;

	(void)state;
	assert_true(wm_str_has_prefix("--policy", "--"));
	assert_false(wm_str_has_prefix("-", "--"));
	assert_true(wm_str_has_suffix("flow.md", ".md"));
	assert_false(wm_str_has_suffix("md", ".md"));
	t = wm_str_trim("  a b \t\n");
	assert_string_equal(t, "a b");
	free(t);
	wm_strv_push(&v, &n, "A=1");
	wm_strv_push(&v, &n, "B=2");
	assert_int_equal(wm_strv_len(v), 2);
	assert_null(v[2]);
	assert_true(wm_strv_contains(v, "B=2"));
	assert_false(wm_strv_contains(v, "C=3"));
	assert_true(wm_words_contain("cpuset cpu\tio\nmemory", "cpu"));
	assert_true(wm_words_contain("cpuset cpu io\nmemory", "memory"));
	assert_false(wm_words_contain("cpuset io", "cpu")); /* whole words only */
	assert_false(wm_words_contain("", "cpu"));
	/* KEY=VALUE replaces KEY's entry in place; AB is another key than A. */
	wm_env_set(&v, &n, "A=one");
	wm_env_set(&v, &n, "AB=3");
	wm_env_set(&v, &n, "not-a-setting");
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "A=one");
	assert_string_equal(v[1], "B=2");
	assert_string_equal(v[2], "AB=3");
	assert_null(v[3]);
	wm_strv_free(v);
	assert_int_equal(wm_edit_distance("kitten", "sitting", 5), 3);
	assert_int_equal(wm_edit_distance("abc", "abcdefgh", 2), 3);
	assert_string_equal(wm_suggest("prority", keys, 4), "priority");
	assert_string_equal(wm_suggest("depend", keys, 4), "depends");
	assert_null(wm_suggest("zebra", keys, 4));
	/* A swap of neighbours is one edit, not two. */
	assert_int_equal(wm_edit_distance("rnu", "run", 3), 1);
	assert_int_equal(wm_edit_distance("jsno", "json", 3), 1);
	assert_int_equal(wm_edit_distance("ca", "abc", 3), 3);
	{
		const char *const cmds[] = { "run", "resume", "plan" };

		assert_string_equal(wm_suggest("rnu", cmds, 3), "run");
		/* The one candidate a word begins, when no typo is near. */
		const char *const ids[] = { "lint-code", "build", "build-docs" };

		assert_string_equal(wm_suggest("lint", ids, 3), "lint-code");
		assert_string_equal(wm_suggest("buld", ids, 3), "build");
		assert_null(wm_suggest("li", ids, 3)); /* too short to tell */
	}
}

static void test_str_ellipsize(void **state)
{
	static const struct {
		const char *in;
		size_t width;
		const char *out;
	} cases[] = {
		{ "release", 10, "release" },
		{ "release", 7, "release" },
		{ "release", 6, "relea\xe2\x80\xa6" },
		{ "release", 1, "\xe2\x80\xa6" },
		{ "release", 0, "" },
		/* "déjà-vu": 7 characters in 9 bytes, never cut inside one. */
		{ "d\xc3\xa9j\xc3\xa0-vu", 7, "d\xc3\xa9j\xc3\xa0-vu" },
		{ "d\xc3\xa9j\xc3\xa0-vu", 4, "d\xc3\xa9j\xe2\x80\xa6" },
		{ "d\xc3\xa9j\xc3\xa0-vu", 2, "d\xe2\x80\xa6" },
	};

	(void)state;
	assert_int_equal(wm_str_columns("d\xc3\xa9j\xc3\xa0-vu"), 7);
	assert_int_equal(wm_str_columns(""), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = wm_str_ellipsize(cases[i].in, cases[i].width);

		assert_string_equal(s, cases[i].out);
		assert_true(wm_str_columns(s) <= cases[i].width);
		free(s);
	}
}

static void test_cleanup_steal(void **state)
{
	char *out;

	(void)state;
	{
		wm_autofree char *p = wm_xstrdup("owned");
		out = wm_steal(&p);
		assert_null(p);
	}
	assert_string_equal(out, "owned");
	free(out);
	{
		/* Freed on leaving the scope (valgrind and ASan check it). */
		wm_autostrv char **v = NULL;
		size_t n = 0;

		wm_strv_push(&v, &n, "a");
		wm_strv_push(&v, &n, "b");
	}
	{
		wm_autostrv char **v = NULL;
		char **kept;
		size_t n = 0;

		wm_strv_push(&v, &n, "kept");
		kept = wm_steal(&v);
		assert_null(v);
		assert_string_equal(kept[0], "kept");
		wm_strv_free(kept);
	}
	{
		wm_autoclose int fd = dup(0);
		int kept = wm_steal_fd(&fd);
		assert_int_equal(fd, -1);
		close(kept);
	}
}

static void test_clocks(void **state)
{
	uint64_t m1 = wm_mono_ms(), m2;
	long long w = wm_wall_ms();
	long long now = (long long)time(NULL) * 1000;

	(void)state;
	m2 = wm_mono_ms();
	assert_true(m2 >= m1);
	/* The wall clock is the epoch's, to the millisecond. */
	assert_true(w >= now - 2000 && w <= now + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set_wrap_text),
		cmocka_unit_test(test_error_first_wins_and_null_ok),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_buf_read_file),
		cmocka_unit_test(test_diags_sorted_and_formatted),
		cmocka_unit_test(test_diags_keep_file_order),
		cmocka_unit_test(test_diags_without_place),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format_units),
		cmocka_unit_test(test_parse_age),
		cmocka_unit_test(test_parse_since),
		cmocka_unit_test(test_strutil),
		cmocka_unit_test(test_str_ellipsize),
		cmocka_unit_test(test_cleanup_steal),
		cmocka_unit_test(test_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
