/*
 * sched_internal.h - what scheduler.c (records, decisions, attempts) and
 * sched_loop.c (the loop, timers, interruption, launching, rollback)
 * share; not for other files.
 */
#ifndef WM_ORCHESTRATOR_SCHED_INTERNAL_H
#define WM_ORCHESTRATOR_SCHED_INTERNAL_H

#include <signal.h>

#include "orchestrator/prompt.h"
#include "orchestrator/readyq.h"
#include "orchestrator/scheduler.h"

#define DEFAULT_KILL_GRACE_MS 2000

enum phase {
	PH_IDLE,
	PH_ONLY_IF,
	PH_BODY,
	PH_WAIT_RETRY,
	PH_ROLLBACK,
};

/* The scheduler's own view of a task; its recorded state is in `rec`. */
struct trt {
	struct wm_task_state *rec;
	size_t deps_left;
	enum phase phase;
	bool only_if_done;
	bool kept;
	bool cancelling; /* interrupted while running: ends as cancelled */
	bool timed_out;
	bool sla_started;  /* sla_start is set: the first attempt began */
	bool sla_cancel;   /* the cancel level ended this attempt */
	unsigned sla_done; /* bit per enum wm_sla_level: breach reported */
	struct wm_exec_job *job;
	unsigned base_attempts; /* attempts of earlier runs (resume): numbering */
	unsigned base_lost;	/* goes on, but the retry budget is this run's own */
	uint64_t deadline;	/* monotonic ms; 0: none */
	uint64_t kill_at;	/* SIGKILL after the grace period */
	uint64_t sla_start;	/* when the first attempt began (its `sla` counts from there) */
	uint64_t retry_at;
	uint64_t queued_ms; /* wall ms it last became ready */
	size_t active_pos;  /* index in s->active, or NOT_ACTIVE */
};

#define NOT_ACTIVE ((size_t)-1)

struct wm_sched {
	struct wm_sched_config cfg;
	struct wm_sched_clock clock;
	struct trt *t;
	struct wm_readyq ready;
	size_t *settle; /* tasks whose end must be propagated to dependents */
	size_t settle_n;
	size_t *completed; /* succeeded tasks, in completion order (rollback) */
	size_t completed_n;
	size_t *active; /* tasks with a job or waiting to retry: what the loop watches */
	size_t active_n;
	size_t running;
	size_t waiting;
	size_t rollback_left; /* rolling back: completed[0 .. rollback_left) still to do */
	bool rolling_back;
	bool stopping; /* a task failed and keep_going is off */
	bool halted;   /* circuit breaker or interrupt: nothing more starts */
	bool interrupted;
	bool any_failed;
	unsigned signals;
	uint64_t next_tick;
	struct wm_breaker breaker;
	int sfd;
	sigset_t oldmask;
	bool mask_set;
	struct wm_prompt *prompt; /* --interactive on a terminal, else NULL */
	long asking;		  /* the task the prompt asks about, -1: none */
};

uint64_t sch_now(const struct wm_sched *s);
long long sch_wall(const struct wm_sched *s);
void sch_emit_ev(struct wm_sched *s, struct wm_event *ev);
/* Group commit (the config's barrier): true when every event so far is
 * durable. */
bool sch_barrier(struct wm_sched *s);
/* Starts a job once everything recorded so far is durable (the barrier),
 * so a job never outlives a crash of wm without a record of its start. */
int sch_start_job(struct wm_sched *s, const struct wm_exec_request *rq, struct wm_exec_job **job,
		  struct wm_error **err);
void sch_emit(struct wm_sched *s, enum wm_event_type type, long task, const char *detail,
	      uint64_t ms);
void sch_retrack(struct wm_sched *s, size_t task);
void sch_settle(struct wm_sched *s);
void sch_finish(struct wm_sched *s, size_t task, enum wm_task_status st);
void sch_skip(struct wm_sched *s, size_t task, const char *why);
uint64_t sch_task_timeout(const struct wm_sched *s, size_t task);
bool sch_times_out(const struct wm_sched *s, size_t task);
void sch_start_step(struct wm_sched *s, size_t task);
void sch_reap(struct wm_sched *s, size_t task);
int sch_setup_signals(struct wm_sched *s, struct wm_error **err);
void sch_seed(struct wm_sched *s);

#endif
