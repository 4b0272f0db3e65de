/*
 * ab.h - `wm ab`: two sets of finished runs compared (README.md, "A/B
 * comparison"), free of I/O but for printing, so it is tested on its own.
 *
 * Lifecycle: a zeroed struct wm_ab_side gets runs with wm_ab_side_add()
 * (copied from a loaded run state; runs that did not finish, succeeded or
 * failed, are not outcomes of the workflow and are left out) ->
 * wm_ab_report() of two sides -> wm_ab_print() -> wm_ab_side_release().
 *
 * The report (a new JSON object, "format": "wm-ab") holds per side the
 * success rate with its 95% Wilson interval and the wall time (p50, p95,
 * mean) of its successful runs; the Mann-Whitney U test of those wall times
 * and of each task's durations (tasks both sides ran), Fisher's exact test
 * of the success counts, and a verdict sentence that names a side only when
 * p < WM_STAT_ALPHA with at least WM_AB_MIN_RUNS runs on each side.
 */
#ifndef WM_ORCHESTRATOR_AB_H
#define WM_ORCHESTRATOR_AB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "state/runstate.h"

/* Fewer runs per side (successful runs, for times) than this: no claim. */
#define WM_AB_MIN_RUNS 3

/* One task's durations over a side's runs (succeeded attempts only). */
struct wm_ab_series {
	char *task;
	double *ms;
	size_t n, alloc;
};

struct wm_ab_side {
	char *label;	  /* how the side is named: a file, a workflow name */
	char **run_ids;	  /* NULL-terminated */
	size_t n_runs;	  /* finished runs */
	size_t succeeded; /* of those */
	double *wall_ms;  /* of the successful runs: `succeeded` values */
	struct wm_ab_series *tasks;
	size_t n_tasks, alloc_tasks, alloc_wall;
};

/* Adds a run; false (nothing added) when it did not finish. */
bool wm_ab_side_add(struct wm_ab_side *s, const struct wm_run_state *rs);
void wm_ab_side_release(struct wm_ab_side *s);

/* New reference. */
json_t *wm_ab_report(const struct wm_ab_side *a, const struct wm_ab_side *b);
void wm_ab_print(json_t *report, FILE *f);

#endif
