#include "orchestrator/scheduler.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/readyq.h"
#include "orchestrator/sched_clock.h"

#define DEFAULT_KILL_GRACE_MS 2000

enum phase {
	PH_IDLE,
	PH_ONLY_IF,
	PH_BODY,
	PH_WAIT_RETRY,
	PH_ROLLBACK,
};

/* The scheduler's own view of a task; its recorded state is in `rec`. */
struct trt {
	struct wm_task_state *rec;
	size_t deps_left;
	enum phase phase;
	bool only_if_done;
	bool kept;
	bool cancelling; /* interrupted while running: ends as cancelled */
	bool timed_out;
	bool sla_reported;
	struct wm_exec_job *job;
	uint64_t deadline; /* monotonic ms; 0: none */
	uint64_t kill_at;  /* SIGKILL after the grace period */
	uint64_t sla_at;
	uint64_t retry_at;
	uint64_t queued_ms; /* wall ms it last became ready */
	size_t active_pos;  /* index in s->active, or NOT_ACTIVE */
};

#define NOT_ACTIVE ((size_t)-1)

struct wm_sched {
	struct wm_sched_config cfg;
	struct wm_sched_clock clock;
	struct trt *t;
	struct wm_readyq ready;
	size_t *settle; /* tasks whose end must be propagated to dependents */
	size_t settle_n;
	size_t *completed; /* succeeded tasks, in completion order (rollback) */
	size_t completed_n;
	size_t *active; /* tasks with a job or waiting to retry: what the loop watches */
	size_t active_n;
	size_t running;
	size_t waiting;
	size_t rollback_left; /* rolling back: completed[0 .. rollback_left) still to do */
	bool rolling_back;
	bool stopping; /* a task failed and keep_going is off */
	bool halted;   /* circuit breaker or interrupt: nothing more starts */
	bool interrupted;
	bool any_failed;
	unsigned signals;
	uint64_t next_tick;
	struct wm_breaker breaker;
	int sfd;
	sigset_t oldmask;
	bool mask_set;
};

const char *wm_event_name(enum wm_event_type t)
{
	static const char *const names[] = {
#define WM_EVENT_NAME(e, name, boundary) name,
		WM_EVENTS(WM_EVENT_NAME)
#undef WM_EVENT_NAME
	};

	return (unsigned)t < WM_EV_COUNT ? names[t] : "unknown";
}

bool wm_event_is_boundary(enum wm_event_type t)
{
	static const bool boundary[] = {
#define WM_EVENT_BOUNDARY(e, name, b) b,
		WM_EVENTS(WM_EVENT_BOUNDARY)
#undef WM_EVENT_BOUNDARY
	};

	return (unsigned)t < WM_EV_COUNT && boundary[t];
}

void wm_exec_result_release(struct wm_exec_result *res)
{
	wm_sandbox_result_release(&res->r);
	free(res->missing_output);
	res->missing_output = NULL;
}

static uint64_t now(const struct wm_sched *s)
{
	return s->clock.mono_ms(s->clock.ctx);
}

static long long wall(const struct wm_sched *s)
{
	return (long long)s->clock.wall_ms(s->clock.ctx);
}

/* Fills in the task's attempt and state, then hands the event on. */
static void emit_ev(struct wm_sched *s, struct wm_event *ev)
{
	if (ev->task >= 0) {
		ev->attempt = s->t[ev->task].rec->attempts;
		ev->state = s->t[ev->task].rec->state;
	}
	if (s->cfg.on_event)
		s->cfg.on_event(s->cfg.ctx, ev);
}

static void emit(struct wm_sched *s, enum wm_event_type type, long task, const char *detail,
		 uint64_t ms)
{
	struct wm_event ev = { .type = type, .task = task, .detail = detail, .ms = ms };

	emit_ev(s, &ev);
}

/* Keeps s->active equal to the set of tasks with a job or waiting to
 * retry, so each event costs O(parallelism), not O(tasks). */
static void retrack(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	bool active = t->job || t->phase == PH_WAIT_RETRY;

	if (active && t->active_pos == NOT_ACTIVE) {
		t->active_pos = s->active_n;
		s->active[s->active_n++] = task;
	} else if (!active && t->active_pos != NOT_ACTIVE) {
		size_t last = s->active[--s->active_n];

		s->active[t->active_pos] = last;
		s->t[last].active_pos = t->active_pos;
		t->active_pos = NOT_ACTIVE;
	}
}

