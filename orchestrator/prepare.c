/*
 * prepare.c - a workflow made ready to run: parsed (and cut to the part
 * asked for), its workspace resolved, each task's policy resolved and
 * hashed and its definition hashed, then the sandbox profiles built. `wm
 * run`, `wm resume` and `wm exec` all start here.
 */
#include "orchestrator/runner.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "orchestrator/fromrun.h"
#include "orchestrator/levels.h"
#include "state/audit.h"

/* The instances of the matrix `id` as roots; false when it is none. */
static bool add_matrix(const struct wm_workflow *wf, const char *id, size_t **roots, size_t *n,
		       size_t *alloc)
{
	size_t before = *n;

	for (size_t k = 0; k < wf->n_tasks; k++)
		if (wf->tasks[k].matrix_of && strcmp(wf->tasks[k].matrix_of, id) == 0) {
			WM_GROW(*roots, *alloc, *n + 1);
			(*roots)[(*n)++] = k;
		}
	return *n > before;
}

int wm_task_roots(const struct wm_workflow *wf, const char *id, const char *what, size_t **roots,
		  size_t *n, size_t *alloc, struct wm_error **err)
{
	long t = wm_workflow_find(wf, id);
	wm_autofree const char **all = NULL;
	const char *hint;

	if (t >= 0) {
		WM_GROW(*roots, *alloc, *n + 1);
		(*roots)[(*n)++] = (size_t)t;
		return 0;
	}
	if (add_matrix(wf, id, roots, n, alloc))
		return 0;
	all = wm_xcalloc(wf->n_tasks + 1, sizeof(*all));
	for (size_t k = 0; k < wf->n_tasks; k++)
		all[k] = wf->tasks[k].id;
	hint = wm_suggest(id, all, wf->n_tasks);
	return wm_error_setx(err, WM_EXIT_USAGE, "%s%s has no task '%s'%s%s%s", what, wf->path, id,
			     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

/* wm run FILE TASK...: those tasks (a matrix: all its instances) and
 * everything they depend on. */
static int select_tasks(struct wm_workflow *wf, char *const *ids, struct wm_diags *diags,
			struct wm_error **err)
{
	size_t n_roots = 0, alloc = 0;
	wm_autofree size_t *roots = NULL;
	wm_autofree bool *keep = NULL;

	for (size_t i = 0; ids[i]; i++)
		if (wm_task_roots(wf, ids[i], "", &roots, &n_roots, &alloc, err) < 0)
			return -1;
	keep = wm_workflow_closure(wf, roots, n_roots, false);
	return wm_workflow_keep_only(wf, keep, diags);
}

static char *resolve_workspace(const char *path, const char *given, struct wm_error **err)
{
	char buf[PATH_MAX];

	if (given) {
		if (!realpath(given, buf))
			return wm_error_make(err, WM_EXIT_USAGE, errno, "workspace `%s`", given),
			       NULL;
		return wm_xstrdup(buf);
	}
	if (!realpath(path, buf))
		return wm_error_set(err, errno, "workflow `%s`", path), NULL;
	return wm_xstrdup(dirname(buf));
}

/* Each distinct policy's hash, computed once: workflows have thousands of
 * tasks and a handful of policies. */
struct policy_hashes {
	const struct wm_policy **pol;
	char **hash;
	size_t n, alloc_pol, alloc_hash;
};

static const char *policy_hash_of(struct policy_hashes *h, const struct wm_policy *pol)
{
	for (size_t k = 0; k < h->n; k++)
		if (h->pol[k] == pol)
			return h->hash[k];
	WM_GROW(h->pol, h->alloc_pol, h->n + 1);
	WM_GROW(h->hash, h->alloc_hash, h->n + 1);
	h->pol[h->n] = pol;
	h->hash[h->n] = wm_policy_hash(pol);
	return h->hash[h->n++];
}

/* A policy's fixed environment (env.set) is not the workflow's to change:
 * a parameter variable it sets is dropped. */
static void keep_policy_env(struct wm_task *t, const struct wm_policy *pol)
{
	size_t k = 0;

	for (size_t i = 0; t->param_env && t->param_env[i]; i++) {
		size_t len = strcspn(t->param_env[i], "=") + 1;
		bool fixed = false;

		for (size_t j = 0; pol->env.set && pol->env.set[j] && !fixed; j++)
			fixed = strncmp(pol->env.set[j], t->param_env[i], len) == 0;
		if (fixed)
			free(t->param_env[i]);
		else
			t->param_env[k++] = t->param_env[i];
	}
	if (t->param_env)
		t->param_env[k] = NULL;
}

/* The directory of the workflow file, which relative image paths are in. */
static char *workflow_dir(const char *path)
{
	char buf[PATH_MAX];
	wm_autofree char *copy = wm_xstrdup(path);

	if (realpath(path, buf))
		return wm_xstrdup(dirname(buf));
	return wm_xstrdup(dirname(copy));
}

/* The image a task runs in (its `image:`, else its policy's rootfs.image)
 * is opened here, once per reference and policy, so that its digest is in
 * the policy hash and so in the definition hash: a task whose image
 * changed is not taken as done by resume. */
static int apply_images(struct wm_prepared *p, struct wm_error **err)
{
	struct wm_workflow *wf = p->wf;
	wm_autofree char *dir = NULL;
	size_t alloc = 0;

	for (size_t i = 0; i < wf->n_tasks; i++) {
		const struct wm_policy *pol = p->policy[i];
		const char *ref = wf->tasks[i].image ? wf->tasks[i].image : pol->fs.rootfs;
		struct wm_image *img = NULL;
		wm_autofree char *pinned = NULL;
		size_t k;

		if (!ref || !wm_image_ref_is(ref))
			continue;
		if (!dir)
			dir = workflow_dir(wf->path);
		if (wm_image_open(ref, dir, &img, err) < 0)
			return wm_error_wrap(err, "task '%s'", wf->tasks[i].id);
		pinned = wm_image_pinned_name(img);
		wm_image_free(img);
		for (k = 0; k < p->n_image_policies; k++)
			if (strcmp(p->image_policies[k]->fs.rootfs, pinned) == 0 &&
			    strcmp(p->image_policies[k]->name, pol->name) == 0)
				break;
		if (k == p->n_image_policies) {
			WM_GROW(p->image_policies, alloc, k + 1);
			p->image_policies[p->n_image_policies++] =
				wm_policy_with_rootfs(pol, pinned);
		}
		p->policy[i] = p->image_policies[k];
	}
	return 0;
}

/* The validation level's checks (levels.h), on the policies as the
 * workflow names them (before images pin them): errors refuse the run. */
static int check_level(const struct wm_prepared *p, const struct wm_run_options *o,
		       struct wm_diags *diags)
{
	struct wm_level_input in = {
		.wf = p->wf, .policy = p->policy, .set = p->set, .cli_env = o->cli_env
	};

	wm_levels_check(&in, wm_level_effective(o->level, p->wf), diags);
	return diags->n_errors ? -1 : 0;
}

static int resolve_policies(struct wm_prepared *p, const struct wm_run_options *o,
			    struct wm_diags *diags, struct wm_error **err)
{
	struct policy_hashes seen = { 0 };
	struct wm_workflow *wf = p->wf;
	size_t n = wf->n_tasks;

	/* Each task's policy, at least as strict as every floor. */
	if (wm_floor_resolve(wf, p->set, o->policy, &p->tp, diags, err) < 0)
		return -1;
	p->policy = p->tp.policy;
	if (check_level(p, o, diags) < 0)
		return -1;
	if (apply_images(p, err) < 0)
		return -1;
	p->policy_hash = wm_xcalloc(n + 1, sizeof(*p->policy_hash));
	p->def_hash = wm_xcalloc(n + 1, sizeof(*p->def_hash));
	for (size_t i = 0; i < n; i++) {
		p->policy_hash[i] = wm_xstrdup(policy_hash_of(&seen, p->policy[i]));
		keep_policy_env(&wf->tasks[i], p->policy[i]);
		p->def_hash[i] = wm_task_definition_hash(&wf->tasks[i], p->policy_hash[i]);
	}
	for (size_t k = 0; k < seen.n; k++)
		free(seen.hash[k]);
	free(seen.hash);
	free(seen.pol);
	return 0;
}

static enum wm_dialect dialect_of(const struct wm_run_options *o)
{
	int d = o->dialect ? wm_dialect_find(o->dialect) : -1;
	return d < 0 ? WM_DIALECT_AUTO : (enum wm_dialect)d;
}

/* A menu run whole would start every command at once (`git push` and
 * `deploy` beside `test`): its tasks are listed on stdout, and the run
 * refused until they are named or --all says so. */
static void refuse_menu(const struct wm_workflow *wf, const char *path, struct wm_error **err)
{
	size_t w = 0;

	for (size_t i = 0; i < wf->n_tasks; i++)
		if (strlen(wf->tasks[i].id) > w)
			w = strlen(wf->tasks[i].id);
	for (size_t i = 0; i < wf->n_tasks; i++)
		printf("  %-*s  %s\n", (int)w, wf->tasks[i].id,
		       wf->tasks[i].about ? wf->tasks[i].about : "");
	fflush(stdout);
	wm_error_setx(err, WM_EXIT_USAGE,
		      "%s is a menu of tasks (%s), not a pipeline: name the tasks to run "
		      "(wm run %s TASK...) or run them all with --all",
		      path,
		      wf->dialect == WM_DIALECT_WM ? "a README.md" : wm_dialect_name(wf->dialect),
		      path);
}

/* A task that wants a terminal (xc's `Interactive`) would get none in its
 * sandbox: refused, by name, before anything runs. */
static int refuse_terminal(const struct wm_prepared *p, struct wm_error **err)
{
	for (size_t i = 0; i < p->wf->n_tasks; i++)
		if (p->wf->tasks[i].needs_terminal && !(p->reused && p->reused[i]))
			return wm_error_setx(
				err, WM_EXIT_USAGE,
				"task '%s' is interactive (xc's `Interactive`): it "
				"wants a terminal, which a sandboxed task does not get; "
				"nothing was run (run the other tasks by name)",
				p->wf->tasks[i].id);
	return 0;
}

int wm_prepare(const char *path, const struct wm_run_options *o, struct wm_prepared *p,
	       struct wm_diags *diags, struct wm_error **err)
{
	return wm_prepare_as(path, path, o, p, diags, err);
}

/* The C library reads an unknown zone as UTC without a word: refused here,
 * at its place in the file. */
int wm_check_zone(const struct wm_workflow *wf, struct wm_diags *diags)
{
	const char *tz = wf->sched.timezone;

	if (!tz || wm_schedule_tz_exists(tz))
		return 0;
	wm_diags_error(diags, wf->path, wf->sched.timezone_loc.line, wf->sched.timezone_loc.col,
		       "unknown time zone `%s` (not in the system's zone database; see "
		       "/usr/share/zoneinfo)",
		       tz);
	return -1;
}

int wm_prepare_as(const char *file, const char *path, const struct wm_run_options *o,
		  struct wm_prepared *p, struct wm_diags *diags, struct wm_error **err)
{
	memset(p, 0, sizeof(*p));
	if (wm_workflow_load_in(file, path, dialect_of(o), &p->wf, diags, err) < 0)
		return -1;
	for (size_t i = 0; o->display.verbose && p->wf->notes && p->wf->notes[i]; i++)
		fprintf(stderr, "%s\n", p->wf->notes[i]);
	if (wm_check_zone(p->wf, diags) < 0)
		goto fail;
	if (p->wf->menu && !o->only && !o->from && !o->all) {
		refuse_menu(p->wf, path, err);
		goto fail;
	}
	if (wm_workflow_check_param_names(p->wf, o->params, diags) < 0 ||
	    (o->only && select_tasks(p->wf, o->only, diags, err) < 0))
		goto fail;
	if (o->from && wm_from_select(p->wf, o->from, &p->reused, diags, err) < 0)
		goto fail;
	if (refuse_terminal(p, err) < 0)
		goto fail;
	/* Before anything runs, and before the definition hashes, which hold
	 * the values. */
	if (wm_workflow_bind_params(p->wf, o->params, diags) < 0)
		goto fail;
	p->workspace = resolve_workspace(path, o->workspace, err);
	if (!p->workspace)
		goto fail;
	if (p->wf->policies_file && o->workflow_policies) {
		free(p->wf->policies_file);
		p->wf->policies_file = wm_xstrdup(o->workflow_policies);
	}
	p->set = wm_policy_set_load_search(o->policies_file, p->wf->policies_file, diags, err);
	if (!p->set)
		goto fail;
	if (resolve_policies(p, o, diags, err) < 0)
		goto fail;
	return 0;
fail:
	wm_prepared_release(p);
	return -1;
}

void wm_use_filter_cache(const char *state_dir)
{
	unsigned char key[WM_AUDIT_SUBKEY_LEN];
	struct wm_error *e = NULL;

	if (wm_audit_key_derive(state_dir, "seccache", key, &e) == 0)
		wm_sandbox_set_cache_key(key);
	sodium_memzero(key, sizeof(key));
	wm_error_free(e);
}

int wm_prepare_profiles(struct wm_prepared *p, struct wm_error **err)
{
	size_t n = p->wf->n_tasks;
	const struct wm_policy **seen = wm_xcalloc(n ? n : 1, sizeof(*seen));

	p->profiles = wm_xcalloc(n ? n : 1, sizeof(*p->profiles));
	p->profile = wm_xcalloc(n ? n : 1, sizeof(*p->profile));
	/* One profile (one compiled seccomp filter) per distinct policy. */
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < p->n_profiles && seen[k] != p->policy[i]; k++)
			;
		if (k == p->n_profiles) {
			if (wm_sandbox_profile_new(p->policy[i], &p->profiles[k], err) < 0) {
				free(seen);
				return wm_error_wrap(err, "policy '%s'", p->policy[i]->name);
			}
			seen[k] = p->policy[i];
			p->n_profiles++;
		}
		p->profile[i] = p->profiles[k];
	}
	free(seen);
	return 0;
}

