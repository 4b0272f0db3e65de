/*
 * cache.c - the cache of prepared images: CACHE/HEX/rootfs (the tree) and
 * CACHE/HEX/image.json (what it was made from), HEX the image's digest.
 * An entry is built in CACHE/.tmp-HEX-PID and renamed into place whole; a
 * second run preparing the same image at once builds its own and, losing
 * the rename, drops it. Names starting with `.tmp-` are never read.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/internal.h"
#include "state/safeio.h"

#define TMP_PREFIX ".tmp-"

static char *record(const struct wm_image *img)
{
	/* New reference, ours; json_pack's "s" copies, "o" steals. */
	json_auto_t *layers = json_array();
	json_auto_t *r = NULL;
	uint64_t size = 0;

	for (size_t i = 0; i < img->n_layers; i++) {
		const struct wm_image_layer *l = &img->layers[i];

		size += l->size;
		json_array_append_new(layers,
				      json_pack("{s:s, s:s, s:I}", "digest",
						l->member ? l->member : l->digest, "diff_id",
						l->diff_id, "size", (json_int_t)l->size));
	}
	r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:O}", "name", img->name, "source",
		      img->ref.path, "digest", img->digest, "config", img->config_digest, "size",
		      (json_int_t)size, "prepared", (json_int_t)time(NULL), "layers", layers);
	return json_dumps(r, JSON_INDENT(2));
}

static int build(const struct wm_image *img, int cache, const char *tmp, unsigned root_id,
		 struct wm_error **err)
{
	struct img_limits lim;
	wm_autoclose int dfd = -1, root = -1;
	wm_autofree char *rec = NULL;

	if (mkdirat(cache, tmp, 0700) != 0)
		return wm_error_set(err, errno, "image cache: create %s", tmp);
	dfd = openat(cache, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || mkdirat(dfd, "rootfs", 0755) != 0)
		return wm_error_set(err, errno, "image cache: create %s/rootfs", tmp);
	root = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return wm_error_set(err, errno, "image cache: open %s/rootfs", tmp);
	if (img_limits_init(&lim, err) < 0)
		return -1;
	lim.root_id = root_id;
	for (size_t i = 0; i < img->n_layers; i++)
		if (img_apply_layer(img, i, root, &lim, err) < 0)
			return -1;
	rec = record(img);
	return wm_safe_write_atomic(dfd, tmp, "image.json", rec, strlen(rec), 0600, err);
}

char *wm_image_prepare(const struct wm_image *img, const char *cache_dir, unsigned root_id,
		       struct wm_error **err)
{
	const char *hex = img->digest + 7;
	wm_autoclose int cache = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	wm_autofree char *tmp = NULL;
	char *done;
	struct stat st;

	if (cache < 0)
		return wm_error_set(err, errno, "image cache %s", cache_dir), NULL;
	done = wm_xasprintf("%s/%s/rootfs", cache_dir, hex);
	if (fstatat(cache, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return done;
	tmp = wm_xasprintf(TMP_PREFIX "%s-%d", hex, (int)getpid());
	if (wm_safe_remove_tree(cache, cache_dir, tmp, err) < 0 ||
	    build(img, cache, tmp, root_id, err) < 0)
		goto fail;
	if (renameat(cache, tmp, cache, hex) != 0) {
		if (errno != EEXIST && errno != ENOTEMPTY) {
			wm_error_set(err, errno, "image cache: rename %s to %s", tmp, hex);
			goto fail;
		}
		/* Another run prepared it meanwhile: theirs is as good. */
		wm_safe_remove_tree(cache, cache_dir, tmp, NULL);
	}
	return done;
fail:
	wm_safe_remove_tree(cache, cache_dir, tmp, NULL);
	free(done);
	return NULL;
}

/* ---- listing and removal --------------------------------------------------------------- */

static void read_record(int cache, const char *dir, const char *hex, struct wm_image_cached *c)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autofree char *rel = wm_xasprintf("%s/image.json", hex);
	json_auto_t *r = NULL;

	snprintf(c->digest, sizeof(c->digest), "sha256:%s", hex);
	if (wm_safe_read(cache, dir, rel, IMG_JSON_MAX, "image record", &b, NULL) == 0)
		r = json_loads(b.data, 0, NULL); /* new reference */
	wm_buf_release(&b);
	c->name = wm_xstrdup(json_string_value(json_object_get(r, "name"))
				     ? json_string_value(json_object_get(r, "name"))
				     : "?");
	c->size = (uint64_t)json_integer_value(json_object_get(r, "size"));
	c->prepared = (int64_t)json_integer_value(json_object_get(r, "prepared"));
}

struct wm_image_cached *wm_image_cache_list(const char *cache_dir, size_t *n, struct wm_error **err)
{
	wm_autoclose int cache = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct wm_image_cached *v;
	char **names;
	size_t k = 0;

