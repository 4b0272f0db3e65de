/* Unit tests for common/stattest.c against known values. The reference
 * numbers come from scipy 1.10.1 and numpy (Debian's python3-scipy),
 * computed with /usr/bin/python3 when these tests were written; each call
 * is quoted above its check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "common/stattest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void close_to(double got, double want, double tol)
{
	if (fabs(got - want) > tol)
		fail_msg("got %.12g, wanted %.12g (+-%g)", got, want, tol);
}

static void test_wilson(void **state)
{
	struct wm_interval w;

	(void)state;
	/* 8 of 10: [0.4902, 0.9433], Newcombe (1998), Statistics in Medicine
	 * 17:857, table I; the formula gives 0.49016247153664183,
	 * 0.9433178485456247. */
	w = wm_stat_wilson(8, 10);
	close_to(w.lo, 0.49016247153664183, 1e-12);
	close_to(w.hi, 0.9433178485456247, 1e-12);
	/* 0 of 8 and 8 of 8: one end is exact. */
	w = wm_stat_wilson(0, 8);
	close_to(w.lo, 0, 1e-15);
	close_to(w.hi, 0.32440756488388023, 1e-12);
	w = wm_stat_wilson(8, 8);
	close_to(w.lo, 0.6755924351161198, 1e-12);
	close_to(w.hi, 1, 1e-15);
	w = wm_stat_wilson(4, 8);
	close_to(w.lo, 0.21521606221387757, 1e-12);
	close_to(w.hi, 0.7847839377861224, 1e-12);
	w = wm_stat_wilson(0, 0);
	close_to(w.lo, 0, 0);
	close_to(w.hi, 1, 0);
}

