/*
 * stats.h - the arithmetic behind `wm stats`, free of I/O so it is tested
 * on its own.
 */
#ifndef WM_ORCHESTRATOR_STATS_H
#define WM_ORCHESTRATOR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "workflow/dag.h"

/* The nearest-rank percentile (pct in 1..100) of n values; sorts v in
 * place. 0 when n is 0. */
uint64_t wm_percentile(uint64_t *v, size_t n, unsigned pct);

/* The longest path through the DAG weighted by each task's duration (a
 * task that did not run weighs 0). Returns its total; *path (caller frees)
 * gets the tasks from first to last, *n_path their number. Iterative. */
uint64_t wm_critical_path(const struct wm_dag *g, const uint64_t *duration, size_t **path,
			  size_t *n_path);

#endif
