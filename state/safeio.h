/*
 * safeio.h - how wm opens what it keeps in the state directory.
 *
 * Tasks may be able to write into the state directory (a `minimal` task, a
 * workspace that contains it), so nothing found there is trusted:
 *   - every file and directory is opened relative to a directory fd, one
 *     plain name at a time (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS
 *     where the kernel has it, else openat with O_NOFOLLOW per component);
 *     a symbolic link anywhere below that fd is an error naming it, never
 *     followed;
 *   - only regular files (and directories, where a directory is wanted) are
 *     used: a FIFO, socket or device in place of a state file is refused
 *     (opened O_NONBLOCK|O_NOCTTY so that the refusal itself cannot hang);
 *   - a file wm writes in place must have exactly one link, so a hard link
 *     to a file elsewhere is refused; O_TRUNC happens after those checks;
 *   - every read is bounded by a limit the caller names, and a file over
 *     it is an error that names the limit.
 *
 * `rel` is relative to dirfd and made of plain names: no empty, "." or ".."
 * component, no leading '/'. `shown` is the directory's path for messages
 * ("`<shown>/<rel>` is a FIFO, not a regular file"). Every function returns
 * -1 (or NULL) with *err set; err->errnum keeps the errno (ENOENT for a
 * missing file, so callers can treat absence as they see fit).
 */
#ifndef WM_STATE_SAFEIO_H
#define WM_STATE_SAFEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/error.h"

/* True when rel is a relative path of plain names (see above). */
bool wm_safe_rel_ok(const char *rel);

/* Opens rel under dirfd. oflags: O_RDONLY, O_WRONLY or O_RDWR, with any of
 * O_CREAT, O_EXCL, O_TRUNC, O_APPEND; O_NOFOLLOW, O_CLOEXEC, O_NOCTTY and
 * O_NONBLOCK are always added. Returns the fd of a regular file. With
 * O_CREAT and a private mode (no group or other bits) a file made has
 * exactly `mode` whatever the umask, and one of ours that existed loses
 * any bit beyond it; other modes go through the umask as in open(2). */
int wm_safe_open(int dirfd, const char *shown, const char *rel, int oflags, mode_t mode,
		 struct wm_error **err);

/* Opens directory rel under dirfd (O_DIRECTORY), creating each missing
 * component with `mode` when `create` (exactly, whatever the umask, when
 * it is private, as wm_safe_open). rel "." opens dirfd itself again. */
int wm_safe_opendir(int dirfd, const char *shown, const char *rel, bool create, mode_t mode,
		    struct wm_error **err);

/* A directory given by the user (the state directory, a run directory):
 * every component but the last is resolved as usual, the last must not be
 * a symbolic link. */
int wm_safe_opendir_path(const char *path, struct wm_error **err);

/* Reads all of rel into out (appending), refusing more than `limit` bytes;
 * `what` names the file in messages ("checkpoint", "journal"). */
int wm_safe_read(int dirfd, const char *shown, const char *rel, size_t limit, const char *what,
		 struct wm_buf *out, struct wm_error **err);
/* The same from an open fd (from its current offset); `path` for messages. */
int wm_safe_read_fd(int fd, const char *path, size_t limit, const char *what, struct wm_buf *out,
		    struct wm_error **err);

/* Writes data to rel atomically: rel.tmp (created O_EXCL after removing a
 * stale one), fsync, renameat over rel, fsync of the directory. */
int wm_safe_write_atomic(int dirfd, const char *shown, const char *rel, const void *data,
			 size_t len, mode_t mode, struct wm_error **err);

/* write(2) until done, retrying EINTR. 0 or -1 with errno. */
int wm_write_all(int fd, const void *data, size_t len);

/* How deep wm walks a tree a task made before it does something else:
 * removal moves deeper directories up (so any depth goes), readers report
 * them unread (outputs.h). */
#define WM_TREE_MAX_DEPTH 256

/* rm -rf of rel under dirfd, fd-relative all the way down, never following
 * a symbolic link (a link is removed, not its target), at any depth, and
 * giving a directory of the caller's own that a task made read-only or
 * unreadable its owner's rwx back. Missing: 0. */
int wm_safe_remove_tree(int dirfd, const char *shown, const char *rel, struct wm_error **err);

/* The names in open directory dfd but "." and "..", sorted (a strv the
 * caller frees with wm_strv_free), read from the start whatever dfd's
 * offset. NULL with *err when it cannot be read. */
char **wm_safe_list_dir(int dfd, const char *shown, struct wm_error **err);

/* The file type as a noun for messages: "FIFO", "socket", ... */
const char *wm_file_type_name(mode_t mode);

/*
 * Reads a file line by line with bounded memory: lines longer than max_line
 * are an error. Lifecycle: wm_lines_init -> wm_lines_next... ->
 * wm_lines_release (does not close fd).
 */
struct wm_lines {
	int fd;
	const char *path; /* borrowed, for messages */
	size_t max_line;
	struct wm_buf buf;
	size_t pos; /* start of unread bytes in buf */
	bool eof;
	uint64_t lineno; /* of the line last returned */
	off_t offset;	 /* file offset of the line last returned */
	off_t next;	 /* file offset of the next line */
};
void wm_lines_init(struct wm_lines *r, int fd, const char *path, size_t max_line);
/* 1: *line and *len hold the next line without its '\n' (*complete false when
 * the file ends without one); 0: end of file; -1: error. The line stays
 * valid until the next call. */
int wm_lines_next(struct wm_lines *r, const char **line, size_t *len, bool *complete,
		  struct wm_error **err);
void wm_lines_release(struct wm_lines *r);

/*
 * The last complete line of an open file, read from its end (at most
 * max_line bytes): copied into out (without '\n'), *start its offset.
 * *tail is the offset just past the last '\n' (the file size when the file
 * ends with one; less when a torn last line follows). Returns 1 when a
 * complete line exists, 0 when none, -1 on error.
 */
int wm_safe_last_line(int fd, const char *path, size_t max_line, struct wm_buf *out, off_t *start,
		      off_t *tail, struct wm_error **err);

/* *err's errno (0 when err or *err is NULL): callers may pass err NULL to
 * mean "do not tell me why". */
static inline int wm_err_errnum(struct wm_error **err)
{
	return err && *err ? (*err)->errnum : 0;
}

/* Hands a local error up to err, or frees it when err is NULL. */
static inline void wm_err_pass(struct wm_error **err, struct wm_error *e)
{
	if (err && !*err)
		*err = e;
	else
		wm_error_free(e);
}

/* Test-only: false makes wm_safe_* use the openat fallback even where the
 * kernel has openat2 (both paths are tested on one kernel). */
void wm_safeio_use_openat2(bool use);

#endif
