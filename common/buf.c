#include "common/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"

char wm_buf_empty[1];

void wm_buf_init(struct wm_buf *b)
{
	b->data = wm_buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void wm_buf_release(struct wm_buf *b)
{
	if (b->alloc)
		free(b->data);
	wm_buf_init(b);
}

void wm_buf_grow(struct wm_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		wm_xgrow((void **)&b->data, &b->alloc, (size_t)-1, 1); /* overflow: aborts */
	if (!b->alloc) {
		b->data = NULL;
		wm_xgrow((void **)&b->data, &b->alloc, need, 1);
		b->data[0] = '\0';
		return;
	}
	wm_xgrow((void **)&b->data, &b->alloc, need, 1);
}

void wm_buf_add(struct wm_buf *b, const void *data, size_t len)
{
	wm_buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void wm_buf_addstr(struct wm_buf *b, const char *s)
{
	wm_buf_add(b, s, strlen(s));
}

void wm_buf_addch(struct wm_buf *b, char c)
{
	wm_buf_add(b, &c, 1);
}

void wm_buf_vaddf(struct wm_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	wm_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void wm_buf_addf(struct wm_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wm_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void wm_buf_add_html(struct wm_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			wm_buf_addstr(b, "&amp;");
			break;
		case '<':
			wm_buf_addstr(b, "&lt;");
			break;
		case '>':
			wm_buf_addstr(b, "&gt;");
			break;
		case '"':
			wm_buf_addstr(b, "&quot;");
			break;
		default:
			wm_buf_addch(b, *s);
		}
	}
}

void wm_buf_setlen(struct wm_buf *b, size_t len)
{
	if (!b->alloc)
		return;
	if (len > b->len)
		len = b->len;
	b->len = len;
	b->data[len] = '\0';
}

char *wm_buf_detach(struct wm_buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	if (!b->alloc)
		return wm_xstrdup("");
	p = b->data;
	wm_buf_init(b);
	return p;
}

int wm_buf_read_fd(struct wm_buf *b, int fd)
{
	for (;;) {
		ssize_t n;

		wm_buf_grow(b, 8192);
		n = read(fd, b->data + b->len, b->alloc - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	return 0;
}

int wm_buf_read_file_max(struct wm_buf *b, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int saved;

	if (fd < 0)
		return -1;
	for (;;) {
		size_t want = max + 1 - b->len; /* one byte past max tells "too big" */
		ssize_t n;

		if (want == 0)
			break;
		wm_buf_grow(b, want < 65536 ? want : 65536);
		n = read(fd, b->data + b->len,
			 b->alloc - b->len - 1 < want ? b->alloc - b->len - 1 : want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return n < 0 ? -1 : 0;
		}
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	close(fd);
	return 1;
}

int wm_buf_read_file(struct wm_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r, saved;

	if (fd < 0)
		return -1;
	r = wm_buf_read_fd(b, fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}
