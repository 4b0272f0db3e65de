/*
 * exec_slurm.c - the Slurm executor: each attempt is one batch job whose
 * script runs `wm exec` on a compute node, which sandboxes the task there
 * exactly as the local executor would (the state directory and the
 * workspace must be on a filesystem the nodes share; the script checks and
 * says so when they are not).
 *
 * Jobs are named wm-<run>-<task>-<kind>-<attempt>, so a resumed run finds
 * its jobs again and adopts them instead of submitting twice. Watching is
 * by asking, never one call per job and never busy: one squeue for all of
 * the run's queued jobs per look, looks spaced from 100 ms up to 2 s while
 * nothing changes; a job gone from squeue is read once from scontrol, or
 * from sacct's job completion log once Slurm forgot it. How it ended is the
 * node's result file when there is one, mapped from Slurm's state when not.
 * Submissions are rate-limited and the run never has more than
 * `max_queued` jobs in the queue: the rest wait in wm.
 */
#include "orchestrator/exec_slurm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/exec_result.h"
#include "orchestrator/slurmcli.h"
#include "state/rundir.h"

#define POLL_MIN_MS 100
#define POLL_MAX_MS 2000
/* Submissions: a burst of 50, then 20 a second (a token bucket), so a
 * thousand ready tasks do not flood the controller. */
#define SUBMIT_BURST 50
#define SUBMIT_RATE 20
#define SUBMIT_TRIES 5

struct slurm {
	struct wm_executor base;
	struct wm_exec_slurm_config cfg;
	struct wm_exec_job **jobs; /* every job not yet released */
	size_t n, alloc;
	uint64_t next_look, interval;
	double tokens; /* submissions allowed now */
	uint64_t refilled;
	unsigned long calls; /* controller calls, for the benchmark */
};

enum jstate { J_WAITING, J_QUEUED, J_ENDED };

struct wm_exec_job {
	struct slurm *sl;
	struct wm_exec_request rq;
	char name[256];
	unsigned long id; /* 0 until submitted */
	unsigned submit_tries;
	enum jstate st;
	bool done, ours; /* ended; cancelled by wm */
	enum wm_limit why;
	struct wm_exec_result res;
};

static const char *kind_name(enum wm_attempt_kind k)
{
	return k == WM_ATTEMPT_ONLY_IF ? "only_if" : k == WM_ATTEMPT_ROLLBACK ? "rollback" : "body";
}

static const char *task_id(const struct slurm *sl, size_t task)
{
	return sl->cfg.wf->tasks[task].id;
}

/* ---- ends ---- */

static void end_with(struct wm_exec_job *job, int status, int sig, enum wm_limit limit,
		     const char *reason, bool free_retry)
{
	struct wm_sandbox_result *r = &job->res.r;

	if (job->done)
		return;
	r->status = status;
	r->exit_code = sig ? -1 : status;
	r->signal = sig;
	r->limit = limit;
	if (!r->denied)
		r->denied = wm_xcalloc(1, sizeof(*r->denied));
	if (reason)
		job->res.reason = wm_xstrdup(reason);
	job->res.free_retry = free_retry;
	job->st = J_ENDED;
	job->done = true;
}

static void setup_failed(struct wm_exec_job *job, struct wm_error *e)
{
	end_with(job, WM_SANDBOX_SETUP_FAILED, 0, WM_LIMIT_NONE, NULL, false);
	job->res.r.setup_error = wm_error_text(e);
	job->res.r.exit_code = -1;
	wm_error_free(e);
}

/* Slurm's word on a job that left the queue, and the node's result file. */
static bool slurm_oom(const struct wm_exec_job *job)
{
	const struct slurm *sl = job->sl;
	wm_autofree char *log =
		wm_xasprintf("%s/logs/%s.%s.%u.slurm.out", sl->cfg.run_dir,
			     task_id(sl, job->rq.task), kind_name(job->rq.kind), job->rq.attempt);

	return wm_slurm_log_says_oom(log);
}

static void collect(struct wm_exec_job *job, const struct wm_slurm_end *end)
{
	struct slurm *sl = job->sl;
	struct wm_slurm_end mapped = *end;
	struct wm_error *e = NULL;
	int rc = wm_exec_result_load(sl->cfg.run_dir, task_id(sl, job->rq.task),
				     kind_name(job->rq.kind), job->rq.attempt, &job->res, &e);

	if (rc < 0) {
		setup_failed(job, e);
		return;
	}
	if (rc > 0 && strcmp(end->state, "COMPLETED") == 0) {
		job->st = J_ENDED;
		job->done = true;
		return;
	}
	if (rc > 0 && strcmp(end->state, "FAILED") == 0 && !job->res.r.setup_error) {
		job->st = J_ENDED;
		job->done = true;
		return;
	}
	wm_exec_result_release(&job->res);
	memset(&job->res, 0, sizeof(job->res));
	if (!job->ours && strcmp(end->state, "COMPLETED") != 0 && slurm_oom(job))
		snprintf(mapped.state, sizeof(mapped.state), "OUT_OF_MEMORY");
	wm_slurm_map_end(&mapped, job->ours, job->why, &job->res);
	job->st = J_ENDED;
	job->done = true;
}

