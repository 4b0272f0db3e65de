/*
 * readyq.h - the scheduler's queue of ready tasks: a binary heap ordered by
 * priority (high first), then the length of the chain of dependents still
 * ahead (longest first, so the critical path starts early), then workflow
 * order. Push and pop cost O(log n). The queue borrows the workflow and the
 * DAG and holds at most one entry per task.
 */
#ifndef WM_ORCHESTRATOR_READYQ_H
#define WM_ORCHESTRATOR_READYQ_H

#include <stddef.h>

#include "workflow/dag.h"
#include "workflow/workflow.h"

struct wm_readyq {
	const struct wm_workflow *wf;
	const struct wm_dag *dag;
	size_t *v;
	size_t n;
};

/* Room for every task of the workflow. */
void wm_readyq_init(struct wm_readyq *q, const struct wm_workflow *wf, const struct wm_dag *dag);
void wm_readyq_release(struct wm_readyq *q);
void wm_readyq_push(struct wm_readyq *q, size_t task);
/* The first task in order; the queue must not be empty. */
size_t wm_readyq_pop(struct wm_readyq *q);

#endif
