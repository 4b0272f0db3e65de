/*
 * internal.h - what the pieces of sandbox/ share; not for other modules.
 *
 * Two halves meet here. The parent (wm) prepares everything that needs
 * memory or may fail loudly: the mount plan, the environment, the compiled
 * filters, the cgroup. The child only executes that plan with system calls
 * and reports the first failure as a `struct sb_fail` (fixed-size, no
 * allocation) over the status socket.
 *
 * Child processes: the first child is pid 1 of the new pid namespace
 * ("init"), a copy of wm that is never dumpable. It builds the root, then
 * starts the command through a helper sharing its memory and fd table
 * (CLONE_VM|CLONE_FILES|CLONE_VFORK), so the seccomp listener the helper
 * creates lands in init's table, from where init passes it to wm. The
 * helper makes no call after its filter is loaded but execve and exit, and
 * those are never sent to the listener: nothing waits on wm before wm has
 * the listener. Init then drops everything and execs the small pid 1
 * program (pid1/pid1.c), so no copy of wm's memory outlives the start.
 */
#ifndef WM_SANDBOX_INTERNAL_H
#define WM_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "policies/policy.h"
#include "sandbox/pid1/proto.h"
#include "sandbox/sandbox.h"

/* ---- failures in the child ---------------------------------------------- */

struct sb_fail {
	char step[200]; /* "mount /proc", "cannot create user namespace" ... */
	int err;	/* errno */
};

/* Fills *f and returns -1: `return sb_failf(f, errno, "mount %s", dst);`. */
int sb_failf(struct sb_fail *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
	/* new root is src (an image's tree) under a writable layer of `size`
	 * bytes: sb_root_overlay() */
	SB_M_ROOT_OVERLAY,
};

/* Bytes a task may write over its image (the tmpfs of its writable layer),
 * unless its private /tmp is larger. */
#define SB_IMAGE_LAYER_SIZE (1ULL << 30)

struct sb_mount {
	enum sb_mount_kind kind;
	char *src; /* host path (seen under the old root) or symlink target */
	char *dst; /* path inside the sandbox */
	bool rw;
	bool optional; /* skip silently when src is missing (a bind: or dst) */
	bool idmap;    /* the workspace or a bind: id-mapped when the task's ids are mapped */
	uint64_t size;
	int tree;	   /* SB_M_BIND opened by the parent (open_tree), or -1 */
	bool tree_is_dir;  /* what the tree's root is */
	bool ro_done;	   /* the tree was made read-only by the parent */
	bool idmap_failed; /* the filesystem refused an id-mapped mount */
	bool collect;	   /* SB_M_TMPFS in place of $WM_OUT: handed to wm, copied out */
};

/* The writable layer over an image's tree (`lower`, an O_PATH fd the
 * parent opened), mounted on `root`:
 * overlayfs with its upper layer on a tmpfs of `size` bytes, else (a
 * kernel that refuses overlayfs here) a copy of the tree on a tmpfs. */
int sb_root_overlay(int lower, const char *root, uint64_t size, struct sb_fail *f);

struct sb_mount_plan {
	struct sb_mount *v;
	size_t n, alloc;
	bool dev_tty, dev_pts;
	uint64_t shm_size; /* /dev/shm tmpfs; 0: none */
	bool userns;	   /* applied in a user namespace of its own */
};

/* Builds the plan from the policy and the spec; `rootfs` overrides the
 * host's root (an extracted tarball or a directory), NULL for the host. */
int sb_plan_mounts(const struct wm_policy *p, const struct wm_sandbox_spec *spec,
		   const char *rootfs, bool mapped_root, struct sb_mount_plan *plan,
		   struct wm_error **err);
/* Opens (O_PATH) the image tree of an SB_M_ROOT_OVERLAY into its `tree`:
 * the image cache may be where the task's ids cannot look (root's home). */
int sb_plan_open_image(struct sb_mount_plan *pl, struct wm_error **err);
/* Parent, as root: opens the binds' sources as detached trees, id-mapped
 * to WM_SANDBOX_ROOT_ID when mapped_root. */
int sb_plan_open_trees(struct sb_mount_plan *plan, bool mapped_root, struct wm_error **err);
void sb_plan_release(struct sb_mount_plan *plan);
/* sockets.c: paths of the host's Unix sockets: every live one bound to an
 * absolute path in a network namespace wm can see, plus those found below
 * `workspace` (may be NULL) by a bounded walk. Read once per process and
 * workspace; the list is kept. */
char *const *sb_host_sockets(const char *workspace);
/* 0 when the filesystem of `path` takes id-mapped mounts (root), else why. */
int sb_idmap_probe(const char *path);
/* A user namespace with these maps, as an fd (parent, as root). */
int sb_userns_fd(const char *uid_map, const char *gid_map, struct wm_error **err);
/* Child: builds the root from the plan and pivots into it. */
int sb_mounts_apply(const struct sb_mount_plan *plan, struct sb_fail *f);

/* ---- seccomp (seccomp.c) ------------------------------------------------- */

/* A condition on the first argument, every field named (libseccomp's
 * SCMP_A0 leaves datum_b to the compiler's good will). */
