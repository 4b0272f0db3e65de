/*
 * ab.c - the comparison of two sides of `wm ab` (ab.h): numbers from
 * common/stattest.h, a verdict that claims nothing the data cannot carry.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/stattest.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/ab.h"

static struct wm_ab_series *series_for(struct wm_ab_side *s, const char *task)
{
	struct wm_ab_series *t;

	for (size_t i = 0; i < s->n_tasks; i++)
		if (strcmp(s->tasks[i].task, task) == 0)
			return &s->tasks[i];
	WM_GROW(s->tasks, s->alloc_tasks, s->n_tasks + 1);
	t = &s->tasks[s->n_tasks++];
	memset(t, 0, sizeof(*t));
	t->task = wm_xstrdup(task);
	return t;
}

static double span_ms(long long start, long long end)
{
	return end > start ? (double)(end - start) : 0;
}

bool wm_ab_side_add(struct wm_ab_side *s, const struct wm_run_state *rs)
{
	size_t n = s->n_runs;

	if (rs->state != WM_RUN_SUCCEEDED && rs->state != WM_RUN_FAILED)
		return false;
	wm_strv_push(&s->run_ids, &n, rs->run_id);
	s->n_runs++;
	if (rs->state == WM_RUN_SUCCEEDED) {
		WM_GROW(s->wall_ms, s->alloc_wall, s->succeeded + 1);
		s->wall_ms[s->succeeded++] = span_ms(rs->started_ms, rs->ended_ms);
	}
	for (size_t i = 0; i < rs->n_tasks; i++) {
		const struct wm_task_state *t = &rs->tasks[i];
		struct wm_ab_series *ser;

		/* Kept or cached tasks did not run here: their times are not this run's. */
		if (t->state != WM_TASK_SUCCEEDED || t->kept)
			continue;
		ser = series_for(s, t->id);
		WM_GROW(ser->ms, ser->alloc, ser->n + 1);
		ser->ms[ser->n++] = span_ms(t->started_ms, t->ended_ms);
	}
	return true;
}

void wm_ab_side_release(struct wm_ab_side *s)
{
	for (size_t i = 0; i < s->n_tasks; i++) {
		free(s->tasks[i].task);
		free(s->tasks[i].ms);
	}
	free(s->tasks);
	free(s->wall_ms);
	free(s->label);
	wm_strv_free(s->run_ids);
	memset(s, 0, sizeof(*s));
}

/* The quantiles sort: they get a copy. */
static double *copy_of(const double *v, size_t n)
{
	double *c = wm_xcalloc(n + 1, sizeof(*c));

	memcpy(c, v, n * sizeof(*v));
	return c;
}

static json_t *ms(double v)
{
	return json_integer((json_int_t)wm_stat_round(v));
}

/* {"n", "p50_ms", "p95_ms", "mean_ms"}; the quantiles of a copy. */
static json_t *summary(const double *v, size_t n)
{
	wm_autofree double *copy = NULL;

	if (!n)
		return json_pack("{s:i, s:n, s:n, s:n}", "n", 0, "p50_ms", "p95_ms", "mean_ms");
	copy = copy_of(v, n);
	return json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)n, "p50_ms",
			 ms(wm_stat_quantile(copy, n, 0.5)), "p95_ms",
			 ms(wm_stat_quantile(copy, n, 0.95)), "mean_ms", ms(wm_stat_mean(v, n)));
}

static json_t *side_json(const struct wm_ab_side *s)
{
	struct wm_interval ci = wm_stat_wilson(s->succeeded, s->n_runs);
	json_t *runs = json_array();

	for (size_t i = 0; i < s->n_runs; i++)
		json_array_append_new(runs, json_string(s->run_ids[i]));
	return json_pack("{s:s, s:o, s:I, s:I, s:f, s:[f, f], s:o}", "label", s->label, "runs",
			 runs, "n_runs", (json_int_t)s->n_runs, "succeeded",
			 (json_int_t)s->succeeded, "success_rate",
			 s->n_runs ? (double)s->succeeded / (double)s->n_runs : 0.0, "success_ci",
			 ci.lo, ci.hi, "wall", summary(s->wall_ms, s->succeeded));
}

/* The test of two samples of times: {"u", "p", "exact", "faster", "by"}.
 * "faster" ("a" or "b") and "by" (the share of the slower one's median
 * saved) only when p < alpha with enough values on each side. */
