/*
 * taskcache.c - the task cache as a run uses it (taskcache.h).
 */
#include "orchestrator/taskcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/config.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct tc_task {
	struct wm_cache_parts parts;
	char key[WM_CACHE_HEX];
	bool has_key;
	bool hit;
	/* The tree hash of out/<task> once this run knows it (restored or
	 * stored): what its dependents' keys take without walking out/. */
	char out_hash[WM_CACHE_HEX];
	bool has_out_hash;
	struct wm_cache_manifest entry; /* a hit's (or, planning, a predicted one's) */
};

struct wm_taskcache {
	struct wm_taskcache_config cfg;
	int cfd;    /* <state>/cache */
	int run_fd; /* the run directory; -1 planning */
	int ws_fd;  /* the workspace */
	char env[WM_CACHE_HEX];
	struct wm_cache_stats *stats; /* inputs' hashes by file identity */
	struct tc_task *t;
	/* Every entry, read once and only to say why a task runs. */
	struct wm_cache_manifest *all;
	size_t n_all;
	bool listed;
	size_t stored; /* entries this run added: eviction has work only then */
};

bool wm_taskcache_wanted(const struct wm_workflow *wf, size_t task, enum wm_cache_mode mode)
{
	const struct wm_task *t = &wf->tasks[task];

	if (mode == WM_CACHE_NONE || wm_task_is_join(t) || t->cache == WM_SWITCH_OFF)
		return false;
	return mode == WM_CACHE_ALL || t->cache == WM_SWITCH_ON || wf->cache;
}

/* What the run adds to every task's environment: the front matter's and
 * -e values, and each secret by the hash of its value. */
static void env_hash(const struct wm_taskcache_config *c, char out[WM_CACHE_HEX])
{
	struct wm_buf b = WM_BUF_INIT;
	char *const *secrets = wm_secrets_env(c->secrets);

	for (size_t i = 0; c->p->wf->env && c->p->wf->env[i]; i++)
		wm_buf_addf(&b, "w %s%c", c->p->wf->env[i], 0);
	for (size_t i = 0; c->cli_env && c->cli_env[i]; i++)
		wm_buf_addf(&b, "e %s%c", c->cli_env[i], 0);
	for (size_t i = 0; secrets && secrets[i]; i++) {
		size_t name = strcspn(secrets[i], "=");
		char h[WM_CACHE_HEX];

		wm_cache_hash_bytes(secrets[i] + name, strlen(secrets[i] + name), h);
		wm_buf_addf(&b, "s %.*s %s%c", (int)name, secrets[i], h, 0);
	}
	wm_cache_hash_bytes(b.data, b.len, out);
	wm_buf_release(&b);
}

uint64_t wm_taskcache_cap(void)
{
	struct wm_config cfg;
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *e = NULL;
	uint64_t cap = WM_CACHE_DEFAULT_MAX;

	if (wm_config_load(&cfg, &d, &e) == 0 && cfg.cache_max_size)
		cap = cfg.cache_max_size;
	wm_config_release(&cfg);
	wm_diags_release(&d);
	wm_error_free(e);
	return cap;
}

struct wm_taskcache *wm_taskcache_new(const struct wm_taskcache_config *cfg, struct wm_error **err)
{
	const struct wm_workflow *wf = cfg->p->wf;
	struct wm_taskcache *tc;
	struct wm_error *oe = NULL;
	bool any = false;