	*n = 0;
	if (cache < 0)
		return wm_error_set(err, errno, "image cache %s", cache_dir), NULL;
	names = wm_safe_list_dir(cache, cache_dir, err);
	if (!names)
		return NULL;
	v = wm_xcalloc(wm_strv_len(names) + 1, sizeof(*v));
	for (size_t i = 0; names[i]; i++)
		if (!wm_str_has_prefix(names[i], TMP_PREFIX))
			read_record(cache, cache_dir, names[i], &v[k++]);
	wm_strv_free(names);
	*n = k;
	return v;
}

void wm_image_cache_list_free(struct wm_image_cached *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

/* Renamed out of the way first, so a half-removed tree is never used. */
static int remove_entry(int cache, const char *dir, const char *name, struct wm_error **err)
{
	wm_autofree char *tmp = wm_xasprintf(TMP_PREFIX "rm-%s-%d", name, (int)getpid());

	if (!wm_str_has_prefix(name, TMP_PREFIX) && renameat(cache, name, cache, tmp) != 0)
		return wm_error_set(err, errno, "image cache: remove %s/%s", dir, name);
	return wm_safe_remove_tree(cache, dir, wm_str_has_prefix(name, TMP_PREFIX) ? name : tmp,
				   err);
}

int wm_image_cache_remove(const char *cache_dir, const char *digest, struct wm_error **err)
{
	const char *hex = wm_str_has_prefix(digest, "sha256:") ? digest + 7 : digest;
	wm_autoclose int cache = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names;
	const char *found = NULL;
	int rc = 0;

	if (strlen(hex) < 6 || strspn(hex, "0123456789abcdef") != strlen(hex))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "`%s`: want an image digest (at least 6 hex digits) or "
				     "reference",
				     digest);
	if (cache < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "image cache %s", cache_dir);
	names = wm_safe_list_dir(cache, cache_dir, err);
	if (!names)
		return -1;
	for (size_t i = 0; names[i] && rc == 0; i++) {
		if (!wm_str_has_prefix(names[i], hex))
			continue;
		if (found)
			rc = wm_error_setx(err, WM_EXIT_USAGE, "`%s` names several cached images",
					   digest);
		found = names[i];
	}
	if (rc == 0 && found)
		rc = remove_entry(cache, cache_dir, found, err) < 0 ? -1 : 1;
	wm_strv_free(names);
	return rc;
}

/* Left by a preparation (or removal) whose process is gone? */
static bool stale(const char *name)
{
	const char *dash = strrchr(name, '-');
	long pid = dash ? strtol(dash + 1, NULL, 10) : 0;

	return pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

static bool source_gone(int cache, const char *dir, const char *hex)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autofree char *rel = wm_xasprintf("%s/image.json", hex);
	json_auto_t *r = NULL;
	const char *src;
	bool gone = false;

	if (wm_safe_read(cache, dir, rel, IMG_JSON_MAX, "image record", &b, NULL) == 0)
		r = json_loads(b.data, 0, NULL); /* new reference */
	wm_buf_release(&b);
	src = json_string_value(json_object_get(r, "source")); /* borrowed */
	gone = !src || access(src, F_OK) != 0;
	return gone;
}

int wm_image_cache_prune(const char *cache_dir, struct wm_error **err)
{
	wm_autoclose int cache = open(cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names;
	int removed = 0;

	if (cache < 0)
		return errno == ENOENT ? 0 : wm_error_set(err, errno, "image cache %s", cache_dir);
	names = wm_safe_list_dir(cache, cache_dir, err);
	if (!names)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		bool tmp = wm_str_has_prefix(names[i], TMP_PREFIX);

		if (tmp ? !stale(names[i]) : !source_gone(cache, cache_dir, names[i]))
			continue;
		if (remove_entry(cache, cache_dir, names[i], err) < 0) {
			wm_strv_free(names);
			return -1;
		}
		removed++;
	}
	wm_strv_free(names);
	return removed;
}
