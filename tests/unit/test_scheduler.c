/* Unit tests for the scheduler, through the fake executor in virtual time:
 * ordering by priority and critical path, -j, retries and backoff,
 * timeouts, conditions, only_if, keep_going, the circuit breaker, rollback
 * order, cancellation, join nodes. Workflows are written in Markdown and
 * parsed by the real parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "workflow/dag.h"
#include "orchestrator/scheduler.h"
#include "workflow/workflow.h"
#include "state/runstate.h"
#include "tests/unit/support/fake_exec.h"

struct run {
	struct wm_workflow *wf;
	const struct wm_dag *dag; /* the workflow's */
	struct wm_run_state *rs;
	struct fake_exec *fx;
	struct wm_sched *s;
	enum wm_run_status outcome;
	char events[4096]; /* "name:task " of every event, in order */
	size_t n_events;
	bool barrier_fails;
};

static void on_event(void *ctx, const struct wm_event *ev)
{
	struct run *r = ctx;
	size_t len = strlen(r->events);

	if (ev->type == WM_EV_TICK)
		return;
	snprintf(r->events + len, sizeof(r->events) - len, "%s:%s ", wm_event_name(ev->type),
		 ev->task >= 0 ? r->wf->tasks[ev->task].id : "-");
	r->n_events++;
}

/* Group commit: "| " in the event string; the fake executor's log length
 * says which jobs had started by then. */
static bool barrier(void *ctx)
{
	struct run *r = ctx;
	size_t len = strlen(r->events);

	snprintf(r->events + len, sizeof(r->events) - len, "| ");
	return !r->barrier_fails;
}

/* Parses the workflow and prepares a scheduler on the fake executor. */
static void setup_run(struct run *r, const char *md, unsigned jobs, bool keep_going)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_sched_config cfg = { 0 };

	memset(r, 0, sizeof(*r));
	assert_int_equal(wm_workflow_parse_checked("w.md", md, strlen(md), &r->wf, &d), 0);
	r->dag = r->wf->dag; /* parse_checked built it */
	wm_diags_release(&d);
	r->rs = wm_run_state_new("20260101-000000-0000");
	for (size_t i = 0; i < r->wf->n_tasks; i++)
		assert_int_equal(wm_run_state_add_task(r->rs, r->wf->tasks[i].id, NULL), (long)i);
	r->fx = fake_exec_new(r->wf->n_tasks);
	cfg.wf = r->wf;
	cfg.dag = r->dag;
	cfg.rs = r->rs;
	cfg.exec = fake_exec_executor(r->fx);
	cfg.clock = fake_exec_clock(r->fx);
	cfg.max_parallel = jobs;
	cfg.keep_going = keep_going;
	cfg.on_event = on_event;
	cfg.ctx = r;
	r->s = wm_sched_new(&cfg);
}

static void go(struct run *r)
{
	struct wm_error *err = NULL;

	if (wm_sched_run(r->s, &r->outcome, &err) != 0)
		fail_msg("run: %s", err ? err->msg : "?");
}

static void teardown_run(struct run *r)
{
	wm_sched_free(r->s);
	fake_exec_free(r->fx);
	wm_run_state_free(r->rs);
	wm_workflow_free(r->wf);
}

static size_t idx(const struct run *r, const char *id)
{
	long i = wm_workflow_find(r->wf, id);

	assert_true(i >= 0);
	return (size_t)i;
}

static enum wm_task_status state_of(const struct run *r, const char *id)
{
	return r->rs->tasks[idx(r, id)].state;
}

static void script(struct run *r, const char *id, enum wm_attempt_kind kind,
		   const struct fake_attempt *v, size_t n)
{
	fake_exec_script(r->fx, idx(r, id), kind, v, n);
}

/* The order bodies started in, as "a b c". */
static void start_order(const struct run *r, char *buf, size_t len)
{
	size_t n;
	const struct fake_log *log = fake_exec_log(r->fx, &n);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (log[i].what == FAKE_START && log[i].kind == WM_ATTEMPT_BODY)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? " " : "",
				 r->wf->tasks[log[i].task].id);
}

