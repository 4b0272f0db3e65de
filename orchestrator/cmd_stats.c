/*
 * cmd_stats.c - `wm stats [RUN_ID] [--json]`.
 *
 * One run: per task attempts, duration, peak memory and time waiting in the
 * ready queue (from the run's checkpoint and audit log), the critical path
 * through the workflow's DAG weighted by those durations, and the
 * parallelism achieved against the run's -j (computed in runstats.c).
 *
 * --trend NAME: one workflow over time (trend.h).
 *
 * No run: every run in the state directory (or those started since
 * --since), grouped by workflow and task:
 * runs, success rate, p50/p95 duration, retry rate, the most frequent
 * failure, and recommendations drawn from those numbers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "orchestrator/stats.h"
#include "orchestrator/trend.h"
#include "state/rundir.h"
#include "workflow/workflow.h"

static char *duration_of(json_t *obj, const char *key)
{
	json_int_t ms = json_integer_value(json_object_get(obj, key));
	return wm_format_duration((uint64_t)(ms < 0 ? 0 : ms));
}

/* "sla breaches: build (warn,cancel), test (warn)", when there were any. */
static void print_run_sla(json_t *s)
{
	json_t *t;
	size_t i, n = 0;

	json_array_foreach(json_object_get(s, "tasks"), i, t)
	{
		const char *l = json_string_value(json_object_get(t, "sla_breaches"));

		if (l && *l)
			printf("%s%s (%s)", n++ ? ", " : "sla breaches: ",
			       json_string_value(json_object_get(t, "task")), l);
	}
	if (n)
		putchar('\n');
}

static void print_run(json_t *s)
{
	json_t *t, *cp = json_object_get(s, "critical_path");
	wm_autofree char *cp_ms = duration_of(s, "critical_path_ms");
	wm_autofree char *wall = duration_of(s, "wall_ms");
	size_t i;

	printf("run %s (%s) %s\n\n", json_string_value(json_object_get(s, "run_id")),
	       json_string_value(json_object_get(s, "workflow")),
	       json_string_value(json_object_get(s, "state")));
	printf("%-24s %-9s %8s %10s %10s %10s\n", "TASK", "STATE", "ATTEMPTS", "DURATION",
	       "PEAK MEM", "QUEUED");
	json_array_foreach(json_object_get(s, "tasks"), i, t)
	{
		wm_autofree char *dur = wm_format_duration(
			(uint64_t)json_integer_value(json_object_get(t, "duration_ms")));
		wm_autofree char *mem = wm_format_size(
			(uint64_t)json_integer_value(json_object_get(t, "peak_memory")));
		wm_autofree char *wait = wm_format_duration(
			(uint64_t)json_integer_value(json_object_get(t, "wait_ms")));

		printf("%-24s %-9s %8lld %10s %10s %10s\n",
		       json_string_value(json_object_get(t, "task")),
		       json_string_value(json_object_get(t, "state")),
		       (long long)json_integer_value(json_object_get(t, "attempts")), dur, mem,
		       wait);
	}
	printf("\ncritical path:");
	json_array_foreach(cp, i, t) printf("%s%s", i ? " -> " : " ", json_string_value(t));
	printf(" (%s of %s wall)\n", cp_ms, wall);
	printf("parallelism: %.2f achieved of -j %lld\n",
	       json_real_value(json_object_get(s, "parallelism")),
	       (long long)json_integer_value(json_object_get(s, "max_parallel")));
	print_run_sla(s);
	if (json_integer_value(json_object_get(s, "cached")))
		printf("cached: %lld of %zu tasks reused from earlier runs\n",
		       (long long)json_integer_value(json_object_get(s, "cached")),
		       json_array_size(json_object_get(s, "tasks")));
}

static int one_run(const struct wm_cli *cli, const char *prefix, bool as_json,
		   struct wm_error **err)
{
	wm_autofree char *id = wm_rundir_resolve(cli->state_dir, prefix, err);
	struct wm_runview v = { 0 };
	json_t *s;

	if (!id || wm_runview_load(cli->state_dir, id, &v, err) < 0)
		return -1;
	if (!v.st.rs) {
		wm_error_setx(err, WM_EXIT_USAGE, "run %s: %s", id, v.load_error);
		wm_runview_release(&v);
		return -1;
	}
	s = wm_stats_run_json(&v);
	if (as_json) {
		char *text = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", text);
		free(text);
	} else {
		print_run(s);
	}
	json_decref(s);
	wm_runview_release(&v);
	return WM_EXIT_OK;
}

/* ---- history ---- */