	for (size_t i = 0; i < wf->n_tasks && !any; i++)
		any = wm_taskcache_wanted(wf, i, cfg->mode);
	if (!any)
		return NULL;
	tc = wm_xcalloc(1, sizeof(*tc));
	tc->cfg = *cfg;
	tc->run_fd = tc->ws_fd = -1;
	tc->t = wm_xcalloc(wf->n_tasks + 1, sizeof(*tc->t));
	tc->cfd = wm_cache_open(cfg->state_dir, cfg->run_dir != NULL, &oe);
	if (tc->cfd < 0 && (cfg->run_dir || oe->errnum != ENOENT)) {
		wm_err_pass(err, oe);
		goto fail;
	}
	/* Planning without a cache directory: nothing is cached. */
	wm_error_free(oe);
	tc->ws_fd = open(cfg->p->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tc->ws_fd < 0) {
		wm_error_set(err, errno, "open the workspace `%s`", cfg->p->workspace);
		goto fail;
	}
	if (cfg->run_dir && (tc->run_fd = wm_safe_opendir_path(cfg->run_dir, err)) < 0)
		goto fail;
	env_hash(cfg, tc->env);
	tc->stats = wm_cache_stats_load(tc->cfd, cfg->p->workspace);
	return tc;
fail:
	tc->cfg.run_dir = NULL; /* nothing stored: nothing to evict */
	wm_taskcache_free(tc);
	return NULL;
}

void wm_taskcache_free(struct wm_taskcache *tc)
{
	struct wm_error *e = NULL;

	if (!tc)
		return;
	if (tc->cfd >= 0 && tc->cfg.run_dir && tc->stored) {
		uint64_t cap = tc->cfg.max_size ? tc->cfg.max_size : wm_taskcache_cap();

		/* Best effort: the next run tries again. */
		if (wm_cache_evict(tc->cfd, cap, NULL, &e) < 0 ||
		    wm_cache_clean_temp(tc->cfd, NULL, &e) < 0)
			wm_error_free(e);
	}
	if (tc->cfg.run_dir) /* planning reads the index, never writes it */
		wm_cache_stats_save(tc->stats, tc->cfd);
	wm_cache_stats_free(tc->stats);
	for (size_t i = 0; i < tc->cfg.p->wf->n_tasks; i++) {
		wm_cache_parts_release(&tc->t[i].parts);
		wm_cache_manifest_release(&tc->t[i].entry);
	}
	for (size_t i = 0; i < tc->n_all; i++)
		wm_cache_manifest_release(&tc->all[i]);
	free(tc->all);
	free(tc->t);
	if (tc->cfd >= 0)
		close(tc->cfd);
	if (tc->run_fd >= 0)
		close(tc->run_fd);
	if (tc->ws_fd >= 0)
		close(tc->ws_fd);
	free(tc);
}

/* ---- keys ---- */

/* The tree a dependency left: in this run's out/, or (planning) the
 * entry it is predicted to be restored from. 1: not known (it reruns). */
static int dep_hash(struct wm_taskcache *tc, size_t dep, char out[WM_CACHE_HEX],
		    struct wm_error **err)
{
	struct wm_cache_manifest m = { 0 };
	wm_autofree char *rel = NULL;
	struct wm_error *e = NULL;

	if (tc->run_fd < 0) {
		if (!tc->t[dep].hit)
			return 1;
		wm_cache_tree_hash(tc->t[dep].entry.files, tc->t[dep].entry.n_files, out);
		return 0;
	}
	if (tc->t[dep].has_out_hash) {
		memcpy(out, tc->t[dep].out_hash, WM_CACHE_HEX);
		return 0;
	}
	rel = wm_xasprintf(WM_RUN_OUT "/%s", tc->cfg.p->wf->tasks[dep].id);
	if (wm_cache_list_tree(tc->run_fd, tc->cfg.run_dir, rel, &m, &e) < 0) {
		if (e->errnum != ENOENT) {
			wm_cache_manifest_release(&m);
			wm_err_pass(err, e);
			return -1;
		}
		wm_error_free(e);
	}
	wm_cache_tree_hash(m.files, m.n_files, out);
	wm_cache_manifest_release(&m);
	return 0;
}

static int input_parts(struct wm_taskcache *tc, const struct wm_task *t,
		       struct wm_cache_parts *parts, struct wm_error **err)
{
	wm_autostrv char **files = NULL;
	wm_autostrv char **none = NULL;