#define BODY(x) "\n```sh\n" x "\n```\n"

static void test_priority_and_critical_path(void **state)
{
	struct run r;
	char order[256];

	(void)state;
	setup_run(
		&r,
		"## a\n- priority: low\n" BODY("true") "## b\n- priority: high\n" BODY(
			"true") "## c\n" BODY("true") "## d\n- depends: c\n" BODY("true") "## e\n- "
											  "depends:"
											  " d"
											  "\n" BODY("true") "## f\n" BODY(
												  "true"),
		1, false);
	go(&r);
	start_order(&r, order, sizeof(order));
	/* high first; then the longest chain (c d e); ties in file order; low last. */
	assert_string_equal(order, "b c d e f a");
	assert_int_equal(r.outcome, WM_RUN_SUCCEEDED);
	teardown_run(&r);
}

/* Every start record is made durable (a barrier) before its job starts,
 * and one barrier covers all the records of a turn. */
static void test_group_commit(void **state)
{
	struct run r;
	const char *p;
	size_t starts = 0;

	(void)state;
	setup_run(&r, "## a\n" BODY("true") "## b\n" BODY("true") "## c\n" BODY("true"), 2, false);
	wm_sched_free(r.s);
	{
		struct wm_sched_config cfg = { .wf = r.wf, .dag = r.dag, .rs = r.rs };

		cfg.exec = fake_exec_executor(r.fx), cfg.clock = fake_exec_clock(r.fx);
		cfg.max_parallel = 2, cfg.on_event = on_event, cfg.barrier = barrier, cfg.ctx = &r;
		r.s = wm_sched_new(&cfg);
	}
	go(&r);
	assert_int_equal(r.outcome, WM_RUN_SUCCEEDED);
	for (p = strstr(r.events, "task.start:"); p; p = strstr(p + 1, "task.start:")) {
		const char *next = strstr(p + 1, "task.start:");
		const char *bar = strstr(p, "| ");

		assert_non_null(bar);
		assert_true(!next || bar < next);
		starts++;
	}
	assert_int_equal(starts, 3);
	/* a and b end in one turn: their records and c's start share one
	 * barrier, before c starts. */
	assert_non_null(
		strstr(r.events, "task.end:a decision:a task.end:b decision:b task.start:c | "));
	teardown_run(&r);
}

/* A barrier that fails starts nothing more. */
static void test_barrier_failure(void **state)
{
	struct run r;
	size_t n;

	(void)state;
	setup_run(&r, "## a\n" BODY("true"), 1, false);
	wm_sched_free(r.s);
	{
		struct wm_sched_config cfg = { .wf = r.wf, .dag = r.dag, .rs = r.rs };

		cfg.exec = fake_exec_executor(r.fx), cfg.clock = fake_exec_clock(r.fx);
		cfg.max_parallel = 1, cfg.on_event = on_event, cfg.barrier = barrier, cfg.ctx = &r;
		r.s = wm_sched_new(&cfg);
	}
	r.barrier_fails = true;
	go(&r);
	fake_exec_log(r.fx, &n);
	assert_int_equal(n, 0);
	assert_int_not_equal(state_of(&r, "a"), WM_TASK_SUCCEEDED);
	teardown_run(&r);
}

static void test_parallel_limit(void **state)
{
	struct run r;

	(void)state;
	setup_run(&r,
		  "## a\n" BODY("true") "## b\n" BODY("true") "## c\n" BODY("true") "## d\n" BODY(
			  "true") "## e\n" BODY("true") "## f\n" BODY("true"),
		  2, false);
	go(&r);
	assert_int_equal(fake_exec_max_running(r.fx), 2);
	assert_int_equal(fake_exec_now(r.fx), 300); /* 6 x 100 ms, two at a time */
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(r.rs->tasks[i].state, WM_TASK_SUCCEEDED);
	teardown_run(&r);
}

