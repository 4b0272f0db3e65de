/*
 * scheduler.h - runs a planned workflow's tasks through an executor.
 *
 * One thread, one event loop: each turn polls the descriptors every
 * running attempt's executor names, and a signalfd (SIGINT, SIGTERM,
 * SIGHUP) when it handles signals; it wakes by the earliest timer
 * (timeouts, kill grace periods, retry backoff, SLAs, ticks). Ready tasks
 * start up to `max_parallel`, highest priority first, then longest
 * remaining path first, so the critical path starts early. Rollbacks run
 * through the same loop, one at a time, so signals and timeouts are served
 * while they run too.
 *
 * The scheduler works on the one task record, the run state's
 * (state/runstate.h): it updates a task's record, then reports the event
 * (event.h) to `on_event`, which makes it durable and shows it. It decides
 * nothing by itself after an attempt: decide.c does. A join node (a task
 * without a body) succeeds as soon as its dependencies allow, with no
 * attempt.
 *
 * Time and waiting come from a clock the caller may replace: tests drive
 * the scheduler in virtual time with a fake executor.
 *
 * Lifecycle: fill a struct wm_sched_config, wm_sched_new(), optionally mark
 * tasks already done (resume) with wm_sched_keep(), wm_sched_run() once,
 * wm_sched_free().
 */
#ifndef WM_ORCHESTRATOR_SCHEDULER_H
#define WM_ORCHESTRATOR_SCHEDULER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "orchestrator/event.h"
#include "orchestrator/executor.h"
#include "policies/policy.h"
#include "state/runstate.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

/* Time, waiting and chance; NULL in the config: the real ones. */
struct wm_sched_clock {
	uint64_t (*mono_ms)(void *ctx); /* for timers */
	uint64_t (*wall_ms)(void *ctx); /* for the record */
	/* Waits until a descriptor in pfd is ready or the monotonic time
	 * `until` (0: no limit) has come; fills revents. -1 with errno. */
	int (*wait)(void *ctx, struct pollfd *pfd, size_t n, uint64_t until);
	double (*draw)(void *ctx); /* in [0, 1): the backoff's jitter */
	void *ctx;
};

struct wm_sched_config {
	const struct wm_workflow *wf;
	const struct wm_dag *dag;
	struct wm_run_state *rs;		 /* the task records, in workflow order */
	struct wm_executor *exec;		 /* borrowed */
	const struct wm_policy *const *policies; /* per task: its default timeout */
	const struct wm_sched_clock *clock;	 /* NULL: real time, and signals handled */
	unsigned max_parallel;
	bool keep_going;
	bool interactive;	/* ask run/skip/abort on the terminal before each task */
	bool adopt;		/* resume: take back jobs left running, where the
				 * executor can (records in state running) */
	uint64_t kill_grace_ms; /* SIGTERM -> SIGKILL; 0: 2000 */
	uint64_t tick_ms;	/* 0: no WM_EV_TICK */
	void (*on_event)(void *ctx, const struct wm_event *ev);
	/* Group commit: makes every event handed to on_event so far durable.
	 * Called before a job starts and before the loop waits, so a turn's
	 * records cost one sync; false when they could not be (nothing more
	 * is started then). NULL: on_event makes each durable itself. */
	bool (*barrier)(void *ctx);
	/* The task cache, or NULL: asked before a task's first body attempt
	 * of this run (after its only_if) whether its outputs can be restored
	 * instead. True: they are in place and the record's cache_key and
	 * cache_run are set; the task ends as cached without running. */
	bool (*cache_restore)(void *ctx, size_t task);
	void *ctx;
};

struct wm_sched;

struct wm_sched *wm_sched_new(const struct wm_sched_config *cfg);
/* Marks a task as already succeeded (kept by resume): it will not run. */
void wm_sched_keep(struct wm_sched *s, size_t task);
int wm_sched_run(struct wm_sched *s, enum wm_run_status *outcome, struct wm_error **err);
/* When a task last became ready (wall ms), for the wait it had in the queue. */
uint64_t wm_sched_queued_ms(const struct wm_sched *s, size_t task);
/* Asks a running loop to stop as on SIGTERM (e.g. from a hook). */
void wm_sched_interrupt(struct wm_sched *s);
void wm_sched_free(struct wm_sched *s);

#endif
