#include "orchestrator/scheduler.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/sched_clock.h"
#include "orchestrator/sched_internal.h"

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

uint64_t sch_now(const struct wm_sched *s)
{
	return s->clock.mono_ms(s->clock.ctx);
}

long long sch_wall(const struct wm_sched *s)
{
	return (long long)s->clock.wall_ms(s->clock.ctx);
}

/* Fills in the task's attempt and state, then hands the event on. */
void sch_emit_ev(struct wm_sched *s, struct wm_event *ev)
{
	if (ev->task >= 0) {
		ev->attempt = s->t[ev->task].rec->attempts;
		ev->state = s->t[ev->task].rec->state;
	}
	if (s->cfg.on_event)
		s->cfg.on_event(s->cfg.ctx, ev);
}

bool sch_barrier(struct wm_sched *s)
{
	return !s->cfg.barrier || s->cfg.barrier(s->cfg.ctx);
}

int sch_start_job(struct wm_sched *s, const struct wm_exec_request *rq, struct wm_exec_job **job,
		  struct wm_error **err)
{
	if (!sch_barrier(s))
		return wm_error_setx(err, WM_EXIT_FAILED,
				     "not started: the run could not be recorded");
	return s->cfg.exec->ops->start(s->cfg.exec, rq, job, err);
}

void sch_emit(struct wm_sched *s, enum wm_event_type type, long task, const char *detail,
	      uint64_t ms)
{
	struct wm_event ev = { .type = type, .task = task, .detail = detail, .ms = ms };

	sch_emit_ev(s, &ev);
}

/* Keeps s->active equal to the set of tasks with a job or waiting to
 * retry, so each event costs O(parallelism), not O(tasks). */
void sch_retrack(struct wm_sched *s, size_t task)
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
	return wm_task_status_ok(st) || st == WM_TASK_FAILED || st == WM_TASK_SKIPPED ||
	       st == WM_TASK_CANCELLED;
}

void sch_finish(struct wm_sched *s, size_t task, enum wm_task_status st)
{
	struct trt *t = &s->t[task];

	t->rec->state = st;
	t->phase = PH_IDLE;
	if (!t->rec->ended_ms)
		t->rec->ended_ms = sch_wall(s);
	if (st == WM_TASK_SUCCEEDED)
		s->completed[s->completed_n++] = task;
	s->settle[s->settle_n++] = task;
}

void sch_skip(struct wm_sched *s, size_t task, const char *why)
{
	struct wm_task_state *rec = s->t[task].rec;

	rec->ended_ms = sch_wall(s);
	sch_finish(s, task, WM_TASK_SKIPPED);
	wm_task_add_decision(rec, sch_wall(s), rec->attempts, "skip", why);
	sch_emit(s, WM_EV_TASK_SKIP, (long)task, why, 0);
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
		if (!wm_task_status_ok(st) && !bad)
			bad = s->cfg.wf->tasks[wm_dag_deps(g, task)[k]].id;
	}
	if (wt->condition == WM_COND_SUCCESS && bad) {
		snprintf(why, sizeof(why), "dependency '%s' did not succeed", bad);
		sch_skip(s, task, why);
	} else if (wt->condition == WM_COND_FAILURE && !failed_dep) {
		sch_skip(s, task, "condition 'failure': no dependency failed");
	} else if (s->halted && !s->interrupted) {
		sch_skip(s, task, "the circuit breaker stopped new tasks");
	} else if (!s->interrupted) {
		s->t[task].queued_ms = (uint64_t)sch_wall(s);
		wm_readyq_push(&s->ready, task);
	}
}

/* Propagates ended tasks to their dependents, iteratively (chains can be long). */
void sch_settle(struct wm_sched *s)
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

uint64_t sch_task_timeout(const struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];

	if (wt->timeout_ms)
		return wt->timeout_ms;
	return s->cfg.policies && s->cfg.policies[task] ? s->cfg.policies[task]->limits.timeout_ms
							: 0;
}

/* The executor times the task out itself (a cluster node does). */
bool sch_times_out(const struct wm_sched *s, size_t task)
{
	const struct wm_executor *ex = s->cfg.exec;

	return ex->ops->times_out && ex->ops->times_out(ex, task);
}

