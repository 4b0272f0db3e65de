/*
 * journal.c - append-only, idempotent record of run changes (journal.h).
 */
#include "state/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/crashpoint.h"
#include "state/rundir.h"

struct wm_journal {
	int fd;
	char *run_dir;
	char *path;
	uint64_t seq;
	size_t last_size;
};

static int open_append(const char *path, struct wm_error **err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return wm_error_set(err, errno, "cannot open journal `%s`", path);
	return fd;
}

/* A torn tail is cut so that new records start on a line of their own. */
static int cut_torn_tail(const char *path, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	char *nl;
	int rc = 0;

	if (wm_buf_read_file(&b, path) < 0) {
		rc = errno == ENOENT ? 0 : wm_error_set(err, errno, "read journal `%s`", path);
		goto out;
	}
	if (b.len == 0 || b.data[b.len - 1] == '\n')
		goto out;
	nl = memrchr(b.data, '\n', b.len);
	if (truncate(path, nl ? (off_t)(nl - b.data + 1) : 0) < 0)
		rc = wm_error_set(err, errno, "truncate journal `%s`", path);
out:
	wm_buf_release(&b);
	return rc;
}

struct wm_journal *wm_journal_open(const char *run_dir, uint64_t last_seq, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_JOURNAL_FILE);
	struct wm_journal *j;
	int fd;

	if (cut_torn_tail(path, err) < 0 || (fd = open_append(path, err)) < 0)
		return NULL;
	j = wm_xcalloc(1, sizeof(*j));
	j->fd = fd;
	j->run_dir = wm_xstrdup(run_dir);
	j->path = wm_steal(&path);
	j->seq = last_seq;
	return j;
}

void wm_journal_close(struct wm_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->run_dir);
	free(j->path);
	free(j);
}

uint64_t wm_journal_seq(const struct wm_journal *j)
{
	return j->seq;
}

size_t wm_journal_last_size(const struct wm_journal *j)
{
	return j->last_size;
}

static char *make_record(const struct wm_run_state *rs, long task_index, const char *event,
			 uint64_t seq)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "seq", json_integer((json_int_t)seq)); /* steals */
	json_object_set_new(o, "event", json_string(event ? event : "update"));
	if (task_index >= 0) {
		json_object_set_new(o, "task", json_string(rs->tasks[task_index].id));
		json_object_set_new(o, "t", wm_task_state_to_json(&rs->tasks[task_index]));
	}
	json_object_set_new(o, "run", wm_run_state_run_json(rs));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

int wm_journal_append(struct wm_journal *j, const struct wm_run_state *rs, long task_index,
		      const char *event, struct wm_error **err)
{
	wm_autofree char *rec = NULL;
	struct wm_buf line = WM_BUF_INIT;
	ssize_t n;
	int rc = -1;

	if (task_index >= (long)rs->n_tasks)
		return wm_error_set(err, EINVAL, "journal: no task #%ld", task_index);
	rec = make_record(rs, task_index, event, j->seq + 1);
	if (!rec)
		return wm_error_set(err, ENOMEM, "journal: serialize record");
	wm_buf_addstr(&line, rec);
	wm_buf_addch(&line, '\n');
	if (wm_crashpoint_hit("journal")) {
		/* Test-only: leave the torn half line a crash would. */
		if (write(j->fd, line.data, line.len / 2) >= 0)
			fdatasync(j->fd);
		raise(SIGKILL);
	}
	/* One write() on O_APPEND: the record lands whole or (crash, ENOSPC)
	 * as a torn tail that loads skip and the next open cuts. */
	n = write(j->fd, line.data, line.len);
	if (n != (ssize_t)line.len) {
		wm_error_set(err, n < 0 ? errno : ENOSPC, "cannot append to journal `%s`", j->path);
		goto out;
	}
	if (fdatasync(j->fd) < 0) {
		wm_error_set(err, errno, "cannot sync journal `%s`", j->path);
		goto out;
	}
	j->seq++;
	j->last_size = line.len;
	rc = 0;
out:
	wm_buf_release(&line);
	return rc;
}

int wm_journal_rotate(struct wm_journal *j, struct wm_error **err)
{
	wm_autofree char *prev = wm_rundir_file(j->run_dir, WM_JOURNAL_PREV);
	int fd;

	if (rename(j->path, prev) < 0)
		return wm_error_set(err, errno, "rotate journal `%s`", j->path);
	fd = open_append(j->path, err);
	if (fd < 0)
		return -1;
	close(j->fd);
	j->fd = fd;
	return wm_state_fsync_dir(j->run_dir, err);
}

/* ---- replay ---- */

struct replay {
	struct wm_run_state *rs;
	uint64_t after, expected; /* next seq wanted */
	bool stopped;
	char ***warnings;
	size_t *n_warnings;
};

static void warn(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct replay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wm_strv_push_owned(r->warnings, r->n_warnings, wm_xvasprintf(fmt, ap));
	va_end(ap);
}

