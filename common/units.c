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

int wm_parse_duration(const char *s, uint64_t *ms, struct wm_error **err)
{
	const char *p = s;
	uint64_t total = 0;

	if (!s || !*s)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "empty duration (write e.g. 500ms, 90s, 2m, 1h)");
	while (*p) {
		uint64_t n, unit;

		if (read_number(&p, &n) < 0)
			return wm_error_setx(
				err, WM_EXIT_USAGE,
				"invalid duration '%s' (write e.g. 500ms, 90s, 2m, 1h)", s);
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == '\0') {
			return wm_error_setx(
				err, WM_EXIT_USAGE,
				"duration '%s' has no unit (write %sms, %ss, %sm or %sh)", s, s, s,
				s, s);
		} else {
			return wm_error_setx(
				err, WM_EXIT_USAGE,
				"invalid duration '%s': unknown unit (use ms, s, m, h)", s);
		}
		if (mul_add(&total, n, unit) < 0)
			return wm_error_setx(err, WM_EXIT_USAGE, "duration '%s' is too large", s);
	}
	*ms = total;
	return 0;
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
