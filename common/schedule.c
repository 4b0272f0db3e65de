/*
 * schedule.c - schedule expressions and their next fire times (schedule.h).
 *
 * Cron times are searched in "wall seconds": the local calendar fields of
 * an instant read as if they were UTC (timegm of localtime_r), so that
 * date arithmetic is plain arithmetic; each candidate wall time is then
 * placed back on the real time line by resolve(), which is where DST gaps
 * and repeats are decided.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/schedule.h"
#include "common/units.h"
#include "common/xalloc.h"

#define DAY_S 86400LL
/* The longest a search goes: 28 years hold every weekday/date pairing. */
#define MAX_DAYS (366 * 28)
/* Fire times counted as missed, at most (the count is then "at least"). */
#define MAX_MISSED 10000u
/* A clock set back by less than this repeats no fire time. */
#define SETBACK_MS (3LL * 3600 * 1000)

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

struct field {
	const char *what;
	unsigned lo, hi;
	const char *const *names; /* names[0] is value `lo` (months: 1) */
	size_t n_names;
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, 0 },	       { "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },    { "month", 1, 12, month_names, 12 },
	{ "day of week", 0, 7, day_names, 7 },
};

static const struct {
	const char *name, *expr;
} nicknames[] = {
	{ "@hourly", "0 * * * *" },   { "@daily", "0 0 * * *" },   { "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },   { "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* One value: digits, or a name of the field; advances *p. */
static int parse_value(const char **p, const struct field *f, unsigned *v)
{
	const char *s = *p;
	unsigned long n = 0;

	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s) && n <= 1000)
			n = n * 10 + (unsigned)(*s++ - '0');
		*p = s;
		*v = (unsigned)n;
		return n >= f->lo && n <= f->hi ? 0 : -1;
	}
	for (size_t i = 0; i < f->n_names; i++) {
		if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
			*p = s + 3;
			*v = (unsigned)i + (f->names == month_names ? 1 : 0);
			return 0;
		}
	}
	return -1;
}

/* One list item: `*`, N, N-M, each with an optional /STEP, into *bits. */
static int parse_item(const char **p, const struct field *f, uint64_t *bits)
{
	unsigned lo = f->lo, hi = f->hi, step = 1;
	const struct field step_field = { "step", 1, f->hi + 1, NULL, 0 };

	if (**p == '*') {
		(*p)++;
	} else {
		if (parse_value(p, f, &lo) < 0)
			return -1;
		if (**p == '-') {
			(*p)++;
			if (parse_value(p, f, &hi) < 0 || hi < lo)
				return -1;
		} else if (**p != '/') {
			hi = lo;
		}
	}
	if (**p == '/') {
		(*p)++;
		if (!isdigit((unsigned char)**p) || parse_value(p, &step_field, &step) < 0)
			return -1;
	}
	for (unsigned v = lo; v <= hi; v += step)
		*bits |= 1ULL << v;
	return 0;
}

/* Field `k` from s[0..len); 0, or -1 with *bad the offset of the problem. */
static int parse_field(const char *s, size_t len, size_t k, uint64_t *bits, size_t *bad)
{
	const char *p = s, *end = s + len;

	*bits = 0;
	for (;;) {
		const char *item = p;

		if (parse_item(&p, &fields[k], bits) < 0 || (p < end && *p != ',')) {
			*bad = (size_t)(item - s);
			return -1;
		}
		if (p == end)
			return 0;
		p++;
	}
}

static const unsigned char month_days[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

/* Some month of the set has some day of the set (restricted DOM only). */
static bool days_fit(const struct wm_schedule *s)
{
	for (unsigned m = 1; m <= 12; m++)
		if (s->months & (1u << m))
			for (unsigned d = 1; d <= month_days[m]; d++)
				if (s->mdays & (1u << d))
					return true;
	return false;
}

static int parse_cron(const char *s, struct wm_schedule *out, size_t *at, struct wm_error **err)
{
	const char *p = s;
	uint64_t bits[5];
	size_t k;

	for (k = 0; k < 5; k++) {
		const char *start;
		size_t bad = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (p == start)
			break;
		if (parse_field(start, (size_t)(p - start), k, &bits[k], &bad) < 0) {
			*at = (size_t)(start - s) + bad;
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "bad %s in `%s`: `%.*s` (a value %u-%u, a range "
					     "N-M, a step */S or N-M/S, or a list of these)",
					     fields[k].what, s, (int)(p - start), start,
					     fields[k].lo, fields[k].hi);
		}
		if (k == 2)
			out->any_mday = *start == '*';
		if (k == 4)
			out->any_wday = *start == '*';
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (k < 5 || *p) {
		*at = (size_t)(p - s);
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "`%s` is not a schedule: use `every DURATION` (every 6h), "
				     "5 cron fields (minute hour day month weekday, e.g. `0 3 * * "
				     "1-5`) or @hourly, @daily, @weekly, @monthly, @yearly",
				     s);
	}
	out->kind = WM_SCHEDULE_CRON;
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->mdays = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	out->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday */
	if (!out->any_mday && out->any_wday && !days_fit(out)) {
		*at = 0;
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "`%s` never fires: none of its months has that day", s);
	}
	return 0;
}

