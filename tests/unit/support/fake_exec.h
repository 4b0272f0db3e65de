/*
 * fake_exec.h - test support: an executor that runs nothing, in virtual
 * time, and the clock that goes with it.
 *
 * Each attempt ends as its task's script says (a duration and an exit
 * code, or hanging until terminated, ignoring SIGTERM if told to); the
 * default is 100 ms and exit 0. The clock's wait jumps virtual time to the
 * next attempt's end or the scheduler's next timer, whichever comes first,
 * so a test of a run with minutes of backoff takes microseconds. Every
 * start, end and signal is logged with its virtual time for the test to
 * check. An interrupt (as SIGINT) can be scheduled at a virtual time.
 */
#ifndef WM_TESTS_FAKE_EXEC_H
#define WM_TESTS_FAKE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/executor.h"
#include "orchestrator/scheduler.h"

struct fake_attempt {
	uint64_t ms;	  /* how long it runs */
	int exit_code;	  /* how it ends */
	bool hang;	  /* runs until terminated */
	bool ignore_term; /* SIGTERM does nothing: only SIGKILL ends it */
	enum wm_limit limit;
	const char *lost;     /* the executor lost it (free retry), with this reason */
	const char *ended_by; /* someone else ended it, with this reason */
};

enum fake_what { FAKE_START, FAKE_END, FAKE_SIGNAL, FAKE_ADOPT };

struct fake_log {
	enum fake_what what;
	uint64_t at; /* virtual ms */
	size_t task;
	enum wm_attempt_kind kind;
	unsigned attempt;
	int sig; /* FAKE_SIGNAL */
};

struct fake_exec;

struct fake_exec *fake_exec_new(size_t n_tasks);
void fake_exec_free(struct fake_exec *fx);
struct wm_executor *fake_exec_executor(struct fake_exec *fx);
const struct wm_sched_clock *fake_exec_clock(struct fake_exec *fx);
/* The script of one task's attempts of a kind, in order; later ones
 * repeat the last. Copied. */
void fake_exec_script(struct fake_exec *fx, size_t task, enum wm_attempt_kind kind,
		      const struct fake_attempt *v, size_t n);
/* Makes it an executor that is asked rather than polled on fds, as a
 * cluster's is: an attempt's end is seen at the first look after it,
 * looks every `interval_ms`. */
void fake_exec_polling(struct fake_exec *fx, uint64_t interval_ms);
/* A job of an earlier orchestrator, still there for adopt() to take:
 * the body's attempt `attempt` of the task, ending as `how` says. */
void fake_exec_leftover(struct fake_exec *fx, size_t task, unsigned attempt,
			const struct fake_attempt *how);
/* Looks taken so far (polling mode). */
size_t fake_exec_looks(const struct fake_exec *fx);
/* wm_sched_interrupt(s) once virtual time reaches `at`. */
void fake_exec_interrupt_at(struct fake_exec *fx, struct wm_sched *s, uint64_t at);

const struct fake_log *fake_exec_log(const struct fake_exec *fx, size_t *n);
size_t fake_exec_max_running(const struct fake_exec *fx);
uint64_t fake_exec_now(const struct fake_exec *fx);
/* The n-th (0-based) log entry of `what` for `task` and `kind`, or NULL. */
const struct fake_log *fake_exec_find(const struct fake_exec *fx, enum fake_what what, size_t task,
				      enum wm_attempt_kind kind, size_t nth);

#endif
