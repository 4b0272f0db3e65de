/*
 * event.h - what happens during a run, as the scheduler reports it.
 *
 * One list (WM_EVENTS) names every event once: its enum value, the name the
 * audit log and --json use, and whether it is a task boundary (its record
 * must be durable before anything else starts). Everything else is derived
 * from the list, so adding an event is one line.
 *
 * Events flow one way: executor -> scheduler (which updates the task's one
 * record in the run state first) -> the run's hook: journal, audit log,
 * then observers (progress, --json). An event borrows everything it points
 * to for the duration of the hook.
 */
#ifndef WM_ORCHESTRATOR_EVENT_H
#define WM_ORCHESTRATOR_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "orchestrator/decide.h"
#include "sandbox/sandbox.h"
#include "state/runstate.h"

/* X(ENUM, "audit.name", boundary) */
#define WM_EVENTS(X)                                                           \
	X(RUN_START, "run.start", false)                                       \
	X(RUN_RESUME, "run.resume", false)                                     \
	X(RUN_END, "run.end", false)                                           \
	X(TASK_START, "task.start", true)                                      \
	X(TASK_END, "task.end", false)                                         \
	X(TASK_ADOPTED, "task.adopted", true)                                  \
	X(ADOPT_FAILED, "task.adopt.failed", false)                            \
	X(DECISION, "decision", true)                                          \
	X(TASK_RETRY, "task.retry", false)                                     \
	X(TASK_SKIP, "task.skip", true)                                        \
	X(SECCOMP_DENIED, "seccomp.denied", false)                             \
	X(SECCOMP_SUPPRESSED, "seccomp.denied.suppressed", false)              \
	X(LIMIT_HIT, "limit.hit", false)                                       \
	X(SLA_BREACH, "sla.breach", false)                                     \
	X(BREAKER, "breaker.open", true)                                       \
	X(ROLLBACK_START, "rollback.start", false)                             \
	X(ROLLBACK_END, "rollback.end", true)                                  \
	X(ROLLBACK_MANUAL, "rollback.manual", false)                           \
	X(INTERRUPT, "run.interrupt", true)                                    \
	/* task cache: outputs restored (detail: the run that made them; */    \
	/* not a boundary: a crash loses it, resume looks it up again) */      \
	X(TASK_CACHED, "task.cached", false)                                   \
	X(CACHE_MISS, "cache.miss", false)                                     \
	X(CACHE_REJECTED, "cache.rejected", false)                             \
	X(CACHE_STORE_FAILED, "cache.store.failed", false)                     \
	/* every tick_ms while tasks run: for live progress, never recorded */ \
	X(TICK, "tick", false)

enum wm_event_type {
#define WM_EVENT_ENUM(e, name, boundary) WM_EV_##e,
	WM_EVENTS(WM_EVENT_ENUM)
#undef WM_EVENT_ENUM
		WM_EV_COUNT
};

/* The audit name of an event type, e.g. "task.start". */
const char *wm_event_name(enum wm_event_type t);
/* A task boundary: recorded durably before the next task starts. */
bool wm_event_is_boundary(enum wm_event_type t);

struct wm_event {
	enum wm_event_type type;
	long task; /* index, -1 for run-level events */
	unsigned attempt;
	enum wm_task_status state;		/* the task's state after the event */
	const struct wm_sandbox_result *result; /* TASK_END, ROLLBACK_END */
	const struct wm_action *action;		/* DECISION */
	const char *detail;			/* skip reason, syscall, limit, rollback text ... */
	uint64_t ms;				/* duration, delay or SLA as the type says */
	uint64_t count;				/* SECCOMP_*: how many calls; RUN_END: the
						   run's whole duration (ms) */
};

#endif
