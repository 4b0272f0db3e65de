/*
 * exec_local.c - the local executor: each attempt is a sandbox on this
 * machine (sandbox/sandbox.h), prepared by attempt.c (script, $WM_OUT,
 * $WM_IN, environment, log).
 */
#include "orchestrator/executor.h"

#include <stdlib.h>

#include "common/xalloc.h"
#include "orchestrator/dag.h"

struct local {
	struct wm_executor base;
	struct wm_exec_local_config cfg;
};

struct wm_exec_job {
	struct wm_attempt at;
	struct wm_sandbox *sb;
	const struct wm_task *task;
	enum wm_attempt_kind kind;
};

static int start(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 struct wm_error **err)
{
	struct local *l = (struct local *)ex;
	const struct wm_dag *g = l->cfg.dag;
	struct wm_exec_job *job = wm_xcalloc(1, sizeof(*job));

	job->task = &l->cfg.wf->tasks[rq->task];
	job->kind = rq->kind;
	if (wm_attempt_prepare(&l->cfg.paths, l->cfg.wf, rq->task, wm_dag_deps(g, rq->task),
			       wm_dag_n_deps(g, rq->task), rq->attempt, rq->kind, &job->at,
			       err) < 0) {
		free(job);
		return -1;
	}
	if (wm_sandbox_spawn(l->cfg.profiles[rq->task], &job->at.spec, &job->sb, err) < 0) {
		wm_attempt_release(&job->at);
		free(job);
		return -1;
	}
	*out = job;
	return 0;
}

static size_t fds(const struct wm_exec_job *job, struct pollfd *pfd)
{
	return wm_sandbox_fds(job->sb, pfd);
}

static bool serve(struct wm_exec_job *job, const struct pollfd *pfd, size_t n)
{
	return wm_sandbox_serve(job->sb, pfd, n);
}

static int terminate(struct wm_exec_job *job, enum wm_limit why, int sig)
{
	return wm_sandbox_terminate(job->sb, why, sig);
}

/* The sandbox's result, and the first declared output missing after a
 * clean exit (decide.c retries that). */
static int reap(struct wm_exec_job *job, struct wm_exec_result *res, struct wm_error **err)
{
	const char *missing;

	res->missing_output = NULL;
	if (wm_sandbox_reap(job->sb, &res->r, err) < 0)
		return -1;
	if (res->r.status == 0 && job->kind == WM_ATTEMPT_BODY && job->at.out_dir &&
	    (missing = wm_attempt_missing_output(job->task, job->at.out_dir)))
		res->missing_output = wm_xstrdup(missing);
	return 0;
}

static void release(struct wm_exec_job *job)
{
	if (!job)
		return;
	wm_sandbox_free(job->sb);
	wm_attempt_release(&job->at);
	free(job);
}

static void free_local(struct wm_executor *ex)
{
	free(ex);
}

static const struct wm_executor_ops local_ops = {
	.start = start,
	.fds = fds,
	.serve = serve,
	.terminate = terminate,
	.reap = reap,
	.release = release,
	.free = free_local,
};

struct wm_executor *wm_exec_local_new(const struct wm_exec_local_config *cfg)
{
	struct local *l = wm_xcalloc(1, sizeof(*l));

	l->base.ops = &local_ops;
	l->cfg = *cfg;
	return &l->base;
}
