/*
 * crashpoint.h - TEST-ONLY fault injection for the crash tests.
 *
 * WM_TEST_CRASH_AT=KIND:N (KIND "checkpoint", "journal", "cache" or "notify":
 * a notification queued, not yet handed to wm-notify) makes the N-th
 * call of wm_crashpoint_hit(KIND) in this process return true; the caller
 * then raise(SIGKILL)s at its documented point. Unset: always false, one
 * getenv per call.
 */
#ifndef WM_STATE_CRASHPOINT_H
#define WM_STATE_CRASHPOINT_H

#include <stdbool.h>

bool wm_crashpoint_hit(const char *kind);

#endif
