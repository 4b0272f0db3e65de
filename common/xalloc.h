/*
 * xalloc.h - allocation that cannot return NULL.
 *
 * Contract: every function here either succeeds or, when the system is out
 * of memory, prints "wm: out of memory" and aborts. wm cannot do anything
 * useful without memory, and checking every small allocation would bury the
 * real error handling (git's xmalloc makes the same choice). Everything
 * returned belongs to the caller and is released with free().
 */
#ifndef WM_COMMON_XALLOC_H
#define WM_COMMON_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *wm_xmalloc(size_t size);
void *wm_xcalloc(size_t nmemb, size_t size);
void *wm_xrealloc(void *ptr, size_t size);
/* Grows *ptr (an array of `elem` bytes per item) so it holds at least `need` items. */
void wm_xgrow(void **ptr, size_t *alloc, size_t need, size_t elem);
char *wm_xstrdup(const char *s);
char *wm_xstrndup(const char *s, size_t n);
char *wm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *wm_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Typed helper: WM_GROW(arr, alloc, need) grows `arr` for `need` items. */
#define WM_GROW(arr, alloc, need) wm_xgrow((void **)&(arr), &(alloc), (need), sizeof(*(arr)))

#endif
