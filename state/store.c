/*
 * store.c - last good state on load; journal + periodic checkpoints on write.
 */
#include "state/store.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "common/buf.h"
#include "state/audit.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct wm_store {
	size_t counts[WM_TASK_STATUS_COUNT]; /* tasks by their last recorded state */
	unsigned char *recorded;	     /* per task: its last recorded state */
	int dfd;			     /* the run directory, held for the run's life */
	char *run_dir;
	struct wm_run_state *rs; /* borrowed */
	struct wm_journal *journal;
	unsigned every_events, every_ms;
	unsigned since_checkpoint;
	long long last_checkpoint_ms;
};

void wm_state_loaded_release(struct wm_state_loaded *l)
{
	if (!l)
		return;
	wm_run_state_free(l->rs);
	wm_strv_free(l->warnings);
	memset(l, 0, sizeof(*l));
}

static void add_warning(struct wm_state_loaded *out, char *msg)
{
	wm_strv_push_owned(&out->warnings, &out->n_warnings, msg);
}

/* Both checkpoints gone: the journals may still hold every record from the
 * first on. A checkpoint that exists but is corrupt (or a FIFO, or over
 * its limit) is an error instead: something is wrong with the run
 * directory, and a half-known state must not quietly replace it. */
static int rebuild(const char *run_dir, struct wm_state_loaded *out, struct wm_error *e1,
		   struct wm_error *e2, struct wm_error **err)
{
	const char *slash = strrchr(run_dir, '/');
	struct wm_error *e = NULL;
	bool none = e1->errnum == ENOENT && e2->errnum == ENOENT;

	if (!none) {
		wm_error_set(err, 0, "no usable checkpoint: %s; previous: %s", e1->msg, e2->msg);
		return -1;
	}
	out->rs = wm_run_state_new(slash ? slash + 1 : run_dir);
	out->rs->state = WM_RUN_RUNNING;
	if (wm_journal_rebuild(run_dir, out->rs, &out->journal_seq, &out->warnings,
			       &out->n_warnings, &e) == 0) {
		add_warning(out, wm_xasprintf("both checkpoints are missing: the run's state was "
					      "rebuilt from its journals (records 1..%llu); what "
					      "they do not name is unknown",
					      (unsigned long long)out->journal_seq));
		out->rebuilt = true;
		return 0;
	}
	wm_state_loaded_release(out);
	if (e->errnum == ENOENT)
		wm_error_set(err, ENOENT, "run has no checkpoint `%s/" WM_CHECKPOINT_FILE "`",
			     run_dir);
	else
		wm_error_set(err, 0, "run has no checkpoint, and %s", e->msg);
	wm_error_free(e);
	return -1;
}

/* journal.jsonl is there after every checkpoint: without it the records
 * since the last one are gone, and the audit log may say which tasks
 * ended meanwhile. Loudly, since those tasks will run again. */
