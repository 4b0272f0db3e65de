/*
 * rootfs.c - a policy's rootfs: a directory is used as it is; a tarball (any
 * format libarchive reads) is extracted once into the cache, under the
 * SHA-256 of its content, and reused. Extraction goes to a temporary
 * directory renamed into place, so a half-extracted tree is never used.
 * Device nodes are skipped (a sandbox gets its own /dev).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazyarchive.h"
#include "common/xalloc.h"
#include "common/strutil.h"
#include "image/image.h"
#include "sandbox/internal.h"

static int hash_file(const char *path, char hex[65], struct wm_error **err)
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];
	unsigned char buf[65536];
	wm_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return wm_error_set(err, errno, "open rootfs `%s`", path);
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	if (n < 0)
		return wm_error_set(err, errno, "read rootfs `%s`", path);
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, 65, h, sizeof(h));
	return 0;
}

static const char *skip_slashes(const char *s)
{
	while (*s == '/')
		s++;
	return s;
}

static int extract(const char *tarball, const char *dir, struct wm_error **err)
{
	struct archive *in, *out;
	struct archive_entry *e;
	int rc = -1, r;

	if (wm_archive_load(err) < 0)
		return -1;
	in = archive_read_new();
	out = archive_write_disk_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_all(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	if (archive_read_open_filename(in, tarball, 65536) != ARCHIVE_OK) {
		wm_error_set(err, archive_errno(in), "rootfs `%s`: %s", tarball,
			     archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		wm_autofree char *path = NULL;
		mode_t type = archive_entry_filetype(e);

		if (type == AE_IFCHR || type == AE_IFBLK)
			continue;
		/* Names are made relative to `dir` here (absolute ones included);
		 * libarchive refuses ".." and writing through symlinks. */
		path = wm_xasprintf("%s/%s", dir, skip_slashes(archive_entry_pathname(e)));
		archive_entry_set_pathname(e, path);
		if (archive_entry_hardlink(e)) {
			wm_autofree char *l =
				wm_xasprintf("%s/%s", dir, skip_slashes(archive_entry_hardlink(e)));
			archive_entry_set_hardlink(e, l);
		}
		if (archive_write_header(out, e) == ARCHIVE_OK) {
			const void *buf;
			size_t size;
			int64_t off;

			while (archive_read_data_block(in, &buf, &size, &off) == ARCHIVE_OK)
				archive_write_data_block(out, buf, size, off);
		}
		archive_write_finish_entry(out);
	}
	if (r != ARCHIVE_EOF) {
		wm_error_set(err, archive_errno(in), "rootfs `%s`: %s", tarball,
			     archive_error_string(in));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

char *sb_rootfs_prepare(const char *rootfs, struct wm_error **err)
{
	struct stat st;
	char hex[65];
	wm_autofree char *base = NULL;
	wm_autofree char *tmp = NULL;
	char *dir;

	if (stat(rootfs, &st) != 0)
		return wm_error_set(err, errno, "rootfs `%s`", rootfs), NULL;
	if (S_ISDIR(st.st_mode))
		return realpath(rootfs, NULL);
	if (hash_file(rootfs, hex, err) < 0)
		return NULL;
	/* A cache another user could write would hand them our root. */
	base = sb_cache_dir("rootfs", err);
	if (!base)
		return NULL;
	dir = wm_xasprintf("%s/%s", base, hex);
	if (access(dir, F_OK) == 0)
		return dir;
	tmp = wm_xasprintf("%s/.tmp-%s-%d", base, hex, (int)getpid());
	mkdir(tmp, 0755);
	if (extract(rootfs, tmp, err) < 0 ||
	    (rename(tmp, dir) != 0 && errno != ENOTEMPTY && errno != EEXIST)) {
		if (err && !*err)
			wm_error_set(err, errno, "rootfs cache %s", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

static int image_user(struct wm_sandbox_profile *prof, const struct wm_image *img, const char *dir,
		      struct wm_error **err)
{
	wm_autoclose int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (root < 0)
		return wm_error_set(err, errno, "image %s: open its tree", img->name);
	if (wm_image_user_ids(img->user, img->name, root, &prof->image_uid, &prof->image_gid, err) <
	    0)
		return -1;
	prof->image_user = true;
	return 0;
}

char *sb_image_prepare(struct wm_sandbox_profile *prof, const char *ref, struct wm_error **err)
{
	struct wm_image *img = NULL;
	wm_autofree char *base = NULL;
	char *dir = NULL;

	/* Relative paths were made absolute where the reference was read. */
	if (wm_image_open(ref, NULL, &img, err) < 0)
		return NULL;
	/* A cache another user could write would hand them our root. */
	base = sb_cache_dir("images", err);
	if (base)
		dir = wm_image_prepare(img, base, WM_SANDBOX_ROOT_ID, err);
	if (dir && img->user && image_user(prof, img, dir, err) < 0) {
		free(dir);
		dir = NULL;
	}
	if (dir) {
		prof->image_env = wm_strv_dup(img->env);
		prof->image_workdir = img->workdir ? wm_xstrdup(img->workdir) : NULL;
	}
	wm_image_free(img);
	return dir;
}
