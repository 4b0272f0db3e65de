/*
 * notifyq.h - the notification queue of a run: <run>/notify.jsonl.
 *
 * The orchestrator appends each notification that falls due (one line,
 * one write(), then fdatasync: durable before anything else happens, so a
 * notification due when wm was killed is still there for `wm resume`); a
 * separate delivery process (build/wm-notify) sends them and appends the
 * outcome; whoever holds the run's lock later copies outcomes into the
 * audit log and appends that it did. Three kinds of line, one compact JSON
 * object each:
 *     {"kind":"due","id":N,"event":"run.failed","target":{...},"body":{...}}
 *     {"kind":"result","id":N,"ok":true,"attempts":2,"detail":"HTTP 200"}
 *     {"kind":"audited","id":N}
 * A notification is pending while it has no result, and its result is
 * unaudited while it has no "audited" line. Nothing secret is written: a
 * target names the variable holding its key (secret_env), never the key.
 *
 * Bounded: at most WM_NOTIFYQ_MAX_DUE notifications per run and
 * WM_NOTIFYQ_MAX_BYTES bytes; past either an append fails (the caller
 * records the drop), so a task that triggers events in a loop cannot fill
 * the disk. A torn last line (a crash mid-write) is ignored by readers.
 */
#ifndef WM_STATE_NOTIFYQ_H
#define WM_STATE_NOTIFYQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define WM_NOTIFYQ_FILE "notify.jsonl"
#define WM_NOTIFYQ_MAX_DUE 1000
#define WM_NOTIFYQ_MAX_BYTES (4UL << 20)
#define WM_NOTIFYQ_LINE_MAX (256UL << 10)

struct wm_notifyq_item {
	long id;
	json_t *due;	/* the "due" line (owned) */
	json_t *result; /* its "result" line, or NULL: pending (owned) */
	bool audited;
};

struct wm_notifyq {
	struct wm_notifyq_item *v; /* in id order */
	size_t n;
};

/* Reads the queue of the run directory (missing: empty). Lines that are
 * not well-formed are skipped. */
int wm_notifyq_load(const char *run_dir, struct wm_notifyq *q, struct wm_error **err);
void wm_notifyq_release(struct wm_notifyq *q);
/* The next id to give (1 + the largest due id). */
long wm_notifyq_next_id(const struct wm_notifyq *q);
/* Counts of items without a result, and with an unaudited result. */
size_t wm_notifyq_pending(const struct wm_notifyq *q);
size_t wm_notifyq_unaudited(const struct wm_notifyq *q);

/* Appends one line (`line` is borrowed; "kind" must be set) and makes it
 * durable. A "due" line past the bounds fails with ENOSPC. */
int wm_notifyq_append(const char *run_dir, json_t *line, struct wm_error **err);

/* For the holder of the run's lock: every unaudited result becomes an
 * audit line, "notify.delivered" or "notify.failed" (fields id, event,
 * target: a webhook's scheme://host[:port] or a command's argv[0],
 * attempts, detail), flushed, then marked audited in the queue. */
struct wm_audit;
int wm_notifyq_audit(const char *run_dir, struct wm_audit *a, struct wm_error **err);

#endif
