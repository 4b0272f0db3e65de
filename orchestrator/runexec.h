/*
 * runexec.h - the executor a run's tasks go to (runexec.c): local
 * sandboxes, Slurm batch jobs, or both through exec_mux when tasks differ.
 * Owns the executors' configurations, which they borrow.
 */
#ifndef WM_ORCHESTRATOR_RUNEXEC_H
#define WM_ORCHESTRATOR_RUNEXEC_H

#include "orchestrator/exec_slurm.h"
#include "orchestrator/executor.h"
#include "orchestrator/runner.h"

struct wm_runexec {
	struct wm_exec_local_config local;
	struct wm_exec_slurm_config slurm;
	char *wm_path;
	struct wm_slurm_resources *res; /* per task */
	struct wm_executor *exec;	/* what the scheduler drives */
	struct wm_executor *slurm_exec; /* within exec, or NULL: none */
};

/* Which executor runs task i ("local" or "slurm"): its own `executor:`,
 * else --executor, else the front matter's, else local. */
const char *wm_task_executor(const struct wm_prepared *p, const struct wm_run_options *o,
			     size_t task);

int wm_runexec_build(struct wm_runexec *re, const struct wm_prepared *p,
		     const struct wm_run_options *o, const struct wm_run_target *t,
		     char *const *mask, struct wm_error **err);
void wm_runexec_release(struct wm_runexec *re);

#endif