/* ---- task ends and their propagation ---- */

static bool finished(enum wm_task_status st)
{
	return st == WM_TASK_SUCCEEDED || st == WM_TASK_FAILED || st == WM_TASK_SKIPPED ||
	       st == WM_TASK_CANCELLED;
}

static void finish(struct wm_sched *s, size_t task, enum wm_task_status st)
{
	struct trt *t = &s->t[task];

	t->rec->state = st;
	t->phase = PH_IDLE;
	if (!t->rec->ended_ms)
		t->rec->ended_ms = wall(s);
	if (st == WM_TASK_SUCCEEDED)
		s->completed[s->completed_n++] = task;
	s->settle[s->settle_n++] = task;
}

static void skip(struct wm_sched *s, size_t task, const char *why)
{
	struct wm_task_state *rec = s->t[task].rec;

	rec->ended_ms = wall(s);
	finish(s, task, WM_TASK_SKIPPED);
	wm_task_add_decision(rec, wall(s), rec->attempts, "skip", why);
	emit(s, WM_EV_TASK_SKIP, (long)task, why, 0);
}

/* Decides whether a task whose dependencies have all ended may run. */
static void became_ready(struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	const struct wm_dag *g = s->cfg.dag;
	const char *bad = NULL;
	bool failed_dep = false;
	char why[300];

	for (size_t k = 0; k < wm_dag_n_deps(g, task); k++) {
		enum wm_task_status st = s->t[wm_dag_deps(g, task)[k]].rec->state;

		if (st == WM_TASK_FAILED)
			failed_dep = true;
		if (st != WM_TASK_SUCCEEDED && !bad)
			bad = s->cfg.wf->tasks[wm_dag_deps(g, task)[k]].id;
	}
	if (wt->condition == WM_COND_SUCCESS && bad) {
		snprintf(why, sizeof(why), "dependency '%s' did not succeed", bad);
		skip(s, task, why);
	} else if (wt->condition == WM_COND_FAILURE && !failed_dep) {
		skip(s, task, "condition 'failure': no dependency failed");
	} else if (s->halted && !s->interrupted) {
		skip(s, task, "the circuit breaker stopped new tasks");
	} else if (!s->interrupted) {
		s->t[task].queued_ms = (uint64_t)wall(s);
		wm_readyq_push(&s->ready, task);
	}
}

/* Propagates ended tasks to their dependents, iteratively (chains can be long). */
static void settle(struct wm_sched *s)
{
	const struct wm_dag *g = s->cfg.dag;

	while (s->settle_n) {
		size_t task = s->settle[--s->settle_n];

		for (size_t k = 0; k < wm_dag_n_dependents(g, task); k++) {
			size_t d = wm_dag_dependents(g, task)[k];

			if (s->t[d].kept || finished(s->t[d].rec->state))
				continue;
			if (--s->t[d].deps_left == 0)
				became_ready(s, d);
		}
	}
}

/* ---- decisions ---- */

static uint64_t task_timeout(const struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];

	if (wt->timeout_ms)
		return wt->timeout_ms;
	return s->cfg.policies && s->cfg.policies[task] ? s->cfg.policies[task]->limits.timeout_ms
							: 0;
}

/* Moves the task to its next state; returns true when this trips the breaker. */
static bool apply_decision(struct wm_sched *s, size_t task, const struct wm_action *d)
{
	struct trt *t = &s->t[task];
	bool tripped = false;

	switch (d->verdict) {
	case WM_VERDICT_SUCCEED:
		wm_breaker_record(&s->breaker, false);
		finish(s, task, WM_TASK_SUCCEEDED);
		break;
	case WM_VERDICT_RETRY:
		t->rec->state = WM_TASK_WAITING;
		t->phase = PH_WAIT_RETRY;
		t->retry_at = now(s) + d->delay_ms;
		s->waiting++;
		retrack(s, task);
		break;
	case WM_VERDICT_FAIL:
		s->any_failed = true;
		if (!s->cfg.keep_going)
			s->stopping = true;
		finish(s, task, WM_TASK_FAILED);
		tripped = wm_breaker_record(&s->breaker, true);
		if (tripped)
			s->halted = true;
		break;
	case WM_VERDICT_CANCEL:
		finish(s, task, WM_TASK_CANCELLED);
		break;
	}
	return tripped;
}

