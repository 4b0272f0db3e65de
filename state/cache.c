/*
 * cache.c - the task cache's store in <state>/cache (cache.h).
 */
#include "state/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/crashpoint.h"
#include "state/safeio.h"

#define MANIFEST "manifest.json"
#define FILES "files"
#define TMP_PREFIX ".tmp."

int wm_cache_open(const char *state_dir, bool create, struct wm_error **err)
{
	wm_autoclose int sfd = wm_safe_opendir_path(state_dir, err);

	if (sfd < 0)
		return -1;
	return wm_safe_opendir(sfd, state_dir, WM_CACHE_DIR, create, 0700, err);
}

static char *manifest_rel(const char *key)
{
	return wm_xasprintf("%s/" MANIFEST, key);
}

int wm_cache_get(int cfd, const char *key, struct wm_cache_manifest *m, struct wm_error **err)
{
	wm_autofree char *rel = manifest_rel(key);
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *e = NULL;
	json_error_t je;
	json_t *j;
	int rc;

	if (!wm_cache_key_valid(key))
		return wm_error_setx(err, WM_EXIT_USAGE, "`%s` is not a cache key", key);
	if (wm_safe_read(cfd, WM_CACHE_DIR, rel, WM_CACHE_MANIFEST_MAX, "cache manifest", &b, &e) <
	    0) {
		wm_buf_release(&b);
		if (e->errnum == ENOENT) {
			wm_error_free(e);
			return 0;
		}
		wm_err_pass(err, e);
		return -1;
	}
	j = json_loadb(b.data, b.len, 0, &je);
	wm_buf_release(&b);
	if (!j)
		return wm_error_setx(err, WM_EXIT_FAILED, "cache entry %.12s: manifest: %s", key,
				     je.text);
	rc = wm_cache_manifest_from_json(j, m, err);
	json_decref(j);
	if (rc < 0)
		return wm_error_wrap(err, "cache entry %.12s", key);
	if (strcmp(m->key, key) != 0)
		return wm_error_setx(err, WM_EXIT_FAILED,
				     "cache entry %.12s: its manifest is %.12s's", key, m->key);
	return 1;
}

static char *file_rel(const char *key, const char *path)
{
	return wm_xasprintf("%s/" FILES "/%s", key, path);
}

