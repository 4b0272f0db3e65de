#include "orchestrator/scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

#define DEFAULT_KILL_GRACE_MS 2000

enum phase {
	PH_IDLE,
	PH_ONLY_IF,
	PH_BODY,
	PH_WAIT_RETRY,
};

struct trt {
	struct wm_sched_task_info info;
	size_t deps_left;
	enum phase phase;
	bool only_if_done;
	bool kept;
	bool cancelling; /* interrupted while running: ends as cancelled */
	bool timed_out;
	bool sla_reported;
	struct wm_sandbox *sb;
	struct wm_attempt at;
	uint64_t deadline; /* monotonic ms; 0: none */
	uint64_t kill_at;  /* SIGKILL after the grace period */
	uint64_t sla_at;
	uint64_t retry_at;
	size_t active_pos; /* index in s->active, or NOT_ACTIVE */
};

#define NOT_ACTIVE ((size_t)-1)

struct wm_sched {
	struct wm_sched_config cfg;
	struct trt *t;
	size_t *heap; /* ready tasks */
	size_t heap_n;
	size_t *settle; /* tasks whose end must be propagated to dependents */
	size_t settle_n;
	size_t *completed; /* succeeded tasks, in completion order (rollback) */
	size_t completed_n;
	size_t *active; /* tasks running or waiting to retry: what the loop watches */
	size_t active_n;
	size_t running;
	size_t waiting;
	bool stopping; /* a task failed and keep_going is off */
	bool halted;   /* circuit breaker or interrupt: nothing more starts */
	bool interrupted;
	bool any_failed;
	unsigned signals;
	uint64_t next_tick;
	struct wm_breaker breaker;
	int sfd, tfd;
	sigset_t oldmask;
	bool mask_set;
};

const char *wm_event_name(enum wm_event_type t)
{
	static const char *const names[] = {
		"task.start",
		"task.end",
		"decision",
		"task.retry",
		"task.skip",
		"seccomp.denied",
		"seccomp.denied.suppressed",
		"limit.hit",
		"sla.breach",
		"breaker.open",
		"rollback.start",
		"rollback.end",
		"rollback.manual",
		"run.interrupt",
		"tick",
	};
	return names[t];
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double jitter_draw(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)mono_ms() * 2654435761u;
	return (double)r / 4294967296.0;
}

/* Fills in the task's attempt and state, then hands the event to the hook. */
static void emit_ev(struct wm_sched *s, struct wm_event *ev)
{
	if (ev->task >= 0) {
		ev->attempt = s->t[ev->task].info.attempts;
		ev->state = s->t[ev->task].info.state;
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

/* Keeps s->active equal to the set of tasks that are running or waiting to
 * retry, so each event costs O(parallelism), not O(tasks). */
static void retrack(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	bool active = t->sb || t->phase == PH_WAIT_RETRY;

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

/* ---- ready queue: a binary heap, priority first, then critical path ---- */

static bool heap_before(const struct wm_sched *s, size_t a, size_t b)
{
	const struct wm_task *ta = &s->cfg.wf->tasks[a], *tb = &s->cfg.wf->tasks[b];
	size_t ra = s->cfg.dag->chain[a], rb = s->cfg.dag->chain[b];

	if (ta->priority != tb->priority)
		return ta->priority > tb->priority;
	if (ra != rb)
		return ra > rb;
	return a < b;
}

static void heap_push(struct wm_sched *s, size_t task)
{
	size_t i = s->heap_n++;

	s->heap[i] = task;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_before(s, s->heap[i], s->heap[parent]))
			break;
		size_t tmp = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = tmp;
		i = parent;
	}
}

static size_t heap_pop(struct wm_sched *s)
{
	size_t top = s->heap[0], i = 0;

	s->heap[0] = s->heap[--s->heap_n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best = i;
		if (l < s->heap_n && heap_before(s, s->heap[l], s->heap[best]))
			best = l;
		if (r < s->heap_n && heap_before(s, s->heap[r], s->heap[best]))
			best = r;
		if (best == i)
			break;
		size_t tmp = s->heap[i];
		s->heap[i] = s->heap[best];
		s->heap[best] = tmp;
		i = best;
	}
	return top;
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

	t->info.state = st;
	t->phase = PH_IDLE;
	if (!t->info.ended_ms)
		t->info.ended_ms = wall_ms();
	if (st == WM_TASK_SUCCEEDED)
		s->completed[s->completed_n++] = task;
	s->settle[s->settle_n++] = task;
}

static void skip(struct wm_sched *s, size_t task, const char *why)
{
	s->t[task].info.ended_ms = wall_ms();
	finish(s, task, WM_TASK_SKIPPED);
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
		enum wm_task_status st = s->t[wm_dag_deps(g, task)[k]].info.state;
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
		s->t[task].info.queued_ms = wall_ms();
		heap_push(s, task);
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
			if (s->t[d].kept || finished(s->t[d].info.state))
				continue;
			if (--s->t[d].deps_left == 0)
				became_ready(s, d);
		}
	}
}

