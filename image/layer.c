/*
 * layer.c - applying a layer (a tar, plain, gzip or zstd) onto a tree, with
 * libarchive; the only file of wm's image code that calls it.
 *
 * One pass per layer: the blob is read through a hashing callback (its
 * digest), decompressed by a "raw" reader whose output is hashed again
 * (its diff_id) and fed to the tar reader, whose entries are written below
 * the tree's root. The hashes are compared once the stream has ended; the
 * caller discards the tree on any failure, so nothing extracted from a
 * blob that does not match is ever used.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazyarchive.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "image/internal.h"
#include "state/safeio.h"

#define BLOCK 65536

static const char *strip_dot(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	return p;
}

int img_archive_member(const char *archive, const char *name, size_t limit, struct wm_buf *out,
		       struct wm_error **err)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = -1;

	if (wm_archive_load(err) < 0)
		return -1;
	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, archive, BLOCK) != ARCHIVE_OK) {
		wm_error_setx(err, WM_EXIT_USAGE, "image docker-archive:%s: %s", archive,
			      archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		la_ssize_t n;
		char buf[BLOCK];

		if (strcmp(strip_dot(archive_entry_pathname(e)), strip_dot(name)) != 0)
			continue;
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
			if (out->len + (size_t)n > limit) {
				wm_error_setx(
					err, WM_EXIT_USAGE,
					"image docker-archive:%s: %s is larger than %zu bytes",
					archive, name, limit);
				goto out;
			}
			wm_buf_add(out, buf, (size_t)n);
		}
		rc = n < 0 ? -1 : 0;
		if (n < 0)
			wm_error_setx(err, WM_EXIT_USAGE, "image docker-archive:%s: %s: %s",
				      archive, name, archive_error_string(a));
		goto out;
	}
	wm_error_setx(err, WM_EXIT_USAGE, "image docker-archive:%s: %s", archive,
		      r == ARCHIVE_EOF ? "no such member" : archive_error_string(a));
	if (r == ARCHIVE_EOF)
		wm_error_wrap(err, "%s", name);
out:
	archive_read_free(a);
	return rc;
}

static int env_limit(const char *name, bool size, uint64_t *v, struct wm_error **err)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return 0;
	if (size)
		return wm_parse_size(s, v, err) < 0 ? wm_error_wrapx(err, WM_EXIT_USAGE, "%s", name)
						    : 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s `%s` is not a whole number", name, s);
	return 0;
}

int img_limits_init(struct img_limits *lim, struct wm_error **err)
{
	memset(lim, 0, sizeof(*lim));
	lim->max_entries = WM_IMAGE_DEFAULT_MAX_ENTRIES;
	lim->max_size = WM_IMAGE_DEFAULT_MAX_SIZE;
	if (env_limit("WM_IMAGE_MAX_ENTRIES", false, &lim->max_entries, err) < 0 ||
	    env_limit("WM_IMAGE_MAX_SIZE", true, &lim->max_size, err) < 0)
		return -1;
	return 0;
}

/* ---- the hashing chain ------------------------------------------------------------ */

struct chain {
	int fd;		       /* the blob (oci:), or -1 */
	struct archive *outer; /* the docker-archive positioned at the member, or NULL */
	struct archive *raw;   /* decompresses */
	crypto_hash_sha256_state blob_h, diff_h;
	uint64_t blob_len;
	unsigned char in[BLOCK], mid[BLOCK];
};

static la_ssize_t read_blob(struct archive *a, void *ctx, const void **buf)
{
	struct chain *c = ctx;
	ssize_t n;

	(void)a;
	if (c->outer)
		n = archive_read_data(c->outer, c->in, sizeof(c->in));
	else
		while ((n = read(c->fd, c->in, sizeof(c->in))) < 0 && errno == EINTR)
			;
	if (n > 0) {
		crypto_hash_sha256_update(&c->blob_h, c->in, (unsigned long long)n);
		c->blob_len += (uint64_t)n;
	}
	*buf = c->in;
	return n;
}

static la_ssize_t read_raw(struct archive *a, void *ctx, const void **buf)
{
	struct chain *c = ctx;
	la_ssize_t n = archive_read_data(c->raw, c->mid, sizeof(c->mid));

	(void)a;
	if (n > 0)
		crypto_hash_sha256_update(&c->diff_h, c->mid, (unsigned long long)n);
	*buf = c->mid;
	return n;
}

static void hex_of(crypto_hash_sha256_state *h, char out[WM_IMAGE_DIGEST_LEN])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(h, d);
	img_digest_format(d, out);
}

