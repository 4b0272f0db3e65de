/*
 * sched_clock.h - the real clock the scheduler uses unless given another
 * (tests give it a virtual one).
 */
#ifndef WM_ORCHESTRATOR_SCHED_CLOCK_H
#define WM_ORCHESTRATOR_SCHED_CLOCK_H

#include "orchestrator/scheduler.h"

extern const struct wm_sched_clock wm_sched_real_clock;

#endif
