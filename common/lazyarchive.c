/*
 * lazyarchive.c - loading libarchive on first use (see lazyarchive.h).
 */
#define WM_LAZYARCHIVE_IMPL
#include "common/lazyarchive.h"

#include <dlfcn.h>
#include <stdbool.h>

/* The soname wm was built against: ARCHIVE_VERSION_NUMBER 3xxxxxx ships
 * libarchive.so.13 (Debian's package libarchive13). */
#define WM_ARCHIVE_SONAME "libarchive.so.13"

struct wm_archive_api wm_archive_api;

int wm_archive_load(struct wm_error **err)
{
	static bool loaded;
	void *h;

	if (loaded)
		return 0;
	h = dlopen(WM_ARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return wm_error_set(err, 0, "cannot load %s (%s); install libarchive13",
				    WM_ARCHIVE_SONAME, dlerror());
#define WM_ARCHIVE_LOOKUP(f)                                                                       \
	*(void **)&wm_archive_api.f = dlsym(h, #f);                                                \
	if (!wm_archive_api.f)                                                                     \
		return wm_error_set(err, 0, "%s has no %s: libarchive too old", WM_ARCHIVE_SONAME, \
				    #f);
	WM_ARCHIVE_FUNCS(WM_ARCHIVE_LOOKUP)
#undef WM_ARCHIVE_LOOKUP
	loaded = true;
	return 0;
}
