/*
 * stattest.h - the statistics `wm ab` and `wm stats --trend` report: pure
 * functions over arrays of numbers, no allocation visible to the caller,
 * no state.
 *
 *   wm_stat_wilson       95% Wilson score interval of a success rate
 *   wm_stat_quantile     p50/p95: linear interpolation between closest ranks
 *                        (Hyndman-Fan type 7, numpy's and R's default)
 *   wm_stat_mann_whitney two-sided Mann-Whitney U test, as
 *                        scipy.stats.mannwhitneyu computes it by default:
 *                        exact when either sample has at most 8 values and
 *                        no value repeats, else the normal approximation
 *                        with tie and continuity corrections
 *   wm_stat_fisher       two-sided Fisher's exact test of a 2x2 table (the
 *                        tables as probable as the one seen, or less,
 *                        summed, with scipy's relative tolerance of 1e-7)
 *   wm_stat_change_point the split of a series into a before and an after
 *                        that maximises the difference of their means
 *                        relative to their pooled standard deviation
 *
 * tests/unit/test_stattest.c checks each against values from scipy.
 *
 * libm is not linked into wm (one shared library less to load at every
 * start, which issue 15 measures): wm_stat_load() opens it on first use.
 * Commands call it first to report a failure; a function called without
 * it loads it, and returns NaN figures if it cannot.
 */
#ifndef WM_COMMON_STATTEST_H
#define WM_COMMON_STATTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The significance level below which a difference is called one. */
#define WM_STAT_ALPHA 0.05

/* 0, or -1 with *err when libm cannot be loaded. */
int wm_stat_load(struct wm_error **err);

/* x rounded to the nearest whole number, halves away from zero (llround
 * without libm). */
static inline long long wm_stat_round(double x)
{
	return x >= 0 ? (long long)(x + 0.5) : -(long long)(-x + 0.5);
}

static inline double wm_stat_max(double a, double b)
{
	return a > b ? a : b;
}

static inline double wm_stat_min(double a, double b)
{
	return a < b ? a : b;
}

struct wm_interval {
	double lo, hi;
};

/* k successes of n; n == 0 gives [0, 1] (nothing is known). */
struct wm_interval wm_stat_wilson(size_t k, size_t n);

/* The q-quantile (0 <= q <= 1) of n >= 1 values; sorts x in place. */
double wm_stat_quantile(double *x, size_t n, double q);

double wm_stat_mean(const double *x, size_t n);

struct wm_mwu {
	double u;   /* U of the first sample: how often one of its values is above
		     * one of the second's (a tie counts half) */
	double p;   /* two-sided */
	bool exact; /* the exact distribution, else the normal approximation */
};

/* -1 when either sample is empty (no test), else 0. */
int wm_stat_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
			 struct wm_mwu *out);

/* p of the table [[a, b], [c, d]] (1 when a row or column is all zero). */
double wm_stat_fisher(unsigned a, unsigned b, unsigned c, unsigned d);

struct wm_change {
	size_t at;	      /* x[0..at) before, x[at..n) after */
	double before, after; /* their means */
	double score;	      /* |after - before| / pooled standard deviation */
};

/* The best split with at least WM_STAT_CHANGE_MIN values on each side; it
 * stands out (true) when its score is at least WM_STAT_CHANGE_SCORE. A
 * series with no spread on either side but different means scores
 * infinity; equal means score 0. */
#define WM_STAT_CHANGE_MIN 3
#define WM_STAT_CHANGE_SCORE 2.0
bool wm_stat_change_point(const double *x, size_t n, struct wm_change *out);

#endif
