/*
 * cmd_schedule.c - `wm schedule next FILE [-n N] [--after TIME]`: the next
 * fire times of a workflow's `schedule:`, in its time zone, so that a
 * schedule can be checked before anything runs it (DST days included).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/when.h"
#include "orchestrator/cli.h"
#include "orchestrator/runner.h"
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

int wm_cmd_schedule(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	(void)cli;
	if (argc < 2)
		return wm_usage_error("schedule", "missing subcommand (next)");
	if (strcmp(argv[1], "next") == 0)
		return cmd_next(argc - 1, argv + 1, err);
	return wm_usage_error("schedule", "unknown subcommand '%s' (next)", argv[1]);
}
