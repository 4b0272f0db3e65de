/*
 * schedstate.h - what the scheduler of `wm serve --workflows DIR` keeps in
 * the state directory, and what `wm schedule list|pause|resume` read and
 * change: $STATE/schedule/NAME.json per scheduled workflow (written by
 * wm-serve only, atomically), and NAME.paused (made and removed by `wm
 * schedule pause|resume` only), so that no file has two writers.
 *
 * NAME.json: {"name", "file", "schedule", "timezone", "last_fire" (ms, 0:
 * never), "next_fire" (ms, 0: none), "last_started" (ms), "last_exit"
 * (-1: running or never), "skipped" (fires not run: the previous run still
 * going, or missed), "error" (why it is not scheduled now, or null),
 * "queued" (ms of a fire waiting for the run going on, 0: none), "run"
 * ({"pid", "start_time", "boot_id"} of the run going on, or null)}.
 * last_fire is written before its run starts: a server restarted at any
 * moment never fires the same time twice; with "queued" and "run" it
 * still runs a queued fire, after the run it waited for.
 */
#ifndef WM_ORCHESTRATOR_SCHEDSTATE_H
#define WM_ORCHESTRATOR_SCHEDSTATE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

#define WM_SCHED_DIR "schedule"

/* A workflow's name as a schedule's: what front matter `name` may be, used
 * as a file name (letters, digits, '.', '_', '-'; not starting with '.'). */
bool wm_schedstate_name_ok(const char *name);
/* NAME.json (new ref), or NULL: none yet (no error) or unreadable (*err). */
json_t *wm_schedstate_load(const char *state_dir, const char *name, struct wm_error **err);
/* Replaces NAME.json with rec (borrowed), creating $STATE/schedule. */
int wm_schedstate_save(const char *state_dir, const char *name, json_t *rec, struct wm_error **err);
/* Every NAME.json, by name, each with "paused" added; new ref. */
json_t *wm_schedstate_list(const char *state_dir, struct wm_error **err);
bool wm_schedstate_paused(const char *state_dir, const char *name);
/* `wm schedule pause|resume NAME`: NAME must be a schedule the server
 * knows (exit code 2 otherwise). */
int wm_schedstate_pause(const char *state_dir, const char *name, bool pause, struct wm_error **err);

#endif
