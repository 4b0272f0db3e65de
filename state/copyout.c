/*
 * copyout.c - `wm cp`: a task's output file or tree copied out of the
 * run directory, never through a link it planted (outputs.h).
 *
 * The source side is hostile: every entry is opened relative to its
 * directory's fd with O_NOFOLLOW, checked again on the open fd, and only
 * regular files and directories are read. The destination is the user's:
 * DEST itself is resolved as cp does, but what is created below it takes
 * its names from the source one component at a time (never "." or ".."),
 * relative to the destination directory's fd, without following links.
 */
#include "state/outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/safeio.h"

/* Permission bits only: no setuid, setgid or sticky bit leaves a run. */
#define KEEP_MODE 0777

struct copy {
	struct wm_copy_report *rep;
	dev_t dest_dev; /* the top destination directory, when DEST is inside */
	ino_t dest_ino; /* the source tree: never copied into itself */
};

void wm_copy_report_release(struct wm_copy_report *r)
{
	wm_strv_free(r->skipped);
	free(r->dest);
	memset(r, 0, sizeof(*r));
}

/* Why `path` (a source entry that is neither file nor directory) is left. */
static char *why_not(int dfd, const char *name, const char *path, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n;

	if (!S_ISLNK(st->st_mode))
		return wm_xasprintf("`%s` is a %s: only regular files and directories are copied",
				    path, wm_file_type_name(st->st_mode));
	n = readlinkat(dfd, name, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	return wm_xasprintf("`%s` is a symbolic link (to `%s`): wm cp never follows links a "
			    "task left",
			    path, target);
}

static int copy_bytes(int in, int out, off_t size, const char *src, const char *dst,
		      uint64_t *copied, struct wm_error **err)
{
	char buf[65536];

	while (size > 0) {
		size_t want = size < (off_t)sizeof(buf) ? (size_t)size : sizeof(buf);
		ssize_t n = read(in, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wm_error_set(err, errno, "read `%s`", src);
		if (n == 0) /* shrunk meanwhile: what there is */
			break;
		if (wm_write_all(out, buf, (size_t)n) < 0)
			return wm_error_set(err, errno, "write `%s`", dst);
		size -= n;
		*copied += (uint64_t)n;
	}
	return 0;
}

/* Opens the destination file: refuses a FIFO or device (opened
 * O_NONBLOCK, so that cannot hang) and the source file itself. */
static int open_dest_file(int dfd, const char *name, bool top, const char *dst,
			  const struct stat *src_st, struct wm_error **err)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (top ? 0 : O_NOFOLLOW);
	int out = openat(dfd, name, flags, 0600);
	struct stat st;

	if (out < 0)
		return wm_error_set(err, errno, "create `%s`", dst);
	if (fstat(out, &st) < 0) {
		wm_error_set(err, errno, "stat `%s`", dst);
	} else if (!S_ISREG(st.st_mode)) {
		wm_error_set(err, EINVAL, "`%s` is a %s, not a regular file: not overwritten", dst,
			     wm_file_type_name(st.st_mode));
	} else if (st.st_dev == src_st->st_dev && st.st_ino == src_st->st_ino) {
		wm_error_set(err, EINVAL, "`%s` is the file being copied", dst);
	} else if (ftruncate(out, 0) < 0) {
		wm_error_set(err, errno, "truncate `%s`", dst);
	} else {
		return out;
	}
	close(out);
	return -1;
}

static int copy_file(struct copy *c, int sfd, const char *name, const char *src, int dfd,
		     const char *dname, const char *dst, bool top, struct wm_error **err)
{
	wm_autoclose int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	wm_autoclose int out = -1;
	struct stat st;

	if (in < 0)
		return wm_error_set(err, errno, "open `%s`", src);
	if (fstat(in, &st) < 0)
		return wm_error_set(err, errno, "stat `%s`", src);
	if (!S_ISREG(st.st_mode)) /* replaced since it was looked at */
		return wm_error_set(err, EINVAL, "`%s` is a %s, not a regular file: refused", src,
				    wm_file_type_name(st.st_mode));
	out = open_dest_file(dfd, dname, top, dst, &st, err);
	if (out < 0 || copy_bytes(in, out, st.st_size, src, dst, &c->rep->bytes, err) < 0)
		return -1;
	if (fchmod(out, st.st_mode & KEEP_MODE) < 0)
		return wm_error_set(err, errno, "chmod `%s`", dst);
	if (close(wm_steal_fd(&out)) < 0)
		return wm_error_set(err, errno, "write `%s`", dst);
	c->rep->files++;
	return 0;
}

static int copy_dir(struct copy *c, int sfd, const char *name, const char *src, int dfd,
		    const char *dname, const char *dst, int depth, struct wm_error **err);

/* One entry of a directory being copied: a file, a directory, or skipped. */
static int copy_entry(struct copy *c, int sfd, const char *name, const char *src, int dfd,
		      const char *dst, int depth, struct wm_error **err)
{
	wm_autofree char *s = wm_xasprintf("%s/%s", src, name);
	wm_autofree char *d = wm_xasprintf("%s/%s", dst, name);
	struct stat st;
	char *why;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "stat `%s`", s);
	if (S_ISREG(st.st_mode))
		return copy_file(c, sfd, name, s, dfd, name, d, false, err);
	if (!S_ISDIR(st.st_mode))
		why = why_not(sfd, name, s, &st);
	else if (st.st_dev == c->dest_dev && st.st_ino == c->dest_ino)
		why = wm_xasprintf("`%s` is the destination: not copied into itself", s);
	else if (depth + 1 >= WM_TREE_MAX_DEPTH)
		why = wm_xasprintf("`%s` nests deeper than %d directories: not copied", s,
				   WM_TREE_MAX_DEPTH);
	else
		return copy_dir(c, sfd, name, s, dfd, name, d, depth + 1, err);
	wm_strv_push_owned(&c->rep->skipped, &c->rep->n_skipped, why);
	return 0;
}

