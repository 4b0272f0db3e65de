/*
 * cmd_resume.c - `wm resume RUN_ID`: finish a run whose orchestrator died
 * (or that failed or was interrupted), keeping what already succeeded.
 *
 * A task is kept when it succeeded before, its definition hash (body,
 * attributes, resolved policy) is unchanged, and every task it depends on is
 * kept too; everything else runs again, in the same run directory, under the
 * same id. With --force nothing is kept.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/leftovers.h"
#include "orchestrator/runner.h"
#include "orchestrator/runview.h"
#include "state/checkpoint.h"
#include "state/lock.h"
#include "state/rundir.h"
#include "state/store.h"

struct resume_args {
	const char *run;
	unsigned jobs;
	bool force;
	bool json;
	bool reload; /* re-read the workflow from where the run started */
	bool accept_audit_gap;
	struct wm_display display;
	char **params; /* -p NAME=VALUE: in place of the run's value of NAME */
};

static int parse_args(int argc, char **argv, struct resume_args *a)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "reload", no_argument, NULL, 'r' },
		{ "accept-audit-gap", no_argument, NULL, 'G' },
		{ "param", required_argument, NULL, 'p' },
		WM_DISPLAY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;
	size_t n_params = 0;

	while ((opt = getopt_long(argc, argv, ":j:p:fv", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (wm_param_arg_ok("resume", optarg) != 0)
				return WM_EXIT_USAGE;
			wm_strv_push(&a->params, &n_params, optarg);
			break;
		case 'j':
			if (wm_parse_jobs("resume", optarg, &a->jobs) != 0)
				return WM_EXIT_USAGE;
			break;
		case 'f':
			a->force = true;
			break;
		case 'J':
			a->json = true;
			break;
		case 'r':
			a->reload = true;
			break;
		case 'G':
			a->accept_audit_gap = true;
			break;
		default:
			rc = wm_display_option("resume", opt, optarg, &a->display);
			if (rc == 0)
				return wm_bad_option("resume", argv, opt, opts);
			if (rc != 1)
				return rc;
		}
	}
	if (argc - optind > 1)
		return wm_usage_error("resume", "wants at most one RUN_ID");
	a->run = optind < argc ? argv[optind] : NULL; /* NULL: the newest resumable */
	return 0;
}

/* The workflow to resume: the copy kept in the run directory, as it was
 * when the run started (a task may have rewritten the original since); with
 * --reload, the file the run was started from. */
static char *workflow_to_use(const struct wm_run_state *old, const char *run_dir, bool reload,
			     struct wm_error **err)
{
	if (!reload)
		return wm_rundir_file(run_dir, WM_RUN_WORKFLOW);
	if (old->workflow_path && access(old->workflow_path, R_OK) == 0)
		return wm_xstrdup(old->workflow_path);
	wm_error_setx(err, WM_EXIT_USAGE, "cannot --reload: `%s` is gone",
		      old->workflow_path ? old->workflow_path : "the workflow");
	return NULL;
}

/* --reload: the tasks added, removed and changed since the run started. */
static void print_changes(const struct wm_prepared *p, const struct wm_run_state *old,
			  const char *run_dir, const char *file)
{
	size_t n = 0;

	printf("--- %s/%s (as the run started)\n+++ %s\n", run_dir, WM_RUN_WORKFLOW, file);
	for (size_t i = 0; i < old->n_tasks; i++) {
		if (wm_workflow_find(p->wf, old->tasks[i].id) < 0) {
			printf("- task %s\n", old->tasks[i].id);
			n++;
		}
	}
	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		const struct wm_task_state *ot = wm_run_state_find(old, p->wf->tasks[i].id);

		if (!ot) {
			printf("+ task %s\n", p->wf->tasks[i].id);
			n++;
		} else if (!ot->definition_hash ||
			   strcmp(ot->definition_hash, p->def_hash[i]) != 0) {
			printf("! task %s (definition or policy changed)\n", p->wf->tasks[i].id);
			n++;
		}
	}
	if (!n)
		printf("  no task changed\n");
	fflush(stdout);
}

