#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

int wm_mkdir_p(const char *path, mode_t mode, struct wm_error **err)
{
	wm_autofree char *p = NULL;

	/* Usually the directory or its parent exists: one call, not one per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return wm_error_set(err, errno, "create directory `%s`", path);
	p = wm_xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return wm_error_set(err, errno, "create directory `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return wm_error_set(err, errno, "create directory `%s`", p);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int wm_remove_tree(const char *path, struct wm_error **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "stat `%s`", path);
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return wm_error_set(err, errno, "remove `%s`", path);
	return 0;
}

int wm_write_file(const char *path, const void *data, size_t len, mode_t mode, unsigned flags,
		  struct wm_error **err)
{
	wm_autoclose int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;

	if (fd < 0)
		return wm_error_set(err, errno, "create `%s`", path);
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return wm_error_set(err, errno, "write `%s`", path);
		}
		p += n;
		len -= (size_t)n;
	}
	if ((flags & WM_WRITE_DURABLE) && fsync(fd) < 0)
		return wm_error_set(err, errno, "fsync `%s`", path);
	return 0;
}
