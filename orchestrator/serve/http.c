/*
 * http.c - every request of `wm serve`, from its raw target to a handler:
 * route, authentication, rate limit, body limit, and the replies
 * (server.h).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"

/* Rate limit state of one key (or of one address, for anonymous reads). */
struct bucket {
	char *who;
	double tokens;
	long long at_ms;
};

#define MAX_BUCKETS 1024

struct buckets {
	struct bucket v[MAX_BUCKETS];
	size_t n;
};

static const serve_handler handlers[WM_SERVE_ROUTE_COUNT] = {
	[R_RUNS] = serve_get_runs,
	[R_RUN_START] = serve_post_run,
	[R_RUN] = serve_get_run,
	[R_RUN_TASK] = serve_get_task,
	[R_RUN_LOG] = serve_get_log,
	[R_RUN_AUDIT] = serve_get_audit,
	[R_RUN_VERIFY] = serve_get_verify,
	[R_RUN_STATS] = serve_get_run_stats,
	[R_RUN_REPORT] = serve_get_report,
	[R_RUN_EVENTS] = serve_get_events,
	[R_RUN_CANCEL] = serve_post_cancel,
	[R_RUN_RESUME] = serve_post_resume,
	[R_EVENTS] = serve_get_events,
	[R_STATS] = serve_get_stats,
	[R_POLICIES] = serve_get_policies,
	[R_POLICY_DIFF] = serve_get_policy_diff,
	[R_POLICY] = serve_get_policy,
	[R_WORKFLOWS] = serve_get_workflows,
	[R_WORKFLOW_PLAN] = serve_get_plan,
	[R_HOOK] = serve_post_hook,
	[R_OPENAPI] = serve_get_openapi,
	[R_DOCS] = serve_get_docs,
};

void serve_common_headers(const struct serve *s, struct MHD_Response *r)
{
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (s->conf.cors) {
		MHD_add_response_header(r, "Access-Control-Allow-Origin", s->conf.cors);
		MHD_add_response_header(r, "Access-Control-Allow-Headers",
					"Authorization, Content-Type, Last-Event-ID");
		MHD_add_response_header(r, "Vary", "Origin");
	}
}

int serve_reply(struct serve_call *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ok;

	if (!r)
		return -1;
	serve_common_headers(c->s, r);
	ok = MHD_queue_response(c->conn, status, r);
	MHD_destroy_response(r);
	c->req->answered = true;
	if (status >= 400)
		c->s->errors++;
	return ok == MHD_YES ? 0 : -1;
}

int serve_reply_json(struct serve_call *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	struct MHD_Response *r;

	json_decref(j);
	if (!text)
		return -1;
	text[len] = '\0';
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return -1;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	return serve_reply(c, status, r);
}

static int reply_error_v(struct serve_call *c, unsigned status, const char *field,
			 const char *extra_name, const char *extra_value, const char *fmt,
			 va_list ap)
{
	char msg[512];
	json_t *j;
	char *text;
	struct MHD_Response *r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	j = json_pack("{s:s, s:s?}", "error", msg, "field", field);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -1;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return -1;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"wm\"");
	if (extra_name)
		MHD_add_response_header(r, extra_name, extra_value);
	return serve_reply(c, status, r);
}