static void test_retries_and_backoff(void **state)
{
	struct run r;
	const struct fake_attempt v[] = { { .ms = 100, .exit_code = 1 },
					  { .ms = 100, .exit_code = 1 },
					  { .ms = 100, .exit_code = 0 } };
	const struct fake_log *end1, *start2, *end2, *start3;

	(void)state;
	setup_run(&r, "## a\n- retries: 2\n- backoff: 1s\n" BODY("true"), 1, false);
	script(&r, "a", WM_ATTEMPT_BODY, v, 3);
	go(&r);
	assert_int_equal(r.rs->tasks[0].attempts, 3);
	assert_int_equal(state_of(&r, "a"), WM_TASK_SUCCEEDED);
	end1 = fake_exec_find(r.fx, FAKE_END, 0, WM_ATTEMPT_BODY, 0);
	start2 = fake_exec_find(r.fx, FAKE_START, 0, WM_ATTEMPT_BODY, 1);
	end2 = fake_exec_find(r.fx, FAKE_END, 0, WM_ATTEMPT_BODY, 1);
	start3 = fake_exec_find(r.fx, FAKE_START, 0, WM_ATTEMPT_BODY, 2);
	assert_non_null(start3);
	/* The backoff doubles (no jitter from the fake clock). */
	assert_int_equal(start2->at - end1->at, 1000);
	assert_int_equal(start3->at - end2->at, 2000);
	assert_non_null(strstr(r.events, "task.retry:a task.start:a"));
	assert_int_equal(r.rs->tasks[0].n_decisions, 3);
	assert_string_equal(r.rs->tasks[0].decisions[0].what, "retry");
	assert_string_equal(r.rs->tasks[0].decisions[2].what, "succeed");
	teardown_run(&r);
}

/* A cluster-like executor: ends are seen at the next look, never sooner,
 * and a lost attempt is retried without using the task's retries. */
static void test_polling_executor_and_lost_attempts(void **state)
{
	struct run r;
	const struct fake_attempt lost[] = {
		{ .ms = 250, .exit_code = -1, .lost = "Slurm lost it: NODE_FAIL" },
		{ .ms = 250, .exit_code = 0 },
	};
	const struct fake_attempt cancelled = { .ms = 50,
						.exit_code = -1,
						.ended_by = "cancelled in Slurm, not by wm" };
	const struct fake_log *a_end, *b_start;

	(void)state;
	setup_run(&r,
		  "## a\n" BODY("true") "## b\n- depends: a\n" BODY(
			  "true") "## c\n- retries: 2\n" BODY("true"),
		  4, true);
	fake_exec_polling(r.fx, 1000);
	script(&r, "a", WM_ATTEMPT_BODY, lost, 2);
	script(&r, "c", WM_ATTEMPT_BODY, &cancelled, 1);
	go(&r);
	/* a's first attempt was lost; the retry does not count (retries: 0). */
	assert_int_equal(state_of(&r, "a"), WM_TASK_SUCCEEDED);
	assert_int_equal(r.rs->tasks[idx(&r, "a")].attempts, 2);
	assert_int_equal(r.rs->tasks[idx(&r, "a")].lost, 1);
	assert_non_null(strstr(r.rs->tasks[idx(&r, "a")].decisions[0].why, "NODE_FAIL"));
	/* b started only once a look saw a's end: on the next look's tick. */
	a_end = fake_exec_find(r.fx, FAKE_END, idx(&r, "a"), WM_ATTEMPT_BODY, 1);
	b_start = fake_exec_find(r.fx, FAKE_START, idx(&r, "b"), WM_ATTEMPT_BODY, 0);
	assert_non_null(b_start);
	assert_true(b_start->at > a_end->at);
	assert_int_equal(b_start->at % 1000, 0);
	/* Someone else's cancel is final, even with retries left. */
	assert_int_equal(state_of(&r, "c"), WM_TASK_FAILED);
	assert_int_equal(r.rs->tasks[idx(&r, "c")].attempts, 1);
	assert_non_null(strstr(r.rs->tasks[idx(&r, "c")].decisions[0].why, "not by wm"));
	/* Looks are a handful, not one per loop round or per job. */
	assert_true(fake_exec_looks(r.fx) >= 3);
	assert_true(fake_exec_looks(r.fx) <= 8);
	teardown_run(&r);
}

