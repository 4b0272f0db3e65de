/*
 * cache.c - wm's cache directory: where compiled filters and extracted
 * root filesystems are kept between runs.
 *
 * $XDG_CACHE_HOME/wm, else ~/.cache/wm, else /tmp/wm-cache-UID. Whatever
 * is in it steers later sandboxes, so it must be ours alone: every
 * directory wm uses there is created 0700 and checked on each use (a real
 * directory, not a link, owned by us, writable by nobody else). Every
 * sandbox masks the whole cache, whatever its policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "sandbox/internal.h"

char *sb_cache_root(void)
{
	const char *base = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (base && base[0] == '/')
		return wm_xasprintf("%s/wm", base);
	if (home && home[0] == '/' && access(home, W_OK) == 0)
		return wm_xasprintf("%s/.cache/wm", home);
	return wm_xasprintf("/tmp/wm-cache-%u", (unsigned)geteuid());
}

/* mkdir -p; only the directories created here get 0700 from us, the rest
 * of the path is the user's. */
static void mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	mkdir(path, 0700);
}

int sb_check_private_dir(const char *dir, struct wm_error **err)
{
	struct stat st;

	if (lstat(dir, &st) != 0)
		return wm_error_set(err, errno, "cache %s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return wm_error_set(err, EPERM,
				    "cache %s is not a private directory (a directory of "
				    "uid %u, writable by it alone)",
				    dir, (unsigned)geteuid());
	return 0;
}

char *sb_cache_dir(const char *sub, struct wm_error **err)
{
	char *root = sb_cache_root();
	char *dir = wm_xasprintf("%s/%s", root, sub);

	mkdirs(dir);
	if (sb_check_private_dir(root, err) < 0 || sb_check_private_dir(dir, err) < 0) {
		free(root);
		free(dir);
		return NULL;
	}
	free(root);
	return dir;
}

char *wm_sandbox_image_cache(struct wm_error **err)
{
	return sb_cache_dir("images", err);
}
