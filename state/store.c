/*
 * store.c - last good state on load; journal + periodic checkpoints on write.
 */
#include "state/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/rundir.h"

struct wm_store {
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

int wm_store_load(const char *run_dir, struct wm_state_loaded *out, struct wm_error **err)
{
	wm_autofree char *cur = wm_rundir_file(run_dir, WM_CHECKPOINT_FILE);
	wm_autofree char *prev = wm_rundir_file(run_dir, WM_CHECKPOINT_PREV);
	struct wm_error *e1 = NULL, *e2 = NULL;
	uint64_t seq = 0;

	memset(out, 0, sizeof(*out));
	out->rs = wm_checkpoint_read(cur, &seq, &e1);
	if (!out->rs) {
		struct stat st;

		out->rs = wm_checkpoint_read(prev, &seq, &e2);
		if (!out->rs) {
			if (e1->errnum == ENOENT && stat(prev, &st) < 0)
				wm_error_set(err, ENOENT, "run has no checkpoint `%s`", cur);
			else
				wm_error_set(err, 0, "no usable checkpoint: %s; previous: %s",
					     e1->msg, e2->msg);
			wm_error_free(e1);
			wm_error_free(e2);
			return -1;
		}
		out->used_prev = true;
		add_warning(out, wm_xasprintf("%s; using the previous checkpoint", e1->msg));
		wm_error_free(e1);
	}
	if (wm_journal_replay(run_dir, out->rs, seq, &out->journal_seq, &out->warnings,
			      &out->n_warnings, err) < 0) {
		wm_state_loaded_release(out);
		return -1;
	}
	return 0;
}

struct wm_store *wm_store_open(const char *run_dir, struct wm_run_state *rs, uint64_t last_seq,
			       const struct wm_store_options *opts, struct wm_error **err)
{
	struct wm_store *s = wm_xcalloc(1, sizeof(*s));

	s->run_dir = wm_xstrdup(run_dir);
	s->rs = rs;
	/* A snapshot costs O(tasks); taking one every max(256, tasks) records
	 * keeps its cost per recorded event constant too. */
	s->every_events = opts && opts->every_events
				  ? opts->every_events
				  : (unsigned)(rs->n_tasks > 256 ? rs->n_tasks : 256);
	s->every_ms = opts && opts->every_ms ? opts->every_ms : 5000;
	s->journal = wm_journal_open(run_dir, last_seq, err);
	if (!s->journal || wm_store_checkpoint(s, err) < 0) {
		wm_store_close(s);
		return NULL;
	}
	return s;
}

int wm_store_checkpoint(struct wm_store *s, struct wm_error **err)
{
	if (wm_checkpoint_write(s->run_dir, s->rs, wm_journal_seq(s->journal), err) < 0)
		return -1;
	s->since_checkpoint = 0;
	s->last_checkpoint_ms = wm_state_now_ms();
	return wm_journal_rotate(s->journal, err);
}

int wm_store_record(struct wm_store *s, long task_index, const char *event, struct wm_error **err)
{
	if (wm_journal_append(s->journal, s->rs, task_index, event, err) < 0)
		return -1;
	if (++s->since_checkpoint >= s->every_events ||
	    wm_state_now_ms() - s->last_checkpoint_ms >= (long long)s->every_ms)
		return wm_store_checkpoint(s, err);
	return 0;
}

void wm_store_close(struct wm_store *s)
{
	if (!s)
		return;
	wm_journal_close(s->journal);
	free(s->run_dir);
	free(s);
}
