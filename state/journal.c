/*
 * journal.c - append-only, idempotent record of run changes (journal.h).
 */
#include "state/journal.h"

#include <errno.h>
#include <sodium.h>
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
#include "state/safeio.h"

/* A record ends with ,"sum":"<32 hex>"} (see make_record). */
#define SUM_KEY ",\"sum\":\""
#define SUM_HEX 32
#define SUM_SUFFIX (sizeof(SUM_KEY) - 1 + SUM_HEX + 2)

struct wm_journal {
	const size_t *counts; /* borrowed, may be NULL: task counts for records */
	int fd;
	int dfd; /* the run directory: every name is relative to it */
	char *run_dir;
	char *path;
	uint64_t seq;
	bool unsynced; /* records appended since the last fdatasync */
};

static int open_append(int dfd, const char *run_dir, struct wm_error **err)
{
	int fd =
		wm_safe_open(dfd, run_dir, WM_JOURNAL_FILE, O_RDWR | O_APPEND | O_CREAT, 0600, err);

	return fd < 0 ? wm_error_wrap(err, "cannot open journal") : fd;
}

/* A torn tail is cut so that new records start on a line of their own. */
static int cut_torn_tail(int fd, const char *path, struct wm_error **err)
{
	struct wm_buf last = WM_BUF_INIT;
	struct stat st;
	off_t start, tail;
	int rc = wm_safe_last_line(fd, path, WM_JOURNAL_LINE_MAX, &last, &start, &tail, err);

	wm_buf_release(&last);
	if (rc < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat journal `%s`", path);
	if (tail >= 0 && tail < st.st_size && ftruncate(fd, tail) < 0)
		return wm_error_set(err, errno, "truncate journal `%s`", path);
	return 0;
}

struct wm_journal *wm_journal_open(const char *run_dir, uint64_t last_seq, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_JOURNAL_FILE);
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	wm_autoclose int fd = -1;
	struct wm_journal *j;

	if (dfd < 0 || (fd = open_append(dfd, run_dir, err)) < 0 ||
	    cut_torn_tail(fd, path, err) < 0)
		return NULL;
	j = wm_xcalloc(1, sizeof(*j));
	j->fd = wm_steal_fd(&fd);
	j->dfd = wm_steal_fd(&dfd);
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
	if (j->dfd >= 0)
		close(j->dfd);
	free(j->run_dir);
	free(j->path);
	free(j);
}

uint64_t wm_journal_seq(const struct wm_journal *j)
{
	return j->seq;
}

/* BLAKE2b (libsodium) of a record's JSON text, 16 bytes as hex. */
static void record_sum(const char *text, size_t len, char hex[SUM_HEX + 1])
{
	unsigned char h[SUM_HEX / 2];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, len, NULL, 0);
	sodium_bin2hex(hex, SUM_HEX + 1, h, sizeof(h));
}

/* The record's compact JSON {...}, then its checksum spliced in as the
 * last member: the line stays one JSON object for jq, and the sum covers
 * exactly the bytes of the object without it. */
static char *make_record(const struct wm_run_state *rs, long task_index, const char *event,
			 uint64_t seq, const size_t *counts)
{
	json_t *o = json_object();
	char hex[SUM_HEX + 1];
	json_t *run = wm_run_state_run_json(rs);
	char *text, *line;
	size_t len;

	json_object_set_new(o, "v", json_integer(WM_JOURNAL_FORMAT)); /* steals */
	json_object_set_new(o, "seq", json_integer((json_int_t)seq));
	json_object_set_new(o, "event", json_string(event ? event : "update"));
	if (task_index >= 0) {
		json_object_set_new(o, "task", json_string(rs->tasks[task_index].id));
		json_object_set_new(o, "t", wm_task_state_to_json(&rs->tasks[task_index]));
	}
	if (counts) {
		json_t *c = json_object();

		for (int i = 0; i < WM_TASK_STATUS_COUNT; i++)
			json_object_set_new(c, wm_task_status_name((enum wm_task_status)i),
					    json_integer((json_int_t)counts[i]));
		json_object_set_new(run, "counts", c);
	}
	json_object_set_new(o, "run", run);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return NULL;
	len = strlen(text);
	record_sum(text, len, hex);
	text[len - 1] = '\0'; /* the closing brace */
	line = wm_xasprintf("%s" SUM_KEY "%s\"}", text, hex);
	free(text);
	return line;
}