/* Carries an old task's record into the new run state. A kept task takes the
 * old record whole (moved, not copied: the old state is discarded after);
 * a task that runs again keeps only the history of what was decided. */
/* A kept task's whole record; of one that runs again, its history: its
 * decisions, and its attempts (numbering goes on). A task whose attempt
 * was running under an unchanged definition stays `running`: the
 * scheduler takes its job back where the executor can. */
static void carry_task(struct wm_task_state *dst, struct wm_task_state *src, bool whole)
{
	if (whole) {
		struct wm_task_state tmp = *dst;

		*dst = *src;
		*src = tmp;
		return;
	}
	dst->attempts = src->attempts;
	dst->lost = src->lost;
	if (src->state == WM_TASK_RUNNING && src->definition_hash && dst->definition_hash &&
	    strcmp(src->definition_hash, dst->definition_hash) == 0) {
		dst->state = WM_TASK_RUNNING;
		dst->started_ms = src->started_ms;
	}
	for (size_t i = 0; i < src->n_decisions; i++)
		wm_task_add_decision(dst, src->decisions[i].at_ms, src->decisions[i].attempt,
				     src->decisions[i].what, src->decisions[i].why);
}

/* keep[i]: succeeded before, same definition, and every dependency kept. */
static bool *decide_keep(const struct wm_prepared *p, const struct wm_run_state *old, bool force)
{
	bool *keep = wm_xcalloc(p->wf->n_tasks + 1, sizeof(*keep));
	const struct wm_dag *g = p->wf->dag;

	for (size_t k = 0; k < g->n && !force; k++) {
		size_t i = g->order[k];
		const struct wm_task_state *ot = wm_run_state_find(old, p->wf->tasks[i].id);

		keep[i] = ot && wm_task_status_ok(ot->state) && ot->definition_hash &&
			  strcmp(ot->definition_hash, p->def_hash[i]) == 0;
		for (size_t d = 0; keep[i] && d < wm_dag_n_deps(g, i); d++)
			keep[i] = keep[wm_dag_deps(g, i)[d]];
	}
	return keep;
}

/* Nothing left to do: every task kept, or skipped in a run that
 * succeeded (an only_if said no, a condition did not hold). */
static bool all_done(const bool *keep, const struct wm_prepared *p, const struct wm_run_state *rs)
{
	if (rs->state != WM_RUN_SUCCEEDED)
		return false;
	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		const struct wm_task_state *t = wm_run_state_find(rs, p->wf->tasks[i].id);

		if (!keep[i] && !(t && t->state == WM_TASK_SKIPPED))
			return false;
	}
	return true;
}

/* `wm resume` without an id: the run that started last among those not
 * finished (failed, cancelled, interrupted, orphaned) and not live. */
static bool resumable(const struct wm_runview *v, const void *ctx)
{
	const char *state = wm_runview_state(v);

	(void)ctx;
	return !v->live && strcmp(state, "succeeded") != 0 && strcmp(state, "broken") != 0;
}

static char *newest_resumable(const char *state_dir, struct wm_error **err)
{
	char *best = wm_runview_newest(state_dir, false, resumable, NULL, err);

	if (!best && !*err)
		wm_error_setx(err, WM_EXIT_USAGE, "no run to resume in %s (see wm list)",
			      state_dir);
	return best;
}

/* The new run state: the current workflow's tasks, old records carried over. */
static struct wm_run_state *merge_state(const struct wm_prepared *p, struct wm_run_state *old,
					const bool *keep, const char *run_dir, const char *file,
					struct wm_error **err)
{
	wm_auto(wm_run_state_free) struct wm_run_state *rs = NULL;
	wm_autofree char *copy = wm_rundir_file(run_dir, WM_RUN_WORKFLOW);
	struct wm_buf text = WM_BUF_INIT;