int serve_reply_error(struct serve_call *c, unsigned status, const char *field, const char *fmt,
		      ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_v(c, status, field, NULL, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

static int reply_error_hdr(struct serve_call *c, unsigned status, const char *hname,
			   const char *hvalue, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int reply_error_hdr(struct serve_call *c, unsigned status, const char *hname,
			   const char *hvalue, const char *field, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_v(c, status, field, hname, hvalue, fmt, ap);
	va_end(ap);
	return rc;
}

int serve_reply_fail(struct serve_call *c, const struct wm_serve_fail *f)
{
	return serve_reply_error(c, (unsigned)f->status, f->field, "%s", f->msg);
}

int serve_reply_wm_error(struct serve_call *c, struct wm_error *e)
{
	char *text = wm_error_text(e);
	unsigned status = e->exit_code == WM_EXIT_USAGE ? 400 : 500;
	int rc;

	rc = serve_reply_error(c, status, NULL, "%s", text);
	free(text);
	wm_error_free(e);
	return rc;
}

struct buckets *serve_buckets_new(void)
{
	return wm_xcalloc(1, sizeof(struct buckets));
}

void serve_buckets_free(struct buckets *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].who);
	free(b);
}

/* Takes one token from who's bucket: 0, or the seconds to wait. */
static unsigned take_token(struct serve *s, const char *who)
{
	struct buckets *b = s->buckets;
	long long now = wm_mono_ms();
	struct bucket *k = NULL;

	for (size_t i = 0; i < b->n && !k; i++)
		if (strcmp(b->v[i].who, who) == 0)
			k = &b->v[i];
	if (!k) {
		size_t at = b->n < MAX_BUCKETS ? b->n++ : 0;

		for (size_t i = 1; b->n == MAX_BUCKETS && i < b->n; i++)
			if (b->v[i].at_ms < b->v[at].at_ms) /* forget the quietest */
				at = i;
		k = &b->v[at];
		free(k->who);
		*k = (struct bucket){ wm_xstrdup(who), s->conf.burst, now };
	}
	k->tokens += (double)(now - k->at_ms) / 1000.0 * s->conf.rate;
	if (k->tokens > s->conf.burst)
		k->tokens = s->conf.burst;
	k->at_ms = now;
	if (k->tokens >= 1.0) {
		k->tokens -= 1.0;
		return 0;
	}
	return (unsigned)ceil((1.0 - k->tokens) / s->conf.rate);
}

static const char *client_address(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	char ip[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
			  sizeof(ip));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
			  sizeof(ip));
	snprintf(buf, len, "addr:%s", ip);
	return buf;
}

/* The token of "Authorization: Bearer T", or, for event streams (a
 * browser's EventSource cannot send headers), ?access_token=T. */
static const char *presented_token(struct serve_call *c)
{
	const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Authorization");

	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		return *h ? h : NULL;
	}
	if (c->route->id == R_EVENTS || c->route->id == R_RUN_EVENTS || c->route->id == R_RUN_LOG)
		return wm_serve_param(&c->req->t, "access_token");
	return NULL;
}

/* Authenticates and rate-limits; 0 to go on, -1 when a reply is queued. */
static int admit(struct serve_call *c)
{
	const char *token = presented_token(c), *name = NULL;
	enum wm_serve_role role = WM_ROLE_READ;
	struct wm_error *e = NULL;
	char who[64], wait[16];
	unsigned retry;

	if (wm_serve_keys_refresh(c->s->keys, &e) < 0)
		return serve_reply_wm_error(c, e), -1;
	if (token) {
		name = wm_serve_keys_check(c->s->keys, token, &role);
		if (!name)
			return serve_reply_error(c, 401, "Authorization",
						 "unknown or revoked API key"),
			       -1;
	} else if (!(c->s->conf.no_auth_read && c->route->role == WM_ROLE_READ)) {
		return serve_reply_error(c, 401, "Authorization",
					 "an API key is needed: Authorization: Bearer TOKEN "
					 "(wm serve token create)"),
		       -1;
	}
	if (c->route->role == WM_ROLE_RUN && role != WM_ROLE_RUN)
		return serve_reply_error(c, 403, "Authorization",
					 "API key '%s' has role read; this needs role run", name),
		       -1;
	snprintf(c->req->actor, sizeof(c->req->actor), "api:%s", name ? name : "anonymous");
	retry = take_token(c->s, name ? c->req->actor : client_address(c->conn, who, sizeof(who)));
	if (retry) {
		snprintf(wait, sizeof(wait), "%u", retry);
		return reply_error_hdr(c, 429, "Retry-After", wait, NULL,
				       "rate limit of %.0f requests/s exceeded: retry in %u s",
				       c->s->conf.rate, retry),
		       -1;
	}
	c->actor = c->req->actor;
	return 0;
}

