#include "orchestrator/libexec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"

#ifndef WM_LIBEXECDIR
#define WM_LIBEXECDIR "/usr/local/libexec/wm"
#endif

char *wm_self_path(struct wm_error **err)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		return wm_error_set(err, errno, "find wm's own path (/proc/self/exe)"), NULL;
	buf[n] = '\0';
	return wm_xstrdup(buf);
}

/* DIR/NAME when it is an executable file, else NULL. */
static char *executable_in(const char *dir, size_t dir_len, const char *name)
{
	struct wm_buf path = WM_BUF_INIT;

	wm_buf_add(&path, dir, dir_len);
	wm_buf_addf(&path, "/%s", name);
	if (access(path.data, X_OK) == 0)
		return wm_buf_detach(&path, NULL);
	wm_buf_release(&path);
	return NULL;
}

char *wm_libexec_find(const char *name, struct wm_error **err)
{
	wm_autofree char *self = wm_self_path(err);
	char *found;

	if (!self)
		return NULL;
	const char *slash = strrchr(self, '/');
	found = executable_in(self, slash ? (size_t)(slash - self) : 0, name);
	if (!found)
		found = executable_in(WM_LIBEXECDIR, strlen(WM_LIBEXECDIR), name);
	if (!found)
		wm_error_set(err, ENOENT, "find helper program `%s` (looked beside %s and in %s)",
			     name, self, WM_LIBEXECDIR);
	return found;
}
