/* Unit tests for orchestrator/ab.c: which runs a side takes, the figures
 * of the report and the verdict, which names a side only when the data
 * can tell. p-values are stattest.c's (test_stattest.c checks them
 * against scipy). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "orchestrator/ab.h"
#include "state/runstate.h"

/* A finished run lasting `ms`, its one task "work" too, and a task "old"
 * kept from an earlier run. */
static void add(struct wm_ab_side *s, enum wm_run_status st, long long ms, bool expect)
{
	static unsigned seq;
	char id[32];
	struct wm_run_state *rs;
	long w, k;

	snprintf(id, sizeof(id), "20261202-000000-%04x", seq++);
	rs = wm_run_state_new(id);
	rs->state = st;
	rs->started_ms = 1000000;
	rs->ended_ms = 1000000 + ms;
	w = wm_run_state_add_task(rs, "work", NULL);
	k = wm_run_state_add_task(rs, "old", NULL);
	rs->tasks[w].state = st == WM_RUN_SUCCEEDED ? WM_TASK_SUCCEEDED : WM_TASK_FAILED;
	rs->tasks[w].started_ms = rs->started_ms;
	rs->tasks[w].ended_ms = rs->ended_ms;
	rs->tasks[k].state = WM_TASK_SUCCEEDED;
	rs->tasks[k].kept = true;
	assert_int_equal(wm_ab_side_add(s, rs), expect);
	wm_run_state_free(rs);
}

static const char *verdict(json_t *r)
{
	return json_string_value(json_object_get(r, "verdict"));
}

static void test_side(void **state)
{
	struct wm_ab_side s = { 0 };

	(void)state;
	add(&s, WM_RUN_SUCCEEDED, 100, true);
	add(&s, WM_RUN_FAILED, 50, true);
	add(&s, WM_RUN_RUNNING, 10, false);
	add(&s, WM_RUN_INTERRUPTED, 10, false);
	add(&s, WM_RUN_CANCELLED, 10, false);
	assert_int_equal(s.n_runs, 2);
	assert_int_equal(s.succeeded, 1);
	assert_int_equal(s.wall_ms[0], 100); /* the failed run's time is not a time */
	assert_int_equal(s.n_tasks, 1);	     /* "old" did not run here */
	assert_string_equal(s.tasks[0].task, "work");
	assert_int_equal(s.tasks[0].n, 1);
	assert_string_equal(s.run_ids[0], "20261202-000000-0000");
	assert_null(s.run_ids[2]);
	wm_ab_side_release(&s);
}

static void test_faster(void **state)
{
	struct wm_ab_side a = { .label = strdup("a.md") }, b = { .label = strdup("b.md") };
	json_t *r;

	(void)state;
	for (int i = 0; i < 5; i++) {
		add(&a, WM_RUN_SUCCEEDED, 1000 + 100 * i, true);
		add(&b, WM_RUN_SUCCEEDED, 2000 + 100 * i, true);
	}
	r = wm_ab_report(&a, &b);
	assert_string_equal(verdict(r), "A is faster by 45% (p=0.0079); success rates do not "
					"differ (5/5 against 5/5, p=1)");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "wall"), "faster")), "a");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(r, "a"), "wall"), "p50_ms")),
			 1200);
	assert_int_equal(json_array_size(json_object_get(r, "tasks")), 1);
	json_decref(r);
	r = wm_ab_report(&b, &a);
	assert_non_null(strstr(verdict(r), "B is faster by 45%"));
	json_decref(r);
	wm_ab_side_release(&a);
	wm_ab_side_release(&b);
}

static void test_reliability(void **state)
{
	struct wm_ab_side a = { .label = strdup("a") }, b = { .label = strdup("b") };
	json_t *r;

	(void)state;
	/* 8/8 against 4/8: Fisher p = 0.077, no claim. */
	for (int i = 0; i < 8; i++) {
		add(&a, WM_RUN_SUCCEEDED, 1000, true);
		add(&b, i % 2 ? WM_RUN_FAILED : WM_RUN_SUCCEEDED, 1000, true);
	}
	r = wm_ab_report(&a, &b);
	assert_string_equal(verdict(r), "times do not differ (p=1); success rates do not differ "
					"(8/8 against 4/8, p=0.077)");
	assert_true(json_is_null(json_object_get(json_object_get(r, "success"), "more_reliable")));
	json_decref(r);
	/* Two more each, 10/10 against 5/10: p = 0.033, B is named the worse. */
	add(&a, WM_RUN_SUCCEEDED, 1000, true);
	add(&a, WM_RUN_SUCCEEDED, 1000, true);
	add(&b, WM_RUN_SUCCEEDED, 1000, true);
	add(&b, WM_RUN_FAILED, 1000, true);
	r = wm_ab_report(&b, &a);
	assert_non_null(strstr(verdict(r), "B succeeds more often (10/10 against 5/10, p=0.033)"));
	json_decref(r);
	wm_ab_side_release(&a);
	wm_ab_side_release(&b);
}

static void test_too_few(void **state)
{
	struct wm_ab_side a = { .label = strdup("a") }, b = { .label = strdup("b") };
	json_t *r;

	(void)state;
	add(&a, WM_RUN_SUCCEEDED, 1000, true);
	add(&a, WM_RUN_SUCCEEDED, 1001, true);
	add(&b, WM_RUN_SUCCEEDED, 9000, true);
	add(&b, WM_RUN_SUCCEEDED, 9001, true);
	r = wm_ab_report(&a, &b);
	assert_string_equal(verdict(r), "too few successful runs to compare times (2 and 2; 3 "
					"each needed); too few runs to compare success rates (2 "
					"and 2; 3 each needed)");
	json_decref(r);
	/* Three runs a side, but B's all failed: no times on its side. */
	add(&a, WM_RUN_SUCCEEDED, 1000, true);
	add(&b, WM_RUN_FAILED, 1000, true);
	wm_ab_side_release(&b);
	b.label = strdup("b");
	for (int i = 0; i < 3; i++)
		add(&b, WM_RUN_FAILED, 1000, true);
	r = wm_ab_report(&a, &b);
	assert_true(json_is_null(json_object_get(r, "wall")));
	assert_non_null(strstr(verdict(r), "too few successful runs to compare times (3 and 0"));
	json_decref(r);
	wm_ab_side_release(&a);
	wm_ab_side_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_side),
		cmocka_unit_test(test_faster),
		cmocka_unit_test(test_reliability),
		cmocka_unit_test(test_too_few),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
