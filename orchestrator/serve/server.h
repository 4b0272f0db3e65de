/*
 * server.h - the parts of `wm serve` (the helper program wm-serve) and
 * what they share. Internal to orchestrator/serve/.
 *
 * One thread, one event loop (serve_main.c): epoll over libmicrohttpd's
 * own epoll fd (MHD in external-epoll mode), an inotify fd following the
 * runs (sse.c), a 1-second timerfd (heartbeats, key last-use writes) and a
 * signalfd (SIGINT, SIGTERM: stop). Handlers never block on a run: they
 * read the state directory with the same readers as `wm status`, `wm
 * list`, `wm stats`, and start `wm run`/`wm cancel`/`wm resume` as
 * detached processes.
 *
 * A request: http.c parses its raw target (route.h), matches a route,
 * authenticates (tokens.h), applies the key's rate limit, reads a POST
 * body up to its limit, then calls the route's handler (api.c, sse.c,
 * actions.c), which answers with serve_reply_* exactly once.
 */
#ifndef WM_ORCHESTRATOR_SERVE_SERVER_H
#define WM_ORCHESTRATOR_SERVE_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "orchestrator/serve/route.h"
#include "orchestrator/serve/tokens.h"

struct serve_conf {
	const char *state_dir;
	const char *workflows; /* NULL: no workflow routes */
	char *host;	       /* numeric address to listen on */
	unsigned port;
	bool loopback;
	bool no_auth_read;
	const char *cors; /* an origin, or NULL: no CORS headers */
	double rate;	  /* requests per second per key */
	unsigned burst;
	size_t body_max;
	size_t max_clients;    /* SSE and log-follow streams at once */
	size_t client_buf_max; /* bytes buffered per stream before it is dropped */
	unsigned heartbeat_s;
};

struct sse_state;
struct buckets;
struct serve_sched;
struct serve_watches;
struct runcache;
struct wm_runview;

/* What an epoll event of the loop is about (the first member of each). */
enum serve_src_kind {
	SERVE_SRC_MHD,
	SERVE_SRC_INOTIFY,
	SERVE_SRC_TIMER,
	SERVE_SRC_SIGNAL,
	SERVE_SRC_SPAWN,
	SERVE_SRC_SCHED
};
struct serve_src {
	enum serve_src_kind kind;
};

/* What a wm command's success means: a run id (201), a message (200), or
 * JSON on stdout answered as it is (200); exit 2 is 400 (422 with the
 * diagnostics for JSON), 3 is 409, anything else 500. */
enum serve_action { SERVE_ACT_RUN, SERVE_ACT_CANCEL, SERVE_ACT_JSON };

/* A wm command the server waits for (actions.c). */
struct serve_spawn {
	struct serve_src src;
	pid_t pid;
	int fd;	    /* its stdout, -1 once it ended */
	int err_fd; /* its stderr: a memfd */
	enum serve_action action;
	struct serve_req *req; /* NULL when the request went away */
	struct MHD_Connection *conn;
	struct wm_buf out, err;
	int status;
	bool done, truncated, stopping;
	struct serve_spawn *next; /* in serve.spawns */
	struct serve *s;
};

struct serve {
	struct serve_conf conf;
	struct MHD_Daemon *d;
	struct wm_serve_keys *keys;
	int workflows_fd;    /* -1 without --workflows */
	char *workflows_abs; /* its absolute path (conf.workflows points at it) */
	char *wm_path;	     /* the wm binary that starts runs */
	struct sse_state *sse;
	struct buckets *buckets;
	struct serve_sched *sched;     /* schedule.c; NULL without --workflows */
	struct serve_watches *watches; /* watch.c */
	int epfd;
	struct serve_spawn *spawns;	/* the wm commands requests wait for */
	struct runcache *runs;		/* runcache.c */
	unsigned long requests, errors; /* counted for the stop message */
};

/* One request in flight (MHD's con_cls). */
struct serve_req {
	char *raw;     /* the request target as received */
	bool started;  /* the access handler has seen it */
	bool too_big;  /* the body passed conf.body_max */
	bool answered; /* a reply is queued */
	struct wm_buf body;
	struct wm_serve_target t;
	struct serve_spawn *spawn;	   /* a wm command this request waits for */
	char actor[WM_SERVE_NAME_MAX + 8]; /* "api:NAME" once admitted */
};

/* What a handler gets. */
struct serve_call {
	struct serve *s;
	struct MHD_Connection *conn;
	struct serve_req *req;
	const struct wm_serve_route *route;
	const char *cap[2];
	const char *actor; /* "api:NAME", or "api:anonymous" */
	bool head;
};

typedef int (*serve_handler)(struct serve_call *c);

/* Replies; each returns 0 (the reply is queued) or -1 (MHD refused it). */
int serve_reply(struct serve_call *c, unsigned status, struct MHD_Response *r);
/* Steals j. */
int serve_reply_json(struct serve_call *c, unsigned status, json_t *j);
/* {"error": msg, "field": field-or-null}; 401 adds WWW-Authenticate, 405
 * Allow, 429 Retry-After (from the message's caller, see http.c). */
int serve_reply_error(struct serve_call *c, unsigned status, const char *field, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
int serve_reply_fail(struct serve_call *c, const struct wm_serve_fail *f);
/* An internal error (500) naming what failed; frees e. */
int serve_reply_wm_error(struct serve_call *c, struct wm_error *e);
/* Adds the headers every reply carries (no-store, nosniff, CORS). */
void serve_common_headers(const struct serve *s, struct MHD_Response *r);

/* http.c: MHD callbacks. */
enum MHD_Result serve_access(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_size, void **con_cls);
void *serve_uri_log(void *cls, const char *uri, struct MHD_Connection *conn);
void serve_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		     enum MHD_RequestTerminationCode toe);
struct buckets *serve_buckets_new(void);
void serve_buckets_free(struct buckets *b);

