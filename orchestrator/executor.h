/*
 * executor.h - where a task's attempts run, behind one small interface.
 *
 * The scheduler decides what runs when; an executor runs one attempt of a
 * task (its body, its only_if check or its rollback) and says how it
 * ended. The local executor (exec_local.c) runs it in a sandbox on this
 * machine; a test double (tests/unit/support/fake_exec.c) runs nothing and
 * ends attempts when the test says, in virtual time; a cluster executor
 * would submit jobs.
 *
 * A job's life, driven from the scheduler's one event loop:
 *   start()      starts the attempt and returns at once (-1 with *err when
 *                it could not: the scheduler treats that as a setup failure)
 *   fds()        the descriptors to poll for it (at most WM_EXEC_MAX_FDS);
 *                asked again every turn, they may change
 *   serve()      handles what poll() reported for them, with bounded work;
 *                true once the attempt has ended and reap() will not block
 *   terminate()  asks the attempt to stop (a signal for local jobs), noting
 *                which limit it hit, if any
 *   reap()       how it ended (status, exit code, signal, limit, denials...)
 *   release()    frees the job; kills what may be left of it
 * Executors whose jobs outlive wm (a cluster's) would also adopt jobs on
 * resume; the local one cannot: its sandboxes die with wm.
 *
 * The executor owns its jobs; the scheduler owns the executor's lifetime
 * only through free().
 */
#ifndef WM_ORCHESTRATOR_EXECUTOR_H
#define WM_ORCHESTRATOR_EXECUTOR_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "orchestrator/attempt.h"
#include "sandbox/sandbox.h"

#define WM_EXEC_MAX_FDS WM_SANDBOX_MAX_FDS

struct wm_exec_request {
	size_t task;		   /* index in the workflow */
	enum wm_attempt_kind kind; /* body, only_if, rollback */
	unsigned attempt;	   /* 1-based, for $WM_ATTEMPT and the log */
};

/* How an attempt ended: the sandbox's kind of result (every executor fills
 * what it knows of it), and a declared output missing after exit 0. */
struct wm_exec_result {
	struct wm_sandbox_result r;
	char *missing_output; /* owned; NULL when none is missing */
	char *reason;	      /* owned: why it ended, as the executor saw it, or NULL */
	char *note;	      /* owned: what explains a failure (decide.h), or NULL */
	bool free_retry;      /* lost to the infrastructure (a node failed): retried without
				 counting against the task's retries, up to a cap */
};

void wm_exec_result_release(struct wm_exec_result *res);

struct wm_executor;
struct wm_exec_job;

struct wm_executor_ops {
	int (*start)(struct wm_executor *ex, const struct wm_exec_request *rq,
		     struct wm_exec_job **out, struct wm_error **err);
	size_t (*fds)(const struct wm_exec_job *job, struct pollfd *pfd);
	bool (*serve)(struct wm_exec_job *job, const struct pollfd *pfd, size_t n);
	int (*terminate)(struct wm_exec_job *job, enum wm_limit why, int sig);
	int (*reap)(struct wm_exec_job *job, struct wm_exec_result *res, struct wm_error **err);
	void (*release)(struct wm_exec_job *job);
	void (*free)(struct wm_executor *ex);
	/* Executors that watch their jobs by asking rather than through fds
	 * (a cluster's): when they next want to look (the scheduler's
	 * monotonic ms, 0: no need), and the look. NULL: fds say it all. */
	uint64_t (*wakeup)(struct wm_executor *ex);
	void (*poll)(struct wm_executor *ex, uint64_t now);
	/* Does the executor time the task's attempts out itself (a cluster
	 * node does: the time an attempt waits in a queue is not its run
	 * time)? NULL: no, the scheduler does. */
	bool (*times_out)(const struct wm_executor *ex, size_t task);
	/* Resume: takes back this attempt's job where it outlived wm (still
	 * queued or running, or ended with its result kept): 1 adopted, with
	 * *what saying which job and how it was found (owned), 0 no such job
	 * (start it again), -1 with *err. NULL: jobs die with wm. */
	int (*adopt)(struct wm_executor *ex, const struct wm_exec_request *rq,
		     struct wm_exec_job **out, char **what, struct wm_error **err);
};

/* Implementations embed this first. */
struct wm_executor {
	const struct wm_executor_ops *ops;
};

/* ---- the local executor: each attempt in a sandbox on this machine ---- */

struct wm_exec_local_config {
	const struct wm_workflow *wf;
	const struct wm_dag *dag;
	const struct wm_sandbox_profile *const *profiles; /* per task */
	struct wm_run_paths paths;
};

/* Borrows everything in cfg: it must outlive the executor. */
struct wm_executor *wm_exec_local_new(const struct wm_exec_local_config *cfg);
/* SIGTERM -> SIGKILL when an attempt times out. */
#define WM_EXEC_KILL_GRACE_MS 2000

/* One attempt to its end, blocking, SIGINT/SIGTERM/SIGHUP passed on to it
 * (a second one kills it), timed out after timeout_ms (0: never) as the
 * scheduler would: what `wm exec` runs on a cluster node. */
int wm_exec_local_run(const struct wm_exec_local_config *cfg, size_t task,
		      enum wm_attempt_kind kind, unsigned attempt, uint64_t timeout_ms,
		      struct wm_exec_result *res, struct wm_error **err);

#endif
