/*
 * checkpoint.c - atomic, checksummed snapshots of a run (see checkpoint.h).
 */
#include "state/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/crashpoint.h"
#include "state/rundir.h"
#include "state/safeio.h"
#include "state/summary.h"

/* Far above any real run (10,000 tasks is about 2 MB); stops a forged
 * frame header from making us allocate gigabytes. */
#define MAX_CHECKPOINT_JSON (1024UL * 1024 * 1024)
#define TMP_NAME WM_CHECKPOINT_FILE ".tmp"

void *wm_zstd_compress(const void *src, size_t len, size_t *out_len, struct wm_error **err)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(len), n;
	void *dst;

	if (!cctx) {
		wm_error_set(err, ENOMEM, "zstd: cannot create context");
		return NULL;
	}
	dst = wm_xmalloc(cap ? cap : 1);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	n = ZSTD_compress2(cctx, dst, cap, src, len);
	ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(n)) {
		free(dst);
		wm_error_set(err, 0, "zstd: %s", ZSTD_getErrorName(n));
		return NULL;
	}
	*out_len = n;
	return dst;
}

void *wm_zstd_decompress(const void *src, size_t len, size_t max_out, size_t *out_len,
			 struct wm_error **err)
{
	unsigned long long size;
	size_t frame, n;
	char *dst;

	if (len == 0) {
		wm_error_set(err, 0, "empty file");
		return NULL;
	}
	size = ZSTD_getFrameContentSize(src, len);
	if (size == ZSTD_CONTENTSIZE_ERROR) {
		wm_error_set(err, 0, "not a zstd frame");
		return NULL;
	}
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_out) {
		wm_error_set(err, 0, "zstd frame of unknown or excessive size");
		return NULL;
	}
	frame = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(frame) || frame != len) {
		wm_error_set(err, 0, "%s",
			     ZSTD_isError(frame) ? "truncated zstd frame"
						 : "trailing data after the zstd frame");
		return NULL;
	}
	dst = wm_xmalloc((size_t)size + 1);
	n = ZSTD_decompress(dst, (size_t)size, src, len);
	if (ZSTD_isError(n) || n != size) {
		free(dst);
		wm_error_set(err, 0, "zstd: %s",
			     ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch");
		return NULL;
	}
	dst[n] = '\0';
	*out_len = n;
	return dst;
}

static int write_tmp(int dfd, const char *run_dir, const void *data, size_t len, struct stat *st,
		     struct wm_error **err)
{
	/* O_TRUNC only after the checks: a link planted under the temporary
	 * name is an error naming it, never followed or emptied. */
	wm_autoclose int fd =
		wm_safe_open(dfd, run_dir, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600, err);

	if (fd < 0)
		return wm_error_wrap(err, "cannot write checkpoint");
	if (wm_write_all(fd, data, len) < 0 || fsync(fd) < 0 || fstat(fd, st) < 0) {
		int e = errno;

		unlinkat(dfd, TMP_NAME, 0);
		return wm_error_set(err, e, "cannot write checkpoint `%s/" TMP_NAME "`", run_dir);
	}
	return 0;
}

/* The previous generation becomes .prev through a hard link, so the name
 * checkpoint.json.zst is never missing. */
static int keep_prev(int dfd, const char *run_dir, struct wm_error **err)
{
	if (unlinkat(dfd, WM_CHECKPOINT_PREV, 0) < 0 && errno != ENOENT)
		return wm_error_set(err, errno, "unlink `%s/" WM_CHECKPOINT_PREV "`", run_dir);
	if (linkat(dfd, WM_CHECKPOINT_FILE, dfd, WM_CHECKPOINT_PREV, 0) < 0 && errno != ENOENT)
		return wm_error_set(err, errno, "link `%s/" WM_CHECKPOINT_PREV "`", run_dir);
	return 0;
}

int wm_checkpoint_write(const char *run_dir, const struct wm_run_state *rs, uint64_t journal_seq,
			struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	wm_autofree char *text = NULL;
	wm_autofree void *z = NULL;
	size_t zlen = 0;
	struct stat st;

	if (dfd < 0)
		return -1;
	text = wm_run_state_dumps(rs, journal_seq);
	if (!text)
		return wm_error_set(err, ENOMEM, "serialize checkpoint");
	z = wm_zstd_compress(text, strlen(text), &zlen, err);
	if (!z || write_tmp(dfd, run_dir, z, zlen, &st, err) < 0)
		return -1;
	if (wm_crashpoint_hit("checkpoint"))
		raise(SIGKILL);
	if (keep_prev(dfd, run_dir, err) < 0)
		return -1;
	if (renameat(dfd, TMP_NAME, dfd, WM_CHECKPOINT_FILE) < 0) {
		int e = errno;

		unlinkat(dfd, TMP_NAME, 0);
		return wm_error_set(err, e, "cannot replace checkpoint `%s/" WM_CHECKPOINT_FILE "`",
				    run_dir);
	}
	if (fsync(dfd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", run_dir);
	/* A convenience for `wm list`: if it cannot be written, no summary is
	 * better than a stale one (readers fall back to the checkpoint). */
	if (wm_summary_write(dfd, run_dir, rs, journal_seq, &st, NULL) < 0)
		unlinkat(dfd, WM_SUMMARY_FILE, 0);
	return 0;
}

/* Reads path's bytes: its directory as given, the file itself a regular
 * file (never a link, FIFO or device) of at most WM_CHECKPOINT_FILE_MAX. */
static int read_raw(const char *path, struct wm_buf *raw, struct wm_error **err)
{
	const char *slash = strrchr(path, '/');
	wm_autofree char *dir = slash ? wm_xstrndup(path, (size_t)(slash - path)) : wm_xstrdup(".");
	wm_autoclose int dfd = wm_rundir_open_fd(*dir ? dir : "/", err);

	if (dfd < 0)
		return -1;
	return wm_safe_read(dfd, dir, slash ? slash + 1 : path, WM_CHECKPOINT_FILE_MAX,
			    "checkpoint", raw, err);
}

struct wm_run_state *wm_checkpoint_read(const char *path, uint64_t *journal_seq,
					struct wm_error **err)
{
	struct wm_buf raw = WM_BUF_INIT;
	struct wm_error *e = NULL;
	wm_autofree char *text = NULL;
	struct wm_run_state *rs = NULL;
	json_error_t jerr;
	size_t len = 0;
	json_t *j;

	if (read_raw(path, &raw, &e) < 0) {
		if (e->errnum == ENOENT)
			wm_error_set(err, ENOENT, "read checkpoint `%s`", path);
		else if (err)
			*err = wm_steal(&e);
		wm_error_free(e);
		goto out;
	}
	text = wm_zstd_decompress(raw.data, raw.len, MAX_CHECKPOINT_JSON, &len, err);
	if (!text) {
		wm_error_wrap(err, "checkpoint `%s`", path);
		goto out;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr); /* new ref, ours */
	if (!j) {
		wm_error_set(err, 0, "checkpoint `%s`: bad JSON at byte %d: %s", path,
			     jerr.position, jerr.text);
		goto out;
	}
	rs = wm_run_state_from_json(j, journal_seq, err);
	json_decref(j);
	if (!rs)
		wm_error_wrap(err, "checkpoint `%s`", path);
out:
	wm_buf_release(&raw);
	return rs;
}
