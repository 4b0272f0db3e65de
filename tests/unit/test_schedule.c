/* Unit tests for common/schedule.c: parsing, next fire times across DST,
 * month ends, leap days and steps, and the scheduler's step after missed
 * fires and clock jumps. Times are written in UTC and checked in UTC. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/schedule.h"

/* "2026-03-08T07:00" (UTC) in ms. */
static long long utc(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M", &tm);

	assert_non_null(end);
	return (long long)timegm(&tm) * 1000;
}

static struct wm_schedule parsed(const char *s)
{
	struct wm_schedule sc;
	struct wm_error *e = NULL;
	size_t at = 99;

	assert_int_equal(wm_schedule_parse(s, &sc, &at, &e), 0);
	assert_null(e);
	return sc;
}

/* The parse error's offset in s, and a word its message must contain. */
static void bad(const char *s, size_t want_at, const char *word)
{
	struct wm_schedule sc;
	struct wm_error *e = NULL;
	size_t at = 99;

	assert_int_equal(wm_schedule_parse(s, &sc, &at, &e), -1);
	assert_non_null(e);
	assert_int_equal(e->exit_code, WM_EXIT_USAGE);
	if (!strstr(e->msg, word))
		fail_msg("`%s`: message `%s` lacks `%s`", s, e->msg, word);
	assert_int_equal(at, want_at);
	wm_error_free(e);
}

/* The next fire of `expr` in `tz` after `after` is `want` (UTC strings). */
static void next_is(const char *expr, const char *tz, const char *after, const char *want)
{
	struct wm_schedule sc = parsed(expr);
	struct wm_error *e = NULL;
	long long got = wm_schedule_next(&sc, utc(after), 0, tz, &e);

	assert_null(e);
	if (got != utc(want)) {
		time_t t = (time_t)(got / 1000);
		struct tm tm;
		char buf[64];

		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M", gmtime_r(&t, &tm));
		fail_msg("`%s` in %s after %s: got %s, wanted %s", expr, tz ? tz : "local", after,
			 buf, want);
	}
}

static void test_parse_forms(void **state)
{
	struct wm_schedule sc;

	(void)state;
	sc = parsed("every 15m");
	assert_int_equal(sc.kind, WM_SCHEDULE_EVERY);
	assert_int_equal(sc.every_ms, 15 * 60 * 1000);
	assert_int_equal(parsed("every 1d").every_ms, 86400 * 1000);
	sc = parsed("0 3 * * 1-5");
	assert_int_equal(sc.kind, WM_SCHEDULE_CRON);
	assert_int_equal(sc.minutes, 1);
	assert_int_equal(sc.hours, 1u << 3);
	assert_int_equal(sc.wdays, 0x3e);
	assert_true(sc.any_mday);
	assert_false(sc.any_wday);
	sc = parsed("*/15 10-20/5 1,15 jan,JUL sun,7");
	assert_int_equal(sc.minutes, 1 | 1ULL << 15 | 1ULL << 30 | 1ULL << 45);
	assert_int_equal(sc.hours, 1u << 10 | 1u << 15 | 1u << 20);
	assert_int_equal(sc.mdays, 1u << 1 | 1u << 15);
	assert_int_equal(sc.months, 1u << 1 | 1u << 7);
	assert_int_equal(sc.wdays, 1);
	sc = parsed("5/20 * * * *");
	assert_int_equal(sc.minutes, 1ULL << 5 | 1ULL << 25 | 1ULL << 45);
	sc = parsed("@weekly");
	assert_int_equal(sc.wdays, 1);
	assert_int_equal(sc.hours, 1);
	assert_int_equal(parsed("@yearly").months, 1u << 1);
	assert_int_equal(parsed("  0  0 * * *  ").hours, 1);
}

static void test_parse_errors(void **state)
{
	(void)state;
	bad("every 0s", 6, "1s or more");
	bad("every 500ms", 6, "1s or more");
	bad("every soon", 6, "every wants");
	bad("61 * * * *", 0, "bad minute");
	bad("0 25 * * *", 2, "bad hour");
	bad("0 0 0 * *", 4, "bad day of month");
	bad("0 0 * 13 *", 6, "bad month");
	bad("0 0 * * 8", 8, "bad day of week");
	bad("0 0 * * mon-sun", 8, "bad day of week"); /* 1-0: backwards */
	bad("0 1,x * * *", 4, "bad hour");
	bad("*/0 * * * *", 0, "bad minute");
	bad("0 0 * *", 7, "not a schedule");
	bad("0 0 * * * *", 10, "not a schedule");
	bad("", 0, "not a schedule");
	bad("@often", 0, "unknown schedule name");
	bad("0 0 30 2 *", 0, "never fires");
	bad("0 0 31 4,6 *", 0, "never fires");
}

