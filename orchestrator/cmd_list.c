/*
 * cmd_list.c - `wm list` and `wm orphans`: runs, newest first, filtered by
 * state, workflow name and time, in columns that fit the terminal.
 *
 * The TASKS column keeps states apart: "2/4 ok, 1 failed, 1 cancelled"
 * (succeeded of all, then every other state that has tasks but pending),
 * so an interrupted run never reads as finished. Only WORKFLOW shrinks
 * (with an ellipsis) to fit the width; when even that is not enough the
 * STARTED column goes, then rows are left to wrap.
 */
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/rundir.h"

#define MIN_WORKFLOW 8 /* columns WORKFLOW keeps before STARTED is dropped */

enum col { COL_ID, COL_STATE, COL_STARTED, COL_WORKFLOW, COL_TASKS, N_COLS };
static const char *const headers[N_COLS] = { "ID", "STATE", "STARTED", "WORKFLOW", "TASKS" };

struct list_opts {
	bool json, quiet, orphans_only, has_since;
	char **states; /* NULL: any */
	size_t n_states;
	const char *name; /* a glob, NULL: any */
	long long since_ms;
};

struct row {
	char *cell[N_COLS];
	char *note; /* "(2 cluster jobs still running)", or NULL */
};

struct table {
	struct row *v;
	size_t n, alloc;
};

/* "4/6 ok, 1 failed, 1 skipped": succeeded of all, then the other states. */
static char *tasks_text(const struct wm_runview *v)
{
	size_t c[WM_TASK_STATUS_COUNT], total;
	struct wm_buf b = WM_BUF_INIT;

	wm_runview_counts(v, c, &total);
	if (!v->from_summary && !v->st.rs)
		return wm_xstrdup("-");
	/* Cached tasks are ok too; how many of them were is said after. */
	wm_buf_addf(&b, "%zu/%zu ok", c[WM_TASK_SUCCEEDED] + c[WM_TASK_CACHED], total);
	for (int s = 0; s < WM_TASK_STATUS_COUNT; s++)
		if (s != WM_TASK_PENDING && s != WM_TASK_SUCCEEDED && c[s])
			wm_buf_addf(&b, ", %zu %s", c[s],
				    wm_task_status_name((enum wm_task_status)s));
	return wm_buf_detach(&b, NULL);
}

/* "2026-11-22 08:15" (UTC, as every time wm shows), "-" when not started. */
static char *short_time(long long ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (ms <= 0 || !gmtime_r(&secs, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm))
		return wm_xstrdup("-");
	return wm_xstrdup(buf);
}

static void add_row(struct table *t, const struct wm_runview *v)
{
	const char *name = wm_runview_name(v);
	long jobs = v->orphan ? wm_runview_cluster_jobs(v) : -1;
	struct row *r;

	WM_GROW(t->v, t->alloc, t->n + 1);
	r = &t->v[t->n++];
	r->cell[COL_ID] = wm_xstrdup(v->id);
	r->cell[COL_STATE] = wm_xstrdup(wm_runview_state(v));
	r->cell[COL_STARTED] = short_time(wm_runview_started_ms(v));
	r->cell[COL_WORKFLOW] = wm_xstrdup(name ? name : "-");
	r->cell[COL_TASKS] = tasks_text(v);
	r->note = jobs > 0 ? wm_xasprintf("(%ld cluster job%s still running)", jobs,
					  jobs == 1 ? "" : "s")
			   : NULL;
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (int c = 0; c < N_COLS; c++)
			free(t->v[i].cell[c]);
		free(t->v[i].note);
	}
	free(t->v);
}

/* The width to fit: $COLUMNS when set, else the terminal's; 0: no limit. */
static size_t output_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;

	if (env && *env) {
		long v = strtol(env, &end, 10);

		if (!*end && v > 0)
			return (size_t)v;
	}
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* Column widths from the content, then shrunk to fit `limit` (0: none);
 * a column of width 0 is not shown. */
static void fit(const struct table *t, size_t limit, size_t w[N_COLS])
{
	size_t total = 0;

	for (int c = 0; c < N_COLS; c++) {
		w[c] = strlen(headers[c]);
		for (size_t i = 0; i < t->n; i++)
			if (wm_str_columns(t->v[i].cell[c]) > w[c])
				w[c] = wm_str_columns(t->v[i].cell[c]);
		total += w[c] + (c ? 2 : 0);
	}
	if (!limit || total <= limit)
		return;
	if (total - w[COL_WORKFLOW] + MIN_WORKFLOW > limit) {
		total -= w[COL_STARTED] + 2; /* drop STARTED first */
		w[COL_STARTED] = 0;
	}
	if (total > limit) {
		size_t rest = total - w[COL_WORKFLOW];
		size_t room = limit > rest ? limit - rest : 0;

		w[COL_WORKFLOW] = room > strlen("WORKFLOW") ? room : strlen("WORKFLOW");
	}
}

