/*
 * policy.h - what a resolved security policy is.
 *
 * A `struct wm_policy` is the fully resolved form (inheritance applied,
 * OCI profile imported, every name checked) that sandbox/ applies. It is
 * plain data: no system calls happen in policies/. A policy owns all its
 * strings and arrays; wm_policy_free() releases them (accepts NULL).
 *
 * Loading, inheritance, the built-ins and hashing live in policies.h.
 */
#ifndef WM_POLICIES_POLICY_H
#define WM_POLICIES_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/xlist.h"

/*
 * One list per enum (common/xlist.h): each value once, with its name in
 * policy files (which emit.c writes back, so the hash follows the names),
 * and the columns the loader, `wm policy diff` and the strictness order
 * use. `rank` orders values from the strictest (0) up: a policy is no
 * stricter than another when one of its ranks is higher.
 */

/* X(enumerator, name, rank, what a policy with it allows, for diff) */
#define WM_NET_MODES(X)                                                              \
	X(WM_NET_NONE, "none", 0, "has no network") /* new net namespace, lo down */ \
	X(WM_NET_LOOPBACK, "loopback", 1, "can reach loopback services") /* lo up */ \
	X(WM_NET_HOST, "host", 2, "can reach the host's network")

/* What of the host's filesystem the task sees, before binds and hides.
 * X(enumerator, name, rank, what a policy with it allows, for diff) */
#define WM_FS_VIEWS(X)                                                                \
	X(WM_VIEW_HOST_RW, "host-rw", 3, "can write the host's files") /* as it is */ \
	X(WM_VIEW_HOST_RO, "host-ro", 2, "sees the host's files read-only")           \
	/* system dirs only (/usr /bin /sbin /lib* /etc /opt), read-only */           \
	X(WM_VIEW_SYSTEM, "system", 1, "sees only system directories")                \
	/* /usr /bin /lib* and a few /etc files, read-only */                         \
	X(WM_VIEW_MINIMAL, "minimal", 0, "sees a minimal system")

/* X(enumerator, name, rank) */
#define WM_WS_MODES(X)       \
	X(WM_WS_RW, "rw", 2) \
	X(WM_WS_RO, "ro", 1) \
	X(WM_WS_NONE, "none", 0)

/* X(enumerator, name, OCI profile name, rank as a default action, passes:
 * the call is carried out). ERRNO fails with errno_ret (EPERM by default)
 * and KILL kills the process: both are reported as denials. */
#define WM_SECCOMP_ACTIONS(X)                               \
	X(WM_SC_ALLOW, "allow", "SCMP_ACT_ALLOW", 3, true)  \
	X(WM_SC_ERRNO, "errno", "SCMP_ACT_ERRNO", 1, false) \
	X(WM_SC_KILL, "kill", "SCMP_ACT_KILL", 0, false)    \
	X(WM_SC_TRAP, "trap", "SCMP_ACT_TRAP", 1, false)    \
	X(WM_SC_LOG, "log", "SCMP_ACT_LOG", 2, true)

/* X(enumerator, name, libseccomp's comparison, whose name is also the one
 * OCI profiles use). MASKED_EQ: (arg & value) == value_two. */
#define WM_SECCOMP_OPS(X)                 \
	X(WM_SC_OP_EQ, "eq", SCMP_CMP_EQ) \
	X(WM_SC_OP_NE, "ne", SCMP_CMP_NE) \
	X(WM_SC_OP_LT, "lt", SCMP_CMP_LT) \
	X(WM_SC_OP_LE, "le", SCMP_CMP_LE) \
	X(WM_SC_OP_GT, "gt", SCMP_CMP_GT) \
	X(WM_SC_OP_GE, "ge", SCMP_CMP_GE) \
	X(WM_SC_OP_MASKED_EQ, "masked_eq", SCMP_CMP_MASKED_EQ)

