/*
 * mountplan.c - the sandbox's filesystem as a plan, built in the parent
 * (wm) from the policy and the spec; mounts.c applies it in the child.
 *
 * Order matters, each entry is mounted over what came before:
 *   the root view, /dev, /proc, /tmp, the policy's hides, the policy's
 *   binds, the workspace, wm's own directories masked, the spec's binds
 *   ($WM_OUT, $WM_IN/<dep>, scripts), then the seals making tmpfs
 *   mountpoints read-only.
 * wm's own directories (its state, config and caches) are masked by an
 * empty tmpfs after the workspace, so a workspace that contains them (a
 * workflow in $HOME) still shows nothing of them; the spec's binds, which
 * live in the state directory, are mounted inside the mask.
 *
 * The task must reach every bind: a host directory on the way that the
 * task's uid could not enter is itself replaced by an empty tmpfs holding
 * only the mountpoints (it showed the task nothing anyway).
 *
 * As root, bind sources are opened here, with host privileges, as detached
 * mount trees (open_tree); when the task runs as an unprivileged host id,
 * the workspace and the binds are id-mapped so that the files of their
 * owner are the task's own (mount_setattr MOUNT_ATTR_IDMAP). The child
 * then only moves each tree into place, whatever it may read itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "sandbox/internal.h"

static struct sb_mount *plan_add(struct sb_mount_plan *pl, enum sb_mount_kind kind, const char *src,
				 const char *dst, bool rw, uint64_t size)
{
	struct sb_mount *m;

	WM_GROW(pl->v, pl->alloc, pl->n + 1);
	m = &pl->v[pl->n++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->src = src ? wm_xstrdup(src) : NULL;
	m->dst = dst ? wm_xstrdup(dst) : NULL;
	m->rw = rw;
	m->size = size;
	m->tree = -1;
	return m;
}

/* ---- the root view ------------------------------------------------------------ */

/* A host directory into a tmpfs root: symlinks are recreated (merged /usr),
 * directories bound read-only, missing ones skipped. */
static void plan_system_path(struct sb_mount_plan *pl, const char *path)
{
	struct stat st;
	char target[4096];
	ssize_t n;

	if (lstat(path, &st) != 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			plan_add(pl, SB_M_SYMLINK, target, path, false, 0);
		}
		return;
	}
	plan_add(pl, SB_M_BIND, path, path, false, 0);
}

static const char *const system_dirs[] = { "/usr",   "/bin",	"/sbin", "/lib", "/lib32",
					   "/lib64", "/libx32", "/etc",	 "/opt", NULL };
static const char *const minimal_dirs[] = { "/usr", "/bin", "/lib", "/lib32", "/lib64", NULL };
static const char *const minimal_etc[] = { "/etc/passwd",
					   "/etc/group",
					   "/etc/hosts",
					   "/etc/nsswitch.conf",
					   "/etc/ld.so.cache",
					   "/etc/ld.so.conf",
					   "/etc/ld.so.conf.d",
					   "/etc/localtime",
					   "/etc/alternatives",
					   "/etc/os-release",
					   NULL };

static void plan_root(struct sb_mount_plan *pl, const struct wm_policy *p, const char *rootfs)
{
	if (rootfs && wm_image_ref_is(p->fs.rootfs)) {
		plan_add(pl, SB_M_ROOT_OVERLAY, rootfs, "/", true,
			 p->fs.tmp_size > SB_IMAGE_LAYER_SIZE ? p->fs.tmp_size
							      : SB_IMAGE_LAYER_SIZE);
		return;
	}
	if (rootfs) {
		plan_add(pl, SB_M_ROOT_BIND, rootfs, "/", p->fs.view == WM_VIEW_HOST_RW, 0);
		return;
	}
	switch (p->fs.view) {
	case WM_VIEW_HOST_RW:
	case WM_VIEW_HOST_RO:
		plan_add(pl, SB_M_ROOT_BIND, "/", "/", p->fs.view == WM_VIEW_HOST_RW, 0);
		return;
	case WM_VIEW_SYSTEM:
		plan_add(pl, SB_M_ROOT_TMPFS, NULL, "/", false, 0);
		for (size_t i = 0; system_dirs[i]; i++)
			plan_system_path(pl, system_dirs[i]);
		return;
	case WM_VIEW_MINIMAL:
		plan_add(pl, SB_M_ROOT_TMPFS, NULL, "/", false, 0);
		for (size_t i = 0; minimal_dirs[i]; i++)
			plan_system_path(pl, minimal_dirs[i]);
		for (size_t i = 0; minimal_etc[i]; i++)
			plan_system_path(pl, minimal_etc[i]);
		return;
	}
}

