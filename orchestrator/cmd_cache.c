/*
 * cmd_cache.c - `wm cache ls|show KEY|rm KEY...|prune [--older-than AGE]`:
 * the task cache's entries (state/cache.h) listed, shown, removed.
 *
 * A KEY may be given by a unique prefix of at least 6 digits, as `wm cache
 * ls` shows them. prune without --older-than evicts down to the cap
 * (config cache.max_size) and removes what crashed stores left; with it,
 * every entry unused for longer than AGE.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/taskcache.h"
#include "state/cache.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define MIN_PREFIX 6

struct entries {
	struct wm_cache_manifest *v;
	size_t n;
};

static void entries_release(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		wm_cache_manifest_release(&e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Every entry, newest use first; no cache directory: none. */
static int load(const struct wm_cli *cli, int *cfd, struct entries *e, struct wm_error **err)
{
	struct wm_error *oe = NULL;

	memset(e, 0, sizeof(*e));
	*cfd = wm_cache_open(cli->state_dir, false, &oe);
	if (*cfd < 0) {
		if (oe->errnum == ENOENT) {
			wm_error_free(oe);
			return 0;
		}
		wm_err_pass(err, oe);
		return -1;
	}
	return wm_cache_list(*cfd, &e->v, &e->n, NULL, err);
}

static json_t *entry_json(const struct wm_cache_manifest *m, bool full)
{
	json_t *o = full ? wm_cache_manifest_to_json(m) : json_object(); /* new ref */

	if (!full) {
		json_object_set_new(o, "key", json_string(m->key));
		json_object_set_new(o, "task", json_string(m->task_id));
		json_object_set_new(o, "run", json_string(m->run_id));
		json_object_set_new(o, "size", json_integer((json_int_t)m->size));
		json_object_set_new(o, "files", json_integer((json_int_t)m->n_files));
		json_object_set_new(o, "created_ms", json_integer(m->created_ms));
	}
	json_object_set_new(o, "used_ms", json_integer(m->used_ms));
	return o;
}

static int print_json(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2)) < 0 ? WM_EXIT_FAILED : WM_EXIT_OK;

	json_decref(v);
	putchar('\n');
	return rc;
}

static int cache_ls(const struct wm_cli *cli, bool json, struct wm_error **err)
{
	struct entries e;
	wm_autoclose int cfd = -1;
	uint64_t total = 0;

	if (load(cli, &cfd, &e, err) < 0)
		return -1;
	if (json) {
		json_t *a = json_array();

		for (size_t i = 0; i < e.n; i++)
			json_array_append_new(a, entry_json(&e.v[i], false)); /* steals */
		entries_release(&e);
		return print_json(a);
	}
	if (e.n)
		printf("%-12s  %-20s  %-20s  %8s  %s\n", "KEY", "TASK", "RUN", "SIZE", "LAST USED");
	for (size_t i = 0; i < e.n; i++) {
		wm_autofree char *size = wm_format_size_human(e.v[i].size);
		wm_autofree char *used = wm_state_format_time(e.v[i].used_ms);

		printf("%.12s  %-20s  %-20s  %8s  %s\n", e.v[i].key, e.v[i].task_id, e.v[i].run_id,
		       size, used);
		total += e.v[i].size;
	}
	{
		wm_autofree char *size = wm_format_size_human(total);

		printf("%zu %s, %s\n", e.n, e.n == 1 ? "entry" : "entries", size);
	}
	entries_release(&e);
	return WM_EXIT_OK;
}

/* The entry a key or a unique prefix of it names, or NULL after an error. */
static const struct wm_cache_manifest *find(const struct entries *e, const char *key,
					    struct wm_error **err)
{
	const struct wm_cache_manifest *found = NULL;
	size_t len = strlen(key);

	if (len < MIN_PREFIX || strspn(key, "0123456789abcdef") != len)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "`%s` is not a cache key (at least %d hex digits)", key,
				     MIN_PREFIX),
		       NULL;
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->v[i].key, key, len) != 0)
			continue;
		if (found)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "`%s` names more than one cache entry", key),
			       NULL;
		found = &e->v[i];
	}
	if (!found)
		wm_error_setx(err, WM_EXIT_USAGE, "no cache entry `%s` (wm cache ls)", key);
	return found;
}

