/*
 * caps.c - capabilities (libcap) and Landlock, applied in the child just
 * before no_new_privs and seccomp.
 *
 * Capabilities go from every set: bounding (so exec as uid 0 gains nothing),
 * ambient, inheritable, permitted, effective, except those the policy keeps,
 * which are raised as ambient so they survive exec as a non-root uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/internal.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

int sb_caps_check(char *const *keep, struct wm_error **err)
{
	cap_value_t v;

	for (size_t i = 0; keep && keep[i]; i++)
		if (cap_from_name(keep[i], &v) != 0)
			return wm_error_setx(err, WM_EXIT_USAGE, "unknown capability `%s`",
					     keep[i]);
	return 0;
}

static bool kept(char *const *keep, cap_value_t c)
{
	cap_value_t v;

	for (size_t i = 0; keep && keep[i]; i++)
		if (cap_from_name(keep[i], &v) == 0 && v == c)
			return true;
	return false;
}

int sb_caps_drop(char *const *keep, struct sb_fail *f)
{
	cap_t caps = cap_init();
	cap_value_t last = cap_max_bits();
	cap_value_t list[1];
	int rc = -1;

	if (!caps)
		return sb_failf(f, errno, "cap_init");
	/* Root must not regain capabilities by exec or setuid. */
	if (getuid() == 0 || geteuid() == 0)
		prctl(PR_SET_SECUREBITS,
		      SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			      SECBIT_NO_SETUID_FIXUP_LOCKED,
		      0, 0, 0);
	/* One prctl: libcap's cap_reset_ambient() first asks about every
	 * capability in turn, a system call each, on every spawn. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		sb_failf(f, errno, "clear ambient capabilities");
		goto out;
	}
	for (cap_value_t c = 0; c < last; c++) {
		if (kept(keep, c)) {
			list[0] = c;
			cap_set_flag(caps, CAP_PERMITTED, 1, list, CAP_SET);
			cap_set_flag(caps, CAP_EFFECTIVE, 1, list, CAP_SET);
			cap_set_flag(caps, CAP_INHERITABLE, 1, list, CAP_SET);
			continue;
		}
		if (cap_drop_bound(c) != 0 && errno != EINVAL) {
			sb_failf(f, errno, "drop capability %d from the bounding set", c);
			goto out;
		}
	}
	if (cap_set_proc(caps) != 0) {
		sb_failf(f, errno, "drop capabilities");
		goto out;
	}
	for (cap_value_t c = 0; c < last; c++)
		if (kept(keep, c) && cap_set_ambient(c, CAP_SET) != 0) {
			sb_failf(f, errno, "keep capability %d", c);
			goto out;
		}
	rc = 0;
out:
	cap_free(caps);
	return rc;
}

/* ---- Landlock --------------------------------------------------------------- */

int sb_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t a = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		     LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return a;
}

static int add_path(int ruleset, const char *path, uint64_t access, struct sb_fail *f)
{
	struct landlock_path_beneath_attr attr = { .allowed_access = access };
	int fd = open(path, O_PATH | O_CLOEXEC);
	long rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : sb_failf(f, errno, "landlock: open %s", path);
	attr.parent_fd = fd;
	rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
	close(fd);
	if (rc != 0)
		return sb_failf(f, errno, "landlock: rule for %s", path);
	return 0;
}

int sb_landlock_apply(char *const *writable, struct sb_fail *f)
{
	int abi = sb_landlock_abi();
	uint64_t all, read = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
			     LANDLOCK_ACCESS_FS_READ_DIR;
	struct landlock_ruleset_attr attr = { 0 };
	int rs;

	if (abi <= 0)
		return 0; /* the kernel lacks it: doctor says so */
	all = handled_fs(abi);
	attr.handled_access_fs = all;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		return sb_failf(f, errno, "landlock: create ruleset");
	if (add_path(rs, "/", read, f) < 0 ||
	    add_path(rs, "/dev", read | LANDLOCK_ACCESS_FS_WRITE_FILE, f) < 0)
		goto fail;
	for (size_t i = 0; writable && writable[i]; i++)
		if (add_path(rs, writable[i], all, f) < 0)
			goto fail;
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		sb_failf(f, errno, "landlock: restrict");
		goto fail;
	}
	close(rs);
	return 0;
fail:
	close(rs);
	return -1;
}