/* ---- checks ---------------------------------------------------------------------- */

static int check_abs(const char *what, const char *path, struct wm_error **err)
{
	if (!path || path[0] != '/' || strstr(path, "/../") || wm_str_has_suffix(path, "/.."))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s `%s` must be an absolute path", what,
				     path ? path : "");
	return 0;
}

/* Is `path` `dir` itself or below it? */
static bool is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* What the task works in must not lie inside wm's own directories: the
 * mask would hide it, or a bind would show wm's files. (Containing them is
 * fine: the mask comes after.) */
static int check_outside_masks(const char *what, const char *path, char *const *mask,
			       struct wm_error **err)
{
	for (size_t i = 0; mask && mask[i]; i++)
		if (is_under(path, mask[i]))
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "%s `%s` overlaps wm's own directory `%s`, which "
					     "tasks must never see",
					     what, path, mask[i]);
	return 0;
}

/* ---- reaching the binds --------------------------------------------------------- */

/* Does an entry already in the plan provide `path` (a tmpfs, a hide or a
 * bind at or above it)? Then its permissions are the sandbox's own. */
static bool provided(const struct sb_mount_plan *pl, const char *path)
{
	for (size_t i = 0; i < pl->n; i++) {
		const struct sb_mount *m = &pl->v[i];

		if (m->kind != SB_M_TMPFS && m->kind != SB_M_HIDE && m->kind != SB_M_BIND)
			continue;
		if (is_under(path, m->dst))
			return true;
	}
	return false;
}

static bool can_enter(const char *dir, bool mapped_root)
{
	struct stat st;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return true; /* missing: the mountpoint is made in a tmpfs anyway */
	if (mapped_root)     /* the task is "other" to every host file */
		return (st.st_mode & S_IXOTH) != 0;
	return access(dir, X_OK) == 0; /* the task has the caller's ids */
}

/* Hides the topmost directory on the way to `dst` that the task could not
 * enter, so that the bind at `dst` can be reached. */
static void plan_reach(struct sb_mount_plan *pl, const char *dst, bool mapped_root, bool tmpfs_root)
{
	char buf[4096];

	if (tmpfs_root || strlen(dst) >= sizeof(buf))
		return;
	memcpy(buf, dst, strlen(dst) + 1);
	for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (provided(pl, buf)) {
			*s = '/';
			return;
		}
		if (!can_enter(buf, mapped_root)) {
			plan_add(pl, SB_M_HIDE, NULL, buf, false, 0)->optional = true;
			*s = '/';
			return;
		}
		*s = '/';
	}
}

static struct sb_mount *plan_bind(struct sb_mount_plan *pl, const char *src, const char *dst,
				  bool rw, bool mapped_root, bool tmpfs_root)
{
	struct sb_mount *m;

	plan_reach(pl, dst, mapped_root, tmpfs_root);
	m = plan_add(pl, SB_M_BIND, src, dst, rw, 0);
	m->idmap = true;
	return m;
}

/* ---- the plan ---------------------------------------------------------------------- */

static int plan_binds(struct sb_mount_plan *pl, const struct wm_policy *p,
		      const struct wm_sandbox_spec *spec, bool mapped_root, bool tmpfs_root,
		      struct wm_error **err)
{
	for (size_t i = 0; i < p->fs.n_binds; i++) {
		const struct wm_bind *b = &p->fs.binds[i];

		if (check_abs("bind source", b->src, err) < 0 ||
		    check_abs("bind destination", b->dst, err) < 0 ||
		    check_outside_masks("bind source", b->src, spec->mask, err) < 0 ||
		    check_outside_masks("bind destination", b->dst, spec->mask, err) < 0)
			return -1;
		plan_bind(pl, b->src, b->dst, b->rw, mapped_root, tmpfs_root);
	}
	if (spec->workspace && p->fs.workspace != WM_WS_NONE) {
		if (check_abs("workspace", spec->workspace, err) < 0 ||
		    check_outside_masks("workspace", spec->workspace, spec->mask, err) < 0)
			return -1;
		plan_bind(pl, spec->workspace, spec->workspace, p->fs.workspace == WM_WS_RW,
			  mapped_root, tmpfs_root);
	}
	for (size_t i = 0; spec->mask && spec->mask[i]; i++) {
		if (check_abs("masked directory", spec->mask[i], err) < 0)
			return -1;
		plan_add(pl, SB_M_HIDE, NULL, spec->mask[i], false, 0)->optional = true;
	}
	for (size_t i = 0; i < spec->n_binds; i++) {
		const struct wm_bind *b = &spec->binds[i];

		if (check_abs("bind source", b->src, err) < 0 ||
		    check_abs("bind destination", b->dst, err) < 0)
			return -1;
		/* limits.out: $WM_OUT is a tmpfs of that size, copied out. */
		if (p->limits.out && b->rw && spec->out_dir && strcmp(b->src, spec->out_dir) == 0) {
			plan_reach(pl, b->dst, mapped_root, tmpfs_root);
			plan_add(pl, SB_M_TMPFS, NULL, b->dst, true, p->limits.out)->collect = true;
			continue;
		}
		plan_bind(pl, b->src, b->dst, b->rw, mapped_root, tmpfs_root);
	}
	return 0;
}

