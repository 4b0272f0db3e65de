/*
 * safeio.c - fd-relative, link-refusing, bounded file access (safeio.h).
 */
#include "state/safeio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"

#define ALWAYS (O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

static bool use_openat2 = true;

void wm_safeio_use_openat2(bool use)
{
	use_openat2 = use;
}

bool wm_safe_rel_ok(const char *rel)
{
	const char *p = rel;

	if (!rel || !*rel || *rel == '/')
		return false;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return false; /* trailing '/' */
	}
	return true;
}

const char *wm_file_type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "regular file";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symbolic link";
	if (S_ISFIFO(mode))
		return "FIFO";
	if (S_ISSOCK(mode))
		return "socket";
	if (S_ISCHR(mode))
		return "character device";
	if (S_ISBLK(mode))
		return "block device";
	return "special file";
}

/* openat2 confined below dirfd, or -1 with errno ENOSYS when unavailable. */
static int try_openat2(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)flags,
				.mode = (flags & O_CREAT) ? mode : 0,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	long fd;

	if (!use_openat2) {
		errno = ENOSYS;
		return -1;
	}
	fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	/* Seccomp filters of container runtimes answer EPERM for calls they
	 * do not know: treat it like a kernel without openat2. */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		use_openat2 = false;
		errno = ENOSYS;
	}
	return (int)fd;
}

/* The fallback: each directory component with O_NOFOLLOW|O_DIRECTORY. */
static int walk_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	wm_autofree char *copy = wm_xstrdup(rel);
	char *name = copy, *slash;
	int dfd = dirfd;

	while ((slash = strchr(name, '/'))) {
		int next;

		*slash = '\0';
		next = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd != dirfd)
			wm_closep(&dfd);
		if (next < 0)
			return -1;
		dfd = next;
		name = slash + 1;
	}
	{
		int fd = openat(dfd, name, flags, mode);
		int e = errno;

		if (dfd != dirfd)
			close(dfd);
		errno = e;
		return fd;
	}
}

static int raw_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	int fd = try_openat2(dirfd, rel, flags, mode);

	if (fd < 0 && errno == ENOSYS)
		fd = walk_open(dirfd, rel, flags, mode);
	return fd;
}

/* Names what stands in the way after an open failed with `e`: the first
 * component that is a symbolic link or not what was wanted. */
static int explain(int dirfd, const char *shown, const char *rel, int e, bool want_dir,
		   struct wm_error **err)
{
	wm_autofree char *copy = wm_xstrdup(rel);
	struct stat st;
	char *slash = copy;

