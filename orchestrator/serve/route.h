/*
 * route.h - the request router of `wm serve`: the one table of routes
 * (method, path pattern, role, summary), and the parsing of a raw request
 * target into decoded path segments and query parameters. Pure: no I/O,
 * no HTTP library, so the unit tests and the fuzz harness drive it alone.
 *
 * Every route is a line of WM_SERVE_ROUTES; the dispatcher's handler
 * table, the 405's Allow header and the OpenAPI check derive from it.
 * A pattern is a path of literal segments and {name} captures; a capture
 * matches one non-empty segment, which the handler validates by kind
 * (wm_serve_name_ok).
 *
 * Parsing never trusts the target: it is bounded (WM_SERVE_TARGET_MAX
 * bytes, WM_SERVE_MAX_SEGMENTS segments, WM_SERVE_MAX_PARAMS parameters);
 * percent-escapes are decoded, but a decoded NUL anywhere or a decoded '/'
 * in a segment is refused (400), so no id can carry a separator or end
 * early. A wm_serve_target owns its strings: wm_serve_target_release.
 */
#ifndef WM_ORCHESTRATOR_SERVE_ROUTE_H
#define WM_ORCHESTRATOR_SERVE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/xlist.h"

#define WM_SERVE_TARGET_MAX 4096
#define WM_SERVE_MAX_SEGMENTS 16
#define WM_SERVE_MAX_PARAMS 32
#define WM_SERVE_NAME_MAX 128 /* longest task id, workflow or policy name */

enum wm_serve_role { WM_ROLE_READ, WM_ROLE_RUN };

/* X(ENUM, method, pattern, role, summary): one line per route. */
#define WM_SERVE_ROUTES(X)                                                                         \
	X(R_RUNS, "GET", "/api/v1/runs", WM_ROLE_READ, "list runs, newest first")                  \
	X(R_RUN_START, "POST", "/api/v1/runs", WM_ROLE_RUN, "start a run of a workflow")           \
	X(R_RUN, "GET", "/api/v1/runs/{id}", WM_ROLE_READ, "one run (wm status --json)")           \
	X(R_RUN_TASK, "GET", "/api/v1/runs/{id}/tasks/{task}", WM_ROLE_READ, "one task")           \
	X(R_RUN_LOG, "GET", "/api/v1/runs/{id}/logs/{task}", WM_ROLE_READ,                         \
	  "a task's log (Range; follow=1 streams)")                                                \
	X(R_RUN_AUDIT, "GET", "/api/v1/runs/{id}/audit", WM_ROLE_READ, "the run's audit records")  \
	X(R_RUN_VERIFY, "GET", "/api/v1/runs/{id}/audit/verify", WM_ROLE_READ,                     \
	  "verify the audit log's MAC chain")                                                      \
	X(R_RUN_STATS, "GET", "/api/v1/runs/{id}/stats", WM_ROLE_READ, "one run's statistics")     \
	X(R_RUN_REPORT, "GET", "/api/v1/runs/{id}/report", WM_ROLE_READ, "the run document")       \
	X(R_RUN_EVENTS, "GET", "/api/v1/runs/{id}/events", WM_ROLE_READ, "one run's events (SSE)") \
	X(R_RUN_CANCEL, "POST", "/api/v1/runs/{id}/cancel", WM_ROLE_RUN, "cancel a live run")      \
	X(R_RUN_RESUME, "POST", "/api/v1/runs/{id}/resume", WM_ROLE_RUN, "resume a run")           \
	X(R_EVENTS, "GET", "/api/v1/events", WM_ROLE_READ, "every run's events (SSE)")             \
	X(R_STATS, "GET", "/api/v1/stats", WM_ROLE_READ, "statistics of all history")              \
	X(R_POLICIES, "GET", "/api/v1/policies", WM_ROLE_READ, "security policies")                \
	X(R_POLICY_DIFF, "GET", "/api/v1/policies/diff", WM_ROLE_READ, "two policies compared")    \
	X(R_POLICY, "GET", "/api/v1/policies/{name}", WM_ROLE_READ, "one policy, resolved")        \
	X(R_WORKFLOWS, "GET", "/api/v1/workflows", WM_ROLE_READ, "workflows under --workflows")    \
	X(R_WORKFLOW_PLAN, "GET", "/api/v1/workflows/{name}/plan", WM_ROLE_READ,                   \
	  "a workflow's plan (wm plan --format json)")                                             \
	X(R_HOOK, "POST", "/api/v1/hooks/{name}", WM_ROLE_RUN,                                     \
	  "start a workflow from a signed webhook (front matter trigger:)")                        \
	X(R_OPENAPI, "GET", "/api/v1/openapi.json", WM_ROLE_READ, "this API's OpenAPI document")   \
	X(R_DOCS, "GET", "/docs", WM_ROLE_READ, "this API's documentation page")

