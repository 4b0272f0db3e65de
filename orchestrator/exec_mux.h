/*
 * exec_mux.h - one executor routing each task to its own (exec_mux.c).
 */
#ifndef WM_ORCHESTRATOR_EXEC_MUX_H
#define WM_ORCHESTRATOR_EXEC_MUX_H

#include <stddef.h>

#include "orchestrator/executor.h"

/* by_task[i]: task i's executor. The mux takes ownership of every distinct
 * executor in the array and frees them with itself. */
struct wm_executor *wm_exec_mux_new(struct wm_executor *const *by_task, size_t n_tasks);

#endif
