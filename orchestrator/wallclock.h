/*
 * wallclock.h - the wall clock of scheduling code (wm run --every,
 * wm schedule), and its test hook.
 *
 * WM_TEST_NOW=TIME (UTC, as `--since` reads it: 2026-03-08T01:59:00Z)
 * starts this clock at TIME; from there it runs at the real rate, but
 * every wait for a fire time returns at once, the clock jumped to that
 * time. Tests see days of a schedule, DST changes included, in a second.
 * Only the scheduling code reads it: runs, journals and audit lines keep
 * the real time. Unset: the real clock (CLOCK_REALTIME).
 */
#ifndef WM_ORCHESTRATOR_WALLCLOCK_H
#define WM_ORCHESTRATOR_WALLCLOCK_H

#include <signal.h>
#include <stdint.h>

#include "common/error.h"

/* Reads WM_TEST_NOW once; -1 with *err (exit code 2) when it is set and
 * not a time. */
int wm_wallclock_init(struct wm_error **err);
/* Milliseconds since the epoch. */
long long wm_wallclock_now(void);
/* Waits until wall time t (ms), looking at the clock again at least each
 * minute so that a clock set meanwhile is noticed; 0 then. A signal of
 * `stop` (blocked by the caller) ends the wait early: its number. */
int wm_wallclock_sleep_until(long long t, const sigset_t *stop);
/* A delay in [0, jitter_ms) for fire time `fire` of workflow `name`: the
 * same for the same fire, different across workflows and fires. */
uint64_t wm_wallclock_jitter(const char *name, long long fire, uint64_t jitter_ms);

#endif