static json_t *compare_times(const double *a, size_t na, const double *b, size_t nb)
{
	wm_autofree double *ca = NULL, *cb = NULL;
	struct wm_mwu r;
	double ma, mb;
	json_t *o;

	if (wm_stat_mann_whitney(a, na, b, nb, &r) < 0)
		return json_null();
	o = json_pack("{s:f, s:f, s:b, s:n, s:n}", "u", r.u, "p", r.p, "exact", r.exact, "faster",
		      "by");
	if (r.p >= WM_STAT_ALPHA || na < WM_AB_MIN_RUNS || nb < WM_AB_MIN_RUNS)
		return o;
	ca = copy_of(a, na);
	cb = copy_of(b, nb);
	ma = wm_stat_quantile(ca, na, 0.5);
	mb = wm_stat_quantile(cb, nb, 0.5);
	if (ma == mb)
		return o;
	json_object_set_new(o, "faster", json_string(ma < mb ? "a" : "b"));
	json_object_set_new(o, "by", json_real(fabs(ma - mb) / wm_stat_max(ma, mb)));
	return o;
}

static json_t *compare_success(const struct wm_ab_side *a, const struct wm_ab_side *b)
{
	double p = wm_stat_fisher((unsigned)a->succeeded, (unsigned)(a->n_runs - a->succeeded),
				  (unsigned)b->succeeded, (unsigned)(b->n_runs - b->succeeded));
	double ra = a->n_runs ? (double)a->succeeded / (double)a->n_runs : 0;
	double rb = b->n_runs ? (double)b->succeeded / (double)b->n_runs : 0;
	bool claim = p < WM_STAT_ALPHA && a->n_runs >= WM_AB_MIN_RUNS &&
		     b->n_runs >= WM_AB_MIN_RUNS && ra != rb;

	return json_pack("{s:f, s:o}", "p", p, "more_reliable",
			 claim ? json_string(ra > rb ? "a" : "b") : json_null());
}

/* Tasks both sides ran, in the first side's order. */
static json_t *tasks_json(const struct wm_ab_side *a, const struct wm_ab_side *b)
{
	json_t *out = json_array();

	for (size_t i = 0; i < a->n_tasks; i++) {
		const struct wm_ab_series *ta = &a->tasks[i], *tb = NULL;

		for (size_t k = 0; k < b->n_tasks && !tb; k++)
			if (strcmp(b->tasks[k].task, ta->task) == 0)
				tb = &b->tasks[k];
		if (!tb)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:o, s:o, s:o}", "task", ta->task, "a",
						     summary(ta->ms, ta->n), "b",
						     summary(tb->ms, tb->n), "test",
						     compare_times(ta->ms, ta->n, tb->ms, tb->n)));
	}
	return out;
}

/* "p=0.012", "p<0.001" */
static char *fmt_p(double p)
{
	return p < 0.001 ? wm_xstrdup("p<0.001") : wm_xasprintf("p=%.2g", p);
}

static void verdict_times(struct wm_buf *b, json_t *wall, size_t na, size_t nb)
{
	const char *faster = json_string_value(json_object_get(wall, "faster"));
	wm_autofree char *p = fmt_p(json_real_value(json_object_get(wall, "p")));

	if (na < WM_AB_MIN_RUNS || nb < WM_AB_MIN_RUNS)
		wm_buf_addf(b,
			    "too few successful runs to compare times (%zu and %zu; %d each "
			    "needed)",
			    na, nb, WM_AB_MIN_RUNS);
	else if (faster)
		wm_buf_addf(b, "%s is faster by %.0f%% (%s)", strcmp(faster, "a") ? "B" : "A",
			    100 * json_real_value(json_object_get(wall, "by")), p);
	else
		wm_buf_addf(b, "times do not differ (%s)", p);
}

static void verdict_success(struct wm_buf *b, json_t *succ, const struct wm_ab_side *a,
			    const struct wm_ab_side *s)
{
	const char *more = json_string_value(json_object_get(succ, "more_reliable"));
	wm_autofree char *p = fmt_p(json_real_value(json_object_get(succ, "p")));
	bool b_wins = more && strcmp(more, "b") == 0;
	const struct wm_ab_side *win = b_wins ? s : a, *lose = b_wins ? a : s;

	if (a->n_runs < WM_AB_MIN_RUNS || s->n_runs < WM_AB_MIN_RUNS)
		wm_buf_addf(b,
			    "too few runs to compare success rates (%zu and %zu; %d each "
			    "needed)",
			    a->n_runs, s->n_runs, WM_AB_MIN_RUNS);
	else if (more)
		wm_buf_addf(b, "%s succeeds more often (%zu/%zu against %zu/%zu, %s)",
			    strcmp(more, "b") == 0 ? "B" : "A", win->succeeded, win->n_runs,
			    lose->succeeded, lose->n_runs, p);
	else
		wm_buf_addf(b, "success rates do not differ (%zu/%zu against %zu/%zu, %s)",
			    a->succeeded, a->n_runs, s->succeeded, s->n_runs, p);
}

