/*
 * runview.h - one run as the state commands (list, orphans, status, audit,
 * export) see it: its last good state, whether a live orchestrator holds
 * it, and whether it is an orphan (SPEC.md section 4).
 *
 * wm_runview_load never fails because a run is broken: a run whose
 * checkpoint cannot be loaded has st.rs == NULL and load_error set, so
 * `wm list` still shows it. It fails (-1) only for an unknown run id
 * (exit 2). Release with wm_runview_release (accepts a zeroed view).
 */
#ifndef WM_ORCHESTRATOR_RUNVIEW_H
#define WM_ORCHESTRATOR_RUNVIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "state/lock.h"
#include "state/store.h"
#include "state/summary.h"

struct wm_runview {
	char *id;
	char *dir;
	struct wm_state_loaded st; /* st.rs NULL when the state cannot be loaded */
	char *load_error;	   /* why, when st.rs is NULL */
	bool live;		   /* a live process holds the lock */
	struct wm_holder holder;   /* from the lock file */
	bool orphan;
	bool other_boot;	   /* the recorded orchestrator ran in an earlier boot */
	bool from_summary;	   /* loaded by wm_runview_load_brief from summary.json */
	struct wm_run_summary sum; /* then: st is empty, sum holds what is known */
};

/* id must be a full run id (see wm_rundir_resolve). */
int wm_runview_load(const char *state_dir, const char *id, struct wm_runview *v,
		    struct wm_error **err);
/* For `wm list` and `wm orphans`: the run's summary.json when it is usable
 * (O(1) whatever the run's size, summary.h), else wm_runview_load. */
int wm_runview_load_brief(const char *state_dir, const char *id, struct wm_runview *v,
			  struct wm_error **err);
void wm_runview_release(struct wm_runview *v);
/* The workflow's name (NULL unknown) and when the run started (0: not yet). */
const char *wm_runview_name(const struct wm_runview *v);
long long wm_runview_started_ms(const struct wm_runview *v);
/* "orphaned", the run's state, or "broken" when unloadable. */
const char *wm_runview_state(const struct wm_runview *v);
/* Every name wm_runview_state may give, NULL-terminated; *n of them. */
const char *const *wm_runview_state_names(size_t *n);
/* When the run started, or (not started, or unreadable) when it was
 * created, from its id: what `wm list --since` compares. */
long long wm_runview_time_ms(const struct wm_runview *v);
/* When the run ended (0: not yet, or unknown). */
long long wm_runview_ended_ms(const struct wm_runview *v);
/* Tasks per state (all 0 when unreadable), and how many in all. */
void wm_runview_counts(const struct wm_runview *v, size_t counts[WM_TASK_STATUS_COUNT],
		       size_t *total);
/* Tasks in a final state (succeeded, failed, skipped, cancelled) / all. */
void wm_runview_progress(const struct wm_runview *v, size_t *done, size_t *total);
/* A run that sent tasks to a cluster: how many of its jobs are still
 * queued or running there (they outlive a dead orchestrator, and resume
 * adopts them); -1 when it sent none or the cluster does not answer. */
long wm_runview_cluster_jobs(const struct wm_runview *v);
/* The index of `task` in a loaded run (v->st.rs set), or -1 with an error
 * of exit code 2: "run ID has no task 'bild' (did you mean 'build'?)", or
 * naming the run's tasks when none is close. */
long wm_runview_task_index(const struct wm_runview *v, const char *task, struct wm_error **err);
/* The run as `wm list --json` shows it (new ref). */
json_t *wm_runview_list_json(const struct wm_runview *v);
/* The run as `wm status --json` shows it: the checkpoint's JSON plus
 * orphaned, live (and cluster_jobs); v->st.rs must be set. New ref. */
json_t *wm_runview_status_json(const struct wm_runview *v);
/* Verifies the run's audit log against the state directory's key and the
 * end its checkpoint recorded (none when v->st.rs is NULL): res as
 * wm_audit_verify fills it (release it), or -1 with *err set. */
struct wm_audit_result;
int wm_runview_verify_audit(const struct wm_runview *v, const char *state_dir,
			    struct wm_audit_result *res, struct wm_error **err);
/* Prints the load warnings as "wm: warning: ..." to stderr. */
void wm_runview_print_warnings(const struct wm_runview *v);
/* The id of the run that started last among those want() accepts (loaded
 * whole when `full`, else from their summaries), or NULL (*err set only
 * when the runs cannot be listed). Ids of one second sort by chance: this
 * goes by the start time. Caller frees. */
char *wm_runview_newest(const char *state_dir, bool full,
			bool (*want)(const struct wm_runview *v, const void *ctx), const void *ctx,
			struct wm_error **err);

#endif