/* api.c: the read-only routes. */
int serve_get_runs(struct serve_call *c);
int serve_get_run(struct serve_call *c);
int serve_get_task(struct serve_call *c);
int serve_get_log(struct serve_call *c);
int serve_get_audit(struct serve_call *c);
int serve_get_verify(struct serve_call *c);
int serve_get_run_stats(struct serve_call *c);
int serve_get_report(struct serve_call *c);
int serve_get_stats(struct serve_call *c);
int serve_get_policies(struct serve_call *c);
int serve_get_policy(struct serve_call *c);
int serve_get_policy_diff(struct serve_call *c);
int serve_get_workflows(struct serve_call *c);
int serve_get_plan(struct serve_call *c);
int serve_get_openapi(struct serve_call *c);
int serve_get_docs(struct serve_call *c);
/* Opens workflow `name` beneath --workflows (api_defs.c): its fd, or -1
 * with f set (400 bad name, 404 missing or leading outside). */
int serve_open_workflow(struct serve *s, const char *name, struct wm_serve_fail *f);
/* A static file of the dashboard (GET outside /api/), or 404. */
int serve_get_asset(struct serve_call *c, const char *path);

/* runcache.c: run id as wm_runview_load gives it, from the last
 * SERVE_RUNCACHE_SIZE loaded while their files and lock are unchanged.
 * Borrowed until the next call; NULL with *err as wm_runview_load. */
#define SERVE_RUNCACHE_SIZE 16
const struct wm_runview *serve_run_view(struct serve *s, const char *id, struct wm_error **err);
struct runcache *serve_runcache_new(void);
void serve_runcache_free(struct runcache *rc);

/* A run id from the path: the full id of an existing run; else a 400 or
 * 404 reply is queued and NULL returned. */
const char *serve_run_id(struct serve_call *c);

/* actions.c: the routes that change something. */
int serve_post_run(struct serve_call *c);
int serve_post_cancel(struct serve_call *c);
int serve_post_resume(struct serve_call *c);
/* Runs `wm --state-dir DIR ARGS...` (with WM_ACTOR) and answers the
 * request when it ends, as `action` says. */
int serve_spawn_wm(struct serve_call *c, enum serve_action action, char **args);
/* The loop saw the spawn's pipe readable: read it; at its end reap the
 * command and resume the request. */
void serve_spawn_readable(struct serve *s, struct serve_spawn *sp);
/* Answers a request whose command ended. */
int serve_spawn_answer(struct serve_call *c);
/* Frees sp, or, while its command runs, leaves it to the loop. */
void serve_spawn_free(struct serve_spawn *sp);
/* Before the daemon stops: answers every request still waiting for a
 * command (503), whose connection must not stay suspended. */
void serve_spawn_stop_all(struct serve *s);

/* sse.c: event streams. */
int serve_sse_open(struct serve *s, struct wm_error **err);
void serve_sse_close(struct serve *s);
int serve_sse_fd(const struct serve *s);
/* inotify readable: read what runs appended, hand it to the streams. */
void serve_sse_dispatch(struct serve *s);
/* Once a second: heartbeats. */
void serve_sse_tick(struct serve *s);
size_t serve_sse_clients(const struct serve *s);
int serve_get_events(struct serve_call *c);
/* GET /runs/{id}/logs/{task}?follow=1: the log from its start, then what
 * is appended, until the client goes; takes fd. */
int serve_sse_follow_log(struct serve_call *c, const char *id, const char *task, int fd);
/* Resumes every stream before the daemon stops. */
void serve_sse_resume_all(struct serve *s);

/* schedule.c: the scheduled workflows of --workflows DIR. open reads DIR
 * and watches it (serve_sched_fd: its inotify fd, -1 without DIR); the
 * loop calls tick each second, inotify when DIR changed, reload on
 * SIGHUP. */
int serve_sched_open(struct serve *s, struct wm_error **err);
int serve_sched_fd(const struct serve *s);
void serve_sched_tick(struct serve *s);
void serve_sched_inotify(struct serve *s);
void serve_sched_reload(struct serve *s);
void serve_sched_close(struct serve *s);

/* A file of DIR's tree changed (rel: relative to DIR): trigger.paths. */
void serve_sched_changed(struct serve *s, const char *rel);
/* Some workflow has trigger.paths: DIR's subdirectories are watched too. */
bool serve_sched_wants_tree(const struct serve *s);
/* A workflow file of DIR changed: DIR is read again at the next tick. */
void serve_sched_mark_dirty(struct serve *s);

/* watch.c: inotify watches over --workflows DIR (the workspace of its
 * workflows): DIR itself always, its subdirectories (not hidden ones, at
 * most WATCH_MAX) once a workflow has trigger.paths. */
int serve_watch_dir(struct serve *s, int ifd, const char *rel);
void serve_watch_tree(struct serve *s, int ifd);
void serve_watch_release(struct serve *s);

/* A webhook trigger of a workflow of DIR (front matter `trigger:`). */
struct serve_hook {
	char *name, *file, *secret_env;
	char **params; /* NULL-terminated, or NULL */
};
/* The hook named so, or NULL (also without --workflows). Borrowed until
 * the next reload. */
const struct serve_hook *serve_sched_hook(const struct serve *s, const char *name);

/* hooks.c: POST /api/v1/hooks/{name}. */
int serve_post_hook(struct serve_call *c);

#endif
