#include "diagcheck.h"

#include <stdio.h>
#include <string.h>

bool wm_test_has_diag(const struct wm_diags *d, int level, unsigned line, unsigned col,
		      const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if ((level == WM_DIAG_ANY || (int)d->v[i].level == level) && d->v[i].line == line &&
		    d->v[i].col == col && strstr(d->v[i].msg, text))
			return true;
	return false;
}

void wm_test_print_diags(const struct wm_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  have %u:%u %s\n", d->v[i].line, d->v[i].col, d->v[i].msg);
}
