/*
 * diag.h - located diagnostics for input files (workflows, policies).
 *
 * Parsers report every problem they find, not only the first, into a
 * `struct wm_diags`; the command prints them as
 *     FILE:LINE:COL: error: message
 *     FILE:LINE:COL: warning: message
 * in file order and exits 2 when any is an error. Lines and columns are
 * 1-based; 0 means "unknown" and is printed as 1. The list owns its strings.
 *
 * A problem with a file as a whole rather than a place in it (a default
 * config file that cannot be read and is skipped) has file NULL and is
 * printed as wm's own message, `wm: warning: message`, before the others;
 * its message names the file.
 */
#ifndef WM_COMMON_DIAG_H
#define WM_COMMON_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum wm_diag_level {
	WM_DIAG_ERROR,
	WM_DIAG_WARNING,
};

struct wm_diag {
	enum wm_diag_level level;
	char *file; /* NULL: not about a place in a file */
	unsigned line, col;
	char *msg;
};

struct wm_diags {
	struct wm_diag *v;
	size_t n, alloc;
	size_t n_errors;
};

/* clang-format 14 would split this initializer over four lines. */
/* clang-format off */
#define WM_DIAGS_INIT { 0 }
/* clang-format on */

void wm_diags_release(struct wm_diags *d);
void wm_diags_add(struct wm_diags *d, enum wm_diag_level level, const char *file, unsigned line,
		  unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define wm_diags_error(d, file, line, col, ...) \
	wm_diags_add((d), WM_DIAG_ERROR, (file), (line), (col), __VA_ARGS__)
#define wm_diags_warn(d, file, line, col, ...) \
	wm_diags_add((d), WM_DIAG_WARNING, (file), (line), (col), __VA_ARGS__)
/* Stable sort by file position, so output follows the file. */
void wm_diags_sort(struct wm_diags *d);
/* One diagnostic as "FILE:LINE:COL: error: msg", or "wm: warning: msg"
 * without a file (caller frees). */
char *wm_diag_format(const struct wm_diag *dg);
void wm_diags_print(const struct wm_diags *d, FILE *f);

#endif
