/*
 * outputs.c - walking what tasks left, without following it (outputs.h).
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

struct walk {
	wm_tree_fn fn;
	void *ctx;
	const char *shown;  /* "<shown>/<rel>", for messages */
	struct wm_buf path; /* of the entry, below the walked directory */
};

static int walk_dir(struct walk *w, int dfd, int depth, struct wm_error **err);

/* A directory entry: reported, then walked when it can be. */
static int walk_subdir(struct walk *w, int dfd, const char *name, struct wm_tree_entry *e,
		       int depth, struct wm_error **err)
{
	wm_autoclose int sub = -1;

	if (depth + 1 >= WM_TREE_MAX_DEPTH) {
		e->error = ELOOP;
		return w->fn(e, w->ctx, err);
	}
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		e->error = errno;
	if (w->fn(e, w->ctx, err) < 0)
		return -1;
	return sub < 0 ? 0 : walk_dir(w, sub, depth + 1, err);
}

static int walk_one(struct walk *w, int dfd, const char *name, int depth, struct wm_error **err)
{
	struct wm_tree_entry e = { .path = w->path.data };
	char target[PATH_MAX];

	if (fstatat(dfd, name, &e.st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) /* gone meanwhile: a live task's */
			return 0;
		return wm_error_set(err, errno, "stat `%s/%s`", w->shown, w->path.data);
	}
	if (S_ISDIR(e.st.st_mode))
		return walk_subdir(w, dfd, name, &e, depth, err);
	if (S_ISLNK(e.st.st_mode)) {
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);

		target[n < 0 ? 0 : n] = '\0';
		e.link = target;
	}
	return w->fn(&e, w->ctx, err);
}

static int walk_dir(struct walk *w, int dfd, int depth, struct wm_error **err)
{
	size_t base = w->path.len;
	wm_autofree char *shown = wm_xasprintf("%s%s%s", w->shown, base ? "/" : "", w->path.data);
	wm_autostrv char **names = wm_safe_list_dir(dfd, shown, err);

	if (!names)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		wm_buf_setlen(&w->path, base);
		if (base)
			wm_buf_addch(&w->path, '/');
		wm_buf_addstr(&w->path, names[i]);
		if (walk_one(w, dfd, names[i], depth, err) < 0)
			return -1;
	}
	wm_buf_setlen(&w->path, base);
	return 0;
}

/* The walk, and the stat of the walked directory itself when `root`. */
static int tree_walk(int dirfd, const char *shown, const char *rel, wm_tree_fn fn, void *ctx,
		     struct stat *root, struct wm_error **err)
{
	struct walk w = { .fn = fn, .ctx = ctx, .path = WM_BUF_INIT };
	wm_autofree char *at =
		strcmp(rel, ".") == 0 ? wm_xstrdup(shown) : wm_xasprintf("%s/%s", shown, rel);
	wm_autoclose int fd = wm_safe_opendir(dirfd, shown, rel, false, 0, err);
	int rc;

	if (fd < 0)
		return -1;
	if (root && fstat(fd, root) < 0)
		return wm_error_set(err, errno, "stat `%s`", at);
	w.shown = at;
	rc = walk_dir(&w, fd, 0, err);
	wm_buf_release(&w.path);
	return rc;
}

int wm_tree_walk(int dirfd, const char *shown, const char *rel, wm_tree_fn fn, void *ctx,
		 struct wm_error **err)
{
	return tree_walk(dirfd, shown, rel, fn, ctx, NULL, err);
}

/* ---- usage ---- */

struct linked {
	dev_t dev;
	ino_t ino;
	nlink_t nlink;
	uint64_t bytes;
};

struct usage {
	uint64_t bytes;
	struct linked *v; /* files with more than one link, seen once per link */
	size_t n, alloc;
};

static int add_usage(const struct wm_tree_entry *e, void *ctx, struct wm_error **err)
{
	struct usage *u = ctx;
	uint64_t bytes = (uint64_t)e->st.st_blocks * 512;

	(void)err;
	if (S_ISDIR(e->st.st_mode) || e->st.st_nlink <= 1) {
		u->bytes += bytes;
		return 0;
	}
	WM_GROW(u->v, u->alloc, u->n + 1);
	u->v[u->n++] = (struct linked){ e->st.st_dev, e->st.st_ino, e->st.st_nlink, bytes };
	return 0;
}

static int cmp_linked(const void *a, const void *b)
{
	const struct linked *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

int wm_tree_usage(int dirfd, const char *shown, const char *rel, uint64_t *bytes,
		  struct wm_error **err)
{
	struct usage u = { 0 };
	struct stat root;
	int rc = tree_walk(dirfd, shown, rel, add_usage, &u, &root, err);

	if (rc == 0) {
		u.bytes += (uint64_t)root.st_blocks * 512;
		if (u.n)
			qsort(u.v, u.n, sizeof(*u.v), cmp_linked);
		/* A file linked from outside too stays when the tree goes. */
		for (size_t i = 0, j; i < u.n; i = j) {
			for (j = i; j < u.n && u.v[j].dev == u.v[i].dev && u.v[j].ino == u.v[i].ino;
			     j++)
				;
			if (j - i >= u.v[i].nlink)
				u.bytes += u.v[i].bytes;
		}
		*bytes = u.bytes;
	}
	free(u.v);
	return rc;
}