struct group {
	char *workflow, *task, *policy;
	uint64_t *dur; /* durations of successful runs */
	size_t n_dur, alloc_dur;
	unsigned runs, succeeded, retried, memory_kills;
	unsigned sla_breached; /* runs in which it ran past an sla threshold */
	unsigned cached;       /* restored from the task cache: not runs, no duration */
	json_t *fails;	       /* failure reason -> count */
	json_t *denied;	       /* syscall -> runs in which it was denied */
	uint64_t timeout_ms;
};

struct history {
	struct group *g;
	size_t n, alloc;
	json_t *index;	   /* "workflow\ttask" -> group index: jansson's hash table */
	json_t *workflows; /* workflow names whose newest copy was read for timeouts */
	json_t *sla;	   /* workflow -> {"runs": N, "sla_breaches": runs with one} */
};

static struct group *group_for(struct history *h, const char *workflow, const char *task)
{
	wm_autofree char *key = wm_xasprintf("%s\t%s", workflow, task);
	json_t *at = json_object_get(h->index, key); /* borrowed */
	struct group *g;

	if (at)
		return &h->g[json_integer_value(at)];
	WM_GROW(h->g, h->alloc, h->n + 1);
	g = &h->g[h->n];
	memset(g, 0, sizeof(*g));
	g->workflow = wm_xstrdup(workflow);
	g->task = wm_xstrdup(task);
	g->fails = json_object();
	g->denied = json_object();
	json_object_set_new(h->index, key, json_integer((json_int_t)h->n++));
	return g;
}

static void count(json_t *map, const char *key)
{
	json_object_set_new(map, key,
			    json_integer(json_integer_value(json_object_get(map, key)) + 1));
}

/* The timeouts the newest version of a workflow sets, from its copy. */
static void read_timeouts(struct history *h, const struct wm_runview *v)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;

	json_object_set_new(h->workflows, v->st.rs->name, json_true());
	if (wm_stats_load_workflow(v->dir, &wf, &d, &err) == 0)
		for (size_t i = 0; i < wf->n_tasks; i++)
			group_for(h, v->st.rs->name, wf->tasks[i].id)->timeout_ms =
				wf->tasks[i].timeout_ms;
	wm_error_free(err);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

static void add_task(struct group *g, const struct wm_task_state *t)
{
	if (t->state == WM_TASK_CACHED) {
		g->cached++;
		return;
	}
	g->runs++;
	if (!g->policy && t->policy)
		g->policy = wm_xstrdup(t->policy);
	if (t->attempts > 1)
		g->retried++;
	if (t->limit && strcmp(t->limit, "memory") == 0)
		g->memory_kills++;
	for (size_t k = 0; k < t->n_denied; k++)
		count(g->denied, t->denied[k]);
	if (t->state == WM_TASK_SUCCEEDED) {
		g->succeeded++;
		WM_GROW(g->dur, g->alloc_dur, g->n_dur + 1);
		g->dur[g->n_dur++] =
			t->ended_ms > t->started_ms ? (uint64_t)(t->ended_ms - t->started_ms) : 0;
	}
	for (size_t k = t->n_decisions; t->state == WM_TASK_FAILED && k-- > 0;) {
		if (strcmp(t->decisions[k].what, "fail") == 0) {
			/* The cause, without the retry bookkeeping after ';'. */
			wm_autofree char *why =
				wm_xstrndup(t->decisions[k].why, strcspn(t->decisions[k].why, ";"));
			count(g->fails, why);
			break;
		}
	}
}

/* Breaches of the run's tasks' sla thresholds, from its audit log, per
 * task and for its workflow. */
static void add_run_sla(struct history *h, const struct wm_runview *v)
{
	const struct wm_run_state *rs = v->st.rs;
	unsigned *levels = wm_xcalloc(rs->n_tasks + 1, sizeof(*levels));
	json_t *w = json_object_get(h->sla, rs->name);
	bool any = false;

	wm_stats_sla(v->dir, rs, levels);
	for (size_t i = 0; i < rs->n_tasks; i++) {
		if (levels[i])
			group_for(h, rs->name, rs->tasks[i].id)->sla_breached++;
		any = any || levels[i];
	}
	if (!w) {
		w = json_pack("{s:i, s:i}", "runs", 0, "sla_breaches", 0);
		json_object_set_new(h->sla, rs->name, w);
	}
	count(w, "runs");
	if (any)
		count(w, "sla_breaches");
	free(levels);
}

static void add_run(struct history *h, const struct wm_runview *v)
{
	const struct wm_run_state *rs = v->st.rs;

	if (!rs || !rs->name)
		return;
	if (!json_object_get(h->workflows, rs->name))
		read_timeouts(h, v);
	for (size_t i = 0; i < rs->n_tasks; i++)
		if (rs->tasks[i].attempts > 0 || rs->tasks[i].state == WM_TASK_CACHED)
			add_task(group_for(h, rs->name, rs->tasks[i].id), &rs->tasks[i]);
	add_run_sla(h, v);
}

