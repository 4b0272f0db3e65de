/*
 * buf.h - a growable byte buffer, always NUL-terminated (git's strbuf).
 *
 * Lifecycle: `struct wm_buf b = WM_BUF_INIT;` ... wm_buf_release(&b).
 * Invariant: b.data is never NULL after init (it points at a shared empty
 * string until the first write) and b.data[b.len] == '\0'. The buffer owns
 * its bytes; wm_buf_detach() hands them to the caller and resets the buffer.
 */
#ifndef WM_COMMON_BUF_H
#define WM_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct wm_buf {
	char *data;
	size_t len;
	size_t alloc;
};

extern char wm_buf_empty[];
/* clang-format 14 would split this initializer over four lines. */
/* clang-format off */
#define WM_BUF_INIT { .data = wm_buf_empty, .len = 0, .alloc = 0 }
/* clang-format on */

void wm_buf_init(struct wm_buf *b);
void wm_buf_release(struct wm_buf *b);
/* Ensures room for `extra` more bytes plus the terminating NUL. */
void wm_buf_grow(struct wm_buf *b, size_t extra);
void wm_buf_add(struct wm_buf *b, const void *data, size_t len);
void wm_buf_addstr(struct wm_buf *b, const char *s);
void wm_buf_addch(struct wm_buf *b, char c);
void wm_buf_addf(struct wm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wm_buf_vaddf(struct wm_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Adds s (NULL: nothing) as HTML text or attribute value: & < > " as
 * character references. */
void wm_buf_add_html(struct wm_buf *b, const char *s);
/* Shortens the buffer to len bytes (0 empties it, keeping its memory). */
void wm_buf_setlen(struct wm_buf *b, size_t len);
/* Returns the bytes (caller frees) and leaves b empty. */
char *wm_buf_detach(struct wm_buf *b, size_t *len);
/* Reads all of fd into b; returns 0 or -1 with errno set. */
int wm_buf_read_fd(struct wm_buf *b, int fd);
/* Reads a whole file; returns 0 or -1 with errno set. */
int wm_buf_read_file(struct wm_buf *b, const char *path);
/* Reads at most max + 1 bytes of a file (b empty on entry): 0 when the
 * whole file fit in max bytes, 1 when it is larger (b holds max + 1 bytes,
 * the rest is never read: input of any size costs at most max), -1 with
 * errno set. */
int wm_buf_read_file_max(struct wm_buf *b, const char *path, size_t max);

#endif