void wm_prepared_release(struct wm_prepared *p)
{
	free(p->reused);
	for (size_t i = 0; i < p->n_profiles; i++)
		wm_sandbox_profile_free(p->profiles[i]);
	free(p->profiles);
	free(p->profile);
	wm_strv_free(p->policy_hash);
	wm_strv_free(p->def_hash);
	wm_task_policies_release(&p->tp);
	for (size_t i = 0; i < p->n_image_policies; i++)
		wm_policy_free(p->image_policies[i]);
	free(p->image_policies);
	wm_policy_set_free(p->set);
	wm_workflow_free(p->wf);
	free(p->workspace);
	memset(p, 0, sizeof(*p));
}

void wm_print_dry_run(const struct wm_prepared *p, FILE *out)
{
	const size_t *order = p->wf->dag->order;

	fprintf(out, "dry run of '%s': %zu tasks, nothing is executed\n", p->wf->name,
		p->wf->n_tasks);
	for (size_t k = 0; k < p->wf->n_tasks; k++) {
		size_t i = order[k];
		const struct wm_task *t = &p->wf->tasks[i];

		fprintf(out, "%4zu. %-24s policy=%s%s", k + 1, t->id, p->policy[i]->name,
			t->body.lang ? "" : " (join)");
		for (size_t d = 0; t->depends && t->depends[d]; d++)
			fprintf(out, "%s%s", d ? "," : " after ", t->depends[d]);
		fputc('\n', out);
	}
}
