/*
 * cmd_prune.c - `wm prune [--keep N] [--older-than AGE] [--dry-run]
 * [--force] [--json]`: removes old runs' directories from the state
 * directory.
 *
 * Candidates: every run but the N newest (--keep), and those that ended
 * (never ended: started, or were created) longer than AGE ago
 * (--older-than); both given, a run must be both. Of the candidates, a
 * live run is never removed: wm takes the run's lock for the removal, so
 * neither its orchestrator nor a `wm resume` starting meanwhile can be
 * running. Without --force only runs that succeeded go: a failed,
 * interrupted, cancelled, orphaned or broken run may still be resumed or
 * looked into. Even with --force a run created less than a minute ago
 * that has no state yet stays: it may be starting. The directory goes as
 * state/rundir.h says: renamed out of the way, then deleted without
 * following a link a task planted.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/lock.h"
#include "state/rundir.h"

struct prune_opts {
	bool has_keep, has_older, dry_run, force, json;
	unsigned long keep;
	uint64_t older_ms;
};

struct tally {
	json_t *removed, *kept, *failed; /* arrays of objects */
	uint64_t freed;
};

/* A run's state as recorded, with the lock taken by prune itself: a run
 * recorded as running is then an orphan (nobody else holds the lock). */
static const char *recorded_state(const struct wm_runview *v)
{
	enum wm_run_status s;

	if (!v->from_summary && !v->st.rs)
		return "broken";
	s = v->from_summary ? v->sum.state : v->st.rs->state;
	return s == WM_RUN_RUNNING ? "orphaned" : wm_run_status_name(s);
}

/* `wm run` makes the run directory a moment before it takes the lock and
 * writes a first checkpoint: a run this young that has no state yet may be
 * starting, and stays whatever --force says. */
#define STARTING_MS (60 * 1000)

/* Why a run whose state is `state` stays (caller frees), or NULL: it goes. */
static char *keep_reason(const char *id, const char *state, bool force)
{
	bool no_state = strcmp(state, "broken") == 0 || strcmp(state, "pending") == 0;

	if (no_state && wm_wall_ms() - wm_run_id_time_ms(id) < STARTING_MS)
		return wm_xstrdup("created less than a minute ago: it may be starting");
	if (force || strcmp(state, "succeeded") == 0)
		return NULL;
	if (strcmp(state, "orphaned") == 0)
		return wm_xasprintf("orphaned: `wm resume %s` finishes it; --force removes it", id);
	if (strcmp(state, "broken") == 0)
		return wm_xstrdup("broken: its state cannot be read; --force removes it");
	if (strcmp(state, "pending") == 0 || strcmp(state, "running") == 0)
		return wm_xasprintf("%s: not finished; --force removes it", state);
	return wm_xasprintf("%s, resumable: `wm resume %s`; --force removes it", state, id);
}

static json_t *run_obj(const struct wm_runview *v, const char *state)
{
	const char *name = wm_runview_name(v);

	/* json_pack's "s?" gives null for a NULL name. */
	return json_pack("{s:s, s:s?, s:s}", "id", v->id, "workflow", name, "state", state);
}

static void add_kept(struct tally *t, const struct wm_runview *v, const char *state,
		     const char *reason)
{
	json_t *o = run_obj(v, state);

	json_object_set_new(o, "reason", json_string(reason)); /* steals */
	json_array_append_new(t->kept, o);		       /* steals */
}

static void add_failed(struct tally *t, const char *id, struct wm_error *e)
{
	wm_autofree char *text = wm_error_text(e);

	json_array_append_new(t->failed, json_pack("{s:s, s:s}", "id", id, "error", text));
	wm_error_free(e);
}

/* Takes the run's lock, checks again that it may go, and removes it. */
static void remove_run(const struct wm_cli *cli, const struct wm_runview *seen,
		       const struct prune_opts *o, struct tally *t)
{
	struct wm_error *e = NULL;
	struct wm_lock *lock = wm_lock_acquire(seen->dir, seen->id, &e);
	struct wm_runview v = { 0 };
	wm_autofree char *why = NULL;
	const char *state;
	uint64_t bytes = 0;

	if (!lock && e->exit_code == WM_EXIT_CANNOT) { /* it went live meanwhile */
		add_kept(t, seen, "running", "live: its orchestrator holds the lock");
		wm_error_free(e);
		return;
	}
	if (!lock) {
		add_failed(t, seen->id, e);
		return;
	}
	if (wm_runview_load_brief(cli->state_dir, seen->id, &v, &e) < 0) {
		add_failed(t, seen->id, e);
		wm_lock_release(lock);
		return;
	}
	state = recorded_state(&v);
	if ((why = keep_reason(v.id, state, o->force))) {
		add_kept(t, &v, state, why);
	} else if (wm_rundir_usage(cli->state_dir, v.id, &bytes, &e) < 0 ||
		   wm_rundir_remove(cli->state_dir, v.id, &e) < 0) {
		add_failed(t, v.id, e);
	} else {
		json_t *r = run_obj(&v, state);

		json_object_set_new(r, "bytes", json_integer((json_int_t)bytes)); /* steals */
		json_array_append_new(t->removed, r);				  /* steals */
		t->freed += bytes;
	}
	wm_runview_release(&v);
	wm_lock_release(lock);
}

/* --dry-run: what the removal would do, changing nothing (no lock taken). */
static void plan_run(const struct wm_cli *cli, const struct wm_runview *v, const char *state,
		     struct tally *t)
{
	struct wm_error *e = NULL;
	uint64_t bytes = 0;
	json_t *r;

