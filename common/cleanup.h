/*
 * cleanup.h - scope-bound ownership over __attribute__((cleanup)).
 *
 * A variable declared `wm_autofree char *p = NULL;` is freed when it leaves
 * scope; always initialise it. To hand ownership out, return wm_steal(&p)
 * (or wm_steal_fd(&fd)), which yields the value and leaves NULL (or -1)
 * behind so the cleanup does nothing.
 *
 * A type with a `T_free(T *)` function gets its cleanup once, in the header
 * of the module that owns the type, right after the free function:
 *     void wm_policy_set_free(struct wm_policy_set *set);
 *     WM_DEFINE_CLEANUP(struct wm_policy_set, wm_policy_set_free)
 * and every user writes
 *     wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
 * A header never includes one from a module above it, so each type's
 * cleanup sits where the type is declared, not where it is used.
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

#define WM_DEFINE_CLEANUP(type, freefn)        \
	static inline void freefn##p(type **p) \
	{                                      \
		if (*p)                        \
			freefn(*p);            \
	}
#define wm_auto(freefn) __attribute__((cleanup(freefn##p)))

/* Yields *pp with its own type and leaves NULL behind. Anything but the
 * address of a pointer is a compile error (no void * in between). */
#define wm_steal(pp)                                   \
	__extension__({                                \
		__typeof__(*(pp)) wm_steal_v_ = *(pp); \
		*(pp) = NULL;                          \
		wm_steal_v_;                           \
	})

static inline int wm_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#endif
