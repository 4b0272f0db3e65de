#include "common/diag.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

void wm_diags_release(struct wm_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void wm_diags_add(struct wm_diags *d, enum wm_diag_level level, const char *file, unsigned line,
		  unsigned col, const char *fmt, ...)
{
	struct wm_diag *dg;
	va_list ap;

	WM_GROW(d->v, d->alloc, d->n + 1);
	dg = &d->v[d->n++];
	dg->level = level;
	dg->file = file ? wm_xstrdup(file) : NULL;
	dg->line = line;
	dg->col = col;
	va_start(ap, fmt);
	dg->msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	if (level == WM_DIAG_ERROR)
		d->n_errors++;
}

static bool same_file(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Files keep the order in which they were first reported (a policy file
 * read before the workflow stays before it); places sort within a file.
 * Problems without a place come first: they concern whole files. */
static size_t file_rank(const struct wm_diags *d, const char *file)
{
	if (!file)
		return 0;
	for (size_t i = 0; i < d->n; i++)
		if (same_file(d->v[i].file, file))
			return i + 1;
	return d->n + 1;
}

static int before(const struct wm_diags *d, const struct wm_diag *a, const struct wm_diag *b)
{
	size_t ra = file_rank(d, a->file), rb = file_rank(d, b->file);

	if (ra != rb)
		return ra < rb;
	if (a->line != b->line)
		return a->line < b->line;
	return a->col < b->col;
}

void wm_diags_sort(struct wm_diags *d)
{
	/* Insertion sort: stable, and lists are short. File ranks are taken
	 * from the list as it was before sorting moved anything. */
	struct wm_diags orig = *d;

	if (d->n < 2)
		return; /* nothing to move, and v may be NULL */
	orig.v = wm_xcalloc(d->n + 1, sizeof(*orig.v));
	memcpy(orig.v, d->v, d->n * sizeof(*d->v));
	for (size_t i = 1; i < d->n; i++) {
		struct wm_diag cur = d->v[i];
		size_t j = i;

		while (j > 0 && before(&orig, &cur, &d->v[j - 1])) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = cur;
	}
	free(orig.v);
}

char *wm_diag_format(const struct wm_diag *dg)
{
	const char *level = dg->level == WM_DIAG_ERROR ? "error" : "warning";

	if (!dg->file)
		return wm_xasprintf("wm: %s: %s", level, dg->msg);
	return wm_xasprintf("%s:%u:%u: %s: %s", dg->file, dg->line ? dg->line : 1,
			    dg->col ? dg->col : 1, level, dg->msg);
}

void wm_diags_print(const struct wm_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = wm_diag_format(&d->v[i]);
		fprintf(f, "%s\n", s);
		free(s);
	}
}