/* Reads what the tar reader left of both streams, so the hashes cover all. */
static int drain(struct chain *c)
{
	const void *b;
	la_ssize_t n;

	while ((n = read_raw(NULL, c, &b)) > 0)
		;
	if (n < 0)
		return -1;
	while ((n = read_blob(NULL, c, &b)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* ---- entries ---------------------------------------------------------------------- */

struct layer {
	const char *what; /* "image NAME: layer N (DIGEST)" */
	int root;	  /* the tree (also the working directory meanwhile) */
	struct img_limits *lim;
	struct archive *tar, *disk;
	/* What this layer wrote: a whiteout hides only what lower layers
	 * hold. Sorted when a whiteout needs it. */
	char **mine;
	size_t n_mine, alloc_mine;
	bool sorted;
};

static int str_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Did this layer write path, or anything below it? */
static bool layer_wrote(struct layer *L, const char *path)
{
	size_t lo = 0, hi = L->n_mine, n = strlen(path);

	if (!L->n_mine)
		return false;
	if (!L->sorted) {
		qsort(L->mine, L->n_mine, sizeof(*L->mine), str_qcmp);
		L->sorted = true;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(L->mine[mid], path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < L->n_mine && strncmp(L->mine[lo], path, n) == 0; lo++)
		if (L->mine[lo][n] == '\0' || L->mine[lo][n] == '/')
			return true;
	return false;
}

static void layer_note(struct layer *L, const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	WM_GROW(L->mine, L->alloc_mine, L->n_mine + 1);
	L->mine[L->n_mine++] = wm_xstrndup(path, n);
	L->sorted = false;
}

static int open_beneath(int root, const char *rel, struct wm_error **err, const char *what)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));

	if (fd < 0 && errno != ENOENT)
		wm_error_make(err, WM_EXIT_USAGE, errno, "%s: whiteout below `%s`", what, rel);
	return fd;
}

/* `.wh.NAME` removes NAME; `.wh..wh..opq` empties its directory: of what
 * lower layers put there, not of what this one wrote. */
static int whiteout(struct layer *L, int kind, const char *target, struct wm_error **err)
{
	wm_autofree char *dir = wm_xstrdup(target);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	wm_autoclose int fd = -1;
	char **names;

	if (kind == 1) {
		if (layer_wrote(L, target))
			return 0;
		if (slash)
			*slash = '\0';
		fd = open_beneath(L->root, slash ? dir : "", err, L->what);
		if (fd < 0)
			return errno == ENOENT ? 0 : -1;
		return wm_safe_remove_tree(fd, L->what, base, err);
	}
	fd = open_beneath(L->root, target, err, L->what);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	names = wm_safe_list_dir(fd, L->what, err);
	if (!names)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		wm_autofree char *path =
			*target ? wm_xasprintf("%s/%s", target, names[i]) : wm_xstrdup(names[i]);

		if (!layer_wrote(L, path) && wm_safe_remove_tree(fd, L->what, names[i], err) < 0) {
			wm_strv_free(names);
			return -1;
		}
	}
	wm_strv_free(names);
	return 0;
}

static int count(const struct layer *L, struct archive_entry *e, const char *name,
		 struct wm_error **err)
{
	struct img_limits *lim = L->lim;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;

	if (++lim->entries > lim->max_entries)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: more than %llu entries (WM_IMAGE_MAX_ENTRIES)", L->what,
				     (unsigned long long)lim->max_entries);
	if (size < 0 || (uint64_t)size > lim->max_size - lim->size)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: entry `%s` claims %lld bytes, past the limit of %llu "
				     "bytes for the whole image (WM_IMAGE_MAX_SIZE)",
				     L->what, name, (long long)size,
				     (unsigned long long)lim->max_size);
	lim->size += (uint64_t)size;
	return 0;
}

static int copy_data(const struct layer *L, const char *name, struct wm_error **err)
{
	const void *buf;
	size_t size;
	int64_t off;
	int r;

	while ((r = archive_read_data_block(L->tar, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(L->disk, buf, size, off) < ARCHIVE_WARN)
			return wm_error_setx(err, WM_EXIT_USAGE, "%s: write `%s`: %s", L->what,
					     name, archive_error_string(L->disk));
	if (r != ARCHIVE_EOF)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: read `%s`: %s", L->what, name,
				     archive_error_string(L->tar));
	return 0;
}

static int check_link(const struct layer *L, struct archive_entry *e, const char *name,
		      struct wm_error **err)
{
	const char *link = archive_entry_hardlink(e);
	char *t = NULL;

	if (!link)
		return 0;
	if (wm_image_entry_kind(link, &t) != 0 || !*strip_dot(link)) {
		free(t);
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: entry `%s` is a hard link to `%s`, outside the image",
				     L->what, name, link);
	}
	archive_entry_set_hardlink(e, strip_dot(link));
	return 0;
}

