/*
 * clock.h - the two millisecond clocks.
 *
 * wm_mono_ms() (CLOCK_MONOTONIC) measures: deadlines, timeouts, durations;
 * it never jumps when the system time is set, and means nothing across
 * boots. wm_wall_ms() (CLOCK_REALTIME, since the epoch) dates: what is
 * recorded in checkpoints, journals and audit lines, and shown to users.
 * Never subtract one from the other.
 */
#ifndef WM_COMMON_CLOCK_H
#define WM_COMMON_CLOCK_H

#include <stdint.h>

uint64_t wm_mono_ms(void);
long long wm_wall_ms(void);

#endif
