/*
 * taskcache.h - the task cache as a run uses it (state/cache.h keeps the
 * entries): before a cacheable task's first attempt, its key is computed
 * from what it would see and a matching, verified entry's outputs are
 * restored into its out/ instead of running it; after it succeeds, its
 * outputs are stored under that key. Also why a task will run, for `wm
 * plan --explain` and `wm run -v`.
 *
 * Whether a task caches: --no-cache says no to all, --cache yes to all
 * but tasks saying `- cache: false`; else the task's `- cache:`, else the
 * front matter's `cache:`. Join nodes never do: they run nothing.
 *
 * Lifecycle: wm_taskcache_new() (NULL when no task caches) -> lookup and
 * store per task -> wm_taskcache_free(), which evicts down to the cap when
 * the run stored an entry (only then can the cache have grown).
 */
#ifndef WM_ORCHESTRATOR_TASKCACHE_H
#define WM_ORCHESTRATOR_TASKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "orchestrator/runner.h"
#include "state/cache.h"
#include "state/runstate.h"

/* The default of config `cache.max_size`. */
#define WM_CACHE_DEFAULT_MAX ((uint64_t)5 << 30)

bool wm_taskcache_wanted(const struct wm_workflow *wf, size_t task, enum wm_cache_mode mode);

struct wm_taskcache_config {
	const char *state_dir;
	const char *run_dir; /* NULL: planning (wm plan --explain) */
	const char *run_id;
	const struct wm_prepared *p;
	char *const *cli_env;		  /* -e */
	const struct wm_secrets *secrets; /* by the hash of their values */
	enum wm_cache_mode mode;
	uint64_t max_size; /* 0: wm_taskcache_cap() */
};

/* The cap: config cache.max_size, else WM_CACHE_DEFAULT_MAX (a config
 * that cannot be read was reported when the floors were read). */
uint64_t wm_taskcache_cap(void);

struct wm_taskcache;

/* NULL when no task of the run caches (then *err is not set), or on an
 * error (the cache directory cannot be made). */
struct wm_taskcache *wm_taskcache_new(const struct wm_taskcache_config *cfg, struct wm_error **err);
/* Evicts least recently used entries down to the cap, removes stores a
 * crash left half-written, and frees. Accepts NULL. */
void wm_taskcache_free(struct wm_taskcache *tc);

struct wm_cache_lookup {
	bool hit;	    /* its outputs are restored: it does not run */
	char why[400];	    /* a miss: why it runs; a hit: "reusing run X" */
	char *rejected;	    /* an entry found and discarded, and why; else NULL */
	const char *source; /* a hit: the run that made the entry (borrowed) */
	const char *key;    /* its key, NULL when it has none (borrowed) */
};

/* Before the task's first attempt; rs gives how its dependencies ended in
 * this run. Never fails: a problem is a miss saying why. Release with
 * wm_cache_lookup_release. */
void wm_taskcache_lookup(struct wm_taskcache *tc, size_t task, const struct wm_run_state *rs,
			 struct wm_cache_lookup *out);
void wm_cache_lookup_release(struct wm_cache_lookup *l);
/* After the task succeeded: its outputs kept under the key its lookup
 * computed (nothing when it had none). */
int wm_taskcache_store(struct wm_taskcache *tc, size_t task, struct wm_error **err);

/* wm plan --explain: per task (workflow order), whether it would be
 * reused and why, predicting that a task reused gives its entry's
 * outputs to its dependents. why[i] and hit[i] filled; caller frees the
 * strings (wm_strv_free of why). */
int wm_taskcache_explain(struct wm_taskcache *tc, char ***why, bool **hit, struct wm_error **err);

#endif
