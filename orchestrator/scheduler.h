/*
 * scheduler.h - runs a planned workflow's tasks in their sandboxes.
 *
 * One thread, one event loop: poll() over a signalfd (SIGINT, SIGTERM,
 * SIGHUP), a timerfd (timeouts, kill grace periods, retry backoff, SLAs)
 * and, per running task, the fds its sandbox asks to be watched (pidfd,
 * status socket, seccomp notify fd, output pipe). A task's output reaches
 * its log through wm, never through a file the task holds. Ready
 * tasks start up to `max_parallel`, highest priority first, then longest
 * remaining path first, so the critical path starts early.
 *
 * The scheduler knows tasks by index (workflow order). It decides nothing by
 * itself after an attempt: decide.c does. It reports everything through
 * `on_event`, which the caller turns into progress output, journal records,
 * audit lines and checkpoints; a hook never blocks the loop for long.
 *
 * Lifecycle: fill a struct wm_sched_config, wm_sched_new(), optionally mark
 * tasks already done (resume) with wm_sched_keep(), wm_sched_run() once,
 * read states with wm_sched_task(), wm_sched_free().
 */
#ifndef WM_ORCHESTRATOR_SCHEDULER_H
#define WM_ORCHESTRATOR_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "orchestrator/attempt.h"
#include "orchestrator/decide.h"
#include "sandbox/sandbox.h"
#include "state/runstate.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

enum wm_event_type {
	WM_EV_TASK_START,
	WM_EV_TASK_END,
	WM_EV_DECISION,
	WM_EV_TASK_RETRY,
	WM_EV_TASK_SKIP,
	WM_EV_SECCOMP_DENIED,
	WM_EV_SECCOMP_SUPPRESSED, /* denials past the per-task cap: counted, not named */
	WM_EV_LIMIT_HIT,
	WM_EV_SLA_BREACH,
	WM_EV_BREAKER,
	WM_EV_ROLLBACK_START,
	WM_EV_ROLLBACK_END,
	WM_EV_ROLLBACK_MANUAL,
	WM_EV_INTERRUPT,
	WM_EV_TICK, /* every tick_ms while tasks run: for live progress, never recorded */
};

/* The audit name of an event type, e.g. "task.start". */
const char *wm_event_name(enum wm_event_type t);

struct wm_event {
	enum wm_event_type type;
	long task; /* index, -1 for run-level events */
	unsigned attempt;
	enum wm_task_status state;		/* the task's state after the event */
	const struct wm_sandbox_result *result; /* TASK_END, ROLLBACK_END */
	const struct wm_action *action;		/* DECISION */
	const char *detail;			/* skip reason, syscall, limit, rollback text ... */
	uint64_t ms;				/* duration, delay or SLA as the type says */
	uint64_t count;				/* SECCOMP_*: how many calls */
};

struct wm_sched_config {
	const struct wm_workflow *wf;
	const struct wm_dag *dag;
	const struct wm_sandbox_profile *const *profiles; /* per task */
	const struct wm_policy *const *policies;	  /* per task */
	struct wm_run_paths paths;
	unsigned max_parallel;
	bool keep_going;
	bool interactive;	/* ask run/skip/abort on the terminal before each task */
	uint64_t kill_grace_ms; /* SIGTERM -> SIGKILL; 0: 2000 */
	uint64_t tick_ms;	/* 0: no WM_EV_TICK */
	void (*on_event)(void *ctx, const struct wm_event *ev);
	void *ctx;
};

struct wm_sched_task_info {
	enum wm_task_status state;
	unsigned attempts;
	int exit_code;
	int signal;
	uint64_t started_ms, ended_ms; /* wall clock, ms since the epoch; 0 if never */
	uint64_t queued_ms;	       /* when it became ready */
};

struct wm_sched;

struct wm_sched *wm_sched_new(const struct wm_sched_config *cfg);
/* Marks a task as already succeeded (kept by resume): it will not run. */
void wm_sched_keep(struct wm_sched *s, size_t task);
int wm_sched_run(struct wm_sched *s, enum wm_run_status *outcome, struct wm_error **err);
const struct wm_sched_task_info *wm_sched_task(const struct wm_sched *s, size_t task);
/* Asks a running loop to stop as on SIGTERM (e.g. from a hook). */
void wm_sched_interrupt(struct wm_sched *s);
void wm_sched_free(struct wm_sched *s);

#endif
