#include "tests/unit/support/fake_exec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define KINDS 3
#define MAX_LIVE 256
#define FIRST_FD 1000 /* never polled for real: only this clock looks at them */

struct script {
	struct fake_attempt *v;
	size_t n;
};

struct wm_exec_job {
	struct fake_exec *fx;
	size_t task;
	enum wm_attempt_kind kind;
	unsigned attempt;
	struct fake_attempt how;
	uint64_t started, ends_at; /* ends_at 0: not before a signal */
	int fd;
	bool done;
	bool seen;	     /* polling mode: a look found it done */
	int killed_by;	     /* signal that ended it, or 0 */
	enum wm_limit limit; /* what terminate() said */
};

struct fake_exec {
	struct wm_executor base;
	struct wm_sched_clock clock;
	uint64_t now;
	struct script *scripts; /* [task * KINDS + kind] */
	size_t n_tasks;
	size_t *count; /* attempts started per task and kind */
	struct wm_exec_job *live[MAX_LIVE];
	size_t n_live, max_running;
	int next_fd;
	struct fake_log *log;
	size_t n_log, alloc_log;
	struct wm_sched *interrupt_sched;
	uint64_t interrupt_at;
	struct {
		size_t task;
		unsigned attempt;
		struct fake_attempt how;
	} leftover[8];
	size_t n_leftover;
	uint64_t poll_every; /* 0: fds mode */
	uint64_t next_look;
	size_t looks;
};

static void note(struct fake_exec *fx, enum fake_what what, const struct wm_exec_job *job, int sig)
{
	WM_GROW(fx->log, fx->alloc_log, fx->n_log + 1);
	fx->log[fx->n_log++] = (struct fake_log){ .what = what,
						  .at = fx->now,
						  .task = job->task,
						  .kind = job->kind,
						  .attempt = job->attempt,
						  .sig = sig };
}

/* ---- the executor ---- */

static int start(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 struct wm_error **err)
{
	struct fake_exec *fx = (struct fake_exec *)ex;
	struct script *sc = &fx->scripts[rq->task * KINDS + rq->kind];
	size_t nth = fx->count[rq->task * KINDS + rq->kind]++;
	struct wm_exec_job *job;

	(void)err;
	job = wm_xcalloc(1, sizeof(*job));
	job->fx = fx;
	job->task = rq->task;
	job->kind = rq->kind;
	job->attempt = rq->attempt;
	job->how = sc->n ? sc->v[nth < sc->n ? nth : sc->n - 1]
			 : (struct fake_attempt){ .ms = 100, .exit_code = 0 };
	job->started = fx->now;
	job->ends_at = job->how.hang ? 0 : fx->now + job->how.ms;
	job->fd = fx->next_fd++;
	fx->live[fx->n_live++] = job;
	if (fx->n_live > fx->max_running)
		fx->max_running = fx->n_live;
	note(fx, FAKE_START, job, 0);
	*out = job;
	return 0;
}

static int adopt(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 char **what, struct wm_error **err)
{
	struct fake_exec *fx = (struct fake_exec *)ex;
	struct wm_exec_job *job;

	(void)err;
	for (size_t i = 0; i < fx->n_leftover; i++) {
		if (fx->leftover[i].task != rq->task || fx->leftover[i].attempt != rq->attempt ||
		    rq->kind != WM_ATTEMPT_BODY)
			continue;
		job = wm_xcalloc(1, sizeof(*job));
		job->fx = fx;
		job->task = rq->task;
		job->kind = rq->kind;
		job->attempt = rq->attempt;
		job->how = fx->leftover[i].how;
		job->started = fx->now;
		job->ends_at = job->how.hang ? 0 : fx->now + job->how.ms;
		job->fd = fx->next_fd++;
		fx->live[fx->n_live++] = job;
		note(fx, FAKE_ADOPT, job, 0);
		*what = wm_xstrdup("fake job");
		*out = job;
		return 1;
	}
	return 0;
}

static size_t fds(const struct wm_exec_job *job, struct pollfd *pfd)
{
	if (job->fx->poll_every)
		return 0;
	pfd[0] = (struct pollfd){ .fd = job->fd, .events = POLLIN };
	return 1;
}

