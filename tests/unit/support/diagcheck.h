/*
 * diagcheck.h - test support: looking for one diagnostic in a list.
 */
#ifndef WM_TESTS_DIAGCHECK_H
#define WM_TESTS_DIAGCHECK_H

#include <stdbool.h>

#include "common/diag.h"

#define WM_DIAG_ANY (-1)

/* True when d holds a diagnostic of `level` (or WM_DIAG_ANY) at line:col
 * whose message contains `text`. */
bool wm_test_has_diag(const struct wm_diags *d, int level, unsigned line, unsigned col,
		      const char *text);
/* Prints every diagnostic of d to stderr, for a failing test's reader. */
void wm_test_print_diags(const struct wm_diags *d);

#endif
