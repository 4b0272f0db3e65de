/*
 * route.c - request targets into segments and parameters, and the route
 * table they are matched against (route.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xalloc.h"
#include "orchestrator/serve/route.h"

#define WM_SERVE_ROUTE_ROW(e, method, pattern, role, summary) { e, method, pattern, role, summary },
const struct wm_serve_route wm_serve_routes[WM_SERVE_ROUTE_COUNT] = { WM_SERVE_ROUTES(
	WM_SERVE_ROUTE_ROW) };
#undef WM_SERVE_ROUTE_ROW

int wm_serve_failf(struct wm_serve_fail *f, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	f->field = field;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes [s, s + len) into a new string; '+' is a space in a query.
 * NULL when an escape is malformed, decodes to NUL, or (in_path) to '/'. */
static char *decode(const char *s, size_t len, bool in_query, const char **why)
{
	char *out = wm_xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo, c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len) {
				*why = "a truncated %-escape";
				goto bad;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				*why = "a malformed %-escape";
				goto bad;
			}
			c = hi * 16 + lo;
			i += 2;
			if (c == 0 || (!in_query && c == '/')) {
				*why = c ? "an encoded '/'" : "an encoded NUL";
				goto bad;
			}
		} else if (c == '+' && in_query) {
			c = ' ';
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int parse_path(const char *p, size_t len, struct wm_serve_target *t, struct wm_serve_fail *f)
{
	size_t i = 1;

	if (!len || p[0] != '/')
		return wm_serve_failf(f, 400, "path", "the request target must start with '/'");
	while (i < len) {
		size_t j = i;
		const char *why = NULL;

		while (j < len && p[j] != '/')
			j++;
		if (j == i) { /* "//" or a trailing '/' */
			if (j + 1 < len)
				return wm_serve_failf(f, 400, "path", "empty path segment");
			t->trailing_slash = true;
			break;
		}
		if (t->n_seg == WM_SERVE_MAX_SEGMENTS)
			return wm_serve_failf(f, 404, "path", "no such path (too many segments)");
		if (!(t->seg[t->n_seg] = decode(p + i, j - i, false, &why)))
			return wm_serve_failf(f, 400, "path", "path has %s", why);
		t->n_seg++;
		i = j + 1;
		if (j + 1 == len && p[j] == '/')
			t->trailing_slash = true;
	}
	return 0;
}

static int parse_query(const char *q, size_t len, struct wm_serve_target *t,
		       struct wm_serve_fail *f)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, eq;
		const char *why = NULL;
		struct wm_serve_param *pm;

		while (j < len && q[j] != '&')
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (t->n_params == WM_SERVE_MAX_PARAMS)
			return wm_serve_failf(f, 400, "query", "more than %d query parameters",
					      WM_SERVE_MAX_PARAMS);
		for (eq = i; eq < j && q[eq] != '='; eq++)
			;
		pm = &t->params[t->n_params];
		pm->key = decode(q + i, eq - i, true, &why);
		pm->value =
			pm->key ? decode(q + eq + (eq < j), j - eq - (eq < j), true, &why) : NULL;
		if (!pm->key || !pm->value) {
			free(pm->key);
			pm->key = NULL;
			return wm_serve_failf(f, 400, "query", "query has %s", why);
		}
		t->n_params++;
		i = j + 1;
	}
	return 0;
}

int wm_serve_parse_target(const char *raw, struct wm_serve_target *t, struct wm_serve_fail *f)
{
	size_t len = strnlen(raw, WM_SERVE_TARGET_MAX + 1), plen;
	const char *qm;

	memset(t, 0, sizeof(*t));
	if (len > WM_SERVE_TARGET_MAX)
		return wm_serve_failf(f, 414, "path", "request target longer than %d bytes",
				      WM_SERVE_TARGET_MAX);
	qm = memchr(raw, '?', len);
	plen = qm ? (size_t)(qm - raw) : len;
	if (parse_path(raw, plen, t, f) < 0)
		return -1;
	return qm ? parse_query(qm + 1, len - plen - 1, t, f) : 0;
}

void wm_serve_target_release(struct wm_serve_target *t)
{
	for (size_t i = 0; i < t->n_seg; i++)
		free(t->seg[i]);
	for (size_t i = 0; i < t->n_params; i++) {
		free(t->params[i].key);
		free(t->params[i].value);
	}
	memset(t, 0, sizeof(*t));
}

const char *wm_serve_param(const struct wm_serve_target *t, const char *key)
{
	for (size_t i = t->n_params; i-- > 0;)
		if (strcmp(t->params[i].key, key) == 0)
			return t->params[i].value;
	return NULL;
}

/* Does pattern match t's segments? Captures go to cap[]. */
static bool path_matches(const char *pattern, const struct wm_serve_target *t, const char *cap[2])
{
	const char *p = pattern + 1;
	size_t k = 0, n_cap = 0;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (k == t->n_seg)
			return false;
		if (p[0] == '{') {
			if (n_cap < 2)
				cap[n_cap++] = t->seg[k];
		} else if (strlen(t->seg[k]) != n || strncmp(p, t->seg[k], n) != 0) {
			return false;
		}
		k++;
		p += n + (p[n] == '/');
	}
	return k == t->n_seg;
}

const struct wm_serve_route *wm_serve_route_match(const char *method,
						  const struct wm_serve_target *t,
						  const char *cap[2], const char **allow,
						  struct wm_serve_fail *f)
{
	bool get = false, post = false;

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	cap[0] = cap[1] = NULL;
	*allow = NULL;
	for (size_t i = 0; i < WM_SERVE_ROUTE_COUNT; i++) {
		const struct wm_serve_route *r = &wm_serve_routes[i];
		const char *c[2] = { NULL, NULL };

		if (!path_matches(r->pattern, t, c))
			continue;
		if (strcmp(r->method, method) == 0) {
			cap[0] = c[0];
			cap[1] = c[1];
			return r;
		}
		get |= strcmp(r->method, "GET") == 0;
		post |= strcmp(r->method, "POST") == 0;
	}
	if (!get && !post) {
		wm_serve_failf(f, 404, "path", "no such route");
		return NULL;
	}
	*allow = get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : "POST";
	wm_serve_failf(f, 405, "method", "method %s is not allowed here (allowed: %s)", method,
		       *allow);
	return NULL;
}

bool wm_serve_name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !*s || s[0] == '.')
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("._@+-", c);

		if (!ok || n >= WM_SERVE_NAME_MAX)
			return false;
	}
	return true;
}

int wm_serve_param_uint(const struct wm_serve_target *t, const char *key, unsigned long max,
			unsigned long *out, struct wm_serve_fail *f)
{
	const char *v = wm_serve_param(t, key);
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || n > max)
		return wm_serve_failf(f, 400, key, "%s wants a whole number from 0 to %lu", key,
				      max);
	*out = n;
	return 0;
}

int wm_serve_param_bool(const struct wm_serve_target *t, const char *key, bool *out,
			struct wm_serve_fail *f)
{
	const char *v = wm_serve_param(t, key);

	if (!v)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || !*v)
		*out = true;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		*out = false;
	else
		return wm_serve_failf(f, 400, key, "%s wants 1 or 0, true or false", key);
	return 0;
}