static void end_attempt(struct wm_sched *s, size_t task, const struct wm_outcome *o)
{
	struct trt *t = &s->t[task];
	struct wm_outcome full = *o;
	struct wm_event ev = { .type = WM_EV_DECISION, .task = (long)task };
	struct wm_action d;
	bool tripped;

	full.cancelled = full.cancelled || t->cancelling;
	full.retries = s->cfg.wf->tasks[task].retries;
	full.backoff_ms = s->cfg.wf->tasks[task].backoff_ms;
	full.jitter = s->clock.draw(s->clock.ctx);
	wm_decide(&full, &d);
	t->rec->exit_code = o->exit_code;
	t->rec->signal = o->signal;
	if (d.verdict != WM_VERDICT_RETRY)
		t->rec->ended_ms = wall(s);
	ev.action = &d;
	/* The decision event reports the state the task ends in. */
	tripped = apply_decision(s, task, &d);
	wm_task_add_decision(t->rec, wall(s), t->rec->attempts, d.what, d.why);
	emit_ev(s, &ev);
	if (d.verdict == WM_VERDICT_RETRY)
		emit(s, WM_EV_TASK_RETRY, (long)task, d.why, d.delay_ms);
	if (tripped)
		emit(s, WM_EV_BREAKER, -1, "too many consecutive task failures", 0);
}

/* A join node: no body, nothing to run; its dependencies allowed it. */
static void join(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	struct wm_action d = { .verdict = WM_VERDICT_SUCCEED, .what = "succeed" };
	struct wm_event ev = { .type = WM_EV_DECISION, .task = (long)task, .action = &d };

	snprintf(d.why, sizeof(d.why), "join node: its dependencies allow it");
	t->rec->started_ms = t->rec->ended_ms = wall(s);
	t->rec->exit_code = 0;
	apply_decision(s, task, &d);
	wm_task_add_decision(t->rec, wall(s), 0, d.what, d.why);
	emit_ev(s, &ev);
}

/* ---- attempts ---- */

/* Starts the task's next step: its only_if check, or an attempt of its
 * body (a join node has none: it succeeds at once). */
static void start_step(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	struct wm_exec_request rq = { .task = task, .kind = WM_ATTEMPT_BODY };
	struct wm_error *err = NULL;
	uint64_t timeout = task_timeout(s, task);

	if (wt->only_if && !t->only_if_done)
		rq.kind = WM_ATTEMPT_ONLY_IF;
	else if (!wt->body.lang)
		return join(s, task);
	if (rq.kind == WM_ATTEMPT_BODY) {
		t->rec->attempts++;
		free(t->rec->limit);
		t->rec->limit = NULL;
	}
	t->rec->state = WM_TASK_RUNNING;
	t->phase = rq.kind == WM_ATTEMPT_BODY ? PH_BODY : PH_ONLY_IF;
	if (!t->rec->started_ms)
		t->rec->started_ms = wall(s);
	if (rq.kind == WM_ATTEMPT_BODY)
		emit(s, WM_EV_TASK_START, (long)task, NULL, 0);
	rq.attempt = t->rec->attempts ? t->rec->attempts : 1;
	if (s->cfg.exec->ops->start(s->cfg.exec, &rq, &t->job, &err) < 0) {
		wm_autofree char *why = wm_error_text(err);
		struct wm_outcome o = { .exit_code = -1,
					.setup_error = why,
					.attempt = t->rec->attempts };

		wm_error_free(err);
		t->job = NULL;
		end_attempt(s, task, &o);
		return;
	}
	s->running++;
	retrack(s, task);
	t->timed_out = false;
	t->kill_at = 0;
	t->deadline = timeout ? now(s) + timeout : 0;
	if (wt->sla_ms && !t->sla_at && rq.kind == WM_ATTEMPT_BODY)
		t->sla_at = now(s) + wt->sla_ms;
}

/* One event per distinct denied call, with its count, and one for the
 * calls past the sandbox's cap; each also goes into the record. */
static void emit_denials(struct wm_sched *s, size_t task, const struct wm_sandbox_result *res)
{
	for (size_t i = 0; i < res->n_denied; i++) {
		struct wm_event ev = { .type = WM_EV_SECCOMP_DENIED,
				       .task = (long)task,
				       .detail = res->denied[i].name,
				       .count = res->denied[i].count };

		wm_task_add_denied(s->t[task].rec, res->denied[i].name);
		emit_ev(s, &ev);
	}
	if (res->denied_other) {
		struct wm_event ev = { .type = WM_EV_SECCOMP_SUPPRESSED,
				       .task = (long)task,
				       .count = res->denied_other };

		emit_ev(s, &ev);
	}
}