/* The destination directory dname in dfd: made (0700 until it is filled,
 * so that a read-only source directory can be filled), or merged into
 * when it exists, as cp -R does. *made says which. */
static int open_dest_dir(int dfd, const char *dname, const char *dst, bool *made,
			 struct wm_error **err)
{
	int fd;

	*made = mkdirat(dfd, dname, 0700) == 0;
	if (!*made && errno != EEXIST)
		return wm_error_set(err, errno, "create directory `%s`", dst);
	fd = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return wm_error_set(err, errno, "`%s` exists and is not a directory", dst);
	if (fd < 0)
		return wm_error_set(err, errno, "open directory `%s`", dst);
	return fd;
}

static int copy_dir(struct copy *c, int sfd, const char *name, const char *src, int dfd,
		    const char *dname, const char *dst, int depth, struct wm_error **err)
{
	wm_autoclose int from = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	wm_autoclose int to = -1;
	wm_autostrv char **names = NULL;
	struct stat st;
	bool made;

	if (from < 0)
		return wm_error_set(err, errno, "open directory `%s`", src);
	if (fstat(from, &st) < 0)
		return wm_error_set(err, errno, "stat `%s`", src);
	if ((to = open_dest_dir(dfd, dname, dst, &made, err)) < 0)
		return -1;
	if (depth == 0) {
		struct stat top;

		if (fstat(to, &top) < 0)
			return wm_error_set(err, errno, "stat `%s`", dst);
		c->dest_dev = top.st_dev;
		c->dest_ino = top.st_ino;
	}
	if (!(names = wm_safe_list_dir(from, src, err)))
		return -1;
	for (size_t i = 0; names[i]; i++)
		if (copy_entry(c, from, names[i], src, to, dst, depth, err) < 0)
			return -1;
	if (made && fchmod(to, st.st_mode & KEEP_MODE) < 0)
		return wm_error_set(err, errno, "chmod `%s`", dst);
	c->rep->dirs++;
	return 0;
}

