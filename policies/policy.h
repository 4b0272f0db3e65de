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

enum wm_net_mode {
	WM_NET_NONE,	 /* new net namespace, lo down */
	WM_NET_LOOPBACK, /* new net namespace, lo up */
	WM_NET_HOST,	 /* the host's network */
};

/* What of the host's filesystem the task sees, before binds and hides. */
enum wm_fs_view {
	WM_VIEW_HOST_RW, /* the host's root as it is (minimal) */
	WM_VIEW_HOST_RO, /* the host's root, read-only */
	WM_VIEW_SYSTEM,	 /* system dirs only (/usr /bin /sbin /lib* /etc /opt), read-only */
	WM_VIEW_MINIMAL, /* /usr /bin /lib* and a few /etc files, read-only */
};

enum wm_ws_mode {
	WM_WS_RW,
	WM_WS_RO,
	WM_WS_NONE,
};

enum wm_seccomp_action {
	WM_SC_ALLOW,
	WM_SC_ERRNO, /* fail with errno_ret (EPERM by default); reported as a denial */
	WM_SC_KILL,  /* kill the process; reported as a denial */
	WM_SC_TRAP,
	WM_SC_LOG,
};

enum wm_seccomp_op {
	WM_SC_OP_EQ,
	WM_SC_OP_NE,
	WM_SC_OP_LT,
	WM_SC_OP_LE,
	WM_SC_OP_GT,
	WM_SC_OP_GE,
	WM_SC_OP_MASKED_EQ, /* (arg & value) == value_two */
};

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
