/*
 * cleanup.h - scope-bound ownership over __attribute__((cleanup)).
 *
 * A variable declared `wm_autofree char *p = NULL;` is freed when it leaves
 * scope; always initialise it. To hand ownership out, return wm_steal(&p)
 * (or wm_steal_fd(&fd)), which yields the value and leaves NULL (or -1)
 * behind so the cleanup does nothing.
 */
#ifndef WM_COMMON_CLEANUP_H
#define WM_COMMON_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

static inline void wm_freep(void *p)
{
	free(*(void **)p);
}

static inline void wm_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void wm_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define wm_autofree __attribute__((cleanup(wm_freep)))
#define wm_autoclose __attribute__((cleanup(wm_closep)))
#define wm_autofclose __attribute__((cleanup(wm_fclosep)))

/* Declares a cleanup for a type with a `_free(T *)` function:
 * WM_DEFINE_AUTO(struct wm_policy, wm_policy_free) gives
 * `wm_auto(struct wm_policy) *p = NULL;`. */
#define WM_DEFINE_AUTO(type, freefn)           \
	static inline void freefn##p(type **p) \
	{                                      \
		if (*p)                        \
			freefn(*p);            \
	}
#define wm_auto(freefn) __attribute__((cleanup(freefn##p)))

static inline void *wm_steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define wm_steal(pp) wm_steal_ptr(pp)

static inline int wm_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
