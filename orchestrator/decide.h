/*
 * decide.h - what to do after a task attempt (SPEC.md section 6).
 *
 * wm_decide() is a pure function: the same outcome always yields the same
 * decision, with no clock, no randomness and no I/O (the caller passes the
 * jitter draw in). Every decision carries a short `what` and a human `why`
 * that the audit log and the checkpoint record verbatim.
 *
 * The circuit breaker counts consecutive failed tasks (not attempts) and trips
 * at WM_BREAKER_THRESHOLD; a success resets it.
 */
#ifndef WM_ORCHESTRATOR_DECIDE_H
#define WM_ORCHESTRATOR_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/sandbox.h"

#define WM_BACKOFF_CAP_MS (5ULL * 60 * 1000)
#define WM_BREAKER_THRESHOLD 5
/* Lost attempts retried without counting against the task's retries. */
#define WM_LOST_RETRY_CAP 3u

struct wm_outcome {
	int exit_code;		    /* -1 when killed by a signal or never started */
	int signal;		    /* 0 unless killed */
	enum wm_limit limit;	    /* the limit that ended it, if any */
	const char *denied;	    /* first syscall denied by seccomp, or NULL; only a
				     * failed attempt is judged by it */
	const char *setup_error;    /* the sandbox could not start it, or NULL */
	const char *out_error;	    /* $WM_OUT (limits.out) could not be copied out, or NULL */
	const char *missing_output; /* a declared output absent after exit 0, or NULL */
	bool cancelled;		    /* stopped by the user (SIGINT/SIGTERM, wm cancel) */
	const char *lost;	    /* the infrastructure lost the attempt (a node failed,
				     * the job was preempted): why, or NULL */
	const char *ended_by;	    /* something outside wm ended it (a cluster's
				     * scheduler, an administrator): why, or NULL */
	const char *note;	    /* seen by the executor, explaining a failure ("it tried
				     * the network, and policy standard has network: none") */
	unsigned attempt;	    /* 1-based number of the attempt that just ended */
	unsigned base;		    /* attempts of the task before a resume: shown numbers
				     * go on from there (attempt counts only for retries) */
	unsigned lost_before;	    /* earlier attempts that were lost */
	unsigned retries;	    /* extra attempts allowed in total */
	uint64_t backoff_ms;	    /* first retry delay */
	double jitter;		    /* a draw in [0, 1): spreads the delay by +-20% */
};

enum wm_verdict {
	WM_VERDICT_SUCCEED,
	WM_VERDICT_RETRY,
	WM_VERDICT_FAIL,
	WM_VERDICT_CANCEL,
};

struct wm_action {
	enum wm_verdict verdict;
	uint64_t delay_ms; /* before the retry */
	bool lost;	   /* a retry that does not count against retries */
	const char *what;  /* "succeed", "retry", "fail", "cancel" */
	char why[256];
};

void wm_decide(const struct wm_outcome *o, struct wm_action *d);
/* The delay before retry number `attempt` (1 = the first retry). */
uint64_t wm_backoff_delay(uint64_t first_ms, unsigned attempt, double jitter);

struct wm_breaker {
	unsigned consecutive;
	bool tripped;
};

/* Records one finished task; returns true when this failure trips it. */
bool wm_breaker_record(struct wm_breaker *b, bool failed);

#endif