/* ---- Unix sockets of the host ------------------------------------------------ */

/* Is `path` visible in the plan's view: not hidden, and (with a tmpfs
 * root) inside a system directory or bind? The last entry covering it
 * decides. */
static bool visible(const struct sb_mount_plan *pl, const char *path, bool tmpfs_root)
{
	bool seen = !tmpfs_root;

	for (size_t i = 0; i < pl->n; i++) {
		const struct sb_mount *m = &pl->v[i];

		if (!m->dst || !is_under(path, m->dst))
			continue;
		if (m->kind == SB_M_HIDE || m->kind == SB_M_TMPFS)
			seen = false;
		else if (m->kind == SB_M_BIND || m->kind == SB_M_ROOT_BIND)
			seen = true;
	}
	return seen;
}

/* Without the host's network: /run hidden, and every host socket the task
 * could see (sockets.c) masked by /dev/null. */
static void plan_sockets(struct sb_mount_plan *pl, const struct wm_sandbox_spec *spec,
			 bool tmpfs_root)
{
	const char *ws = spec->workspace && visible(pl, spec->workspace, tmpfs_root)
				 ? spec->workspace
				 : NULL;
	char *const *found = sb_host_sockets(ws);

	for (size_t k = 0; found && found[k]; k++)
		if (visible(pl, found[k], tmpfs_root))
			plan_add(pl, SB_M_BIND, "/dev/null", found[k], false, 0)->optional = true;
}

int sb_plan_mounts(const struct wm_policy *p, const struct wm_sandbox_spec *spec,
		   const char *rootfs, bool mapped_root, struct sb_mount_plan *pl,
		   struct wm_error **err)
{
	bool tmpfs_root =
		!rootfs && (p->fs.view == WM_VIEW_SYSTEM || p->fs.view == WM_VIEW_MINIMAL);

	memset(pl, 0, sizeof(*pl));
	pl->dev_tty = wm_strv_contains(p->fs.devices, "tty");
	pl->dev_pts = wm_strv_contains(p->fs.devices, "pts");
	pl->shm_size = p->fs.shm_size;
	plan_root(pl, p, rootfs);
	plan_add(pl, SB_M_DEV, NULL, "/dev", false, 0);
	plan_add(pl, SB_M_PROC, NULL, "/proc", false, 0);
	if (p->fs.tmp_size)
		plan_add(pl, SB_M_TMPFS, NULL, "/tmp", true, p->fs.tmp_size);
	else if (tmpfs_root)
		plan_add(pl, SB_M_TMPFS, NULL, "/tmp", true, 16 << 20);
	for (size_t i = 0; p->fs.hide && p->fs.hide[i]; i++) {
		if (check_abs("hidden path", p->fs.hide[i], err) < 0)
			goto fail;
		plan_add(pl, SB_M_HIDE, NULL, p->fs.hide[i], false, 0)->optional = true;
	}
	if (p->network != WM_NET_HOST && !tmpfs_root && !rootfs)
		plan_add(pl, SB_M_HIDE, NULL, "/run", false, 0)->optional = true;
	if (plan_binds(pl, p, spec, mapped_root, tmpfs_root, err) < 0)
		goto fail;
	if (p->network != WM_NET_HOST && !rootfs)
		plan_sockets(pl, spec, tmpfs_root);
	/* Every hide is sealed once all mountpoints inside it exist. */
	for (size_t i = 0, n = pl->n; i < n; i++)
		if (pl->v[i].kind == SB_M_HIDE)
			plan_add(pl, SB_M_SEAL, NULL, pl->v[i].dst, false, 0)->optional = true;
	if (tmpfs_root)
		plan_add(pl, SB_M_SEAL, NULL, "/", false, 0);
	return 0;
fail:
	sb_plan_release(pl);
	return -1;
}

