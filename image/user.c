/*
 * user.c - an image config's `User` as ids: "uid", "uid:gid", "name",
 * "name:group", names looked up in the image's own /etc/passwd and
 * /etc/group (opened inside the tree: a link in it never leads out).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "image/internal.h"

/* The file rel of the tree, at most IMG_JSON_MAX bytes; "" when missing. */
static int read_in_tree(int root, const char *rel, struct wm_buf *out)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	wm_autoclose int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IMG_JSON_MAX) {
		errno = EFBIG;
		return -1;
	}
	return wm_buf_read_fd(out, fd);
}

/* In passwd or group text, the line of `name` (or of `id`, when name is
 * NULL): its third field (the id) and fourth (passwd: the primary gid). */
static bool find_entry(const char *text, const char *name, unsigned long id, unsigned long *f3,
		       unsigned long *f4)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *end;
		unsigned long v;

		if (!c2)
			continue;
		v = strtoul(c2 + 1, &end, 10);
		if (end == c2 + 1 || *end != ':')
			continue;
		if (name ? (size_t)(c1 - l) == strlen(name) &&
				    strncmp(l, name, (size_t)(c1 - l)) == 0
			 : v == id) {
			*f3 = v;
			*f4 = strtoul(end + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static bool numeric(const char *s, unsigned long *v)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	*v = strtoul(s, &end, 10);
	return *v < 0xfffffffful;
}

int wm_image_user_ids(const char *user, const char *image, int root, unsigned *uid, unsigned *gid,
		      struct wm_error **err)
{
	wm_autofree char *u = wm_xstrdup(user);
	char *g = strchr(u, ':');
	struct wm_buf pw = WM_BUF_INIT, gr = WM_BUF_INIT;
	unsigned long id = 0, pgid = 0, x;
	int rc = -1;

	if (g)
		*g++ = '\0';
	if (read_in_tree(root, "etc/passwd", &pw) < 0 || read_in_tree(root, "etc/group", &gr) < 0) {
		wm_error_make(err, WM_EXIT_USAGE, errno, "image %s: read its /etc/passwd", image);
		goto out;
	}
	if (numeric(u, &id)) {
		if (!find_entry(pw.data, NULL, id, &x, &pgid))
			pgid = 0;
	} else if (!find_entry(pw.data, u, 0, &id, &pgid)) {
		wm_error_setx(err, WM_EXIT_USAGE, "image %s: User `%s` is not in its /etc/passwd",
			      image, u);
		goto out;
	}
	if (g && !numeric(g, &pgid) && !find_entry(gr.data, g, 0, &pgid, &x)) {
		wm_error_setx(err, WM_EXIT_USAGE, "image %s: group `%s` is not in its /etc/group",
			      image, g);
		goto out;
	}
	*uid = (unsigned)id;
	*gid = (unsigned)pgid;
	rc = 0;
out:
	wm_buf_release(&pw);
	wm_buf_release(&gr);
	return rc;
}