json_t *wm_ab_report(const struct wm_ab_side *a, const struct wm_ab_side *b)
{
	json_t *wall = compare_times(a->wall_ms, a->succeeded, b->wall_ms, b->succeeded);
	json_t *succ = compare_success(a, b);
	struct wm_buf v = WM_BUF_INIT;
	json_t *o;

	verdict_times(&v, wall, a->succeeded, b->succeeded);
	wm_buf_addstr(&v, "; ");
	verdict_success(&v, succ, a, b);
	o = json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:s}", "format", "wm-ab", "version", 1,
		      "a", side_json(a), "b", side_json(b), "wall", wall, "success", succ, "tasks",
		      tasks_json(a, b), "verdict", v.data);
	wm_buf_release(&v);
	return o;
}

/* "1.2s" from a JSON number of ms, "-" from null. */
static char *dur(json_t *v)
{
	return json_is_integer(v) ? wm_format_duration_human((uint64_t)json_integer_value(v))
				  : wm_xstrdup("-");
}

static void print_side(FILE *f, const char *name, json_t *s)
{
	json_t *w = json_object_get(s, "wall"), *ci = json_object_get(s, "success_ci");
	wm_autofree char *p50 = dur(json_object_get(w, "p50_ms"));
	wm_autofree char *p95 = dur(json_object_get(w, "p95_ms"));

	fprintf(f,
		"%s: %s\n   %lld runs, %lld succeeded (%.0f%%, 95%% CI %.0f-%.0f%%), wall p50 "
		"%s p95 %s\n",
		name, json_string_value(json_object_get(s, "label")),
		(long long)json_integer_value(json_object_get(s, "n_runs")),
		(long long)json_integer_value(json_object_get(s, "succeeded")),
		100 * json_real_value(json_object_get(s, "success_rate")),
		100 * json_real_value(json_array_get(ci, 0)),
		100 * json_real_value(json_array_get(ci, 1)), p50, p95);
}

static void print_task(FILE *f, json_t *t)
{
	json_t *a = json_object_get(t, "a"), *b = json_object_get(t, "b");
	json_t *test = json_object_get(t, "test");
	wm_autofree char *a50 = dur(json_object_get(a, "p50_ms"));
	wm_autofree char *a95 = dur(json_object_get(a, "p95_ms"));
	wm_autofree char *b50 = dur(json_object_get(b, "p50_ms"));
	wm_autofree char *b95 = dur(json_object_get(b, "p95_ms"));
	wm_autofree char *p = json_is_object(test)
				      ? fmt_p(json_real_value(json_object_get(test, "p")))
				      : wm_xstrdup("-");

	fprintf(f, "%-24s %8s %8s %8s %8s  %s\n", json_string_value(json_object_get(t, "task")),
		a50, a95, b50, b95, p);
}

void wm_ab_print(json_t *r, FILE *f)
{
	json_t *wall = json_object_get(r, "wall"), *t;
	size_t i;

	print_side(f, "A", json_object_get(r, "a"));
	print_side(f, "B", json_object_get(r, "b"));
	if (json_is_object(wall))
		fprintf(f, "\nwall time: Mann-Whitney U=%g, p=%.2g (%s)\n",
			json_real_value(json_object_get(wall, "u")),
			json_real_value(json_object_get(wall, "p")),
			json_is_true(json_object_get(wall, "exact")) ? "exact"
								     : "normal approximation");
	fprintf(f, "success:   Fisher's exact test p=%.2g\n",
		json_real_value(json_object_get(json_object_get(r, "success"), "p")));
	if (json_array_size(json_object_get(r, "tasks")))
		fprintf(f, "\n%-24s %8s %8s %8s %8s  %s\n", "TASK", "A P50", "A P95", "B P50",
			"B P95", "P");
	json_array_foreach(json_object_get(r, "tasks"), i, t) print_task(f, t);
	fprintf(f, "\n%s\n", json_string_value(json_object_get(r, "verdict")));
}
