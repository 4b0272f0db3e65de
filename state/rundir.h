/*
 * rundir.h - the state directory's layout, run ids, and finding runs.
 *
 * Layout (SPEC.md section 4):
 *     $STATE/audit.key               MAC key of every run's audit log (0600)
 *     $STATE/runs/<run-id>/          one directory per run (0700)
 *         workflow.md                the workflow exactly as it was run
 *         checkpoint.json.zst[.prev] snapshots (checkpoint.h)
 *         journal.jsonl[.prev]       task events between snapshots (journal.h)
 *         audit.jsonl                audit log (audit.h)
 *         lock                       flock'ed by the live orchestrator (lock.h)
 *         options.json, summary.json options of the run, its summary for `wm list`
 *         logs/<task>.log            a task's output, every attempt
 *         scripts/<task>.<kind>      the code block an attempt runs
 *         out/<task>/                a task's $WM_OUT
 *         in/<task>/<dep>/           mount points of the dependencies' outputs
 *     $STATE/runs/.removing-<run-id>/ a run being removed (wm_rundir_remove)
 *
 * Every file wm makes in a run directory is 0600 and every directory
 * 0700, whatever the umask (safeio.h): logs, options and outputs are for
 * the run's owner only. What a task itself writes in its $WM_OUT keeps
 * the modes the task gave it.
 *
 * Tasks may be able to write here, so every file is opened relative to the
 * run directory's fd and never through a symbolic link (safeio.h): a link,
 * FIFO or device planted in place of anything above is an error naming it.
 * The helpers below are how the orchestrator creates a task's files.
 *
 * Run ids are "YYYYMMDD-HHMMSS-xxxx": UTC creation time and 4 random hex
 * digits (getrandom), so they sort by age as plain strings.
 *
 * Every returned char * / char ** belongs to the caller (free, wm_strv_free).
 * Nothing here holds state between calls.
 */
#ifndef WM_STATE_RUNDIR_H
#define WM_STATE_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define WM_RUN_ID_LEN 20 /* strlen("20261122-081503-a1b2") */

/* File names inside a run directory. */
#define WM_RUN_WORKFLOW "workflow.md"
#define WM_RUN_POLICIES "policies.yaml" /* the workflow's own `policies:` file, as run */
#define WM_RUN_LOCK "lock"
#define WM_RUN_AUDIT "audit.jsonl"
#define WM_RUN_LOGS "logs"
#define WM_RUN_OUT "out"
#define WM_RUN_IN "in"
#define WM_RUN_SCRIPTS "scripts"
#define WM_RUN_OPTIONS "options.json"
/* Left by `wm cancel` for the orchestrator: who asked ({"actor": ...}). */
#define WM_RUN_CANCEL "cancel.json"

/* Size limits of what is read back from a run directory. */
#define WM_RUN_WORKFLOW_MAX (64UL << 20) /* workflow.md */
#define WM_RUN_POLICIES_MAX (1UL << 20)	 /* policies.yaml, as policy files are bounded */
#define WM_RUN_OPTIONS_MAX (1UL << 20)	 /* options.json */

/* True when id has the exact shape YYYYMMDD-HHMMSS-xxxx (lower-case hex). */
bool wm_run_id_valid(const char *id);
/* When the run was created, from its id (YYYYMMDD-HHMMSS, UTC), in ms
 * since the epoch; 0 for an invalid id. */
long long wm_run_id_time_ms(const char *id);
/* Writes a fresh id (now, UTC, plus 4 random hex digits) into out. */
int wm_run_id_new(char out[WM_RUN_ID_LEN + 1], struct wm_error **err);

/* "$STATE/runs" and "$STATE/runs/<id>"; pure string building. */
char *wm_rundir_runs_dir(const char *state_dir);
char *wm_rundir_path(const char *state_dir, const char *run_id);
/* "<run_dir>/<name>". */
char *wm_rundir_file(const char *run_dir, const char *name);
/* "<run_dir>/out/<task>". */
char *wm_rundir_out_path(const char *run_dir, const char *task_id);

/*
 * Creates $STATE (0700) and $STATE/runs if needed, then a new run directory
 * with a fresh id (retrying on the rare collision), its logs/ and out/, and
 * copies workflow_file in as workflow.md (fsync'd). On success returns the
 * run directory's path and stores the id in run_id. On failure nothing is
 * left behind. An unwritable state directory fails with a clear message.
 */
char *wm_rundir_create(const char *state_dir, const char *workflow_file,
		       char run_id[WM_RUN_ID_LEN + 1], struct wm_error **err);