static void end_only_if(struct wm_sched *s, size_t task, const struct wm_sandbox_result *res)
{
	struct trt *t = &s->t[task];
	char why[200];

	if (res->status == 0 && !t->cancelling) {
		t->only_if_done = true;
		start_step(s, task);
	} else if (t->cancelling) {
		struct wm_outcome c = { .exit_code = -1, .cancelled = true };

		end_attempt(s, task, &c);
	} else {
		snprintf(why, sizeof(why), "only_if exited with status %d", res->status);
		skip(s, task, why);
	}
}

static void end_body(struct wm_sched *s, size_t task, const struct wm_exec_result *er)
{
	const struct wm_sandbox_result *res = &er->r;
	struct wm_event ev = { .type = WM_EV_TASK_END, .task = (long)task, .result = res };
	struct wm_outcome o = { .attempt = s->t[task].rec->attempts };

	ev.ms = res->duration_ms;
	emit_ev(s, &ev);
	emit_denials(s, task, res);
	if (res->limit != WM_LIMIT_NONE) {
		free(s->t[task].rec->limit);
		s->t[task].rec->limit = wm_xstrdup(wm_limit_name(res->limit));
		emit(s, WM_EV_LIMIT_HIT, (long)task, wm_limit_name(res->limit), 0);
	}
	o.exit_code = res->exit_code;
	o.signal = res->signal;
	o.limit = res->limit;
	o.denied = res->n_denied ? res->denied[0].name : NULL;
	o.setup_error = res->setup_error;
	o.out_error = res->out_error;
	o.missing_output = er->missing_output;
	end_attempt(s, task, &o);
}

static void reap(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	struct wm_exec_result er = { 0 };
	struct wm_error *err = NULL;
	enum phase phase = t->phase;

	if (s->cfg.exec->ops->reap(t->job, &er, &err) < 0) {
		er.r.status = WM_SANDBOX_SETUP_FAILED;
		er.r.exit_code = -1;
		er.r.setup_error = wm_error_text(err);
		wm_error_free(err);
	}
	s->cfg.exec->ops->release(t->job);
	t->job = NULL;
	s->running--;
	t->phase = PH_IDLE;
	retrack(s, task);
	if (phase == PH_ONLY_IF) {
		end_only_if(s, task, &er.r);
	} else if (phase == PH_ROLLBACK) {
		struct wm_event ev = { .type = WM_EV_ROLLBACK_END,
				       .task = (long)task,
				       .result = &er.r,
				       .ms = er.r.duration_ms };

		emit_ev(s, &ev);
	} else {
		end_body(s, task, &er);
	}
	wm_exec_result_release(&er);
}

/* ---- interruption and timers ---- */

static uint64_t grace(const struct wm_sched *s)
{
	return s->cfg.kill_grace_ms ? s->cfg.kill_grace_ms : DEFAULT_KILL_GRACE_MS;
}

static void cancel_waiting(struct wm_sched *s, size_t i)
{
	struct trt *t = &s->t[i];
	struct wm_action d = { .verdict = WM_VERDICT_CANCEL, .what = "cancel" };
	struct wm_event ev = { .type = WM_EV_DECISION, .task = (long)i, .action = &d };

	snprintf(d.why, sizeof(d.why), "cancelled while waiting to retry");
	s->waiting--;
	t->cancelling = true;
	finish(s, i, WM_TASK_CANCELLED);
	retrack(s, i);
	wm_task_add_decision(t->rec, wall(s), t->rec->attempts, d.what, d.why);
	emit_ev(s, &ev);
}

void wm_sched_interrupt(struct wm_sched *s)
{
	s->signals++;
	if (!s->interrupted)
		emit(s, WM_EV_INTERRUPT, -1, "stopping: running tasks get SIGTERM", 0);
	s->interrupted = true;
	s->halted = true;
	for (size_t k = s->active_n; k-- > 0;) {
		size_t i = s->active[k];
		struct trt *t = &s->t[i];

		if (t->job) {
			t->cancelling = true;
			/* A second interrupt does not wait for the grace period. */
			s->cfg.exec->ops->terminate(t->job, WM_LIMIT_NONE,
						    s->signals > 1 ? SIGKILL : SIGTERM);
			if (!t->kill_at)
				t->kill_at = now(s) + grace(s);
		} else if (t->phase == PH_WAIT_RETRY) {
			cancel_waiting(s, i);
		}
	}
}