static void print_entry(const struct wm_cache_manifest *m)
{
	wm_autofree char *size = wm_format_size_human(m->size);
	wm_autofree char *created = wm_state_format_time(m->created_ms);
	wm_autofree char *used = wm_state_format_time(m->used_ms);

	printf("key       %s\ntask      %s\nrun       %s\nsize      %s in %zu entries\n"
	       "created   %s\nlast used %s\nkey parts\n",
	       m->key, m->task_id, m->run_id, size, m->n_files, created, used);
	for (size_t i = 0; i < m->parts.n; i++)
		printf("  %-30s %.16s\n", m->parts.v[i].name, m->parts.v[i].hash);
	printf("files\n");
	for (size_t i = 0; i < m->n_files; i++) {
		const struct wm_cache_file *f = &m->files[i];

		if (f->type == 'f')
			printf("  %-30s %10llu  %.16s\n", f->path, (unsigned long long)f->size,
			       f->hash);
		else if (f->type == 'l')
			printf("  %-30s -> %s\n", f->path, f->link);
		else
			printf("  %s/\n", f->path);
	}
}

static int cache_show(const struct wm_cli *cli, const char *key, bool json, struct wm_error **err)
{
	struct entries e;
	wm_autoclose int cfd = -1;
	const struct wm_cache_manifest *m;
	int rc = WM_EXIT_OK;

	if (load(cli, &cfd, &e, err) < 0)
		return -1;
	m = find(&e, key, err);
	if (!m)
		rc = -1;
	else if (json)
		rc = print_json(entry_json(m, true));
	else
		print_entry(m);
	entries_release(&e);
	return rc;
}

static int cache_rm(const struct wm_cli *cli, char **keys, struct wm_error **err)
{
	struct entries e;
	wm_autoclose int cfd = -1;
	int rc = WM_EXIT_OK;

	if (load(cli, &cfd, &e, err) < 0)
		return -1;
	for (size_t i = 0; keys[i] && rc == WM_EXIT_OK; i++) {
		const struct wm_cache_manifest *m = find(&e, keys[i], err);

		if (!m || wm_cache_remove(cfd, m->key, err) < 0)
			rc = -1;
		else
			printf("removed %.12s (%s of run %s)\n", m->key, m->task_id, m->run_id);
	}
	entries_release(&e);
	return rc;
}

static int cache_prune(const struct wm_cli *cli, bool has_age, uint64_t age_ms,
		       struct wm_error **err)
{
	struct entries e;
	wm_autoclose int cfd = -1;
	size_t removed = 0, temp = 0;
	long long now = wm_wall_ms();

	if (load(cli, &cfd, &e, err) < 0)
		return -1;
	if (cfd < 0) {
		printf("removed 0 entries\n");
		return WM_EXIT_OK;
	}
	for (size_t i = 0; has_age && i < e.n; i++) {
		if (now - e.v[i].used_ms <= (long long)age_ms)
			continue;
		if (wm_cache_remove(cfd, e.v[i].key, err) < 0) {
			entries_release(&e);
			return -1;
		}
		removed++;
	}
	entries_release(&e);
	if (!has_age && wm_cache_evict(cfd, wm_taskcache_cap(), &removed, err) < 0)
		return -1;
	if (wm_cache_clean_temp(cfd, &temp, err) < 0)
		return -1;
	printf("removed %zu %s", removed, removed == 1 ? "entry" : "entries");
	if (temp)
		printf(" and %zu unfinished %s", temp, temp == 1 ? "store" : "stores");
	putchar('\n');
	return WM_EXIT_OK;
}

int wm_cmd_cache(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = argc > 1 ? argv[1] : NULL;
	bool json = false, has_age = false;
	uint64_t age_ms = 0;
	int opt;

	if (!sub)
		return wm_usage_error("cache", "missing ls, show, rm or prune");
	argc--;
	argv++;
	optind = 0; /* a fresh scan, from argv[1] */
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'j') {
			json = true;
		} else if (opt == 'o') {
			if (wm_parse_age(optarg, &age_ms, err) < 0)
				return wm_error_wrap(err, "--older-than");
			has_age = true;
		} else {
			return wm_bad_option("cache", argv, opt, opts);
		}
	}
	if (strcmp(sub, "ls") == 0 && optind == argc && !has_age)
		return cache_ls(cli, json, err);
	if (strcmp(sub, "show") == 0 && optind + 1 == argc && !has_age)
		return cache_show(cli, argv[optind], json, err);
	if (strcmp(sub, "rm") == 0 && optind < argc && !json && !has_age)
		return cache_rm(cli, argv + optind, err);
	if (strcmp(sub, "prune") == 0 && optind == argc && !json)
		return cache_prune(cli, has_age, age_ms, err);
	return wm_usage_error("cache", "`%s`: expected ls, show KEY, rm KEY... or prune", sub);
}
