/*
 * runstats.c - one run's numbers, as `wm stats RUN --json` prints them and
 * the run document (rundoc.h) carries them: per task attempts, duration,
 * peak memory and time waiting in the ready queue (from the run's
 * checkpoint and audit log), the critical path through the workflow's DAG
 * weighted by those durations, and the parallelism achieved against -j.
 * Library code: the commands print it, `wm serve` and `wm report` embed it.
 */
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "orchestrator/runner.h"
#include "orchestrator/runview.h"
#include "orchestrator/stats.h"
#include "state/audit.h"
#include "state/rundir.h"
#include "state/safeio.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

struct task_numbers {
	uint64_t duration_ms;
	uint64_t busy_ms; /* sum of attempt durations */
	uint64_t peak_memory;
	uint64_t wait_ms;
	unsigned sla; /* bit per enum wm_sla_level breached */
};

/* An sla.breach line's level as a bit (no level: a run before levels
 * existed, whose breaches were warnings). */
static unsigned sla_bit(const char *level)
{
	for (int l = 0; level && l < WM_SLA_LEVEL_COUNT; l++)
		if (strcmp(level, wm_sla_level_name((enum wm_sla_level)l)) == 0)
			return 1u << l;
	return 1u << WM_SLA_WARN;
}

/* "warn,cancel": the levels a task breached; caller frees. */
static char *sla_levels(unsigned bits)
{
	struct wm_buf b = WM_BUF_INIT;

	for (int l = 0; l < WM_SLA_LEVEL_COUNT; l++)
		if (bits & (1u << l))
			wm_buf_addf(&b, "%s%s", b.len ? "," : "",
				    wm_sla_level_name((enum wm_sla_level)l));
	return wm_buf_detach(&b, NULL);
}

/* Reads what only the audit log knows: per task waits, memory, busy time,
 * sla breaches. */
static void read_audit(const char *run_dir, const struct wm_run_state *rs, struct task_numbers *num,
		       json_int_t *jobs)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_AUDIT);
	wm_autoclose int fd = wm_audit_open_read(path, NULL);
	struct wm_lines lr;
	const char *line;
	size_t len;
	bool complete;

	if (fd < 0)
		return;
	wm_lines_init(&lr, fd, path, WM_AUDIT_LINE_MAX);
	while (wm_lines_next(&lr, &line, &len, &complete, NULL) > 0) {
		json_t *o = json_loadb(line, len, 0, NULL); /* new ref */
		const char *ev = json_string_value(json_object_get(o, "event"));
		const char *task = json_string_value(json_object_get(o, "task"));
		long i = task ? wm_run_state_index(rs, task) : -1;

		if (ev && strcmp(ev, "run.start") == 0)
			*jobs = json_integer_value(json_object_get(o, "max_parallel"));
		if (ev && i >= 0 && strcmp(ev, "sla.breach") == 0)
			num[i].sla |= sla_bit(json_string_value(json_object_get(o, "level")));
		if (ev && i >= 0 && strcmp(ev, "task.start") == 0)
			num[i].wait_ms +=
				(uint64_t)json_integer_value(json_object_get(o, "wait_ms"));
		if (ev && i >= 0 && strcmp(ev, "task.end") == 0) {
			uint64_t mem =
				(uint64_t)json_integer_value(json_object_get(o, "peak_memory"));
			num[i].busy_ms +=
				(uint64_t)json_integer_value(json_object_get(o, "duration_ms"));
			if (mem > num[i].peak_memory)
				num[i].peak_memory = mem;
		}
		json_decref(o);
	}
	wm_lines_release(&lr);
}

/* The run's copy of its workflow, read as the run read it: under its
 * original name and in its dialect (options.json), so that a maskfile.md
 * or a file run with --dialect gives the same tasks. */
int wm_stats_load_workflow(const char *run_dir, struct wm_workflow **wf, struct wm_diags *d,
			   struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_WORKFLOW);
	struct wm_run_options o;
	struct wm_error *e = NULL;
	int dialect, rc;

	if (wm_run_options_load(run_dir, &o, &e) < 0) { /* an older run: as it is */
		wm_error_free(e);
		return wm_workflow_load(path, wf, d, err);
	}
	dialect = o.dialect ? wm_dialect_find(o.dialect) : -1;
	rc = wm_workflow_load_in(path, o.workflow ? o.workflow : path,
				 dialect < 0 ? WM_DIALECT_AUTO : (enum wm_dialect)dialect, wf, d,
				 err);
	wm_run_options_release(&o);
	return rc;
}

