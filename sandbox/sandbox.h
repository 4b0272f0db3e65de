/*
 * sandbox.h - isolating one process tree under a resolved policy.
 *
 * Lifecycle:
 *   wm_sandbox_profile_new(policy)   once per policy: checks, compiles the
 *                                    seccomp filter (reused by every spawn)
 *   wm_sandbox_spawn(profile, spec)  starts the tree and returns at once;
 *                                    setup goes on in the child
 *   loop: poll() the fds wm_sandbox_fds() names, hand the result to
 *         wm_sandbox_serve(): it answers denied syscalls (EPERM, or a kill
 *         for default-kill policies, each named), reads what the sandbox
 *         reports, copies the command's output, each with bounded work so
 *         one sandbox cannot starve the loop. It returns true once the
 *         tree is gone and all is drained.
 *     deadline passed -> wm_sandbox_terminate(sb, WM_LIMIT_TIMEOUT, SIGTERM),
 *                        later SIGKILL: the whole tree dies (pid namespace)
 *   wm_sandbox_reap()                fills the result (never blocks after
 *                                    serve said true)
 *   wm_sandbox_free()                kills what is left, releases everything
 *
 * wm_sandbox_run() does all of it, blocking, for `wm sandbox`.
 * The tree never outlives the calling process (PR_SET_PDEATHSIG + pid ns).
 * A pending denial blocks the task until it is answered, never wm: whoever
 * spawns must keep serving while the tree runs (wm_sandbox_run() does).
 * Status 125/126/127 come with setup_error ("mount /proc: ...", "exec X: ...").
 * Knows nothing of workflows. The profile borrows the policy: keep the policy
 * alive as long as the profile.
 */
#ifndef WM_SANDBOX_SANDBOX_H
#define WM_SANDBOX_SANDBOX_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/xlist.h"
#include "policies/policy.h"

/* Exit statuses of `wm sandbox` (podman's convention). */
enum {
	WM_SANDBOX_SETUP_FAILED = 125,
	WM_SANDBOX_NOT_EXECUTABLE = 126,
	WM_SANDBOX_NOT_FOUND = 127,
};

/* As root, a policy with a user namespace maps uid and gid 0 inside to this
 * host id (nobody/nogroup), so the task is never host root. */
#define WM_SANDBOX_ROOT_ID 65534

/* The limit that ended a tree, one list (common/xlist.h): X(enumerator,
 * name as journals, audit events and `wm status` give it). */
#define WM_LIMITS(X)                   \
	X(WM_LIMIT_NONE, "none")       \
	X(WM_LIMIT_TIMEOUT, "timeout") \
	X(WM_LIMIT_MEMORY, "memory")   \
	X(WM_LIMIT_PIDS, "pids")       \
	X(WM_LIMIT_OUT, "out") /* $WM_OUT full (limits.out) */
enum wm_limit { WM_LIMITS(WM_XLIST_ENUM) };
#define WM_LIMIT_COUNT (0 WM_LIMITS(WM_XLIST_COUNT))

struct wm_sandbox_profile;
struct wm_sandbox;
struct wm_learned;

struct wm_sandbox_spec {
	char *const *argv;     /* argv[0] looked up in the sandbox's PATH when it has no '/' */
	char *const *env;      /* extra KEY=VALUE, applied after the policy's keep/set */
	const char *workspace; /* host directory, mounted at the same path; NULL: none */
	const char *cwd;       /* inside the sandbox; NULL: the workspace, else / */
	const struct wm_bind *binds; /* extra binds, e.g. $WM_OUT rw and $WM_IN/<dep> ro */
	size_t n_binds;
	char *const *mask; /* host directories the task must never see (wm's own state) */
	/* The host directory of $WM_OUT, one of `binds` (rw). When the policy
	 * sets limits.out, the task gets a tmpfs of that size there instead,
	 * copied into this directory (empty) when the task ends. */
	const char *out_dir;
	int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null */
	/* When set, stdout and stderr go to one pipe that wm_sandbox_serve()
	 * drains into this callback (the task never holds wm's files). */
	void (*on_output)(void *ctx, const char *data, size_t len);
	void *output_ctx;
	/* Learning profiles only: where the calls are recorded, and the task
	 * they are counted for (NULL: "command"). */
	struct wm_learned *learned;
	const char *learn_task;
	uint64_t timeout_ms;  /* wm_sandbox_run() only; 0: the policy's */
	bool forward_signals; /* wm_sandbox_run() only: SIGINT/SIGTERM/SIGHUP to the command,
				 a second one kills the tree */
};

/* A denied system call and how often the tree called it. */
struct wm_denial {
	char *name; /* "ptrace", or "syscall_N" for numbers libseccomp cannot name */
	uint64_t count;
};

