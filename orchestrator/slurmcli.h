/*
 * slurmcli.h - talking to Slurm through its client tools (sbatch, squeue,
 * scontrol, sacct, scancel) and reading what they print. Each call is one
 * short subprocess with a timeout; nothing here keeps state.
 */
#ifndef WM_ORCHESTRATOR_SLURMCLI_H
#define WM_ORCHESTRATOR_SLURMCLI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "orchestrator/exec_slurm.h"

/* Writes the attempt's batch script into the run directory and submits it
 * with sbatch --parsable; stores the job id. */
int wm_slurm_submit(const struct wm_exec_slurm_config *cfg, const struct wm_exec_request *rq,
		    const char *name, unsigned long *id, struct wm_error **err);

/* How a job that left the queue ended: scontrol while Slurm remembers it,
 * the job completion log (sacct -c) after. */
struct wm_slurm_end {
	char state[32]; /* COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL ... */
	int exit_code;	/* ExitCode's first half */
	int signal;	/* ExitCode's second half */
};

/* The run's jobs as the controller knows them, in one squeue call: each
 * listed job with its state, and for an ended one (still in the
 * controller's memory) how it ended. A job not listed has left that
 * memory: wm_slurm_ended() asks the completion log. */
struct wm_slurm_job {
	unsigned long id;
	bool live;		 /* pending, running, completing ... */
	struct wm_slurm_end end; /* when not live */
};

struct wm_slurm_queue {
	struct wm_slurm_job *jobs;
	size_t n;
};

int wm_slurm_squeue(const unsigned long *ids, size_t n, struct wm_slurm_queue *q,
		    struct wm_error **err);
/* The job's entry, or NULL when squeue no longer lists it. */
const struct wm_slurm_job *wm_slurm_queue_find(const struct wm_slurm_queue *q, unsigned long id);
void wm_slurm_queue_release(struct wm_slurm_queue *q);

/* A state of a job that has not ended (PENDING, RUNNING, COMPLETING ...). */
bool wm_slurm_state_live(const char *state);

int wm_slurm_ended(unsigned long id, struct wm_slurm_end *end, struct wm_error **err);

/* A job by name: 1 still queued (id set), 2 ended (id and end set), 0 no
 * such job, -1 with *err. */
int wm_slurm_find(const char *name, unsigned long *id, struct wm_slurm_end *end,
		  struct wm_error **err);

/* How many of the run's jobs (named wm-RUN-...) this user has queued or
 * running: one squeue call. */
int wm_slurm_run_jobs(const char *run_id, size_t *live, struct wm_error **err);

/* scancel, with SIGTERM as --signal=TERM (the job's processes get it) or
 * the whole job for SIGKILL. */
int wm_slurm_cancel(unsigned long id, int sig, struct wm_error **err);

/* What Slurm's ending means for wm when the node left no result: a
 * timeout, a memory limit, a node lost (retried for free), a cancel by
 * someone else (a failure, with that reason). `ours`: wm cancelled it. */
void wm_slurm_map_end(const struct wm_slurm_end *end, bool ours, enum wm_limit why,
		      struct wm_exec_result *res);

/* Did Slurm kill the job for its memory? Where the cgroup plugin is not
 * used, Slurm's job accounting kills the job and records it as FAILED or
 * CANCELLED; only its line in the job's log ("Exceeded job memory
 * limit") tells. Reads the log's last 64 KiB. */
bool wm_slurm_log_says_oom(const char *log_path);

#endif
