/*
 * cmd_schedule.c - `wm schedule`:
 *   next FILE [-n N] [--after TIME]  the next fire times of a workflow's
 *       `schedule:`, in its time zone, so that a schedule can be checked
 *       before anything runs it (DST days included);
 *   list [--json]  what `wm serve --workflows DIR` schedules (from the
 *       state directory, schedstate.h): next fire, last fire and run, state;
 *   pause NAME, resume NAME  stop and restart a schedule's fires.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runner.h"
#include "orchestrator/schedstate.h"
#include "state/rundir.h"
#include "orchestrator/wallclock.h"

struct next_opts {
	const char *file;
	unsigned n;
	long long after; /* 0: now */
};

static int parse_next(int argc, char **argv, struct next_opts *o, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "after", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	o->n = 5;
	optind = 0; /* a fresh scan, from argv[1] */
	while ((opt = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		if (opt == 'n') {
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 1000)
				return wm_usage_error("schedule", "-n wants 1 to 1000, not '%s'",
						      optarg);
			o->n = (unsigned)v;
		} else if (opt == 'a') {
			if (wm_parse_utc_time(optarg, &o->after, err) < 0)
				return wm_error_wrapx(err, WM_EXIT_USAGE, "--after");
		} else {
			return wm_bad_option("schedule", argv, opt, opts);
		}
	}
	if (optind + 1 != argc)
		return wm_usage_error("schedule", "next wants one workflow FILE");
	o->file = argv[optind];
	return 0;
}

static int print_next(const struct wm_workflow *wf, const struct next_opts *o,
		      struct wm_error **err)
{
	const struct wm_sched_spec *sp = &wf->sched;
	long long t = o->after ? o->after : wm_wallclock_now();
	char when[64];

	if (!sp->expr)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s has no `schedule:` in its front matter", o->file);
	for (unsigned i = 0; i < o->n; i++) {
		uint64_t j;

		t = wm_schedule_next(&sp->when, t, 0, sp->timezone, err);
		if (t < 0)
			return -1;
		wm_schedule_format(t, sp->timezone, when, sizeof(when));
		j = wm_wallclock_jitter(wf->name, t, sp->jitter_ms);
		if (j)
			printf("%s  (+%llu.%03llus jitter)\n", when, (unsigned long long)(j / 1000),
			       (unsigned long long)(j % 1000));
		else
			printf("%s\n", when);
	}
	return WM_EXIT_OK;
}

static int cmd_next(int argc, char **argv, struct wm_error **err)
{
	struct next_opts o = { 0 };
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	int rc = parse_next(argc, argv, &o, err);

	if (rc != 0)
		return rc;
	if (wm_wallclock_init(err) < 0)
		return -1;
	rc = wm_workflow_load(o.file, &wf, &d, err);
	if (rc == 0)
		rc = wm_check_zone(wf, &d);
	wm_diags_sort(&d);
	wm_diags_print(&d, stderr);
	if (rc == 0)
		rc = print_next(wf, &o, err);
	else if (d.n_errors)
		rc = wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu error%s", o.file, d.n_errors,
				   d.n_errors == 1 ? "" : "s");
	wm_workflow_free(wf);
	wm_diags_release(&d);
	return rc;
}

/* A time field of a schedule record, "2026-03-08T07:00:00.000Z" or "-". */
static char *time_of(json_t *rec, const char *key)
{
	json_int_t ms = json_integer_value(json_object_get(rec, key));

	return ms > 0 ? wm_state_format_time(ms) : wm_xstrdup("-");
}

static const char *state_of(json_t *rec)
{
	if (json_string_value(json_object_get(rec, "error")))
		return "error";
	if (json_is_true(json_object_get(rec, "paused")))
		return "paused";
	return json_integer_value(json_object_get(rec, "last_exit")) == -1 &&
			       json_integer_value(json_object_get(rec, "last_started")) > 0
		       ? "running"
		       : "active";
}

static void print_row(json_t *rec)
{
	wm_autofree char *next = time_of(rec, "next_fire");
	wm_autofree char *last = time_of(rec, "last_fire");
	json_int_t code = json_integer_value(json_object_get(rec, "last_exit"));
	const char *error = json_string_value(json_object_get(rec, "error"));
	const char *expr = json_string_value(json_object_get(rec, "schedule"));
	char exit_text[24] = "-";

	if (code >= 0 && json_integer_value(json_object_get(rec, "last_started")) > 0)
		snprintf(exit_text, sizeof(exit_text), "%lld", (long long)code);
	printf("%-20s %-8s %-24s %-24s %-5s %s%s%s\n",
	       json_string_value(json_object_get(rec, "name")), state_of(rec), next, last,
	       exit_text, expr ? expr : "-", error ? "  " : "", error ? error : "");
}

static void print_list(json_t *list)
{
	json_t *rec;
	size_t i;

	printf("%-20s %-8s %-24s %-24s %-5s %s\n", "NAME", "STATE", "NEXT FIRE", "LAST FIRE",
	       "EXIT", "SCHEDULE");
	json_array_foreach(list, i, rec) print_row(rec);
}

static int cmd_list(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	json_t *list;

	if (argc > 2 || (argc == 2 && !json))
		return wm_usage_error("schedule", "list takes only --json");
	list = wm_schedstate_list(cli->state_dir, err);
	if (!list)
		return -1;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *rec = json_array_get(list, i);
		json_object_set_new(rec, "state", json_string(state_of(rec)));
	}
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		print_list(list);
	}
	json_decref(list);
	return WM_EXIT_OK;
}

int wm_cmd_schedule(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	bool pause;

	if (argc < 2)
		return wm_usage_error("schedule", "missing subcommand (next, list, pause, resume)");
	if (strcmp(argv[1], "next") == 0)
		return cmd_next(argc - 1, argv + 1, err);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1, cli, err);
	pause = strcmp(argv[1], "pause") == 0;
	if (!pause && strcmp(argv[1], "resume") != 0)
		return wm_usage_error(
			"schedule", "unknown subcommand '%s' (next, list, pause, resume)", argv[1]);
	if (argc != 3)
		return wm_usage_error("schedule", "%s wants one schedule NAME", argv[1]);
	if (wm_schedstate_pause(cli->state_dir, argv[2], pause, err) < 0)
		return -1;
	printf("schedule %s %s\n", argv[2], pause ? "paused" : "resumed");
	return WM_EXIT_OK;
}