	if (wm_rundir_usage(cli->state_dir, v->id, &bytes, &e) < 0) {
		add_failed(t, v->id, e);
		return;
	}
	r = run_obj(v, state);
	json_object_set_new(r, "bytes", json_integer((json_int_t)bytes)); /* steals */
	json_array_append_new(t->removed, r);				  /* steals */
	t->freed += bytes;
}

/* When the run was last active: ended, else started, else created. */
static long long last_active_ms(const struct wm_runview *v)
{
	long long ended = wm_runview_ended_ms(v);

	return ended ? ended : wm_runview_time_ms(v);
}

static void consider(const struct wm_cli *cli, const struct prune_opts *o, size_t index,
		     const char *id, long long now, struct tally *t)
{
	struct wm_runview v;
	struct wm_error *e = NULL;
	wm_autofree char *why = NULL;
	const char *state;

	if (o->has_keep && index < o->keep)
		return;
	if (wm_runview_load_brief(cli->state_dir, id, &v, &e) < 0) {
		add_failed(t, id, e);
		return;
	}
	if (o->has_older && now - last_active_ms(&v) < (long long)o->older_ms)
		goto out;
	state = wm_runview_state(&v);
	if (v.live)
		add_kept(t, &v, state, "live: its orchestrator holds the lock");
	else if ((why = keep_reason(id, state, o->force)))
		add_kept(t, &v, state, why);
	else if (o->dry_run)
		plan_run(cli, &v, state, t);
	else
		remove_run(cli, &v, o, t);
out:
	wm_runview_release(&v);
}

static void print_runs(json_t *arr, const char *verb, const char *key)
{
	json_t *r;
	size_t i;

	json_array_foreach(arr, i, r)
	{
		const char *name = json_string_value(json_object_get(r, "workflow"));
		json_t *bytes = json_object_get(r, "bytes");
		wm_autofree char *what =
			bytes ? wm_format_size_human((uint64_t)json_integer_value(bytes))
			      : wm_xstrdup(json_string_value(json_object_get(r, key)));

		printf("%s %s (%s, %s): %s\n", verb, json_string_value(json_object_get(r, "id")),
		       name ? name : "-", json_string_value(json_object_get(r, "state")), what);
	}
}

static void print_tally(const struct tally *t, const struct prune_opts *o, size_t n_runs)
{
	size_t removed = json_array_size(t->removed), kept = json_array_size(t->kept);
	wm_autofree char *freed = wm_format_size_human(t->freed);
	json_t *f;
	size_t i;

	print_runs(t->removed, o->dry_run ? "would remove" : "removed", "bytes");
	print_runs(t->kept, "kept", "reason");
	json_array_foreach(t->failed, i, f) fprintf(stderr, "wm: warning: run %s: %s\n",
						    json_string_value(json_object_get(f, "id")),
						    json_string_value(json_object_get(f, "error")));
	if (removed)
		printf("%s %zu run%s, %s %s%s\n", o->dry_run ? "would remove" : "removed", removed,
		       removed == 1 ? "" : "s", o->dry_run ? "freeing" : "freed", freed,
		       o->dry_run ? " (dry run: nothing was removed)" : "");
	else if (!json_array_size(t->failed))
		printf("nothing to remove (%zu run%s, %zu kept)\n", n_runs, n_runs == 1 ? "" : "s",
		       kept);
}

static int parse_opts(int argc, char **argv, struct prune_opts *o, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'k') {
			o->keep = strtoul(optarg, &end, 10);
			if (end == optarg || *end || optarg[0] == '-')
				return wm_usage_error(
					"prune", "--keep wants a number of runs, not '%s'", optarg);
			o->has_keep = true;
		} else if (opt == 'o') {
			if (wm_parse_age(optarg, &o->older_ms, err) < 0)
				return wm_error_wrap(err, "--older-than");
			o->has_older = true;
		} else if (opt == 'n' || opt == 'f' || opt == 'j') {
			*(opt == 'n' ? &o->dry_run : opt == 'f' ? &o->force : &o->json) = true;
		} else {
			return wm_bad_option("prune", argv, opt, opts);
		}
	}
	if (optind < argc)
		return wm_usage_error("prune", "unexpected argument '%s'", argv[optind]);
	if (!o->has_keep && !o->has_older)
		return wm_usage_error("prune",
				      "say which runs go: --keep N, --older-than AGE, or both");
	return 0;
}

int wm_cmd_prune(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct prune_opts o = { 0 };
	struct tally t = { json_array(), json_array(), json_array(), 0 };
	wm_autostrv char **ids = NULL;
	long long now = wm_wall_ms();
	size_t n = 0, leftovers = 0;
	int rc = parse_opts(argc, argv, &o, err);

	if (rc != 0)
		goto out;
	rc = -1;
	if ((!o.dry_run && wm_rundir_remove_leftovers(cli->state_dir, &leftovers, err) < 0) ||
	    wm_rundir_list(cli->state_dir, &ids, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		consider(cli, &o, i, ids[i], now, &t);
	if (o.json) {
		json_t *doc = json_pack("{s:b, s:O, s:O, s:O, s:I}", "dry_run", o.dry_run,
					"removed", t.removed, "kept", t.kept, "failed", t.failed,
					"freed_bytes", (json_int_t)t.freed);

		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else {
		if (leftovers)
			printf("finished removing %zu run%s an earlier prune left half removed\n",
			       leftovers, leftovers == 1 ? "" : "s");
		print_tally(&t, &o, n);
	}
	rc = WM_EXIT_OK;
	if (json_array_size(t.failed))
		rc = wm_error_set(err, 0, "%zu run%s could not be removed%s",
				  json_array_size(t.failed),
				  json_array_size(t.failed) == 1 ? "" : "s",
				  o.json ? "" : " (see the warnings above)");
out:
	json_decref(t.removed);
	json_decref(t.kept);
	json_decref(t.failed);
	return rc;
}
