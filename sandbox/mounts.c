/*
 * mounts.c - the sandbox's filesystem: the plan (mountplan.c), applied in
 * the child.
 *
 * Applying (in a private mount namespace): an empty tmpfs becomes a staging
 * root with the host's root moved to /oldroot; the new root is built at
 * /newroot from sources under /oldroot; then /newroot is pivoted into and
 * everything else (the host, the staging tmpfs) is detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

#define NEWROOT "/newroot"
/* A group no process has, for hidepid's exemption. */
#define NO_GROUP "4294967294"
#define OLDROOT "/oldroot"

int sb_failf(struct sb_fail *f, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->step, sizeof(f->step), fmt, ap);
	va_end(ap);
	f->err = err;
	return -1;
}

/* ---- apply (child) ---------------------------------------------------------- */

static int set_ro(const char *path, bool recursive)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr,
		    sizeof(attr)) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	/* Old kernels: remount the top mount only. */
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

static void under(char *buf, size_t len, const char *root, const char *path)
{
	snprintf(buf, len, "%s%s", root, strcmp(path, "/") == 0 ? "" : path);
}

/* mkdir -p, best effort: the mount that follows reports the real error.
 * Most paths exist already, or all but their last name: the ancestors are
 * made only when the path itself cannot be. */
static void mkdirs(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf) || mkdir(path, mode) == 0 || errno != ENOENT)
		return;
	memcpy(buf, path, len + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(buf, 0755);
		*s = '/';
	}
	mkdir(buf, mode);
}

static void make_mountpoint(const char *path, bool dir)
{
	char parent[4096];
	char *slash;
	int fd;

	if (dir) {
		mkdirs(path, 0755);
		return;
	}
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		mkdirs(parent, 0755);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0)
		close(fd);
}

static int do_bind(const char *src, const char *dst, bool rw, bool optional, struct sb_fail *f)
{
	struct stat st;

	struct stat dst_st;

	if (stat(src, &st) != 0) {
		if (optional)
			return 0;
		return sb_failf(f, errno, "bind %s", src + strlen(OLDROOT));
	}
	/* An optional bind masks something found on the host (a socket): when
	 * it is gone by now, there is nothing to mask, and no mount point may
	 * be made in its place (that would write to the host's directory). */
	if (optional && lstat(dst, &dst_st) != 0)
		return 0;
	if (!optional)
		make_mountpoint(dst, S_ISDIR(st.st_mode));
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) {
		if (optional && errno == ENOENT)
			return 0; /* removed between the look and the mount */
		return sb_failf(f, errno, "bind %s on %s", src + strlen(OLDROOT),
				dst + strlen(NEWROOT));
	}
	if (!rw && set_ro(dst, true) != 0) {
		/* A masked socket replaced since the mount: the mount sits on
		 * the old name, unreachable; /dev/null left writable is harmless. */
		if (optional && (errno == EINVAL || errno == ENOENT))
			return 0;
		return sb_failf(f, errno, "make %s read-only", dst + strlen(NEWROOT));
	}
	return 0;
}

/* A tree the parent opened: only moved into place here. */
static int do_move(const struct sb_mount *m, const char *dst, struct sb_fail *f)
{
	make_mountpoint(dst, m->tree_is_dir);
	if (syscall(SYS_move_mount, m->tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) != 0)
		return sb_failf(f, errno, "bind %s on %s", m->src, m->dst);
	if (!m->rw && !m->ro_done && set_ro(dst, true) != 0)
		return sb_failf(f, errno, "make %s read-only", m->dst);
	return 0;
}

static int do_tmpfs(const char *dst, uint64_t size, unsigned long flags, mode_t mode,
		    struct sb_fail *f)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "mode=%o,size=%llu", (unsigned)mode,
		 (unsigned long long)(size ? size : 1 << 20));
	make_mountpoint(dst, true);
	if (mount("tmpfs", dst, "tmpfs", flags | MS_NOSUID | MS_NODEV, opts) != 0)
		return sb_failf(f, errno, "mount tmpfs on %s", dst + strlen(NEWROOT));
	return 0;
}

static int do_dev(const struct sb_mount_plan *pl, const char *dst, struct sb_fail *f)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
	static const char *const links[][2] = { { "fd", "/proc/self/fd" },
						{ "stdin", "/proc/self/fd/0" },
						{ "stdout", "/proc/self/fd/1" },
						{ "stderr", "/proc/self/fd/2" } };
	char src[4200], path[4200];

	if (do_tmpfs(dst, 1 << 20, MS_NOEXEC, 0755, f) < 0)
		return -1;
	for (size_t i = 0; i < 6; i++) {
		const char *n = i < 5 ? nodes[i] : "tty";

		if (i == 5 && !pl->dev_tty)
			break;
		snprintf(src, sizeof(src), OLDROOT "/dev/%s", n);
		snprintf(path, sizeof(path), "%s/%s", dst, n);
		make_mountpoint(path, false);
		if (mount(src, path, NULL, MS_BIND, NULL) != 0)
			return sb_failf(f, errno, "bind /dev/%s", n);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dst, links[i][0]);
		if (symlink(links[i][1], path) != 0)
			return sb_failf(f, errno, "symlink /dev/%s", links[i][0]);
	}
	if (pl->shm_size) {
		snprintf(path, sizeof(path), "%s/shm", dst);
		if (do_tmpfs(path, pl->shm_size, MS_NOEXEC, 01777, f) < 0)
			return -1;
	}
	if (pl->dev_pts) {
		snprintf(path, sizeof(path), "%s/pts", dst);
		mkdir(path, 0755);
		if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=620") != 0)
			return sb_failf(f, errno, "mount /dev/pts");
		snprintf(path, sizeof(path), "%s/ptmx", dst);
		if (symlink("pts/ptmx", path) != 0)
			return sb_failf(f, errno, "symlink /dev/ptmx");
	}
	/* Nothing new in /dev: the nodes, /dev/shm and /dev/pts are mounts
	 * of their own and keep their flags. */
	if (set_ro(dst, false) != 0)
		return sb_failf(f, errno, "make /dev read-only");
	return 0;
}