/* ---- submitting ---- */

static size_t queued(const struct slurm *sl)
{
	size_t n = 0;

	for (size_t i = 0; i < sl->n; i++)
		n += sl->jobs[i]->st == J_QUEUED;
	return n;
}

/* A controller that is busy or briefly away, not a job it refuses. */
static bool transient(const struct wm_error *e)
{
	static const char *const signs[] = { "did not answer within", "Socket timed out",
					     "Unable to contact", "temporarily unavailable",
					     "Slurm temporarily" };

	for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
		if (strstr(e->msg, signs[i]))
			return true;
	return false;
}

static void submit(struct wm_exec_job *job)
{
	struct slurm *sl = job->sl;
	struct wm_error *e = NULL;

	sl->calls++;
	if (wm_slurm_submit(&sl->cfg, &job->rq, job->name, &job->id, &e) < 0) {
		/* Tried again at the next looks, a few times, before failing. */
		if (transient(e) && ++job->submit_tries < SUBMIT_TRIES) {
			wm_error_free(e);
			return;
		}
		setup_failed(job, e);
		return;
	}
	job->st = J_QUEUED;
}

static void submit_waiting(struct slurm *sl, uint64_t now)
{
	size_t limit = sl->cfg.max_queued ? sl->cfg.max_queued : 500;
	size_t q = queued(sl);

	sl->tokens += (double)(now - sl->refilled) * SUBMIT_RATE / 1000.0;
	if (sl->tokens > SUBMIT_BURST || !sl->refilled)
		sl->tokens = SUBMIT_BURST;
	sl->refilled = now;
	for (size_t i = 0; i < sl->n && sl->tokens >= 1 && q < limit; i++)
		if (sl->jobs[i]->st == J_WAITING && !sl->jobs[i]->done) {
			submit(sl->jobs[i]);
			sl->tokens -= 1;
			q += sl->jobs[i]->st == J_QUEUED;
		}
}

/* Jobs still waiting to be submitted (the cap or the rate held them). */
static bool any_waiting(const struct slurm *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		if (sl->jobs[i]->st == J_WAITING && !sl->jobs[i]->done)
			return true;
	return false;
}

/* ---- looking ---- */

static struct wm_exec_job *by_id(const struct slurm *sl, unsigned long id)
{
	for (size_t i = 0; i < sl->n; i++)
		if (sl->jobs[i]->id == id)
			return sl->jobs[i];
	return NULL;
}

/* One squeue call for all the run's queued jobs: those it shows ended are
 * collected from what it says; one it no longer lists is looked up in the
 * completion log. */
static bool look(struct slurm *sl)
{
	wm_autofree unsigned long *ids = wm_xcalloc(sl->n + 1, sizeof(*ids));
	struct wm_slurm_queue q = { 0 };
	struct wm_error *e = NULL;
	bool changed = false;
	size_t n = 0;

	for (size_t i = 0; i < sl->n; i++)
		if (sl->jobs[i]->st == J_QUEUED)
			ids[n++] = sl->jobs[i]->id;
	if (!n)
		return false;
	sl->calls++;
	if (wm_slurm_squeue(ids, n, &q, &e) < 0) {
		wm_error_free(e); /* the controller is busy: look again later */
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		struct wm_exec_job *job = by_id(sl, ids[k]);
		const struct wm_slurm_job *listed = wm_slurm_queue_find(&q, ids[k]);
		struct wm_slurm_end end;

		if (listed && listed->live)
			continue;
		if (listed) {
			collect(job, &listed->end); /* ended, still in the controller's memory */
			changed = true;
			continue;
		}
		sl->calls++;
		if (wm_slurm_ended(ids[k], &end, &e) < 0) {
			wm_error_free(e);
			e = NULL;
			continue; /* neither scontrol nor sacct know it yet */
		}
		if (wm_slurm_state_live(end.state))
			continue; /* submitted just now: squeue did not show it yet */
		collect(job, &end);
		changed = true;
	}
	wm_slurm_queue_release(&q);
	return changed;
}

static void poll_jobs(struct wm_executor *ex, uint64_t now)
{
	struct slurm *sl = (struct slurm *)ex;
	bool changed;

	if (sl->next_look && now < sl->next_look)
		return; /* woken for another task's sake */
	submit_waiting(sl, now);
	changed = look(sl);
	sl->interval = changed || !sl->interval || any_waiting(sl) ? POLL_MIN_MS
		       : sl->interval * 2 > POLL_MAX_MS		   ? POLL_MAX_MS
								   : sl->interval * 2;
	sl->next_look = now + sl->interval;
}