	/* workflow.md is the workflow as it is run now. */
	if (wm_buf_read_file(&text, file) < 0) {
		wm_buf_release(&text);
		return wm_error_set(err, errno, "read `%s`", file), NULL;
	}
	if (strcmp(copy, file) != 0 &&
	    wm_rundir_write_file(run_dir, WM_RUN_WORKFLOW, text.data, text.len, err) < 0) {
		wm_buf_release(&text);
		return NULL;
	}
	wm_buf_release(&text);
	rs = wm_runner_new_state(p, old->run_id, run_dir, file, err);
	if (!rs)
		return NULL;
	free(rs->workflow_path);
	rs->workflow_path = wm_xstrdup(old->workflow_path ? old->workflow_path : file);
	rs->created_ms = old->created_ms;
	rs->started_ms = old->started_ms;
	rs->audit = old->audit;
	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		struct wm_task_state *ot = wm_run_state_find(old, p->wf->tasks[i].id);

		if (ot)
			carry_task(&rs->tasks[i], ot, keep[i]);
	}
	return wm_steal(&rs);
}

/* A run killed before its first checkpoint was complete: nothing of it was
 * recorded as done (no checkpoint, no journal record to rebuild from), so
 * it starts over as a run with every task pending. */
static int load_or_start_over(const char *run_dir, const char *run_id,
			      const struct wm_run_options *o, struct wm_state_loaded *loaded,
			      struct wm_error **err)
{
	struct wm_error *e = NULL;

	if (wm_store_load(run_dir, loaded, &e) == 0)
		return 0;
	if (e->errnum != ENOENT || !o->workflow) {
		*err = e;
		return -1;
	}
	wm_error_free(e);
	memset(loaded, 0, sizeof(*loaded));
	loaded->rs = wm_run_state_new(run_id);
	loaded->rs->workflow_path = wm_xstrdup(o->workflow);
	loaded->rs->state = WM_RUN_RUNNING;
	wm_strv_push(&loaded->warnings, &loaded->n_warnings,
		     "no checkpoint was completed before the orchestrator died: starting over");
	return 0;
}

/* The workflow as the run started (or, with --reload, as its file is now),
 * prepared under the run's options and the floors. Returns the file read
 * (caller frees), or NULL after printing its problems and setting *err. */
static char *prepare(const struct resume_args *a, const struct wm_run_options *o,
		     const struct wm_run_state *old, const char *run_id, const char *run_dir,
		     struct wm_prepared *p, struct wm_error **err)
{
	struct wm_diags diags = WM_DIAGS_INIT;
	char *file = workflow_to_use(old, run_dir, a->reload, err);
	wm_autofree char *policies = wm_rundir_file(run_dir, WM_RUN_POLICIES);
	struct wm_run_options as_run = *o;

	if (!file)
		return NULL;
	/* Without --reload, the front matter's `policies:` file is the copy
	 * taken at the start too (runs from before there was one read it
	 * where it is). */
	if (!a->reload && access(policies, F_OK) == 0)
		as_run.workflow_policies = policies;
	/* The copy is read as if it were at the original path, which anchors
	 * the front matter's `policies:`. */
	if (wm_prepare_as(file, !a->reload && old->workflow_path ? old->workflow_path : file,
			  &as_run, p, &diags, err) < 0) {
		wm_diags_sort(&diags);
		wm_diags_print(&diags, stderr);
		wm_error_setx(err, WM_EXIT_USAGE, "%s no longer plans: not resuming run %s", file,
			      run_id);
		wm_diags_release(&diags);
		free(file);
		return NULL;
	}
	wm_diags_print(&diags, stderr); /* warnings */
	wm_diags_release(&diags);
	/* -p values that plan: a later resume gives them too. */
	if (a->params && wm_run_options_save(run_dir, o, o->workspace, o->workflow, err) < 0) {
		wm_prepared_release(p);
		free(file);
		return NULL;
	}
	wm_floor_print_weak(p->wf, &p->tp, stderr);
	if (a->reload)
		print_changes(p, old, run_dir, file);
	return file;
}

/* What the command line changes of the run's options. -p: the run goes on
 * with these values; a task whose values changed has another definition
 * hash, so it runs again. */
static void take_args(const struct resume_args *a, struct wm_run_options *o)
{
	size_t n = wm_strv_len(o->params);

	o->jobs = a->jobs ? a->jobs : o->jobs;
	o->json = a->json;
	o->display = a->display;
	for (size_t i = 0; a->params && a->params[i]; i++)
		wm_env_set(&o->params, &n, a->params[i]);
}