	if (!t->inputs)
		return 0;
	if (wm_cache_glob(tc->ws_fd, tc->cfg.p->workspace, t->inputs, &files, &none, err) < 0)
		return -1;
	for (size_t i = 0; files[i]; i++) {
		wm_autofree char *name = wm_xasprintf("input:%s", files[i]);
		char h[WM_CACHE_HEX];

		if (wm_cache_stats_hash(tc->stats, tc->ws_fd, tc->cfg.p->workspace, files[i], h,
					NULL, err) < 0)
			return -1;
		wm_cache_parts_set(parts, name, h);
	}
	for (size_t i = 0; none && none[i]; i++) {
		wm_autofree char *name = wm_xasprintf("inputs:%s", none[i]);

		wm_cache_parts_set(parts, name, "none");
	}
	return 0;
}

/* The task's parts and key: 0, 1 when a dependency's outputs are not
 * known yet (planning), -1 on an error. */
static int compute_key(struct wm_taskcache *tc, size_t task, struct wm_error **err)
{
	const struct wm_prepared *p = tc->cfg.p;
	const struct wm_dag *g = p->wf->dag;
	struct tc_task *ct = &tc->t[task];

	wm_cache_parts_release(&ct->parts);
	wm_cache_parts_set(&ct->parts, "definition", p->def_hash[task]);
	wm_cache_parts_set(&ct->parts, "policy", p->policy_hash[task]);
	wm_cache_parts_set(&ct->parts, "env", tc->env);
	for (size_t k = 0; k < wm_dag_n_deps(g, task); k++) {
		size_t d = wm_dag_deps(g, task)[k];
		wm_autofree char *name = wm_xasprintf("dep:%s", p->wf->tasks[d].id);
		char h[WM_CACHE_HEX];
		int rc = dep_hash(tc, d, h, err);

		if (rc != 0)
			return rc;
		wm_cache_parts_set(&ct->parts, name, h);
	}
	if (input_parts(tc, &p->wf->tasks[task], &ct->parts, err) < 0)
		return -1;
	wm_cache_key(&ct->parts, ct->key);
	ct->has_key = true;
	return 0;
}

/* ---- why a task runs ---- */

/* The newest entry of the same task, or NULL. */
static const struct wm_cache_manifest *previous(struct wm_taskcache *tc, const char *id)
{
	const struct wm_cache_manifest *best = NULL;

	if (!tc->listed && tc->cfd >= 0) {
		struct wm_error *e = NULL;

		tc->listed = true;
		if (wm_cache_list(tc->cfd, &tc->all, &tc->n_all, NULL, &e) < 0)
			wm_error_free(e);
	}
	for (size_t i = 0; i < tc->n_all; i++)
		if (strcmp(tc->all[i].task_id, id) == 0 &&
		    (!best || tc->all[i].created_ms > best->created_ms))
			best = &tc->all[i];
	return best;
}

/* How a dependency that changed came to: reran here, or its outputs differ. */
static void dep_changed(struct wm_taskcache *tc, const char *dep, const struct wm_run_state *rs,
			char *why, size_t size)
{
	const struct wm_task_state *d = rs ? wm_run_state_find(rs, dep) : NULL;
	long k = wm_workflow_find(tc->cfg.p->wf, dep);
	bool reran = rs ? d && d->state == WM_TASK_SUCCEEDED && !d->kept : k >= 0 && !tc->t[k].hit;

	if (reran)
		snprintf(why, size, "dependency %s reran", dep);
	else
		snprintf(why, size, "the outputs of dependency %s changed", dep);
}