#define WM_SERVE_ROUTE_ENUM(e, ...) e,
enum wm_serve_route_id { WM_SERVE_ROUTES(WM_SERVE_ROUTE_ENUM) };
#undef WM_SERVE_ROUTE_ENUM
#define WM_SERVE_ROUTE_COUNT_TERM(...) +1
#define WM_SERVE_ROUTE_COUNT (0 WM_SERVE_ROUTES(WM_SERVE_ROUTE_COUNT_TERM))

struct wm_serve_route {
	enum wm_serve_route_id id;
	const char *method;
	const char *pattern;
	enum wm_serve_role role;
	const char *summary;
};

/* The table, in WM_SERVE_ROUTES order. */
extern const struct wm_serve_route wm_serve_routes[WM_SERVE_ROUTE_COUNT];

struct wm_serve_param {
	char *key, *value;
};

struct wm_serve_target {
	char *seg[WM_SERVE_MAX_SEGMENTS]; /* decoded path segments */
	size_t n_seg;
	struct wm_serve_param params[WM_SERVE_MAX_PARAMS];
	size_t n_params;
	bool trailing_slash;
};

/* Why a target or a request was refused: an HTTP status, a message, and
 * the field (query parameter, "path", body key) it concerns, or NULL. */
struct wm_serve_fail {
	int status;
	const char *field;
	char msg[160];
};

/* Parses a raw request target ("/api/v1/runs?state=failed&limit=5").
 * 0, or -1 with *f set (400, or 414 when too long). t is zeroed first;
 * release it either way. */
int wm_serve_parse_target(const char *raw, struct wm_serve_target *t, struct wm_serve_fail *f);
void wm_serve_target_release(struct wm_serve_target *t);

/* The query parameter `key` (its last value), or NULL. Borrowed. */
const char *wm_serve_param(const struct wm_serve_target *t, const char *key);

/* The route for (method, target): its captures in cap[] (borrowed from t,
 * in pattern order; at most 2). NULL with f->status 404 (no such path) or
 * 405 (the path exists: *allow gets "GET, POST" style text, static). HEAD
 * is treated as GET. */
const struct wm_serve_route *wm_serve_route_match(const char *method,
						  const struct wm_serve_target *t,
						  const char *cap[2], const char **allow,
						  struct wm_serve_fail *f);

/* A name that is safe as one path component: 1..WM_SERVE_NAME_MAX bytes of
 * [A-Za-z0-9._@+-], not starting with '.' (no "..", no hidden file). */
bool wm_serve_name_ok(const char *s);

/* Query helpers: 0, or -1 with f set (400 naming the parameter). */
int wm_serve_param_uint(const struct wm_serve_target *t, const char *key, unsigned long max,
			unsigned long *out, struct wm_serve_fail *f);
int wm_serve_param_bool(const struct wm_serve_target *t, const char *key, bool *out,
			struct wm_serve_fail *f);

/* Sets f: always returns -1. */
int wm_serve_failf(struct wm_serve_fail *f, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