/* Processes of the run still alive (there should be none: sandboxes die
 * with their orchestrator) are killed, and said. */
static void kill_leftovers(const char *run_id)
{
	size_t killed = wm_kill_leftovers(run_id);

	if (killed)
		fprintf(stderr, "wm: killed %zu process%s left over from run %s\n", killed,
			killed == 1 ? "" : "es", run_id);
}

static int resume_locked(const struct wm_cli *cli, const struct resume_args *a, const char *run_id,
			 const char *run_dir, struct wm_error **err)
{
	struct wm_state_loaded loaded = { 0 };
	struct wm_run_options o = { 0 };
	struct wm_prepared p = { 0 };
	struct wm_run_target t = { 0 };
	wm_autofree char *file = NULL;
	wm_autofree bool *keep = NULL;
	wm_auto(wm_run_state_free) struct wm_run_state *rs = NULL;
	int rc = -1;

	if (wm_run_options_load(run_dir, &o, err) < 0)
		goto out;
	if (load_or_start_over(run_dir, run_id, &o, &loaded, err) < 0) {
		wm_error_wrap(err, "run %s has no usable checkpoint", run_id);
		goto out;
	}
	for (size_t i = 0; i < loaded.n_warnings; i++)
		fprintf(stderr, "wm: warning: %s\n", loaded.warnings[i]);
	take_args(a, &o);
	file = prepare(a, &o, loaded.rs, run_id, run_dir, &p, err);
	if (!file)
		goto out;
	keep = decide_keep(&p, loaded.rs, a->force);
	if (all_done(keep, &p, loaded.rs)) {
		printf("run %s already succeeded: nothing to do\n", run_id);
		rc = WM_EXIT_OK;
		goto out;
	}
	/* Secrets were never written down: their values are asked for again. */
	if (wm_secrets_fetch(o.secrets, p.wf, o.cli_env, true, err) < 0)
		goto out;
	/* The dead orchestrator could not remove its sandboxes' cgroups. */
	wm_sandbox_clean_leftovers();
	wm_use_filter_cache(cli->state_dir);
	if (wm_prepare_profiles(&p, err) < 0)
		goto out;
	kill_leftovers(run_id);
	rs = merge_state(&p, loaded.rs, keep, run_dir, file, err);
	if (!rs)
		goto out;
	if (!a->json)
		printf("run %s (resumed)\n", run_id);
	t.run_id = run_id;
	t.run_dir = run_dir;
	t.state_dir = cli->state_dir;
	t.rs = rs;
	t.journal_seq = loaded.journal_seq;
	t.resumed = true;
	t.keep = keep;
	t.warnings = loaded.warnings;
	t.was_orphan = loaded.rs->state == WM_RUN_RUNNING;
	t.accept_audit_gap = a->accept_audit_gap;
	rc = wm_runner_execute(cli, &p, &o, &t, err);
out:
	wm_prepared_release(&p);
	wm_run_options_release(&o);
	wm_state_loaded_release(&loaded);
	return rc;
}

static int resume(const struct wm_cli *cli, const struct resume_args *a, struct wm_error **err)
{
	wm_autofree char *run_id = NULL;
	wm_autofree char *run_dir = NULL;
	struct wm_lock *lock;
	int rc;

	run_id = a->run ? wm_rundir_resolve(cli->state_dir, a->run, err)
			: newest_resumable(cli->state_dir, err);
	if (!run_id)
		return -1;
	run_dir = wm_rundir_path(cli->state_dir, run_id);
	/* Exit 3 with the holder's pid when a live orchestrator has it. */
	lock = wm_lock_acquire(run_dir, run_id, err);
	if (!lock)
		return -1;
	rc = resume_locked(cli, a, run_id, run_dir, err);
	wm_lock_release(lock);
	return rc;
}

int wm_cmd_resume(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct resume_args a = { 0 };
	int rc = parse_args(argc, argv, &a);

	if (rc == 0)
		rc = resume(cli, &a, err);
	wm_strv_free(a.params);
	return rc;
}