static void test_quantile(void **state)
{
	/* np.percentile([5,1,4,2,3], [0,50,95,100]) == [1, 3, 4.8, 5] */
	double x[] = { 5, 1, 4, 2, 3 };
	/* np.percentile([1..10], [50, 95]) == [5.5, 9.55] */
	double y[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	double one[] = { 0.3 };

	(void)state;
	close_to(wm_stat_quantile(x, N(x), 0), 1, 1e-12);
	close_to(wm_stat_quantile(x, N(x), 0.5), 3, 1e-12);
	close_to(wm_stat_quantile(x, N(x), 0.95), 4.8, 1e-12);
	close_to(wm_stat_quantile(x, N(x), 1), 5, 1e-12);
	close_to(wm_stat_quantile(y, N(y), 0.5), 5.5, 1e-12);
	close_to(wm_stat_quantile(y, N(y), 0.95), 9.55, 1e-12);
	close_to(wm_stat_quantile(one, 1, 0.95), 0.3, 0);
	close_to(wm_stat_mean(y, N(y)), 5.5, 1e-12);
}

static void mwu(const double *a, size_t na, const double *b, size_t nb, double u, double p,
		bool exact)
{
	struct wm_mwu r;

	assert_int_equal(wm_stat_mann_whitney(a, na, b, nb, &r), 0);
	close_to(r.u, u, 1e-9);
	close_to(r.p, p, 1e-9);
	assert_int_equal(r.exact, exact);
}

static void test_mann_whitney(void **state)
{
	double a1[] = { 1.1, 1.3, 1.2, 1.5, 1.4 }, b1[] = { 1.6, 1.8, 1.7, 2.0, 1.9, 2.1 };
	double a2[] = { 1, 2, 2, 3, 3, 3, 4, 5, 6, 7 },
	       b2[] = { 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11 };
	double a3[] = { 1, 2, 3 };
	double a4[] = { 0.31, 0.33, 0.30, 0.35, 0.32, 0.34, 0.36, 0.29 },
	       b4[] = { 0.61, 0.63, 0.60, 0.65, 0.62, 0.64, 0.66, 0.59 };
	double a5[20], b5[20];
	double a6[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 },
	       b6[] = { 2.5, 4.5, 6.5, 10, 11, 12, 13, 14, 15, 16 };
	double s = 7;
	struct wm_mwu r;

	(void)state;
	/* mannwhitneyu(a1, b1) -> statistic=0.0, pvalue=0.004329004329004329 (exact) */
	mwu(a1, N(a1), b1, N(b1), 0, 0.004329004329004329, true);
	/* Swapped: U of the first sample is 30, the p-value the same. */
	mwu(b1, N(b1), a1, N(a1), 30, 0.004329004329004329, true);
	/* Ties: statistic=16.0, pvalue=0.006372560600228401 (asymptotic) */
	mwu(a2, N(a2), b2, N(b2), 16, 0.006372560600228401, false);
	/* mannwhitneyu([1,2,3], [1,2,3]) -> statistic=4.5, pvalue=1.0 */
	mwu(a3, N(a3), a3, N(a3), 4.5, 1, false);
	/* Eight runs 0.3 s apart: statistic=0.0, pvalue=0.0001554001554001554 */
	mwu(a4, N(a4), b4, N(b4), 0, 0.0001554001554001554, true);
	/* a5 = 1..20, b5 = 5.5..24.5: statistic=120.0, pvalue=0.03151710207456157 */
	for (int i = 0; i < 20; i++) {
		a5[i] = i + 1;
		b5[i] = i + 5.5;
	}
	mwu(a5, N(a5), b5, N(b5), 120, 0.03151710207456157, false);
	/* 9 and 10 values, no ties: asymptotic. statistic=15.0,
	 * pvalue=0.01601099081051716 */
	mwu(a6, N(a6), b6, N(b6), 15, 0.01601099081051716, false);
	/* Every value equal: no evidence. */
	assert_int_equal(wm_stat_mann_whitney(&s, 1, &s, 1, &r), 0);
	close_to(r.p, 1, 0);
	assert_int_equal(wm_stat_mann_whitney(a1, 0, b1, N(b1), &r), -1);
}

static void test_fisher(void **state)
{
	(void)state;
	/* fisher_exact([[8,0],[4,4]]) -> pvalue=0.07692307692307693 */
	close_to(wm_stat_fisher(8, 0, 4, 4), 0.07692307692307693, 1e-12);
	close_to(wm_stat_fisher(4, 4, 8, 0), 0.07692307692307693, 1e-12);
	/* fisher_exact([[3,1],[1,3]]) -> pvalue=0.48571428571428565 */
	close_to(wm_stat_fisher(3, 1, 1, 3), 0.48571428571428565, 1e-12);
	/* fisher_exact([[10,2],[3,15]]) -> pvalue=0.0005367241191434357 */
	close_to(wm_stat_fisher(10, 2, 3, 15), 0.0005367241191434357, 1e-12);
	/* fisher_exact([[5,5],[5,5]]) -> 1.0; [[0,8],[0,8]] -> 1.0 */
	close_to(wm_stat_fisher(5, 5, 5, 5), 1, 1e-12);
	close_to(wm_stat_fisher(0, 8, 0, 8), 1, 0);
	close_to(wm_stat_fisher(8, 0, 8, 0), 1, 0);
}

static void test_change_point(void **state)
{
	/* The definition in numpy: split at 5, score 11.952286093343936,
	 * means 10.8 and 20.8; the flat series' best split (3) scores
	 * 0.8728715609439687. */
	double step[] = { 10, 11, 10, 12, 11, 20, 21, 20, 22, 21 };
	double flat[] = { 10, 11, 10, 12, 11, 10, 11, 12, 10, 11 };
	double same[] = { 4, 4, 4, 4, 4, 4 }, jump[] = { 1, 1, 1, 2, 2, 2 };
	struct wm_change c;

	(void)state;
	assert_true(wm_stat_change_point(step, N(step), &c));
	assert_int_equal(c.at, 5);
	close_to(c.score, 11.952286093343936, 1e-9);
	close_to(c.before, 10.8, 1e-12);
	close_to(c.after, 20.8, 1e-12);
	assert_false(wm_stat_change_point(flat, N(flat), &c));
	assert_int_equal(c.at, 3);
	close_to(c.score, 0.8728715609439687, 1e-9);
	assert_false(wm_stat_change_point(same, N(same), &c));
	close_to(c.score, 0, 0);
	assert_true(wm_stat_change_point(jump, N(jump), &c));
	assert_int_equal(c.at, 3);
	assert_true(isinf(c.score));
	/* Too short to split with three on each side. */
	assert_false(wm_stat_change_point(step, 5, &c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wilson),	     cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_mann_whitney), cmocka_unit_test(test_fisher),
		cmocka_unit_test(test_change_point),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
