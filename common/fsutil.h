/*
 * fsutil.h - small filesystem helpers with errors explained.
 *
 * All return 0 or -1 with *err naming the path and the failed step.
 */
#ifndef WM_COMMON_FSUTIL_H
#define WM_COMMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* mkdir -p with the given mode for every directory it creates. */
int wm_mkdir_p(const char *path, mode_t mode, struct wm_error **err);
/* rm -rf that never follows symlinks; a missing path is not an error. */
int wm_remove_tree(const char *path, struct wm_error **err);
enum wm_write_flags {
	WM_WRITE_DURABLE = 1 << 0, /* fsync before returning */
};

/* Writes data to path (created or truncated with mode); with
 * WM_WRITE_DURABLE the bytes are on disk when it returns. */
int wm_write_file(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
		  struct wm_error **err);

#endif