/* ---- attempts ---- */

static uint64_t task_timeout(const struct wm_sched *s, size_t task)
{
	const struct wm_task *wt = &s->cfg.wf->tasks[task];

	if (wt->timeout_ms)
		return wt->timeout_ms;
	return s->cfg.policies[task] ? s->cfg.policies[task]->limits.timeout_ms : 0;
}

static void end_attempt(struct wm_sched *s, size_t task, const struct wm_outcome *o);

/* Starts the task's next step: its only_if check, or an attempt of its body. */
static void start_step(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	const struct wm_task *wt = &s->cfg.wf->tasks[task];
	const struct wm_dag *g = s->cfg.dag;
	enum wm_attempt_kind kind = WM_ATTEMPT_BODY;
	struct wm_error *err = NULL;
	uint64_t now = mono_ms(), timeout = task_timeout(s, task);

	if (wt->only_if && !t->only_if_done)
		kind = WM_ATTEMPT_ONLY_IF;
	if (kind == WM_ATTEMPT_BODY)
		t->info.attempts++;
	t->info.state = WM_TASK_RUNNING;
	t->phase = kind == WM_ATTEMPT_BODY ? PH_BODY : PH_ONLY_IF;
	if (!t->info.started_ms)
		t->info.started_ms = wall_ms();
	if (kind == WM_ATTEMPT_BODY)
		emit(s, WM_EV_TASK_START, (long)task, NULL, 0);
	if (wm_attempt_prepare(&s->cfg.paths, s->cfg.wf, task, wm_dag_deps(g, task),
			       wm_dag_n_deps(g, task), t->info.attempts ? t->info.attempts : 1,
			       kind, &t->at, &err) < 0 ||
	    wm_sandbox_spawn(s->cfg.profiles[task], &t->at.spec, &t->sb, &err) < 0) {
		wm_autofree char *why = wm_error_text(err);
		struct wm_outcome o = { .exit_code = -1,
					.setup_error = why,
					.attempt = t->info.attempts };

		wm_error_free(err);
		wm_attempt_release(&t->at);
		t->sb = NULL;
		end_attempt(s, task, &o);
		return;
	}
	s->running++;
	retrack(s, task);
	t->timed_out = false;
	t->kill_at = 0;
	t->deadline = timeout ? now + timeout : 0;
	if (wt->sla_ms && !t->sla_at && kind == WM_ATTEMPT_BODY)
		t->sla_at = now + wt->sla_ms;
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
		t->info.state = WM_TASK_WAITING;
		t->phase = PH_WAIT_RETRY;
		t->retry_at = mono_ms() + d->delay_ms;
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
	full.jitter = jitter_draw();
	wm_decide(&full, &d);
	t->info.exit_code = o->exit_code;
	t->info.signal = o->signal;
	if (d.verdict != WM_VERDICT_RETRY)
		t->info.ended_ms = wall_ms();
	ev.action = &d;
	/* The decision event reports the state the task ends in. */
	tripped = apply_decision(s, task, &d);
	emit_ev(s, &ev);
	if (d.verdict == WM_VERDICT_RETRY)
		emit(s, WM_EV_TASK_RETRY, (long)task, d.why, d.delay_ms);
	if (tripped)
		emit(s, WM_EV_BREAKER, -1, "too many consecutive task failures", 0);
}

