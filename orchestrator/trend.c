/*
 * trend.c - `wm stats --trend` (trend.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/stattest.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/runview.h"
#include "orchestrator/trend.h"

#define DAY_MS 86400000LL

struct trend_run {
	char *id;
	long long t; /* started */
	bool ok;
	double wall_ms; /* successful runs */
};

struct trend {
	struct trend_run *v;
	size_t n, alloc;
};

static int by_time(const void *a, const void *b)
{
	const struct trend_run *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

static void add_run(const struct wm_runview *v, void *ctx)
{
	struct trend *tr = ctx;
	long long t = wm_runview_started_ms(v), e = wm_runview_ended_ms(v);

	WM_GROW(tr->v, tr->alloc, tr->n + 1);
	tr->v[tr->n++] = (struct trend_run){ wm_xstrdup(v->id), t,
					     strcmp(wm_runview_state(v), "succeeded") == 0,
					     e > t ? (double)(e - t) : 0 };
}

/* Every run of `name` that succeeded or failed, oldest first, from the
 * runs' summaries (no checkpoint loaded). */
static int collect(const struct wm_cli *cli, const char *name, struct trend *tr,
		   struct wm_error **err)
{
	if (wm_runview_each_finished(cli->state_dir, name, add_run, tr, err) < 0)
		return -1;
	if (!tr->n)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "no finished run of workflow '%s' in %s (see wm list --name)",
				     name, cli->state_dir);
	qsort(tr->v, tr->n, sizeof(*tr->v), by_time);
	return 0;
}

/* The bucket of a time: days since the epoch, or weeks since the Monday
 * before it (1970-01-01 was a Thursday). */
static long long bucket_of(long long t, enum wm_trend_by by)
{
	long long day = t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS);

	if (by == WM_TREND_DAY)
		return day;
	return (day + 3 >= 0 ? day + 3 : day + 3 - 6) / 7;
}

/* "2026-11-30": the first day of bucket b. */
static char *bucket_label(long long b, enum wm_trend_by by)
{
	time_t s = (time_t)((by == WM_TREND_DAY ? b : b * 7 - 3) * (DAY_MS / 1000));
	struct tm tm;
	char buf[32];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	return wm_xstrdup(buf);
}

/* One bucket's figures: {"start", "runs", "succeeded", "success_rate",
 * "p50_ms"}, the last two null without runs (successful runs). */
static json_t *bucket_json(const struct trend *tr, size_t from, size_t to, long long b,
			   enum wm_trend_by by)
{
	wm_autofree char *label = bucket_label(b, by);
	wm_autofree double *wall = wm_xcalloc(to - from + 1, sizeof(*wall));
	size_t ok = 0;

	for (size_t i = from; i < to; i++)
		if (tr->v[i].ok)
			wall[ok++] = tr->v[i].wall_ms;
	return json_pack(
		"{s:s, s:I, s:I, s:o, s:o}", "start", label, "runs", (json_int_t)(to - from),
		"succeeded", (json_int_t)ok, "success_rate",
		to > from ? json_real((double)ok / (double)(to - from)) : json_null(), "p50_ms",
		ok ? json_integer((json_int_t)wm_stat_round(wm_stat_quantile(wall, ok, 0.5)))
		   : json_null());
}

static json_t *buckets_json(const struct trend *tr, enum wm_trend_by by)
{
	json_t *a = json_array();
	long long first, last;
	size_t i = 0;

	if (!tr->n)
		return a;
	first = bucket_of(tr->v[0].t, by);
	last = bucket_of(tr->v[tr->n - 1].t, by);
	for (long long b = first; b <= last; b++) {
		size_t from = i;

		while (i < tr->n && bucket_of(tr->v[i].t, by) == b)
			i++;
		json_array_append_new(a, bucket_json(tr, from, i, b, by));
	}
	return a;
}

/* "2026-11-28T09:15:00Z" */
static char *utc(long long ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return wm_xstrdup(buf);
}

/* The change point of x (one value per run of `idx`, in time order), or
 * null when none stands out. */
static json_t *change_json(const struct trend *tr, const double *x, const size_t *idx, size_t n)
{
	struct wm_change c;
	wm_autofree char *at = NULL;

	if (!wm_stat_change_point(x, n, &c))
		return json_null();
	at = utc(tr->v[idx[c.at]].t);
	return json_pack("{s:s, s:s, s:f, s:f, s:o}", "run", tr->v[idx[c.at]].id, "at", at,
			 "before", c.before, "after", c.after, "score",
			 isinf(c.score) ? json_null() : json_real(c.score));
}

/* {"duration": change of the successful runs' durations, "success": change
 * of the outcomes (1 succeeded, 0 failed)}. */
static json_t *changes_json(const struct trend *tr)
{
	wm_autofree double *dur = wm_xcalloc(tr->n + 1, sizeof(*dur));
	wm_autofree double *ok = wm_xcalloc(tr->n + 1, sizeof(*ok));
	wm_autofree size_t *dur_idx = wm_xcalloc(tr->n + 1, sizeof(*dur_idx));
	wm_autofree size_t *all_idx = wm_xcalloc(tr->n + 1, sizeof(*all_idx));
	size_t nd = 0;

	for (size_t i = 0; i < tr->n; i++) {
		ok[i] = tr->v[i].ok;
		all_idx[i] = i;
		if (tr->v[i].ok) {
			dur_idx[nd] = i;
			dur[nd++] = tr->v[i].wall_ms;
		}
	}
	return json_pack("{s:o, s:o}", "duration", change_json(tr, dur, dur_idx, nd), "success",
			 change_json(tr, ok, all_idx, tr->n));
}

