/*
 * sched_loop.c - the scheduler's event loop: waiting, timers (timeouts,
 * grace periods, backoff, SLAs, ticks), interruption, launching ready
 * tasks, and rolling back through the same loop. See scheduler.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/sched_internal.h"

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
	sch_finish(s, i, WM_TASK_CANCELLED);
	sch_retrack(s, i);
	wm_task_add_decision(t->rec, sch_wall(s), t->rec->attempts, d.what, d.why);
	sch_emit_ev(s, &ev);
}

void wm_sched_interrupt(struct wm_sched *s)
{
	s->signals++;
	if (!s->interrupted)
		sch_emit(s, WM_EV_INTERRUPT, -1, "stopping: running tasks get SIGTERM", 0);
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
				t->kill_at = sch_now(s) + grace(s);
		} else if (t->phase == PH_WAIT_RETRY) {
			cancel_waiting(s, i);
		}
	}
}

/* The task's `sla` thresholds that passed: each reported once, the cancel
 * level also stops the attempt (end_attempt fails it with the reason). */
static void sla_timers(struct wm_sched *s, size_t i, uint64_t at)
{
	struct trt *t = &s->t[i];
	const struct wm_sla *sla = &s->cfg.wf->tasks[i].sla;

	for (int l = 0; l < WM_SLA_LEVEL_COUNT; l++) {
		if (!sla->ms[l] || (t->sla_done & (1u << l)) || at < t->sla_start + sla->ms[l])
			continue;
		t->sla_done |= 1u << l;
		sch_emit(s, WM_EV_SLA_BREACH, (long)i, wm_sla_level_name((enum wm_sla_level)l),
			 sla->ms[l]);
		if (l == WM_SLA_CANCEL && !t->cancelling) {
			t->sla_cancel = true;
			s->cfg.exec->ops->terminate(t->job, WM_LIMIT_NONE, SIGTERM);
			if (!t->kill_at)
				t->kill_at = at + grace(s);
		}
	}
}

/* The next `sla` threshold of a running task; 0: none left. */
static uint64_t sla_next(const struct wm_sched *s, size_t i)
{
	const struct trt *t = &s->t[i];
	const struct wm_sla *sla = &s->cfg.wf->tasks[i].sla;
	uint64_t next = 0;

	for (int l = 0; t->sla_started && l < WM_SLA_LEVEL_COUNT; l++)
		if (sla->ms[l] && !(t->sla_done & (1u << l)) &&
		    (!next || t->sla_start + sla->ms[l] < next))
			next = t->sla_start + sla->ms[l];
	return next;
}

