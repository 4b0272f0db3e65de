/*
 * outcopy.c - $WM_OUT under limits.out: the task wrote into a tmpfs of
 * that size inside its sandbox; once it has ended, its tree is copied into
 * the host's $WM_OUT directory, which wm emptied before the attempt.
 *
 * What the task left is hostile: names are taken as they are (one path
 * component each, never "." or ".."), links are recreated as links and
 * never followed, and only directories and regular files are copied; a
 * FIFO, socket or device is skipped and named. Every file is created
 * relative to its directory's fd with O_EXCL|O_NOFOLLOW. The total is
 * bounded by the tmpfs's size, the depth by MAX_DEPTH.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "sandbox/internal.h"

#define MAX_DEPTH 64

static int fail(char **why, const char *what, const char *name, int err)
{
	if (!*why)
		*why = wm_xasprintf("%s `%s`: %s", what, name, strerror(err));
	return -1;
}

static int copy_file(int from, int to, const char *name, mode_t mode, char **why)
{
	char buf[65536];
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int out, rc = 0;
	ssize_t n;

	if (in < 0)
		return fail(why, "read output", name, errno);
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	if (out < 0) {
		close(in);
		return fail(why, "write output", name, errno);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = fail(why, "write output", name, errno);
				goto out;
			}
			off += w;
		}
	}
	if (n < 0)
		rc = fail(why, "read output", name, errno);
out:
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = fail(why, "write output", name, errno);
	return rc;
}

static int copy_link(int from, int to, const char *name, char **why)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);

	if (n < 0)
		return fail(why, "read output link", name, errno);
	target[n] = '\0';
	if (symlinkat(target, to, name) != 0)
		return fail(why, "write output link", name, errno);
	return 0;
}

static int copy_tree(int from, int to, int depth, char **why);

static int copy_dir(int from, int to, const char *name, mode_t mode, int depth, char **why)
{
	int sub_from, sub_to, rc;

	if (depth >= MAX_DEPTH)
		return fail(why, "output directory nested too deep", name, ELOOP);
	if (mkdirat(to, name, (mode & 0777) | 0700) != 0)
		return fail(why, "write output directory", name, errno);
	sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub_from < 0 || sub_to < 0) {
		rc = fail(why, "open output directory", name, errno);
		if (sub_from >= 0)
			close(sub_from);
		if (sub_to >= 0)
			close(sub_to);
		return rc;
	}
	rc = copy_tree(sub_from, sub_to, depth + 1, why); /* takes sub_from */
	close(sub_to);
	return rc;
}

static int copy_entry(int from, int to, const char *name, int depth, char **why)
{
	struct stat st;

	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return fail(why, "read output", name, errno);
	if (S_ISREG(st.st_mode))
		return copy_file(from, to, name, st.st_mode, why);
	if (S_ISLNK(st.st_mode))
		return copy_link(from, to, name, why);
	if (S_ISDIR(st.st_mode))
		return copy_dir(from, to, name, st.st_mode, depth, why);
	/* A FIFO, socket or device is no output: skipped, and said. */
	fprintf(stderr, "wm: sandbox: output `%s` is not a file or directory: not kept\n", name);
	return 0;
}

/* Copies the entries of `from` (taken and closed) into `to`. */
static int copy_tree(int from, int to, int depth, char **why)
{
	DIR *d = fdopendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(from);
		return fail(why, "read output directory", ".", errno);
	}
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = copy_entry(dirfd(d), to, e->d_name, depth, why);
	}
	if (rc == 0 && errno != 0)
		rc = fail(why, "read output directory", ".", errno);
	closedir(d);
	return rc;
}

int wm_copy_tree(int from, int to, char **why)
{
	return sb_copy_out(from, to, why);
}

int sb_copy_out(int from, int to, char **why)
{
	int dup_from = fcntl(from, F_DUPFD_CLOEXEC, 0);

	*why = NULL;
	if (dup_from < 0)
		return fail(why, "read output directory", ".", errno);
	return copy_tree(dup_from, to, 0, why);
}
