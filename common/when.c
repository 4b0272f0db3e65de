/*
 * when.c - absolute and relative points in time (when.h).
 */
#include "common/when.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/units.h"

#define DAY_MS (24LL * 3600 * 1000)
#define FORMS "2026-11-22, 2026-11-22T08:15:03Z, 30m, 2h, 3d, 1w, today or yesterday"

/* ".mmm" after the seconds: milliseconds (more digits are cut, fewer padded). */
static const char *read_fraction(const char *p, long long *frac)
{
	int digits = 0;

	*frac = 0;
	if (*p != '.')
		return p;
	for (p++; isdigit((unsigned char)*p); p++, digits++)
		if (digits < 3)
			*frac = *frac * 10 + (*p - '0');
	if (digits == 0)
		return NULL;
	for (; digits < 3; digits++)
		*frac *= 10;
	return p;
}

/* "HH:MM" or "HH:MM:SS" into tm. */
static const char *read_clock(const char *p, struct tm *tm)
{
	const char *q = strptime(p, "%H:%M:%S", tm);

	return q ? q : strptime(p, "%H:%M", tm);
}

/* YYYY-MM-DD at the start of s: strptime alone would take "2026-1-2". */
static bool date_shaped(const char *s)
{
	static const char shape[] = "dddd-dd-dd";

	for (size_t i = 0; s && i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != '-')
			return false;
	return s != NULL;
}

int wm_parse_utc_time(const char *s, long long *ms, struct wm_error **err)
{
	struct tm tm = { 0 };
	long long frac = 0;
	const char *p;

	p = date_shaped(s) ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	if (p && (*p == 'T' || *p == ' ') && p[1]) {
		p = read_clock(p + 1, &tm);
		p = p ? read_fraction(p, &frac) : NULL;
	}
	if (p && *p == 'Z')
		p++;
	if (!p || *p)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "bad time '%s' (want 2026-11-22T08:15:03Z or 2026-11-22)",
				     s ? s : "");
	*ms = (long long)timegm(&tm) * 1000 + frac;
	return 0;
}

int wm_parse_since(const char *s, long long now_ms, long long *ms, struct wm_error **err)
{
	long long midnight = now_ms - ((now_ms % DAY_MS) + DAY_MS) % DAY_MS;
	uint64_t age;

	if (!s || !*s)
		return wm_error_setx(err, WM_EXIT_USAGE, "empty time (write e.g. " FORMS ")");
	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		*ms = midnight - (s[0] == 'y' ? DAY_MS : 0);
		return 0;
	}
	if (strchr(s, '-'))
		return wm_parse_utc_time(s, ms, err);
	if (wm_parse_age(s, &age, NULL) < 0 || age > (uint64_t)now_ms)
		return wm_error_setx(err, WM_EXIT_USAGE, "bad time '%s' (write e.g. " FORMS ")", s);
	*ms = now_ms - (long long)age;
	return 0;
}