	for (;;) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = '\0';
		if (fstatat(dirfd, copy, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		if (S_ISLNK(st.st_mode))
			return wm_error_set(err, ELOOP,
					    "`%s/%s` is a symbolic link: wm never follows links in "
					    "its state directory",
					    shown, copy);
		if (!slash && !(want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
			return wm_error_set(err, EINVAL, "`%s/%s` is a %s, not a %s: refused",
					    shown, copy, wm_file_type_name(st.st_mode),
					    want_dir ? "directory" : "regular file");
		if (slash && !S_ISDIR(st.st_mode))
			return wm_error_set(err, ENOTDIR,
					    "`%s/%s` is a %s, not a directory: refused", shown,
					    copy, wm_file_type_name(st.st_mode));
		if (!slash)
			break;
		*slash++ = '/';
	}
	return wm_error_set(err, e, "open %s`%s/%s`", want_dir ? "directory " : "", shown, rel);
}

/* Refuses anything but a regular file; a file written in place must have
 * one link (a hard link could point anywhere the task could reach). */
static int check_fd(int fd, const char *shown, const char *rel, bool writing, struct wm_error **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s/%s`", shown, rel);
	if (!S_ISREG(st.st_mode))
		return wm_error_set(err, EINVAL, "`%s/%s` is a %s, not a regular file: refused",
				    shown, rel, wm_file_type_name(st.st_mode));
	if (writing && st.st_nlink > 1)
		return wm_error_set(err, EMLINK,
				    "`%s/%s` has %lu hard links: refusing to write through a link",
				    shown, rel, (unsigned long)st.st_nlink);
	return 0;
}

/* A private mode (no group or other bits: what wm asks for its state)
 * is exact whatever the umask, which may only take bits away and, when
 * odd, the owner's too: what was just made gets it, and an existing file
 * of ours loses what it has beyond it (logs an older wm made 0644). Any
 * other mode (a file for the user, `wm init`) goes through the umask as
 * open(2) has it. Files of other users are left alone. */
static int private_mode(int fd, const char *shown, const char *rel, mode_t mode, bool made,
			struct wm_error **err)
{
	struct stat st;
	mode_t want;

	if (mode & 077)
		return 0;
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s/%s`", shown, rel);
	want = made ? mode : st.st_mode & mode & 07777;
	if ((st.st_mode & 07777) == want || st.st_uid != geteuid())
		return 0;
	if (fchmod(fd, want) < 0)
		return wm_error_set(err, errno, "chmod `%s/%s`", shown, rel);
	return 0;
}

int wm_safe_open(int dirfd, const char *shown, const char *rel, int oflags, mode_t mode,
		 struct wm_error **err)
{
	bool writing = (oflags & O_ACCMODE) != O_RDONLY;
	bool trunc = oflags & O_TRUNC;
	bool made; /* no file was there: the open below makes it */
	struct stat st;
	int fd;

	if (!wm_safe_rel_ok(rel))
		return wm_error_set(err, EINVAL, "bad name `%s` in `%s`", rel, shown);
	/* Refuse a device or FIFO before opening it at all where we can. */
	if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return explain(dirfd, shown, rel, EINVAL, false, err);
		made = false;
	} else {
		made = (oflags & O_CREAT) && errno == ENOENT;
	}
	fd = raw_open(dirfd, rel, (oflags & ~O_TRUNC) | ALWAYS, mode);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT && !(oflags & O_CREAT))
			return wm_error_set(err, e, "open `%s/%s`", shown, rel);
		return explain(dirfd, shown, rel, e, false, err);
	}
	if (check_fd(fd, shown, rel, writing, err) < 0 ||
	    ((oflags & O_CREAT) && private_mode(fd, shown, rel, mode, made, err) < 0)) {
		close(fd);
		return -1;
	}
	if (trunc && ftruncate(fd, 0) < 0) {
		int e = errno;

		close(fd);
		return wm_error_set(err, e, "truncate `%s/%s`", shown, rel);
	}
	return fd;
}

int wm_safe_opendir(int dirfd, const char *shown, const char *rel, bool create, mode_t mode,
		    struct wm_error **err)
{
	wm_autofree char *copy = NULL;
	struct wm_buf at = WM_BUF_INIT;
	char *name, *slash;
	int dfd = dirfd;

	if (strcmp(rel, ".") == 0) {
		int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		return fd < 0 ? wm_error_set(err, errno, "open directory `%s`", shown) : fd;
	}
	if (!wm_safe_rel_ok(rel))
		return wm_error_set(err, EINVAL, "bad name `%s` in `%s`", rel, shown);
	copy = wm_xstrdup(rel);
	wm_buf_addstr(&at, shown);
	for (name = copy;; name = slash + 1) {
		bool made;
		int next;

		slash = strchr(name, '/');
		if (slash)
			*slash = '\0';
		made = create && mkdirat(dfd, name, mode) == 0;
		if (create && !made && errno != EEXIST) {
			next = wm_error_set(err, errno, "create directory `%s/%s`", at.data, name);
		} else {
			next = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				explain(dfd, at.data, name, errno, true, err);
			else if (made && private_mode(next, at.data, name, mode, true, err) < 0) {
				close(next);
				next = -1;
			}
		}
		if (dfd != dirfd)
			close(dfd);
		dfd = next;
		if (dfd < 0 || !slash)
			break;
		wm_buf_addf(&at, "/%s", name);
	}
	wm_buf_release(&at);
	return dfd;
}

