/*
 * rundoc.h - the run document: everything known about one run, as one
 * JSON object, for the dashboard (GET /api/v1/runs/{id}/report of
 * `wm serve`) and `wm report`, whose drawing code (serve/web/draw.js)
 * reads nothing else.
 *
 *   format, version      "wm-run-document", 1
 *   generated_ms         when the document was made
 *   run_id, name, state  state as `wm list` says it ("orphaned" included)
 *   status               the `wm status --json` object (runview.h)
 *   plan                 {tasks: [{id, title, level, depends, state, policy,
 *                        attempts}], edges: [{from, to}], levels}: the DAG
 *                        of the run's copy of its workflow, each task's
 *                        level its longest path from a root (0 for a root);
 *                        plan.error says why the DAG is missing when the
 *                        copy cannot be read (tasks then come from the
 *                        checkpoint, all at level 0)
 *   attempts             [{task, attempt, queued_ms, started_ms, ended_ms,
 *                        duration_ms, exit, signal, limit, denied,
 *                        peak_memory, outcome, why}] in start order, from
 *                        the audit log (queued_ms: when it entered the
 *                        ready queue; outcome: the decision that followed,
 *                        null while running); from the checkpoint (one
 *                        per task that started) when the log is unreadable
 *   decisions            [{task, attempt, at_ms, what, why}]
 *   denied               [{task, syscall}]   limits: [{task, limit}]
 *   critical_path(_ms)   from stats, repeated for the drawing code
 *   stats                the `wm stats RUN --json` object (runstats.h)
 *   logs                 {task: {size, tail, truncated}} (WM_RUNDOC_LOGS):
 *                        the last bytes of each log, from a line start,
 *                        invalid UTF-8 replaced by U+FFFD
 *   audit                {verified, intact, problem, first_bad_seq, lines,
 *                        message, notes} (WM_RUNDOC_VERIFY), or {verified:
 *                        false, error} when the log or key cannot be read
 *
 * Everything read from the run directory is bounded (audit lines, log
 * tails: WM_RUNDOC_LOG_TAIL per task, WM_RUNDOC_LOGS_MAX in all) and
 * opened without following links (safeio.h).
 */
#ifndef WM_ORCHESTRATOR_RUNDOC_H
#define WM_ORCHESTRATOR_RUNDOC_H

#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"

#define WM_RUNDOC_FORMAT "wm-run-document"
#define WM_RUNDOC_VERSION 1
#define WM_RUNDOC_LOG_TAIL (16U << 10) /* bytes of one task's log */
#define WM_RUNDOC_LOGS_MAX (4U << 20)  /* bytes of all tails together */

enum wm_rundoc_flags {
	WM_RUNDOC_LOGS = 1 << 0,   /* each task's log tail */
	WM_RUNDOC_VERIFY = 1 << 1, /* verify the audit log ($STATE/audit.key) */
};
#define WM_RUNDOC_ALL (WM_RUNDOC_LOGS | WM_RUNDOC_VERIFY)

/* The document of run_id (a full id or a unique prefix, wm_rundir_resolve).
 * New ref, or NULL with *err: an unknown run id (exit code 2), or a run
 * whose state cannot be loaded at all. */
json_t *wm_rundoc_build(const char *state_dir, const char *run_id, unsigned flags,
			struct wm_error **err);

/* Appends doc as JSON text that is safe inside an HTML <script> element:
 * every '<' is written \u003c, so no task's log can close the element or
 * open a comment. */
void wm_rundoc_dump_for_html(json_t *doc, struct wm_buf *out);

/* Appends the whole report page of doc (`wm report`): one self-contained
 * HTML file with the dashboard's style and drawing code inline
 * (serve/assets.h), doc inline as JSON (as wm_rundoc_dump_for_html
 * writes it), a task table for readers without JavaScript, and a
 * Content-Security-Policy that lets the page load nothing at all. */
void wm_rundoc_html(json_t *doc, struct wm_buf *out);

/* Appends the first len bytes of s to out as valid UTF-8: each byte that
 * does not begin a well-formed sequence becomes U+FFFD. */
void wm_rundoc_utf8_clean(const char *s, size_t len, struct wm_buf *out);

#endif