/* One event per distinct denied call, with its count, and one for the
 * calls past the sandbox's cap. */
static void emit_denials(struct wm_sched *s, size_t task, const struct wm_sandbox_result *res)
{
	for (size_t i = 0; i < res->n_denied; i++) {
		struct wm_event ev = { .type = WM_EV_SECCOMP_DENIED,
				       .task = (long)task,
				       .detail = res->denied[i].name,
				       .count = res->denied[i].count };
		emit_ev(s, &ev);
	}
	if (res->denied_other) {
		struct wm_event ev = { .type = WM_EV_SECCOMP_SUPPRESSED,
				       .task = (long)task,
				       .count = res->denied_other };
		emit_ev(s, &ev);
	}
}

static void reap(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];
	struct wm_sandbox_result res = { 0 };
	struct wm_error *err = NULL;
	struct wm_event ev = { .type = WM_EV_TASK_END, .task = (long)task, .result = &res };
	struct wm_outcome o = { .attempt = t->info.attempts };
	enum phase phase = t->phase;

	if (wm_sandbox_reap(t->sb, &res, &err) < 0) {
		res.status = WM_SANDBOX_SETUP_FAILED;
		res.exit_code = -1;
		res.setup_error = wm_error_text(err);
		wm_error_free(err);
	}
	wm_sandbox_free(t->sb);
	t->sb = NULL;
	s->running--;
	retrack(s, task);

	if (phase == PH_ONLY_IF) {
		wm_attempt_release(&t->at);
		if (res.status == 0 && !t->cancelling) {
			t->only_if_done = true;
			start_step(s, task);
		} else if (t->cancelling) {
			struct wm_outcome c = { .exit_code = -1, .cancelled = true };
			end_attempt(s, task, &c);
		} else {
			char why[200];
			snprintf(why, sizeof(why), "only_if exited with status %d", res.status);
			skip(s, task, why);
		}
		wm_sandbox_result_release(&res);
		return;
	}
	ev.ms = res.duration_ms;
	emit_ev(s, &ev);
	emit_denials(s, task, &res);
	if (res.limit != WM_LIMIT_NONE)
		emit(s, WM_EV_LIMIT_HIT, (long)task, wm_limit_name(res.limit), 0);
	o.exit_code = res.exit_code;
	o.signal = res.signal;
	o.limit = res.limit;
	o.denied = res.n_denied ? res.denied[0].name : NULL;
	o.setup_error = res.setup_error;
	o.out_error = res.out_error;
	if (res.status == 0)
		o.missing_output =
			wm_attempt_missing_output(&s->cfg.wf->tasks[task], t->at.out_dir);
	end_attempt(s, task, &o);
	wm_attempt_release(&t->at);
	wm_sandbox_result_release(&res);
}

/* ---- interruption, timers, launching ---- */

void wm_sched_interrupt(struct wm_sched *s)
{
	uint64_t now = mono_ms();
	uint64_t grace = s->cfg.kill_grace_ms ? s->cfg.kill_grace_ms : DEFAULT_KILL_GRACE_MS;

	s->signals++;
	if (!s->interrupted)
		emit(s, WM_EV_INTERRUPT, -1, "stopping: running tasks get SIGTERM", 0);
	s->interrupted = true;
	s->halted = true;
	for (size_t k = s->active_n; k-- > 0;) {
		size_t i = s->active[k];
		struct trt *t = &s->t[i];

		if (t->sb) {
			t->cancelling = true;
			/* A second interrupt does not wait for the grace period. */
			wm_sandbox_terminate(t->sb, WM_LIMIT_NONE,
					     s->signals > 1 ? SIGKILL : SIGTERM);
			if (!t->kill_at)
				t->kill_at = now + grace;
		} else if (t->phase == PH_WAIT_RETRY) {
			struct wm_action d = { .verdict = WM_VERDICT_CANCEL,
					       .what = "cancel",
					       .why = "cancelled while waiting to retry" };
			struct wm_event ev = { .type = WM_EV_DECISION,
					       .task = (long)i,
					       .action = &d };

			s->waiting--;
			t->cancelling = true;
			finish(s, i, WM_TASK_CANCELLED);
			retrack(s, i);
			emit_ev(s, &ev);
		}
	}
}

