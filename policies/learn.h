/*
 * learn.h - what `wm policy learn` saw, and the policy it writes from it.
 *
 * A `struct wm_learned` collects, over every task of a learning run, the
 * system calls made (by name, with the tasks that made them and how often),
 * the socket families and addresses tried, the paths opened for writing
 * outside the workspace and $WM_OUT, the capabilities the calls may need,
 * and the peaks. sandbox/ fills it while it answers the calls; this file
 * only keeps counts and writes YAML: no system calls.
 *
 * Lifecycle: `struct wm_learned l = { 0 };` ... wm_learned_release(&l).
 * Tallies keep at most WM_LEARN_MAX_TALLY distinct entries each (the rest
 * are counted in `more`), so a hostile task cannot grow wm's memory.
 */
#ifndef WM_POLICIES_LEARN_H
#define WM_POLICIES_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policies/policy.h"

#define WM_LEARN_MAX_TALLY 64

struct wm_learn_count {
	char *what;
	uint64_t count;
};

struct wm_learn_tally {
	struct wm_learn_count *v;
	size_t n, alloc;
	uint64_t more; /* entries beyond WM_LEARN_MAX_TALLY, counted only */
};

struct wm_learn_call {
	char *name;
	uint64_t count;
	struct wm_learn_tally tasks; /* task -> how often it made the call */
	int group;		     /* enum wm_risk_group (score.h), -1: none */
	bool refused;		     /* answered with the base's errno, not let through */
	bool base_denied;	     /* some call was one the base denies (let through) */
};

struct wm_learned {
	struct wm_learn_call *calls;
	size_t n_calls, alloc;
	struct wm_learn_tally families;	 /* "AF_INET" ... */
	struct wm_learn_tally addresses; /* "connect 127.0.0.1:8080" ... */
	struct wm_learn_tally paths;	 /* written outside the workspace and $WM_OUT */
	struct wm_learn_tally caps;	 /* "cap_chown (fchownat)" ... */
	bool inet;			 /* an AF_INET/AF_INET6 socket was made */
	bool beyond_loopback;		 /* an address other than loopback was tried */
	uint64_t unnamed;		 /* calls libseccomp cannot name */
	uint64_t task_starts; /* clone, fork, vfork of the task running now (the caller resets) */
	/* Peaks over the tasks; 0: not measured. */
	uint64_t peak_memory; /* bytes */
	uint64_t peak_pids;   /* processes and threads started, + 1: a bound on the peak */
	uint64_t wall_ms;     /* the longest task's */
	uint64_t cpu_ms;      /* the most CPU one task used */
	/* Why memory and pids cannot be held per task on this host (they are
	 * per process and per user there), or NULL: the learned policy then
	 * keeps the base's, since peaks measured here say nothing of them. */
	char *per_task_limits_off;
	struct wm_learn_tally runs; /* task -> exit status, in order */
};

/* The calls the learning filter lets through without asking wm (every
 * program makes them, often): the sandbox's helper's own (execve, exit,
 * exit_group) and the hottest memory, I/O and signal calls. The learned
 * policy allows them all. NULL-terminated. */
extern const char *const wm_learn_unwatched[];

void wm_learned_release(struct wm_learned *l);
/* Counts one call of `name` by `task`; calls refused and calls let
 * through are counted apart (clone with and without namespace flags). */
void wm_learned_call(struct wm_learned *l, const char *task, const char *name, int group,
		     bool refused, bool base_denied);
/* Counts `what` n times; bytes other than printable ASCII (and the
 * backslash) are kept as \xNN, so that any entry can stand in a comment. */
void wm_learn_tally_add(struct wm_learn_tally *t, const char *what, uint64_t n);

/* The action `p`'s filter takes for a call of `name` with these argument
 * values: a matching denial wins over a matching allow, which wins over
 * the default (as the sandbox builds the filter). *errno_ret gets the errno
 * (0: EPERM) of a denial. Without a filter everything is WM_SC_ALLOW. */
enum wm_seccomp_action wm_policy_call_action(const struct wm_policy *p, const char *name,
					     const uint64_t args[6], int *errno_ret);
/* Does p deny `name` by name (an unconditional rule that refuses it)? A
 * policy inheriting p cannot allow such a call. */
bool wm_learn_denied_by_name(const struct wm_policy *p, const char *name);
/* The risk group of a call with these arguments (score.h), -1 for none:
 * clone with a CLONE_NEW* flag is "namespaces". */
int wm_learn_group_of(const char *name, const uint64_t args[6]);

/* A limit from a peak: peak * factor, at least `floor`, and never above
 * the base's own limit (`base`, 0: none). 0 when nothing was measured. */
uint64_t wm_learn_headroom(uint64_t peak, unsigned factor, uint64_t floor, uint64_t base);
/* Headroom factors of the learned limits (README.md, "wm policy learn"). */
#define WM_LEARN_MEMORY_FACTOR 2
#define WM_LEARN_PIDS_FACTOR 2
#define WM_LEARN_TIME_FACTOR 3

/* The policy file (`version: 1`, one policy `name` inheriting `base`) that
 * allows exactly what was learned; `granted` is a bit per risk group
 * given with --grant; `origin` says in a comment what was run. Stable
 * order: calls by name, tallies by first sight. Caller frees. */
char *wm_learned_yaml(const struct wm_policy *base, const char *name, const struct wm_learned *l,
		      uint32_t granted, const char *origin);

#endif
