/*
 * fromrun.h - `wm run FILE --from TASK`: run TASK and what follows it,
 * taking what they depend on from an earlier run.
 */
#ifndef WM_ORCHESTRATOR_FROMRUN_H
#define WM_ORCHESTRATOR_FROMRUN_H

#include <stdbool.h>

#include "common/diag.h"
#include "common/error.h"
#include "workflow/workflow.h"

/* Cuts wf down to TASK, every task after it and what those depend on;
 * *reused (caller frees) flags, per task left, those that do not run but
 * are taken from an earlier run. */
int wm_from_select(struct wm_workflow *wf, const char *from, bool **reused, struct wm_diags *diags,
		   struct wm_error **err);
/* Finds the newest run of the same workflow in which every reused task
 * succeeded (*source, its id, caller frees) and copies their outputs into
 * run_dir's out/. */
int wm_from_take(const char *state_dir, const struct wm_workflow *wf, const bool *reused,
		 const char *run_dir, char **source, struct wm_error **err);

#endif