int wm_cache_verify(int cfd, const struct wm_cache_manifest *m, char **why, struct wm_error **err)
{
	*why = NULL;
	for (size_t i = 0; i < m->n_files; i++) {
		const struct wm_cache_file *f = &m->files[i];
		wm_autofree char *rel = NULL;
		char hash[WM_CACHE_HEX];
		uint64_t size;
		struct wm_error *e = NULL;
		int fd;

		if (f->type != 'f')
			continue;
		rel = file_rel(m->key, f->path);
		fd = wm_safe_open(cfd, WM_CACHE_DIR, rel, O_RDONLY, 0, &e);
		if (fd < 0) {
			*why = wm_xasprintf("`%s` cannot be opened: %s", f->path, e->msg);
			wm_error_free(e);
			return 1;
		}
		if (wm_cache_hash_fd(fd, rel, hash, &size, err) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		if (size != f->size || strcmp(hash, f->hash) != 0) {
			*why = wm_xasprintf("`%s` does not match its recorded hash", f->path);
			return 1;
		}
	}
	return 0;
}

/* One regular file copied from `from` (open) to a new file `name` in
 * directory fd `to`. */
static int copy_file(int from, const char *shown, int to, const char *name, mode_t mode,
		     struct wm_error **err)
{
	wm_autoclose int out =
		wm_safe_open(to, shown, name, O_WRONLY | O_CREAT | O_EXCL, mode, err);
	char buf[65536];
	ssize_t n;

	if (out < 0)
		return -1;
	while ((n = read(from, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || wm_write_all(out, buf, (size_t)n) < 0)
			return wm_error_set(err, errno, "copy `%s`", name);
	}
	if (fchmod(out, mode) < 0)
		return wm_error_set(err, errno, "chmod `%s`", name);
	return 0;
}

static int restore_one(int efd, const struct wm_cache_file *f, int out, struct wm_error **err)
{
	wm_autoclose int src = -1;

	if (f->type == 'd')
		return mkdirat(out, f->path, 0700) < 0 && errno != EEXIST
			       ? wm_error_set(err, errno, "mkdir `%s`", f->path)
			       : 0;
	if (f->type == 'l')
		return symlinkat(f->link, out, f->path) < 0
			       ? wm_error_set(err, errno, "symlink `%s`", f->path)
			       : 0;
	/* The entry is private and verified: a link shares it read-only. */
	if (linkat(efd, f->path, out, f->path, 0) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return wm_error_set(err, errno, "link `%s` from the cache", f->path);
	src = wm_safe_open(efd, WM_CACHE_DIR, f->path, O_RDONLY, 0, err);
	return src < 0 ? -1 : copy_file(src, WM_CACHE_DIR, out, f->path, f->mode, err);
}

int wm_cache_restore(int cfd, const struct wm_cache_manifest *m, int out, struct wm_error **err)
{
	wm_autofree char *rel = wm_xasprintf("%s/" FILES, m->key);
	wm_autoclose int efd = wm_safe_opendir(cfd, WM_CACHE_DIR, rel, false, 0, err);

	if (efd < 0)
		return -1;
	for (size_t i = 0; i < m->n_files; i++)
		if (restore_one(efd, &m->files[i], out, err) < 0)
			return -1;
	/* Directories get their modes once what they hold is in. */
	for (size_t i = m->n_files; i-- > 0;)
		if (m->files[i].type == 'd' &&
		    fchmodat(out, m->files[i].path, m->files[i].mode | 0700, 0) < 0)
			return wm_error_set(err, errno, "chmod `%s`", m->files[i].path);
	return 0;
}

void wm_cache_touch(int cfd, const char *key)
{
	wm_autofree char *rel = manifest_rel(key);

	(void)utimensat(cfd, rel, NULL, AT_SYMLINK_NOFOLLOW);
}

/* Copies the listed tree into tmp/files, checking each file against what
 * the listing hashed: a file changed meanwhile is not kept. */
static int copy_in(int dirfd, const char *shown, const char *rel, int files,
		   const struct wm_cache_manifest *m, struct wm_error **err)
{
	for (size_t i = 0; i < m->n_files; i++) {
		const struct wm_cache_file *f = &m->files[i];
		wm_autofree char *from = strcmp(rel, ".") == 0
						 ? wm_xstrdup(f->path)
						 : wm_xasprintf("%s/%s", rel, f->path);
		wm_autoclose int src = -1;
		char hash[WM_CACHE_HEX];

		if (f->type == 'd') {
			if (mkdirat(files, f->path, 0700) < 0)
				return wm_error_set(err, errno, "mkdir `%s` in the cache", f->path);
			continue;
		}
		if (f->type == 'l') {
			if (symlinkat(f->link, files, f->path) < 0)
				return wm_error_set(err, errno, "symlink `%s` in the cache",
						    f->path);
			continue;
		}
		src = wm_safe_open(dirfd, shown, from, O_RDONLY, 0, err);
		if (src < 0 || copy_file(src, shown, files, f->path, f->mode & 0555, err) < 0)
			return -1;
		close(src);
		src = wm_safe_open(files, WM_CACHE_DIR, f->path, O_RDONLY, 0, err);
		if (src < 0 || wm_cache_hash_fd(src, f->path, hash, NULL, err) < 0)
			return -1;
		if (strcmp(hash, f->hash) != 0)
			return wm_error_setx(err, WM_EXIT_FAILED,
					     "`%s` changed while it was stored", f->path);
	}
	return 0;
}

static int write_manifest(int tfd, const struct wm_cache_manifest *m, struct wm_error **err)
{
	json_t *j = wm_cache_manifest_to_json(m);
	char *text = json_dumps(j, JSON_COMPACT);
	wm_autoclose int fd = -1;
	int rc = -1;

	json_decref(j);
	if (!text)
		return wm_error_setx(err, WM_EXIT_FAILED, "cache manifest: cannot encode it");
	fd = wm_safe_open(tfd, WM_CACHE_DIR, MANIFEST, O_WRONLY | O_CREAT | O_EXCL, 0600, err);
	if (fd >= 0 && (wm_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0))
		wm_error_set(err, errno, "write the cache manifest");
	else if (fd >= 0)
		rc = 0;
	free(text);
	return rc;
}

int wm_cache_put(int cfd, int dirfd, const char *shown, const char *rel,
		 struct wm_cache_manifest *m, struct wm_error **err)
{
	wm_autofree char *tmp = wm_xasprintf(TMP_PREFIX "%s.%ld", m->key, (long)getpid());
	wm_autoclose int tfd = -1;
	wm_autoclose int files = -1;
	struct wm_error *e = NULL;

	if (wm_cache_list_tree(dirfd, shown, rel, m, err) < 0)
		return -1;
	m->created_ms = m->used_ms = wm_wall_ms();
	/* A leftover of ours (a pid reused): never half of two stores. */
	if (wm_safe_remove_tree(cfd, WM_CACHE_DIR, tmp, err) < 0)
		return -1;
	tfd = wm_safe_opendir(cfd, WM_CACHE_DIR, tmp, true, 0700, err);
	if (tfd < 0)
		return -1;
	files = wm_safe_opendir(tfd, WM_CACHE_DIR, FILES, true, 0700, err);
	if (files < 0 || copy_in(dirfd, shown, rel, files, m, err) < 0)
		goto fail;
	if (wm_crashpoint_hit("cache")) /* the files copied, no manifest yet */
		raise(SIGKILL);
	if (write_manifest(tfd, m, err) < 0 || fsync(tfd) < 0)
		goto fail;
	if (wm_crashpoint_hit("cache")) /* complete, not yet renamed into place */
		raise(SIGKILL);
	if (renameat(cfd, tmp, cfd, m->key) < 0) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			wm_error_set(err, errno, "rename `%s` to `%s`", tmp, m->key);
			goto fail;
		}
		/* Another run stored the same key first: theirs is as good. */
		(void)wm_safe_remove_tree(cfd, WM_CACHE_DIR, tmp, NULL);
		return 0;
	}
	return fsync(cfd) < 0 ? wm_error_set(err, errno, "fsync `%s`", WM_CACHE_DIR) : 0;
fail:
	if (wm_safe_remove_tree(cfd, WM_CACHE_DIR, tmp, &e) < 0)
		wm_error_free(e);
	return -1;
}

int wm_cache_remove(int cfd, const char *key, struct wm_error **err)
{
	if (!wm_cache_key_valid(key))
		return wm_error_setx(err, WM_EXIT_USAGE, "`%s` is not a cache key", key);
	return wm_safe_remove_tree(cfd, WM_CACHE_DIR, key, err);
}

/* ---- listing, eviction, leftovers ---- */

/* Newest use first; file times move by clock ticks, so entries used in
 * the same tick are ordered by when they were made. */
static int by_use(const void *a, const void *b)
{
	const struct wm_cache_manifest *x = a, *y = b;

	if (x->used_ms != y->used_ms)
		return (x->used_ms < y->used_ms) - (x->used_ms > y->used_ms);
	return (x->created_ms < y->created_ms) - (x->created_ms > y->created_ms);
}

/* The manifest's mtime: when the entry was last used. */
static long long used_at(int cfd, const char *key, long long dflt)
{
	wm_autofree char *rel = manifest_rel(key);
	struct stat st;

	if (fstatat(cfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return dflt;
	return (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int wm_cache_list(int cfd, struct wm_cache_manifest **v, size_t *n, char ***bad,
		  struct wm_error **err)
{
	wm_autostrv char **names = wm_safe_list_dir(cfd, WM_CACHE_DIR, err);
	size_t alloc = 0, n_bad = 0;

	*v = NULL;
	*n = 0;
	if (bad)
		*bad = NULL;
	if (!names)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		struct wm_cache_manifest m = { 0 };
		struct wm_error *e = NULL;

		if (!wm_cache_key_valid(names[i]))
			continue;
		if (wm_cache_get(cfd, names[i], &m, &e) <= 0) {
			wm_error_free(e);
			wm_cache_manifest_release(&m);
			if (bad)
				wm_strv_push(bad, &n_bad, names[i]);
			continue;
		}
		m.used_ms = used_at(cfd, names[i], m.used_ms);
		WM_GROW(*v, alloc, *n + 1);
		(*v)[(*n)++] = m;
	}
	if (*n)
		qsort(*v, *n, sizeof(**v), by_use);
	return 0;
}

int wm_cache_evict(int cfd, uint64_t max_bytes, size_t *removed, struct wm_error **err)
{
	struct wm_cache_manifest *v = NULL;
	wm_autostrv char **bad = NULL;
	uint64_t total = 0;
	size_t n = 0, k = 0;
	int rc = 0;

	if (removed)
		*removed = 0;
	if (!max_bytes || wm_cache_list(cfd, &v, &n, &bad, err) < 0)
		return max_bytes ? -1 : 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	/* Oldest use last in v: removed first. */
	for (size_t i = n; i-- > 0 && total > max_bytes && rc == 0;) {
		rc = wm_cache_remove(cfd, v[i].key, err);
		total -= v[i].size;
		k++;
	}
	for (size_t i = 0; i < n; i++)
		wm_cache_manifest_release(&v[i]);
	free(v);
	if (removed)
		*removed = k;
	return rc;
}

/* ".tmp.<key>.<pid>" of a writer no longer alive. */
static bool stale_temp(const char *name)
{
	const char *dot = strrchr(name, '.');
	char *end = NULL;
	long pid;

	if (!wm_str_has_prefix(name, TMP_PREFIX) || !dot)
		return false;
	pid = strtol(dot + 1, &end, 10);
	if (!end || *end || pid <= 0)
		return true;
	return pid != (long)getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int wm_cache_clean_temp(int cfd, size_t *removed, struct wm_error **err)
{
	wm_autostrv char **names = wm_safe_list_dir(cfd, WM_CACHE_DIR, err);
	size_t k = 0;

	if (removed)
		*removed = 0;
	if (!names)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		if (!stale_temp(names[i]))
			continue;
		if (wm_safe_remove_tree(cfd, WM_CACHE_DIR, names[i], err) < 0)
			return -1;
		k++;
	}
	if (removed)
		*removed = k;
	return 0;
}