static void on_timers(struct wm_sched *s)
{
	uint64_t now = mono_ms();
	uint64_t grace = s->cfg.kill_grace_ms ? s->cfg.kill_grace_ms : DEFAULT_KILL_GRACE_MS;

	if (s->cfg.tick_ms && now >= s->next_tick) {
		s->next_tick = now + s->cfg.tick_ms;
		emit(s, WM_EV_TICK, -1, NULL, 0);
	}
	for (size_t k = s->active_n; k-- > 0;) {
		size_t i = s->active[k];
		struct trt *t = &s->t[i];

		if (t->phase == PH_WAIT_RETRY && now >= t->retry_at) {
			t->phase = PH_IDLE;
			s->waiting--;
			retrack(s, i);
			t->info.queued_ms = wall_ms();
			heap_push(s, i);
			continue;
		}
		if (!t->sb)
			continue;
		if (t->deadline && now >= t->deadline && !t->timed_out) {
			t->timed_out = true;
			wm_sandbox_terminate(t->sb, WM_LIMIT_TIMEOUT, SIGTERM);
			t->kill_at = now + grace;
		}
		if (t->kill_at && now >= t->kill_at) {
			wm_sandbox_terminate(t->sb, t->timed_out ? WM_LIMIT_TIMEOUT : WM_LIMIT_NONE,
					     SIGKILL);
			t->kill_at = 0;
		}
		if (t->sla_at && now >= t->sla_at && !t->sla_reported) {
			t->sla_reported = true;
			emit(s, WM_EV_SLA_BREACH, (long)i, NULL, s->cfg.wf->tasks[i].sla_ms);
		}
	}
}

static uint64_t next_timer(const struct wm_sched *s)
{
	uint64_t next = s->running ? s->next_tick : 0;

	for (size_t k = 0; k < s->active_n; k++) {
		const struct trt *t = &s->t[s->active[k]];
		uint64_t c[4] = { t->phase == PH_WAIT_RETRY ? t->retry_at : 0,
				  t->sb && !t->timed_out ? t->deadline : 0, t->sb ? t->kill_at : 0,
				  t->sb && !t->sla_reported ? t->sla_at : 0 };

		for (int j = 0; j < 4; j++)
			if (c[j] && (!next || c[j] < next))
				next = c[j];
	}
	return next;
}

static int arm_timer(struct wm_sched *s, uint64_t at, struct wm_error **err)
{
	struct itimerspec its = { 0 };

	if (at) {
		/* +1ns keeps the value non-zero: an all-zero it_value would disarm. */
		its.it_value.tv_sec = (time_t)(at / 1000);
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000 + 1;
	}
	if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return wm_error_set(err, errno, "arm the scheduler's timer");
	return 0;
}

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

static void launch_ready(struct wm_sched *s)
{
	while (s->heap_n && !s->halted && s->running < s->cfg.max_parallel) {
		size_t task = heap_pop(s);
		const struct wm_task *wt = &s->cfg.wf->tasks[task];

		if (s->stopping && wt->condition == WM_COND_SUCCESS &&
		    s->t[task].info.attempts == 0) {
			skip(s, task, "not started: a task failed and keep_going is off");
			settle(s);
			continue;
		}
		if (s->cfg.interactive && s->t[task].info.attempts == 0) {
			char c = ask(s, task);
			if (c == 's') {
				skip(s, task, "skipped at the prompt");
				settle(s);
				continue;
			}
			if (c == 'a') {
				heap_push(s, task);
				wm_sched_interrupt(s);
				break;
			}
		}
		start_step(s, task);
		settle(s);
	}
}

