/*
 * schedule.h - when a scheduled workflow fires: `every 6h`, a 5-field cron
 * expression, or a cron name (`@daily`), and the next fire time after a
 * given instant, in a time zone.
 *
 * Forms (wm_schedule_parse):
 *   every D      D an age (units.h: 30s, 15m, 6h, 1d, 1w), at least 1s. Fires
 *                at anchor + k * D: absolute time, time zones do not apply.
 *   M H DOM MON DOW   cron: minute 0-59, hour 0-23, day of month 1-31,
 *                month 1-12 or jan-dec, day of week 0-7 or sun-sat (0 and 7
 *                are Sunday). Each field: `*`, N, N-M, a step `*`/S, N-M/S
 *                or N/S (N to the end), and lists of these with commas.
 *                As in Vixie cron, when both DOM and DOW are restricted
 *                (neither starts with `*`) a day matches either; else both.
 *   @hourly @daily @midnight @weekly @monthly @yearly @annually
 *
 * Wall-clock rules (wm_schedule_next, cron forms), in the zone `tz` (an
 * IANA name such as "Europe/Berlin", NULL for the process's local zone),
 * computed by the C library (localtime_r under TZ):
 *   - a wall time that does not exist (spring forward: 02:30 on the day
 *     02:00 jumps to 03:00) fires once, at the first valid instant after
 *     the gap (03:00 local); several such times in one gap fire once;
 *   - a wall time that happens twice (fall back) fires once, at its first
 *     occurrence;
 *   - the search is over calendar fields, so month ends, leap days and
 *     DOW/DOM are the calendar's; an expression that can never match
 *     (`0 0 30 2 *`) is a parse error.
 *
 * wm_schedule_step decides what a scheduler does at `now` given the last
 * fire, including after clock jumps (see there). Single-threaded callers:
 * the zone is switched by setting TZ around the computation.
 */
#ifndef WM_COMMON_SCHEDULE_H
#define WM_COMMON_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum wm_schedule_kind { WM_SCHEDULE_EVERY, WM_SCHEDULE_CRON };

struct wm_schedule {
	enum wm_schedule_kind kind;
	uint64_t every_ms; /* EVERY */
	/* CRON: bit N set when value N matches. */
	uint64_t minutes;
	uint32_t hours, mdays;	 /* mdays: bits 1..31 */
	uint16_t months;	 /* bits 1..12 */
	uint8_t wdays;		 /* bits 0..6, 0 = Sunday */
	bool any_mday, any_wday; /* the field starts with `*` */
};

/* Parses `s`; 0, or -1 with *err (exit code 2) and *at the byte offset in
 * s of the problem (for FILE:LINE:COL). */
int wm_schedule_parse(const char *s, struct wm_schedule *out, size_t *at, struct wm_error **err);

/* Is `tz` written like an IANA zone name ("UTC", "America/New_York")?
 * Syntax only; wm_schedule_tz_exists checks the system knows it. */
bool wm_schedule_tz_name_ok(const char *tz);
/* Is `tz` in the system's time zone database ($TZDIR, else
 * /usr/share/zoneinfo)? The C library silently treats an unknown name as
 * UTC, so callers check first. */
bool wm_schedule_tz_exists(const char *tz);

/* The first fire time strictly after `after_ms` (milliseconds since the
 * epoch). EVERY: anchor_ms + k * every_ms. 0 never happens for a parsed
 * schedule; -1 with *err when the zone cannot be used. */
long long wm_schedule_next(const struct wm_schedule *s, long long after_ms, long long anchor_ms,
			   const char *tz, struct wm_error **err);

/* What happens to fire times missed while nothing ran. */
enum wm_catchup { WM_CATCHUP_NONE, WM_CATCHUP_LATEST };

struct wm_fire {
	long long due;	 /* run now for this fire time; 0: nothing due */
	long long next;	 /* the fire time to wait for after that */
	unsigned missed; /* fire times in (last, now] not run (a due one excluded) */
};

/*
 * The scheduler's decision at `now` given the last fire time run (`last`,
 * 0: never, then nothing before now is due). Fire times in (last, now]
 * were missed: with CATCHUP_LATEST the latest of them is due now, with
 * NONE none is. A clock set back by less than 3 hours (now < last) repeats
 * nothing: fire times up to `last` already ran. Set back further, the
 * clock is believed and the schedule goes on from now (Vixie cron's rule).
 */
int wm_schedule_step(const struct wm_schedule *s, long long last, long long now, long long anchor,
		     enum wm_catchup catchup, const char *tz, struct wm_fire *out,
		     struct wm_error **err);

/* `t` as local time in `tz` (NULL: local), "2026-03-08T03:00:00-04:00",
 * into buf (at least 32 bytes). */
void wm_schedule_format(long long t_ms, const char *tz, char *buf, size_t size);

#endif
