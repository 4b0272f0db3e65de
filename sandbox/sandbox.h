/*
 * sandbox.h - isolating one process tree under a resolved policy.
 *
 * Lifecycle:
 *   wm_sandbox_profile_new(policy)   once per policy: checks, compiles the
 *                                    seccomp filter (reused by every spawn)
 *   wm_sandbox_spawn(profile, spec)  starts the tree; returns once the command
 *                                    has been exec'd (or setup failed: reap
 *                                    then says why), so the notify fd is known
 *   poll() on wm_sandbox_pidfd() and wm_sandbox_notify_fd():
 *     notify fd readable  -> wm_sandbox_handle_notify() answers a denied
 *                            syscall with EPERM and records its name
 *     deadline passed     -> wm_sandbox_terminate(sb, WM_LIMIT_TIMEOUT, SIGTERM),
 *                            later SIGKILL: the whole tree dies (pid namespace)
 *     pidfd readable      -> wm_sandbox_reap() fills the result
 *   wm_sandbox_free()                kills what is left, releases everything
 *
 * wm_sandbox_run() does all of it, blocking, for `wm sandbox`.
 * The tree never outlives the calling process (PR_SET_PDEATHSIG + pid ns).
 * A pending denial blocks the caller until it is answered: whoever spawns
 * must poll the notify fd while the tree runs (wm_sandbox_run() does).
 * Status 125/126/127 come with setup_error ("mount /proc: ...", "exec X: ...").
 * Knows nothing of workflows. The profile borrows the policy: keep the policy
 * alive as long as the profile.
 */
#ifndef WM_SANDBOX_SANDBOX_H
#define WM_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "policies/policy.h"

/* Exit statuses of `wm sandbox` (podman's convention). */
enum {
	WM_SANDBOX_SETUP_FAILED = 125,
	WM_SANDBOX_NOT_EXECUTABLE = 126,
	WM_SANDBOX_NOT_FOUND = 127,
};

enum wm_limit {
	WM_LIMIT_NONE,
	WM_LIMIT_TIMEOUT,
	WM_LIMIT_MEMORY,
	WM_LIMIT_PIDS,
};

struct wm_sandbox_profile;
struct wm_sandbox;

struct wm_sandbox_spec {
	char *const *argv;     /* argv[0] looked up in the sandbox's PATH when it has no '/' */
	char *const *env;      /* extra KEY=VALUE, applied after the policy's keep/set */
	const char *workspace; /* host directory, mounted at the same path; NULL: none */
	const char *cwd;       /* inside the sandbox; NULL: the workspace, else / */
	const struct wm_bind *binds; /* extra binds, e.g. $WM_OUT rw and $WM_IN/<dep> ro */
	size_t n_binds;
	int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null */
	uint64_t timeout_ms;		    /* wm_sandbox_run() only; 0: the policy's */
};

struct wm_sandbox_result {
	int status;	      /* `wm sandbox` status: code, 128+N, 125, 126, 127 */
	int exit_code;	      /* -1 when killed by a signal or never started */
	int signal;	      /* 0 unless killed */
	enum wm_limit limit;  /* which limit ended it, if any */
	char **denied;	      /* NULL-terminated syscall names denied, unique, first-seen order */
	uint64_t peak_memory; /* bytes, 0 when unknown */
	uint64_t duration_ms;
	char *setup_error; /* why the sandbox could not be set up (status 125-127), else NULL */
};

int wm_sandbox_profile_new(const struct wm_policy *policy, struct wm_sandbox_profile **out,
			   struct wm_error **err);
void wm_sandbox_profile_free(struct wm_sandbox_profile *profile);

int wm_sandbox_spawn(const struct wm_sandbox_profile *profile, const struct wm_sandbox_spec *spec,
		     struct wm_sandbox **out, struct wm_error **err);
pid_t wm_sandbox_pid(const struct wm_sandbox *sb);
int wm_sandbox_pidfd(const struct wm_sandbox *sb);
int wm_sandbox_notify_fd(const struct wm_sandbox *sb); /* -1 when there is none */
int wm_sandbox_handle_notify(struct wm_sandbox *sb);
int wm_sandbox_terminate(struct wm_sandbox *sb, enum wm_limit why, int sig);
int wm_sandbox_reap(struct wm_sandbox *sb, struct wm_sandbox_result *res, struct wm_error **err);
void wm_sandbox_free(struct wm_sandbox *sb);

int wm_sandbox_run(const struct wm_sandbox_profile *profile, const struct wm_sandbox_spec *spec,
		   struct wm_sandbox_result *res, struct wm_error **err);
void wm_sandbox_result_release(struct wm_sandbox_result *res);

const char *wm_limit_name(enum wm_limit limit);

#endif
