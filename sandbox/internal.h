/*
 * internal.h - what the pieces of sandbox/ share; not for other modules.
 *
 * Two halves meet here. The parent (wm) prepares everything that needs
 * memory or may fail loudly: the mount plan, the environment, the compiled
 * filter, the cgroup. The child only executes that plan with system calls
 * and reports the first failure as a `struct sb_fail` (fixed-size, no
 * allocation) over the status socket.
 *
 * Child processes: the first child is pid 1 of the new pid namespace
 * ("init"): it builds the root, then starts the command through a helper
 * sharing its fd table (CLONE_FILES|CLONE_VFORK), so the seccomp listener
 * the helper creates lands in init's table, from where init passes it to wm.
 */
#ifndef WM_SANDBOX_INTERNAL_H
#define WM_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "policies/policy.h"
#include "sandbox/sandbox.h"

/* ---- failures in the child ---------------------------------------------- */

struct sb_fail {
	char step[200]; /* "mount /proc", "cannot create user namespace" ... */
	int err;	/* errno */
};

/* Fills *f and returns -1: `return sb_failf(f, errno, "mount %s", dst);`. */
int sb_failf(struct sb_fail *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Messages from init to wm over the SOCK_SEQPACKET status socket. */
enum sb_msg_type {
	SB_MSG_READY = 1, /* the command was exec'd; the listener fd rides along if any */
	SB_MSG_SETUP,	  /* setup failed: fail.step, fail.err, status 125/126/127 */
	SB_MSG_EXIT,	  /* the command ended: wait status */
};

struct sb_msg {
	int type;
	int status;
	struct sb_fail fail;
};

/* ---- mounts (mounts.c) ---------------------------------------------------- */

enum sb_mount_kind {
	SB_M_ROOT_TMPFS, /* new root is an empty tmpfs (system/minimal views) */
	SB_M_ROOT_BIND,	 /* new root is a recursive bind of src (host or rootfs) */
	SB_M_BIND,	 /* bind src on dst (created as file or dir as src is) */
	SB_M_SYMLINK,	 /* dst -> src */
	SB_M_TMPFS,	 /* tmpfs of `size` bytes on dst */
	SB_M_DEV,	 /* minimal /dev on dst */
	SB_M_PROC,	 /* fresh /proc with sys/sysrq-trigger read-only, leaks masked */
	SB_M_HIDE,	 /* empty tmpfs on dst, made read-only at the end */
	SB_M_SEAL,	 /* make dst (a tmpfs of this plan) read-only */
};

struct sb_mount {
	enum sb_mount_kind kind;
	char *src; /* host path (seen under the old root) or symlink target */
	char *dst; /* path inside the sandbox */
	bool rw;
	bool optional; /* skip silently when src is missing */
	uint64_t size;
};

struct sb_mount_plan {
	struct sb_mount *v;
	size_t n, alloc;
	bool dev_tty, dev_pts;
};

/* Builds the plan from the policy and the spec; `rootfs` overrides the
 * host's root (an extracted tarball or a directory), NULL for the host. */
int sb_plan_mounts(const struct wm_policy *p, const struct wm_sandbox_spec *spec,
		   const char *rootfs, struct sb_mount_plan *plan, struct wm_error **err);
void sb_plan_release(struct sb_mount_plan *plan);
/* Child: builds the root from the plan and pivots into it. */
int sb_mounts_apply(const struct sb_mount_plan *plan, struct sb_fail *f);

/* ---- seccomp (seccomp.c) ------------------------------------------------- */

struct sb_notify_rule {
	int nr;
	int err;   /* errno answered */
	bool kill; /* kill the caller instead (default-kill policies) */
};

struct sb_filter {
	struct sock_filter *insns; /* NULL: no filter */
	size_t n_insns;
	bool notify;		      /* denials go to a user-notification listener */
	struct sb_notify_rule *rules; /* sorted by nr */
	size_t n_rules;
	struct sb_notify_rule dflt; /* for calls without a rule (nr -1) */
};

/* Compiles (or loads from the cache) the policy's filter. want_notify: use
 * SCMP_ACT_NOTIFY for denials when the kernel and libseccomp support it. */
int sb_filter_build(const struct wm_policy *p, bool want_notify, struct sb_filter *out,
		    struct wm_error **err);
void sb_filter_release(struct sb_filter *f);
/* Child: loads it; returns the listener fd, -1 on failure, or 0 when none. */
int sb_filter_load(const struct sb_filter *f, struct sb_fail *fail);
const struct sb_notify_rule *sb_filter_lookup(const struct sb_filter *f, int nr);
bool sb_notify_supported(void);

/* ---- capabilities, landlock (caps.c) -------------------------------------- */

/* Child: drops every capability but `keep` (cap names) in all five sets. */
int sb_caps_drop(char *const *keep, struct sb_fail *f);
/* -1 when unknown capability names. */
int sb_caps_check(char *const *keep, struct wm_error **err);
int sb_landlock_abi(void);
/* Child: read/exec everywhere, write only below `writable` paths. */
int sb_landlock_apply(char *const *writable, struct sb_fail *f);

/* ---- limits (limits.c) --------------------------------------------------- */

enum sb_cg_mode { SB_CG_NONE, SB_CG_V1, SB_CG_V2 };

struct sb_cgroup {
	enum sb_cg_mode mode;
	char *v2;     /* the cgroup directory (v2) */
	char *memory; /* v1 directories, NULL when not used */
	char *pids;
	char *cpu;
};

enum sb_cg_mode sb_cgroup_detect(void);
/* Path of our own cgroup below a v1 controller or v2 ("" for v2), caller frees. */
char *sb_cgroup_self(const char *proc_cgroup_text, const char *controller);
int sb_cgroup_create(const struct wm_policy *p, struct sb_cgroup *cg, struct wm_error **err);
int sb_cgroup_join(const struct sb_cgroup *cg, pid_t pid, struct wm_error **err);
enum wm_limit sb_cgroup_limit_hit(const struct sb_cgroup *cg);
uint64_t sb_cgroup_peak(const struct sb_cgroup *cg);
void sb_cgroup_destroy(struct sb_cgroup *cg);
/* Child: rlimits (nofile, fsize, core, and memory/pids without cgroups). */
int sb_rlimits_apply(const struct wm_policy *p, bool have_cgroup, struct sb_fail *f);

/* ---- spawn (spawn.c, init.c) --------------------------------------------- */

struct wm_sandbox_profile {
	const struct wm_policy *policy;
	struct sb_filter filter;
	char *rootfs; /* extracted rootfs directory, or NULL */
	int landlock_abi;
	bool userns_as_root;
};

/* Everything the child needs, prepared before clone. */
struct sb_child {
	const struct wm_sandbox_profile *prof;
	struct sb_mount_plan plan;
	char **argv;
	char **env;
	char **path; /* directories to search argv[0] in */
	char *cwd;
	char **writable; /* for Landlock */
	int sync_fd;	 /* read end: wm says "go" */
	int sock_fd;	 /* status socket to wm */
	int stdio[3];
	bool userns;
	bool have_cgroup;
};

/* init.c: runs in the first child; never returns. */
void sb_init_main(struct sb_child *c) __attribute__((noreturn));

/* The environment: policy keep from `caller`, then policy set, then extra. */
char **sb_env_build(const struct wm_policy *p, char *const *caller, char *const *extra);
/* Status convention of a wait status. */
int sb_status_of(int wstatus);

struct wm_sandbox {
	const struct wm_sandbox_profile *prof;
	pid_t pid;
	int pidfd;
	int sock;
	int notify_fd;
	struct sb_cgroup cg;
	enum wm_limit limit;
	char **denied;
	size_t n_denied;
	uint64_t start_ms;
	bool reaped;
	bool have_setup;
	struct sb_msg setup;
	bool have_exit;
	int cmd_wstatus;
};

uint64_t sb_now_ms(void);
/* Drains pending status messages (non-blocking). */
void sb_read_msgs(struct wm_sandbox *sb);
void sb_record_denied(struct wm_sandbox *sb, const char *name);

/* ---- rootfs (rootfs.c) --------------------------------------------------- */

/* A directory for the policy's rootfs: the directory itself, or the tarball
 * extracted into the cache under its content hash. Caller frees. */
char *sb_rootfs_prepare(const char *rootfs, struct wm_error **err);

#endif