void sb_plan_release(struct sb_mount_plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->v[i].src);
		free(pl->v[i].dst);
		if (pl->v[i].tree >= 0)
			close(pl->v[i].tree);
	}
	free(pl->v);
	memset(pl, 0, sizeof(*pl));
}

/* ---- detached trees (parent, as root) ------------------------------------------------ */

/* A user namespace that maps the owner of a bind source to the task's host
 * id, for id-mapped mounts; one per owner, kept for the process's life. */
static int idmap_userns(uid_t uid, gid_t gid, struct wm_error **err)
{
	static struct {
		uid_t uid;
		gid_t gid;
		int fd;
	} cache[8];
	static size_t n;
	char map[64];
	int fd;

	for (size_t i = 0; i < n; i++)
		if (cache[i].uid == uid && cache[i].gid == gid)
			return cache[i].fd;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)WM_SANDBOX_ROOT_ID);
	fd = sb_userns_fd(map, map, err);
	if (fd >= 0 && gid != uid) {
		char gmap[64];

		close(fd);
		snprintf(gmap, sizeof(gmap), "%u %u 1\n", (unsigned)gid,
			 (unsigned)WM_SANDBOX_ROOT_ID);
		fd = sb_userns_fd(map, gmap, err);
	}
	if (fd >= 0 && n < sizeof(cache) / sizeof(cache[0]))
		cache[n].uid = uid, cache[n].gid = gid, cache[n++].fd = fd;
	return fd;
}

static int open_tree_of(struct sb_mount *m, bool mapped_root, struct wm_error **err)
{
	struct mount_attr attr = { 0 };
	struct stat st;
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->src,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

	if (fd < 0)
		return errno == ENOSYS ? 0 : wm_error_set(err, errno, "bind %s", m->src);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return wm_error_set(err, errno, "bind %s", m->src);
	}
	m->tree = fd;
	m->tree_is_dir = S_ISDIR(st.st_mode);
	if (!m->rw)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (mapped_root && m->idmap) {
		int ns = idmap_userns(st.st_uid, st.st_gid, err);

		if (ns < 0)
			return -1;
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)ns;
	}
	if (attr.attr_set && syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
				     sizeof(attr)) != 0) {
		/* A filesystem without id-mapped mounts: the task keeps "other"
		 * access only, which is the safe side. */
		if (!(attr.attr_set & MOUNT_ATTR_IDMAP) || errno != EINVAL)
			return wm_error_set(err, errno, "prepare bind %s", m->src);
		m->idmap_failed = true;
		attr.attr_set &= ~(uint64_t)MOUNT_ATTR_IDMAP;
		if (attr.attr_set &&
		    syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) != 0)
			return wm_error_set(err, errno, "prepare bind %s", m->src);
	}
	m->ro_done = !m->rw;
	return 0;
}

int sb_plan_open_trees(struct sb_mount_plan *pl, bool mapped_root, struct wm_error **err)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct sb_mount *m = &pl->v[i];

		/* A rootfs may sit below directories only the real root can
		 * enter (/root/.cache): the parent opens it, the child moves it. */
		bool rootfs = m->kind == SB_M_ROOT_BIND && strcmp(m->src, "/") != 0;

		if (!rootfs && (m->kind != SB_M_BIND || !m->idmap))
			continue;
		if (open_tree_of(m, mapped_root, err) < 0)
			return -1;
	}
	return 0;
}

int sb_plan_open_image(struct sb_mount_plan *pl, struct wm_error **err)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct sb_mount *m = &pl->v[i];

		if (m->kind != SB_M_ROOT_OVERLAY)
			continue;
		m->tree = open(m->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (m->tree < 0)
			return wm_error_set(err, errno, "image tree %s", m->src);
	}
	return 0;
}

int sb_idmap_probe(const char *path)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int ns, e = 0;

	if (fd < 0)
		return errno;
	ns = idmap_userns(0, 0, NULL);
	attr.userns_fd = (uint64_t)ns;
	if (ns < 0)
		e = EPERM;
	else if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0)
		e = errno;
	close(fd);
	return e;
}