/* Moves the task to its next state; returns true when this trips the breaker. */
static bool apply_decision(struct wm_sched *s, size_t task, const struct wm_action *d)
{
	struct trt *t = &s->t[task];
	bool tripped = false;

	switch (d->verdict) {
	case WM_VERDICT_SUCCEED:
		wm_breaker_record(&s->breaker, false);
		sch_finish(s, task, WM_TASK_SUCCEEDED);
		break;
	case WM_VERDICT_RETRY:
		if (d->lost)
			t->rec->lost++;
		t->rec->state = WM_TASK_WAITING;
		t->phase = PH_WAIT_RETRY;
		t->retry_at = sch_now(s) + d->delay_ms;
		s->waiting++;
		sch_retrack(s, task);
		break;
	case WM_VERDICT_FAIL:
		s->any_failed = true;
		if (!s->cfg.keep_going)
			s->stopping = true;
		sch_finish(s, task, WM_TASK_FAILED);
		tripped = wm_breaker_record(&s->breaker, true);
		if (tripped)
			s->halted = true;
		break;
	case WM_VERDICT_CANCEL:
		sch_finish(s, task, WM_TASK_CANCELLED);
		break;
	}
	return tripped;
}

static void end_attempt(struct wm_sched *s, size_t task, const struct wm_outcome *o)
{
	struct trt *t = &s->t[task];
	struct wm_outcome full = *o;
	struct wm_event ev = { .type = WM_EV_DECISION, .task = (long)task };
	char sla_why[64];
	struct wm_action d;
	bool tripped;

	full.cancelled = full.cancelled || t->cancelling;
	if (t->sla_cancel) {
		wm_autofree char *limit =
			wm_format_duration(s->cfg.wf->tasks[task].sla.ms[WM_SLA_CANCEL]);

		snprintf(sla_why, sizeof(sla_why), "sla %s exceeded", limit);
		full.ended_by = sla_why;
		t->sla_cancel = false;
	}
	full.attempt = o->attempt - t->base_attempts;
	full.base = t->base_attempts;
	full.lost_before = t->rec->lost - t->base_lost;
	full.retries = s->cfg.wf->tasks[task].retries;
	full.backoff_ms = s->cfg.wf->tasks[task].backoff_ms;
	full.jitter = s->clock.draw(s->clock.ctx);
	wm_decide(&full, &d);
	t->rec->exit_code = o->exit_code;
	t->rec->signal = o->signal;
	if (d.verdict != WM_VERDICT_RETRY)
		t->rec->ended_ms = sch_wall(s);
	ev.action = &d;
	/* The decision event reports the state the task ends in. */
	tripped = apply_decision(s, task, &d);
	wm_task_add_decision(t->rec, sch_wall(s), t->rec->attempts, d.what, d.why);
	sch_emit_ev(s, &ev);
	if (d.verdict == WM_VERDICT_RETRY)
		sch_emit(s, WM_EV_TASK_RETRY, (long)task, d.why, d.delay_ms);
	if (tripped)
		sch_emit(s, WM_EV_BREAKER, -1, "too many consecutive task failures", 0);
}

/* A join node: no body, nothing to run; its dependencies allowed it. */
static void join(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	struct wm_action d = { .verdict = WM_VERDICT_SUCCEED, .what = "succeed" };
	struct wm_event ev = { .type = WM_EV_DECISION, .task = (long)task, .action = &d };

	snprintf(d.why, sizeof(d.why), "join node: its dependencies allow it");
	t->rec->started_ms = t->rec->ended_ms = sch_wall(s);
	t->rec->exit_code = 0;
	t->rec->kept = false;
	apply_decision(s, task, &d);
	wm_task_add_decision(t->rec, sch_wall(s), 0, d.what, d.why);
	sch_emit_ev(s, &ev);
}

/* Restored from the task cache: what depends on it sees its outputs. */
static void cached(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	char why[300];

	snprintf(why, sizeof(why), "reusing run %s", t->rec->cache_run ? t->rec->cache_run : "?");
	t->rec->started_ms = t->rec->ended_ms = sch_wall(s);
	t->rec->exit_code = 0;
	t->rec->kept = false;
	sch_finish(s, task, WM_TASK_CACHED);
	wm_task_add_decision(t->rec, sch_wall(s), 0, "cached", why);
	sch_emit(s, WM_EV_TASK_CACHED, (long)task, t->rec->cache_run, 0);
}

