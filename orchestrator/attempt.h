/*
 * attempt.h - the host side of one attempt of a task.
 *
 * wm_attempt_prepare() turns a task into a sandbox spec: it writes the code
 * block to <run>/scripts/<task>.<kind> (bound read-only into the sandbox at
 * the same path), gives the task a fresh $WM_OUT (<run>/out/<task>, emptied
 * before the body's every attempt), binds each dependency's outputs read-only
 * at $WM_IN/<dep> (<run>/in/<task>/<dep>), opens logs/<task>.log for append
 * with a header line for the attempt, and builds the environment: front
 * matter env, task env, -e values, secrets, then the WM_* variables (later
 * wins). The task's output reaches the log through a masking writer: every
 * secret value (mask.h) is written as ***.
 *
 * The attempt owns everything it holds; wm_attempt_release() frees it and
 * closes the log. `a->spec` borrows from the attempt.
 */
#ifndef WM_ORCHESTRATOR_ATTEMPT_H
#define WM_ORCHESTRATOR_ATTEMPT_H

#include <stddef.h>

#include "common/error.h"
#include "common/mask.h"
#include "orchestrator/secrets.h"
#include "sandbox/sandbox.h"
#include "workflow/workflow.h"

enum wm_attempt_kind {
	WM_ATTEMPT_BODY,
	WM_ATTEMPT_ONLY_IF,
	WM_ATTEMPT_ROLLBACK,
};

struct wm_run_paths {
	const char *run_id;
	const char *run_dir;		  /* $STATE/runs/<id> */
	const char *workspace;		  /* absolute */
	char *const *cli_env;		  /* -e KEY=VALUE, NULL-terminated or NULL */
	const struct wm_secrets *secrets; /* fetched; NULL: none */
	char *const *mask;		  /* wm's own directories, hidden from the task */
};

struct wm_attempt {
	char **argv;
	char **env;
	struct wm_bind *binds;
	size_t n_binds;
	char *cwd;
	char *out_dir;
	int log_fd;
	struct wm_mask_writer log_writer; /* the task's output, secrets masked, to log_fd */
	struct wm_sandbox_spec spec;
};

int wm_attempt_prepare(const struct wm_run_paths *rp, const struct wm_workflow *wf, size_t task,
		       const size_t *deps, size_t n_deps, unsigned attempt,
		       enum wm_attempt_kind kind, struct wm_attempt *a, struct wm_error **err);
/* The task's output has ended (the sandbox was reaped): what the masking
 * writer held back goes to the log now. wm_attempt_release does it too. */
void wm_attempt_output_ended(struct wm_attempt *a);
void wm_attempt_release(struct wm_attempt *a);

/* The first declared output of `task` missing under `out_dir`, or NULL. Borrowed. */
const char *wm_attempt_missing_output(const struct wm_task *t, const char *out_dir);

#endif
