/*
 * runview.c - a run's state, liveness and orphan status for the commands.
 */
#include "orchestrator/runview.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/slurmcli.h"
#include "state/audit.h"
#include "state/rundir.h"

int wm_runview_load(const char *state_dir, const char *id, struct wm_runview *v,
		    struct wm_error **err)
{
	struct wm_error *e = NULL;
	wm_autofree char *boot = NULL;
	int live;

	memset(v, 0, sizeof(*v));
	if (!wm_run_id_valid(id))
		return wm_error_setx(err, WM_EXIT_USAGE, "bad run id '%s'", id);
	v->id = wm_xstrdup(id);
	v->dir = wm_rundir_path(state_dir, id);
	if (wm_store_load(v->dir, &v->st, &e) < 0) {
		v->load_error = wm_error_text(e);
		wm_error_free(e);
		e = NULL;
	}
	live = wm_lock_is_live(v->dir, &e);
	wm_error_free(e);
	e = NULL;
	v->live = live > 0;
	wm_lock_read_holder(v->dir, &v->holder, NULL);
	boot = wm_boot_id(NULL);
	if (v->st.rs) {
		const char *rec = v->st.rs->orchestrator.boot_id;

		v->other_boot = rec && boot && strcmp(rec, boot) != 0;
		/* A live holder wrote its own identity into the lock file. */
		v->orphan = wm_run_is_orphan(v->st.rs->state == WM_RUN_RUNNING, v->live,
					     v->live ? v->holder.boot_id : rec, boot);
	}
	return 0;
}

/* Liveness and the orphan rule, from a recorded state and boot id. */
static void judge(struct wm_runview *v, bool running, const char *recorded_boot)
{
	wm_autofree char *boot = wm_boot_id(NULL);
	struct wm_error *e = NULL;
	int live = wm_lock_is_live(v->dir, &e);

	wm_error_free(e);
	v->live = live > 0;
	wm_lock_read_holder(v->dir, &v->holder, NULL);
	v->other_boot = recorded_boot && boot && strcmp(recorded_boot, boot) != 0;
	/* A live holder wrote its own identity into the lock file. */
	v->orphan = wm_run_is_orphan(running, v->live, v->live ? v->holder.boot_id : recorded_boot,
				     boot);
}

int wm_runview_load_brief(const char *state_dir, const char *id, struct wm_runview *v,
			  struct wm_error **err)
{
	struct wm_error *e = NULL;

	memset(v, 0, sizeof(*v));
	if (!wm_run_id_valid(id))
		return wm_error_setx(err, WM_EXIT_USAGE, "bad run id '%s'", id);
	v->id = wm_xstrdup(id);
	v->dir = wm_rundir_path(state_dir, id);
	if (wm_summary_read(v->dir, &v->sum, &e) < 0) {
		wm_error_free(e);
		wm_runview_release(v);
		return wm_runview_load(state_dir, id, v, err);
	}
	v->from_summary = true;
	judge(v, v->sum.state == WM_RUN_RUNNING, v->sum.orchestrator.boot_id);
	return 0;
}

const char *wm_runview_name(const struct wm_runview *v)
{
	if (v->from_summary)
		return v->sum.name;
	return v->st.rs ? v->st.rs->name : NULL;
}

long long wm_runview_started_ms(const struct wm_runview *v)
{
	if (v->from_summary)
		return v->sum.started_ms;
	return v->st.rs ? v->st.rs->started_ms : 0;
}

void wm_runview_release(struct wm_runview *v)
{
	wm_run_summary_release(&v->sum);
	free(v->id);
	free(v->dir);
	wm_state_loaded_release(&v->st);
	free(v->load_error);
	wm_holder_release(&v->holder);
	memset(v, 0, sizeof(*v));
}

const char *const *wm_runview_state_names(size_t *n)
{
	/* Every name wm_runview_state gives: the run states, then its own. */
	static const char *const names[] = { WM_RUN_STATUSES(WM_XLIST_NAME) "orphaned", "broken",
					     NULL };

	*n = WM_ARRAY_LEN(names) - 1;
	return names;
}

