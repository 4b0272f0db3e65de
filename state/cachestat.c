/*
 * cachestat.c - input files' hashes remembered by file identity (cache.h).
 */
#include "state/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/safeio.h"

#define INDEX_MAX (64UL << 20)
/* A file modified this close to when it was hashed may have changed again
 * without its mtime moving: such a record is never trusted. */
#define RACY_NS 1000000000LL

struct wm_cache_stats {
	json_t *files; /* rel -> [dev, ino, size, mtime_ns, ctime_ns, recorded_ns, hash] */
	char *name;    /* stat-<hash>.json */
	bool changed;
};

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

struct wm_cache_stats *wm_cache_stats_load(int cfd, const char *workspace)
{
	struct wm_cache_stats *s = wm_xcalloc(1, sizeof(*s));
	char h[WM_CACHE_HEX];
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *e = NULL;
	json_t *j = NULL;

	wm_cache_hash_bytes(workspace, strlen(workspace), h);
	s->name = wm_xasprintf("stat-%.32s.json", h);
	if (cfd >= 0 &&
	    wm_safe_read(cfd, WM_CACHE_DIR, s->name, INDEX_MAX, "input index", &b, &e) == 0)
		j = json_loadb(b.data, b.len, 0, NULL);
	wm_error_free(e);
	wm_buf_release(&b);
	s->files = json_is_object(j) ? j : json_object();
	if (j && s->files != j)
		json_decref(j);
	return s;
}

/* The recorded hash when st is the file recorded, and not racily so. */
static const char *known(const struct wm_cache_stats *s, const char *rel, const struct stat *st)
{
	json_t *r = json_object_get(s->files, rel);
	json_int_t dev, ino, size, mtime, ctime, at;
	const char *hash;

	if (json_unpack(r, "[I, I, I, I, I, I, s]", &dev, &ino, &size, &mtime, &ctime, &at, &hash) <
		    0 ||
	    strlen(hash) != WM_CACHE_HEX - 1)
		return NULL;
	if (dev != (json_int_t)st->st_dev || ino != (json_int_t)st->st_ino ||
	    size != (json_int_t)st->st_size || mtime != ns_of(&st->st_mtim) ||
	    ctime != ns_of(&st->st_ctim) || at - mtime < RACY_NS || at - ctime < RACY_NS)
		return NULL;
	return hash;
}

int wm_cache_stats_hash(struct wm_cache_stats *s, int ws, const char *shown, const char *rel,
			char out[WM_CACHE_HEX], bool *read, struct wm_error **err)
{
	wm_autoclose int fd = wm_safe_open(ws, shown, rel, O_RDONLY, 0, err);
	struct timespec now;
	struct stat st;
	const char *hash;

	if (read)
		*read = false;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat `%s/%s`", shown, rel);
	hash = known(s, rel, &st);
	if (hash) {
		memcpy(out, hash, WM_CACHE_HEX);
		return 0;
	}
	/* The time of the record is taken before reading: a change made while
	 * the file is read is then within RACY_NS of it. */
	clock_gettime(CLOCK_REALTIME, &now);
	if (wm_cache_hash_fd(fd, rel, out, NULL, err) < 0)
		return -1;
	if (read)
		*read = true;
	json_object_set_new(
		s->files, rel,
		json_pack("[I, I, I, I, I, I, s]", (json_int_t)st.st_dev, (json_int_t)st.st_ino,
			  (json_int_t)st.st_size, (json_int_t)ns_of(&st.st_mtim),
			  (json_int_t)ns_of(&st.st_ctim), (json_int_t)ns_of(&now), out));
	s->changed = true;
	return 0;
}

void wm_cache_stats_save(struct wm_cache_stats *s, int cfd)
{
	char *text;
	struct wm_error *e = NULL;

	if (!s || !s->changed || cfd < 0)
		return;
	text = json_dumps(s->files, JSON_COMPACT);
	if (text &&
	    wm_safe_write_atomic(cfd, WM_CACHE_DIR, s->name, text, strlen(text), 0600, &e) < 0)
		wm_error_free(e);
	free(text);
	s->changed = false;
}

void wm_cache_stats_free(struct wm_cache_stats *s)
{
	if (!s)
		return;
	json_decref(s->files);
	free(s->name);
	free(s);
}
