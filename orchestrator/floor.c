/*
 * floor.c - each task's policy and the floor below which none may go
 * (floor.h).
 */
#include "orchestrator/floor.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/config.h"

#define BASELINE "standard"

/* Results of the relation per policy pair: workflows have thousands of
 * tasks and a handful of policies. */
struct verdicts {
	const struct wm_policy **p, **f;
	char **why; /* NULL: at least as strict */
	size_t n, alloc_p, alloc_f, alloc_w;
};

static const char *verdict(struct verdicts *v, const struct wm_policy *p, const struct wm_policy *f)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; i < v->n; i++)
		if (v->p[i] == p && v->f[i] == f)
			return v->why[i];
	WM_GROW(v->p, v->alloc_p, v->n + 1);
	WM_GROW(v->f, v->alloc_f, v->n + 1);
	WM_GROW(v->why, v->alloc_w, v->n + 1);
	v->p[v->n] = p;
	v->f[v->n] = f;
	v->why[v->n] = wm_policy_at_least_as_strict(p, f, &b) ? NULL : wm_buf_detach(&b, NULL);
	wm_buf_release(&b);
	return v->why[v->n++];
}

static void verdicts_release(struct verdicts *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->why[i]);
	free(v->why);
	free(v->p);
	free(v->f);
}

struct ctx {
	const struct wm_workflow *wf;
	const struct wm_policy_set *set;
	struct wm_task_policies *tp;
	struct verdicts v;
	struct wm_diags *d;
};

/* One floor by name, reported where it was given. */
static void add_floor(struct ctx *c, const char *name, const char *origin, const char *file,
		      unsigned line, unsigned col)
{
	const struct wm_policy *p = wm_policy_set_resolve(c->set, name, file, line, col, c->d);

	if (!p)
		return;
	if (wm_policy_set_from_workflow(c->set, name)) {
		wm_diags_error(c->d, file, line, col,
			       "floor policy '%s' (%s) comes from the workflow's own policies: "
			       "file; a floor must be built in or defined in your own policy files",
			       name, origin);
		return;
	}
	c->tp->floor[c->tp->n_floors] = p;
	c->tp->floor_origin[c->tp->n_floors++] = origin;
}

/* Drops each floor that another is at least as strict as (the first of
 * equals stays): what is left must all hold. */
static void reduce_floors(struct ctx *c)
{
	struct wm_task_policies *tp = c->tp;
	size_t k = 0;

	for (size_t i = 0; i < tp->n_floors; i++) {
		bool dropped = false;

		for (size_t j = 0; j < tp->n_floors && !dropped; j++) {
			if (i == j || !tp->floor[j] || verdict(&c->v, tp->floor[j], tp->floor[i]))
				continue;
			/* j is at least as strict as i: drop i unless they are equal
			 * and i comes first. */
			dropped = verdict(&c->v, tp->floor[i], tp->floor[j]) || j < i;
		}
		if (dropped) {
			tp->floor[i] = NULL;
			continue;
		}
		tp->floor[k] = tp->floor[i];
		tp->floor_origin[k++] = tp->floor_origin[i];
	}
	tp->n_floors = k;
}

static const char *below_floor(struct ctx *c, const struct wm_policy *p, size_t *which)
{
	for (size_t k = 0; k < c->tp->n_floors; k++) {
		const char *why = verdict(&c->v, p, c->tp->floor[k]);

		if (why) {
			*which = k;
			return why;
		}
	}
	return NULL;
}

/* The policy of tasks that name none, and whether the workflow chose it. */
static const struct wm_policy *default_policy(struct ctx *c, const char *cli, bool *asked)
{
	const char *name = cli ? cli : c->wf->policy ? c->wf->policy : BASELINE;
	const struct wm_policy *p = wm_policy_set_get(c->set, name);
	size_t k;

	*asked = !cli && c->wf->policy;
	if (!p || !below_floor(c, p, &k) || *asked)
		return p;
	/* Nobody asked for a policy below the floor: the strictest floor takes
	 * its place, if one satisfies them all. */
	for (size_t i = 0; i < c->tp->n_floors; i++)
		if (!below_floor(c, c->tp->floor[i], &k))
			return c->tp->floor[i];
	return p;
}