int wm_schedule_parse(const char *s, struct wm_schedule *out, size_t *at, struct wm_error **err)
{
	*out = (struct wm_schedule){ 0 };
	*at = 0;
	if (strncmp(s, "every ", 6) == 0) {
		struct wm_error *e = NULL;
		uint64_t ms = 0;
		const char *d = s + 6;

		while (*d == ' ')
			d++;
		if (wm_parse_age(d, &ms, &e) < 0 || ms < 1000) {
			wm_error_free(e);
			*at = (size_t)(d - s);
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "`%s`: every wants a duration of 1s or more, e.g. "
					     "every 15m, every 6h, every 1d",
					     s);
		}
		out->kind = WM_SCHEDULE_EVERY;
		out->every_ms = ms;
		return 0;
	}
	if (s[0] == '@') {
		for (size_t i = 0; i < sizeof(nicknames) / sizeof(nicknames[0]); i++)
			if (strcmp(s, nicknames[i].name) == 0)
				return parse_cron(nicknames[i].expr, out, at, err);
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "unknown schedule name `%s` (known: @hourly, @daily, "
				     "@midnight, @weekly, @monthly, @yearly, @annually)",
				     s);
	}
	return parse_cron(s, out, at, err);
}

bool wm_schedule_tz_name_ok(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n > 255 || tz[0] == '/' || tz[n - 1] == '/' || strstr(tz, "//"))
		return false;
	for (const char *p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return false;
	return true;
}

