/*
 * runcache.c - the last runs the read routes loaded, kept while nothing
 * they were loaded from changed (server.h: serve_run_view).
 *
 * Loading a run (wm_runview_load: checkpoint, journal replay, lock) costs
 * milliseconds for a large run, and a dashboard asks for the same runs
 * again and again. A loaded view is reused while its files are unchanged
 * (device, inode, size, modification time of the checkpoint, the journal,
 * their previous generations and the lock file) and whether a live
 * process holds the lock is what it was: an orchestrator that died
 * changes no file, but frees its lock. Anything else loads the run again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/runview.h"
#include "orchestrator/serve/server.h"
#include "state/lock.h"
#include "state/rundir.h"

static const char *const files[] = { "checkpoint.json.zst", "checkpoint.json.zst.prev",
				     "journal.jsonl", "journal.jsonl.prev", WM_RUN_LOCK };
#define N_FILES (sizeof(files) / sizeof(files[0]))

struct runcache_entry {
	char id[WM_RUN_ID_LEN + 1];
	struct stat sig[N_FILES];
	bool live;
	unsigned long used; /* for eviction: the least recently used goes */
	struct wm_runview v;
};

struct runcache {
	struct runcache_entry e[SERVE_RUNCACHE_SIZE];
	unsigned long clock;
};

static void signature(const char *dir, struct stat sig[N_FILES], bool *live)
{
	for (size_t i = 0; i < N_FILES; i++) {
		wm_autofree char *path = wm_rundir_file(dir, files[i]);

		memset(&sig[i], 0, sizeof(sig[i]));
		if (lstat(path, &sig[i]) < 0)
			memset(&sig[i], 0, sizeof(sig[i]));
	}
	*live = wm_lock_is_live(dir, NULL) > 0;
}

static bool same(const struct stat *a, const struct stat *b)
{
	for (size_t i = 0; i < N_FILES; i++)
		if (a[i].st_dev != b[i].st_dev || a[i].st_ino != b[i].st_ino ||
		    a[i].st_size != b[i].st_size || a[i].st_mtim.tv_sec != b[i].st_mtim.tv_sec ||
		    a[i].st_mtim.tv_nsec != b[i].st_mtim.tv_nsec)
			return false;
	return true;
}

const struct wm_runview *serve_run_view(struct serve *s, const char *id, struct wm_error **err)
{
	struct runcache *rc = s->runs;
	wm_autofree char *dir = wm_rundir_path(s->conf.state_dir, id);
	struct stat sig[N_FILES];
	struct runcache_entry *slot = &rc->e[0];
	bool live;

	signature(dir, sig, &live);
	for (size_t i = 0; i < SERVE_RUNCACHE_SIZE; i++) {
		struct runcache_entry *e = &rc->e[i];

		if (e->id[0] && strcmp(e->id, id) == 0 && e->live == live && same(e->sig, sig)) {
			e->used = ++rc->clock;
			return &e->v;
		}
		if (strcmp(e->id, id) == 0 || e->used < slot->used)
			slot = e; /* the run's stale entry, else the least recently used */
	}
	wm_runview_release(&slot->v);
	memset(slot, 0, sizeof(*slot));
	if (wm_runview_load(s->conf.state_dir, id, &slot->v, err) < 0) {
		memset(&slot->v, 0, sizeof(slot->v));
		return NULL;
	}
	/* The signature from before the load: a change during it loads again. */
	snprintf(slot->id, sizeof(slot->id), "%s", id);
	memcpy(slot->sig, sig, sizeof(sig));
	slot->live = live;
	slot->used = ++rc->clock;
	return &slot->v;
}

struct runcache *serve_runcache_new(void)
{
	return wm_xcalloc(1, sizeof(struct runcache));
}

void serve_runcache_free(struct runcache *rc)
{
	if (!rc)
		return;
	for (size_t i = 0; i < SERVE_RUNCACHE_SIZE; i++)
		wm_runview_release(&rc->e[i].v);
	free(rc);
}