/* Opens run_dir (O_DIRECTORY; the last component must not be a link). */
int wm_rundir_open_fd(const char *run_dir, struct wm_error **err);

/* Writes scripts/<task>.<kind> (replacing an earlier one) and returns its
 * path (the sandbox binds it read-only). */
char *wm_rundir_write_script(const char *run_dir, const char *task_id, const char *kind,
			     const char *text, struct wm_error **err);
/* Opens logs/<task>.log for appending (created 0600). */
int wm_rundir_open_log(const char *run_dir, const char *task_id, struct wm_error **err);
/* Creates out/<task> (0700), first removing what it held when `empty`
 * (links inside are removed, never followed), and returns its path. */
char *wm_rundir_make_out(const char *run_dir, const char *task_id, bool empty,
			 struct wm_error **err);
/* The same in the run directory open as `run_fd` (shown as `run_dir`):
 * an fd of out/<task>, or -1. */
int wm_rundir_make_out_at(int run_fd, const char *run_dir, const char *task_id, bool empty,
			  struct wm_error **err);
/* Creates in/<task>/<dep> (0700), the mount point of out/<dep> (created
 * too, empty, if the dependency left none), and returns its path; dep
 * NULL: in/<task> itself ($WM_IN). */
char *wm_rundir_make_in(const char *run_dir, const char *task_id, const char *dep,
			struct wm_error **err);
/* Writes <run_dir>/<name> atomically (temporary file, fsync, rename). */
int wm_rundir_write_file(const char *run_dir, const char *name, const void *data, size_t len,
			 struct wm_error **err);
/* Reads <run_dir>/<name> (a regular file of at most `limit` bytes). */
int wm_rundir_read_file(const char *run_dir, const char *name, size_t limit, struct wm_buf *out,
			struct wm_error **err);

/* Who asked `wm cancel` to stop the run (WM_ACTOR, e.g. api:KEY from `wm
 * serve`): noted in WM_RUN_CANCEL by the canceller, taken (read once and
 * removed) by the orchestrator for its run.interrupt record. take returns
 * NULL when nobody was noted or the note cannot be read; caller frees. */
int wm_rundir_note_canceller(const char *run_dir, const char *actor, struct wm_error **err);
char *wm_rundir_take_canceller(const char *run_dir);

/*
 * Lists run ids under $STATE/runs, newest first (only names that are valid
 * ids). A missing runs directory is an empty list. *ids is a NULL-terminated
 * strv (possibly just {NULL}).
 */
int wm_rundir_list(const char *state_dir, char ***ids, size_t *n, struct wm_error **err);

/*
 * Resolves a user-given run id or unique prefix to a full id. prefix NULL
 * or "" means the newest run. Unknown, ambiguous (message lists the
 * candidates) or no runs at all: error with exit code WM_EXIT_USAGE (2).
 */
char *wm_rundir_resolve(const char *state_dir, const char *prefix, struct wm_error **err);

/*
 * Removes runs/<run_id> for good (the caller holds its lock, lock.h):
 * renamed first to runs/.removing-<run_id>, so that no command finds a
 * half-removed run under its id, then deleted fd-relative without
 * following a link (safeio.h: a link a task planted is removed, never
 * its target). A removal cut short leaves only the hidden name, which
 * wm_rundir_remove_leftovers finishes.
 */
int wm_rundir_remove(const char *state_dir, const char *run_id, struct wm_error **err);
/* Deletes every runs/.removing-* left by a removal cut short; *n: how many. */
int wm_rundir_remove_leftovers(const char *state_dir, size_t *n, struct wm_error **err);
/* The disk space removing runs/<run_id> would free (outputs.h). */
int wm_rundir_usage(const char *state_dir, const char *run_id, uint64_t *bytes,
		    struct wm_error **err);

/* SHA-256 (libsodium) of <run_dir>/<name>'s bytes, read safely (at most
 * WM_RUN_WORKFLOW_MAX), as 64 lower-case hex digits. */
char *wm_rundir_hash_file(const char *run_dir, const char *name, struct wm_error **err);

/* RFC 3339 UTC with milliseconds: "2026-11-22T08:15:03.120Z" (caller frees). */
char *wm_state_format_time(long long ms);
/* Parses that form, or any absolute form of common/when.h (a bare date
 * "2026-11-22", no ms, ...); returns 0 and *ms, or -1 (exit code 2). */
int wm_state_parse_time(const char *s, long long *ms, struct wm_error **err);

/* mkdir -p of the state directory itself (0700 for what it creates): its
 * parents, e.g. ~/.local/state, may not exist yet on a new machine. */
int wm_state_dir_make(const char *path, struct wm_error **err);

#endif
