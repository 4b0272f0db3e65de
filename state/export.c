/*
 * export.c - a run directory as .tar.zst (see export.h).
 */
#include "state/export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazyarchive.h"
#include "common/xalloc.h"
#include "state/rundir.h"

struct exporter {
	struct archive *a;
	const char *run_id;
	const char *out_path;
	dev_t out_dev;
	ino_t out_ino;
};

static int arc_error(struct exporter *x, const char *what, struct wm_error **err)
{
	return wm_error_set(err, archive_errno(x->a), "export: %s: %s", what,
			    archive_error_string(x->a) ? archive_error_string(x->a) : "?");
}

static int add_file_data(struct exporter *x, int dirfd, const char *name, const char *arcname,
			 struct wm_error **err)
{
	wm_autoclose int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return wm_error_set(err, errno, "export: open `%s`", arcname);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(x->a, buf, (size_t)n) < 0)
			return arc_error(x, arcname, err);
	if (n < 0)
		return wm_error_set(err, errno, "export: read `%s`", arcname);
	return 0;
}

static int add_dir(struct exporter *x, int dirfd, const char *arcdir, int depth,
		   struct wm_error **err);

static int add_entry(struct exporter *x, int dirfd, const char *name, const char *arcdir, int depth,
		     struct wm_error **err)
{
	wm_autofree char *arcname = wm_xasprintf("%s/%s", arcdir, name);
	struct archive_entry *e;
	struct stat st;
	char target[4096];
	int rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return wm_error_set(err, errno, "export: stat `%s`", arcname);
	/* Never archive the archive being written (exported into the run dir). */
	if (st.st_dev == x->out_dev && st.st_ino == x->out_ino)
		return 0;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
		return 0;
	e = archive_entry_new();
	archive_entry_set_pathname(e, arcname);
	archive_entry_copy_stat(e, &st);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

		if (n < 0) {
			archive_entry_free(e);
			return wm_error_set(err, errno, "export: readlink `%s`", arcname);
		}
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
	}
	if (S_ISDIR(st.st_mode))
		archive_entry_set_size(e, 0);
	if (archive_write_header(x->a, e) < ARCHIVE_WARN)
		rc = arc_error(x, arcname, err);
	archive_entry_free(e);
	if (rc < 0)
		return rc;
	if (S_ISREG(st.st_mode))
		return add_file_data(x, dirfd, name, arcname, err);
	if (S_ISDIR(st.st_mode)) {
		wm_autoclose int sub =
			openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (sub < 0)
			return wm_error_set(err, errno, "export: open `%s`", arcname);
		return add_dir(x, sub, arcname, depth + 1, err);
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct exporter *x, int dirfd, const char *arcdir, int depth,
		   struct wm_error **err)
{
	int fd2 = dup(dirfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return wm_error_set(err, errno, "export: read directory `%s`", arcdir);
	}
	if (depth > 64) {
		closedir(d);
		return wm_error_set(err, ELOOP, "export: `%s` nests too deep", arcdir);
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		WM_GROW(names, alloc, n + 1);
		names[n++] = wm_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && strcmp(names[i], "checkpoint.json.zst.tmp") != 0)
			rc = add_entry(x, dirfd, names[i], arcdir, depth, err);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int write_archive(struct exporter *x, const char *run_dir, const char *tmp,
			 struct wm_error **err)
{
	/* The run directory itself must not be a link either (safeio.h). */
	wm_autoclose int dirfd = wm_rundir_open_fd(run_dir, err);
	struct archive_entry *e;
	struct stat st;

	if (dirfd < 0)
		return wm_error_wrap(err, "export");
	if (fstat(dirfd, &st) < 0)
		return wm_error_set(err, errno, "export: open run directory `%s`", run_dir);
	if (archive_write_add_filter_zstd(x->a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(x->a) != ARCHIVE_OK ||
	    archive_write_open_filename(x->a, tmp) != ARCHIVE_OK)
		return arc_error(x, tmp, err);
	e = archive_entry_new();
	archive_entry_set_pathname(e, x->run_id);
	archive_entry_copy_stat(e, &st);
	archive_entry_set_size(e, 0);
	if (archive_write_header(x->a, e) < ARCHIVE_WARN) {
		archive_entry_free(e);
		return arc_error(x, x->run_id, err);
	}
	archive_entry_free(e);
	if (add_dir(x, dirfd, x->run_id, 0, err) < 0)
		return -1;
	if (archive_write_close(x->a) != ARCHIVE_OK)
		return arc_error(x, tmp, err);
	return 0;
}

int wm_export_run(const char *run_dir, const char *run_id, const char *out_path,
		  struct wm_error **err)
{
	wm_autofree char *tmp = NULL;
	struct exporter x = { .run_id = run_id, .out_path = out_path };
	wm_autoclose int probe = -1;
	struct stat st;
	int rc;

	if (wm_archive_load(err) < 0)
		return -1;
	tmp = wm_xasprintf("%s.tmp.%d", out_path, (int)getpid());
	probe = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	/* The bundle holds what the run directory does: its owner's alone
	 * (0600 whatever the umask) until they choose to share it. */
	if (probe < 0 || fchmod(probe, 0600) < 0 || fstat(probe, &st) < 0)
		return wm_error_set(err, errno, "export: create `%s`", tmp);
	x.out_dev = st.st_dev;
	x.out_ino = st.st_ino;
	x.a = archive_write_new();
	rc = write_archive(&x, run_dir, tmp, err);
	archive_write_free(x.a);
	if (rc == 0 && rename(tmp, out_path) < 0)
		rc = wm_error_set(err, errno, "export: rename to `%s`", out_path);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