/* Resume: the job an earlier orchestrator left running is watched to its
 * end, not started again; attempts are numbered on, retries are anew. */
static void test_adopt_on_resume(void **state)
{
	struct run r;
	struct wm_sched_config cfg = { 0 };
	const struct fake_attempt left = { .ms = 300, .exit_code = 0 };
	const struct fake_attempt fails = { .ms = 10, .exit_code = 1 };
	size_t a, b, c;

	(void)state;
	setup_run(&r,
		  "## a\n" BODY("true") "## b\n- retries: 1\n" BODY(
			  "true") "## c\n- depends: a\n" BODY("true"),
		  1, true);
	a = idx(&r, "a"), b = idx(&r, "b"), c = idx(&r, "c");
	/* As the checkpoint left them: a and b running their 2nd attempt. */
	r.rs->tasks[a].state = r.rs->tasks[b].state = WM_TASK_RUNNING;
	r.rs->tasks[a].attempts = r.rs->tasks[b].attempts = 2;
	fake_exec_leftover(r.fx, a, 2, &left); /* b's job is gone */
	script(&r, "b", WM_ATTEMPT_BODY, &fails, 1);
	wm_sched_free(r.s);
	cfg.wf = r.wf, cfg.dag = r.dag, cfg.rs = r.rs;
	cfg.exec = fake_exec_executor(r.fx), cfg.clock = fake_exec_clock(r.fx);
	cfg.max_parallel = 1, cfg.keep_going = true, cfg.adopt = true;
	cfg.on_event = on_event, cfg.ctx = &r;
	r.s = wm_sched_new(&cfg);
	go(&r);
	/* a: adopted (no new start of it), ended as its job did. */
	assert_non_null(fake_exec_find(r.fx, FAKE_ADOPT, a, WM_ATTEMPT_BODY, 0));
	assert_null(fake_exec_find(r.fx, FAKE_START, a, WM_ATTEMPT_BODY, 0));
	assert_int_equal(state_of(&r, "a"), WM_TASK_SUCCEEDED);
	assert_int_equal(r.rs->tasks[a].attempts, 2);
	assert_non_null(strstr(r.events, "task.adopted:a"));
	/* b: started again as attempt 3, and its one retry is still there. */
	assert_int_equal(fake_exec_find(r.fx, FAKE_START, b, WM_ATTEMPT_BODY, 0)->attempt, 3);
	assert_int_equal(fake_exec_find(r.fx, FAKE_START, b, WM_ATTEMPT_BODY, 1)->attempt, 4);
	assert_int_equal(state_of(&r, "b"), WM_TASK_FAILED);
	/* c waited for the adopted a; -j 1 was not exceeded by new starts. */
	assert_true(fake_exec_find(r.fx, FAKE_START, c, WM_ATTEMPT_BODY, 0)->at >= 300);
	assert_int_equal(state_of(&r, "c"), WM_TASK_SUCCEEDED);
	teardown_run(&r);
}