static uint64_t wakeup(struct wm_executor *ex)
{
	struct slurm *sl = (struct slurm *)ex;
	uint64_t next = 0;

	/* A job already ended (adopted after its end, cancelled before it was
	 * submitted) wants its reaping now: 1 is long past. */
	for (size_t i = 0; i < sl->n; i++) {
		if (sl->jobs[i]->done)
			return 1;
		next = sl->next_look ? sl->next_look : 1;
	}
	return next;
}

/* ---- the job's life ---- */

static struct wm_exec_job *new_job(struct slurm *sl, const struct wm_exec_request *rq)
{
	struct wm_exec_job *job = wm_xcalloc(1, sizeof(*job));

	job->sl = sl;
	job->rq = *rq;
	/* wm-RUN-TASK-ATTEMPT for the body; its checks and rollback say so. */
	snprintf(job->name, sizeof(job->name), "wm-%s-%s-%u%s%s", sl->cfg.run_id,
		 task_id(sl, rq->task), rq->attempt, rq->kind == WM_ATTEMPT_BODY ? "" : "-",
		 rq->kind == WM_ATTEMPT_BODY ? "" : kind_name(rq->kind));
	WM_GROW(sl->jobs, sl->alloc, sl->n + 1);
	sl->jobs[sl->n++] = job;
	return job;
}

static int start(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 struct wm_error **err)
{
	struct slurm *sl = (struct slurm *)ex;
	struct wm_exec_job *job = new_job(sl, rq);

	(void)err;
	/* Submitted at the next look (at once: next_look 0), within the rate. */
	sl->interval = POLL_MIN_MS; /* something new: look soon */
	sl->next_look = 0;
	*out = job;
	return 0;
}

static int adopt(struct wm_executor *ex, const struct wm_exec_request *rq, struct wm_exec_job **out,
		 char **what, struct wm_error **err)
{
	struct slurm *sl = (struct slurm *)ex;
	struct wm_exec_job *job = new_job(sl, rq);
	struct wm_slurm_end end;
	int rc;

	sl->calls++;
	rc = wm_slurm_find(job->name, &job->id, &end, err);
	if (rc <= 0) {
		sl->n--;
		free(job);
		return rc;
	}
	if (rc == 1) {
		job->st = J_QUEUED; /* pending or running: watched to its end */
		*what = wm_xasprintf("Slurm job %lu (%s), still queued or running", job->id,
				     job->name);
	} else {
		collect(job, &end); /* ended while wm was away */
		*what = wm_xasprintf("Slurm job %lu (%s), ended %s while wm was away", job->id,
				     job->name, end.state);
	}
	*out = job;
	return 1;
}

static bool times_out(const struct wm_executor *ex, size_t task)
{
	(void)ex;
	(void)task;
	return true; /* `wm exec` on the node, and Slurm's --time behind it */
}

static size_t fds(const struct wm_exec_job *job, struct pollfd *pfd)
{
	(void)job;
	(void)pfd;
	return 0;
}

static bool serve(struct wm_exec_job *job, const struct pollfd *pfd, size_t n)
{
	(void)pfd;
	(void)n;
	return job->done;
}

static int terminate(struct wm_exec_job *job, enum wm_limit why, int sig)
{
	struct wm_error *e = NULL;

	if (job->done)
		return 0;
	job->ours = true;
	if (job->why == WM_LIMIT_NONE)
		job->why = why;
	if (job->st == J_WAITING) {
		end_with(job, 128 + sig, sig, why, "cancelled before it was submitted", false);
		return 0;
	}
	job->sl->calls++;
	if (wm_slurm_cancel(job->id, sig, &e) < 0) {
		wm_error_free(e);
		return -1;
	}
	return 0;
}

static int reap(struct wm_exec_job *job, struct wm_exec_result *res, struct wm_error **err)
{
	(void)err;
	*res = job->res;
	memset(&job->res, 0, sizeof(job->res));
	return 0;
}

static void release(struct wm_exec_job *job)
{
	struct slurm *sl = job->sl;

	for (size_t i = 0; i < sl->n; i++)
		if (sl->jobs[i] == job) {
			sl->jobs[i] = sl->jobs[--sl->n];
			break;
		}
	wm_exec_result_release(&job->res);
	free(job);
}

static void free_slurm(struct wm_executor *ex)
{
	struct slurm *sl = (struct slurm *)ex;

	free(sl->jobs);
	free(sl);
}

static const struct wm_executor_ops slurm_ops = {
	.start = start,
	.fds = fds,
	.serve = serve,
	.terminate = terminate,
	.reap = reap,
	.release = release,
	.free = free_slurm,
	.wakeup = wakeup,
	.poll = poll_jobs,
	.adopt = adopt,
	.times_out = times_out,
};

struct wm_executor *wm_exec_slurm_new(const struct wm_exec_slurm_config *cfg)
{
	struct slurm *sl = wm_xcalloc(1, sizeof(*sl));

	sl->base.ops = &slurm_ops;
	sl->cfg = *cfg;
	return &sl->base;
}

unsigned long wm_exec_slurm_calls(const struct wm_executor *ex)
{
	return ((const struct slurm *)ex)->calls;
}
