/*
 * progress.h - what `wm run` and `wm resume` show while they work.
 *
 * Three modes: on a terminal a live status line (running tasks with their
 * elapsed time, done/failed/total and a bar) under a log of events; else one
 * plain line per event; with --json one JSON object per event (the same
 * fields the audit log records). NO_COLOR and non-terminals get no escapes.
 *
 * The progress object borrows the workflow and the run state it is given;
 * they must outlive it. It writes to `out` only.
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

struct wm_progress *wm_progress_new(enum wm_progress_mode mode, FILE *out, bool color,
				    const struct wm_workflow *wf, const struct wm_run_state *rs);
/* One event, as the scheduler reported it; `fields` are what the audit log
 * records of it, printed as they are with --json (borrowed, may be NULL). */
void wm_progress_event(struct wm_progress *p, const struct wm_event *ev, json_t *fields);
/* Redraws the live status line (LIVE mode only). */
void wm_progress_tick(struct wm_progress *p);
/* The closing table: task, state, attempts, duration. */
void wm_progress_summary(struct wm_progress *p, enum wm_run_status outcome);
void wm_progress_free(struct wm_progress *p);

#endif
