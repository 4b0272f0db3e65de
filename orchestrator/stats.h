/*
 * stats.h - the arithmetic behind `wm stats` (free of I/O, so it is tested
 * on its own), and the JSON its command and `wm serve` print.
 */
#ifndef WM_ORCHESTRATOR_STATS_H
#define WM_ORCHESTRATOR_STATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "workflow/dag.h"

/* The nearest-rank percentile (pct in 1..100) of n values; sorts v in
 * place. 0 when n is 0. */
uint64_t wm_percentile(uint64_t *v, size_t n, unsigned pct);

/* The run's copy of its workflow (run_dir/workflow.md), read as the run
 * read it: under its original name and in its dialect (options.json). 0,
 * or -1 with *err and diagnostics in d. In runstats.c. */
int wm_stats_load_workflow(const char *run_dir, struct wm_workflow **wf, struct wm_diags *d,
			   struct wm_error **err);

/* The longest path through the DAG weighted by each task's duration (a
 * task that did not run weighs 0). Returns its total; *path (caller frees)
 * gets the tasks from first to last, *n_path their number. Iterative. */
uint64_t wm_critical_path(const struct wm_dag *g, const uint64_t *duration, size_t **path,
			  size_t *n_path);

/* What `wm stats RUN --json` prints, for a loaded run (v->st.rs set);
 * new ref. Reads the run's audit log and workflow (runstats.c). */
struct wm_runview;
json_t *wm_stats_run_json(const struct wm_runview *v);
/* The sla levels each task of the run breached, from its audit log: a bit
 * per enum wm_sla_level in levels[i] (rs->n_tasks of them). */
struct wm_run_state;
void wm_stats_sla(const char *run_dir, const struct wm_run_state *rs, unsigned *levels);
/* What `wm stats --json` prints: every run started at since_ms or later
 * (0: all), per workflow and task. New ref, or NULL with *err set. */
json_t *wm_stats_history_json(const char *state_dir, long long since_ms, struct wm_error **err);

#endif
