/*
 * exec_result.h - how an attempt ended, kept as a file: an executor whose
 * attempts run elsewhere (a cluster node, through `wm exec`) writes it, the
 * orchestrator reads it back. logs/<task>.<kind>.<attempt>.result.json in
 * the run directory, written atomically, read without following links and
 * bounded in size (what it says is still checked: it comes from a node).
 */
#ifndef WM_ORCHESTRATOR_EXEC_RESULT_H
#define WM_ORCHESTRATOR_EXEC_RESULT_H

#include "common/error.h"
#include "orchestrator/executor.h"

int wm_exec_result_save(const char *run_dir, const char *task, const char *kind, unsigned attempt,
			const struct wm_exec_result *res, struct wm_error **err);
/* 1 read, 0 no such file (yet), -1 unreadable or malformed with *err. */
int wm_exec_result_load(const char *run_dir, const char *task, const char *kind, unsigned attempt,
			struct wm_exec_result *res, struct wm_error **err);

#endif
