/*
 * error.h - how wm reports failure: one idiom, after crun's
 * design-docs/error_handling.md. Three channels, each for its own news.
 *
 * 1. *err: a failure that stops the function. A fallible function returns
 *    a negative int (or NULL) and takes `struct wm_error **err` last. On
 *    success it leaves *err alone; on failure it sets it, in the statement
 *    that fails:
 *
 *        return wm_error_set(err, errno, "open `%s`", path);
 *
 *    *err is NULL on entry and the caller then owns the error: it hands it
 *    up (returns -1), adding context on the way (wm_error_wrap(err, "load
 *    policy") prefixes "load policy: "), or it handles it and calls
 *    wm_error_free(). err may be NULL: "do not tell me why". While an error
 *    is pending a second one is dropped (the first is the cause), so a
 *    caller adds its summary without asking whether a callee set one.
 *
 * 2. A diagnostics list (common/diag.h): what is wrong with an input file
 *    (workflow, policy, config), every problem at its FILE:LINE:COL,
 *    warnings too, so that one run reports them all. Such a function goes
 *    on after a problem and returns -1 when it added an error; it sets *err
 *    only when it could not read the input at all. Its caller prints the
 *    list and, on -1, adds its summary with wm_error_setx(err,
 *    WM_EXIT_USAGE, "FILE: N errors"), which keeps an error the callee set.
 *
 * 3. A status: an answer that is not a failure. wm_policy_at_least_as_strict
 *    gives 1 or 0, wm_lines_next 1 (a line) or 0 (the end), a command its
 *    exit status. A status never stands for an error: a negative value
 *    comes with *err set.
 *
 * Exit codes: every error carries the enum wm_exit (or, for `wm sandbox`,
 * the WM_SANDBOX_* status) its command ends with, chosen where the error is
 * made: wm_error_set gives WM_EXIT_FAILED, wm_error_setx and wm_error_make
 * the one they name (a problem located in an input is a diagnostic, not an
 * error).
 * A function that takes a callee's error as its own, because the failure
 * means something else at its level (a run's file that cannot be read is
 * a bad run: exit 2; whatever stops `wm sandbox` before the command runs
 * is 125), says so with wm_error_wrapx, in the statement that adds its
 * context. Nothing assigns exit_code. Only orchestrator/main.c prints an
 * error (wm_error_print) and exits with its code; library code never
 * prints one, never exits.
 *
 * In a forked child before exec there is no *err: the child reports its
 * first failure over a pipe (sandbox/internal.h, struct sb_fail) and
 * _exit()s with a documented status.
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
/* Both: wm_error_make(err, WM_EXIT_USAGE, errno, "read `%s`", path). */
int wm_error_make(struct wm_error **err, int exit_code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefixes context to an existing error: "context: old message". Returns -1. */
int wm_error_wrap(struct wm_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Takes a callee's error as this function's own, with the exit code it
 * means here: prefixes "context: " (fmt NULL: the message stays as it is).
 * Returns -1. */
int wm_error_wrapx(struct wm_error **err, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Full text: message plus ": strerror" when errnum is set. Caller frees. */
char *wm_error_text(const struct wm_error *e);
void wm_error_free(struct wm_error *e);
/* Prints "wm: <text>" to f. */
void wm_error_print(const struct wm_error *e, FILE *f);

#endif