#define ARG0(cmp, a, b) \
	((struct scmp_arg_cmp){ .arg = 0, .op = (cmp), .datum_a = (a), .datum_b = (b) })

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
	/* Denylist filters only: a second filter answering ENOSYS for every
	 * number past those libseccomp knows, so calls a newer kernel adds
	 * (listmount, open_tree_attr, ...) are denied by default too. */
	const struct sock_filter *unknown;
	size_t n_unknown;
};

/* The filter of a learning sandbox (learn.c): every call but
 * wm_learn_unwatched goes to the listener. */
int sb_filter_build_learning(struct sb_filter *out, struct wm_error **err);
/* Does a network namespace isolate sockets of this family? */
bool sb_family_namespaced(int family);
/* Compiles (or loads from the cache) the policy's filter. want_notify: use
 * SCMP_ACT_NOTIFY for denials when the kernel and libseccomp support it. */
int sb_filter_build(const struct wm_policy *p, bool want_notify, struct sb_filter *out, char **note,
		    struct wm_error **err);
void sb_filter_release(struct sb_filter *f);
/* The BPF of a libseccomp filter into out->insns. */
int sb_filter_export(scmp_filter_ctx ctx, struct sb_filter *out, struct wm_error **err);
/* Child: loads it; returns the listener fd, -1 on failure, or 0 when none. */
int sb_filter_load(const struct sb_filter *f, struct sb_fail *fail);
const struct sb_notify_rule *sb_filter_lookup(const struct sb_filter *f, int nr);
bool sb_notify_supported(void);

/* filtercache.c: compiled filters on disk, each entry MAC'd under the key
 * wm_sandbox_set_cache_key() gave (no key: no cache). A rejected entry
 * sets *note to why (the caller records it); the filter is then compiled. */
bool sb_filter_cache_load(const struct wm_policy *p, struct sb_filter *out, char **note);
void sb_filter_cache_store(const struct wm_policy *p, const struct sb_filter *f);

/* cache.c: wm's cache root, and a private directory below it (made 0700,
 * checked: ours, a real directory, writable by us alone), caller frees. */
char *sb_cache_root(void);
char *sb_cache_dir(const char *sub, struct wm_error **err);
int sb_check_private_dir(const char *dir, struct wm_error **err);

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
/* The delegated cgroup v2 directory (below `mount`, our cgroup `self`)
 * sandboxes are made in, or NULL; see limits.c. Caller frees. */
char *sb_cgroup_v2_parent(const char *mount, const char *self);
/* Does a cgroup controller list (cgroup.controllers, cgroup.subtree_control:
 * names separated by blanks) name `controller`? "cpuset" is not "cpu". */
bool sb_cgroup_lists(const char *list, const char *controller);
/* Can a sandbox's cgroup here, in `mode`, get the cpu controller, so that
 * limits.cpu holds? */
bool sb_cgroup_cpu_ok(enum sb_cg_mode mode);
/* Which of the policy's limits this host cannot enforce as written, in a
 * sentence, or NULL when all can. Caller frees. */
char *sb_limits_unenforced(const struct wm_policy *p);
/* Path of our own cgroup below a v1 controller or v2 ("" for v2), caller frees. */
char *sb_cgroup_self(const char *proc_cgroup_text, const char *controller);
int sb_cgroup_create(const struct wm_policy *p, struct sb_cgroup *cg, struct wm_error **err);
int sb_cgroup_join(const struct sb_cgroup *cg, pid_t pid, struct wm_error **err);
size_t sb_cgroup_clean_leftovers(void);
enum wm_limit sb_cgroup_limit_hit(const struct sb_cgroup *cg);
uint64_t sb_cgroup_peak(const struct sb_cgroup *cg);
void sb_cgroup_destroy(struct sb_cgroup *cg);
/* Child: rlimits (nofile, fsize, core, and memory/pids without cgroups). */
int sb_rlimits_apply(const struct wm_policy *p, bool have_cgroup, struct sb_fail *f);

/* ---- spawn (spawn.c, init.c, pid1img.c) ------------------------------------ */

struct wm_sandbox_profile {
	const struct wm_policy *policy;
	struct sb_filter filter;
	char *rootfs; /* extracted rootfs directory, or NULL */
	/* rootfs is an image's (policy fs.rootfs oci:/docker-archive:): */
	char **image_env;    /* its config's Env, or NULL */
	char *image_workdir; /* its WorkingDir, or NULL */
	bool image_user;     /* its User: the task's ids inside its user namespace */
	unsigned image_uid, image_gid;
	int landlock_abi;
	bool userns_as_root;
	bool learning;	  /* wm_sandbox_profile_new_learning() */
	uint32_t granted; /* learning: risk groups let through though the base denies them */
	char *note;	  /* see wm_sandbox_profile_note() */
	char *unenforced; /* see wm_sandbox_profile_unenforced() */
};