static void test_timeout(void **state)
{
	struct run r;
	const struct fake_attempt hang = { .hang = true };
	const struct fake_attempt stubborn = { .hang = true, .ignore_term = true };
	const struct fake_log *term, *kill9;

	(void)state;
	setup_run(&r,
		  "## a\n- timeout: 2s\n" BODY("sleep 9") "## b\n- timeout: 3s\n" BODY("sleep 9"),
		  2, true);
	script(&r, "a", WM_ATTEMPT_BODY, &hang, 1);
	script(&r, "b", WM_ATTEMPT_BODY, &stubborn, 1);
	go(&r);
	term = fake_exec_find(r.fx, FAKE_SIGNAL, 0, WM_ATTEMPT_BODY, 0);
	assert_non_null(term);
	assert_int_equal(term->at, 2000);
	assert_int_equal(term->sig, SIGTERM);
	assert_int_equal(state_of(&r, "a"), WM_TASK_FAILED);
	assert_string_equal(r.rs->tasks[0].limit, "timeout");
	/* b ignores SIGTERM: SIGKILL after the 2 s grace period. */
	kill9 = fake_exec_find(r.fx, FAKE_SIGNAL, 1, WM_ATTEMPT_BODY, 1);
	assert_non_null(kill9);
	assert_int_equal(kill9->sig, SIGKILL);
	assert_int_equal(kill9->at, 5000);
	assert_int_equal(state_of(&r, "b"), WM_TASK_FAILED);
	teardown_run(&r);
}

/* sla levels: each threshold reported once, from the first attempt's
 * start; the cancel level stops the task, failed and not retried. */
static void test_sla_levels(void **state)
{
	struct run r;
	const struct fake_attempt hang = { .hang = true };
	const struct fake_attempt slow = { .ms = 1500, .exit_code = 0 };
	const struct wm_task_state *a;
	const struct fake_log *term;

	(void)state;
	setup_run(&r,
		  "## a\n- sla: 1s, 2s notify, 3s cancel\n- retries: 2\n" BODY(
			  "sleep 9") "## b\n- sla: 1s\n" BODY("sleep 1.5"),
		  2, true);
	script(&r, "a", WM_ATTEMPT_BODY, &hang, 1);
	script(&r, "b", WM_ATTEMPT_BODY, &slow, 1);
	go(&r);
	term = fake_exec_find(r.fx, FAKE_SIGNAL, 0, WM_ATTEMPT_BODY, 0);
	assert_non_null(term);
	assert_int_equal(term->at, 3000);
	assert_int_equal(term->sig, SIGTERM);
	a = &r.rs->tasks[0];
	assert_int_equal(a->state, WM_TASK_FAILED);
	assert_int_equal(a->attempts, 1); /* not retried */
	assert_non_null(strstr(a->decisions[a->n_decisions - 1].why, "sla 3s exceeded"));
	assert_null(a->limit); /* not a timeout */
	assert_int_equal(state_of(&r, "b"), WM_TASK_SUCCEEDED);
	/* a: warn, notify, cancel; b: warn; nothing twice. */
	{
		size_t n = 0;
		for (const char *p = strstr(r.events, "sla.breach:"); p;
		     p = strstr(p + 1, "sla.breach:"))
			n++;
		assert_int_equal(n, 4);
	}
	teardown_run(&r);
}

static void test_conditions(void **state)
{
	struct run r;
	const struct fake_attempt fail = { .ms = 10, .exit_code = 3 };

	(void)state;
	setup_run(
		&r,
		"## a\n" BODY("false") "## ok\n- depends: a\n" BODY(
			"true") "## onfail\n- depends: "
				"a\n- condition: "
				"failure\n" BODY(
					"true") "## always\n- depends: a\n- condition: "
						"always\n" BODY(
							"true") "## "
								"nofail"
								"\n- "
								"depend"
								"s: "
								"x\n- "
								"condit"
								"ion: "
								"failur"
								"e"
								"\n" BODY("true") "## "
										  "x"
										  "\n" BODY("true"),
		1, true);
	script(&r, "a", WM_ATTEMPT_BODY, &fail, 1);
	go(&r);
	assert_int_equal(state_of(&r, "a"), WM_TASK_FAILED);
	assert_int_equal(state_of(&r, "ok"), WM_TASK_SKIPPED);
	assert_int_equal(state_of(&r, "onfail"), WM_TASK_SUCCEEDED);
	assert_int_equal(state_of(&r, "always"), WM_TASK_SUCCEEDED);
	assert_int_equal(state_of(&r, "nofail"), WM_TASK_SKIPPED);
	assert_int_equal(r.outcome, WM_RUN_FAILED);
	teardown_run(&r);
}