/* ---- attempts ---- */

/* Starts the task's next step: its only_if check, or an attempt of its
 * body (a join node has none: it succeeds at once). */
void sch_start_step(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	struct wm_exec_request rq = { .task = task, .kind = WM_ATTEMPT_BODY };
	struct wm_error *err = NULL;
	uint64_t timeout = sch_task_timeout(s, task);

	if (wt->only_if && !t->only_if_done)
		rq.kind = WM_ATTEMPT_ONLY_IF;
	else if (!wt->body.lang)
		return join(s, task);
	else if (t->rec->attempts == t->base_attempts && s->cfg.cache_restore &&
		 s->cfg.cache_restore(s->cfg.ctx, task))
		return cached(s, task);
	if (rq.kind == WM_ATTEMPT_BODY) {
		t->rec->attempts++;
		free(t->rec->limit);
		t->rec->limit = NULL;
	}
	t->rec->state = WM_TASK_RUNNING;
	t->rec->kept = false;
	t->phase = rq.kind == WM_ATTEMPT_BODY ? PH_BODY : PH_ONLY_IF;
	if (!t->rec->started_ms)
		t->rec->started_ms = sch_wall(s);
	if (rq.kind == WM_ATTEMPT_BODY)
		sch_emit(s, WM_EV_TASK_START, (long)task, NULL, 0);
	rq.attempt = t->rec->attempts ? t->rec->attempts : 1;
	if (sch_start_job(s, &rq, &t->job, &err) < 0) {
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
	sch_retrack(s, task);
	t->timed_out = false;
	t->kill_at = 0;
	t->deadline = timeout && !sch_times_out(s, task) ? sch_now(s) + timeout : 0;
	if (!t->sla_started && rq.kind == WM_ATTEMPT_BODY) {
		t->sla_started = true;
		t->sla_start = sch_now(s);
	}
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
		sch_emit_ev(s, &ev);
	}
	if (res->denied_other) {
		struct wm_event ev = { .type = WM_EV_SECCOMP_SUPPRESSED,
				       .task = (long)task,
				       .count = res->denied_other };

		sch_emit_ev(s, &ev);
	}
}

static void end_only_if(struct wm_sched *s, size_t task, const struct wm_sandbox_result *res)
{
	struct trt *t = &s->t[task];
	char why[200];

	if (res->status == 0 && !t->cancelling) {
		t->only_if_done = true;
		sch_start_step(s, task);
	} else if (t->cancelling) {
		struct wm_outcome c = { .exit_code = -1, .cancelled = true };

		end_attempt(s, task, &c);
	} else {
		snprintf(why, sizeof(why), "only_if exited with status %d", res->status);
		sch_skip(s, task, why);
	}
}

static void end_body(struct wm_sched *s, size_t task, const struct wm_exec_result *er)
{
	const struct wm_sandbox_result *res = &er->r;
	struct wm_event ev = { .type = WM_EV_TASK_END, .task = (long)task, .result = res };
	struct wm_outcome o = { .attempt = s->t[task].rec->attempts };

	ev.ms = res->duration_ms;
	sch_emit_ev(s, &ev);
	emit_denials(s, task, res);
	if (res->limit != WM_LIMIT_NONE) {
		free(s->t[task].rec->limit);
		s->t[task].rec->limit = wm_xstrdup(wm_limit_name(res->limit));
		sch_emit(s, WM_EV_LIMIT_HIT, (long)task, wm_limit_name(res->limit), 0);
	}
	o.exit_code = res->exit_code;
	o.signal = res->signal;
	o.limit = res->limit;
	o.denied = res->n_denied ? res->denied[0].name : NULL;
	o.setup_error = res->setup_error;
	o.out_error = res->out_error;
	o.missing_output = er->missing_output;
	o.note = er->note;
	if (er->free_retry)
		o.lost = er->reason ? er->reason : "lost by the executor";
	else
		o.ended_by = er->reason;
	end_attempt(s, task, &o);
}

void sch_reap(struct wm_sched *s, size_t task)
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
	sch_retrack(s, task);
	if (phase == PH_ONLY_IF) {
		end_only_if(s, task, &er.r);
	} else if (phase == PH_ROLLBACK) {
		struct wm_event ev = { .type = WM_EV_ROLLBACK_END,
				       .task = (long)task,
				       .result = &er.r,
				       .ms = er.r.duration_ms };

		sch_emit_ev(s, &ev);
	} else {
		end_body(s, task, &er);
	}
	wm_exec_result_release(&er);
}