static const char *top_failure(json_t *fails)
{
	const char *key, *best = NULL;
	json_int_t most = 0;
	json_t *v;

	json_object_foreach(fails, key, v)
	{
		if (json_integer_value(v) > most) {
			most = json_integer_value(v);
			best = key;
		}
	}
	return best;
}

/* Advice with the numbers behind it; appended to `recs`. */
static void recommend(const struct group *g, uint64_t p95, json_t *recs)
{
	const char *sys;
	json_t *n;

	if (g->timeout_ms && g->n_dur && p95 * 10 >= g->timeout_ms * 8)
		json_array_append_new(
			recs,
			json_sprintf(
				"%s/%s: p95 duration %llums is %llu%% of its %llums timeout over "
				"%zu successful runs: raise the timeout or speed the task up",
				g->workflow, g->task, (unsigned long long)p95,
				(unsigned long long)(p95 * 100 / g->timeout_ms),
				(unsigned long long)g->timeout_ms, g->n_dur));
	if (g->runs && g->retried && g->succeeded && g->retried * 5 >= g->runs)
		json_array_append_new(
			recs,
			json_sprintf("%s/%s is flaky: it needed retries in %u of %u runs (%u%%)",
				     g->workflow, g->task, g->retried, g->runs,
				     g->retried * 100 / g->runs));
	if (g->memory_kills)
		json_array_append_new(recs,
				      json_sprintf("%s/%s was killed by its memory limit in %u of "
						   "%u runs: raise limits.memory of policy '%s'",
						   g->workflow, g->task, g->memory_kills, g->runs,
						   g->policy ? g->policy : "?"));
	json_object_foreach(g->denied, sys, n)
	{
		if (g->runs >= 2 && json_integer_value(n) == (json_int_t)g->runs)
			json_array_append_new(
				recs, json_sprintf("policy '%s' denied %s to %s/%s in all %u runs: "
						   "allow it in a tuned policy or change the task",
						   g->policy ? g->policy : "?", sys, g->workflow,
						   g->task, g->runs));
	}
}

static json_t *history_json(struct history *h)
{
	json_t *out = json_object(), *groups = json_array(), *recs = json_array();

	for (size_t i = 0; i < h->n; i++) {
		struct group *g = &h->g[i];
		uint64_t p50, p95;
		const char *top = top_failure(g->fails);

		if (!g->runs && !g->cached)
			continue;
		p50 = wm_percentile(g->dur, g->n_dur, 50);
		p95 = wm_percentile(g->dur, g->n_dur, 95);
		json_array_append_new(
			groups, json_pack("{s:s, s:s, s:i, s:i, s:f, s:I, s:I, s:f, s:o}",
					  "workflow", g->workflow, "task", g->task, "runs",
					  (int)g->runs, "cached", (int)g->cached, "success_rate",
					  g->runs ? (double)g->succeeded / g->runs : 1.0, "p50_ms",
					  (json_int_t)p50, "p95_ms", (json_int_t)p95, "retry_rate",
					  g->runs ? (double)g->retried / g->runs : 0.0,
					  "top_failure", top ? json_string(top) : json_null()));
		json_object_set_new(json_array_get(groups, json_array_size(groups) - 1),
				    "sla_breaches", json_integer(g->sla_breached));
		recommend(g, p95, recs);
	}
	json_object_set_new(out, "tasks", groups);
	json_object_set(out, "workflows", h->sla);
	json_object_set_new(out, "recommendations", recs);
	return out;
}

/* Which tasks and workflows ran past an sla, in how many runs. */
static void print_history_sla(json_t *s)
{
	const char *name;
	json_t *t, *w;
	size_t i;

	json_object_foreach(json_object_get(s, "workflows"), name, w)
	{
		json_int_t n = json_integer_value(json_object_get(w, "sla_breaches"));

		if (!n)
			continue;
		printf("\nsla breaches in %s: %lld of %lld runs (", name, (long long)n,
		       (long long)json_integer_value(json_object_get(w, "runs")));
		n = 0;
		json_array_foreach(json_object_get(s, "tasks"), i, t)
		{
			json_int_t k = json_integer_value(json_object_get(t, "sla_breaches"));

			if (k &&
			    strcmp(json_string_value(json_object_get(t, "workflow")), name) == 0)
				printf("%s%s in %lld", n++ ? ", " : "",
				       json_string_value(json_object_get(t, "task")), (long long)k);
		}
		printf(")\n");
	}
}

