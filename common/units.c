#include "common/units.h"

#include <ctype.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"

/* Reads a run of decimal digits at *p into *v. 0 on success, -1 on overflow or no digits. */
static int read_number(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		s++;
	}
	*p = s;
	*v = n;
	return 0;
}

static int mul_add(uint64_t *acc, uint64_t n, uint64_t unit)
{
	if (n && unit > UINT64_MAX / n)
		return -1;
	if (*acc > UINT64_MAX - n * unit)
		return -1;
	*acc += n * unit;
	return 0;
}

struct unit {
	const char *name;
	uint64_t ms;
};

/* Durations (timeouts, backoffs) stop at hours; ages (how long ago) go on to days and weeks. */
static const struct unit duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
};
static const struct unit age_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 24 * 3600 * 1000 },
	{ "w", 7 * 24 * 3600 * 1000ULL },
};

/* The unit at *p (longest name first: "ms" before "m"), or NULL. */
static const struct unit *match_unit(const char **p, const struct unit *u, size_t n)
{
	const struct unit *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (strncmp(*p, u[i].name, strlen(u[i].name)) == 0 &&
		    (!best || strlen(u[i].name) > strlen(best->name)))
			best = &u[i];
	if (best)
		*p += strlen(best->name);
	return best;
}

/* "duration '30' has no unit (write 30ms, 30s, 30m or 30h)": a bare number is refused. */
static int no_unit(const char *s, const struct unit *units, size_t n_units, const char *what,
		   struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	for (size_t i = 0; i < n_units; i++)
		wm_buf_addf(&b, "%s%s%s",
			    i == 0	       ? ""
			    : i + 1 == n_units ? " or "
					       : ", ",
			    s, units[i].name);
	rc = wm_error_setx(err, WM_EXIT_USAGE, "%s '%s' has no unit (write %s)", what, s, b.data);
	wm_buf_release(&b);
	return rc;
}

/* One or more <number><unit> pairs; `what` and `hint` name them in messages. */
static int parse_units(const char *s, const struct unit *units, size_t n_units, const char *what,
		       const char *hint, uint64_t *ms, struct wm_error **err)
{
	const char *p = s;
	uint64_t total = 0;

	if (!s || !*s)
		return wm_error_setx(err, WM_EXIT_USAGE, "empty %s (write e.g. %s)", what, hint);
	while (*p) {
		const struct unit *u;
		uint64_t n;

		if (read_number(&p, &n) < 0)
			return wm_error_setx(err, WM_EXIT_USAGE, "invalid %s '%s' (write e.g. %s)",
					     what, s, hint);
		if (*p == '\0')
			return no_unit(s, units, n_units, what, err);
		u = match_unit(&p, units, n_units);
		if (!u)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "invalid %s '%s': unknown unit (write e.g. %s)", what,
					     s, hint);
		if (mul_add(&total, n, u->ms) < 0)
			return wm_error_setx(err, WM_EXIT_USAGE, "%s '%s' is too large", what, s);
	}
	*ms = total;
	return 0;
}

int wm_parse_duration(const char *s, uint64_t *ms, struct wm_error **err)
{
	return parse_units(s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]),
			   "duration", "500ms, 90s, 2m, 1h", ms, err);
}

int wm_parse_age(const char *s, uint64_t *ms, struct wm_error **err)
{
	return parse_units(s, age_units, sizeof(age_units) / sizeof(age_units[0]), "age",
			   "30m, 2h, 3d, 1w", ms, err);
}

int wm_parse_size(const char *s, uint64_t *bytes, struct wm_error **err)
{
	const char *p = s;
	uint64_t n, unit = 1, v = 0;

	if (!s || !*s)
		return wm_error_setx(err, WM_EXIT_USAGE, "empty size (write e.g. 512K, 64M, 1G)");
	if (read_number(&p, &n) < 0)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "invalid size '%s' (write e.g. 512K, 64M, 1G)", s);
	switch (toupper((unsigned char)*p)) {
	case '\0':
		break;
	case 'K':
		unit = 1ULL << 10;
		break;
	case 'M':
		unit = 1ULL << 20;
		break;
	case 'G':
		unit = 1ULL << 30;
		break;
	case 'T':
		unit = 1ULL << 40;
		break;
	case 'B':
		if (p[1] == '\0')
			break;
		__attribute__((fallthrough));
	default:
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "invalid size '%s': unknown unit (use K, M, G or T)", s);
	}
	if (*p && toupper((unsigned char)*p) != 'B') {
		p++;
		if (strcmp(p, "i") == 0 || strcmp(p, "iB") == 0 || strcmp(p, "B") == 0)
			p += strlen(p);
		if (*p)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "invalid size '%s': unexpected '%s' after the unit", s,
					     p);
	}
	if (mul_add(&v, n, unit) < 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "size '%s' is too large", s);
	*bytes = v;
	return 0;
}

char *wm_format_duration(uint64_t ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = { { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 } };
	struct wm_buf b = WM_BUF_INIT;

	if (ms == 0)
		return wm_xstrdup("0s");
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms) {
			wm_buf_addf(&b, "%llu%s", (unsigned long long)(ms / units[i].ms),
				    units[i].name);
			ms %= units[i].ms;
		}
	}
	return wm_buf_detach(&b, NULL);
}

char *wm_format_duration_human(uint64_t ms)
{
	if (ms < 1000)
		return wm_xasprintf("%llums", (unsigned long long)ms);
	if (ms < 60000)
		return wm_xasprintf("%.3gs", (double)ms / 1000);
	return wm_format_duration(ms / 1000 * 1000);
}

char *wm_format_size(uint64_t bytes)
{
	static const char suffix[] = "KMGT";
	int i = -1;

	while (bytes && bytes % 1024 == 0 && i < 3) {
		bytes /= 1024;
		i++;
	}
	if (i < 0)
		return wm_xasprintf("%llu", (unsigned long long)bytes);
	return wm_xasprintf("%llu%c", (unsigned long long)bytes, suffix[i]);
}

char *wm_format_size_human(uint64_t bytes)
{
	static const char suffix[] = "KMGTPE";
	double v = (double)bytes / 1024;
	size_t i = 0;

	if (bytes < 1024)
		return wm_xasprintf("%lluB", (unsigned long long)bytes);
	while (v >= 1024 && i + 1 < sizeof(suffix) - 1) {
		v /= 1024;
		i++;
	}
	/* One decimal below 10, as `ls -lh` does; never round up past 1023. */
	if (v < 9.95)
		return wm_xasprintf("%.1f%c", v, suffix[i]);
	return wm_xasprintf("%.0f%c", v < 1023 ? v : 1023, suffix[i]);
}