static void test_only_if(void **state)
{
	struct run r;
	const struct fake_attempt no = { .ms = 5, .exit_code = 1 };

	(void)state;
	setup_run(&r,
		  "## skipped\n- only_if: false\n" BODY("true") "## runs\n- only_if: true\n" BODY(
			  "true"),
		  1, false);
	script(&r, "skipped", WM_ATTEMPT_ONLY_IF, &no, 1);
	go(&r);
	assert_int_equal(state_of(&r, "skipped"), WM_TASK_SKIPPED);
	assert_null(fake_exec_find(r.fx, FAKE_START, idx(&r, "skipped"), WM_ATTEMPT_BODY, 0));
	assert_non_null(fake_exec_find(r.fx, FAKE_START, idx(&r, "runs"), WM_ATTEMPT_ONLY_IF, 0));
	assert_non_null(fake_exec_find(r.fx, FAKE_START, idx(&r, "runs"), WM_ATTEMPT_BODY, 0));
	assert_int_equal(state_of(&r, "runs"), WM_TASK_SUCCEEDED);
	teardown_run(&r);
}

static void test_keep_going(void **state)
{
	const struct fake_attempt fail = { .ms = 10, .exit_code = 1 };

	(void)state;
	for (int kg = 0; kg < 2; kg++) {
		struct run r;

		setup_run(&r, "## a\n- priority: high\n" BODY("false") "## b\n" BODY("true"), 1,
			  kg);
		script(&r, "a", WM_ATTEMPT_BODY, &fail, 1);
		go(&r);
		assert_int_equal(state_of(&r, "a"), WM_TASK_FAILED);
		assert_int_equal(state_of(&r, "b"), kg ? WM_TASK_SUCCEEDED : WM_TASK_SKIPPED);
		assert_int_equal(r.outcome, WM_RUN_FAILED);
		teardown_run(&r);
	}
}

static void test_circuit_breaker(void **state)
{
	struct run r;
	const struct fake_attempt fail = { .ms = 10, .exit_code = 1 };

	(void)state;
	setup_run(
		&r,
		"## t1\n" BODY("false") "## t2\n" BODY("false") "## t3\n" BODY(
			"false") "## t4\n" BODY("false") "## t5\n" BODY("false") "## t6\n" BODY("fa"
												"ls"
												"e") "## t7\n" BODY("true"),
		1, true);
	for (size_t i = 0; i < 6; i++)
		fake_exec_script(r.fx, i, WM_ATTEMPT_BODY, &fail, 1);
	go(&r);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(r.rs->tasks[i].state, WM_TASK_FAILED);
	assert_int_equal(state_of(&r, "t6"), WM_TASK_SKIPPED);
	assert_int_equal(state_of(&r, "t7"), WM_TASK_SKIPPED);
	assert_non_null(strstr(r.events, "breaker.open:-"));
	teardown_run(&r);
}

static void test_rollback_order(void **state)
{
	struct run r;
	const struct fake_attempt fail = { .ms = 10, .exit_code = 1 };
	size_t n;
	const struct fake_log *log;
	char order[64] = "";

	(void)state;
	setup_run(&r,
		  "---\nrollback: auto\n---\n"
		  "## a\n" BODY(
			  "true") "```sh rollback\nundo a\n```\n"
				  "## b\n- depends: a\n" BODY(
					  "true") "```sh rollback\nundo b\n```\n"
						  "## c\n- depends: b\n" BODY(
							  "true") "```sh rollback\nundo c\n```\n"
								  "## d\n- depends: c\n" BODY(
									  "false"),
		  2, false);
	script(&r, "d", WM_ATTEMPT_BODY, &fail, 1);
	go(&r);
	assert_int_equal(r.outcome, WM_RUN_FAILED);
	log = fake_exec_log(r.fx, &n);
	for (size_t i = 0; i < n; i++)
		if (log[i].what == FAKE_START && log[i].kind == WM_ATTEMPT_ROLLBACK)
			snprintf(order + strlen(order), sizeof(order) - strlen(order), "%s",
				 r.wf->tasks[log[i].task].id);
	/* Newest completion first, one at a time. */
	assert_string_equal(order, "cba");
	assert_non_null(strstr(r.events, "rollback.start:c rollback.end:c rollback.start:b"));
	teardown_run(&r);
}

