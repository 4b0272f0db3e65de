/*
 * exec_slurm.h - the Slurm executor (exec_slurm.c): attempts as batch jobs
 * running `wm exec` on the nodes. See executor.h for the interface.
 */
#ifndef WM_ORCHESTRATOR_EXEC_SLURM_H
#define WM_ORCHESTRATOR_EXEC_SLURM_H

#include <stdint.h>

#include "orchestrator/executor.h"

/* What a task asks of the cluster; 0: Slurm's default. */
struct wm_slurm_resources {
	unsigned cpus, gpus;
	uint64_t memory;  /* bytes */
	uint64_t time_ms; /* wall time limit */
};

struct wm_exec_slurm_config {
	const struct wm_workflow *wf;
	const char *wm_path;   /* the wm the nodes run (absolute; on the shared filesystem) */
	const char *state_dir; /* absolute */
	const char *run_id, *run_dir, *workspace;
	char *const *policy_hash;	       /* per task: pinned on the node */
	const struct wm_slurm_resources *res;  /* per task, or NULL */
	const char *partition, *account, *qos; /* NULL: the cluster's default */
	char *const *extra;  /* further sbatch options (checked against an allowlist) */
	unsigned max_queued; /* jobs of this run in the queue at once; 0: 500 */
};

/* Borrows everything in cfg: it must outlive the executor. */
struct wm_executor *wm_exec_slurm_new(const struct wm_exec_slurm_config *cfg);
/* Calls to the controller so far (sbatch, squeue, scontrol, sacct, scancel). */
unsigned long wm_exec_slurm_calls(const struct wm_executor *ex);

#endif