const char *wm_runview_state(const struct wm_runview *v)
{
	if (v->from_summary)
		return v->orphan ? "orphaned" : wm_run_status_name(v->sum.state);
	if (!v->st.rs)
		return "broken";
	if (v->orphan)
		return "orphaned";
	return wm_run_status_name(v->st.rs->state);
}

void wm_runview_counts(const struct wm_runview *v, size_t counts[WM_TASK_STATUS_COUNT],
		       size_t *total)
{
	memset(counts, 0, WM_TASK_STATUS_COUNT * sizeof(*counts));
	*total = 0;
	if (v->from_summary) {
		memcpy(counts, v->sum.counts, WM_TASK_STATUS_COUNT * sizeof(*counts));
		*total = v->sum.total;
	} else if (v->st.rs) {
		wm_run_state_count(v->st.rs, counts);
		*total = v->st.rs->n_tasks;
	}
}

void wm_runview_progress(const struct wm_runview *v, size_t *done, size_t *total)
{
	size_t c[WM_TASK_STATUS_COUNT];

	wm_runview_counts(v, c, total);
	*done = c[WM_TASK_SUCCEEDED] + c[WM_TASK_CACHED] + c[WM_TASK_FAILED] + c[WM_TASK_SKIPPED] +
		c[WM_TASK_CANCELLED];
}

long long wm_runview_time_ms(const struct wm_runview *v)
{
	long long started = wm_runview_started_ms(v);

	return started ? started : wm_run_id_time_ms(v->id);
}

long long wm_runview_ended_ms(const struct wm_runview *v)
{
	if (v->from_summary)
		return v->sum.ended_ms;
	return v->st.rs ? v->st.rs->ended_ms : 0;
}

long wm_runview_task_index(const struct wm_runview *v, const char *task, struct wm_error **err)
{
	const struct wm_run_state *rs = v->st.rs;
	long i = wm_run_state_index(rs, task);
	wm_autofree const char **ids = NULL;
	struct wm_buf all = WM_BUF_INIT;
	const char *hint;

	if (i >= 0)
		return i;
	ids = wm_xcalloc(rs->n_tasks + 1, sizeof(*ids));
	for (size_t k = 0; k < rs->n_tasks; k++) {
		ids[k] = rs->tasks[k].id;
		if (k < 10)
			wm_buf_addf(&all, "%s%s", k ? ", " : "", ids[k]);
	}
	hint = wm_suggest(task, ids, rs->n_tasks);
	if (hint)
		wm_error_setx(err, WM_EXIT_USAGE, "run %s has no task '%s' (did you mean '%s'?)",
			      v->id, task, hint);
	else
		wm_error_setx(err, WM_EXIT_USAGE, "run %s has no task '%s' (its tasks: %s%s)",
			      v->id, task, all.data, rs->n_tasks > 10 ? ", ..." : "");
	wm_buf_release(&all);
	return -1;
}

void wm_runview_print_warnings(const struct wm_runview *v)
{
	for (size_t i = 0; i < v->st.n_warnings; i++)
		fprintf(stderr, "wm: warning: run %s: %s\n", v->id, v->st.warnings[i]);
}

/* The run wrote a batch script (logs/<task>.<kind>.<n>.sbatch). */
static bool sent_to_cluster(const char *run_dir)
{
	wm_autofree char *logs = wm_xasprintf("%s/logs", run_dir);
	DIR *d = opendir(logs);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		found = len > 7 && strcmp(de->d_name + len - 7, ".sbatch") == 0;
	}
	if (d)
		closedir(d);
	return found;
}

long wm_runview_cluster_jobs(const struct wm_runview *v)
{
	struct wm_error *e = NULL;
	size_t live = 0;

	if (!v->dir || !sent_to_cluster(v->dir))
		return -1;
	if (wm_slurm_run_jobs(v->id, &live, &e) < 0) {
		wm_error_free(e);
		return -1;
	}
	return (long)live;
}

