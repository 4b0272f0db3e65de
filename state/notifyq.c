/*
 * notifyq.c - the run's notification queue file (notifyq.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/audit.h"
#include "state/notifyq.h"
#include "state/rundir.h"
#include "state/safeio.h"

static struct wm_notifyq_item *find(struct wm_notifyq *q, long id)
{
	for (size_t i = q->n; i-- > 0;)
		if (q->v[i].id == id)
			return &q->v[i];
	return NULL;
}

/* One line into q; a line that makes no sense is skipped. */
static void take_line(struct wm_notifyq *q, const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL); /* new ref */
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_int_t id = json_integer_value(json_object_get(j, "id"));
	struct wm_notifyq_item *it = id > 0 ? find(q, (long)id) : NULL;

	if (!kind || id <= 0) {
		json_decref(j);
		return;
	}
	if (strcmp(kind, "due") == 0 && !it && q->n < WM_NOTIFYQ_MAX_DUE) {
		q->v = wm_xrealloc(q->v, (q->n + 1) * sizeof(*q->v));
		q->v[q->n++] = (struct wm_notifyq_item){ .id = (long)id, .due = j };
		return;
	}
	if (strcmp(kind, "result") == 0 && it && !it->result) {
		it->result = j;
		return;
	}
	if (strcmp(kind, "audited") == 0 && it)
		it->audited = true;
	json_decref(j);
}

int wm_notifyq_load(const char *run_dir, struct wm_notifyq *q, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	wm_autoclose int fd = -1;
	struct wm_error *e = NULL;
	struct wm_lines r;
	const char *line;
	size_t len;
	bool complete;
	int rc;

	memset(q, 0, sizeof(*q));
	if (dfd < 0)
		return -1;
	fd = wm_safe_open(dfd, run_dir, WM_NOTIFYQ_FILE, O_RDONLY, 0, &e);
	if (fd < 0) {
		if (e->errnum == ENOENT) {
			wm_error_free(e);
			return 0; /* nothing was ever due */
		}
		wm_err_pass(err, e);
		return -1;
	}
	wm_lines_init(&r, fd, WM_NOTIFYQ_FILE, WM_NOTIFYQ_LINE_MAX);
	while ((rc = wm_lines_next(&r, &line, &len, &complete, err)) > 0)
		if (complete)
			take_line(q, line, len);
	wm_lines_release(&r);
	if (rc < 0)
		wm_notifyq_release(q);
	return rc < 0 ? -1 : 0;
}

void wm_notifyq_release(struct wm_notifyq *q)
{
	for (size_t i = 0; i < q->n; i++) {
		json_decref(q->v[i].due);
		json_decref(q->v[i].result);
	}
	free(q->v);
	memset(q, 0, sizeof(*q));
}

long wm_notifyq_next_id(const struct wm_notifyq *q)
{
	long max = 0;

	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].id > max)
			max = q->v[i].id;
	return max + 1;
}

size_t wm_notifyq_pending(const struct wm_notifyq *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		n += !q->v[i].result;
	return n;
}

size_t wm_notifyq_unaudited(const struct wm_notifyq *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n; i++)
		n += q->v[i].result && !q->v[i].audited;
	return n;
}

int wm_notifyq_append(const char *run_dir, json_t *line, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	wm_autoclose int fd = -1;
	wm_autofree char *text = NULL;
	const char *kind = json_string_value(json_object_get(line, "kind"));
	struct stat st;
	size_t len;

	if (dfd < 0)
		return -1;
	fd = wm_safe_open(dfd, run_dir, WM_NOTIFYQ_FILE, O_WRONLY | O_CREAT | O_APPEND, 0600, err);
	if (fd < 0)
		return -1;
	text = json_dumps(line, JSON_COMPACT);
	if (!text)
		return wm_error_set(err, EINVAL, "notification queue: a line that is not JSON");
	len = strlen(text);
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s/%s`", run_dir, WM_NOTIFYQ_FILE);
	if (kind && strcmp(kind, "due") == 0 &&
	    (st.st_size + (off_t)len + 1 > (off_t)WM_NOTIFYQ_MAX_BYTES ||
	     json_integer_value(json_object_get(line, "id")) > WM_NOTIFYQ_MAX_DUE))
		return wm_error_set(err, ENOSPC,
				    "notification queue full (%d notifications, %lu bytes)",
				    WM_NOTIFYQ_MAX_DUE, WM_NOTIFYQ_MAX_BYTES);
	text[len] = '\n'; /* in place of the NUL: the line and its end in one write */
	if (wm_write_all(fd, text, len + 1) < 0 || fdatasync(fd) < 0)
		return wm_error_set(err, errno, "append to `%s/%s`", run_dir, WM_NOTIFYQ_FILE);
	return 0;
}

/* A webhook's scheme://host[:port]: enough to know where it went, and no
 * token a URL may carry in its path or query. */
static json_t *target_name(json_t *target)
{
	const char *url = json_string_value(json_object_get(target, "webhook"));
	json_t *argv = json_object_get(target, "command");
	const char *host;

	if (url) {
		host = strstr(url, "://");
		host = host ? host + 3 : url;
		return json_stringn(url, (size_t)(host - url) + strcspn(host, "/?#@"));
	}
	return json_string(json_string_value(json_array_get(argv, 0)) ?: "?");
}

static int audit_one(struct wm_audit *a, const struct wm_notifyq_item *it, struct wm_error **err)
{
	json_t *r = it->result, *body = json_object_get(it->due, "body");
	json_t *f = json_object();
	const char *task = json_string_value(json_object_get(body, "task"));
	bool ok = json_is_true(json_object_get(r, "ok"));
	int rc;

	json_object_set_new(f, "id", json_integer((json_int_t)it->id));
	json_object_set(f, "notified", json_object_get(it->due, "event"));
	json_object_set_new(f, "target", target_name(json_object_get(it->due, "target")));
	json_object_set(f, "attempts", json_object_get(r, "attempts"));
	json_object_set(f, "detail", json_object_get(r, "detail"));
	rc = wm_audit_append(a, task, ok ? "notify.delivered" : "notify.failed", f, err);
	json_decref(f);
	return rc;
}

int wm_notifyq_audit(const char *run_dir, struct wm_audit *a, struct wm_error **err)
{
	struct wm_notifyq q;
	int rc = 0;

	if (wm_notifyq_load(run_dir, &q, err) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < q.n; i++)
		if (q.v[i].result && !q.v[i].audited)
			rc = audit_one(a, &q.v[i], err);
	if (rc == 0 && wm_notifyq_unaudited(&q))
		rc = wm_audit_flush(a, err);
	for (size_t i = 0; rc == 0 && i < q.n; i++) {
		if (q.v[i].result && !q.v[i].audited) {
			json_t *l = json_pack("{s:s, s:I}", "kind", "audited", "id",
					      (json_int_t)q.v[i].id);
			rc = wm_notifyq_append(run_dir, l, err);
			json_decref(l);
		}
	}
	wm_notifyq_release(&q);
	return rc;
}