int wm_safe_opendir_path(const char *path, struct wm_error **err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd >= 0)
		return fd;
	if (errno != ENOENT && lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
		return wm_error_set(err, S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR,
				    "`%s` is a %s, not a directory: refused", path,
				    wm_file_type_name(st.st_mode));
	return wm_error_set(err, errno, "open directory `%s`", path);
}

int wm_safe_read_fd(int fd, const char *path, size_t limit, const char *what, struct wm_buf *out,
		    struct wm_error **err)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s`", path);
	if (st.st_size > 0 && (uint64_t)st.st_size > limit)
		return wm_error_set(err, EFBIG, "%s `%s` is %lld bytes, over the limit of %zu",
				    what, path, (long long)st.st_size, limit);
	for (;;) {
		ssize_t n;

		wm_buf_grow(out, 65536);
		n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wm_error_set(err, errno, "read %s `%s`", what, path);
		if (n == 0)
			return 0;
		got += (size_t)n;
		/* The file may grow while it is read: the limit holds anyway. */
		if (got > limit)
			return wm_error_set(err, EFBIG, "%s `%s` is over the limit of %zu bytes",
					    what, path, limit);
		/* wm_buf_setlen only shrinks: grow by hand, keeping the NUL. */
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
}

int wm_safe_read(int dirfd, const char *shown, const char *rel, size_t limit, const char *what,
		 struct wm_buf *out, struct wm_error **err)
{
	wm_autoclose int fd = wm_safe_open(dirfd, shown, rel, O_RDONLY, 0, err);
	wm_autofree char *path = NULL;

	if (fd < 0)
		return -1;
	path = wm_xasprintf("%s/%s", shown, rel);
	return wm_safe_read_fd(fd, path, limit, what, out, err);
}

int wm_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int wm_safe_write_atomic(int dirfd, const char *shown, const char *rel, const void *data,
			 size_t len, mode_t mode, struct wm_error **err)
{
	wm_autofree char *tmp = wm_xasprintf("%s.tmp", rel);
	wm_autoclose int fd = -1;

	/* A stale temporary (or anything planted under its name) goes first:
	 * unlinking a link removes the link, never its target. */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return wm_error_set(err, errno, "remove `%s/%s`", shown, tmp);
	fd = wm_safe_open(dirfd, shown, tmp, O_WRONLY | O_CREAT | O_EXCL, mode, err);
	if (fd < 0)
		return -1;
	if (wm_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return wm_error_set(err, e, "write `%s/%s`", shown, tmp);
	}
	if (renameat(dirfd, tmp, dirfd, rel) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return wm_error_set(err, e, "replace `%s/%s`", shown, rel);
	}
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", shown);
	return 0;
}

/* ---- removal ---- */

/* A tree being removed. A task can nest directories without bound, so
 * one nested deeper than WM_TREE_MAX_DEPTH is moved up into the top
 * directory under a fresh name and removed from there: neither the stack
 * nor the number of open fds grows with the tree's depth. */
struct rm {
	int topfd; /* the directory being removed (-1: none yet) */
	unsigned moved;
	bool again; /* something was moved up since the top was listed */
};

static int remove_at(struct rm *r, int dirfd, const char *shown, const char *name, int depth,
		     struct wm_error **err);

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **wm_safe_list_dir(int dfd, const char *shown, struct wm_error **err)
{
	int fd2 = dup(dfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		wm_error_set(err, errno, "read directory `%s`", shown);
		return NULL;
	}
	/* fdopendir shares the offset with dfd's description: start over. */
	rewinddir(d);
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			wm_strv_push(&names, &n, de->d_name);
	}
	if (errno) {
		wm_error_set(err, errno, "read directory `%s`", shown);
		closedir(d);
		wm_strv_free(names);
		return NULL;
	}
	closedir(d);
	if (!names)
		return wm_xcalloc(1, sizeof(char *));
	qsort(names, n, sizeof(*names), cmp_names);
	return names;
}

/* Opens directory `name` to empty it. A task may have made a directory of
 * its own read-only (a Go module cache is) or unreadable (chmod 000): its
 * owner gets rwx back first, on the directory itself and never through a
 * link (fchmod on its fd; fchmodat with AT_SYMLINK_NOFOLLOW when it cannot
 * be opened). If that fails too, the removal says what is in the way. */
static int open_to_empty(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == EACCES) {
		if (fchmodat(dirfd, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) < 0) {
			errno = EACCES;
			return -1;
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & S_IRWXU) != S_IRWXU &&
	    st.st_uid == geteuid() && fchmod(fd, (st.st_mode | S_IRWXU) & 07777) < 0) {
		/* Not ours to change after all: removing what it holds will say. */
	}
	return fd;
}

/* Moves directory `name` (too deep) into the top directory. */
static int move_up(struct rm *r, int dirfd, const char *shown, const char *name,
		   struct wm_error **err)
{
	char fresh[32];
	struct stat st;

	for (;;) {
		int rc;

		snprintf(fresh, sizeof(fresh), ".wm-deep-%u", r->moved++);
		rc = renameat2(dirfd, name, r->topfd, fresh, RENAME_NOREPLACE);
		/* A file system without RENAME_NOREPLACE: the name is checked
		 * first instead (nothing else writes in a tree being removed). */
		if (rc < 0 && errno == EINVAL) {
			if (fstatat(r->topfd, fresh, &st, AT_SYMLINK_NOFOLLOW) == 0)
				errno = EEXIST;
			else
				rc = renameat(dirfd, name, r->topfd, fresh);
		}
		if (rc == 0) {
			r->again = true;
			return 0;
		}
		if (errno != EEXIST)
			return wm_error_set(err, errno, "move `%s/%s` up to remove it", shown,
					    name);
	}
}

static int empty_dir(struct rm *r, int dirfd, const char *shown, const char *name, int depth,
		     struct wm_error **err)
{
	wm_autoclose int dfd = open_to_empty(dirfd, name);
	wm_autofree char *sub = NULL;
	int rc = 0;

	if (dfd < 0)
		return explain(dirfd, shown, name, errno, true, err);
	if (depth == 0)
		r->topfd = dfd;
	sub = wm_xasprintf("%s/%s", shown, name);
	/* The top is listed again while directories were moved up into it. */
	do {
		wm_autostrv char **names = wm_safe_list_dir(dfd, sub, err);

		if (depth == 0)
			r->again = false;
		if (!names)
			rc = -1;
		for (size_t i = 0; names && names[i] && rc == 0; i++)
			rc = remove_at(r, dfd, sub, names[i], depth + 1, err);
	} while (rc == 0 && depth == 0 && r->again);
	if (depth == 0)
		r->topfd = -1;
	return rc;
}

static int remove_at(struct rm *r, int dirfd, const char *shown, const char *name, int depth,
		     struct wm_error **err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "stat `%s/%s`", shown, name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return wm_error_set(err, errno, "remove `%s/%s`", shown, name);
		return 0;
	}
	if (depth >= WM_TREE_MAX_DEPTH)
		return move_up(r, dirfd, shown, name, err);
	if (empty_dir(r, dirfd, shown, name, depth, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return wm_error_set(err, errno, "remove directory `%s/%s`", shown, name);
	return 0;
}

int wm_safe_remove_tree(int dirfd, const char *shown, const char *rel, struct wm_error **err)
{
	const char *slash = strrchr(rel, '/');
	wm_autofree char *parent = NULL;
	wm_autofree char *pshown = NULL;
	wm_autoclose int pfd = -1;
	struct wm_error *e = NULL;
	struct rm r = { .topfd = -1 };

	if (!wm_safe_rel_ok(rel))
		return wm_error_set(err, EINVAL, "bad name `%s` in `%s`", rel, shown);
	if (!slash)
		return remove_at(&r, dirfd, shown, rel, 0, err);
	parent = wm_xstrndup(rel, (size_t)(slash - rel));
	pfd = wm_safe_opendir(dirfd, shown, parent, false, 0, &e);
	if (pfd < 0) {
		bool missing = e->errnum == ENOENT;

		if (missing || !err)
			wm_error_free(e);
		else
			*err = e;
		return missing ? 0 : -1;
	}
	pshown = wm_xasprintf("%s/%s", shown, parent);
	return remove_at(&r, pfd, pshown, slash + 1, 0, err);
}

/* ---- lines ---- */

void wm_lines_init(struct wm_lines *r, int fd, const char *path, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->path = path;
	r->max_line = max_line;
	wm_buf_init(&r->buf);
}

void wm_lines_release(struct wm_lines *r)
{
	wm_buf_release(&r->buf);
}

/* Reads more bytes, first moving what is unread to the buffer's start. */
static int fill(struct wm_lines *r, struct wm_error **err)
{
	ssize_t n;

	if (r->pos) {
		memmove(r->buf.data, r->buf.data + r->pos, r->buf.len - r->pos);
		wm_buf_setlen(&r->buf, r->buf.len - r->pos);
		r->pos = 0;
	}
	wm_buf_grow(&r->buf, 65536);
	do
		n = read(r->fd, r->buf.data + r->buf.len, 65536);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return wm_error_set(err, errno, "read `%s`", r->path);
	if (n == 0)
		r->eof = true;
	else {
		r->buf.len += (size_t)n;
		r->buf.data[r->buf.len] = '\0';
	}
	return 0;
}

int wm_lines_next(struct wm_lines *r, const char **line, size_t *len, bool *complete,
		  struct wm_error **err)
{
	for (;;) {
		char *start = r->buf.data + r->pos;
		size_t avail = r->buf.len - r->pos;
		char *nl = memchr(start, '\n', avail);

		if (nl || (r->eof && avail)) {
			size_t n = nl ? (size_t)(nl - start) : avail;

			if (n > r->max_line)
				break;
			*line = start;
			*len = n;
			*complete = nl != NULL;
			if (nl)
				*nl = '\0';
			r->pos += n + (nl ? 1 : 0);
			r->offset = r->next;
			r->next += (off_t)(n + (nl ? 1 : 0));
			r->lineno++;
			return 1;
		}
		if (r->eof)
			return 0;
		if (avail > r->max_line)
			break;
		if (fill(r, err) < 0)
			return -1;
	}
	return wm_error_set(err, EFBIG, "`%s` line %llu is longer than the limit of %zu bytes",
			    r->path, (unsigned long long)r->lineno + 1, r->max_line);
}

int wm_safe_last_line(int fd, const char *path, size_t max_line, struct wm_buf *out, off_t *start,
		      off_t *tail, struct wm_error **err)
{
	struct stat st;
	size_t want;
	off_t from;
	ssize_t n;
	char *buf, *nl, *prev;
	int rc = 0;

	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s`", path);
	*tail = 0;
	*start = 0;
	if (st.st_size == 0)
		return 0;
	want = (uint64_t)st.st_size < max_line + 2 ? (size_t)st.st_size : max_line + 2;
	from = st.st_size - (off_t)want;
	buf = wm_xmalloc(want + 1);
	n = pread(fd, buf, want, from);
	if (n != (ssize_t)want) {
		free(buf);
		return wm_error_set(err, n < 0 ? errno : EIO, "read `%s`", path);
	}
	nl = memrchr(buf, '\n', want);
	if (!nl) {
		*tail = from == 0 ? 0 : -1;
		free(buf);
		if (from != 0)
			return wm_error_set(err, EFBIG,
					    "`%s`: last line over the limit of %zu bytes", path,
					    max_line);
		return 0;
	}
	*tail = from + (nl - buf) + 1;
	prev = nl > buf ? memrchr(buf, '\n', (size_t)(nl - buf)) : NULL;
	if (!prev && from != 0) {
		rc = wm_error_set(err, EFBIG, "`%s`: last line over the limit of %zu bytes", path,
				  max_line);
	} else {
		char *s = prev ? prev + 1 : buf;

		wm_buf_setlen(out, 0);
		wm_buf_add(out, s, (size_t)(nl - s));
		*start = from + (s - buf);
		rc = 1;
	}
	free(buf);
	return rc;
}