static void check_front_matter(struct ctx *c)
{
	const struct wm_workflow *wf = c->wf;
	const struct wm_policy *p;
	const char *why;
	size_t k;

	if (!wf->policy)
		return;
	p = wm_policy_set_resolve(c->set, wf->policy, wf->path, wf->policy_loc.line,
				  wf->policy_loc.col, c->d);
	if (p && (why = below_floor(c, p, &k)) != NULL)
		wm_diags_error(c->d, wf->path, wf->policy_loc.line, wf->policy_loc.col,
			       "the workflow's policy '%s' is weaker than the floor '%s' (%s): %s",
			       p->name, c->tp->floor[k]->name, c->tp->floor_origin[k], why);
}

static void resolve_task(struct ctx *c, size_t i, const struct wm_policy *dflt, bool dflt_asked)
{
	const struct wm_task *t = &c->wf->tasks[i];
	struct wm_task_policies *tp = c->tp;
	const char *why;
	size_t k;

	if (t->policy) {
		tp->policy[i] = wm_policy_set_resolve(c->set, t->policy, c->wf->path,
						      t->policy_loc.line, t->policy_loc.col, c->d);
		tp->asked[i] = true;
	} else {
		tp->policy[i] = dflt;
		tp->asked[i] = dflt_asked;
	}
	if (!tp->policy[i])
		return;
	why = below_floor(c, tp->policy[i], &k);
	if (why && t->policy)
		wm_diags_error(c->d, c->wf->path, t->policy_loc.line, t->policy_loc.col,
			       "task `%s`: policy '%s' is weaker than the floor '%s' (%s): %s",
			       t->id, tp->policy[i]->name, tp->floor[k]->name, tp->floor_origin[k],
			       why);
	else if (why && !dflt_asked)
		wm_diags_error(c->d, c->wf->path, t->loc.line, t->loc.col,
			       "task `%s`: its default policy '%s' is weaker than the floor "
			       "'%s' (%s): %s; give the task a policy that satisfies every floor",
			       t->id, tp->policy[i]->name, tp->floor[k]->name, tp->floor_origin[k],
			       why);
	/* A default the front matter asked for is reported once, at the front
	 * matter. */
}

static void weak_summary(struct ctx *c, const struct wm_policy *p, char **out)
{
	const struct wm_policy *base = wm_policy_set_get(c->set, BASELINE);
	const char *why = base ? verdict(&c->v, p, base) : NULL;
	struct wm_buf b = WM_BUF_INIT;

	*out = NULL;
	if (!why)
		return;
	if (p->network != WM_NET_NONE)
		wm_buf_addf(&b, "network %s", wm_net_mode_name(p->network));
	if (p->fs.view == WM_VIEW_HOST_RW)
		wm_buf_addf(&b, "%shost filesystem writable", b.len ? ", " : "");
	if (!p->seccomp.enabled)
		wm_buf_addf(&b, "%sno seccomp filter", b.len ? ", " : "");
	else if (wm_seccomp_action_passes(p->seccomp.default_action))
		wm_buf_addf(&b, "%sseccomp allows unlisted calls", b.len ? ", " : "");
	if (!b.len)
		wm_buf_addstr(&b, why);
	*out = wm_buf_detach(&b, NULL);
}

static int user_floors(struct ctx *c, const char *cli, struct wm_error **err)
{
	struct wm_config cfg;
	const char *env = getenv("WM_POLICY_FLOOR");
	int rc = wm_config_load(&cfg, c->d, err);

	if (rc < 0 && *err)
		return -1;
	if (cli)
		add_floor(c, cli, "--policy", "command line", 0, 0);
	if (env && *env)
		add_floor(c, env, "WM_POLICY_FLOOR", "WM_POLICY_FLOOR", 0, 0);
	if (cfg.policy_floor) {
		c->tp->config_path = wm_xstrdup(cfg.path); /* the origin outlives cfg */
		add_floor(c, cfg.policy_floor, c->tp->config_path, cfg.path, cfg.floor_line,
			  cfg.floor_col);
	}
	wm_config_release(&cfg);
	reduce_floors(c);
	return 0;
}