/* ---- the loop ---- */

static void on_signal(struct wm_sched *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wm_sched_interrupt(s);
}

/* The poll set: the signalfd, the timerfd, then each running task's
 * sandbox fds; `owner[k]` is the task of the first fd of its group. */
struct pollset {
	struct pollfd *pfd;
	size_t *first; /* per active slot: index of its first fd */
	size_t *count;
	size_t *task;
	size_t n, groups;
};

static void pollset_fill(struct wm_sched *s, struct pollset *ps)
{
	ps->n = 0;
	ps->groups = 0;
	ps->pfd[ps->n++] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
	ps->pfd[ps->n++] = (struct pollfd){ .fd = s->tfd, .events = POLLIN };
	for (size_t k = 0; k < s->active_n; k++) {
		size_t i = s->active[k];

		if (!s->t[i].sb)
			continue;
		ps->first[ps->groups] = ps->n;
		ps->task[ps->groups] = i;
		ps->count[ps->groups] = wm_sandbox_fds(s->t[i].sb, ps->pfd + ps->n);
		ps->n += ps->count[ps->groups++];
	}
}

/* Waits for one round of events and handles them. */
static int poll_once(struct wm_sched *s, struct pollset *ps, struct wm_error **err)
{
	if (arm_timer(s, next_timer(s), err) < 0)
		return -1;
	pollset_fill(s, ps);
	if (poll(ps->pfd, ps->n, -1) < 0) {
		if (errno == EINTR)
			return 0;
		return wm_error_set(err, errno, "poll");
	}
	if (ps->pfd[0].revents)
		on_signal(s);
	if (ps->pfd[1].revents) {
		uint64_t ticks;
		if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			return wm_error_set(err, errno, "read the scheduler's timer");
	}
	for (size_t g = 0; g < ps->groups; g++) {
		struct trt *t = &s->t[ps->task[g]];

		if (t->sb && wm_sandbox_serve(t->sb, ps->pfd + ps->first[g], ps->count[g]))
			reap(s, ps->task[g]);
	}
	on_timers(s);
	settle(s);
	return 0;
}

/* Runs one rollback block to its end (rollbacks run one at a time). */
static void run_rollback(struct wm_sched *s, size_t task)
{
	const struct wm_dag *g = s->cfg.dag;
	struct wm_sandbox_result res = { 0 };
	struct wm_event ev = { .type = WM_EV_ROLLBACK_END, .task = (long)task, .result = &res };
	struct wm_error *err = NULL;
	struct wm_attempt at;

	emit(s, WM_EV_ROLLBACK_START, (long)task, NULL, 0);
	if (wm_attempt_prepare(&s->cfg.paths, s->cfg.wf, task, wm_dag_deps(g, task),
			       wm_dag_n_deps(g, task), 1, WM_ATTEMPT_ROLLBACK, &at, &err) < 0) {
		res.status = WM_SANDBOX_SETUP_FAILED;
		res.exit_code = -1;
		res.setup_error = wm_error_text(err);
		wm_error_free(err);
		emit_ev(s, &ev);
		wm_sandbox_result_release(&res);
		return;
	}
	at.spec.timeout_ms = task_timeout(s, task);
	if (wm_sandbox_run(s->cfg.profiles[task], &at.spec, &res, &err) < 0) {
		res.status = WM_SANDBOX_SETUP_FAILED;
		res.exit_code = -1;
		res.setup_error = wm_error_text(err);
		wm_error_free(err);
	}
	ev.ms = res.duration_ms;
	emit_ev(s, &ev);
	wm_sandbox_result_release(&res);
	wm_attempt_release(&at);
}

