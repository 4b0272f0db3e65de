/*
 * levels.h - validation levels (`wm plan --level`, `wm run --level`, front
 * matter `level:`; README.md, "Validation levels"): what a workflow must
 * satisfy beyond parsing, checked before anything runs.
 *
 * Each level includes the checks of the ones below it:
 *   basic     the format: the file parses, its DAG is sound, its policies
 *             resolve (the loader and wm_floor_resolve report these);
 *   standard  each task's interpreter is present on this host, and so is
 *             the image or root filesystem it runs in;
 *   strict    every task declares a timeout, none runs under a policy weaker
 *             than `testing` (minimal, development), a task that others
 *             (not join nodes) depend on declares `outputs`, a cached task declares `outputs` and
 *             `inputs`, and every warning is an error;
 *   paranoid  every task has no network and runs under `hardened` or
 *             stricter, any image or rootfs is pinned by digest
 *             (@sha256:), and no secret-looking variable is given a value
 *             in the file or with `-e` rather than declared under `secrets`.
 * A finding is a diagnostic at its place (the task heading, or the line
 * that chose the policy) whose message ends with " [LEVEL]", the level
 * that requires it. Pure but for looking up interpreters in $PATH and
 * images and root filesystems on this host.
 */
#ifndef WM_ORCHESTRATOR_LEVELS_H
#define WM_ORCHESTRATOR_LEVELS_H

#include "common/diag.h"
#include "policies/policies.h"
#include "workflow/workflow.h"

struct wm_level_input {
	const struct wm_workflow *wf;	       /* loaded, with its DAG */
	const struct wm_policy *const *policy; /* per task, resolved, before images apply */
	const struct wm_policy_set *set;       /* holds the built-ins compared against */
	char *const *cli_env;		       /* -e KEY=VALUE, or NULL */
};

/* The level a check runs at: `asked` (the command line's), raised to the
 * workflow's own `level:`. */
enum wm_level wm_level_effective(enum wm_level asked, const struct wm_workflow *wf);

/* Adds the findings of every level up to `level` to d; from strict on,
 * the warnings already in d become errors too. */
void wm_levels_check(const struct wm_level_input *in, enum wm_level level, struct wm_diags *d);

/* The level a diagnostic's " [LEVEL]" suffix names; basic without one. */
enum wm_level wm_level_of_diag(const struct wm_diag *dg);

#endif
