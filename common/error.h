/*
 * error.h - the one error type every fallible function reports through.
 *
 * Convention (crun's): a fallible function returns a negative int (or NULL)
 * and takes `struct wm_error **err` last. It fails in one line:
 *
 *     return wm_error_set(err, errno, "open `%s`", path);
 *
 * and a caller adds context with wm_error_wrap(err, "load policy"), which
 * prefixes "load policy: ". *err must be NULL on entry; on failure it owns a
 * heap error that the caller frees with wm_error_free() (or hands up).
 * Only orchestrator/main.c prints errors and chooses the exit code, from
 * `exit_code`.
 */
#ifndef WM_COMMON_ERROR_H
#define WM_COMMON_ERROR_H

#include <stdio.h>

/* Process exit codes of SPEC.md section 2. */
enum wm_exit {
	WM_EXIT_OK = 0,
	WM_EXIT_FAILED = 1, /* a task failed */
	WM_EXIT_USAGE = 2,  /* bad input: workflow, policy, usage, unknown run */
	WM_EXIT_CANNOT = 3, /* locked by a live orchestrator, missing kernel feature */
	WM_EXIT_INTERRUPTED = 130,
};

struct wm_error {
	int errnum;    /* errno of the failure, 0 if none */
	int exit_code; /* enum wm_exit the command should end with */
	char *msg;     /* message with its context, without strerror */
};

/* Sets *err (exit code WM_EXIT_FAILED). Returns -1 so callers can return it. */
int wm_error_set(struct wm_error **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, choosing the exit code: wm_error_setx(err, WM_EXIT_USAGE, "..."). */
int wm_error_setx(struct wm_error **err, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A located input error: "FILE:LINE:COL: message", exit code WM_EXIT_USAGE. */
int wm_error_set_at(struct wm_error **err, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prefixes context to an existing error: "context: old message". Returns -1. */
int wm_error_wrap(struct wm_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Full text: message plus ": strerror" when errnum is set. Caller frees. */
char *wm_error_text(const struct wm_error *e);
void wm_error_free(struct wm_error *e);
/* Prints "wm: <text>" to f. */
void wm_error_print(const struct wm_error *e, FILE *f);

#endif