static void on_task_timers(struct wm_sched *s, size_t i, uint64_t at)
{
	struct trt *t = &s->t[i];

	if (t->phase == PH_WAIT_RETRY && at >= t->retry_at) {
		t->phase = PH_IDLE;
		s->waiting--;
		retrack(s, i);
		t->queued_ms = (uint64_t)wall(s);
		wm_readyq_push(&s->ready, i);
		return;
	}
	if (!t->job)
		return;
	if (t->deadline && at >= t->deadline && !t->timed_out) {
		t->timed_out = true;
		s->cfg.exec->ops->terminate(t->job, WM_LIMIT_TIMEOUT, SIGTERM);
		t->kill_at = at + grace(s);
	}
	if (t->kill_at && at >= t->kill_at) {
		s->cfg.exec->ops->terminate(t->job, t->timed_out ? WM_LIMIT_TIMEOUT : WM_LIMIT_NONE,
					    SIGKILL);
		t->kill_at = 0;
	}
	if (t->sla_at && at >= t->sla_at && !t->sla_reported) {
		t->sla_reported = true;
		emit(s, WM_EV_SLA_BREACH, (long)i, NULL, s->cfg.wf->tasks[i].sla_ms);
	}
}

static void on_timers(struct wm_sched *s)
{
	uint64_t at = now(s);

	if (s->cfg.tick_ms && at >= s->next_tick) {
		s->next_tick = at + s->cfg.tick_ms;
		emit(s, WM_EV_TICK, -1, NULL, 0);
	}
	for (size_t k = s->active_n; k-- > 0;)
		on_task_timers(s, s->active[k], at);
}

static uint64_t next_timer(const struct wm_sched *s)
{
	uint64_t next = s->running && s->cfg.tick_ms ? s->next_tick : 0;

	for (size_t k = 0; k < s->active_n; k++) {
		const struct trt *t = &s->t[s->active[k]];
		uint64_t c[4] = { t->phase == PH_WAIT_RETRY ? t->retry_at : 0,
				  t->job && !t->timed_out ? t->deadline : 0,
				  t->job ? t->kill_at : 0,
				  t->job && !t->sla_reported ? t->sla_at : 0 };

		for (int j = 0; j < 4; j++)
			if (c[j] && (!next || c[j] < next))
				next = c[j];
	}
	return next;
}

/* ---- launching ---- */

/* Asks on the terminal before a task starts: 'r'un, 's'kip or 'a'bort. */
static char ask(const struct wm_sched *s, size_t task)
{
	wm_autofclose FILE *tty = fopen("/dev/tty", "r+e");
	char line[32];

	if (!tty)
		return 'r';
	fprintf(tty, "wm: run task '%s'? [r]un, [s]kip, [a]bort: ", s->cfg.wf->tasks[task].id);
	fflush(tty);
	if (!fgets(line, sizeof(line), tty))
		return 'a';
	return line[0] == 's' || line[0] == 'a' ? line[0] : 'r';
}

/* false when the prompt said to stop launching. */
static bool may_start(struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	char c;

	if (s->stopping && wt->condition == WM_COND_SUCCESS && s->t[task].rec->attempts == 0) {
		skip(s, task, "not started: a task failed and keep_going is off");
		return true;
	}
	if (!s->cfg.interactive || s->t[task].rec->attempts != 0 || !wt->body.lang) {
		start_step(s, task);
		return true;
	}
	c = ask(s, task);
	if (c == 's') {
		skip(s, task, "skipped at the prompt");
	} else if (c == 'a') {
		wm_readyq_push(&s->ready, task);
		wm_sched_interrupt(s);
		return false;
	} else {
		start_step(s, task);
	}
	return true;
}

static void launch_ready(struct wm_sched *s)
{
	while (s->ready.n && !s->halted && s->running < s->cfg.max_parallel) {
		bool go_on = may_start(s, wm_readyq_pop(&s->ready));

		settle(s);
		if (!go_on)
			break;
	}
}

/* Rolling back: the next rollback block, newest completion first, one at
 * a time, through the same loop as tasks. */
