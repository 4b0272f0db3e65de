/* Test helpers shared by tests/unit/test_state_*.c: scratch directories
 * and small file edits. Header-only; every function is static. */
#ifndef WM_TESTS_STATE_HELPERS_H
#define WM_TESTS_STATE_HELPERS_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/xalloc.h"

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline char *scratch_dir(void)
{
	char *d = wm_xstrdup("/tmp/wm-unit-state.XXXXXX");

	if (!mkdtemp(d))
		abort();
	return d;
}

static inline void scratch_free(char *d)
{
	nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
}

static inline char *slurp(const char *path, size_t *len)
{
	struct wm_buf b = WM_BUF_INIT;

	if (wm_buf_read_file(&b, path) < 0) {
		wm_buf_release(&b);
		return NULL;
	}
	return wm_buf_detach(&b, len);
}

static inline void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	if (len && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static inline void write_text(const char *path, const char *text)
{
	spit(path, text, strlen(text));
}

#endif