static void miss_reason(struct wm_taskcache *tc, size_t task, const struct wm_run_state *rs,
			char *why, size_t size)
{
	const struct tc_task *ct = &tc->t[task];
	const struct wm_cache_manifest *prev = previous(tc, tc->cfg.p->wf->tasks[task].id);
	const char *diff = prev ? wm_cache_parts_diff(&ct->parts, &prev->parts) : NULL;
	const char *now = diff ? wm_cache_parts_get(&ct->parts, diff) : NULL;
	const char *old_policy = prev ? wm_cache_parts_get(&prev->parts, "policy") : NULL;

	if (!diff) {
		snprintf(why, size, "no cache entry");
		return;
	}
	/* A policy changes the definition hash too: say the cause. */
	if (!old_policy || strcmp(wm_cache_parts_get(&ct->parts, "policy"), old_policy) != 0)
		snprintf(why, size, "policy changed");
	else if (strcmp(diff, "definition") == 0)
		snprintf(why, size, "its definition changed");
	else if (strcmp(diff, "env") == 0)
		snprintf(why, size, "the environment changed");
	else if (wm_str_has_prefix(diff, "dep:"))
		dep_changed(tc, diff + 4, rs, why, size);
	else if (wm_str_has_prefix(diff, "inputs:"))
		snprintf(why, size, "input pattern %s matches %s", diff + 7,
			 now ? "nothing now" : "files now");
	else
		snprintf(why, size, "input %s %s", diff + 6,
			 !now					  ? "is gone"
			 : wm_cache_parts_get(&prev->parts, diff) ? "changed"
								  : "is new");
}

/* ---- lookup and store ---- */

void wm_cache_lookup_release(struct wm_cache_lookup *l)
{
	free(l->rejected);
	memset(l, 0, sizeof(*l));
}

/* An entry found unusable: removed, and the caller reports why. */
static void reject(struct wm_taskcache *tc, struct wm_cache_lookup *out, const char *key,
		   const char *why)
{
	struct wm_error *e = NULL;

	out->rejected = wm_xasprintf("cache entry %.12s discarded: %s", key, why);
	if (wm_cache_remove(tc->cfd, key, &e) < 0)
		wm_error_free(e);
}

/* Verifies the entry, then fills the task's emptied out/ from it. */
static int restore(struct wm_taskcache *tc, size_t task, struct wm_cache_lookup *out,
		   struct wm_error **err)
{
	struct tc_task *ct = &tc->t[task];
	const char *id = tc->cfg.p->wf->tasks[task].id;
	wm_autofree char *why = NULL;
	wm_autoclose int ofd = -1;
	int rc = wm_cache_verify(tc->cfd, &ct->entry, &why, err);

	if (rc != 0) {
		if (rc > 0)
			reject(tc, out, ct->key, why);
		return -1;
	}
	ofd = wm_rundir_make_out_at(tc->run_fd, tc->cfg.run_dir, id, true, err);
	if (ofd < 0 || wm_cache_restore(tc->cfd, &ct->entry, ofd, err) < 0)
		return -1;
	wm_cache_touch(tc->cfd, ct->key);
	wm_cache_tree_hash(ct->entry.files, ct->entry.n_files, ct->out_hash);
	ct->has_out_hash = true;
	return 0;
}

void wm_taskcache_lookup(struct wm_taskcache *tc, size_t task, const struct wm_run_state *rs,
			 struct wm_cache_lookup *out)
{
	struct tc_task *ct = &tc->t[task];
	struct wm_error *e = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!wm_taskcache_wanted(tc->cfg.p->wf, task, tc->cfg.mode)) {
		snprintf(out->why, sizeof(out->why), "caching off");
		return;
	}
	if (compute_key(tc, task, &e) != 0)
		goto failed;
	out->key = ct->key;
	rc = wm_cache_get(tc->cfd, ct->key, &ct->entry, &e);
	if (rc < 0) {
		reject(tc, out, ct->key, e->msg);
		wm_error_free(e);
		e = NULL;
	}
	if (rc <= 0) {
		miss_reason(tc, task, rs, out->why, sizeof(out->why));
		return;
	}
	if (restore(tc, task, out, &e) < 0) {
		if (e)
			goto failed;
		snprintf(out->why, sizeof(out->why), "its cache entry was discarded");
		return;
	}
	ct->hit = out->hit = true;
	out->source = ct->entry.run_id;
	snprintf(out->why, sizeof(out->why), "reusing run %s", ct->entry.run_id);
	return;