enum wm_net_mode { WM_NET_MODES(WM_XLIST_ENUM) };
enum wm_fs_view { WM_FS_VIEWS(WM_XLIST_ENUM) };
enum wm_ws_mode { WM_WS_MODES(WM_XLIST_ENUM) };
enum wm_seccomp_action { WM_SECCOMP_ACTIONS(WM_XLIST_ENUM) };
enum wm_seccomp_op { WM_SECCOMP_OPS(WM_XLIST_ENUM) };

#define WM_NET_MODE_COUNT (0 WM_NET_MODES(WM_XLIST_COUNT))
#define WM_FS_VIEW_COUNT (0 WM_FS_VIEWS(WM_XLIST_COUNT))
#define WM_WS_MODE_COUNT (0 WM_WS_MODES(WM_XLIST_COUNT))
#define WM_SECCOMP_ACTION_COUNT (0 WM_SECCOMP_ACTIONS(WM_XLIST_COUNT))
#define WM_SECCOMP_OP_COUNT (0 WM_SECCOMP_OPS(WM_XLIST_COUNT))

struct wm_seccomp_arg {
	unsigned index; /* 0..5 */
	enum wm_seccomp_op op;
	uint64_t value;
	uint64_t value_two;
};

/* One rule: a syscall name and what happens when it is called (with every
 * argument condition true). Names are checked against libseccomp's resolver
 * when the policy is loaded; a name the running kernel's arch lacks is kept
 * (OCI profiles list many) and skipped when the filter is built. */
struct wm_seccomp_rule {
	char *name;
	enum wm_seccomp_action action;
	int errno_ret; /* for WM_SC_ERRNO; 0 means EPERM */
	struct wm_seccomp_arg args[6];
	size_t n_args;
};

struct wm_bind {
	char *src;
	char *dst;
	bool rw;
};

struct wm_policy {
	char *name;
	char *description;
	char *inherits; /* parent's name, NULL for a root policy */
	char *source;	/* file it came from, or "builtin:NAME" */

	enum wm_net_mode network;

	struct {
		enum wm_fs_view view;
		char *rootfs; /* tarball or directory, NULL: host's */
		enum wm_ws_mode workspace;
		uint64_t tmp_size; /* bytes of the private /tmp tmpfs; 0: no private /tmp */
		char **hide;	   /* NULL-terminated: paths masked by an empty tmpfs */
		struct wm_bind *binds;
		size_t n_binds;
		char **devices;	   /* NULL-terminated extra /dev nodes: "tty", "pts" */
		uint64_t shm_size; /* bytes of the private /dev/shm tmpfs; 0: no /dev/shm */
	} fs;

	char **capabilities; /* NULL-terminated cap names kept (e.g. "cap_net_bind_service") */
	bool user_namespace; /* also use a user namespace when run as root */
	bool landlock;	     /* restrict with Landlock where the kernel has it */

	struct {
		bool enabled; /* false: no filter at all (minimal) */
		enum wm_seccomp_action default_action;
		int default_errno; /* for WM_SC_ERRNO default; 0 means EPERM */
		char *profile;	   /* OCI/Docker JSON it was built from, for show/diff */
		struct wm_seccomp_rule *rules;
		size_t n_rules;
	} seccomp;

	struct {
		uint64_t memory;     /* bytes, 0 = unlimited */
		uint64_t pids;	     /* 0 = unlimited */
		double cpu;	     /* CPUs' worth of time, 0 = unlimited */
		uint64_t timeout_ms; /* 0 = none */
		uint64_t nofile;     /* 0 = inherit */
		uint64_t fsize;	     /* bytes, 0 = unlimited */
		uint64_t core;	     /* bytes; core dumps are off (0) unless set */
		uint64_t out;	     /* bytes of the task's $WM_OUT in total, 0 = unlimited */
		bool strict;	     /* a limit wm cannot enforce as written is an error */
	} limits;

	struct {
		char **keep; /* NULL-terminated variable names kept from the caller */
		char **set;  /* NULL-terminated "KEY=VALUE" */
	} env;
};

void wm_policy_free(struct wm_policy *p);

#endif