/* Extended attributes: only `user.*` ones are restored. security.capability
 * would give a file of the cache privileges on the host, and trusted.* or
 * security.* ones say nothing a task needs. */
static void keep_user_xattrs(struct archive_entry *e)
{
	size_t n = (size_t)archive_entry_xattr_reset(e), k = 0;
	char **names = wm_xcalloc(n + 1, sizeof(*names));
	void **values = wm_xcalloc(n + 1, sizeof(*values));
	size_t *sizes = wm_xcalloc(n + 1, sizeof(*sizes));
	const char *name;
	const void *value;
	size_t size;

	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (k == n || strncmp(name, "user.", 5) != 0)
			continue;
		names[k] = wm_xstrdup(name);
		values[k] = wm_xmalloc(size ? size : 1);
		memcpy(values[k], value, size);
		sizes[k++] = size;
	}
	archive_entry_xattr_clear(e);
	for (size_t i = 0; i < k; i++) {
		archive_entry_xattr_add_entry(e, names[i], values[i], sizes[i]);
		free(names[i]);
		free(values[i]);
	}
	free(names);
	free(values);
	free(sizes);
}

static int entry(struct layer *L, struct archive_entry *e, struct wm_error **err)
{
	wm_autofree char *name = wm_xstrdup(archive_entry_pathname(e));
	wm_autofree char *target = NULL;
	mode_t type = archive_entry_filetype(e);
	int kind = wm_image_entry_kind(name, &target);

	if (kind < 0)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: entry `%s` has a path outside the image", L->what, name);
	if (count(L, e, name, err) < 0)
		return -1;
	if (kind > 0)
		return whiteout(L, kind, target, err);
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK || !*strip_dot(name))
		return 0;
	if (check_link(L, e, name, err) < 0)
		return -1;
	if (geteuid() != 0)
		archive_entry_set_perm(e, archive_entry_perm(e) & ~(mode_t)(S_ISUID | S_ISGID));
	if (archive_entry_uid(e) == 0)
		archive_entry_set_uid(e, L->lim->root_id);
	if (archive_entry_gid(e) == 0)
		archive_entry_set_gid(e, L->lim->root_id);
	archive_entry_set_pathname(e, strip_dot(name));
	keep_user_xattrs(e);
	if (archive_write_header(L->disk, e) < ARCHIVE_WARN)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: entry `%s`: %s", L->what, name,
				     archive_error_string(L->disk));
	if (archive_entry_size(e) > 0 && copy_data(L, name, err) < 0)
		return -1;
	if (archive_write_finish_entry(L->disk) < ARCHIVE_WARN)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: entry `%s`: %s", L->what, name,
				     archive_error_string(L->disk));
	layer_note(L, strip_dot(name));
	return 0;
}

static int entries(struct layer *L, struct wm_error **err)
{
	struct archive_entry *e;
	int r, flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
		       ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_XATTR;

	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	archive_write_disk_set_options(L->disk, flags);
	while ((r = archive_read_next_header(L->tar, &e)) == ARCHIVE_OK)
		if (entry(L, e, err) < 0)
			return -1;
	if (r != ARCHIVE_EOF)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", L->what,
				     archive_error_string(L->tar));
	if (archive_write_close(L->disk) < ARCHIVE_WARN)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", L->what,
				     archive_error_string(L->disk));
	return 0;
}

/* ---- one layer ------------------------------------------------------------------- */

static int open_source(const struct wm_image *img, const struct wm_image_layer *l, struct chain *c,
		       const char *what, struct wm_error **err)
{
	struct archive_entry *e;
	struct stat st;
	int r;

	if (!l->member) {
		wm_autofree char *path =
			wm_xasprintf("%s/blobs/sha256/%s", img->ref.path, l->digest + 7);

		c->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->fd < 0)
			return wm_error_make(err, WM_EXIT_USAGE, errno, "%s: blob %s", what, path);
		if (fstat(c->fd, &st) != 0 || !S_ISREG(st.st_mode))
			return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s is not a file", what,
					     path);
		if ((uint64_t)st.st_size != l->size)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "%s: the blob is %lld bytes, the manifest says %llu "
					     "(truncated?)",
					     what, (long long)st.st_size,
					     (unsigned long long)l->size);
		return 0;
	}
	c->outer = archive_read_new();
	archive_read_support_format_tar(c->outer);
	if (archive_read_open_filename(c->outer, img->ref.path, BLOCK) != ARCHIVE_OK)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", what,
				     archive_error_string(c->outer));
	while ((r = archive_read_next_header(c->outer, &e)) == ARCHIVE_OK)
		if (strcmp(strip_dot(archive_entry_pathname(e)), strip_dot(l->member)) == 0)
			return 0;
	return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", what,
			     r == ARCHIVE_EOF ? "no such member in the archive"
					      : archive_error_string(c->outer));
}