static void print_history(json_t *s)
{
	json_t *t;
	size_t i;

	printf("%-16s %-20s %5s %7s %9s %9s %7s  %s\n", "WORKFLOW", "TASK", "RUNS", "SUCCESS",
	       "P50", "P95", "RETRIED", "MOST FREQUENT FAILURE");
	json_array_foreach(json_object_get(s, "tasks"), i, t)
	{
		wm_autofree char *p50 = wm_format_duration(
			(uint64_t)json_integer_value(json_object_get(t, "p50_ms")));
		wm_autofree char *p95 = wm_format_duration(
			(uint64_t)json_integer_value(json_object_get(t, "p95_ms")));
		const char *top = json_string_value(json_object_get(t, "top_failure"));

		printf("%-16s %-20s %5lld %6.0f%% %9s %9s %6.0f%%  %s\n",
		       json_string_value(json_object_get(t, "workflow")),
		       json_string_value(json_object_get(t, "task")),
		       (long long)json_integer_value(json_object_get(t, "runs")),
		       100 * json_real_value(json_object_get(t, "success_rate")), p50, p95,
		       100 * json_real_value(json_object_get(t, "retry_rate")), top ? top : "-");
	}
	print_history_sla(s);
	if (json_array_size(json_object_get(s, "recommendations")))
		printf("\nRecommendations:\n");
	json_array_foreach(json_object_get(s, "recommendations"), i, t)
		printf("  - %s\n", json_string_value(t));
}

json_t *wm_stats_history_json(const char *state_dir, long long since_ms, struct wm_error **err)
{
	struct history h = { .index = json_object(),
			     .workflows = json_object(),
			     .sla = json_object() };
	wm_autostrv char **ids = NULL;
	json_t *s = NULL;
	size_t n = 0;

	if (wm_rundir_list(state_dir, &ids, &n, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct wm_runview v = { 0 };

		if (wm_runview_load(state_dir, ids[i], &v, NULL) == 0 &&
		    wm_runview_time_ms(&v) >= since_ms)
			add_run(&h, &v);
		wm_runview_release(&v);
	}
	s = history_json(&h);
fail:
	for (size_t i = 0; i < h.n; i++) {
		free(h.g[i].workflow);
		free(h.g[i].task);
		free(h.g[i].policy);
		free(h.g[i].dur);
		json_decref(h.g[i].fails);
		json_decref(h.g[i].denied);
	}
	free(h.g);
	json_decref(h.index);
	json_decref(h.workflows);
	json_decref(h.sla);
	return s;
}

/* since_ms: only runs started then or later (0: all). */
static int all_runs(const struct wm_cli *cli, bool as_json, long long since_ms,
		    struct wm_error **err)
{
	json_t *s = wm_stats_history_json(cli->state_dir, since_ms, err);

	if (!s)
		return -1;
	if (as_json) {
		char *text = json_dumps(s, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", text);
		free(text);
	} else {
		print_history(s);
	}
	json_decref(s);
	return WM_EXIT_OK;
}

static int trend_opts(const struct wm_cli *cli, const char *name, const char *by, bool other,
		      bool as_json, struct wm_error **err)
{
	if (!name)
		return wm_usage_error("stats", "--by is for --trend NAME");
	if (other)
		return wm_usage_error("stats", "--trend NAME is one workflow's history: not with "
					       "RUN_ID or --since");
	if (by && strcmp(by, "day") != 0 && strcmp(by, "week") != 0)
		return wm_usage_error("stats", "--by is day or week, not '%s'", by);
	return wm_stats_trend(cli, name,
			      by && strcmp(by, "week") == 0 ? WM_TREND_WEEK : WM_TREND_DAY, as_json,
			      err) < 0
		       ? -1
		       : WM_EXIT_OK;
}

int wm_cmd_stats(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "since", required_argument, NULL, 'S' },
		{ "trend", required_argument, NULL, 'T' },
		{ "by", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	const char *trend = NULL, *by = NULL;
	bool as_json = false, since = false;
	long long since_ms = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'J') {
			as_json = true;
		} else if (opt == 'S') {
			if (wm_parse_since(optarg, wm_wall_ms(), &since_ms, err) < 0)
				return wm_error_wrap(err, "--since");
			since = true;
		} else if (opt == 'T' || opt == 'B') {
			*(opt == 'T' ? &trend : &by) = optarg;
		} else {
			return wm_bad_option("stats", argv, opt, opts);
		}
	}
	if (argc - optind > 1)
		return wm_usage_error("stats", "at most one RUN_ID");
	if (optind < argc && since)
		return wm_usage_error("stats",
				      "--since picks runs of the history: not with RUN_ID");
	if (trend || by)
		return trend_opts(cli, trend, by, since || optind < argc, as_json, err);
	if (optind < argc)
		return one_run(cli, argv[optind], as_json, err);
	return all_runs(cli, as_json, since_ms, err);
}