static void check_journal(const char *run_dir, struct wm_state_loaded *out, uint64_t seq)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, NULL);
	wm_autofree char *audit = NULL;
	struct wm_buf tasks = WM_BUF_INIT;
	size_t n = 0;

	if (dfd < 0 || faccessat(dfd, WM_JOURNAL_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT)
		return;
	audit = wm_rundir_file(run_dir, WM_RUN_AUDIT);
	wm_audit_task_ends_after(audit, out->rs->audit.seq, &tasks, &n, NULL);
	/* A store always leaves journal.jsonl.prev beside it; a checkpoint
	 * written alone (tools, tests) has neither, and nothing to lose. */
	if (!n && seq == 0 && faccessat(dfd, WM_JOURNAL_PREV, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		;
	else if (n)
		add_warning(out,
			    wm_xasprintf("journal `%s/" WM_JOURNAL_FILE "` is missing: records "
					 "after seq %llu are lost; the audit log shows %zu task "
					 "end%s since (%s), whose results are lost and will run "
					 "again",
					 run_dir, (unsigned long long)seq, n, n == 1 ? "" : "s",
					 tasks.data));
	else
		add_warning(out, wm_xasprintf("journal `%s/" WM_JOURNAL_FILE "` is missing: any "
					      "record after seq %llu is lost",
					      run_dir, (unsigned long long)seq));
	wm_buf_release(&tasks);
}

int wm_store_load(const char *run_dir, struct wm_state_loaded *out, struct wm_error **err)
{
	wm_autofree char *cur = wm_rundir_file(run_dir, WM_CHECKPOINT_FILE);
	wm_autofree char *prev = wm_rundir_file(run_dir, WM_CHECKPOINT_PREV);
	struct wm_error *e1 = NULL, *e2 = NULL;
	uint64_t seq = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->rs = wm_checkpoint_read(cur, &seq, &e1);
	if (!out->rs) {
		out->rs = wm_checkpoint_read(prev, &seq, &e2);
		if (!out->rs) {
			rc = rebuild(run_dir, out, e1, e2, err);
			goto out;
		}
		out->used_prev = true;
		add_warning(out, wm_xasprintf("%s; using the previous checkpoint", e1->msg));
	}
	check_journal(run_dir, out, seq);
	if (wm_journal_replay(run_dir, out->rs, seq, &out->journal_seq, &out->warnings,
			      &out->n_warnings, err) < 0) {
		wm_state_loaded_release(out);
		rc = -1;
	}
out:
	wm_error_free(e1);
	wm_error_free(e2);
	return rc;
}

struct wm_store *wm_store_open(const char *run_dir, struct wm_run_state *rs, uint64_t last_seq,
			       const struct wm_store_options *opts, struct wm_error **err)
{
	struct wm_store *s = wm_xcalloc(1, sizeof(*s));

	s->dfd = -1;

	s->run_dir = wm_xstrdup(run_dir);
	s->rs = rs;
	/* A snapshot costs O(tasks); taking one every max(256, tasks) records
	 * keeps its cost per recorded event constant too. */
	s->every_events = opts && opts->every_events
				  ? opts->every_events
				  : (unsigned)(rs->n_tasks > 256 ? rs->n_tasks : 256);
	s->every_ms = opts && opts->every_ms ? opts->every_ms : 5000;
	s->recorded = wm_xcalloc(rs->n_tasks + 1, 1);
	s->dfd = wm_rundir_open_fd(run_dir, err);
	if (s->dfd < 0) {
		wm_store_close(s);
		return NULL;
	}
	s->journal = wm_journal_open(run_dir, last_seq, err);
	if (s->journal)
		wm_journal_set_counts(s->journal, s->counts);
	if (!s->journal || wm_store_checkpoint(s, err) < 0) {
		wm_store_close(s);
		return NULL;
	}
	return s;
}

/* The run directory we hold must still be the one at its path, and the
 * journal still linked: an `rm -rf` of the state directory (or a lazy
 * unmount) mid-run would otherwise send every record into deleted files,
 * and a later write by path could recreate a partial run directory. */
static int still_in_place(const struct wm_store *s, struct wm_error **err)
{
	struct stat held, now;

	if (fstat(s->dfd, &held) < 0 || held.st_nlink == 0 || stat(s->run_dir, &now) < 0 ||
	    held.st_dev != now.st_dev || held.st_ino != now.st_ino)
		return wm_error_set(err, ENOENT,
				    "run directory `%s` was removed or replaced while the run was "
				    "going on: stopping, since nothing more could be recorded",
				    s->run_dir);
	if (wm_journal_deleted(s->journal))
		return wm_error_set(err, ENOENT,
				    "journal `%s/" WM_JOURNAL_FILE
				    "` was deleted while the run was "
				    "going on: stopping, since nothing more could be recorded",
				    s->run_dir);
	return 0;
}

/* Counts from scratch: O(tasks), done with each O(tasks) checkpoint. */
static void recount(struct wm_store *s)
{
	memset(s->counts, 0, sizeof(s->counts));
	for (size_t i = 0; i < s->rs->n_tasks; i++) {
		s->recorded[i] = (unsigned char)s->rs->tasks[i].state;
		s->counts[s->recorded[i] % WM_TASK_STATUS_COUNT]++;
	}
}

int wm_store_checkpoint(struct wm_store *s, struct wm_error **err)
{
	if (still_in_place(s, err) < 0)
		return -1;
	recount(s);
	if (wm_checkpoint_write(s->run_dir, s->rs, wm_journal_seq(s->journal), err) < 0)
		return -1;
	s->since_checkpoint = 0;
	s->last_checkpoint_ms = wm_wall_ms();
	return wm_journal_rotate(s->journal, err);
}

int wm_store_record(struct wm_store *s, long task_index, const char *event, struct wm_error **err)
{
	if (still_in_place(s, err) < 0)
		return -1;
	/* One task changed: its count moves, O(1) whatever the run's size. */
	if (task_index >= 0 && (size_t)task_index < s->rs->n_tasks) {
		unsigned char now =
			(unsigned char)(s->rs->tasks[task_index].state % WM_TASK_STATUS_COUNT);

		s->counts[s->recorded[task_index]]--;
		s->counts[now]++;
		s->recorded[task_index] = now;
	}
	if (wm_journal_append(s->journal, s->rs, task_index, event, err) < 0)
		return -1;
	if (++s->since_checkpoint >= s->every_events ||
	    wm_wall_ms() - s->last_checkpoint_ms >= (long long)s->every_ms)
		return wm_store_checkpoint(s, err);
	return 0;
}

int wm_store_sync(struct wm_store *s, struct wm_error **err)
{
	return wm_journal_sync(s->journal, err);
}

void wm_store_close(struct wm_store *s)
{
	if (!s)
		return;
	wm_journal_close(s->journal);
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->recorded);
	free(s->run_dir);
	free(s);
}
