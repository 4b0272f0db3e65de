/*
 * api.c - the read-only routes of runs: the same readers and JSON as `wm
 * list --json`, `wm status --json`, `wm stats --json`, `wm audit`.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/runview.h"
#include "orchestrator/serve/server.h"
#include "state/audit.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000

const char *serve_run_id(struct serve_call *c)
{
	const char *id = c->cap[0];
	wm_autofree char *dir = NULL;
	struct stat st;

	if (!wm_run_id_valid(id)) {
		serve_reply_error(c, 400, "id", "not a run id (YYYYMMDD-HHMMSS-xxxx)");
		return NULL;
	}
	dir = wm_rundir_path(c->s->conf.state_dir, id);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		serve_reply_error(c, 404, "id", "no run %s", id);
		return NULL;
	}
	return id;
}

/* Run id, loaded (runcache.c: borrowed); NULL after a reply. A run whose
 * state cannot be read is a 500 naming why. */
static const struct wm_runview *load_run(struct serve_call *c, const char *id)
{
	struct wm_error *e = NULL;
	const struct wm_runview *v = serve_run_view(c->s, id, &e);

	if (!v)
		return serve_reply_wm_error(c, e), NULL;
	if (!v->st.rs)
		return serve_reply_error(c, 500, NULL, "run %s: %s", id, v->load_error), NULL;
	return v;
}

struct run_filter {
	char **states;
	const char *name;
	long long since_ms;
	bool has_since;
};

static int parse_filter(struct serve_call *c, struct run_filter *f)
{
	const char *st = wm_serve_param(&c->req->t, "state");
	const char *since = wm_serve_param(&c->req->t, "since");
	size_t n_known = 0, n = 0;
	const char *const *known = wm_runview_state_names(&n_known);
	struct wm_error *e = NULL;

	f->name = wm_serve_param(&c->req->t, "name");
	if (st) {
		wm_autofree char *copy = wm_xstrdup(st);
		char *save = NULL;

		for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
			if (!wm_strv_contains((char *const *)known, s))
				return serve_reply_error(c, 400, "state", "unknown run state '%s'",
							 s);
			wm_strv_push(&f->states, &n, s);
		}
	}
	if (since) {
		if (wm_parse_since(since, wm_wall_ms(), &f->since_ms, &e) < 0) {
			wm_autofree char *text = wm_error_text(e);

			wm_error_free(e);
			return serve_reply_error(c, 400, "since", "%s", text);
		}
		f->has_since = true;
	}
	return 0;
}

static bool wanted(const struct wm_runview *v, const struct run_filter *f)
{
	const char *name = wm_runview_name(v);

	if (f->states && !wm_strv_contains(f->states, wm_runview_state(v)))
		return false;
	if (f->name && (!name || fnmatch(f->name, name, 0) != 0))
		return false;
	return !f->has_since || wm_runview_time_ms(v) >= f->since_ms;
}

int serve_get_runs(struct serve_call *c)
{
	struct run_filter f = { 0 };
	unsigned long limit = LIST_DEFAULT, offset = 0;
	struct wm_serve_fail fail = { 0 };
	wm_autostrv char **ids = NULL;
	struct wm_error *e = NULL;
	size_t n = 0, total = 0;
	json_t *runs;
	int rc;

	if (wm_serve_param_uint(&c->req->t, "limit", LIST_MAX, &limit, &fail) < 0 ||
	    wm_serve_param_uint(&c->req->t, "offset", 1UL << 30, &offset, &fail) < 0)
		return serve_reply_fail(c, &fail);
	if (parse_filter(c, &f) < 0 || c->req->answered) {
		wm_strv_free(f.states);
		return 0;
	}
	if (wm_rundir_list(c->s->conf.state_dir, &ids, &n, &e) < 0) {
		wm_strv_free(f.states);
		return serve_reply_wm_error(c, e);
	}
	runs = json_array();
	for (size_t i = 0; i < n; i++) {
		struct wm_runview v = { 0 };

		if (wm_runview_load_brief(c->s->conf.state_dir, ids[i], &v, NULL) < 0)
			continue; /* removed meanwhile */
		if (wanted(&v, &f) && total++ >= offset && json_array_size(runs) < limit)
			json_array_append_new(runs, wm_runview_list_json(&v));
		wm_runview_release(&v);
	}
	wm_strv_free(f.states);
	rc = serve_reply_json(c, 200,
			      json_pack("{s:o, s:I, s:I, s:I}", "runs", runs, "total",
					(json_int_t)total, "offset", (json_int_t)offset, "limit",
					(json_int_t)limit));
	return rc;
}