static bool serve(struct wm_exec_job *job, const struct pollfd *pfd, size_t n)
{
	(void)pfd;
	(void)n;
	return job->fx->poll_every ? job->seen : job->done;
}

static uint64_t wakeup(struct wm_executor *ex)
{
	struct fake_exec *fx = (struct fake_exec *)ex;

	return fx->poll_every && fx->n_live ? fx->next_look : 0;
}

static void poll_jobs(struct wm_executor *ex, uint64_t now)
{
	struct fake_exec *fx = (struct fake_exec *)ex;

	if (!fx->poll_every || now < fx->next_look)
		return;
	fx->looks++;
	fx->next_look = now + fx->poll_every;
	for (size_t i = 0; i < fx->n_live; i++)
		fx->live[i]->seen = fx->live[i]->done;
}

static void end_job(struct wm_exec_job *job, int sig)
{
	if (job->done)
		return;
	job->done = true;
	job->killed_by = sig;
	note(job->fx, FAKE_END, job, sig);
}

static int terminate(struct wm_exec_job *job, enum wm_limit why, int sig)
{
	if (job->done)
		return 0;
	note(job->fx, FAKE_SIGNAL, job, sig);
	if (job->limit == WM_LIMIT_NONE)
		job->limit = why;
	if (sig == SIGKILL || !job->how.ignore_term)
		end_job(job, sig);
	return 0;
}

static int reap(struct wm_exec_job *job, struct wm_exec_result *res, struct wm_error **err)
{
	(void)err;
	memset(res, 0, sizeof(*res));
	res->r.duration_ms = job->fx->now - job->started;
	res->r.limit = job->limit != WM_LIMIT_NONE ? job->limit : job->how.limit;
	if (job->killed_by) {
		res->r.exit_code = -1;
		res->r.signal = job->killed_by;
		res->r.status = 128 + job->killed_by;
	} else {
		res->r.exit_code = job->how.exit_code;
		res->r.status = job->how.exit_code;
	}
	res->r.denied = wm_xcalloc(1, sizeof(*res->r.denied));
	if (job->how.lost || job->how.ended_by)
		res->reason = wm_xstrdup(job->how.lost ? job->how.lost : job->how.ended_by);
	res->free_retry = job->how.lost != NULL;
	return 0;
}

static void release(struct wm_exec_job *job)
{
	struct fake_exec *fx = job->fx;

	for (size_t i = 0; i < fx->n_live; i++)
		if (fx->live[i] == job) {
			fx->live[i] = fx->live[--fx->n_live];
			break;
		}
	free(job);
}

static void free_exec(struct wm_executor *ex)
{
	(void)ex; /* fake_exec_free() owns it */
}

static const struct wm_executor_ops fake_ops = {
	.start = start,
	.fds = fds,
	.serve = serve,
	.terminate = terminate,
	.reap = reap,
	.release = release,
	.free = free_exec,
	.wakeup = wakeup,
	.poll = poll_jobs,
	.adopt = adopt,
};

/* ---- the virtual clock ---- */

static uint64_t mono(void *ctx)
{
	return ((struct fake_exec *)ctx)->now;
}

static uint64_t wall(void *ctx)
{
	return 1700000000000ULL + ((struct fake_exec *)ctx)->now;
}

static double draw(void *ctx)
{
	(void)ctx;
	return 0.5; /* no jitter: the delay is the backoff itself */
}

