/*
 * tasklog.h - a task's log as a run shows it: the tail of the newest
 * attempt, and following the log as it grows (--output stream).
 */
#ifndef WM_ORCHESTRATOR_TASKLOG_H
#define WM_ORCHESTRATOR_TASKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

/* The last n lines of the task's newest attempt (its output after the
 * attempt's header line), or NULL when the log is missing or empty. *cut
 * tells whether earlier lines were left out. Caller frees. */
char *wm_tasklog_tail(const char *run_dir, const char *task, unsigned n, bool *cut);
/* Where the last n lines of text[0..len) begin. */
const char *wm_last_lines(const char *text, size_t len, unsigned n);

/* Does the newest attempt's end (50 lines) show a failed attempt to use
 * the network (unreachable, a name that does not resolve)? */
bool wm_tasklog_says_network(const char *run_dir, const char *task);

/* Where each task's log was read up to, and the line not yet ended. */
struct wm_tasklog_follow {
	off_t *off;
	struct wm_buf *partial;
	size_t n;
};

void wm_tasklog_follow_init(struct wm_tasklog_follow *f, size_t n_tasks);
void wm_tasklog_follow_release(struct wm_tasklog_follow *f);
/* Hands emit() each whole line task i's log gained since the last call
 * (final: also a last line without its newline). */
void wm_tasklog_follow(struct wm_tasklog_follow *f, const char *run_dir, size_t i, const char *task,
		       bool final, void (*emit)(void *ctx, const char *line, size_t len),
		       void *ctx);

#endif