static void print_cells(const char *const cell[N_COLS], const size_t w[N_COLS], const char *note)
{
	struct wm_buf b = WM_BUF_INIT;

	for (int c = 0; c < N_COLS; c++) {
		wm_autofree char *text = NULL;

		if (!w[c])
			continue;
		text = wm_str_ellipsize(cell[c], w[c]);
		if (b.len)
			wm_buf_addstr(&b, "  ");
		wm_buf_addstr(&b, text);
		/* The last column is not padded: no trailing blanks. */
		if (c + 1 < N_COLS)
			for (size_t k = wm_str_columns(text); k < w[c]; k++)
				wm_buf_addch(&b, ' ');
	}
	while (b.len && b.data[b.len - 1] == ' ')
		wm_buf_setlen(&b, b.len - 1);
	printf("%s%s%s\n", b.data, note ? "  " : "", note ? note : "");
	wm_buf_release(&b);
}

static void print_table(const struct table *t)
{
	size_t w[N_COLS];

	fit(t, output_width(), w);
	print_cells(headers, w, NULL);
	for (size_t i = 0; i < t->n; i++)
		print_cells((const char *const *)t->v[i].cell, w, t->v[i].note);
}

static bool wanted(const struct wm_runview *v, const struct list_opts *o)
{
	const char *name = wm_runview_name(v);

	if (o->orphans_only && !v->orphan)
		return false;
	if (o->states && !wm_strv_contains(o->states, wm_runview_state(v)))
		return false;
	if (o->name && (!name || fnmatch(o->name, name, 0) != 0))
		return false;
	return !o->has_since || wm_runview_time_ms(v) >= o->since_ms;
}

/* --state NAME[,NAME]...: every name one wm_runview_state gives. */
static int add_states(const char *cmd, struct list_opts *o, const char *arg)
{
	wm_autofree char *copy = wm_xstrdup(arg);
	size_t n = 0;
	const char *const *known = wm_runview_state_names(&n);
	char *save = NULL;

	for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (!wm_strv_contains((char *const *)known, s)) {
			const char *hint = wm_suggest(s, known, n);
			struct wm_buf all = WM_BUF_INIT;
			int rc;

			for (size_t i = 0; i < n; i++)
				wm_buf_addf(&all, "%s%s", i ? ", " : "", known[i]);
			rc = wm_usage_error(cmd, "unknown run state '%s'%s%s%s (one of: %s)", s,
					    hint ? " (did you mean '" : "", hint ? hint : "",
					    hint ? "'?)" : "", all.data);
			wm_buf_release(&all);
			return rc;
		}
		wm_strv_push(&o->states, &o->n_states, s);
	}
	return 0;
}

static int parse_opts(const char *cmd, int argc, char **argv, struct list_opts *o,
		      struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	   { "quiet", no_argument, NULL, 'q' },
		{ "state", required_argument, NULL, 's' }, { "name", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 },
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
		if (opt == 'j') {
			o->json = true;
		} else if (opt == 'q') {
			o->quiet = true;
		} else if (opt == 's') {
			if (o->orphans_only)
				return wm_usage_error(cmd, "--state is for wm list (orphans "
							   "are the runs in state orphaned)");
			if ((rc = add_states(cmd, o, optarg)) != 0)
				return rc;
		} else if (opt == 'n') {
			o->name = optarg;
		} else if (opt == 'S') {
			if (wm_parse_since(optarg, wm_wall_ms(), &o->since_ms, err) < 0)
				return wm_error_wrap(err, "--since");
			o->has_since = true;
		} else {
			return wm_bad_option(cmd, argv, opt, opts);
		}
	}
	if (optind < argc)
		return wm_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (o->json && o->quiet)
		return wm_usage_error(cmd, "-q and --json do not go together");
	return 0;
}

/* What to say when nothing is shown. */
static void print_empty(const struct wm_cli *cli, const struct list_opts *o, size_t n_runs)
{
	if (o->quiet)
		return;
	if (o->orphans_only && !o->states && !o->name && !o->has_since)
		printf("no orphaned runs\n");
	else if (!n_runs)
		printf("no runs yet in %s: start one with wm run FILE\n", cli->state_dir);
	else
		printf("no runs match (%zu run%s in %s)\n", n_runs, n_runs == 1 ? "" : "s",
		       cli->state_dir);
}

static int list_runs(const char *cmd, int argc, char **argv, const struct wm_cli *cli,
		     bool orphans_only, struct wm_error **err)
{
	struct list_opts o = { .orphans_only = orphans_only };
	wm_autostrv char **ids = NULL;
	struct table t = { 0 };
	json_t *arr = json_array();
	size_t n = 0;
	int rc = parse_opts(cmd, argc, argv, &o, err);

	if (rc != 0)
		goto out;
	rc = -1;
	if (wm_rundir_list(cli->state_dir, &ids, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct wm_runview v;

		if (wm_runview_load_brief(cli->state_dir, ids[i], &v, NULL) < 0)
			continue;
		if (wanted(&v, &o)) {
			if (o.quiet)
				printf("%s\n", v.id);
			else if (o.json)
				json_array_append_new(arr, wm_runview_list_json(&v)); /* steals */
			else
				add_row(&t, &v);
		}
		wm_runview_release(&v);
	}
	if (o.json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	} else if (t.n) {
		print_table(&t);
	} else if (!o.quiet) {
		print_empty(cli, &o, n);
	}
	rc = WM_EXIT_OK;
out:
	json_decref(arr);
	table_release(&t);
	wm_strv_free(o.states);
	return rc;
}

int wm_cmd_list(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	return list_runs("list", argc, argv, cli, false, err);
}

int wm_cmd_orphans(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	return list_runs("orphans", argc, argv, cli, true, err);
}
