/* Unit tests for orchestrator/decide.c: the pure outcome -> decision rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "orchestrator/decide.h"

static struct wm_outcome base(void)
{
	struct wm_outcome o = {
		.exit_code = 0, .attempt = 1, .retries = 0, .backoff_ms = 1000, .jitter = 0.5
	};
	return o;
}

static void test_success(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_SUCCEED);
	assert_string_equal(d.what, "succeed");
	assert_non_null(strstr(d.why, "exited 0"));
}

static void test_note_and_attempts_after_a_resume(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.exit_code = 6;
	o.note = "it tried to use the network, and policy standard has network: none";
	o.base = 2; /* two attempts before the resume */
	o.retries = 1;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_non_null(strstr(d.why, "exited with status 6 (it tried to use the network"));
	assert_non_null(strstr(d.why, "attempt 4 follows"));
	o.exit_code = 0;
	o.note = NULL;
	wm_decide(&o, &d);
	assert_string_equal(d.why, "exited 0 on attempt 3");
}

static void test_nonzero_retries_then_fails(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.exit_code = 3;
	o.retries = 2;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_int_equal(d.delay_ms, 1000); /* jitter 0.5 is the midpoint */
	assert_non_null(strstr(d.why, "exited with status 3"));
	assert_non_null(strstr(d.why, "attempt 2"));
	o.attempt = 2;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_int_equal(d.delay_ms, 2000);
	o.attempt = 3;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "all 3 attempts used"));
}

/* A node that failed under the job costs the task nothing, up to a cap. */
static void test_lost_attempts_are_free_up_to_a_cap(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.exit_code = -1;
	o.signal = SIGKILL;
	o.lost = "Slurm lost it: NODE_FAIL";
	for (unsigned i = 0; i < WM_LOST_RETRY_CAP; i++) {
		o.attempt = i + 1;
		o.lost_before = i;
		wm_decide(&o, &d);
		assert_int_equal(d.verdict, WM_VERDICT_RETRY);
		assert_true(d.lost);
		assert_non_null(strstr(d.why, "NODE_FAIL"));
		assert_non_null(strstr(d.why, "not counted against retries"));
	}
	/* Past the cap it counts like any failure: no retries configured. */
	o.attempt = WM_LOST_RETRY_CAP + 1;
	o.lost_before = WM_LOST_RETRY_CAP;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_false(d.lost);
	assert_non_null(strstr(d.why, "NODE_FAIL, 4 times"));
	/* With retries left, the counted attempt is 1 and a counted retry follows. */
	o.retries = 1;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_false(d.lost);
	/* A real failure after free ones is judged on counted attempts only. */
	o.lost = NULL;
	o.signal = 0;
	o.exit_code = 1;
	o.attempt = 3;
	o.lost_before = 2;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	o.attempt = 4;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "all 2 attempts used"));
}

/* Someone else cancelled the job: that is final, and said so. */
static void test_ended_by_others_is_not_retried(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.exit_code = -1;
	o.signal = SIGKILL;
	o.retries = 3;
	o.ended_by = "cancelled in Slurm, not by wm";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "cancelled in Slurm, not by wm; not retried"));
	/* A limit it hit still speaks first (Slurm's TIMEOUT is a timeout). */
	o.limit = WM_LIMIT_TIMEOUT;
	o.ended_by = "Slurm ended it: TIMEOUT";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_non_null(strstr(d.why, "timed out"));
}

static void test_no_retries_configured(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.exit_code = 1;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "no retries configured"));
}

static void test_timeout_and_signal_are_retried(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.retries = 1;
	o.exit_code = -1;
	o.signal = SIGKILL;
	o.limit = WM_LIMIT_TIMEOUT;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_non_null(strstr(d.why, "timed out"));
	o.limit = WM_LIMIT_NONE;
	o.signal = SIGSEGV;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_RETRY);
	assert_non_null(strstr(d.why, "signal 11"));
}

static void test_denial_survived_is_success(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.denied = "personality";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_SUCCEED);
}

static void test_denial_and_limits_not_retried(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.retries = 5;
	o.exit_code = 1;
	o.denied = "ptrace";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "seccomp denied ptrace"));
	assert_non_null(strstr(d.why, "not retried"));

	o.denied = NULL;
	o.signal = SIGKILL;
	o.exit_code = -1;
	o.limit = WM_LIMIT_MEMORY;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "memory limit"));

	o.limit = WM_LIMIT_PIDS;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "pids limit"));

	o.limit = WM_LIMIT_NONE;
	o.signal = 0;
	o.setup_error = "cannot create user namespace: EPERM";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "could not start"));
}

static void test_missing_output_and_cancel(void **state)
{
	struct wm_outcome o = base();
	struct wm_action d;

	(void)state;
	o.missing_output = "report.txt";
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_FAIL);
	assert_non_null(strstr(d.why, "report.txt"));
	o.cancelled = true;
	wm_decide(&o, &d);
	assert_int_equal(d.verdict, WM_VERDICT_CANCEL);
	assert_string_equal(d.what, "cancel");
}

static void test_backoff_doubles_with_jitter_and_cap(void **state)
{
	(void)state;
	assert_int_equal(wm_backoff_delay(1000, 1, 0.5), 1000);
	assert_int_equal(wm_backoff_delay(1000, 2, 0.5), 2000);
	assert_int_equal(wm_backoff_delay(1000, 4, 0.5), 8000);
	assert_int_equal(wm_backoff_delay(1000, 1, 0.0), 800);
	assert_true(wm_backoff_delay(1000, 1, 0.999) >= 1199);
	assert_true(wm_backoff_delay(1000, 1, 0.999) <= 1200);
	assert_int_equal(wm_backoff_delay(1000, 40, 0.5), WM_BACKOFF_CAP_MS);
	assert_int_equal(wm_backoff_delay(1000, 40, 0.999), WM_BACKOFF_CAP_MS);
}

static void test_breaker(void **state)
{
	struct wm_breaker b = { 0 };

	(void)state;
	for (int i = 0; i < WM_BREAKER_THRESHOLD - 1; i++)
		assert_false(wm_breaker_record(&b, true));
	assert_false(wm_breaker_record(&b, false)); /* a success resets */
	for (int i = 0; i < WM_BREAKER_THRESHOLD - 1; i++)
		assert_false(wm_breaker_record(&b, true));
	assert_true(wm_breaker_record(&b, true));
	assert_true(b.tripped);
	assert_false(wm_breaker_record(&b, true)); /* trips once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_note_and_attempts_after_a_resume),
		cmocka_unit_test(test_nonzero_retries_then_fails),
		cmocka_unit_test(test_no_retries_configured),
		cmocka_unit_test(test_lost_attempts_are_free_up_to_a_cap),
		cmocka_unit_test(test_ended_by_others_is_not_retried),
		cmocka_unit_test(test_timeout_and_signal_are_retried),
		cmocka_unit_test(test_denial_survived_is_success),
		cmocka_unit_test(test_denial_and_limits_not_retried),
		cmocka_unit_test(test_missing_output_and_cancel),
		cmocka_unit_test(test_backoff_doubles_with_jitter_and_cap),
		cmocka_unit_test(test_breaker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
