/*
 * stattest.c - the statistics of stattest.h. Formulas as in scipy 1.10
 * (scipy/stats/_mannwhitneyu.py, fisher_exact in _stats_py.py) and
 * Wilson (1927) for the interval.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/stattest.h"
#include "common/xalloc.h"

/* libm is opened on first use rather than linked (stattest.h says why).
 * The soname of glibc's libm, libc6's on every Debian-like host. */
#define WM_LIBM_SONAME "libm.so.6"
#define LIBM_FUNCS(X) X(sqrt) X(erfc) X(lgamma) X(exp)

static struct {
#define LIBM_PTR(f) double (*f_##f)(double);
	LIBM_FUNCS(LIBM_PTR)
#undef LIBM_PTR
} libm;

int wm_stat_load(struct wm_error **err)
{
	static bool loaded;
	void *h;

	if (loaded)
		return 0;
	h = dlopen(WM_LIBM_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return wm_error_set(err, 0, "cannot load %s (%s)", WM_LIBM_SONAME, dlerror());
#define LIBM_LOOKUP(f)                        \
	*(void **)&libm.f_##f = dlsym(h, #f); \
	if (!libm.f_##f)                      \
		return wm_error_set(err, 0, "%s has no %s", WM_LIBM_SONAME, #f);
	LIBM_FUNCS(LIBM_LOOKUP)
#undef LIBM_LOOKUP
	loaded = true;
	return 0;
}

/* The normal quantile of 0.975: a two-sided 95% interval. */
#define Z95 1.959963984540054

struct wm_interval wm_stat_wilson(size_t k, size_t n)
{
	double p, z2 = Z95 * Z95, den, mid, half;

	if (n == 0)
		return (struct wm_interval){ 0, 1 };
	if (wm_stat_load(NULL) < 0)
		return (struct wm_interval){ NAN, NAN };
	p = (double)k / (double)n;
	den = 1 + z2 / (double)n;
	mid = (p + z2 / (2.0 * (double)n)) / den;
	half = Z95 * libm.f_sqrt(p * (1 - p) / (double)n + z2 / (4.0 * (double)n * (double)n)) /
	       den;
	return (struct wm_interval){ wm_stat_max(0, mid - half), wm_stat_min(1, mid + half) };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double wm_stat_quantile(double *x, size_t n, double q)
{
	double h, lo;
	size_t i;

	qsort(x, n, sizeof(*x), cmp_double);
	h = (double)(n - 1) * q;
	i = (size_t)h; /* h >= 0: truncation is floor */
	lo = (double)i;
	if (i + 1 >= n)
		return x[n - 1];
	return x[i] + (h - lo) * (x[i + 1] - x[i]);
}

double wm_stat_mean(const double *x, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i];
	return n ? s / (double)n : 0;
}

struct ranked {
	double v;
	bool first; /* from the first sample */
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/* The rank sum of the first sample (ties get their average rank) and
 * sum(t^3 - t) over the groups of t tied values. */
static double rank_sum(struct ranked *r, size_t n, double *tie_term)
{
	double sum = 0;

	qsort(r, n, sizeof(*r), cmp_ranked);
	*tie_term = 0;
	for (size_t i = 0, j; i < n; i = j) {
		double t, avg;

		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		t = (double)(j - i);
		avg = ((double)i + 1 + (double)j) / 2.0; /* ranks i+1..j */
		*tie_term += t * t * t - t;
		for (size_t k = i; k < j; k++)
			if (r[k].first)
				sum += avg;
	}
	return sum;
}

/* P(U >= u) under the null for samples of m and n values, from the counts
 * of each U: the coefficients of the Gaussian binomial [m+n choose m]_q,
 * built as the product over i of (1 - q^(n+i)) / (1 - q^i); after each
 * step the product is [n+i choose i]_q, whose coefficients are >= 0. */
static double exact_sf(size_t m, size_t n, double u)
{
	size_t cap = m * n + m + n + 1, deg = 0;
	wm_autofree double *c = wm_xcalloc(cap, sizeof(*c));
	double total = 0, tail = 0;

	c[0] = 1;
	for (size_t i = 1; i <= m; i++) {
		size_t s = n + i;

		for (size_t k = deg + s + 1; k-- > s;)
			c[k] -= c[k - s];
		deg += s;
		for (size_t k = i; k <= deg; k++)
			c[k] += c[k - i];
		deg -= i;
	}
	for (size_t k = 0; k <= deg; k++) {
		total += c[k];
		if ((double)k >= u)
			tail += c[k];
	}
	return tail / total;
}

int wm_stat_mann_whitney(const double *a, size_t na, const double *b, size_t nb, struct wm_mwu *out)
{
	size_t n = na + nb;
	wm_autofree struct ranked *r = NULL;
	double u1, u, mu, tie, s;

	if (!na || !nb)
		return -1;
	if (wm_stat_load(NULL) < 0) {
		*out = (struct wm_mwu){ NAN, NAN, false };
		return 0;
	}
	r = wm_xcalloc(n, sizeof(*r));
	for (size_t i = 0; i < na; i++)
		r[i] = (struct ranked){ a[i], true };
	for (size_t i = 0; i < nb; i++)
		r[na + i] = (struct ranked){ b[i], false };
	u1 = rank_sum(r, n, &tie) - (double)na * ((double)na + 1) / 2.0;
	u = wm_stat_max(u1, (double)na * (double)nb - u1);
	out->u = u1;
	out->exact = (na <= 8 || nb <= 8) && tie == 0;
	if (out->exact) {
		out->p = wm_stat_min(1, 2 * exact_sf(na < nb ? na : nb, na < nb ? nb : na, u));
		return 0;
	}
	mu = (double)na * (double)nb / 2.0;
	s = libm.f_sqrt((double)na * (double)nb / 12.0 *
			((double)n + 1 - tie / ((double)n * ((double)n - 1))));
	/* All values equal: no evidence either way. */
	out->p = s > 0 ? wm_stat_min(1, libm.f_erfc((u - mu - 0.5) / s / M_SQRT2)) : 1;
	return 0;
}

/* log C(n, k) */
static double log_choose(unsigned n, unsigned k)
{
	return libm.f_lgamma(n + 1.0) - libm.f_lgamma(k + 1.0) - libm.f_lgamma(n - k + 1.0);
}

double wm_stat_fisher(unsigned a, unsigned b, unsigned c, unsigned d)
{
	unsigned r1 = a + b, r2 = c + d, c1 = a + c, lo, hi;
	double seen, p = 0;

	if (!r1 || !r2 || !c1 || !(b + d))
		return 1;
	if (wm_stat_load(NULL) < 0)
		return NAN;
	lo = c1 > r2 ? c1 - r2 : 0;
	hi = c1 < r1 ? c1 : r1;
	seen = log_choose(r1, a) + log_choose(r2, c1 - a);
	for (unsigned x = lo; x <= hi; x++) {
		double l = log_choose(r1, x) + log_choose(r2, c1 - x);

		/* scipy: as probable as the table seen, or less, within 1e-7 */
		if (libm.f_exp(l - seen) <= 1 + 1e-7)
			p += libm.f_exp(l - log_choose(r1 + r2, c1));
	}
	return wm_stat_min(1, p);
}

/* Mean and sum of squared deviations of x[0..n). */
static void moments(const double *x, size_t n, double *mean, double *ss)
{
	*mean = wm_stat_mean(x, n);
	*ss = 0;
	for (size_t i = 0; i < n; i++)
		*ss += (x[i] - *mean) * (x[i] - *mean);
}

bool wm_stat_change_point(const double *x, size_t n, struct wm_change *out)
{
	bool any = false;

	memset(out, 0, sizeof(*out));
	if (wm_stat_load(NULL) < 0)
		return false;
	for (size_t at = WM_STAT_CHANGE_MIN; at + WM_STAT_CHANGE_MIN <= n; at++) {
		double m1, m2, ss1, ss2, sd, score;

		moments(x, at, &m1, &ss1);
		moments(x + at, n - at, &m2, &ss2);
		sd = libm.f_sqrt((ss1 + ss2) / (double)(n - 2));
		score = sd > 0 ? fabs(m2 - m1) / sd : m1 == m2 ? 0 : INFINITY;
		if (!any || score > out->score)
			*out = (struct wm_change){ at, m1, m2, score };
		any = true;
	}
	return any && out->score >= WM_STAT_CHANGE_SCORE;
}