/* A browser's CORS preflight (with --cors): the methods the path takes. */
static int preflight(struct serve_call *c)
{
	const char *allow = NULL;
	struct wm_serve_fail f = { 0 };
	struct MHD_Response *r;

	if (wm_serve_route_match("OPTIONS", &c->req->t, c->cap, &allow, &f) || !allow)
		return serve_reply_fail(c, &f);
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", allow);
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	return serve_reply(c, 204, r);
}

static int dispatch(struct serve_call *c, const char *method)
{
	const char *allow = NULL;
	struct wm_serve_fail f = { 0 };

	if (wm_serve_parse_target(c->req->raw, &c->req->t, &f) < 0)
		return serve_reply_fail(c, &f);
	if (strcmp(method, "OPTIONS") == 0 && c->s->conf.cors)
		return preflight(c);
	c->route = wm_serve_route_match(method, &c->req->t, c->cap, &allow, &f);
	if (!c->route) {
		const char *first = c->req->t.n_seg ? c->req->t.seg[0] : "";

		if (f.status == 404 && strcmp(first, "api") != 0 &&
		    (!strcmp(method, "GET") || c->head))
			return serve_get_asset(c, c->req->raw);
		if (f.status == 405)
			return reply_error_hdr(c, 405, "Allow", allow, "method", "%s", f.msg);
		return serve_reply_fail(c, &f);
	}
	if (c->req->too_big)
		return serve_reply_error(c, 413, "body", "request body larger than %zu bytes",
					 c->s->conf.body_max);
	/* A webhook's key is its signature (hooks.c), not an API key. */
	if (c->route->id == R_OPENAPI || c->route->id == R_DOCS || c->route->id == R_HOOK)
		return handlers[c->route->id](c);
	if (admit(c) < 0)
		return 0;
	return handlers[c->route->id](c);
}

void *serve_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct serve_req *req = wm_xcalloc(1, sizeof(*req));

	(void)cls;
	(void)conn;
	req->raw = wm_xstrdup(uri ? uri : "");
	wm_buf_init(&req->body);
	return req;
}

void serve_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		     enum MHD_RequestTerminationCode toe)
{
	struct serve_req *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!req)
		return;
	serve_spawn_free(req->spawn);
	free(req->raw);
	wm_buf_release(&req->body);
	wm_serve_target_release(&req->t);
	free(req);
	*con_cls = NULL;
}

/* The first call for a request: refuses an announced body over the limit. */
static bool body_announced_too_big(struct serve *s, struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

	return cl && strtoull(cl, NULL, 10) > s->conf.body_max;
}

enum MHD_Result serve_access(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls)
{
	struct serve *s = cls;
	struct serve_req *req = *con_cls;
	struct serve_call c = { .s = s, .conn = conn, .req = req };

	(void)url;
	(void)version;
	if (!req)
		return MHD_NO;
	if (!req->started) {
		req->started = true;
		s->requests++;
		req->too_big = body_announced_too_big(s, conn);
		if (strcmp(method, "POST") == 0 && !req->too_big)
			return MHD_YES; /* the body comes next */
	}
	if (*upload_size) {
		if (req->body.len + *upload_size > s->conf.body_max)
			req->too_big = true;
		else
			wm_buf_add(&req->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	if (req->spawn) {
		c.actor = req->actor;
		if (req->spawn->done)
			serve_spawn_answer(&c);
		return MHD_YES;
	}
	c.head = strcmp(method, "HEAD") == 0;
	if (dispatch(&c, method) < 0 && !req->answered)
		return MHD_NO;
	return MHD_YES;
}