/* Where DEST says to write: into it when it is a directory, else as it.
 * Sets *dfd (the directory to create in) and *name; returns the path
 * written (for messages), or NULL with *err. */
static char *resolve_dest(const char *dest, const char *src_name, int *dfd, char **name,
			  struct wm_error **err)
{
	size_t len = strlen(dest);
	const char *slash = strrchr(dest, '/');
	wm_autofree char *parent = NULL;
	struct stat st;
	int found = stat(dest, &st);

	if (found == 0 && S_ISDIR(st.st_mode)) {
		*dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (*dfd < 0) {
			wm_error_set(err, errno, "open directory `%s`", dest);
			return NULL;
		}
		*name = wm_xstrdup(src_name);
		return wm_xasprintf("%s%s%s", dest, dest[len - 1] == '/' ? "" : "/", src_name);
	}
	if (dest[len - 1] == '/') {
		if (found == 0)
			wm_error_setx(err, WM_EXIT_FAILED, "`%s` is not a directory", dest);
		else
			wm_error_set(err, errno, "no directory `%s`", dest);
		return NULL;
	}
	if (slash)
		parent = wm_xstrndup(dest, slash == dest ? 1 : (size_t)(slash - dest));
	*dfd = open(parent ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0) {
		wm_error_set(err, errno, "cannot create `%s`: open directory `%s`", dest,
			     parent ? parent : ".");
		return NULL;
	}
	*name = wm_xstrdup(slash ? slash + 1 : dest);
	return wm_xstrdup(dest);
}

/* The source: `rel`'s directory (*pfd) and its lstat; a missing one is
 * bad input (exit 2), a link or special file an error naming it. */
static int open_source(int dirfd, const char *shown, const char *rel, const char *src, int *pfd,
		       struct stat *st, struct wm_error **err)
{
	const char *slash = strrchr(rel, '/'), *last = slash ? slash + 1 : rel;
	wm_autofree char *parent = slash ? wm_xstrndup(rel, (size_t)(slash - rel)) : NULL;
	wm_autofree char *why = NULL;

	*pfd = parent ? wm_safe_opendir(dirfd, shown, parent, false, 0, err) : dup(dirfd);
	if (*pfd < 0 && !parent)
		wm_error_set(err, errno, "open `%s`", shown);
	else if (*pfd >= 0 && fstatat(*pfd, last, st, AT_SYMLINK_NOFOLLOW) < 0)
		wm_error_set(err, errno, "`%s`", src);
	else if (*pfd >= 0 && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)))
		return 0;
	else if (*pfd >= 0 && (why = why_not(*pfd, last, src, st)))
		wm_error_setx(err, WM_EXIT_FAILED, "%s", why);
	/* Not there: a PATH the run does not have, like an unknown task. */
	if (wm_err_errnum(err) == ENOENT)
		wm_error_wrapx(err, WM_EXIT_USAGE, NULL);
	return -1;
}

int wm_copy_out(int dirfd, const char *shown, const char *rel, const char *dest,
		struct wm_copy_report *rep, struct wm_error **err)
{
	const char *slash = strrchr(rel, '/'), *last = slash ? slash + 1 : rel;
	wm_autofree char *src = wm_xasprintf("%s/%s", shown, rel);
	wm_autofree char *dname = NULL;
	wm_autoclose int pfd = -1;
	wm_autoclose int dfd = -1;
	struct copy c = { .rep = rep };
	struct stat st;

	memset(rep, 0, sizeof(*rep));
	if (!wm_safe_rel_ok(rel) || !*dest)
		return wm_error_setx(err, WM_EXIT_USAGE, "bad path `%s` or destination", rel);
	if (open_source(dirfd, shown, rel, src, &pfd, &st, err) < 0 ||
	    !(rep->dest = resolve_dest(dest, last, &dfd, &dname, err)))
		return -1;
	if (S_ISREG(st.st_mode))
		return copy_file(&c, pfd, last, src, dfd, dname, rep->dest, true, err);
	return copy_dir(&c, pfd, last, src, dfd, dname, rep->dest, 0, err);
}
