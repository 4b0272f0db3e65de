/*
 * when.h - points in time as users write them (`--since WHEN`).
 *
 * wm records and shows times in UTC (run ids, `wm list`, audit lines), so
 * the dates users type are UTC days too:
 *   absolute  "2026-11-22" (00:00 UTC), "2026-11-22T08:15", "2026-11-22
 *             08:15:03", with optional ".mmm" after the seconds and an
 *             optional trailing "Z";
 *   relative  an age before now (units.h, wm_parse_age): "30m", "2h",
 *             "3d", "1w", "1d12h";
 *   words     "today" (00:00 UTC of now's day), "yesterday" (the day
 *             before, 00:00 UTC), "now".
 * Pure: the commands pass wm_wall_ms() as now_ms, the tests a fixed value.
 * Both return 0 with *ms (milliseconds since the epoch), or -1 with *err
 * (exit code 2) naming the input and the forms accepted.
 */
#ifndef WM_COMMON_WHEN_H
#define WM_COMMON_WHEN_H

#include "common/error.h"

/* Absolute forms only. */
int wm_parse_utc_time(const char *s, long long *ms, struct wm_error **err);
/* Any form above. */
int wm_parse_since(const char *s, long long now_ms, long long *ms, struct wm_error **err);

#endif