int serve_get_run(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	const struct wm_runview *v = id ? load_run(c, id) : NULL;
	json_t *j;

	if (!v)
		return 0;
	j = wm_runview_status_json(v);
	json_object_set_new(j, "state_shown", json_string(wm_runview_state(v)));
	return serve_reply_json(c, 200, j);
}

int serve_get_task(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	const struct wm_runview *v;
	const struct wm_task_state *t;
	json_t *j;

	if (!id)
		return 0;
	if (!wm_serve_name_ok(c->cap[1]))
		return serve_reply_error(c, 400, "task", "not a task id");
	if (!(v = load_run(c, id)))
		return 0;
	t = wm_run_state_find(v->st.rs, c->cap[1]);
	if (!t)
		return serve_reply_error(c, 404, "task", "run %s has no task '%s'", id, c->cap[1]);
	j = wm_task_state_to_json(t);
	json_object_set_new(j, "id", json_string(t->id));
	return serve_reply_json(c, 200, j);
}

/* "bytes=A-B", "bytes=A-", "bytes=-N" against a file of `size` bytes:
 * 1 with [*from, *to], 0 without a Range, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	unsigned long long a = 0, b = 0;
	char *end;

	if (!h)
		return 0;
	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return -1;
	h += 6;
	if (*h == '-') {
		b = strtoull(h + 1, &end, 10);
		if (*end || end == h + 1 || !b || !size)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	a = strtoull(h, &end, 10);
	if (end == h || *end != '-' || a >= size)
		return -1;
	h = end + 1;
	b = *h ? strtoull(h, &end, 10) : size - 1;
	if ((*h && *end) || b < a)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 1;
}

/* Opens logs/<task>.log of run id, never through a link; a reply is
 * queued when it cannot be. */
static int open_log(struct serve_call *c, const char *id, const char *task)
{
	wm_autofree char *dir = wm_rundir_path(c->s->conf.state_dir, id);
	wm_autofree char *rel = wm_xasprintf(WM_RUN_LOGS "/%s.log", task);
	struct wm_error *e = NULL;
	wm_autoclose int dfd = wm_safe_opendir_path(dir, &e);
	int fd;

	if (dfd < 0)
		return serve_reply_wm_error(c, e), -1;
	fd = wm_safe_open(dfd, rel, rel, O_RDONLY, 0, &e);
	if (fd < 0 && e && e->errnum == ENOENT) {
		wm_error_free(e);
		return serve_reply_error(c, 404, "task", "run %s has no log for task '%s' yet", id,
					 task),
		       -1;
	}
	if (fd < 0)
		return serve_reply_wm_error(c, e), -1;
	return fd;
}

int serve_get_log(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	const char *task = c->cap[1];
	struct wm_serve_fail f = { 0 };
	uint64_t from = 0, to = 0;
	bool follow = false;
	struct MHD_Response *r;
	struct stat st;
	char cr[96];
	int fd, rr;

	if (!id)
		return 0;
	if (!wm_serve_name_ok(task))
		return serve_reply_error(c, 400, "task", "not a task id");
	if (wm_serve_param_bool(&c->req->t, "follow", &follow, &f) < 0)
		return serve_reply_fail(c, &f);
	if ((fd = open_log(c, id, task)) < 0)
		return 0;
	if (follow)
		return serve_sse_follow_log(c, id, task, fd);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return serve_reply_error(c, 500, NULL, "stat the log: %s", strerror(errno));
	}
	rr = parse_range(MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Range"),
			 (uint64_t)st.st_size, &from, &to);
	if (rr < 0) {
		close(fd);
		snprintf(cr, sizeof(cr), "bytes */%lld", (long long)st.st_size);
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Range", cr);
		return serve_reply(c, 416, r);
	}
	if (!rr)
		to = st.st_size ? (uint64_t)st.st_size - 1 : 0;
	r = MHD_create_response_from_fd_at_offset64(st.st_size ? to - from + 1 : 0, fd,
						    (int64_t)from); /* owns fd */
	if (!r) {
		close(fd);
		return serve_reply_error(c, 500, NULL, "cannot send the log");
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	if (rr) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%lld", from, to,
			 (long long)st.st_size);
		MHD_add_response_header(r, "Content-Range", cr);
	}
	return serve_reply(c, rr ? 206 : 200, r);
}