char *wm_runview_newest(const char *state_dir, bool full,
			bool (*want)(const struct wm_runview *v, const void *ctx), const void *ctx,
			struct wm_error **err)
{
	wm_autostrv char **ids = NULL;
	long long best_ms = -1;
	char *best = NULL;
	size_t n = 0;

	if (wm_rundir_list(state_dir, &ids, &n, err) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct wm_runview v;
		struct wm_error *e = NULL;
		int rc = full ? wm_runview_load(state_dir, ids[i], &v, &e)
			      : wm_runview_load_brief(state_dir, ids[i], &v, &e);

		if (rc < 0) { /* a run that cannot be read is no candidate */
			wm_error_free(e);
			continue;
		}
		if (want(&v, ctx) && wm_runview_started_ms(&v) > best_ms) {
			best_ms = wm_runview_started_ms(&v);
			free(best);
			best = wm_xstrdup(ids[i]);
		}
		wm_runview_release(&v);
	}
	return best;
}

static json_t *counts_json(const struct wm_runview *v)
{
	size_t c[WM_TASK_STATUS_COUNT], total;
	json_t *o = json_object();

	wm_runview_counts(v, c, &total);
	for (int s = 0; s < WM_TASK_STATUS_COUNT; s++) /* steals the integer */
		json_object_set_new(o, wm_task_status_name((enum wm_task_status)s),
				    json_integer((json_int_t)c[s]));
	return o;
}

json_t *wm_runview_list_json(const struct wm_runview *v)
{
	const char *name = wm_runview_name(v);
	long long started = wm_runview_started_ms(v), ended = wm_runview_ended_ms(v);
	wm_autofree char *end_text = ended ? wm_state_format_time(ended) : NULL;
	size_t done, total;
	json_t *o;

	wm_runview_progress(v, &done, &total);
	o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I}", "id", v->id, "state", wm_runview_state(v),
		      "orphaned", v->orphan, "live", v->live, "done", (json_int_t)done, "total",
		      (json_int_t)total);
	/* json_object_set_new steals the new values below. */
	json_object_set_new(o, "counts", counts_json(v));
	json_object_set_new(o, "workflow", name ? json_string(name) : json_null());
	if (started) {
		wm_autofree char *t = wm_state_format_time(started);

		json_object_set_new(o, "started", json_string(t));
	} else {
		json_object_set_new(o, "started", json_null());
	}
	json_object_set_new(o, "ended", ended ? json_string(end_text) : json_null());
	json_object_set_new(o, "duration_ms",
			    started && ended >= started ? json_integer(ended - started)
							: json_null());
	if (v->load_error)
		json_object_set_new(o, "error", json_string(v->load_error));
	if (v->orphan)
		json_object_set_new(o, "cluster_jobs", json_integer(wm_runview_cluster_jobs(v)));
	return o;
}

json_t *wm_runview_status_json(const struct wm_runview *v)
{
	json_t *j = wm_run_state_to_json(v->st.rs, v->st.journal_seq); /* new ref */

	json_object_set_new(j, "orphaned", json_boolean(v->orphan)); /* steals */
	json_object_set_new(j, "live", json_boolean(v->live));
	if (v->orphan)
		json_object_set_new(j, "cluster_jobs", json_integer(wm_runview_cluster_jobs(v)));
	return j;
}

int wm_runview_verify_audit(const struct wm_runview *v, const char *state_dir,
			    struct wm_audit_result *res, struct wm_error **err)
{
	struct wm_audit_key *key = wm_audit_key_open(state_dir, 0, err);
	wm_autofree char *path = wm_rundir_file(v->dir, WM_RUN_AUDIT);
	int rc;

	if (!key)
		return -1;
	rc = wm_audit_verify(path, wm_audit_key_bytes(key), v->st.rs ? v->st.rs->audit.seq : 0,
			     v->st.rs ? v->st.rs->audit.mac : NULL, res, err);
	wm_audit_key_free(key);
	return rc;
}