static int do_proc(const char *dst, bool userns, struct sb_fail *f)
{
	static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus", "fs", NULL };
	static const char *const masked[] = { "kcore",	     "keys",	 "timer_list",
					      "sched_debug", "kallsyms", NULL };
	char path[4200];

	make_mountpoint(dst, true);
	/* hidepid: a process the task may not trace (pid 1, which is not
	 * dumpable) is not even listed. Members of the option's gid are
	 * exempt, group 0 by default: outside a user namespace a task of
	 * root's is in it, so name a group nobody has (inside one, only the
	 * mapped group is valid, and it is not 0 on the host). Kernels
	 * before 5.8 know only "2". */
	if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  userns ? "hidepid=invisible" : "hidepid=invisible,gid=" NO_GROUP) != 0 &&
	    mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  userns ? "hidepid=2" : "hidepid=2,gid=" NO_GROUP) != 0)
		return sb_failf(f, errno, "mount /proc");
	for (size_t i = 0; ro[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dst, ro[i]);
		if (access(path, F_OK) != 0)
			continue;
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0 || set_ro(path, true) != 0)
			return sb_failf(f, errno, "make /proc/%s read-only", ro[i]);
	}
	for (size_t i = 0; masked[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dst, masked[i]);
		if (access(path, F_OK) != 0)
			continue;
		if (mount(OLDROOT "/dev/null", path, NULL, MS_BIND, NULL) != 0)
			return sb_failf(f, errno, "mask /proc/%s", masked[i]);
	}
	return 0;
}

static int apply_one(const struct sb_mount_plan *pl, const struct sb_mount *m, struct sb_fail *f)
{
	char dst[4096], src[4096];

	under(dst, sizeof(dst), NEWROOT, m->dst);
	if (m->src && m->kind != SB_M_SYMLINK)
		under(src, sizeof(src), OLDROOT, m->src);
	switch (m->kind) {
	case SB_M_ROOT_TMPFS:
		return do_tmpfs(NEWROOT, 64 << 20, 0, 0755, f);
	case SB_M_ROOT_BIND:
		if (m->tree >= 0)
			return do_move(m, NEWROOT, f);
		return do_bind(src, NEWROOT, m->rw, false, f);
	case SB_M_ROOT_OVERLAY:
		return sb_root_overlay(m->tree, NEWROOT, m->size, f);
	case SB_M_BIND:
		if (m->tree >= 0)
			return do_move(m, dst, f);
		return do_bind(src, dst, m->rw, m->optional, f);
	case SB_M_SYMLINK:
		if (!m->src)
			return sb_failf(f, EINVAL, "symlink %s has no target", m->dst);
		make_mountpoint(dst, true);
		rmdir(dst);
		if (symlink(m->src, dst) != 0)
			return sb_failf(f, errno, "symlink %s", m->dst);
		return 0;
	case SB_M_TMPFS:
		return do_tmpfs(dst, m->size, 0, 01777, f);
	case SB_M_DEV:
		return do_dev(pl, dst, f);
	case SB_M_PROC:
		return do_proc(dst, pl->userns, f);
	case SB_M_HIDE:
		if (access(dst, F_OK) != 0)
			return 0;
		return do_tmpfs(dst, 1 << 20, 0, 0755, f);
	case SB_M_SEAL:
		if (access(dst, F_OK) != 0 && m->optional)
			return 0;
		if (set_ro(dst, false) != 0 && !(m->optional && errno == EINVAL))
			return sb_failf(f, errno, "make %s read-only", m->dst);
		return 0;
	}
	return 0;
}

int sb_mounts_apply(const struct sb_mount_plan *pl, struct sb_fail *f)
{
	const char *base = access("/tmp", F_OK) == 0 ? "/tmp" : "/mnt";

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return sb_failf(f, errno, "make mounts private");
	if (mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
		return sb_failf(f, errno, "mount staging tmpfs on %s", base);
	if (chdir(base) != 0 || mkdir("newroot", 0755) != 0 || mkdir("oldroot", 0755) != 0)
		return sb_failf(f, errno, "prepare staging root");
	if (syscall(SYS_pivot_root, base, "oldroot") != 0)
		return sb_failf(f, errno, "pivot_root into staging root");
	if (chdir("/") != 0)
		return sb_failf(f, errno, "chdir /");
	for (size_t i = 0; i < pl->n; i++)
		if (apply_one(pl, &pl->v[i], f) < 0)
			return -1;
	if (chdir(NEWROOT) != 0)
		return sb_failf(f, errno, "chdir new root");
	if (syscall(SYS_pivot_root, ".", ".") != 0)
		return sb_failf(f, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) != 0)
		return sb_failf(f, errno, "detach old root");
	if (chdir("/") != 0)
		return sb_failf(f, errno, "chdir /");
	return 0;
}
