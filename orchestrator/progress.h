/*
 * progress.h - what `wm run` and `wm resume` show while they work.
 *
 * Three modes: on a terminal (TERM not dumb) a live status line (running
 * tasks with their elapsed time, ticking every second, done/failed/total and
 * a bar); else plain lines; with --json one JSON object per event (the same
 * fields the audit log records, plus the run id). Without -v, one line per
 * finished task (ok, FAILED with the last lines of its log, skipped with
 * why), per retry and per thing worth a warning (denied call, limit, SLA);
 * -v shows every event. --output stream prints every task's output as it
 * is written, each line headed by [task]. NO_COLOR and non-terminals get no
 * escapes.
 *
 * The progress object borrows everything it is given; it must outlive it.
 * It writes to `out` only.
 */
#ifndef WM_ORCHESTRATOR_PROGRESS_H
#define WM_ORCHESTRATOR_PROGRESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "orchestrator/event.h"
#include "state/runstate.h"
#include "workflow/workflow.h"

enum wm_progress_mode {
	WM_PROGRESS_PLAIN,
	WM_PROGRESS_LIVE,
	WM_PROGRESS_JSON,
};

struct wm_progress;

struct wm_progress_config {
	enum wm_progress_mode mode;
	FILE *out;
	bool color;
	bool verbose;	     /* -v: a line for every event */
	bool stream;	     /* --output stream: tasks' output, live */
	unsigned tail;	     /* lines of a failed task's log shown (0: none) */
	const char *run_dir; /* where the tasks' logs are */
	const struct wm_workflow *wf;
	const struct wm_run_state *rs;
};

struct wm_progress *wm_progress_new(const struct wm_progress_config *cfg);
/* One event, as the scheduler reported it; `fields` are what the audit log
 * records of it, printed as they are with --json (borrowed, may be NULL). */
void wm_progress_event(struct wm_progress *p, const struct wm_event *ev, json_t *fields);
/* Redraws the live status line (LIVE mode only). */
void wm_progress_tick(struct wm_progress *p);
/* The closing table: task, state, attempts, duration, reason. */
void wm_progress_summary(struct wm_progress *p, enum wm_run_status outcome);
void wm_progress_free(struct wm_progress *p);

#endif