int wm_floor_resolve(const struct wm_workflow *wf, const struct wm_policy_set *set,
		     const char *cli_policy, struct wm_task_policies *out, struct wm_diags *diags,
		     struct wm_error **err)
{
	struct ctx c = { .wf = wf, .set = set, .tp = out, .d = diags };
	size_t before = diags->n_errors, n = wf->n_tasks;
	const struct wm_policy *dflt;
	bool asked;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->n = n;
	out->policy = wm_xcalloc(n + 1, sizeof(*out->policy));
	out->weak = wm_xcalloc(n + 1, sizeof(*out->weak));
	out->asked = wm_xcalloc(n + 1, sizeof(*out->asked));
	if (user_floors(&c, cli_policy, err) < 0) {
		verdicts_release(&c.v);
		return -1;
	}
	check_front_matter(&c);
	dflt = default_policy(&c, cli_policy, &asked);
	for (size_t i = 0; i < n; i++) {
		resolve_task(&c, i, dflt, asked);
		if (out->policy[i])
			weak_summary(&c, out->policy[i], &out->weak[i]);
	}
	if (diags->n_errors > before)
		rc = -1;
	verdicts_release(&c.v);
	return rc;
}

void wm_task_policies_release(struct wm_task_policies *tp)
{
	for (size_t i = 0; i < tp->n; i++)
		free(tp->weak ? tp->weak[i] : NULL);
	free(tp->weak);
	free(tp->policy);
	free(tp->asked);
	free(tp->config_path);
	memset(tp, 0, sizeof(*tp));
}

/* Past this many weak tasks, one line per policy instead of per task. */
#define WEAK_LISTED 10

/* One line per weak policy, in the order tasks first use it: how many tasks
 * use it, the first of them, and what makes it weak. */
static void print_weak_by_policy(const struct wm_workflow *wf, const struct wm_task_policies *tp,
				 FILE *f)
{
	for (size_t i = 0; i < tp->n; i++) {
		size_t count = 0;
		bool seen = false;

		if (!tp->weak[i])
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = tp->weak[k] && tp->policy[k] == tp->policy[i];
		if (seen)
			continue;
		for (size_t k = i; k < tp->n; k++)
			count += tp->weak[k] && tp->policy[k] == tp->policy[i];
		fprintf(f, "  %zu task%s (%s%s) %-12s %s\n", count, count == 1 ? "" : "s",
			wf->tasks[i].id, count == 1 ? "" : ", ...", tp->policy[i]->name,
			tp->weak[i]);
	}
}

size_t wm_floor_print_weak(const struct wm_workflow *wf, const struct wm_task_policies *tp, FILE *f)
{
	size_t n = 0;

	for (size_t i = 0; i < tp->n; i++)
		n += tp->weak[i] != NULL;
	if (!n)
		return 0;
	fprintf(f, "wm: warning: %zu task%s of %s run%s under a policy weaker than %s:\n", n,
		n == 1 ? "" : "s", wf->path, n == 1 ? "s" : "", BASELINE);
	if (n <= WEAK_LISTED) {
		for (size_t i = 0; i < tp->n; i++)
			if (tp->weak[i])
				fprintf(f, "  %-24s %-12s %s\n", wf->tasks[i].id,
					tp->policy[i]->name, tp->weak[i]);
	} else {
		print_weak_by_policy(wf, tp, f);
	}
	return n;
}

size_t wm_floor_count_minimal(const struct wm_task_policies *tp, const struct wm_policy_set *set)
{
	const struct wm_policy *dev = wm_policy_set_get(set, "development");
	size_t n = 0;

	for (size_t i = 0; i < tp->n; i++)
		if (tp->asked[i] && tp->policy[i] && dev &&
		    !wm_policy_at_least_as_strict(tp->policy[i], dev, NULL))
			n++;
	return n;
}

bool wm_file_is_users_own(const char *path, char **why)
{
	char *abs = realpath(path, NULL), *dir;
	struct stat st, ds;
	bool own = false;

	*why = NULL;
	if (!abs || stat(abs, &st) != 0) {
		*why = wm_xasprintf("cannot be checked");
		free(abs);
		return false;
	}
	dir = wm_xstrdup(abs);
	if (st.st_uid != getuid())
		*why = wm_xasprintf("is owned by uid %u, not by you", (unsigned)st.st_uid);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		*why = wm_xasprintf("is writable by group or others");
	else if (stat(dirname(dir), &ds) != 0 || ds.st_uid != getuid())
		*why = wm_xasprintf("is in a directory you do not own");
	else
		own = true;
	free(dir);
	free(abs);
	return own;
}