static void on_task_timers(struct wm_sched *s, size_t i, uint64_t at)
{
	struct trt *t = &s->t[i];

	if (t->phase == PH_WAIT_RETRY && at >= t->retry_at) {
		t->phase = PH_IDLE;
		s->waiting--;
		sch_retrack(s, i);
		t->queued_ms = (uint64_t)sch_wall(s);
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
	if (t->sla_started)
		sla_timers(s, i, at);
}

static void on_timers(struct wm_sched *s)
{
	uint64_t at = sch_now(s);

	if (s->cfg.tick_ms && at >= s->next_tick) {
		s->next_tick = at + s->cfg.tick_ms;
		sch_emit(s, WM_EV_TICK, -1, NULL, 0);
	}
	for (size_t k = s->active_n; k-- > 0;)
		on_task_timers(s, s->active[k], at);
}

static uint64_t next_timer(const struct wm_sched *s)
{
	const struct wm_executor *ex = s->cfg.exec;
	uint64_t next = s->running && s->cfg.tick_ms ? s->next_tick : 0;

	if (s->running && ex->ops->wakeup) {
		uint64_t w = ex->ops->wakeup(s->cfg.exec);

		if (w && (!next || w < next))
			next = w;
	}

	for (size_t k = 0; k < s->active_n; k++) {
		const struct trt *t = &s->t[s->active[k]];
		uint64_t c[4] = { t->phase == PH_WAIT_RETRY ? t->retry_at : 0,
				  t->job && !t->timed_out ? t->deadline : 0,
				  t->job ? t->kill_at : 0, t->job ? sla_next(s, s->active[k]) : 0 };

		for (int j = 0; j < 4; j++)
			if (c[j] && (!next || c[j] < next))
				next = c[j];
	}
	return next;
}

/* ---- launching ---- */

/* The prompt's answer about s->asking: run it, skip it, or stop. */
static void on_answer(struct wm_sched *s)
{
	size_t task = (size_t)s->asking;
	char c = wm_prompt_answer(s->prompt, s->cfg.wf->tasks[task].id);

	if (!c)
		return; /* no key yet, or another: asked again */
	s->asking = -1;
	if (c == 's') {
		sch_skip(s, task, "skipped at the prompt");
	} else if (c == 'a') {
		wm_readyq_push(&s->ready, task);
		wm_sched_interrupt(s);
	} else {
		sch_start_step(s, task);
	}
	sch_settle(s);
}

/* false when launching must wait (a question is open). */
static bool may_start(struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	bool started = s->t[task].rec->attempts != s->t[task].base_attempts;

	if (s->stopping && wt->condition == WM_COND_SUCCESS && !started) {
		sch_skip(s, task, "not started: a task failed and keep_going is off");
		return true;
	}
	if (!s->cfg.interactive || !s->prompt || started || !wt->body.lang) {
		sch_start_step(s, task);
		return true;
	}
	/* Asked once at a time; running tasks and timers go on meanwhile. */
	s->asking = (long)task;
	wm_prompt_ask(s->prompt, wt->id);
	return false;
}

static void launch_ready(struct wm_sched *s)
{
	while (s->asking < 0 && s->ready.n && !s->halted && s->running < s->cfg.max_parallel) {
		bool go_on = may_start(s, wm_readyq_pop(&s->ready));

		sch_settle(s);
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
		uint64_t timeout = sch_task_timeout(s, task);

		if (!s->cfg.wf->tasks[task].rollback.lang)
			continue;
		sch_emit(s, WM_EV_ROLLBACK_START, (long)task, NULL, 0);
		if (sch_start_job(s, &rq, &t->job, &err) < 0) {
			struct wm_sandbox_result res = { .status = WM_SANDBOX_SETUP_FAILED,
							 .exit_code = -1,
							 .setup_error = wm_error_text(err) };
			struct wm_event ev = { .type = WM_EV_ROLLBACK_END,
					       .task = (long)task,
					       .result = &res };

			wm_error_free(err);
			err = NULL;
			t->job = NULL;
			sch_emit_ev(s, &ev);
			wm_sandbox_result_release(&res);
			continue;
		}
		t->phase = PH_ROLLBACK;
		t->timed_out = false;
		t->kill_at = 0;
		t->deadline = timeout ? sch_now(s) + timeout : 0;
		s->running++;
		sch_retrack(s, task);
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
	long prompt_at; /* index of the terminal's fd while a question is open, -1 */
};

static void pollset_fill(struct wm_sched *s, struct pollset *ps)
{
	ps->n = 0;
	ps->groups = 0;
	ps->prompt_at = -1;
	if (s->sfd >= 0)
		ps->pfd[ps->n++] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
	if (s->asking >= 0) {
		ps->prompt_at = (long)ps->n;
		ps->pfd[ps->n++] =
			(struct pollfd){ .fd = wm_prompt_fd(s->prompt), .events = POLLIN };
	}
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
	if (ps->prompt_at >= 0 && ps->pfd[ps->prompt_at].revents && s->asking >= 0)
		on_answer(s);
	if (s->running && s->cfg.exec->ops->poll)
		s->cfg.exec->ops->poll(s->cfg.exec, sch_now(s));
	for (size_t g = 0; g < ps->groups; g++) {
		struct trt *t = &s->t[ps->task[g]];

		if (t->job && s->cfg.exec->ops->serve(t->job, ps->pfd + ps->first[g], ps->count[g]))
			sch_reap(s, ps->task[g]);
	}
	on_timers(s);
	sch_settle(s);
	return 0;
}

static bool busy(const struct wm_sched *s)
{
	if (s->rolling_back)
		return s->running || (s->rollback_left && !s->interrupted);
	return s->running || s->waiting || (s->ready.n && !s->halted) ||
	       (s->asking >= 0 && !s->interrupted);
}

static int loop(struct wm_sched *s, struct pollset *ps, struct wm_error **err)
{
	for (;;) {
		if (s->rolling_back)
			launch_rollback(s);
		else
			launch_ready(s);
		/* What this turn recorded is durable before waiting. */
		sch_barrier(s);
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
				sch_emit(s, WM_EV_ROLLBACK_MANUAL, (long)s->completed[k],
					 wt->rollback.text, 0);
		}
		return;
	}
	s->rolling_back = true;
	s->rollback_left = s->completed_n;
	loop(s, ps, err);
}

int wm_sched_run(struct wm_sched *s, enum wm_run_status *outcome, struct wm_error **err)
{
	/* Jobs adopted on resume come on top of -j: at most one per task. */
	size_t groups = s->cfg.dag->n > s->cfg.max_parallel ? s->cfg.dag->n : s->cfg.max_parallel;
	wm_autofree struct pollfd *pfd = wm_xcalloc(2 + WM_EXEC_MAX_FDS * groups, sizeof(*pfd));
	wm_autofree size_t *first = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *count = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *owner = wm_xcalloc(groups, sizeof(size_t));
	struct pollset ps = { .pfd = pfd, .first = first, .count = count, .task = owner };

	if (!s->cfg.clock && sch_setup_signals(s, err) < 0)
		return -1;
	s->next_tick = sch_now(s);
	if (s->cfg.interactive)
		s->prompt = wm_prompt_open(); /* no terminal: every task runs */
	sch_seed(s);
	if (loop(s, &ps, err) < 0)
		return -1;
	/* The breaker leaves tasks that never became ready: they will not run now. */
	for (size_t i = 0; i < s->cfg.dag->n && s->halted && !s->interrupted; i++)
		if (s->t[i].rec->state == WM_TASK_PENDING && !s->t[i].kept)
			sch_skip(s, i, "the circuit breaker stopped new tasks");
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
