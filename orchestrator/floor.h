/*
 * floor.h - which policy each task runs under, and the floor it may not go
 * below (SPEC.md section 3; README.md, "Policy floor").
 *
 * Floors: `--policy NAME`, $WM_POLICY_FLOOR and `policy_floor:` in the
 * user's config.yaml (config.h). Each names a built-in or a policy of the
 * user's own files, never one from the workflow's `policies:` file. A floor
 * that another is at least as strict as is dropped; every task must be at
 * least as strict as each remaining one (wm_policy_at_least_as_strict).
 *
 * A task runs under its own `policy`, else --policy, else the front
 * matter's `policy`, else `standard`; when that default is below a floor
 * and no one asked for it, the strictest floor takes its place. A task or
 * front matter asking for a policy weaker than a floor is an error at the
 * place it is written, naming the task, both policies and the first axis
 * on which it is weaker.
 *
 * wm_floor_resolve() fills a struct wm_task_policies (release it with
 * wm_task_policies_release); policies are borrowed from the set.
 */
#ifndef WM_ORCHESTRATOR_FLOOR_H
#define WM_ORCHESTRATOR_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/diag.h"
#include "common/error.h"
#include "policies/policies.h"
#include "workflow/workflow.h"

#define WM_MAX_FLOORS 3

struct wm_task_policies {
	const struct wm_policy **policy; /* per task */
	char **weak; /* per task: why its policy is weaker than standard, else NULL */
	bool *asked; /* per task: the workflow chose the policy (task or front matter) */
	const struct wm_policy *floor[WM_MAX_FLOORS];
	const char *floor_origin[WM_MAX_FLOORS]; /* "--policy", "WM_POLICY_FLOOR", a path */
	size_t n_floors;
	size_t n;
	char *config_path; /* owned: the origin of a floor from config.yaml */
};

/* 0, or -1 with errors in diags (unknown or untrusted floors, tasks below a
 * floor) or *err (the config file cannot be read). `cli_policy`: --policy
 * or NULL. */
int wm_floor_resolve(const struct wm_workflow *wf, const struct wm_policy_set *set,
		     const char *cli_policy, struct wm_task_policies *out, struct wm_diags *diags,
		     struct wm_error **err);
void wm_task_policies_release(struct wm_task_policies *tp);

/* Prints "warning: N tasks run under a policy weaker than standard" and one
 * line per such task to f; returns N. */
size_t wm_floor_print_weak(const struct wm_workflow *wf, const struct wm_task_policies *tp,
			   FILE *f);

/* Tasks whose policy the workflow chose and that are not at least as strict
 * as `development` (minimal, or as permissive): such a workflow from a file
 * the user did not write needs --yes or a confirmation. */
size_t wm_floor_count_minimal(const struct wm_task_policies *tp, const struct wm_policy_set *set);

/* Did the invoking user write the file: owned by them, not writable by
 * group or others, in a directory they own? When not, *why (caller frees)
 * says what is not so. */
bool wm_file_is_users_own(const char *path, char **why);

#endif
