/*
 * units.h - durations and sizes as users write them.
 *
 * Durations: one or more <number><unit> pairs, unit ms, s, m or h, e.g.
 * "500ms", "90s", "2m", "1h30m". A bare number is rejected: "30" could mean
 * seconds or minutes, and guessing wrong kills a build.
 * Ages (how long ago, how old: `--since 3d`, `--older-than 1w`): the same,
 * with d (days) and w (weeks) too, e.g. "30m", "2h", "3d", "1w", "1d12h".
 * Sizes: <number>[K|M|G|T] with binary multiples (K = 1024), an optional
 * "i"/"iB"/"B" after the letter ("64MiB", "1GB"), or a bare byte count.
 *
 * The parsers return 0, or -1 with *err explaining why (message names the input).
 * wm_format_duration and wm_format_size return the shortest exact form ("1h30m",
 * "64M"); caller frees.
 */
#ifndef WM_COMMON_UNITS_H
#define WM_COMMON_UNITS_H

#include <stdint.h>

#include "common/error.h"

int wm_parse_duration(const char *s, uint64_t *ms, struct wm_error **err);
int wm_parse_age(const char *s, uint64_t *ms, struct wm_error **err);
int wm_parse_size(const char *s, uint64_t *bytes, struct wm_error **err);
char *wm_format_duration(uint64_t ms);
char *wm_format_size(uint64_t bytes);
/* Approximate, for people reading durations: "850ms", "1.38s", "12.3s",
 * "2m5s" (whole seconds from a minute on). */
char *wm_format_duration_human(uint64_t ms);
/* Approximate, for people reading sizes: "512B", "1.5K", "12M", "3.2G". */
char *wm_format_size_human(uint64_t bytes);

#endif
