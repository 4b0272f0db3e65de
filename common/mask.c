/*
 * mask.c - hiding secret values in text (mask.h).
 */
#include "common/mask.h"

#include <string.h>

#include "common/xalloc.h"

struct mask_value {
	char *p;
	size_t len;
};

struct wm_mask {
	struct mask_value *v;
	size_t n, alloc;
	bool first[256]; /* bytes some value starts with: the rest pass untested */
};

struct wm_mask *wm_mask_new(void)
{
	return wm_xcalloc(1, sizeof(struct wm_mask));
}

void wm_mask_free(struct wm_mask *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		explicit_bzero(m->v[i].p, m->v[i].len);
		free(m->v[i].p);
	}
	free(m->v);
	free(m);
}

bool wm_mask_add(struct wm_mask *m, const char *value, size_t len)
{
	if (len < WM_MASK_MIN)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].len == len && memcmp(m->v[i].p, value, len) == 0)
			return true;
	WM_GROW(m->v, m->alloc, m->n + 1);
	m->v[m->n].p = wm_xmalloc(len);
	memcpy(m->v[m->n].p, value, len);
	m->v[m->n].len = len;
	m->n++;
	m->first[(unsigned char)value[0]] = true;
	return true;
}

size_t wm_mask_count(const struct wm_mask *m)
{
	return m ? m->n : 0;
}

/* The longest value at s (0: none). *wait: s's `avail` bytes are the start
 * of a longer value, which only more bytes can confirm (never when final). */
static size_t match_at(const struct wm_mask *m, const char *s, size_t avail, bool final, bool *wait)
{
	size_t best = 0;

	*wait = false;
	for (size_t k = 0; k < m->n; k++) {
		const struct mask_value *v = &m->v[k];

		if (v->len <= avail) {
			if (v->len > best && memcmp(s, v->p, v->len) == 0)
				best = v->len;
		} else if (!final && memcmp(s, v->p, avail) == 0) {
			*wait = true;
		}
	}
	return best;
}

/* Appends s, masked, to out, up to where a value may begin that s ends
 * too soon to tell; returns how many bytes of s that took. */
static size_t scan(const struct wm_mask *m, const char *s, size_t len, bool final,
		   struct wm_buf *out)
{
	size_t i = 0, from = 0;

	while (i < len) {
		size_t hit;
		bool wait;

		if (!m->first[(unsigned char)s[i]]) {
			i++;
			continue;
		}
		hit = match_at(m, s + i, len - i, final, &wait);
		if (wait)
			break;
		if (!hit) {
			i++;
			continue;
		}
		wm_buf_add(out, s + from, i - from);
		wm_buf_addstr(out, WM_MASK_TEXT);
		i += hit;
		from = i;
	}
	wm_buf_add(out, s + from, i - from);
	return i;
}

char *wm_mask_text(const struct wm_mask *m, const char *s)
{
	struct wm_buf out = WM_BUF_INIT;

	if (!m || !m->n)
		return wm_xstrdup(s);
	scan(m, s, strlen(s), true, &out);
	return wm_buf_detach(&out, NULL);
}

void wm_mask_writer_init(struct wm_mask_writer *w, const struct wm_mask *m, wm_mask_sink out,
			 void *ctx)
{
	w->m = m && m->n ? m : NULL;
	w->out = out;
	w->ctx = ctx;
	wm_buf_init(&w->held);
	wm_buf_init(&w->ready);
}

static void pass_on(struct wm_mask_writer *w)
{
	if (w->ready.len)
		w->out(w->ctx, w->ready.data, w->ready.len);
	wm_buf_setlen(&w->ready, 0);
}

/* Scans what is held (now ending with the newest bytes) and keeps back
 * only the tail that may still begin a value. */
static void scan_held(struct wm_mask_writer *w, bool final)
{
	size_t used = scan(w->m, w->held.data, w->held.len, final, &w->ready);
	size_t rest = w->held.len - used;

	memmove(w->held.data, w->held.data + used, rest);
	explicit_bzero(w->held.data + rest, used);
	wm_buf_setlen(&w->held, rest);
	pass_on(w);
}

void wm_mask_writer_write(struct wm_mask_writer *w, const char *data, size_t len)
{
	size_t used;

	if (!w->m) {
		if (len)
			w->out(w->ctx, data, len);
		return;
	}
	if (w->held.len) {
		wm_buf_add(&w->held, data, len);
		scan_held(w, false);
		return;
	}
	used = scan(w->m, data, len, false, &w->ready);
	wm_buf_add(&w->held, data + used, len - used);
	pass_on(w);
}

void wm_mask_writer_flush(struct wm_mask_writer *w)
{
	if (w->m && w->held.len)
		scan_held(w, true);
}

void wm_mask_writer_release(struct wm_mask_writer *w)
{
	if (w->held.alloc)
		explicit_bzero(w->held.data, w->held.alloc);
	if (w->ready.alloc)
		explicit_bzero(w->ready.data, w->ready.alloc);
	wm_buf_release(&w->held);
	wm_buf_release(&w->ready);
}