int serve_get_audit(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	const char *task, *event;
	wm_autofree char *dir = NULL, *path = NULL;
	struct wm_error *e = NULL;
	wm_autoclose int fd = -1;
	struct wm_lines lines;
	json_t *out;
	const char *line;
	size_t len;
	bool complete;
	int rc;

	if (!id)
		return 0;
	task = wm_serve_param(&c->req->t, "task");
	event = wm_serve_param(&c->req->t, "event");
	dir = wm_rundir_path(c->s->conf.state_dir, id);
	path = wm_rundir_file(dir, WM_RUN_AUDIT);
	if ((fd = wm_audit_open_read(path, &e)) < 0)
		return serve_reply_wm_error(c, e);
	out = json_array();
	wm_lines_init(&lines, fd, path, WM_AUDIT_LINE_MAX);
	while ((rc = wm_lines_next(&lines, &line, &len, &complete, &e)) > 0) {
		json_t *o = complete ? json_loadb(line, len, 0, NULL) : NULL; /* new ref */
		const char *t = json_string_value(json_object_get(o, "task"));
		const char *ev = json_string_value(json_object_get(o, "event"));

		if (o && (!task || (t && strcmp(t, task) == 0)) &&
		    (!event || (ev && strcmp(ev, event) == 0)))
			json_array_append(out, o);
		json_decref(o);
	}
	wm_lines_release(&lines);
	if (rc < 0) {
		json_decref(out);
		return serve_reply_wm_error(c, e);
	}
	return serve_reply_json(c, 200, json_pack("{s:s, s:o}", "run_id", id, "records", out));
}

int serve_get_verify(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	struct wm_audit_result res;
	struct wm_error *e = NULL;
	struct wm_runview v;
	json_t *j;

	if (!id)
		return 0;
	if (wm_runview_load(c->s->conf.state_dir, id, &v, &e) < 0)
		return serve_reply_wm_error(c, e);
	if (wm_runview_verify_audit(&v, c->s->conf.state_dir, &res, &e) < 0) {
		wm_runview_release(&v);
		return serve_reply_wm_error(c, e);
	}
	j = json_pack("{s:s, s:b, s:s, s:I, s:I, s:s?, s:s?, s:b}", "run_id", id, "intact",
		      wm_audit_result_intact(&res), "problem", wm_audit_problem_name(res.problem),
		      "first_bad_seq", (json_int_t)res.first_bad_seq, "lines",
		      (json_int_t)res.lines, "message", res.message, "notes", res.notes,
		      "checkpoint_checked", v.st.rs != NULL);
	wm_audit_result_release(&res);
	wm_runview_release(&v);
	return serve_reply_json(c, 200, j);
}

int serve_get_run_stats(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	char *args[] = { (char *)"stats", (char *)id, (char *)"--json", NULL };

	return id ? serve_spawn_wm(c, SERVE_ACT_JSON, args) : 0;
}

int serve_get_stats(struct serve_call *c)
{
	const char *since = wm_serve_param(&c->req->t, "since");
	char *args[] = { (char *)"stats", (char *)"--json", (char *)"--since", (char *)since,
			 NULL };
	struct wm_error *e = NULL;
	long long ms;

	if (since && wm_parse_since(since, wm_wall_ms(), &ms, &e) < 0) {
		wm_autofree char *text = wm_error_text(e);

		wm_error_free(e);
		return serve_reply_error(c, 400, "since", "%s", text);
	}
	if (!since)
		args[2] = NULL;
	return serve_spawn_wm(c, SERVE_ACT_JSON, args);
}