bool wm_schedule_tz_exists(const char *tz)
{
	const char *dir = getenv("TZDIR");
	wm_autofree char *path = NULL;
	struct stat st;

	if (!wm_schedule_tz_name_ok(tz))
		return false;
	path = wm_xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* TZ set to the schedule's zone for the duration of a computation. */
struct tz_saved {
	char *old;
	bool had, changed;
};

static int tz_enter(const char *tz, struct tz_saved *sv, struct wm_error **err)
{
	const char *o;

	*sv = (struct tz_saved){ 0 };
	if (!tz)
		return 0;
	if (!wm_schedule_tz_exists(tz))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "unknown time zone `%s` (an IANA name such as "
				     "Europe/Berlin, as in /usr/share/zoneinfo)",
				     tz);
	o = getenv("TZ");
	sv->had = o != NULL;
	sv->old = o ? wm_xstrdup(o) : NULL;
	sv->changed = true;
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

static void tz_leave(struct tz_saved *sv)
{
	if (!sv->changed)
		return;
	if (sv->had)
		setenv("TZ", sv->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sv->old);
	sv->changed = false;
}

static long offset_at(time_t t)
{
	struct tm tm;

	return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
}

static time_t wall_of(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return t;
	return timegm(&tm);
}

/* The instant wall time `w` names: its first occurrence when it happens
 * twice, the end of the gap when it does not happen at all. */
static time_t resolve(time_t w)
{
	long o1 = offset_at(w - 40 * 3600), o2 = offset_at(w + 40 * 3600);
	time_t t1 = w - o1, t2 = w - o2, lo, hi;
	bool ok1 = offset_at(t1) == o1, ok2 = offset_at(t2) == o2;

	if (ok1 && ok2)
		return t1 < t2 ? t1 : t2;
	if (ok1 || ok2)
		return ok1 ? t1 : t2;
	if (o2 <= o1)
		return t1; /* no gap in sight: cannot happen with real zones */
	/* The offset moves from o1 to o2 in (t2, t1]: find where. */
	lo = t2;
	hi = t1;
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;

		if (offset_at(mid) == o1)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static bool day_matches(const struct wm_schedule *s, const struct tm *tm)
{
	bool dom = s->mdays & (1u << tm->tm_mday), dow = s->wdays & (1u << tm->tm_wday);

	if (!(s->months & (1u << (tm->tm_mon + 1))))
		return false;
	if (!s->any_mday && !s->any_wday)
		return dom || dow;
	return dom && dow;
}

/* The first fire after `after` (seconds) among the times of the day whose
 * midnight is wall second `day`, from minute `from` of it on; 0: none. */
static time_t in_day(const struct wm_schedule *s, time_t day, unsigned from, time_t after)
{
	for (unsigned m = from; m < 24 * 60; m++) {
		time_t t;

		if (!(s->hours & (1u << (m / 60)))) {
			m = (m / 60) * 60 + 59;
			continue;
		}
		if (!(s->minutes & (1ULL << (m % 60))))
			continue;
		t = resolve(day + (time_t)m * 60);
		if (t > after)
			return t;
	}
	return 0;
}

/* TZ already set. */
static long long cron_next(const struct wm_schedule *s, long long after_ms)
{
	time_t after = (time_t)(after_ms >= 0 ? after_ms / 1000 : -((999 - after_ms) / 1000));
	time_t w = wall_of(after) / 60 * 60 + 60;
	time_t day = w - ((w % DAY_S) + DAY_S) % DAY_S;
	unsigned from = (unsigned)((w - day) / 60);

	for (unsigned n = 0; n < MAX_DAYS; n++, day += DAY_S, from = 0) {
		struct tm tm;
		time_t t;

		if (!gmtime_r(&day, &tm) || !day_matches(s, &tm))
			continue;
		t = in_day(s, day, from, after);
		if (t)
			return (long long)t * 1000;
	}
	return 0;
}

static long long every_next(const struct wm_schedule *s, long long after, long long anchor)
{
	long long e = (long long)s->every_ms, k;

	if (after < anchor)
		return anchor;
	k = (after - anchor) / e + 1;
	return anchor + k * e;
}

static long long next_in_zone(const struct wm_schedule *s, long long after, long long anchor)
{
	return s->kind == WM_SCHEDULE_EVERY ? every_next(s, after, anchor) : cron_next(s, after);
}

long long wm_schedule_next(const struct wm_schedule *s, long long after_ms, long long anchor_ms,
			   const char *tz, struct wm_error **err)
{
	struct tz_saved sv;
	long long t;

	if (s->kind == WM_SCHEDULE_EVERY)
		return every_next(s, after_ms, anchor_ms);
	if (tz_enter(tz, &sv, err) < 0)
		return -1;
	t = cron_next(s, after_ms);
	tz_leave(&sv);
	if (!t)
		return wm_error_setx(err, WM_EXIT_USAGE, "the schedule has no fire time ahead");
	return t;
}

/* The latest fire time in (last, now], looked for in growing windows
 * before now, so that dense schedules are not walked from `last`. */
static long long latest_in(const struct wm_schedule *s, long long last, long long now,
			   long long anchor)
{
	static const long long windows[] = { 3600LL, DAY_S, 32 * DAY_S, 367 * DAY_S,
					     MAX_DAYS * DAY_S };

	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		long long start = now - windows[i] * 1000, latest = 0, f;
		unsigned n = 0;

		if (start < last)
			start = last;
		for (f = next_in_zone(s, start, anchor); f && f <= now && n < MAX_MISSED * 10;
		     f = next_in_zone(s, f, anchor), n++)
			latest = f;
		if (latest || start == last)
			return latest;
	}
	return 0;
}

static void step_in_zone(const struct wm_schedule *s, long long last, long long now,
			 long long anchor, enum wm_catchup catchup, struct wm_fire *out)
{
	long long f = next_in_zone(s, last, anchor);

	if (!f || f > now) {
		out->next = f;
		return;
	}
	if (s->kind == WM_SCHEDULE_EVERY) {
		long long n = (now - f) / (long long)s->every_ms + 1;
		out->missed = n > MAX_MISSED ? MAX_MISSED : (unsigned)n;
	} else {
		for (; f && f <= now && out->missed < MAX_MISSED; f = next_in_zone(s, f, anchor))
			out->missed++;
	}
	if (catchup == WM_CATCHUP_LATEST) {
		out->due = latest_in(s, last, now, anchor);
		out->missed--;
	}
	out->next = next_in_zone(s, now, anchor);
}

int wm_schedule_step(const struct wm_schedule *s, long long last, long long now, long long anchor,
		     enum wm_catchup catchup, const char *tz, struct wm_fire *out,
		     struct wm_error **err)
{
	struct tz_saved sv;
	long long base = last;

	*out = (struct wm_fire){ 0 };
	if (last <= 0 || (now < last && last - now >= SETBACK_MS))
		base = now;
	if (tz_enter(s->kind == WM_SCHEDULE_CRON ? tz : NULL, &sv, err) < 0)
		return -1;
	if (now < base)
		out->next = next_in_zone(s, base, anchor);
	else
		step_in_zone(s, base, now, anchor, catchup, out);
	tz_leave(&sv);
	if (!out->next)
		return wm_error_setx(err, WM_EXIT_USAGE, "the schedule has no fire time ahead");
	return 0;
}

void wm_schedule_format(long long t_ms, const char *tz, char *buf, size_t size)
{
	struct tz_saved sv;
	time_t t = (time_t)(t_ms / 1000);
	struct tm tm;
	size_t n;
	long off;

	if (tz_enter(tz, &sv, NULL) < 0 || !localtime_r(&t, &tm)) {
		tz_leave(&sv);
		snprintf(buf, size, "@%lld", t_ms / 1000);
		return;
	}
	tz_leave(&sv);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff;
	snprintf(buf + n, size - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
		 labs(off) % 3600 / 60);
}