static int open_chain(struct chain *c, struct archive **tar, const char *what,
		      struct wm_error **err)
{
	struct archive_entry *e;

	crypto_hash_sha256_init(&c->blob_h);
	crypto_hash_sha256_init(&c->diff_h);
	c->raw = archive_read_new();
	archive_read_support_filter_all(c->raw);
	archive_read_support_format_raw(c->raw);
	if (archive_read_open(c->raw, c, NULL, read_blob, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c->raw, &e) != ARCHIVE_OK)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", what,
				     archive_error_string(c->raw));
	*tar = archive_read_new();
	archive_read_support_format_tar(*tar);
	if (archive_read_open(*tar, c, NULL, read_raw, NULL) != ARCHIVE_OK)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: not a tar: %s", what,
				     archive_error_string(*tar));
	return 0;
}

static int verify(const struct wm_image_layer *l, struct chain *c, const char *what,
		  struct wm_error **err)
{
	char blob[WM_IMAGE_DIGEST_LEN], diff[WM_IMAGE_DIGEST_LEN];

	if (drain(c) < 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s", what,
				     archive_error_string(c->raw));
	hex_of(&c->blob_h, blob);
	hex_of(&c->diff_h, diff);
	if (!l->member && (c->blob_len != l->size || strcmp(blob, l->digest) != 0))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: the blob does not match its digest (%llu bytes hashing "
				     "to %s)",
				     what, (unsigned long long)c->blob_len, blob);
	if (strcmp(diff, l->diff_id) != 0)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: the uncompressed layer hashes to %s, not its diff_id %s",
				     what, diff, l->diff_id);
	return 0;
}

/* A layer that failed to extract may be a blob that does not match its
 * digest (damaged or tampered with): then that is the error to give. */
static void blame_blob(const struct wm_image_layer *l, struct chain *c, const char *what,
		       struct wm_error **err)
{
	char blob[WM_IMAGE_DIGEST_LEN];
	const void *b;

	while (read_blob(NULL, c, &b) > 0)
		;
	hex_of(&c->blob_h, blob);
	if (c->blob_len == l->size && strcmp(blob, l->digest) == 0)
		return;
	if (err && *err) {
		wm_error_free(*err);
		*err = NULL;
	}
	wm_error_setx(err, WM_EXIT_USAGE,
		      "%s: the blob does not match its digest (%llu bytes hashing to %s)", what,
		      (unsigned long long)c->blob_len, blob);
}

int img_apply_layer(const struct wm_image *img, size_t i, int root, struct img_limits *lim,
		    struct wm_error **err)
{
	const struct wm_image_layer *l = &img->layers[i];
	wm_autofree char *what = wm_xasprintf("image %s: layer %zu (%s)", img->name, i + 1,
					      l->member ? l->member : l->digest);
	struct chain *c = wm_xcalloc(1, sizeof(*c));
	struct layer L = { .what = what, .root = root, .lim = lim };
	wm_autoclose int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;

	c->fd = -1;
	if (wm_archive_load(err) < 0) {
		free(c); /* nothing of libarchive's to free without it */
		return -1;
	}
	if (cwd < 0) {
		wm_error_set(err, errno, "open the working directory");
		goto out;
	}
	if (open_source(img, l, c, what, err) < 0 || open_chain(c, &L.tar, what, err) < 0)
		goto out;
	/* Entry names are relative to the tree; libarchive's SECURE flags then
	 * refuse `..`, absolute names and writes through links inside it. */
	if (fchdir(root) != 0) {
		wm_error_set(err, errno, "%s: enter the tree", what);
		goto out;
	}
	L.disk = archive_write_disk_new();
	rc = entries(&L, err);
	if (fchdir(cwd) != 0 && rc == 0)
		rc = wm_error_set(err, errno, "return to the working directory");
	if (rc == 0)
		rc = verify(l, c, what, err);
	else if (!l->member)
		blame_blob(l, c, what, err);
out:
	archive_write_free(L.disk);
	for (size_t k = 0; k < L.n_mine; k++)
		free(L.mine[k]);
	free(L.mine);
	archive_read_free(L.tar);
	archive_read_free(c->raw);
	archive_read_free(c->outer);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}