static void test_cancellation(void **state)
{
	struct run r;
	const struct fake_attempt hang = { .hang = true };
	const struct fake_attempt stubborn = { .hang = true, .ignore_term = true };
	const struct fake_attempt fail = { .ms = 10, .exit_code = 1 };
	const struct fake_log *k;

	(void)state;
	setup_run(&r,
		  "## a\n" BODY("sleep 9") "## b\n" BODY(
			  "sleep 9") "## c\n- retries: 3\n- backoff: "
				     "10s\n" BODY("false") "## d\n- "
							   "depends: "
							   "a\n" BODY("tru"
								      "e"),
		  3, true);
	script(&r, "a", WM_ATTEMPT_BODY, &hang, 1);
	script(&r, "b", WM_ATTEMPT_BODY, &stubborn, 1);
	script(&r, "c", WM_ATTEMPT_BODY, &fail, 1);
	fake_exec_interrupt_at(r.fx, r.s, 500);
	go(&r);
	assert_int_equal(r.outcome, WM_RUN_INTERRUPTED);
	assert_int_equal(state_of(&r, "a"), WM_TASK_CANCELLED);
	assert_int_equal(state_of(&r, "b"), WM_TASK_CANCELLED);
	assert_int_equal(state_of(&r, "c"), WM_TASK_CANCELLED); /* was waiting to retry */
	assert_int_equal(state_of(&r, "d"), WM_TASK_SKIPPED);	/* its dependency was cancelled */
	k = fake_exec_find(r.fx, FAKE_SIGNAL, idx(&r, "b"), WM_ATTEMPT_BODY, 1);
	assert_non_null(k);
	assert_int_equal(k->sig, SIGKILL);
	assert_int_equal(k->at, 2500); /* after the grace period */
	teardown_run(&r);
}

static void test_join_node(void **state)
{
	struct run r;
	size_t n;

	(void)state;
	setup_run(&r,
		  "## a\n" BODY("true") "## b\n" BODY("true") "## join\n- depends: a, b\n"
							      "## after\n- depends: join\n" BODY(
								      "true"),
		  2, false);
	go(&r);
	assert_int_equal(state_of(&r, "join"), WM_TASK_SUCCEEDED);
	assert_int_equal(state_of(&r, "after"), WM_TASK_SUCCEEDED);
	assert_int_equal(r.outcome, WM_RUN_SUCCEEDED);
	/* Nothing ran for the join: three starts in all. */
	fake_exec_log(r.fx, &n);
	assert_null(fake_exec_find(r.fx, FAKE_START, idx(&r, "join"), WM_ATTEMPT_BODY, 0));
	assert_non_null(strstr(r.events, "decision:join"));
	assert_null(strstr(r.events, "task.start:join"));
	teardown_run(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_and_critical_path),
		cmocka_unit_test(test_parallel_limit),
		cmocka_unit_test(test_retries_and_backoff),
		cmocka_unit_test(test_polling_executor_and_lost_attempts),
		cmocka_unit_test(test_adopt_on_resume),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_sla_levels),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_only_if),
		cmocka_unit_test(test_keep_going),
		cmocka_unit_test(test_circuit_breaker),
		cmocka_unit_test(test_rollback_order),
		cmocka_unit_test(test_cancellation),
		cmocka_unit_test(test_join_node),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_barrier_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
