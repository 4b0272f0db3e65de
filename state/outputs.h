/*
 * outputs.h - reading what tasks left in a run directory (out/<task>/,
 * or a whole run for its size), and copying it out (`wm cp`).
 *
 * What a task wrote is hostile: names are taken as they are, one path
 * component each; a symbolic link is reported (with its target) and never
 * followed, also as root, so a link to /etc/shadow is never read through;
 * only regular files and directories are read, a FIFO, socket or device is
 * reported and left alone (never opened, so it cannot hang wm). Every
 * directory is opened relative to its parent's fd with O_NOFOLLOW, the
 * starting one through safeio.h (no link on the way from dirfd). Depth is
 * bounded by WM_TREE_MAX_DEPTH; deeper entries are reported, not walked.
 *
 * Lifecycle: none; nothing here holds state between calls. Strings in a
 * struct wm_tree_entry are borrowed for the callback's duration.
 */
#ifndef WM_STATE_OUTPUTS_H
#define WM_STATE_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/error.h"
#include "state/safeio.h" /* WM_TREE_MAX_DEPTH */

struct wm_tree_entry {
	const char *path; /* below the walked directory: "dist/app.tar" */
	struct stat st;	  /* lstat of it */
	const char *link; /* a symbolic link's target, else NULL */
	int error;	  /* a directory that could not be read (errno; not
			   * walked), or ELOOP: nested deeper than the limit */
};

/* Called for every entry below the walked directory (not for itself),
 * parents before children, names sorted. A negative return stops the
 * walk and is returned (with *err set by the callback). */
typedef int (*wm_tree_fn)(const struct wm_tree_entry *e, void *ctx, struct wm_error **err);

/* Walks directory `rel` under dirfd ("." for dirfd itself). A missing
 * directory fails with errnum ENOENT. */
int wm_tree_walk(int dirfd, const char *shown, const char *rel, wm_tree_fn fn, void *ctx,
		 struct wm_error **err);

/* The disk space removing the tree would free, in bytes (st_blocks): the
 * directory itself and everything below it; a file with hard links counts
 * only when all its links are inside the tree, and once. */
int wm_tree_usage(int dirfd, const char *shown, const char *rel, uint64_t *bytes,
		  struct wm_error **err);

/* What wm_copy_out did. `skipped` lists what it left alone, one sentence
 * each ("`x/link` is a symbolic link (to `/etc/shadow`): not followed");
 * release with wm_copy_report_release. */
struct wm_copy_report {
	size_t files, dirs;
	uint64_t bytes;
	char **skipped; /* strv, NULL when nothing was */
	size_t n_skipped;
	char *dest; /* the path of what was written, "DEST/name" or DEST */
};
void wm_copy_report_release(struct wm_copy_report *r);

/*
 * Copies `rel` under dirfd (a regular file, or a directory and what is
 * below it) to `dest`, as cp -R does: into dest when dest is an existing
 * directory (as dest/<last name of rel>), else as dest itself. Modes are
 * kept without the setuid, setgid and sticky bits; files belong to the
 * caller. A file is copied as long as it was when opened (a task still
 * writing cannot make the copy endless). Inside a directory, links,
 * FIFOs, sockets, devices and directories nested too deep are skipped and
 * listed in rep->skipped; `rel` itself being one of them is an error
 * naming it. Copying a file onto itself is refused.
 */
int wm_copy_out(int dirfd, const char *shown, const char *rel, const char *dest,
		struct wm_copy_report *rep, struct wm_error **err);

#endif