/* ---- lifecycle ---- */

struct wm_sched *wm_sched_new(const struct wm_sched_config *cfg)
{
	struct wm_sched *s = wm_xcalloc(1, sizeof(*s));
	size_t n = cfg->dag->n ? cfg->dag->n : 1;

	s->cfg = *cfg;
	s->asking = -1;
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
	t->rec->kept = true;
	t->rec->state = WM_TASK_SUCCEEDED;
	t->rec->exit_code = 0;
	s->completed[s->completed_n++] = task;
}

uint64_t wm_sched_queued_ms(const struct wm_sched *s, size_t task)
{
	return s->t[task].queued_ms;
}

int sch_setup_signals(struct wm_sched *s, struct wm_error **err)
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

/* Resume: takes back the job of the attempt an earlier orchestrator left
 * running, when the executor can (a cluster's jobs outlive wm). */
static bool adopt(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	struct wm_exec_request rq = { .task = task, .kind = WM_ATTEMPT_BODY };
	struct wm_error *err = NULL;
	struct wm_event ev = { .type = WM_EV_TASK_ADOPTED, .task = (long)task };
	wm_autofree char *what = NULL;
	uint64_t timeout;
	int rc;

	if (!s->cfg.adopt || !s->cfg.exec->ops->adopt || t->rec->state != WM_TASK_RUNNING)
		return false;
	/* No attempt of the body yet: its only_if check was running. */
	if (t->rec->attempts == 0 && !wt->only_if)
		return false;
	rq.kind = t->rec->attempts ? WM_ATTEMPT_BODY : WM_ATTEMPT_ONLY_IF;
	rq.attempt = t->rec->attempts ? t->rec->attempts : 1;
	rc = s->cfg.exec->ops->adopt(s->cfg.exec, &rq, &t->job, &what, &err);
	if (rc < 0) {
		/* Not fatal: the attempt runs again, and the log says why. */
		what = wm_error_text(err);
		wm_error_free(err);
		sch_emit(s, WM_EV_ADOPT_FAILED, (long)task, what, 0);
		return false;
	}
	if (rc == 0)
		return false;
	if (rq.kind == WM_ATTEMPT_BODY)
		t->base_attempts = rq.attempt - 1;
	t->phase = rq.kind == WM_ATTEMPT_BODY ? PH_BODY : PH_ONLY_IF;
	s->running++;
	sch_retrack(s, task);
	timeout = sch_task_timeout(s, task);
	t->deadline = timeout && !sch_times_out(s, task) ? sch_now(s) + timeout : 0;
	ev.detail = what;
	sch_emit_ev(s, &ev);
	return true;
}

/* Every task that runs starts from a clean record (resume reruns some);
 * their decisions and denials stay as history, and attempts are numbered
 * on from the earlier run's. */
void sch_seed(struct wm_sched *s)
{
	const struct wm_dag *g = s->cfg.dag;

	for (size_t i = 0; i < g->n; i++) {
		struct wm_task_state *rec = s->t[i].rec;

		if (s->t[i].kept)
			continue;
		s->t[i].base_attempts = rec->attempts;
		s->t[i].base_lost = rec->lost;
		s->t[i].deps_left = 0;
		for (size_t k = 0; k < wm_dag_n_deps(g, i); k++)
			if (!s->t[wm_dag_deps(g, i)[k]].kept)
				s->t[i].deps_left++;
		if (s->t[i].deps_left == 0 && adopt(s, i))
			continue;
		rec->state = WM_TASK_PENDING;
		rec->exit_code = -1;
		rec->signal = 0;
		rec->started_ms = rec->ended_ms = 0;
		free(rec->limit);
		rec->limit = NULL;
	}
	for (size_t i = 0; i < g->n; i++)
		if (!s->t[i].kept && !s->t[i].job && s->t[i].deps_left == 0)
			became_ready(s, i);
	sch_settle(s);
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
	wm_prompt_close(s->prompt);
	free(s->t);
	wm_readyq_release(&s->ready);
	free(s->settle);
	free(s->completed);
	free(s->active);
	free(s);
}