/* Is the terminal's character set UTF-8, as the locale variables say
 * (the first set of LC_ALL, LC_CTYPE, LANG)? */
static bool locale_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

/* One character per bucket for `key`, scaled from lo to hi; a space for a
 * bucket without the figure. */
static void sparkline(struct wm_buf *b, json_t *buckets, const char *key, double lo, double hi)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.,-=+*#";
	bool utf8 = locale_utf8();
	json_t *bk;
	size_t i;

	json_array_foreach(buckets, i, bk)
	{
		json_t *v = json_object_get(bk, key);
		double x = json_number_value(v);
		int level = hi > lo ? (int)wm_stat_round((x - lo) / (hi - lo) * 7) : 7;

		if (json_is_null(v))
			wm_buf_addch(b, ' ');
		else if (utf8)
			wm_buf_addstr(b, blocks[level < 0 ? 0 : level > 7 ? 7 : level]);
		else
			wm_buf_addch(b, ascii[level < 0 ? 0 : level > 7 ? 7 : level]);
	}
}

/* The smallest and largest of `key` over the buckets that have it. */
static void range(json_t *buckets, const char *key, double *lo, double *hi)
{
	json_t *bk;
	size_t i;

	*lo = INFINITY;
	*hi = -INFINITY;
	json_array_foreach(buckets, i, bk)
	{
		json_t *v = json_object_get(bk, key);

		if (!json_is_null(v)) {
			*lo = wm_stat_min(*lo, json_number_value(v));
			*hi = wm_stat_max(*hi, json_number_value(v));
		}
	}
}

static void print_change(const char *what, json_t *c, bool as_duration)
{
	json_t *score = json_object_get(c, "score");
	wm_autofree char *before = NULL, *after = NULL;

	if (json_is_null(c)) {
		printf("change point (%s): none stands out\n", what);
		return;
	}
	if (as_duration) {
		before = wm_format_duration_human(
			(uint64_t)wm_stat_round(json_real_value(json_object_get(c, "before"))));
		after = wm_format_duration_human(
			(uint64_t)wm_stat_round(json_real_value(json_object_get(c, "after"))));
	} else {
		before =
			wm_xasprintf("%.0f%%", 100 * json_real_value(json_object_get(c, "before")));
		after = wm_xasprintf("%.0f%%", 100 * json_real_value(json_object_get(c, "after")));
	}
	printf("change point (%s): %s before, %s from run %s (%s) on; ", what, before, after,
	       json_string_value(json_object_get(c, "run")),
	       json_string_value(json_object_get(c, "at")));
	if (json_is_null(score))
		printf("no spread on either side\n");
	else
		printf("%.1f pooled standard deviations\n", json_real_value(score));
}

static void print_trend(json_t *r)
{
	json_t *buckets = json_object_get(r, "buckets"), *bk;
	struct wm_buf rate = WM_BUF_INIT, dur = WM_BUF_INIT;
	double lo, hi;
	size_t i;

	printf("workflow %s by %s\n\n%-10s %5s %8s %9s\n",
	       json_string_value(json_object_get(r, "workflow")),
	       json_string_value(json_object_get(r, "by")),
	       strcmp(json_string_value(json_object_get(r, "by")), "day") ? "WEEK OF" : "DAY",
	       "RUNS", "SUCCESS", "P50");
	json_array_foreach(buckets, i, bk)
	{
		json_t *sr = json_object_get(bk, "success_rate"),
		       *p50 = json_object_get(bk, "p50_ms");
		wm_autofree char *d =
			json_is_null(p50)
				? wm_xstrdup("-")
				: wm_format_duration_human((uint64_t)json_integer_value(p50));
		wm_autofree char *s = json_is_null(sr)
					      ? wm_xstrdup("-")
					      : wm_xasprintf("%.0f%%", 100 * json_real_value(sr));

		printf("%-10s %5lld %8s %9s\n", json_string_value(json_object_get(bk, "start")),
		       (long long)json_integer_value(json_object_get(bk, "runs")), s, d);
	}
	sparkline(&rate, buckets, "success_rate", 0, 1);
	range(buckets, "p50_ms", &lo, &hi);
	sparkline(&dur, buckets, "p50_ms", lo, hi);
	printf("\nsuccess  %s\np50      %s\n\n", rate.data, dur.data);
	print_change("duration", json_object_get(json_object_get(r, "change"), "duration"), true);
	print_change("success", json_object_get(json_object_get(r, "change"), "success"), false);
	wm_buf_release(&rate);
	wm_buf_release(&dur);
}

int wm_stats_trend(const struct wm_cli *cli, const char *name, enum wm_trend_by by, bool json,
		   struct wm_error **err)
{
	struct trend tr = { 0 };
	json_t *r;
	int rc = wm_stat_load(err) < 0 ? -1 : collect(cli, name, &tr, err);

	if (rc == 0) {
		r = json_pack("{s:s, s:i, s:s, s:s, s:I, s:o, s:o}", "format", "wm-trend",
			      "version", 1, "workflow", name, "by",
			      by == WM_TREND_DAY ? "day" : "week", "runs", (json_int_t)tr.n,
			      "buckets", buckets_json(&tr, by), "change", changes_json(&tr));
		if (json) {
			json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
		} else {
			print_trend(r);
		}
		json_decref(r);
	}
	for (size_t i = 0; i < tr.n; i++)
		free(tr.v[i].id);
	free(tr.v);
	return rc;
}