/* The critical path as task ids, from the workflow copy in the run dir. */
static json_t *critical_path(const char *run_dir, const struct wm_run_state *rs,
			     const struct task_numbers *num, uint64_t *total)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;
	json_t *ids = json_array(); /* new ref */
	uint64_t *dur;
	size_t *p = NULL, n = 0;

	*total = 0;
	if (wm_stats_load_workflow(run_dir, &wf, &d, &err) < 0)
		goto out;
	dur = wm_xcalloc(wf->n_tasks + 1, sizeof(*dur));
	for (size_t i = 0; i < wf->n_tasks; i++) {
		long k = wm_run_state_index(rs, wf->tasks[i].id);
		dur[i] = k >= 0 ? num[k].duration_ms : 0;
	}
	*total = wm_critical_path(wf->dag, dur, &p, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_string(wf->tasks[p[i]].id));
	free(p);
	free(dur);
out:
	wm_error_free(err);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	return ids;
}

json_t *wm_stats_run_json(const struct wm_runview *v)
{
	const struct wm_run_state *rs = v->st.rs;
	struct task_numbers *num = wm_xcalloc(rs->n_tasks + 1, sizeof(*num));
	json_t *out = json_object(), *tasks = json_array(), *cp;
	long long end = rs->ended_ms ? rs->ended_ms : wm_wall_ms();
	uint64_t wall = end > rs->started_ms ? (uint64_t)(end - rs->started_ms) : 0, busy = 0;
	uint64_t cp_ms;
	json_int_t jobs = 0, cached = 0;
	char *levels;
	json_t *row;

	read_audit(v->dir, rs, num, &jobs);
	for (size_t i = 0; i < rs->n_tasks; i++) {
		const struct wm_task_state *t = &rs->tasks[i];

		if (t->started_ms && t->ended_ms >= t->started_ms)
			num[i].duration_ms = (uint64_t)(t->ended_ms - t->started_ms);
		busy += num[i].busy_ms;
		cached += t->state == WM_TASK_CACHED;
		row = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "task", t->id, "state",
				wm_task_status_name(t->state), "attempts", (int)t->attempts,
				"duration_ms", (json_int_t)num[i].duration_ms, "peak_memory",
				(json_int_t)num[i].peak_memory, "wait_ms",
				(json_int_t)num[i].wait_ms);
		levels = sla_levels(num[i].sla);
		json_object_set_new(row, "sla_breaches", json_string(levels)); /* "": none */
		free(levels);
		json_array_append_new(tasks, row);
	}
	cp = critical_path(v->dir, rs, num, &cp_ms);
	json_object_set_new(out, "run_id", json_string(rs->run_id));
	json_object_set_new(out, "workflow", json_string(rs->name ? rs->name : ""));
	json_object_set_new(out, "state", json_string(wm_runview_state(v)));
	json_object_set_new(out, "wall_ms", json_integer((json_int_t)wall));
	json_object_set_new(out, "busy_ms", json_integer((json_int_t)busy));
	json_object_set_new(out, "parallelism", json_real(wall ? (double)busy / (double)wall : 0));
	json_object_set_new(out, "max_parallel", json_integer(jobs));
	json_object_set_new(out, "cached", json_integer(cached));
	json_object_set_new(out, "critical_path", cp);
	json_object_set_new(out, "critical_path_ms", json_integer((json_int_t)cp_ms));
	json_object_set_new(out, "tasks", tasks);
	free(num);
	return out;
}

void wm_stats_sla(const char *run_dir, const struct wm_run_state *rs, unsigned *levels)
{
	struct task_numbers *num = wm_xcalloc(rs->n_tasks + 1, sizeof(*num));
	json_int_t jobs = 0;

	read_audit(run_dir, rs, num, &jobs);
	for (size_t i = 0; i < rs->n_tasks; i++)
		levels[i] = num[i].sla;
	free(num);
}
