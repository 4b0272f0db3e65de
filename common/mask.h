/*
 * mask.h - hiding secret values in text that wm writes.
 *
 * A struct wm_mask holds values (copies, zeroed when freed); every
 * occurrence of one in text becomes WM_MASK_TEXT ("***"). Values shorter
 * than WM_MASK_MIN bytes are not kept: masking "1" or "yes" would blank
 * out ordinary output and tell a reader the value anyway. Where values
 * overlap, the longest match at a position wins.
 *
 * wm_mask_text() masks a whole string. A struct wm_mask_writer masks a
 * stream as it goes (a task's output, read from a pipe in chunks): it
 * passes on at once every byte that cannot begin a value, and holds back
 * at most the longest value's length - 1 bytes that might still be the
 * start of one split across two chunks, until the next chunk decides or
 * wm_mask_writer_flush() ends the stream.
 *
 * Lifecycle: wm_mask_new -> wm_mask_add... -> (writers, wm_mask_text) ->
 * wm_mask_free; a writer borrows its mask, which must outlive it:
 * wm_mask_writer_init -> _write... -> _flush -> _release. Nothing here
 * makes a system call.
 */
#ifndef WM_COMMON_MASK_H
#define WM_COMMON_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/cleanup.h"

#define WM_MASK_MIN 4
#define WM_MASK_TEXT "***"

struct wm_mask;

struct wm_mask *wm_mask_new(void);
void wm_mask_free(struct wm_mask *m);
WM_DEFINE_CLEANUP(struct wm_mask, wm_mask_free)

/* Adds a copy of value (len bytes, may hold any byte). False, and nothing
 * kept, when it is shorter than WM_MASK_MIN. A value added twice counts once. */
bool wm_mask_add(struct wm_mask *m, const char *value, size_t len);
/* Values kept; m may be NULL (none). */
size_t wm_mask_count(const struct wm_mask *m);

/* s with every value replaced by WM_MASK_TEXT; caller frees. m may be NULL. */
char *wm_mask_text(const struct wm_mask *m, const char *s);

typedef void (*wm_mask_sink)(void *ctx, const char *data, size_t len);

struct wm_mask_writer {
	const struct wm_mask *m; /* borrowed; NULL: bytes pass unchanged */
	wm_mask_sink out;
	void *ctx;
	struct wm_buf held; /* bytes that may begin a value, not passed on yet */
	struct wm_buf ready;
};

void wm_mask_writer_init(struct wm_mask_writer *w, const struct wm_mask *m, wm_mask_sink out,
			 void *ctx);
/* Passes data on, masked, to out (at most one call per write). */
void wm_mask_writer_write(struct wm_mask_writer *w, const char *data, size_t len);
/* The end of the stream: what was held back goes out, masked where whole. */
void wm_mask_writer_flush(struct wm_mask_writer *w);
/* Frees the buffers, zeroing them first; does not flush. */
void wm_mask_writer_release(struct wm_mask_writer *w);

#endif