/* Everything the child needs, prepared before clone. */
struct sb_child {
	const struct wm_sandbox_profile *prof;
	struct sb_mount_plan plan;
	char **argv; /* owned copies: the child scrubs wm's own argv area */
	char **env;
	char **path; /* directories to search argv[0] in */
	char *cwd;
	char **writable; /* for Landlock */
	int sync_fd;	 /* read end: wm says "go", then holds its end until it dies */
	int sock_fd;	 /* status socket to wm */
	int pid1_fd;	 /* the pid 1 image (sealed memfd), -1: init stays a copy of wm */
	const struct sb_filter *pid1_filter; /* init's own filter before that exec */
	int stdio[3];
	bool userns;
	bool map_root; /* uid/gid 0 inside map to an unprivileged host id: switch to them */
	bool have_cgroup;
};

/* SIGCHLD and the signals pid 1 forwards to the command: blocked from the
 * child's birth, since a pid namespace's init drops unhandled signals. */
void sb_forwarded_set(sigset_t *set);

/* init.c: where argv and the environment lie, from /proc/PID/stat's text;
 * -1 when it cannot tell. */
int sb_stat_args_env(const char *stat, unsigned long v[4]);

/* init.c: runs in the first child; never returns. */
void sb_init_main(struct sb_child *c) __attribute__((noreturn));

/* pid1img.c: the embedded pid 1 program as a sealed, executable memfd
 * (opened once per process, close-on-exec), or -1 when this host refuses
 * to exec memfds; and the filter init runs under from that exec on. */
int sb_pid1_image_fd(void);
const struct sb_filter *sb_pid1_filter(struct wm_error **err);

/* The environment: policy keep from `caller`, then the image's Env, then
 * policy set, then extra. */
char **sb_env_build(const struct wm_policy *p, char *const *caller, char *const *image,
		    char *const *extra);
/* Status convention of a wait status. */
int sb_status_of(int wstatus);

/* Denials, counted per distinct call: the first SB_MAX_NAMED are named, the
 * rest only counted, so a storm of calls costs a bounded amount per call. */
#define SB_MAX_NAMED 64

struct sb_denials {
	int nr[SB_MAX_NAMED];
	uint32_t arch[SB_MAX_NAMED];
	struct wm_denial named[SB_MAX_NAMED];
	size_t n;
	uint64_t other; /* denials of calls beyond the first SB_MAX_NAMED */
};

/* A learning sandbox's side of the supervisor (learn.c). */
#define SB_LEARN_NAMES 1024
struct sb_learn {
	struct wm_learned *rec; /* borrowed from the spec */
	char *task, *workspace, *out_dir;
	char *names[SB_LEARN_NAMES]; /* call names by number, resolved once */
};

struct sb_learn *sb_learn_new(const struct wm_sandbox_spec *spec);
void sb_learn_free(struct sb_learn *l);

struct wm_sandbox {
	const struct wm_sandbox_profile *prof;
	struct sb_learn *learn; /* learning sandboxes only */
	pid_t pid;
	int pidfd;
	int sock;
	int notify_fd;
	int out_fd;    /* read end of the output pipe, -1 when output is not captured */
	int lifeline;  /* write end of the sync pipe: closes when wm dies */
	int out_tree;  /* root of $WM_OUT's tmpfs (limits.out), from init, or -1 */
	int out_dest;  /* the host's $WM_OUT directory to copy it into, or -1 */
	bool out_full; /* the tmpfs was full when the task ended */
	void (*on_output)(void *ctx, const char *data, size_t len);
	void *output_ctx;
	struct sb_cgroup cg;
	enum wm_limit limit;
	struct sb_denials denials;
	uint64_t start_ms;
	bool exited; /* init is gone: only draining is left */
	bool reaped;
	bool have_setup;
	struct wm_pid1_msg setup;
	bool have_exit;
	int cmd_wstatus;
};

/* Reads what init reported, without blocking; the READY message brings the
 * seccomp listener. */
void sb_read_msgs(struct wm_sandbox *sb);
/* Learning: records the call and fills the answer (continue, or the
 * base's errno); true when the call was refused. */
bool sb_learn_answer(struct wm_sandbox *sb, const struct seccomp_notif *req,
		     struct seccomp_notif_resp *resp);
/* Answers up to `budget` pending denials; returns how many it answered. */
size_t sb_serve_notify(struct wm_sandbox *sb, size_t budget);
/* Copies what the command wrote to the caller, about `budget` bytes at
 * most: 1 when more is waiting, 0 when the pipe is empty for now, -1 when
 * it is closed (end of output). */
int sb_serve_output(struct wm_sandbox *sb, size_t budget);

/* outcopy.c: copies $WM_OUT's tmpfs (from) into the host's directory (to):
 * directories, regular files and links as links, nothing followed. */
int sb_copy_out(int from, int to, char **why);

/* ---- rootfs (rootfs.c) --------------------------------------------------- */

/* A directory for the policy's rootfs: the directory itself, or the tarball
 * extracted into the cache under its content hash. Caller frees. */
char *sb_rootfs_prepare(const char *rootfs, struct wm_error **err);
/* The same for an image reference: its tree in the image cache (built on
 * first use); fills prof's image_env and image_workdir. */
char *sb_image_prepare(struct wm_sandbox_profile *prof, const char *ref, struct wm_error **err);

#endif
