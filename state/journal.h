/*
 * journal.h - the append-only log of run changes between checkpoints.
 *
 * Why: rewriting the whole checkpoint per task event costs O(tasks); one
 * appended line costs the same at 10 tasks and at 10,000. Each record is one
 * compact JSON line, written with a single write() on an O_APPEND fd; one
 * wm_journal_sync() makes every record appended before it durable (group
 * commit: the caller syncs once per scheduler turn, before anything the
 * records describe can be acted on):
 *     {"seq":N,"event":"task.end","task":"build","t":{...task state...},
 *      "run":{"state":"running","ended_ms":0,"audit":{"seq":..,"mac":".."}}}
 * A record carries the task's complete new state (not a delta) and the run's
 * small mutable fields, so replaying a record twice gives the same result
 * (idempotent) and replay never depends on earlier records' contents.
 * "task" is absent for run-level records.
 *
 * Files: journal.jsonl (records after the newest checkpoint) and
 * journal.jsonl.prev (records between the previous and the newest
 * checkpoint, so falling back to checkpoint.json.zst.prev loses nothing).
 * wm_journal_rotate() moves the first over the second after a checkpoint.
 * Replay reads .prev then the current file and applies records whose seq is
 * greater than the checkpoint's journal_seq, in order.
 *
 * Checksums: each line is the record's compact JSON with one more member
 * spliced in last, "sum": the BLAKE2b-128 (libsodium crypto_generichash) in
 * hex of the line's bytes without that member (",\"sum\":\"<hex>\"" removed,
 * the closing brace kept). A single bit flipped anywhere in a line is a
 * checksum mismatch, never a different but valid-looking record.
 *
 * Corruption: a torn last line (no final newline, after a crash) is skipped
 * with a warning; a bad line elsewhere (checksum, JSON, fields), or a gap in
 * seq, stops the replay at the last good record with a warning. Never
 * fatal, never silent: warnings go to the caller's strv (messages, caller
 * frees with wm_strv_free).
 *
 * Test-only fault injection: with WM_TEST_CRASH_AT=journal:N in the
 * environment, the N-th append of this process writes half its line and then
 * raise(SIGKILL)s, leaving exactly the torn tail a crash would.
 */
#ifndef WM_STATE_JOURNAL_H
#define WM_STATE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "state/runstate.h"

#define WM_JOURNAL_FILE "journal.jsonl"
#define WM_JOURNAL_PREV "journal.jsonl.prev"
/* Records carry "v": 2 and end with their checksum (see above); a record
 * of format 1 (no checksum, from an older wm) stops replay with a warning
 * naming the format rather than being trusted unchecked. */
#define WM_JOURNAL_FORMAT 2
/* Limits of what replay reads: one record (a task's whole state, decisions
 * included) and one journal file. */
#define WM_JOURNAL_LINE_MAX (16UL << 20)
#define WM_JOURNAL_FILE_MAX (1024UL << 20)

struct wm_journal;

/* Opens (creating) <run_dir>/journal.jsonl for appending; the next record
 * gets seq last_seq + 1. A torn tail left by a crash is cut off first (it
 * was already reported by the load). */
struct wm_journal *wm_journal_open(const char *run_dir, uint64_t last_seq, struct wm_error **err);
void wm_journal_close(struct wm_journal *j);

/* Appends one record for rs->tasks[task_index] (task_index < 0: a run-level
 * record); durable after the next wm_journal_sync(). Cost independent of
 * rs->n_tasks. On error (e.g. ENOSPC) nothing is half-recorded except
 * possibly a torn tail, which a later load skips. */
int wm_journal_append(struct wm_journal *j, const struct wm_run_state *rs, long task_index,
		      const char *event, struct wm_error **err);
/* fdatasync()s the records appended since the last sync; nothing when there
 * are none. */
int wm_journal_sync(struct wm_journal *j, struct wm_error **err);
/* Seq of the last record appended (or the one given to open). */
uint64_t wm_journal_seq(const struct wm_journal *j);

/* After a checkpoint covering every record so far: journal.jsonl becomes
 * journal.jsonl.prev and a fresh journal.jsonl is started. */
int wm_journal_rotate(struct wm_journal *j, struct wm_error **err);

/*
 * Applies to rs the records of <run_dir>'s journal files with seq >
 * after_seq. *last_seq gets the last applied seq (after_seq if none).
 * Corruption adds warnings (see above) and is not an error; -1 only for an
 * I/O error reading an existing file.
 */
int wm_journal_replay(const char *run_dir, struct wm_run_state *rs, uint64_t after_seq,
		      uint64_t *last_seq, char ***warnings, size_t *n_warnings,
		      struct wm_error **err);

/*
 * With no checkpoint left at all: rebuilds rs (a fresh state holding only
 * its run id) from journal.jsonl.prev + journal.jsonl, provided they still
 * start at record 1 (else an error saying where they start); tasks are
 * added as their records name them. The header fields a checkpoint holds
 * (name, workflow, orchestrator) stay unknown.
 */
int wm_journal_rebuild(const char *run_dir, struct wm_run_state *rs, uint64_t *last_seq,
		       char ***warnings, size_t *n_warnings, struct wm_error **err);

/* One journal line as a JSON object (new reference), or NULL unless it is a
 * format-2 record whose checksum holds. */
json_t *wm_journal_parse_record(const char *line, size_t len);

/* True when journal.jsonl was unlinked while open (records would be lost). */
bool wm_journal_deleted(const struct wm_journal *j);

/* Task counts by state (size WM_TASK_STATUS_COUNT, borrowed, kept current
 * by the caller) written into every record's "run" part, so that `wm list`
 * can read a run's progress from the journal's last line. */
void wm_journal_set_counts(struct wm_journal *j, const size_t *counts);

#endif
