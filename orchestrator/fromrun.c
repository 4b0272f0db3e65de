/*
 * fromrun.c - `wm run FILE --from TASK`: TASK and every task after it run;
 * what they depend on is taken from the newest run of the same workflow in
 * which all of it succeeded: its outputs are copied into the new run, and
 * those tasks count as succeeded (kept) without running.
 */
#include "orchestrator/fromrun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/runner.h"
#include "orchestrator/runview.h"
#include "sandbox/sandbox.h"
#include "state/rundir.h"

int wm_from_select(struct wm_workflow *wf, const char *from, bool **reused, struct wm_diags *diags,
		   struct wm_error **err)
{
	wm_autofree bool *runs = NULL;
	wm_autofree bool *needs = NULL;
	wm_autofree size_t *from_roots = NULL;
	wm_autofree size_t *roots = NULL;
	size_t n_from = 0, alloc = 0, n = 0, k = 0;

	*reused = NULL;
	if (wm_task_roots(wf, from, "--from: ", &from_roots, &n_from, &alloc, err) < 0)
		return -1;
	runs = wm_workflow_closure(wf, from_roots, n_from, true);
	roots = wm_xcalloc(wf->n_tasks + 1, sizeof(*roots));
	for (size_t i = 0; i < wf->n_tasks; i++)
		if (runs[i])
			roots[n++] = i;
	needs = wm_workflow_closure(wf, roots, n, false);
	/* Compacting keeps the order: the flags follow the kept tasks. */
	*reused = wm_xcalloc(wf->n_tasks + 1, sizeof(**reused));
	for (size_t i = 0; i < wf->n_tasks; i++)
		if (needs[i])
			(*reused)[k++] = !runs[i];
	return wm_workflow_keep_only(wf, needs, diags);
}

/* Did every reused task succeed in this earlier run? */
struct wanted {
	const struct wm_workflow *wf;
	const bool *reused;
};

static bool has_all(const struct wm_runview *v, const void *ctx)
{
	const struct wanted *w = ctx;
	const struct wm_run_state *rs = v->st.rs;

	if (!rs || !rs->name || strcmp(rs->name, w->wf->name) != 0 || v->live)
		return false;
	for (size_t i = 0; i < w->wf->n_tasks; i++) {
		const struct wm_task_state *t;

		if (!w->reused[i])
			continue;
		t = wm_run_state_find(rs, w->wf->tasks[i].id);
		if (!t || !wm_task_status_ok(t->state))
			return false;
	}
	return true;
}

static char *find_source(const char *state_dir, const struct wm_workflow *wf, const bool *reused,
			 struct wm_error **err)
{
	struct wanted w = { wf, reused };
	char *best = wm_runview_newest(state_dir, true, has_all, &w, err);

	if (!best && !*err)
		wm_error_setx(err, WM_EXIT_USAGE,
			      "--from: no earlier run of %s in which every task it needs "
			      "succeeded; run it whole first",
			      wf->name);
	return best;
}

/* out/<task> of the source run, copied into the new run's. */
static int copy_outputs(const char *src_dir, const char *run_dir, const char *task,
			struct wm_error **err)
{
	wm_autofree char *from_path = wm_xasprintf("%s/" WM_RUN_OUT "/%s", src_dir, task);
	wm_autofree char *to_path = wm_rundir_make_out(run_dir, task, true, err);
	wm_autoclose int from = -1;
	wm_autoclose int to = -1;
	wm_autofree char *why = NULL;

	if (!to_path)
		return -1;
	from = open(from_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (from < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "open `%s`", from_path);
	to = open(to_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (to < 0)
		return wm_error_set(err, errno, "open `%s`", to_path);
	if (wm_copy_tree(from, to, &why) < 0)
		return wm_error_setx(err, WM_EXIT_FAILED, "copy the outputs of '%s' from %s: %s",
				     task, src_dir, why ? why : "failed");
	return 0;
}

int wm_from_take(const char *state_dir, const struct wm_workflow *wf, const bool *reused,
		 const char *run_dir, char **source, struct wm_error **err)
{
	wm_autofree char *src_dir = NULL;

	*source = find_source(state_dir, wf, reused, err);
	if (!*source)
		return -1;
	src_dir = wm_rundir_path(state_dir, *source);
	for (size_t i = 0; i < wf->n_tasks; i++)
		if (reused[i] && copy_outputs(src_dir, run_dir, wf->tasks[i].id, err) < 0)
			return -1;
	return 0;
}
