/*
 * actions.c - the routes that change something: start, cancel and resume
 * a run. Each is an ordinary wm command run by the wm binary beside this
 * helper, with the same state directory, locks and audit log, and with
 * WM_ACTOR=api:KEY in its environment, which the run's audit records
 * (run.start, run.resume, run.interrupt) carry as "actor".
 *
 * `wm run --detach` and `wm cancel`, and the `wm stats --json` and `wm
 * plan --format json` that some read routes answer with, are waited for
 * without blocking the event loop: their stdout comes through a pipe
 * watched by the loop (serve_spawn_readable), their stderr goes to a
 * memfd read at their end, the request's connection is suspended
 * meanwhile and answered with their result. `wm resume` goes on for as long as the
 * run does: it is started in a session of its own, its output appended to
 * the run's orchestrator.log, and the request is answered at once (202).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/runview.h"
#include "orchestrator/serve/server.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define OUTPUT_MAX 65536    /* of stderr kept */
#define JSON_MAX (16 << 20) /* of stdout */

/* In the child: stdio, a session of its own, no fd of the server, the
 * actor; then wm. Never returns. */
static void exec_wm(const struct serve *s, int out_fd, int err_fd, const char *actor, char **argv)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	setsid();
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	setenv("WM_ACTOR", actor, 1);
	execv(s->wm_path, argv);
	dprintf(STDERR_FILENO, "wm: cannot run %s: %s\n", s->wm_path, strerror(errno));
	_exit(127);
}

static struct serve_spawn *spawn_new(struct serve_call *c, enum serve_action action, pid_t pid,
				     int out_fd, int err_fd)
{
	struct serve_spawn *sp = wm_xcalloc(1, sizeof(*sp));

	sp->src.kind = SERVE_SRC_SPAWN;
	sp->pid = pid;
	sp->fd = out_fd;
	sp->err_fd = err_fd;
	sp->action = action;
	sp->req = c->req;
	sp->conn = c->conn;
	sp->s = c->s;
	sp->next = c->s->spawns;
	c->s->spawns = sp;
	wm_buf_init(&sp->out);
	wm_buf_init(&sp->err);
	return sp;
}

/* The command ended: its exit status and what it said on stderr. */
static void spawn_ended(struct serve_spawn *sp)
{
	char buf[4096];
	ssize_t n;
	off_t at = 0;

	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	while (waitpid(sp->pid, &sp->status, 0) < 0 && errno == EINTR)
		;
	while (sp->err.len < OUTPUT_MAX && (n = pread(sp->err_fd, buf, sizeof(buf), at)) > 0) {
		wm_buf_add(&sp->err, buf, (size_t)n);
		at += n;
	}
	close(sp->err_fd);
	sp->err_fd = -1;
	sp->done = true;
}

/* Reads what the command wrote: 1 at its end (the pipe closed), 0 when
 * more may come. */
static int drain(struct serve_spawn *sp)
{
	char buf[16384];
	ssize_t n;

	for (;;) {
		n = read(sp->fd, buf, sizeof(buf));
		if (n > 0) {
			if (sp->out.len + (size_t)n <= JSON_MAX)
				wm_buf_add(&sp->out, buf, (size_t)n);
			else
				sp->truncated = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN ? 0 : 1;
	}
}

void serve_spawn_readable(struct serve *s, struct serve_spawn *sp)
{
	if (!drain(sp))
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, sp->fd, NULL);
	spawn_ended(sp);
	if (sp->req)
		MHD_resume_connection(sp->conn);
	else
		serve_spawn_free(sp);
}

int serve_spawn_wm(struct serve_call *c, enum serve_action action, char **args)
{
	struct serve *s = c->s;
	struct serve_spawn *sp;
	wm_autostrv char **argv = NULL;
	size_t n = 0;
	int p[2], efd;
	pid_t pid;

	wm_strv_push(&argv, &n, s->wm_path);
	wm_strv_push(&argv, &n, "--state-dir");
	wm_strv_push(&argv, &n, s->conf.state_dir);
	for (size_t i = 0; args[i]; i++)
		wm_strv_push(&argv, &n, args[i]);
	if ((efd = memfd_create("wm-stderr", MFD_CLOEXEC)) < 0)
		return serve_reply_error(c, 500, NULL, "memfd: %s", strerror(errno));
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || (pid = fork()) < 0) {
		close(efd);
		return serve_reply_error(c, 500, NULL, "start wm: %s", strerror(errno));
	}
	if (pid == 0)
		exec_wm(s, p[1], efd, c->actor, argv);
	close(p[1]);
	sp = spawn_new(c, action, pid, p[0], efd);
	c->req->spawn = sp;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, sp->fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = sp }) < 0) {
		/* Not watched: read it here, blocking; wm answers these fast. */
		fcntl(sp->fd, F_SETFL, 0);
		drain(sp);
		spawn_ended(sp);
		return serve_spawn_answer(c);
	}
	MHD_suspend_connection(c->conn);
	return 0;
}