static void test_next_utc(void **state)
{
	(void)state;
	next_is("*/15 * * * *", "UTC", "2026-05-04T10:07", "2026-05-04T10:15");
	next_is("*/15 * * * *", "UTC", "2026-05-04T10:15", "2026-05-04T10:30");
	next_is("*/15 * * * *", "UTC", "2026-05-04T23:50", "2026-05-05T00:00");
	next_is("0 3 * * 1-5", "UTC", "2026-05-08T03:00", "2026-05-11T03:00"); /* Fri -> Mon */
	next_is("10-20/5 8 * * *", "UTC", "2026-05-04T08:16", "2026-05-04T08:20");
	next_is("@daily", "UTC", "2026-12-31T23:59", "2027-01-01T00:00");
	next_is("@monthly", "UTC", "2026-01-31T12:00", "2026-02-01T00:00");
	/* Month ends: the 31st only in months that have one. */
	next_is("0 0 31 * *", "UTC", "2026-04-01T00:00", "2026-05-31T00:00");
	next_is("0 0 30 * *", "UTC", "2026-01-30T00:00", "2026-03-30T00:00");
	/* Leap days: the next Feb 29 after 2026 is in 2028. */
	next_is("0 12 29 2 *", "UTC", "2026-03-01T00:00", "2028-02-29T12:00");
	/* Both restricted: either matches (the 13th, or a Friday). */
	next_is("0 0 13 * 5", "UTC", "2026-05-04T00:00", "2026-05-08T00:00");
	next_is("0 0 13 * 5", "UTC", "2026-05-08T00:00", "2026-05-13T00:00");
	/* DOM `*`-restricted with a weekday: both must match. */
	next_is("0 0 */2 * 1", "UTC", "2026-05-04T00:00", "2026-05-11T00:00");
	next_is("every 6h", NULL, "2026-05-04T10:07", "2026-05-04T12:00");
}

static void test_next_zone(void **state)
{
	(void)state;
	/* 03:00 in Berlin is 01:00 UTC in summer, 02:00 in winter. */
	next_is("0 3 * * *", "Europe/Berlin", "2026-07-01T00:00", "2026-07-01T01:00");
	next_is("0 3 * * *", "Europe/Berlin", "2026-12-01T00:00", "2026-12-01T02:00");
	next_is("0 9 * * *", "Asia/Kolkata", "2026-05-04T00:00", "2026-05-04T03:30");
}

/* New York springs forward on 2026-03-08: 02:00 EST is 03:00 EDT (07:00Z). */
static void test_dst_spring_forward(void **state)
{
	(void)state;
	/* 02:30 does not exist that day: once, at the end of the gap. */
	next_is("30 2 * * *", "America/New_York", "2026-03-07T08:00", "2026-03-08T07:00");
	next_is("30 2 * * *", "America/New_York", "2026-03-08T07:00", "2026-03-09T06:30");
	/* Every time in the gap collapses into one fire at 03:00 EDT. */
	next_is("*/15 * * * *", "America/New_York", "2026-03-08T06:59", "2026-03-08T07:00");
	next_is("*/15 * * * *", "America/New_York", "2026-03-08T07:00", "2026-03-08T07:15");
	/* 03:00 itself is that same instant: still once. */
	next_is("0 3 * * *", "America/New_York", "2026-03-07T09:00", "2026-03-08T07:00");
	next_is("0 3 * * *", "America/New_York", "2026-03-08T07:00", "2026-03-09T07:00");
	/* Berlin: 02:00 CET -> 03:00 CEST on 2026-03-29 (01:00Z). */
	next_is("30 2 * * *", "Europe/Berlin", "2026-03-28T02:00", "2026-03-29T01:00");
}

/* Fall back: New York 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z); Berlin
 * 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z). */
static void test_dst_fall_back(void **state)
{
	(void)state;
	/* 01:30 happens at 05:30Z and 06:30Z: the first only. */
	next_is("30 1 * * *", "America/New_York", "2026-11-01T04:00", "2026-11-01T05:30");
	next_is("30 1 * * *", "America/New_York", "2026-11-01T05:30", "2026-11-02T06:30");
	/* Asked during the repeated hour: what it repeats already fired. */
	next_is("30 1 * * *", "America/New_York", "2026-11-01T06:10", "2026-11-02T06:30");
	next_is("30 2 * * *", "Europe/Berlin", "2026-10-24T23:00", "2026-10-25T00:30");
	next_is("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30", "2026-10-26T01:30");
	/* A quarter-hourly job skips the repeated wall times. */
	next_is("*/15 * * * *", "Europe/Berlin", "2026-10-25T00:45", "2026-10-25T02:00");
	next_is("*/15 * * * *", "Europe/Berlin", "2026-10-25T01:15", "2026-10-25T02:00");
}

