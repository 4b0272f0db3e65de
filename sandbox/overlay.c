/*
 * overlay.c - the writable layer a task gets over an image's tree: the
 * tree (shared, read-only, in the image cache) is overlayfs's lower layer
 * and a tmpfs holds the upper one, so what the task writes dies with it
 * and the cache never changes. Where the kernel refuses overlayfs (in a
 * user namespace before Linux 5.11), the tree is copied onto a tmpfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/internal.h"

#define LAYER "/.wm-layer"

static int mount_overlay(const char *lower, const char *layer, const char *root)
{
	char opts[4200];

	/* ',' and ':' separate overlayfs options and layers. */
	if (strpbrk(lower, ",:")) {
		errno = EINVAL;
		return -1;
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, layer,
		 layer);
	if (mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opts) == 0)
		return 0;
	/* In a user namespace, overlayfs keeps its metadata in user.* xattrs. */
	strncat(opts, ",userxattr", sizeof(opts) - strlen(opts) - 1);
	return mount("overlay", root, "overlay", MS_NOSUID | MS_NODEV, opts);
}

static int copy_onto_tmpfs(int lower, const char *root, uint64_t size, struct sb_fail *f)
{
	char opts[64];
	wm_autoclose int from = -1, to = -1;
	char *why = NULL;

	snprintf(opts, sizeof(opts), "mode=0755,size=%llu", (unsigned long long)size);
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		return sb_failf(f, errno, "mount the image's writable layer");
	from = openat(lower, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	to = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (from < 0 || to < 0)
		return sb_failf(f, errno, "open the image's tree");
	if (wm_copy_tree(from, to, &why) < 0) {
		sb_failf(f, EIO, "copy the image's tree: %s", why ? why : "failed");
		free(why);
		return -1;
	}
	return 0;
}

int sb_root_overlay(int lower, const char *root, uint64_t size, struct sb_fail *f)
{
	char opts[64], path[64];

	snprintf(opts, sizeof(opts), "mode=0755,size=%llu", (unsigned long long)size);
	if (mkdir(LAYER, 0700) != 0 ||
	    mount("tmpfs", LAYER, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0 ||
	    mkdir(LAYER "/upper", 0755) != 0 || mkdir(LAYER "/work", 0700) != 0)
		return sb_failf(f, errno, "mount the image's writable layer");
	/* The host's /proc, still mounted under the old root. */
	snprintf(path, sizeof(path), "/oldroot/proc/self/fd/%d", lower);
	if (mount_overlay(path, LAYER, root) == 0)
		return 0;
	return copy_onto_tmpfs(lower, root, size, f);
}

/* Child of sb_overlay_works(): the same namespaces a task gets. */
static int try_overlay(void)
{
	char map[64];
	int fd;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0)) != 0)
		return 1;
	if (uid != 0) {
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
		if ((fd = open("/proc/self/setgroups", O_WRONLY)) >= 0)
			(void)!write(fd, "deny", 4), close(fd);
		if ((fd = open("/proc/self/uid_map", O_WRONLY)) < 0 ||
		    write(fd, map, strlen(map)) < 0)
			return 1;
		close(fd);
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		if ((fd = open("/proc/self/gid_map", O_WRONLY)) < 0 ||
		    write(fd, map, strlen(map)) < 0)
			return 1;
		close(fd);
	}
	/* All on a tmpfs of this namespace: nothing lands on the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") != 0 || mkdir("/tmp/l", 0755) != 0 ||
	    mkdir("/tmp/m", 0755) != 0 || mkdir("/tmp/w", 0700) != 0 ||
	    mkdir("/tmp/w/upper", 0755) != 0 || mkdir("/tmp/w/work", 0700) != 0)
		return 1;
	return mount_overlay("/tmp/l", "/tmp/w", "/tmp/m") == 0 ? 0 : 1;
}

bool wm_sandbox_overlay_works(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(try_overlay());
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