/* Checks a line's checksum: 1 good, 0 none (format 1), -1 mismatch. */
static int check_sum(const char *line, size_t len)
{
	size_t body = len - SUM_SUFFIX;
	char hex[SUM_HEX + 1];
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	if (len < SUM_SUFFIX + 2 || memcmp(line + body, SUM_KEY, strlen(SUM_KEY)) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0)
		return memmem(line, len, SUM_KEY, strlen(SUM_KEY)) ? -1 : 0;
	wm_buf_add(&b, line, body);
	wm_buf_addch(&b, '}');
	record_sum(b.data, b.len, hex);
	wm_buf_release(&b);
	rc = sodium_memcmp(hex, line + body + strlen(SUM_KEY), SUM_HEX) == 0 ? 1 : -1;
	return rc;
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
	rec = make_record(rs, task_index, event, j->seq + 1, j->counts);
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
	j->unsynced = true;
	j->seq++;
	rc = 0;
out:
	wm_buf_release(&line);
	return rc;
}

int wm_journal_sync(struct wm_journal *j, struct wm_error **err)
{
	if (!j->unsynced)
		return 0;
	if (fdatasync(j->fd) < 0)
		return wm_error_set(err, errno, "cannot sync journal `%s`", j->path);
	j->unsynced = false;
	return 0;
}

