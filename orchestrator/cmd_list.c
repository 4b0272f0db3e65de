/*
 * cmd_list.c - `wm list` and `wm orphans`: runs, newest first.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/rundir.h"

static json_t *run_json(const struct wm_runview *v)
{
	const char *name = wm_runview_name(v);
	long long started = wm_runview_started_ms(v);
	size_t done, total;
	json_t *o;

	wm_runview_progress(v, &done, &total);
	o = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I}", "id", v->id, "state", wm_runview_state(v),
		      "orphaned", v->orphan, "live", v->live, "done", (json_int_t)done, "total",
		      (json_int_t)total);
	/* json_object_set_new steals the new values below. */
	json_object_set_new(o, "workflow", name ? json_string(name) : json_null());
	if (started) {
		wm_autofree char *t = wm_state_format_time(started);

		json_object_set_new(o, "started", json_string(t));
	} else {
		json_object_set_new(o, "started", json_null());
	}
	if (v->load_error)
		json_object_set_new(o, "error", json_string(v->load_error));
	if (v->orphan)
		json_object_set_new(o, "cluster_jobs", json_integer(wm_runview_cluster_jobs(v)));
	return o;
}

static void print_row(const struct wm_runview *v)
{
	const char *name = wm_runview_name(v);
	long long ms = wm_runview_started_ms(v);
	wm_autofree char *started = NULL;
	wm_autofree char *prog = NULL;
	long jobs = v->orphan ? wm_runview_cluster_jobs(v) : -1;
	size_t done, total;

	wm_runview_progress(v, &done, &total);
	prog = wm_xasprintf("%zu/%zu", done, total);
	started = ms ? wm_state_format_time(ms) : wm_xstrdup("-");
	printf("%-20s  %-11s  %-20s  %9s  %s", v->id, wm_runview_state(v), name ? name : "-", prog,
	       started);
	if (jobs > 0)
		printf("  (%ld cluster job%s still running)", jobs, jobs == 1 ? "" : "s");
	putchar('\n');
}

static int list_runs(const char *cmd, int argc, char **argv, const struct wm_cli *cli,
		     bool orphans_only, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	wm_autostrv char **ids = NULL;
	size_t n = 0, shown = 0;
	json_t *arr = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'j')
			return wm_bad_option(cmd, argv, opt, opts);
		json = true;
	}
	if (optind < argc)
		return wm_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (wm_rundir_list(cli->state_dir, &ids, &n, err) < 0)
		return -1;
	if (json)
		arr = json_array();
	else if (n)
		printf("%-20s  %-11s  %-20s  %9s  %s\n", "ID", "STATE", "WORKFLOW", "DONE",
		       "STARTED");
	for (size_t i = 0; i < n; i++) {
		struct wm_runview v;

		if (wm_runview_load_brief(cli->state_dir, ids[i], &v, NULL) < 0)
			continue;
		if (!orphans_only || v.orphan) {
			shown++;
			if (json)
				json_array_append_new(arr, run_json(&v)); /* steals */
			else
				print_row(&v);
		}
		wm_runview_release(&v);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (orphans_only && !shown) {
		printf("no orphaned runs\n");
	}
	return WM_EXIT_OK;
}

int wm_cmd_list(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	return list_runs("list", argc, argv, cli, false, err);
}

int wm_cmd_orphans(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	return list_runs("orphans", argc, argv, cli, true, err);
}
