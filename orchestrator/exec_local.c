/*
 * exec_local.c - the local executor: each attempt is a sandbox on this
 * machine (sandbox/sandbox.h), prepared by attempt.c (script, $WM_OUT,
 * $WM_IN, environment, log).
 */
#include "orchestrator/executor.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "orchestrator/tasklog.h"
#include "policies/policies.h"
#include "workflow/dag.h"

struct local {
	struct wm_executor base;
	struct wm_exec_local_config cfg;
};

struct wm_exec_job {
	struct wm_attempt at;
	struct wm_sandbox *sb;
	const struct wm_task *task;
	enum wm_attempt_kind kind;
	const struct wm_sandbox_profile *prof;
	const char *run_dir;
};

static int start(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 struct wm_error **err)
{
	struct local *l = (struct local *)ex;
	const struct wm_dag *g = l->cfg.dag;
	struct wm_exec_job *job = wm_xcalloc(1, sizeof(*job));

	job->task = &l->cfg.wf->tasks[rq->task];
	job->kind = rq->kind;
	job->prof = l->cfg.profiles[rq->task];
	job->run_dir = l->cfg.paths.run_dir;
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

/* A failure under a policy without the network, whose log shows the task
 * tried to reach it: say so, since "exit 6" alone does not. */
static char *network_note(const struct wm_exec_job *job)
{
	const struct wm_policy *pol = wm_sandbox_profile_policy(job->prof);

	if (!pol || pol->network == WM_NET_HOST || !job->run_dir ||
	    !wm_tasklog_says_network(job->run_dir, job->task->id))
		return NULL;
	return wm_xasprintf("it tried to use the network, and policy %s has network: %s", pol->name,
			    wm_net_mode_name(pol->network));
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
	if (res->r.status != 0)
		res->note = network_note(job);
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

/* ---- one attempt, to its end (`wm exec` on a cluster node) ---- */

static void forward(struct wm_exec_job *job, int sfd, unsigned *signals)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wm_sandbox_terminate(job->sb, WM_LIMIT_NONE,
				     (*signals)++ ? SIGKILL : (int)si.ssi_signo);
}

/* How long poll may sleep before the next timer (-1: none). */
static int until(uint64_t at)
{
	uint64_t now = wm_mono_ms();

	if (!at)
		return -1;
	return at > now ? (int)(at - now) : 0;
}

/* The timeout, as the scheduler enforces it locally: SIGTERM, then SIGKILL
 * after the grace period. */
static void on_timer(struct wm_exec_job *job, uint64_t *deadline, uint64_t *kill_at)
{
	uint64_t now = wm_mono_ms();

	if (*deadline && now >= *deadline) {
		wm_sandbox_terminate(job->sb, WM_LIMIT_TIMEOUT, SIGTERM);
		*deadline = 0;
		*kill_at = now + WM_EXEC_KILL_GRACE_MS;
	} else if (*kill_at && now >= *kill_at) {
		wm_sandbox_terminate(job->sb, WM_LIMIT_TIMEOUT, SIGKILL);
		*kill_at = 0;
	}
}

int wm_exec_local_run(const struct wm_exec_local_config *cfg, size_t task,
		      enum wm_attempt_kind kind, unsigned attempt, uint64_t timeout_ms,
		      struct wm_exec_result *res, struct wm_error **err)
{
	uint64_t deadline = timeout_ms ? wm_mono_ms() + timeout_ms : 0, kill_at = 0;
	struct wm_executor *ex = wm_exec_local_new(cfg);
	struct wm_exec_request rq = { .task = task, .kind = kind, .attempt = attempt };
	struct wm_exec_job *job = NULL;
	sigset_t mask, old;
	unsigned signals = 0;
	int sfd, rc = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || start(ex, &rq, &job, err) < 0) {
		if (sfd < 0)
			wm_error_set(err, errno, "signalfd");
		goto out;
	}
	for (;;) {
		struct pollfd pfd[WM_EXEC_MAX_FDS + 1];
		size_t n = fds(job, pfd);

		pfd[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(pfd, n + 1, until(deadline ? deadline : kill_at)) < 0 && errno != EINTR) {
			wm_error_set(err, errno, "poll");
			goto out;
		}
		if (pfd[n].revents)
			forward(job, sfd, &signals);
		on_timer(job, &deadline, &kill_at);
		if (serve(job, pfd, n))
			break;
	}
	rc = reap(job, res, err);
out:
	release(job);
	ex->ops->free(ex);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