void serve_spawn_free(struct serve_spawn *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0) {
		/* The request went away first: the loop reaps it when it ends. */
		sp->req = NULL;
		return;
	}
	for (struct serve_spawn **p = &sp->s->spawns; *p; p = &(*p)->next) {
		if (*p == sp) {
			*p = sp->next;
			break;
		}
	}
	wm_buf_release(&sp->out);
	wm_buf_release(&sp->err);
	free(sp);
}

void serve_spawn_stop_all(struct serve *s)
{
	for (struct serve_spawn *sp = s->spawns; sp; sp = sp->next) {
		if (sp->req && !sp->done) {
			sp->done = sp->stopping = true;
			MHD_resume_connection(sp->conn);
		}
	}
}

/* The last line of b, without "wm: ". */
static const char *last_line(struct wm_buf *b)
{
	char *p;

	while (b->len && b->data[b->len - 1] == '\n')
		wm_buf_setlen(b, b->len - 1);
	p = strrchr(b->data, '\n');
	p = p ? p + 1 : b->data;
	return wm_str_has_prefix(p, "wm: ") ? p + 4 : p;
}

/* stderr's lines, as a JSON array. */
static json_t *diagnostics(const struct wm_buf *err)
{
	wm_autofree char *copy = wm_xstrndup(err->data, err->len);
	json_t *a = json_array();
	char *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		json_array_append_new(a, json_string(l));
	return a;
}

static int answer_ok(struct serve_call *c, struct serve_spawn *sp)
{
	struct MHD_Response *r;
	const char *id;

	switch (sp->action) {
	case SERVE_ACT_RUN:
		id = last_line(&sp->out);
		if (!wm_run_id_valid(id))
			return serve_reply_error(c, 500, NULL, "wm run said no run id: %s", id);
		return serve_reply_json(c, 201,
					json_pack("{s:s, s:s}", "run_id", id, "actor", c->actor));
	case SERVE_ACT_CANCEL:
		return serve_reply_json(
			c, 200,
			json_pack("{s:s, s:s}", "message", last_line(&sp->out), "actor", c->actor));
	case SERVE_ACT_JSON:
		if (sp->truncated)
			return serve_reply_error(c, 500, NULL, "answer larger than %d bytes",
						 JSON_MAX);
		r = MHD_create_response_from_buffer(sp->out.len, sp->out.data,
						    MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "Content-Type", "application/json");
		return serve_reply(c, 200, r);
	}
	return -1;
}

int serve_spawn_answer(struct serve_call *c)
{
	struct serve_spawn *sp = c->req->spawn;
	int code = WIFEXITED(sp->status) ? WEXITSTATUS(sp->status) : 128;
	json_t *diags = diagnostics(&sp->err);
	const char *msg = last_line(&sp->err);
	int rc;

	if (sp->stopping)
		rc = serve_reply_error(c, 503, NULL, "wm serve is stopping");
	else if (code == 0)
		rc = answer_ok(c, sp);
	else if (code == WM_EXIT_USAGE && sp->action == SERVE_ACT_JSON && sp->err.len)
		rc = serve_reply_json(
			c, 422,
			json_pack("{s:s, s:n, s:O}", "error", msg, "field", "diagnostics", diags));
	else if (code == WM_EXIT_USAGE)
		rc = serve_reply_error(c, 400, sp->action == SERVE_ACT_RUN ? "workflow" : NULL,
				       "%s", msg);
	else if (code == WM_EXIT_CANNOT)
		rc = serve_reply_error(c, 409, NULL, "%s", msg);
	else
		rc = serve_reply_error(c, 500, NULL, "wm exited with %d: %s", code, msg);
	json_decref(diags);
	c->req->spawn = NULL;
	serve_spawn_free(sp);
	return rc;
}

/* ---- POST /runs ---- */

static int add_env(struct serve_call *c, json_t *env, char ***args, size_t *n)
{
	const char *k;
	json_t *v;

	if (!json_is_object(env))
		return serve_reply_error(c, 400, "env", "env must be an object of strings");
	json_object_foreach(env, k, v)
	{
		if (!wm_env_name_ok(k, strlen(k)) || !json_is_string(v) ||
		    memchr(json_string_value(v), '\0', json_string_length(v)))
			return serve_reply_error(c, 400, "env",
						 "env: '%s' must be a variable name with a string",
						 k);
		wm_strv_push(args, n, "-e");
		wm_strv_push_owned(args, n, wm_xasprintf("%s=%s", k, json_string_value(v)));
	}
	return 0;
}