static long long record_seq(const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, 0, NULL); /* new ref */
	json_t *s = json_object_get(o, "seq");
	long long v = json_is_integer(s) ? json_integer_value(s) : -1;

	json_decref(o);
	return v;
}

static int apply(struct replay *r, json_t *o, struct wm_error **err)
{
	json_t *task = json_object_get(o, "task");
	json_t *run = json_object_get(o, "run");
	struct wm_run_state scratch = { 0 };
	struct wm_task_state tmp = { 0 };
	long idx = -1;

	if (task) {
		idx = wm_run_state_index(r->rs, json_string_value(task));
		if (idx < 0)
			return wm_error_set(err, 0, "unknown task '%s'",
					    json_string_value(task) ? json_string_value(task)
								    : "?");
	}
	if (!json_is_object(run))
		return wm_error_set(err, 0, "no \"run\" object");
	/* Parse into scratch copies first, so that a bad record changes nothing. */
	if (wm_run_state_apply_run_json(&scratch, run, err) < 0)
		return -1;
	if (idx >= 0) {
		tmp.id = wm_xstrdup(r->rs->tasks[idx].id);
		if (wm_task_state_from_json(&tmp, json_object_get(o, "t"), err) < 0) {
			wm_task_state_release(&tmp);
			return -1;
		}
		wm_task_state_release(&r->rs->tasks[idx]);
		r->rs->tasks[idx] = tmp;
	}
	return wm_run_state_apply_run_json(r->rs, run, err);
}

static void replay_line(struct replay *r, const char *file, unsigned lineno, const char *line,
			size_t len)
{
	struct wm_error *e = NULL;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL); /* new ref */
	json_t *seq = json_object_get(o, "seq");
	long long s = json_is_integer(seq) ? json_integer_value(seq) : -1;

	if (!json_is_object(o) || s < 1) {
		warn(r, "journal `%s` line %u: corrupt record; using the state up to seq %llu",
		     file, lineno, (unsigned long long)(r->expected - 1));
		r->stopped = true;
	} else if ((uint64_t)s < r->expected) {
		/* Already covered by the checkpoint or a duplicate: idempotent skip. */
	} else if ((uint64_t)s > r->expected) {
		warn(r,
		     "journal `%s` line %u: records %llu..%lld missing; using the state up to seq "
		     "%llu",
		     file, lineno, (unsigned long long)r->expected, s - 1,
		     (unsigned long long)(r->expected - 1));
		r->stopped = true;
	} else if (apply(r, o, &e) < 0) {
		warn(r, "journal `%s` line %u (seq %lld): %s; using the state up to seq %llu", file,
		     lineno, s, e->msg, (unsigned long long)(r->expected - 1));
		wm_error_free(e);
		r->stopped = true;
	} else {
		r->expected++;
	}
	json_decref(o);
}

static int replay_file(struct replay *r, const char *path, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	size_t pos = 0;
	unsigned lineno = 0;

	if (wm_buf_read_file(&b, path) < 0) {
		int e = errno;

		wm_buf_release(&b);
		return e == ENOENT ? 0 : wm_error_set(err, e, "read journal `%s`", path);
	}
	while (pos < b.len && !r->stopped) {
		char *nl = memchr(b.data + pos, '\n', b.len - pos);
		size_t len = nl ? (size_t)(nl - (b.data + pos)) : b.len - pos;

		lineno++;
		if (!nl) {
			warn(r,
			     "journal `%s` line %u: torn last record skipped (interrupted write)",
			     path, lineno);
			break;
		}
		if (len)
			replay_line(r, path, lineno, b.data + pos, len);
		pos += len + 1;
	}
	wm_buf_release(&b);
	return 0;
}

/* Seq of the first record of a file, -1 when none is readable. */
static long long first_seq(const char *path)
{
	struct wm_buf b = WM_BUF_INIT;
	long long s = -1;

	if (wm_buf_read_file(&b, path) == 0) {
		char *nl = memchr(b.data, '\n', b.len);

		if (nl)
			s = record_seq(b.data, (size_t)(nl - b.data));
	}
	wm_buf_release(&b);
	return s;
}

int wm_journal_replay(const char *run_dir, struct wm_run_state *rs, uint64_t after_seq,
		      uint64_t *last_seq, char ***warnings, size_t *n_warnings,
		      struct wm_error **err)
{
	wm_autofree char *cur = wm_rundir_file(run_dir, WM_JOURNAL_FILE);
	wm_autofree char *prev = wm_rundir_file(run_dir, WM_JOURNAL_PREV);
	struct replay r = { .rs = rs,
			    .after = after_seq,
			    .expected = after_seq + 1,
			    .warnings = warnings,
			    .n_warnings = n_warnings };
	long long first = first_seq(cur);

	/* The previous journal matters only when the checkpoint is older than
	 * the current journal's start (fallback to checkpoint .prev). */
	if ((first < 0 || (uint64_t)first > r.expected) && replay_file(&r, prev, err) < 0)
		return -1;
	if (!r.stopped && replay_file(&r, cur, err) < 0)
		return -1;
	*last_seq = r.expected - 1;
	return 0;
}