/* Jumps to the earliest of: an attempt's end, `until`, the interrupt. */
static int wait_virtual(void *ctx, struct pollfd *pfd, size_t n, uint64_t until)
{
	struct fake_exec *fx = ctx;
	uint64_t next = until;
	bool any = false;

	for (size_t i = 0; i < fx->n_live; i++) {
		const struct wm_exec_job *job = fx->live[i];

		if (job->done && !fx->poll_every)
			next = fx->now, any = true;
		else if (!job->done && job->ends_at && (!next || job->ends_at < next))
			next = job->ends_at;
	}
	if (fx->interrupt_sched && (!next || fx->interrupt_at < next))
		next = fx->interrupt_at;
	if (!next && !any) {
		errno = EDEADLK; /* nothing will ever happen: a scheduler bug */
		return -1;
	}
	if (next > fx->now)
		fx->now = next;
	if (fx->interrupt_sched && fx->now >= fx->interrupt_at) {
		struct wm_sched *s = fx->interrupt_sched;

		fx->interrupt_sched = NULL;
		wm_sched_interrupt(s);
	}
	for (size_t i = 0; i < fx->n_live; i++)
		if (fx->live[i]->ends_at && fx->live[i]->ends_at <= fx->now)
			end_job(fx->live[i], 0);
	for (size_t k = 0; k < n; k++) {
		pfd[k].revents = 0;
		for (size_t i = 0; i < fx->n_live; i++)
			if (fx->live[i]->fd == pfd[k].fd && fx->live[i]->done)
				pfd[k].revents = POLLIN;
	}
	return 0;
}

/* ---- lifecycle ---- */

struct fake_exec *fake_exec_new(size_t n_tasks)
{
	struct fake_exec *fx = wm_xcalloc(1, sizeof(*fx));

	fx->base.ops = &fake_ops;
	fx->n_tasks = n_tasks;
	fx->scripts = wm_xcalloc(n_tasks * KINDS + 1, sizeof(*fx->scripts));
	fx->count = wm_xcalloc(n_tasks * KINDS + 1, sizeof(*fx->count));
	fx->next_fd = FIRST_FD;
	fx->clock = (struct wm_sched_clock){
		.mono_ms = mono, .wall_ms = wall, .wait = wait_virtual, .draw = draw, .ctx = fx
	};
	return fx;
}

void fake_exec_free(struct fake_exec *fx)
{
	for (size_t i = 0; i < fx->n_tasks * KINDS; i++)
		free(fx->scripts[i].v);
	free(fx->scripts);
	free(fx->count);
	free(fx->log);
	free(fx);
}

struct wm_executor *fake_exec_executor(struct fake_exec *fx)
{
	return &fx->base;
}

const struct wm_sched_clock *fake_exec_clock(struct fake_exec *fx)
{
	return &fx->clock;
}

void fake_exec_script(struct fake_exec *fx, size_t task, enum wm_attempt_kind kind,
		      const struct fake_attempt *v, size_t n)
{
	struct script *sc = &fx->scripts[task * KINDS + kind];

	free(sc->v);
	sc->v = wm_xcalloc(n, sizeof(*v));
	memcpy(sc->v, v, n * sizeof(*v));
	sc->n = n;
}

void fake_exec_polling(struct fake_exec *fx, uint64_t interval_ms)
{
	fx->poll_every = interval_ms;
	fx->next_look = interval_ms;
}

void fake_exec_leftover(struct fake_exec *fx, size_t task, unsigned attempt,
			const struct fake_attempt *how)
{
	fx->leftover[fx->n_leftover].task = task;
	fx->leftover[fx->n_leftover].attempt = attempt;
	fx->leftover[fx->n_leftover++].how = *how;
}

size_t fake_exec_looks(const struct fake_exec *fx)
{
	return fx->looks;
}

void fake_exec_interrupt_at(struct fake_exec *fx, struct wm_sched *s, uint64_t at)
{
	fx->interrupt_sched = s;
	fx->interrupt_at = at;
}

const struct fake_log *fake_exec_log(const struct fake_exec *fx, size_t *n)
{
	*n = fx->n_log;
	return fx->log;
}

size_t fake_exec_max_running(const struct fake_exec *fx)
{
	return fx->max_running;
}

uint64_t fake_exec_now(const struct fake_exec *fx)
{
	return fx->now;
}

const struct fake_log *fake_exec_find(const struct fake_exec *fx, enum fake_what what, size_t task,
				      enum wm_attempt_kind kind, size_t nth)
{
	for (size_t i = 0; i < fx->n_log; i++) {
		const struct fake_log *l = &fx->log[i];

		if (l->what == what && l->task == task && l->kind == kind && nth-- == 0)
			return l;
	}
	return NULL;
}