static void rollback(struct wm_sched *s)
{
	enum wm_rollback_mode mode = s->cfg.wf->rollback;

	for (size_t k = s->completed_n; k-- > 0;) {
		size_t task = s->completed[k];
		const struct wm_task *wt = &s->cfg.wf->tasks[task];

		if (!wt->rollback.lang)
			continue;
		if (mode == WM_ROLLBACK_MANUAL)
			emit(s, WM_EV_ROLLBACK_MANUAL, (long)task, wt->rollback.text, 0);
		else
			run_rollback(s, task);
	}
}

/* ---- lifecycle ---- */

struct wm_sched *wm_sched_new(const struct wm_sched_config *cfg)
{
	struct wm_sched *s = wm_xcalloc(1, sizeof(*s));
	size_t n = cfg->dag->n;

	s->cfg = *cfg;
	if (!s->cfg.max_parallel)
		s->cfg.max_parallel = 1;
	s->t = wm_xcalloc(n ? n : 1, sizeof(*s->t));
	s->heap = wm_xcalloc(n ? n : 1, sizeof(*s->heap));
	s->settle = wm_xcalloc(n ? n : 1, sizeof(*s->settle));
	s->completed = wm_xcalloc(n ? n : 1, sizeof(*s->completed));
	s->active = wm_xcalloc(n ? n : 1, sizeof(*s->active));
	for (size_t i = 0; i < n; i++) {
		s->t[i].active_pos = NOT_ACTIVE;
		s->t[i].info.exit_code = -1;
		s->t[i].at.log_fd = -1;
	}
	s->sfd = -1;
	s->tfd = -1;
	return s;
}

/* Tasks kept from an earlier run count as succeeded, in the order given. */
void wm_sched_keep(struct wm_sched *s, size_t task)
{
	struct trt *t = &s->t[task];

	if (t->kept)
		return;
	t->kept = true;
	t->info.state = WM_TASK_SUCCEEDED;
	t->info.exit_code = 0;
	s->completed[s->completed_n++] = task;
}

const struct wm_sched_task_info *wm_sched_task(const struct wm_sched *s, size_t task)
{
	return &s->t[task].info;
}

static int setup_fds(struct wm_sched *s, struct wm_error **err)
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
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0)
		return wm_error_set(err, errno, "timerfd_create");
	return 0;
}

static void seed(struct wm_sched *s)
{
	const struct wm_dag *g = s->cfg.dag;

	for (size_t i = 0; i < g->n; i++) {
		if (s->t[i].kept)
			continue;
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
	wm_autofree struct pollfd *pfd = wm_xcalloc(2 + WM_SANDBOX_MAX_FDS * groups, sizeof(*pfd));
	wm_autofree size_t *first = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *count = wm_xcalloc(groups, sizeof(size_t));
	wm_autofree size_t *owner = wm_xcalloc(groups, sizeof(size_t));
	struct pollset ps = { .pfd = pfd, .first = first, .count = count, .task = owner };

	if (setup_fds(s, err) < 0)
		return -1;
	seed(s);
	for (;;) {
		launch_ready(s);
		if (!s->running && !s->waiting && (!s->heap_n || s->halted))
			break;
		if (poll_once(s, &ps, err) < 0)
			return -1;
	}
	/* The breaker leaves tasks that never became ready: they will not run now. */
	for (size_t i = 0; i < s->cfg.dag->n && s->halted && !s->interrupted; i++)
		if (s->t[i].info.state == WM_TASK_PENDING && !s->t[i].kept)
			skip(s, i, "the circuit breaker stopped new tasks");
	if (s->interrupted)
		*outcome = WM_RUN_INTERRUPTED;
	else if (s->any_failed)
		*outcome = WM_RUN_FAILED;
	else
		*outcome = WM_RUN_SUCCEEDED;
	if (*outcome == WM_RUN_FAILED && s->cfg.wf->rollback != WM_ROLLBACK_OFF)
		rollback(s);
	return 0;
}

void wm_sched_free(struct wm_sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cfg.dag->n; i++) {
		wm_sandbox_free(s->t[i].sb);
		wm_attempt_release(&s->t[i].at);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->mask_set)
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
	free(s->t);
	free(s->heap);
	free(s->settle);
	free(s->completed);
	free(s->active);
	free(s);
}