static void test_unknown_zone(void **state)
{
	struct wm_schedule sc = parsed("@daily");
	struct wm_error *e = NULL;

	(void)state;
	assert_int_equal(wm_schedule_next(&sc, 0, 0, "Mars/Olympus", &e), -1);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "unknown time zone"));
	wm_error_free(e);
	assert_false(wm_schedule_tz_name_ok("../etc/passwd"));
	assert_false(wm_schedule_tz_name_ok("/etc/localtime"));
	assert_false(wm_schedule_tz_name_ok(""));
	assert_true(wm_schedule_tz_name_ok("America/Argentina/Buenos_Aires"));
	assert_true(wm_schedule_tz_name_ok("Etc/GMT+5"));
	assert_true(wm_schedule_tz_exists("UTC"));
}

static struct wm_fire step(const char *expr, const char *last, const char *now, enum wm_catchup c)
{
	struct wm_schedule sc = parsed(expr);
	struct wm_error *e = NULL;
	struct wm_fire f;

	assert_int_equal(wm_schedule_step(&sc, last ? utc(last) : 0, utc(now), 0, c, "UTC", &f, &e),
			 0);
	assert_null(e);
	return f;
}

static void test_step_missed(void **state)
{
	struct wm_fire f;

	(void)state;
	/* Never fired: nothing before now is due. */
	f = step("@hourly", NULL, "2026-05-04T10:30", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, 0);
	assert_int_equal(f.missed, 0);
	assert_int_equal(f.next, utc("2026-05-04T11:00"));
	/* Down from 10:00 to 13:30: 11, 12, 13 missed. */
	f = step("@hourly", "2026-05-04T10:00", "2026-05-04T13:30", WM_CATCHUP_NONE);
	assert_int_equal(f.due, 0);
	assert_int_equal(f.missed, 3);
	assert_int_equal(f.next, utc("2026-05-04T14:00"));
	f = step("@hourly", "2026-05-04T10:00", "2026-05-04T13:30", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, utc("2026-05-04T13:00"));
	assert_int_equal(f.missed, 2);
	assert_int_equal(f.next, utc("2026-05-04T14:00"));
	/* On time: the fire at now is due, none missed. */
	f = step("@hourly", "2026-05-04T10:00", "2026-05-04T11:00", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, utc("2026-05-04T11:00"));
	assert_int_equal(f.missed, 0);
	/* A dense schedule down for long: counted up to a cap, latest found. */
	f = step("* * * * *", "2026-01-01T00:00", "2026-05-04T10:30", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, utc("2026-05-04T10:30"));
	assert_true(f.missed >= 9999);
	f = step("every 2s", "2026-05-04T10:00", "2026-05-04T10:01", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, utc("2026-05-04T10:01"));
	assert_int_equal(f.missed, 29);
	/* A yearly job missed once, years ago. */
	f = step("@yearly", "2020-01-01T00:00", "2026-05-04T10:30", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, utc("2026-01-01T00:00"));
	assert_int_equal(f.missed, 5);
}

static void test_step_clock_jumps(void **state)
{
	struct wm_fire f;

	(void)state;
	/* Set back 1h after the 10:00 fire: 10:00 does not fire again. */
	f = step("*/30 * * * *", "2026-05-04T10:00", "2026-05-04T09:10", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, 0);
	assert_int_equal(f.next, utc("2026-05-04T10:30"));
	/* Set back a day: the clock is believed. */
	f = step("*/30 * * * *", "2026-05-04T10:00", "2026-05-03T09:10", WM_CATCHUP_LATEST);
	assert_int_equal(f.due, 0);
	assert_int_equal(f.next, utc("2026-05-03T09:30"));
	/* Jumped forward a week: catch-up rules, like downtime. */
	f = step("@daily", "2026-05-04T00:00", "2026-05-11T12:00", WM_CATCHUP_NONE);
	assert_int_equal(f.due, 0);
	assert_int_equal(f.missed, 7);
	assert_int_equal(f.next, utc("2026-05-12T00:00"));
}

static void test_format(void **state)
{
	char buf[64];

	(void)state;
	wm_schedule_format(utc("2026-03-08T07:00"), "America/New_York", buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-08T03:00:00-04:00");
	wm_schedule_format(utc("2026-03-08T06:59"), "America/New_York", buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-08T01:59:00-05:00");
	wm_schedule_format(utc("2026-05-04T09:00"), "Asia/Kolkata", buf, sizeof(buf));
	assert_string_equal(buf, "2026-05-04T14:30:00+05:30");
	/* The zone is the caller's again afterwards. */
	assert_null(getenv("TZ"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),	   cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_next_utc),	   cmocka_unit_test(test_next_zone),
		cmocka_unit_test(test_dst_spring_forward), cmocka_unit_test(test_dst_fall_back),
		cmocka_unit_test(test_unknown_zone),	   cmocka_unit_test(test_step_missed),
		cmocka_unit_test(test_step_clock_jumps),   cmocka_unit_test(test_format),
	};

	unsetenv("TZ");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