failed:
	snprintf(out->why, sizeof(out->why), "the cache cannot be used: %s",
		 e ? e->msg : "unknown error");
	wm_error_free(e);
}

int wm_taskcache_store(struct wm_taskcache *tc, size_t task, struct wm_error **err)
{
	struct tc_task *ct = &tc->t[task];
	const char *id = tc->cfg.p->wf->tasks[task].id;
	struct wm_cache_manifest m = { 0 };
	wm_autofree char *rel = NULL;
	int rc;

	if (!ct->has_key || ct->hit || tc->run_fd < 0)
		return 0;
	m.key = wm_xstrdup(ct->key);
	m.run_id = wm_xstrdup(tc->cfg.run_id);
	m.task_id = wm_xstrdup(id);
	for (size_t i = 0; i < ct->parts.n; i++)
		wm_cache_parts_set(&m.parts, ct->parts.v[i].name, ct->parts.v[i].hash);
	rel = wm_xasprintf(WM_RUN_OUT "/%s", id);
	/* A task that left no out/ at all is stored as having no outputs. */
	if (mkdirat(tc->run_fd, WM_RUN_OUT, 0700) < 0 && errno != EEXIST)
		rc = wm_error_set(err, errno, "mkdir `%s/%s`", tc->cfg.run_dir, WM_RUN_OUT);
	else if (mkdirat(tc->run_fd, rel, 0700) < 0 && errno != EEXIST)
		rc = wm_error_set(err, errno, "mkdir `%s/%s`", tc->cfg.run_dir, rel);
	else
		rc = wm_cache_put(tc->cfd, tc->run_fd, tc->cfg.run_dir, rel, &m, err);
	if (rc == 0) {
		wm_cache_tree_hash(m.files, m.n_files, ct->out_hash);
		ct->has_out_hash = true;
	}
	wm_cache_manifest_release(&m);
	tc->stored += rc == 0;
	return rc < 0 ? wm_error_wrap(err, "keep the outputs of '%s' in the cache", id) : 0;
}

/* ---- planning ---- */

int wm_taskcache_explain(struct wm_taskcache *tc, char ***why, bool **hit, struct wm_error **err)
{
	const struct wm_workflow *wf = tc->cfg.p->wf;
	const size_t *order = wf->dag->order;

	*why = wm_xcalloc(wf->n_tasks + 1, sizeof(**why));
	*hit = wm_xcalloc(wf->n_tasks + 1, sizeof(**hit));
	for (size_t k = 0; k < wf->n_tasks; k++) {
		size_t i = order[k];
		struct tc_task *ct = &tc->t[i];
		char text[400] = "";
		struct wm_error *e = NULL;
		int rc;

		if (!wm_taskcache_wanted(wf, i, tc->cfg.mode)) {
			(*why)[i] = wm_xstrdup(wm_task_is_join(&wf->tasks[i]) ? "join node"
									      : "caching off");
			continue;
		}
		rc = compute_key(tc, i, err);
		if (rc < 0)
			return -1;
		if (tc->cfd < 0) {
			snprintf(text, sizeof(text), "no cache entry");
		} else if (rc > 0) {
			/* The first dependency that reruns. */
			for (size_t d = 0; d < wm_dag_n_deps(wf->dag, i); d++)
				if (!tc->t[wm_dag_deps(wf->dag, i)[d]].hit) {
					snprintf(text, sizeof(text), "dependency %s reruns",
						 wf->tasks[wm_dag_deps(wf->dag, i)[d]].id);
					break;
				}
		} else if (wm_cache_get(tc->cfd, ct->key, &ct->entry, &e) > 0) {
			ct->hit = (*hit)[i] = true;
			snprintf(text, sizeof(text), "reusing run %s", ct->entry.run_id);
		} else {
			/* A damaged entry is the run's to find, report and discard. */
			miss_reason(tc, i, NULL, text, sizeof(text));
		}
		wm_error_free(e);
		(*why)[i] = wm_xstrdup(text);
	}
	return 0;
}