static void launch_rollback(struct wm_sched *s)
{
	struct wm_error *err = NULL;

	while (!s->running && s->rollback_left && !s->interrupted) {
		size_t task = s->completed[--s->rollback_left];
		struct trt *t = &s->t[task];
		struct wm_exec_request rq = { .task = task,
					      .kind = WM_ATTEMPT_ROLLBACK,
					      .attempt = 1 };
		uint64_t timeout = task_timeout(s, task);

		if (!s->cfg.wf->tasks[task].rollback.lang)
			continue;
		emit(s, WM_EV_ROLLBACK_START, (long)task, NULL, 0);
		if (s->cfg.exec->ops->start(s->cfg.exec, &rq, &t->job, &err) < 0) {
			struct wm_sandbox_result res = { .status = WM_SANDBOX_SETUP_FAILED,
							 .exit_code = -1,
							 .setup_error = wm_error_text(err) };
			struct wm_event ev = { .type = WM_EV_ROLLBACK_END,
					       .task = (long)task,
					       .result = &res };

			wm_error_free(err);
			err = NULL;
			t->job = NULL;
			emit_ev(s, &ev);
			wm_sandbox_result_release(&res);
			continue;
		}
		t->phase = PH_ROLLBACK;
		t->timed_out = false;
		t->kill_at = 0;
		t->deadline = timeout ? now(s) + timeout : 0;
		s->running++;
		retrack(s, task);
	}
}

/* ---- the loop ---- */

static void on_signal(struct wm_sched *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wm_sched_interrupt(s);
}

/* The poll set: the signalfd (if any), then each running task's job's fds. */
struct pollset {
	struct pollfd *pfd;
	size_t *first; /* per group: index of its first fd */
	size_t *count;
	size_t *task;
	size_t n, groups;
};

static void pollset_fill(struct wm_sched *s, struct pollset *ps)
{
	ps->n = 0;
	ps->groups = 0;
	if (s->sfd >= 0)
		ps->pfd[ps->n++] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
	for (size_t k = 0; k < s->active_n; k++) {
		size_t i = s->active[k];

		if (!s->t[i].job)
			continue;
		ps->first[ps->groups] = ps->n;
		ps->task[ps->groups] = i;
		ps->count[ps->groups] = s->cfg.exec->ops->fds(s->t[i].job, ps->pfd + ps->n);
		ps->n += ps->count[ps->groups++];
	}
}

/* Waits for one round of events and handles them. */
static int poll_once(struct wm_sched *s, struct pollset *ps, struct wm_error **err)
{
	pollset_fill(s, ps);
	if (s->clock.wait(s->clock.ctx, ps->pfd, ps->n, next_timer(s)) < 0)
		return wm_error_set(err, errno, "poll");
	if (s->sfd >= 0 && ps->pfd[0].revents)
		on_signal(s);
	for (size_t g = 0; g < ps->groups; g++) {
		struct trt *t = &s->t[ps->task[g]];

		if (t->job && s->cfg.exec->ops->serve(t->job, ps->pfd + ps->first[g], ps->count[g]))
			reap(s, ps->task[g]);
	}
	on_timers(s);
	settle(s);
	return 0;
}

static bool busy(const struct wm_sched *s)
{
	if (s->rolling_back)
		return s->running || (s->rollback_left && !s->interrupted);
	return s->running || s->waiting || (s->ready.n && !s->halted);
}

static int loop(struct wm_sched *s, struct pollset *ps, struct wm_error **err)
{
	for (;;) {
		if (s->rolling_back)
			launch_rollback(s);
		else
			launch_ready(s);
		if (!busy(s))
			return 0;
		if (poll_once(s, ps, err) < 0)
			return -1;
	}
}

static void rollback(struct wm_sched *s, struct pollset *ps, struct wm_error **err)
{
	if (s->cfg.wf->rollback == WM_ROLLBACK_MANUAL) {
		for (size_t k = s->completed_n; k-- > 0;) {
			const struct wm_task *wt = &s->cfg.wf->tasks[s->completed[k]];

			if (wt->rollback.lang)
				emit(s, WM_EV_ROLLBACK_MANUAL, (long)s->completed[k],
				     wt->rollback.text, 0);
		}
		return;
	}
	s->rolling_back = true;
	s->rollback_left = s->completed_n;
	loop(s, ps, err);
}

/* ---- lifecycle ---- */

struct wm_sched *wm_sched_new(const struct wm_sched_config *cfg)
{
	struct wm_sched *s = wm_xcalloc(1, sizeof(*s));
	size_t n = cfg->dag->n ? cfg->dag->n : 1;