struct wm_sandbox_result {
	int status;		  /* `wm sandbox` status: code, 128+N, 125, 126, 127 */
	int exit_code;		  /* -1 when killed by a signal or never started */
	int signal;		  /* 0 unless killed */
	enum wm_limit limit;	  /* which limit ended it, if any */
	struct wm_denial *denied; /* distinct calls denied, first-seen order, at most 64 */
	size_t n_denied;
	uint64_t denied_other; /* denials of further calls, counted but not named */
	uint64_t peak_memory;  /* bytes, 0 when unknown */
	uint64_t duration_ms;
	char *setup_error; /* why the sandbox could not be set up (status 125-127), else NULL */
	char *out_error;   /* why $WM_OUT (limits.out) could not be copied out, else NULL */
};

/* At most this many fds per sandbox are to be polled. */
#define WM_SANDBOX_MAX_FDS 4

/* The key (32 bytes) that authenticates compiled filters cached on disk;
 * kept in memory no sandbox inherits. Without one, nothing is cached. */
void wm_sandbox_set_cache_key(const unsigned char key[32]);

int wm_sandbox_profile_new(const struct wm_policy *policy, struct wm_sandbox_profile **out,
			   struct wm_error **err);
/* `wm policy learn`: the sandbox of `base` (namespaces, mounts,
 * capabilities, limits as it says) with a learning filter: calls are
 * recorded into the spec's `learned` and carried out
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE), except the calls of critical risk
 * groups (policies/score.h) the base denies and `granted` (a bit per
 * group) does not name, which get the base's errno. Exit 3 where the
 * kernel lacks user notification. */
int wm_sandbox_profile_new_learning(const struct wm_policy *base, uint32_t granted,
				    struct wm_sandbox_profile **out, struct wm_error **err);
const struct wm_policy *wm_sandbox_profile_policy(const struct wm_sandbox_profile *profile);
/* Something the caller should record (a cached filter that was rejected
 * and recompiled), or NULL. Borrowed from the profile. */
const char *wm_sandbox_profile_note(const struct wm_sandbox_profile *profile);
/* The policy's limits this host cannot enforce as written ("memory holds
 * per process only ..."), or NULL; the caller warns and records it
 * (limit.unenforced). With limits.strict the profile is refused instead
 * (exit 3). Borrowed from the profile. */
const char *wm_sandbox_profile_unenforced(const struct wm_sandbox_profile *profile);
void wm_sandbox_profile_free(struct wm_sandbox_profile *profile);

int wm_sandbox_spawn(const struct wm_sandbox_profile *profile, const struct wm_sandbox_spec *spec,
		     struct wm_sandbox **out, struct wm_error **err);
/* Fills pfd (room for WM_SANDBOX_MAX_FDS) with what to poll; returns how many. */
size_t wm_sandbox_fds(const struct wm_sandbox *sb, struct pollfd *pfd);
/* Serves the revents of the fds wm_sandbox_fds() gave (same order, same n);
 * true once the tree has ended and wm_sandbox_reap() will not block. */
bool wm_sandbox_serve(struct wm_sandbox *sb, const struct pollfd *pfd, size_t n);
int wm_sandbox_terminate(struct wm_sandbox *sb, enum wm_limit why, int sig);
int wm_sandbox_reap(struct wm_sandbox *sb, struct wm_sandbox_result *res, struct wm_error **err);
void wm_sandbox_free(struct wm_sandbox *sb);

int wm_sandbox_run(const struct wm_sandbox_profile *profile, const struct wm_sandbox_spec *spec,
		   struct wm_sandbox_result *res, struct wm_error **err);
void wm_sandbox_result_release(struct wm_sandbox_result *res);

/* Copies the tree under directory fd `from` into directory fd `to` as
 * outputs are copied out of a sandbox: links recreated, never followed;
 * only directories and regular files; no setuid bits. -1 with *why
 * (caller frees) on the first failure. */
int wm_copy_tree(int from, int to, char **why);

/* The image cache (image/image.h), created private if missing: CACHE/images
 * under wm's cache directory ($XDG_CACHE_HOME/wm, ~/.cache/wm, else
 * /tmp/wm-cache-UID). The caller frees it. */
char *wm_sandbox_image_cache(struct wm_error **err);
/* Would a task's writable layer over an image be overlayfs here (else a
 * copy of the image onto a tmpfs)? */
bool wm_sandbox_overlay_works(void);

/* "timeout", "memory", ...; "none" for WM_LIMIT_NONE or a value outside the list. */
const char *wm_limit_name(enum wm_limit limit);

/* Removes the empty cgroups that orchestrators killed before they could
 * clean up left behind (named after a pid that is no longer a wm);
 * returns how many. */
size_t wm_sandbox_clean_leftovers(void);

#endif
