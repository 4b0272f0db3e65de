/*
 * exec_mux.c - one executor in front of several: each task goes to its
 * own (a local join or upload beside cluster tasks), the scheduler still
 * sees one. Polling executors are asked in turn; the earliest wakeup wins.
 */
#include "orchestrator/exec_mux.h"

#include <stdlib.h>

#include "common/xalloc.h"

struct mux {
	struct wm_executor base;
	struct wm_executor **by_task; /* borrowed into `owned` */
	struct wm_executor **owned;   /* distinct executors, freed with the mux */
	size_t n_owned;
};

struct wm_exec_job {
	struct wm_executor *ex;
	struct wm_exec_job *inner;
};

static struct wm_exec_job *wrap(struct wm_executor *ex, struct wm_exec_job *inner)
{
	struct wm_exec_job *job = wm_xcalloc(1, sizeof(*job));

	job->ex = ex;
	job->inner = inner;
	return job;
}

static int start(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 struct wm_error **err)
{
	struct wm_executor *to = ((struct mux *)ex)->by_task[rq->task];
	struct wm_exec_job *inner = NULL;

	if (to->ops->start(to, rq, &inner, err) < 0)
		return -1;
	*out = wrap(to, inner);
	return 0;
}

static int adopt(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 char **what, struct wm_error **err)
{
	struct wm_executor *to = ((struct mux *)ex)->by_task[rq->task];
	struct wm_exec_job *inner = NULL;
	int rc;

	if (!to->ops->adopt)
		return 0;
	rc = to->ops->adopt(to, rq, &inner, what, err);
	if (rc > 0)
		*out = wrap(to, inner);
	return rc;
}

static size_t fds(const struct wm_exec_job *job, struct pollfd *pfd)
{
	return job->ex->ops->fds(job->inner, pfd);
}

static bool serve(struct wm_exec_job *job, const struct pollfd *pfd, size_t n)
{
	return job->ex->ops->serve(job->inner, pfd, n);
}

static int terminate(struct wm_exec_job *job, enum wm_limit why, int sig)
{
	return job->ex->ops->terminate(job->inner, why, sig);
}

static int reap(struct wm_exec_job *job, struct wm_exec_result *res, struct wm_error **err)
{
	return job->ex->ops->reap(job->inner, res, err);
}

static void release(struct wm_exec_job *job)
{
	if (!job)
		return;
	job->ex->ops->release(job->inner);
	free(job);
}

static uint64_t wakeup(struct wm_executor *ex)
{
	struct mux *m = (struct mux *)ex;
	uint64_t next = 0;

	for (size_t i = 0; i < m->n_owned; i++) {
		uint64_t w = m->owned[i]->ops->wakeup ? m->owned[i]->ops->wakeup(m->owned[i]) : 0;

		if (w && (!next || w < next))
			next = w;
	}
	return next;
}

static void poll_all(struct wm_executor *ex, uint64_t now)
{
	struct mux *m = (struct mux *)ex;

	for (size_t i = 0; i < m->n_owned; i++)
		if (m->owned[i]->ops->poll && m->owned[i]->ops->wakeup &&
		    m->owned[i]->ops->wakeup(m->owned[i]) &&
		    m->owned[i]->ops->wakeup(m->owned[i]) <= now)
			m->owned[i]->ops->poll(m->owned[i], now);
}

static bool times_out(const struct wm_executor *ex, size_t task)
{
	const struct wm_executor *to = ((const struct mux *)ex)->by_task[task];

	return to->ops->times_out && to->ops->times_out(to, task);
}

static void free_mux(struct wm_executor *ex)
{
	struct mux *m = (struct mux *)ex;

	for (size_t i = 0; i < m->n_owned; i++)
		m->owned[i]->ops->free(m->owned[i]);
	free(m->owned);
	free(m->by_task);
	free(m);
}

static const struct wm_executor_ops mux_ops = {
	.start = start,
	.fds = fds,
	.serve = serve,
	.terminate = terminate,
	.reap = reap,
	.release = release,
	.free = free_mux,
	.wakeup = wakeup,
	.poll = poll_all,
	.adopt = adopt,
	.times_out = times_out,
};

struct wm_executor *wm_exec_mux_new(struct wm_executor *const *by_task, size_t n_tasks)
{
	struct mux *m = wm_xcalloc(1, sizeof(*m));

	m->base.ops = &mux_ops;
	m->by_task = wm_xcalloc(n_tasks + 1, sizeof(*m->by_task));
	m->owned = wm_xcalloc(n_tasks + 1, sizeof(*m->owned));
	for (size_t i = 0; i < n_tasks; i++) {
		bool seen = false;

		m->by_task[i] = by_task[i];
		for (size_t k = 0; k < m->n_owned; k++)
			seen |= m->owned[k] == by_task[i];
		if (!seen)
			m->owned[m->n_owned++] = by_task[i];
	}
	return &m->base;
}