	s->cfg = *cfg;
	s->clock = cfg->clock ? *cfg->clock : wm_sched_real_clock;
	if (!s->cfg.max_parallel)
		s->cfg.max_parallel = 1;
	s->t = wm_xcalloc(n, sizeof(*s->t));
	wm_readyq_init(&s->ready, cfg->wf, cfg->dag);
	s->settle = wm_xcalloc(n, sizeof(*s->settle));
	s->completed = wm_xcalloc(n, sizeof(*s->completed));
	s->active = wm_xcalloc(n, sizeof(*s->active));
	for (size_t i = 0; i < cfg->dag->n; i++) {
		s->t[i].active_pos = NOT_ACTIVE;
		s->t[i].rec = &cfg->rs->tasks[i];
	}
	s->sfd = -1;
	return s;
}

/* Tasks kept from an earlier run count as succeeded, in the order given. */
void wm_sched_keep(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];

	if (t->kept)
		return;
	t->kept = true;
	t->rec->state = WM_TASK_SUCCEEDED;
	t->rec->exit_code = 0;
	s->completed[s->completed_n++] = task;
}

uint64_t wm_sched_queued_ms(const struct wm_sched *s, size_t task)
{
	return s->t[task].queued_ms;
}

static int setup_signals(struct wm_sched *s, struct wm_error **err)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &s->oldmask) < 0)
		return wm_error_set(err, errno, "block signals");
	s->mask_set = true;
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sfd < 0)
		return wm_error_set(err, errno, "signalfd");
	return 0;
}

/* Every task that runs starts from a clean record (resume reruns some);
 * their decisions and denials stay as history. */
static void seed(struct wm_sched *s)
{
	const struct wm_dag *g = s->cfg.dag;

	for (size_t i = 0; i < g->n; i++) {
		struct wm_task_state *rec = s->t[i].rec;

		if (s->t[i].kept)
			continue;
		rec->state = WM_TASK_PENDING;
		rec->attempts = 0;
		rec->exit_code = -1;
		rec->signal = 0;
		rec->started_ms = rec->ended_ms = 0;
		free(rec->limit);
		rec->limit = NULL;
		s->t[i].deps_left = 0;
		for (size_t k = 0; k < wm_dag_n_deps(g, i); k++)
			if (!s->t[wm_dag_deps(g, i)[k]].kept)
				s->t[i].deps_left++;
	}
	for (size_t i = 0; i < g->n; i++)
		if (!s->t[i].kept && s->t[i].deps_left == 0)
			became_ready(s, i);
	settle(s);
}

int wm_sched_run(struct wm_sched *s, enum wm_run_status *outcome, struct wm_error **err)
{
	size_t groups = (size_t)s->cfg.max_parallel;
	wm_autofree struct pollfd *pfd = wm_xcalloc(1 + WM_EXEC_MAX_FDS * groups, sizeof(*pfd));
	wm_autofree size_t *first = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *count = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *owner = wm_xcalloc(groups, sizeof(size_t));
	struct pollset ps = { .pfd = pfd, .first = first, .count = count, .task = owner };

	if (!s->cfg.clock && setup_signals(s, err) < 0)
		return -1;
	s->next_tick = now(s);
	seed(s);
	if (loop(s, &ps, err) < 0)
		return -1;
	/* The breaker leaves tasks that never became ready: they will not run now. */
	for (size_t i = 0; i < s->cfg.dag->n && s->halted && !s->interrupted; i++)
		if (s->t[i].rec->state == WM_TASK_PENDING && !s->t[i].kept)
			skip(s, i, "the circuit breaker stopped new tasks");
	if (s->interrupted)
		*outcome = WM_RUN_INTERRUPTED;
	else if (s->any_failed)
		*outcome = WM_RUN_FAILED;
	else
		*outcome = WM_RUN_SUCCEEDED;
	if (*outcome == WM_RUN_FAILED && s->cfg.wf->rollback != WM_ROLLBACK_OFF)
		rollback(s, &ps, err);
	return 0;
}

void wm_sched_free(struct wm_sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cfg.dag->n; i++)
		if (s->t[i].job)
			s->cfg.exec->ops->release(s->t[i].job);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->mask_set)
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	free(s->t);
	wm_readyq_release(&s->ready);
	free(s->settle);
	free(s->completed);
	free(s->active);
	free(s);
}