/* The body of POST /runs into wm run's arguments; -1 after a 4xx reply. */
static int run_args(struct serve_call *c, json_t *body, char ***args, size_t *n)
{
	const char *k, *wf = NULL;
	struct wm_serve_fail f = { 0 };
	wm_autoclose int fd = -1;
	json_t *v;

	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "workflow") == 0 && json_is_string(v)) {
			wf = json_string_value(v);
		} else if (strcmp(k, "policy") == 0) {
			if (!json_is_string(v) || !wm_serve_name_ok(json_string_value(v)))
				return serve_reply_error(c, 400, "policy", "not a policy name");
		} else if (strcmp(k, "env") != 0) {
			return serve_reply_error(c, 400, k, "unknown or ill-typed field '%s'", k);
		}
	}
	if (!wf)
		return serve_reply_error(c, 400, "workflow", "workflow (a file name) is required");
	fd = serve_open_workflow(c->s, wf, &f);
	if (fd < 0)
		return serve_reply_fail(c, &f);
	wm_strv_push(args, n, "run");
	wm_strv_push(args, n, "--detach");
	wm_strv_push_owned(args, n, wm_xasprintf("%s/%s", c->s->conf.workflows, wf));
	if ((v = json_object_get(body, "policy"))) {
		wm_strv_push(args, n, "--policy");
		wm_strv_push(args, n, json_string_value(v));
	}
	if ((v = json_object_get(body, "env")) && add_env(c, v, args, n) < 0)
		return -1;
	return 0;
}

int serve_post_run(struct serve_call *c)
{
	wm_autostrv char **args = NULL;
	json_error_t je;
	json_t *body;
	size_t n = 0;
	int rc;

	if (c->s->workflows_fd < 0)
		return serve_reply_error(c, 404, "workflow",
					 "wm serve was started without --workflows");
	body = json_loadb(c->req->body.data, c->req->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(body)) {
		json_decref(body);
		return serve_reply_error(c, 400, "body", "the body must be a JSON object%s%s",
					 body ? "" : ": ", body ? "" : je.text);
	}
	rc = run_args(c, body, &args, &n);
	json_decref(body);
	if (rc < 0 || c->req->answered)
		return 0;
	return serve_spawn_wm(c, SERVE_ACT_RUN, args);
}

/* ---- cancel, resume ---- */

int serve_post_cancel(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	char *args[] = { (char *)"cancel", (char *)id, NULL };

	if (!id)
		return 0;
	return serve_spawn_wm(c, SERVE_ACT_CANCEL, args);
}

/* `wm resume ID` in a session of its own, output to orchestrator.log; the
 * intermediate child ends at once, so nothing is left to reap. */
static int start_resume(struct serve_call *c, const char *id, int log_fd)
{
	struct serve *s = c->s;
	char *argv[] = { s->wm_path,
			 (char *)"--state-dir",
			 (char *)s->conf.state_dir,
			 (char *)"resume",
			 (char *)id,
			 NULL };
	pid_t pid = fork();
	int status = 0;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		pid_t inner = fork();

		if (inner == 0)
			exec_wm(s, log_fd, log_fd, c->actor, argv);
		_exit(inner < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int serve_post_resume(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	wm_autofree char *dir = NULL;
	struct wm_error *e = NULL;
	wm_autoclose int dfd = -1, log = -1;
	struct wm_runview v;
	bool live;

	if (!id)
		return 0;
	if (wm_runview_load_brief(c->s->conf.state_dir, id, &v, &e) < 0)
		return serve_reply_wm_error(c, e);
	live = v.live;
	wm_runview_release(&v);
	if (live)
		return serve_reply_error(c, 409, "id", "run %s is live: nothing to resume", id);
	dir = wm_rundir_path(c->s->conf.state_dir, id);
	if ((dfd = wm_rundir_open_fd(dir, &e)) < 0 ||
	    (log = wm_safe_open(dfd, dir, "orchestrator.log", O_WRONLY | O_CREAT | O_APPEND, 0600,
				&e)) < 0)
		return serve_reply_wm_error(c, e);
	if (start_resume(c, id, log) < 0)
		return serve_reply_error(c, 500, NULL, "cannot start wm resume: %s",
					 strerror(errno));
	return serve_reply_json(c, 202,
				json_pack("{s:s, s:s, s:s}", "run_id", id, "actor", c->actor, "log",
					  "orchestrator.log"));
}