int wm_journal_rotate(struct wm_journal *j, struct wm_error **err)
{
	int fd;

	if (renameat(j->dfd, WM_JOURNAL_FILE, j->dfd, WM_JOURNAL_PREV) < 0)
		return wm_error_set(err, errno, "rotate journal `%s`", j->path);
	fd = open_append(j->dfd, j->run_dir, err);
	if (fd < 0)
		return -1;
	close(j->fd);
	j->fd = fd;
	j->unsynced = false; /* the checkpoint just written holds every record */
	if (fsync(j->dfd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", j->run_dir);
	return 0;
}

/* ---- replay ---- */

struct replay {
	struct wm_run_state *rs;
	uint64_t after, expected; /* next seq wanted */
	bool stopped;
	bool rebuild; /* tasks not in rs are added (no checkpoint to start from) */
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
		if (idx < 0 && r->rebuild && json_is_string(task))
			idx = wm_run_state_add_task(r->rs, json_string_value(task), err);
		if (idx < 0 && err && *err)
			return -1;
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
	int sum = check_sum(line, len);
	json_t *o = sum > 0 ? json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *seq = json_object_get(o, "seq"); /* o: new ref, ours */
	long long s = json_is_integer(seq) ? json_integer_value(seq) : -1;

	if (sum == 0) {
		warn(r,
		     "journal `%s` line %u: record without a checksum (journal format 1, from an "
		     "older wm): this wm reads format %d only; using the state up to seq %llu",
		     file, lineno, WM_JOURNAL_FORMAT, (unsigned long long)(r->expected - 1));
		r->stopped = true;
	} else if (sum < 0) {
		warn(r,
		     "journal `%s` line %u: checksum mismatch (corrupt record); using the state "
		     "up to seq %llu",
		     file, lineno, (unsigned long long)(r->expected - 1));
		r->stopped = true;
	} else if (!json_is_object(o) || s < 1) {
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

/* Opens one journal for reading: -1 with *err, or -2 when it is missing. */
static int open_read(int dfd, const char *run_dir, const char *name, struct wm_error **err)
{
	struct wm_error *e = NULL;
	int fd = wm_safe_open(dfd, run_dir, name, O_RDONLY, 0, &e);
	struct stat st;

	if (fd < 0) {
		bool missing = e->errnum == ENOENT;

		if (missing)
			wm_error_free(e);
		else
			wm_err_pass(err, e);
		return missing ? -2 : -1;
	}
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > WM_JOURNAL_FILE_MAX) {
		close(fd);
		return wm_error_set(err, EFBIG,
				    "journal `%s/%s` is %lld bytes, over the limit of %lu", run_dir,
				    name, (long long)st.st_size, WM_JOURNAL_FILE_MAX);
	}
	return fd;
}

static int replay_file(struct replay *r, int dfd, const char *run_dir, const char *name,
		       struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/%s", run_dir, name);
	wm_autoclose int fd = open_read(dfd, run_dir, name, err);
	struct wm_lines lr;
	const char *line;
	size_t len;
	bool complete;
	int got = 0;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	wm_lines_init(&lr, fd, path, WM_JOURNAL_LINE_MAX);
	while (!r->stopped && (got = wm_lines_next(&lr, &line, &len, &complete, err)) > 0) {
		if (!complete) {
			warn(r,
			     "journal `%s` line %llu: torn last record skipped (interrupted write)",
			     path, (unsigned long long)lr.lineno);
			break;
		}
		if (len)
			replay_line(r, path, (unsigned)lr.lineno, line, len);
	}
	wm_lines_release(&lr);
	return r->stopped ? 0 : (got < 0 ? -1 : 0);
}

/* Seq of the first record of a file, -1 when none is readable. */
static long long first_seq(int dfd, const char *run_dir, const char *name)
{
	struct wm_error *e = NULL;
	wm_autoclose int fd = open_read(dfd, run_dir, name, &e);
	struct wm_lines lr;
	const char *line;
	size_t len;
	bool complete;
	long long s = -1;

	wm_error_free(e);
	if (fd < 0)
		return -1;
	wm_lines_init(&lr, fd, name, WM_JOURNAL_LINE_MAX);
	if (wm_lines_next(&lr, &line, &len, &complete, NULL) > 0 && complete)
		s = record_seq(line, len);
	wm_lines_release(&lr);
	return s;
}

static int replay_all(const char *run_dir, struct replay *r, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	long long first;

	if (dfd < 0)
		return -1;
	first = first_seq(dfd, run_dir, WM_JOURNAL_FILE);
	/* The previous journal matters only when the checkpoint is older than
	 * the current journal's start (fallback to checkpoint .prev). */
	if ((first < 0 || (uint64_t)first > r->expected) &&
	    replay_file(r, dfd, run_dir, WM_JOURNAL_PREV, err) < 0)
		return -1;
	if (!r->stopped && replay_file(r, dfd, run_dir, WM_JOURNAL_FILE, err) < 0)
		return -1;
	return 0;
}

int wm_journal_replay(const char *run_dir, struct wm_run_state *rs, uint64_t after_seq,
		      uint64_t *last_seq, char ***warnings, size_t *n_warnings,
		      struct wm_error **err)
{
	struct replay r = { .rs = rs,
			    .after = after_seq,
			    .expected = after_seq + 1,
			    .warnings = warnings,
			    .n_warnings = n_warnings };

	if (replay_all(run_dir, &r, err) < 0)
		return -1;
	*last_seq = r.expected - 1;
	return 0;
}

int wm_journal_rebuild(const char *run_dir, struct wm_run_state *rs, uint64_t *last_seq,
		       char ***warnings, size_t *n_warnings, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	struct replay r = { .rs = rs,
			    .expected = 1,
			    .rebuild = true,
			    .warnings = warnings,
			    .n_warnings = n_warnings };
	long long first;

	if (dfd < 0)
		return -1;
	first = first_seq(dfd, run_dir, WM_JOURNAL_PREV);
	if (first < 0)
		first = first_seq(dfd, run_dir, WM_JOURNAL_FILE);
	if (first < 0)
		return wm_error_set(err, ENOENT, "no journal record to rebuild the run from");
	if (first != 1)
		return wm_error_set(err, EINVAL,
				    "the journals start at record %lld, not 1: earlier records "
				    "are gone, so the run cannot be rebuilt from them",
				    first);
	if (replay_all(run_dir, &r, err) < 0)
		return -1;
	if (r.expected == 1)
		return wm_error_set(err, EINVAL, "the first journal record is unusable");
	*last_seq = r.expected - 1;
	return 0;
}

json_t *wm_journal_parse_record(const char *line, size_t len)
{
	json_t *o;

	if (check_sum(line, len) <= 0)
		return NULL;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL); /* new ref, the caller's */
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

bool wm_journal_deleted(const struct wm_journal *j)
{
	struct stat st;

	return j && fstat(j->fd, &st) == 0 && st.st_nlink == 0;
}

void wm_journal_set_counts(struct wm_journal *j, const size_t *counts)
{
	j->counts = counts;
}
