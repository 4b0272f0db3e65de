/*
 * store.h - what the scheduler uses: load a run's last good state, and
 * record changes durably (journal + periodic checkpoints).
 *
 * Writing: wm_store_open(run_dir, rs, last_seq) writes a checkpoint at once
 * (run start or resume) and opens the journal. Each wm_store_record()
 * appends one journal record (constant cost), durable at the next
 * wm_store_sync() (one fdatasync for all the records of a scheduler turn;
 * the caller syncs before acting on them), and, every `every_events`
 * records or `every_ms` milliseconds, writes a checkpoint and rotates the
 * journal. wm_store_checkpoint() forces one (run end, SIGTERM). rs is
 * BORROWED: the caller mutates it, then records; it must outlive the store.
 * wm_store_close() frees the store (no final checkpoint: call
 * wm_store_checkpoint first). A failed write (disk full, unwritable
 * directory) returns -1 with a message naming the file; what is on disk is
 * still a consistent, resumable state. Every record and checkpoint first
 * checks that the run directory held since wm_store_open is still the one
 * at its path and the journal still linked: a state directory removed or
 * replaced mid-run fails the write (errnum ENOENT) instead of recording
 * into deleted files or recreating a partial run directory.
 *
 * Loading: wm_store_load() = the newest valid checkpoint (falling back to
 * checkpoint.json.zst.prev when the newest is missing or corrupt) + replay
 * of the journal. With neither checkpoint usable, the state is rebuilt
 * from journal.jsonl.prev + journal.jsonl when they still start at record
 * 1 (`rebuilt`; only when both are missing, not corrupt). A missing journal.jsonl next to a
 * checkpoint is warned about loudly, naming the task ends the audit log shows since. Every problem
 * met is a human sentence in `warnings` (for the caller to print and record as `checkpoint.error`
 * audit events); the load fails only when nothing usable exists (errnum ENOENT: no checkpoint and
 * no journal).
 */
#ifndef WM_STATE_STORE_H
#define WM_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "state/runstate.h"

struct wm_state_loaded {
	struct wm_run_state *rs; /* owned */
	uint64_t journal_seq;	 /* last journal record applied */
	bool used_prev;		 /* fell back to checkpoint.json.zst.prev */
	bool rebuilt;		 /* no checkpoint: rebuilt from the journals alone */
	char **warnings;	 /* strv, NULL when none */
	size_t n_warnings;
};

int wm_store_load(const char *run_dir, struct wm_state_loaded *out, struct wm_error **err);
void wm_state_loaded_release(struct wm_state_loaded *l);

struct wm_store_options {
	unsigned every_events; /* 0: max(256, number of tasks) */
	unsigned every_ms;     /* 0: default 5000 */
};

struct wm_store;

struct wm_store *wm_store_open(const char *run_dir, struct wm_run_state *rs, uint64_t last_seq,
			       const struct wm_store_options *opts, struct wm_error **err);
/* Records rs->tasks[task_index] (or the run, task_index < 0) after event. */
int wm_store_record(struct wm_store *s, long task_index, const char *event, struct wm_error **err);
/* Makes every record so far durable (a no-op when nothing is pending). */
int wm_store_sync(struct wm_store *s, struct wm_error **err);
int wm_store_checkpoint(struct wm_store *s, struct wm_error **err);
void wm_store_close(struct wm_store *s);

#endif
