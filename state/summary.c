/*
 * summary.c - summary.json, written with each checkpoint, read by
 * `wm list` instead of the checkpoint (summary.h).
 */
#include "state/summary.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define FORMAT "wm-summary"
#define VERSION 1
/* The journal's last record is read from the file's end, up to this. */
#define TAIL_LINE_MAX (256UL << 10)

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static json_t *counts_json(const size_t counts[WM_TASK_STATUS_COUNT])
{
	json_t *c = json_object(); /* new ref */

	for (int i = 0; i < WM_TASK_STATUS_COUNT; i++)
		json_object_set_new(c, wm_task_status_name((enum wm_task_status)i),
				    json_integer((json_int_t)counts[i])); /* steals */
	return c;
}

int wm_summary_write(int dfd, const char *run_dir, const struct wm_run_state *rs,
		     uint64_t journal_seq, const struct stat *cp, struct wm_error **err)
{
	size_t counts[WM_TASK_STATUS_COUNT];
	const struct wm_holder *h = &rs->orchestrator;
	json_t *o;
	char *text;
	int rc;

	wm_run_state_count(rs, counts);
	/* json_pack's "o" steals the values it is given. */
	o = json_pack("{s:s, s:i, s:s, s:o, s:s, s:I, s:o, s:I, s:I, s:I, s:I}", "format", FORMAT,
		      "version", VERSION, "run_id", rs->run_id, "name",
		      rs->name ? json_string(rs->name) : json_null(), "state",
		      wm_run_status_name(rs->state), "total", (json_int_t)rs->n_tasks, "counts",
		      counts_json(counts), "created_ms", (json_int_t)rs->created_ms, "started_ms",
		      (json_int_t)rs->started_ms, "ended_ms", (json_int_t)rs->ended_ms,
		      "journal_seq", (json_int_t)journal_seq);
	if (!o)
		return wm_error_set(err, ENOMEM, "build summary of `%s`", run_dir);
	json_object_set_new(o, "orchestrator",
			    json_pack("{s:I, s:s?, s:s?, s:I}", "pid", (json_int_t)h->pid, "host",
				      h->host, "boot_id", h->boot_id, "start_time",
				      (json_int_t)h->start_time));
	json_object_set_new(o, "checkpoint",
			    json_pack("{s:I, s:I, s:I}", "size", (json_int_t)cp->st_size, "ino",
				      (json_int_t)cp->st_ino, "mtime_ns",
				      (json_int_t)mtime_ns(cp)));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return wm_error_set(err, ENOMEM, "build summary of `%s`", run_dir);
	rc = wm_safe_write_atomic(dfd, run_dir, WM_SUMMARY_FILE, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

static int get_counts(json_t *c, size_t counts[WM_TASK_STATUS_COUNT], size_t *sum)
{
	*sum = 0;
	if (!json_is_object(c))
		return -1;
	for (int i = 0; i < WM_TASK_STATUS_COUNT; i++) {
		json_t *v = json_object_get(c, wm_task_status_name((enum wm_task_status)i));

		/* Summaries written before "waiting" existed lack it. */
		if (!v && i == WM_TASK_WAITING) {
			counts[i] = 0;
			continue;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return -1;
		counts[i] = (size_t)json_integer_value(v);
		*sum += counts[i];
	}
	return 0;
}

static int parse(json_t *o, struct wm_run_summary *s)
{
	json_t *orch = json_object_get(o, "orchestrator");
	const char *name = json_string_value(json_object_get(o, "name"));
	size_t sum = 0;
	int st = wm_run_status_parse(json_string_value(json_object_get(o, "state")));
	json_int_t total = 0, seq = 0, pid = 0, start = 0;
	const char *host = NULL, *boot = NULL;

	if (st < 0 ||
	    json_unpack(o, "{s:I, s:I, s:I, s:I, s:I}", "total", &total, "journal_seq", &seq,
			"created_ms", &s->created_ms, "started_ms", &s->started_ms, "ended_ms",
			&s->ended_ms) < 0 ||
	    json_unpack(orch, "{s:I, s?s, s?s, s:I}", "pid", &pid, "host", &host, "boot_id", &boot,
			"start_time", &start) < 0 ||
	    get_counts(json_object_get(o, "counts"), s->counts, &sum) < 0 || total < 0 || seq < 0 ||
	    sum != (size_t)total)
		return -1;
	s->state = (enum wm_run_status)st;
	s->total = (size_t)total;
	s->journal_seq = (uint64_t)seq;
	s->name = name ? wm_xstrdup(name) : NULL;
	s->orchestrator.pid = (pid_t)pid;
	s->orchestrator.start_time = (uint64_t)start;
	s->orchestrator.host = host ? wm_xstrdup(host) : NULL;
	s->orchestrator.boot_id = boot ? wm_xstrdup(boot) : NULL;
	return 0;
}

/* The checkpoint must be the very file the summary was written with. */
static int same_checkpoint(int dfd, json_t *cp)
{
	json_int_t size = -1, ino = -1, mt = -1;
	struct stat st;

	if (json_unpack(cp, "{s:I, s:I, s:I}", "size", &size, "ino", &ino, "mtime_ns", &mt) < 0 ||
	    fstatat(dfd, WM_CHECKPOINT_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size == size && (json_int_t)st.st_ino == ino && mtime_ns(&st) == mt ? 0 : -1;
}

/* Applies the journal's last record when it is newer than the summary. */
static int newer_record(int dfd, const char *run_dir, struct wm_run_summary *s)
{
	struct wm_error *e = NULL;
	wm_autoclose int fd = wm_safe_open(dfd, run_dir, WM_JOURNAL_FILE, O_RDONLY, 0, &e);
	struct wm_buf last = WM_BUF_INIT;
	off_t start, tail;
	json_t *o = NULL, *run;
	json_int_t seq = 0;
	size_t sum = 0;
	int rc = -1, got;

	if (fd < 0) {
		rc = e->errnum == ENOENT ? 0 : -1;
		wm_error_free(e);
		return rc;
	}
	got = wm_safe_last_line(fd, run_dir, TAIL_LINE_MAX, &last, &start, &tail, NULL);
	if (got == 0)
		rc = 0;
	if (got <= 0 || !(o = wm_journal_parse_record(last.data, last.len)))
		goto out;
	run = json_object_get(o, "run");
	seq = json_integer_value(json_object_get(o, "seq"));
	if (seq > 0 && (uint64_t)seq <= s->journal_seq) {
		rc = 0;
		goto out;
	}
	if (get_counts(json_object_get(run, "counts"), s->counts, &sum) < 0 || sum != s->total ||
	    wm_run_status_parse(json_string_value(json_object_get(run, "state"))) < 0)
		goto out;
	s->state = (enum wm_run_status)wm_run_status_parse(
		json_string_value(json_object_get(run, "state")));
	s->started_ms = json_integer_value(json_object_get(run, "started_ms"));
	s->ended_ms = json_integer_value(json_object_get(run, "ended_ms"));
	s->journal_seq = (uint64_t)seq;
	rc = 0;
out:
	json_decref(o);
	wm_buf_release(&last);
	return rc;
}

int wm_summary_read(const char *run_dir, struct wm_run_summary *s, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	struct wm_buf b = WM_BUF_INIT;
	json_t *o = NULL;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (dfd < 0 ||
	    wm_safe_read(dfd, run_dir, WM_SUMMARY_FILE, WM_SUMMARY_MAX, "summary", &b, err) < 0)
		goto out;
	o = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL); /* new ref, ours */
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "format")) ||
	    strcmp(json_string_value(json_object_get(o, "format")), FORMAT) != 0 ||
	    json_integer_value(json_object_get(o, "version")) != VERSION || parse(o, s) < 0) {
		wm_error_set(err, EINVAL, "summary of `%s` is not a wm summary", run_dir);
		goto out;
	}
	if (same_checkpoint(dfd, json_object_get(o, "checkpoint")) < 0) {
		wm_error_set(err, ESTALE, "summary of `%s` is older than its checkpoint", run_dir);
		goto out;
	}
	if (newer_record(dfd, run_dir, s) < 0) {
		wm_error_set(err, EINVAL, "the journal of `%s` does not end in a usable record",
			     run_dir);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		wm_run_summary_release(s);
	json_decref(o);
	wm_buf_release(&b);
	return rc;
}

void wm_run_summary_release(struct wm_run_summary *s)
{
	if (!s)
		return;
	free(s->name);
	wm_holder_release(&s->orchestrator);
	memset(s, 0, sizeof(*s));
}
