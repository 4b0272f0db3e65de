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
/* A streamed frame's window (2 MiB, level 3's own): set when writing and the
 * most a reader accepts, so a forged header cannot make it allocate more. */
#define WINDOW_LOG 21

/* A frame that does not say its size (checkpoints are written streaming):
 * decoded in steps, stopping past max_out. */
static void *decompress_stream(const void *src, size_t len, size_t max_out, size_t *out_len,
			       struct wm_error **err)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer in = { src, len, 0 };
	struct wm_buf b = WM_BUF_INIT;
	const char *why = NULL;
	size_t ret = 1;

	if (!dctx) {
		wm_error_set(err, ENOMEM, "zstd: cannot create context");
		return NULL;
	}
	ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, WINDOW_LOG);
	while (ret != 0 && !why) {
		size_t at = b.len;
		ZSTD_outBuffer out;

		wm_buf_grow(&b, 1 << 16);
		out = (ZSTD_outBuffer){ b.data + at, b.alloc - at - 1, 0 };
		ret = ZSTD_decompressStream(dctx, &out, &in);
		if (ZSTD_isError(ret))
			why = ZSTD_getErrorName(ret);
		else if (at + out.pos > max_out)
			why = "frame of excessive size";
		else if (ret != 0 && in.pos == in.size && out.pos == 0)
			why = "truncated zstd frame"; /* nothing more can come */
		else
			b.len = at + out.pos; /* zstd wrote them in place */
	}
	ZSTD_freeDCtx(dctx);
	if (b.alloc)
		b.data[b.len] = '\0';
	if (why) {
		wm_error_set(err, 0, "zstd: %s", why);
		wm_buf_release(&b);
		return NULL;
	}
	*out_len = b.len;
	return wm_buf_detach(&b, NULL);
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
	if (size != ZSTD_CONTENTSIZE_UNKNOWN && size > max_out) {
		wm_error_set(err, 0, "zstd frame of excessive size");
		return NULL;
	}
	frame = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(frame) || frame != len) {
		wm_error_set(err, 0, "%s",
			     ZSTD_isError(frame) ? "truncated zstd frame"
						 : "trailing data after the zstd frame");
		return NULL;
	}
	if (size == ZSTD_CONTENTSIZE_UNKNOWN)
		return decompress_stream(src, len, max_out, out_len, err);
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

/*
 * Compresses the checkpoint's text as wm_run_state_dump produces it,
 * straight into the file: neither the whole text nor the whole frame is
 * ever in memory (at 10,000 tasks that is megabytes of a run's peak). Text
 * is staged up to STAGE bytes so zstd sees few, large calls. The frame does
 * not record its content size; readers bound what they decompress.
 */
#define STAGE (64UL << 10)
struct zsink {
	ZSTD_CCtx *cctx;
	int fd;
	struct wm_buf stage;
	int write_errno;	/* a failed write's errno */
	const char *zstd_error; /* or zstd's complaint */
	unsigned char out[1 << 16];
};

/* Feeds the staged text to zstd (finishing the frame when end) and writes
 * what comes out. */
static int zsink_flush(struct zsink *z, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { z->stage.data, z->stage.len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { z->out, sizeof(z->out), 0 };

		left = ZSTD_compressStream2(z->cctx, &out, &in, end);
		if (ZSTD_isError(left)) {
			z->zstd_error = ZSTD_getErrorName(left);
			return -1;
		}
		if (out.pos && wm_write_all(z->fd, z->out, out.pos) < 0) {
			z->write_errno = errno ? errno : EIO;
			return -1;
		}
	} while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
	wm_buf_setlen(&z->stage, 0);
	return 0;
}

static int zsink_take(const char *text, size_t len, void *ctx)
{
	struct zsink *z = ctx;

	wm_buf_add(&z->stage, text, len);
	return z->stage.len < STAGE ? 0 : zsink_flush(z, ZSTD_e_continue);
}

/* The compressed checkpoint into fd; 0 or -1 with *err. */
static int stream_checkpoint(int fd, const struct wm_run_state *rs, uint64_t journal_seq,
			     struct wm_error **err)
{
	struct zsink *z = wm_xcalloc(1, sizeof(*z));
	int rc = -1;

	z->fd = fd;
	wm_buf_init(&z->stage);
	z->cctx = ZSTD_createCCtx();
	if (!z->cctx) {
		wm_error_set(err, ENOMEM, "zstd: cannot create context");
		goto out;
	}
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_windowLog, WINDOW_LOG);
	if (wm_run_state_dump(rs, journal_seq, zsink_take, z) < 0 ||
	    zsink_flush(z, ZSTD_e_end) < 0) {
		if (z->write_errno)
			wm_error_set(err, z->write_errno, "write");
		else
			wm_error_set(err, z->zstd_error ? 0 : ENOMEM, "serialize checkpoint%s%s",
				     z->zstd_error ? ": zstd: " : "",
				     z->zstd_error ? z->zstd_error : "");
		goto out;
	}
	rc = 0;
out:
	ZSTD_freeCCtx(z->cctx);
	wm_buf_release(&z->stage);
	free(z);
	return rc;
}

static int write_tmp(int dfd, const char *run_dir, const struct wm_run_state *rs,
		     uint64_t journal_seq, struct stat *st, struct wm_error **err)
{
	/* O_TRUNC only after the checks: a link planted under the temporary
	 * name is an error naming it, never followed or emptied. */
	wm_autoclose int fd =
		wm_safe_open(dfd, run_dir, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC, 0600, err);

	if (fd < 0)
		return wm_error_wrap(err, "cannot write checkpoint");
	if (stream_checkpoint(fd, rs, journal_seq, err) < 0) {
		unlinkat(dfd, TMP_NAME, 0);
		return wm_error_wrap(err, "cannot write checkpoint `%s/" TMP_NAME "`", run_dir);
	}
	if (fsync(fd) < 0 || fstat(fd, st) < 0) {
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
	struct stat st;

	if (dfd < 0 || write_tmp(dfd, run_dir, rs, journal_seq, &st, err) < 0)
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
