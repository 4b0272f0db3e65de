/*
 * policies.h - turning policy names into resolved policies.
 *
 * Lifecycle: wm_policy_set_new() holds the six built-ins (embedded YAML);
 * wm_policy_set_load_file() adds a user's file, whose policies may inherit
 * a built-in or a policy defined before them; wm_policy_set_get() returns a
 * fully resolved policy, borrowed from the set and valid until
 * wm_policy_set_free(). Later files override earlier names, except that no
 * file may redefine a built-in (an equal copy is accepted and ignored) or
 * use its name in other letter case, and a workflow's own file (see
 * wm_policy_set_load_search) may only add new names. Files are bounded
 * (policies/load.h: size, nesting, values, no aliases, policies, list
 * entries, inheritance depth); each problem is an error at its place.
 *
 * Every problem in a file goes to `diags` as FILE:LINE:COL; load returns -1
 * when any is an error (the set is then unchanged: a file is added whole or
 * not at all). *err is only set when a file cannot be read.
 * No system calls beyond reading files.
 *
 * Merging (policies.example.yaml documents every key): a policy starts from
 * the one it `inherits` (else from the documented defaults); maps
 * (filesystem, limits, env.set, seccomp) merge key by key, lists in
 * seccomp.allow / seccomp.deny / seccomp.rules add to the parent's, every
 * other key replaces the parent's value. Setting seccomp.profile starts the
 * filter afresh from that OCI profile (the parent's seccomp lists are
 * dropped). Precedence inside the resolved filter: deny > allow > rules >
 * profile (a later kind replaces every rule of the same syscall name).
 *
 * A resolved filter's rules are in canonical order (by name, then
 * conditions), exact duplicates dropped, EPERM written as errno_ret 0. An
 * OCI profile's includes/excludes are already decided (against the policy's
 * capabilities and the native architecture); its names may include calls
 * this architecture lacks (libseccomp gives them negative numbers: skip).
 * Every list (hide, devices, capabilities, env) is non-NULL, maybe empty.
 */
#ifndef WM_POLICIES_POLICIES_H
#define WM_POLICIES_POLICIES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/diag.h"
#include "common/error.h"
#include "policies/policy.h"

struct wm_policy_set;

struct wm_policy_set *wm_policy_set_new(void);
void wm_policy_set_free(struct wm_policy_set *set);
WM_DEFINE_CLEANUP(struct wm_policy_set, wm_policy_set_free)
int wm_policy_set_load_file(struct wm_policy_set *set, const char *path, struct wm_diags *diags,
			    struct wm_error **err);
const struct wm_policy *wm_policy_set_get(const struct wm_policy_set *set, const char *name);
size_t wm_policy_set_count(const struct wm_policy_set *set);
const struct wm_policy *wm_policy_set_at(const struct wm_policy_set *set, size_t i);

/* Hex SHA-256 of the resolved policy's canonical form (the body
 * wm_policy_to_yaml() prints: every field but name, description, inherits,
 * source and the profile's path): equal policies hash equal whatever file,
 * order or inheritance produced them. Caller frees. */
char *wm_policy_hash(const struct wm_policy *p);
/* A copy of p (the caller frees it with wm_policy_free) whose root
 * filesystem is `rootfs`: how a task's `image:` is applied. */
struct wm_policy *wm_policy_with_rootfs(const struct wm_policy *p, const char *rootfs);

/* Like wm_policy_set_load_file(), reading `path` (give it absolute, so that
 * relative paths inside come out absolute) while diagnostics and the
 * policies' source name `display`, the path as the user wrote it. */
int wm_policy_set_load_file_as(struct wm_policy_set *set, const char *path, const char *display,
			       struct wm_diags *diags, struct wm_error **err);

/* Like wm_policy_set_load_file() on text already in memory; `path` names it
 * in diagnostics and anchors relative paths (profile, rootfs). */
int wm_policy_set_load_text(struct wm_policy_set *set, const char *path, const char *text,
			    size_t len, struct wm_diags *diags, struct wm_error **err);

/* The search order of SPEC.md section 2, for `wm run`, `wm plan`, `wm sandbox`
 * and the planner: a new set holding, from lowest to highest precedence, the
 * built-ins, $XDG_CONFIG_HOME/wm/policies.yaml (else ~/.config/wm/policies.yaml)
 * when it exists (skipped with a warning in diags when it cannot be read for
 * lack of permission: HOME may not be the user's), `frontmatter_path` (a workflow's `policies:`,
 * already resolved against the workflow's directory) and `flag_path` (--policies); either may be
 * NULL. A later file's policy replaces an earlier one of the same name and may
 * inherit anything loaded before it. Pass absolute paths: relative paths
 * inside a file (profile, rootfs, bind src) are joined to its directory and
 * kept as they come out. Returns the set, or NULL when a file
 * has errors (in diags) or cannot be read (*err, exit 2). Caller frees the set. */
struct wm_policy_set *wm_policy_set_load_search(const char *flag_path, const char *frontmatter_path,
						struct wm_diags *diags, struct wm_error **err);

/* For "unknown policy 'x' (did you mean 'y'?)": the closest name, or NULL.
 * Borrowed from the set. */
const char *wm_policy_set_suggest(const struct wm_policy_set *set, const char *name);
/* For the planner: the policy `name` a task (or the front matter) asks for,
 * or NULL after adding "unknown policy 'x' (did you mean 'y'?)" to diags at
 * FILE:LINE:COL, the place the name was written. Borrowed from the set. */
const struct wm_policy *wm_policy_set_resolve(const struct wm_policy_set *set, const char *name,
					      const char *file, unsigned line, unsigned col,
					      struct wm_diags *diags);
/* The same for a name given on the command line: NULL with *err (exit 2)
 * "unknown policy 'x' (did you mean 'y'?)" or "... (see 'wm policy list')". */
const struct wm_policy *wm_policy_set_lookup(const struct wm_policy_set *set, const char *name,
					     struct wm_error **err);
/* True when `name`'s definition, or a policy it inherits, came from the
 * workflow's own `policies:` file (the `frontmatter_path` of
 * wm_policy_set_load_search), which is as untrusted as the workflow: such a
 * policy may not serve as a floor. */
bool wm_policy_set_from_workflow(const struct wm_policy_set *set, const char *name);

/* The resolved policy as YAML (`version: 1`, one policy) that
 * wm_policy_set_load_file() accepts and that resolves to an equal policy
 * (same hash): inheritance flattened, the OCI profile expanded into rules.
 * Caller frees. */
char *wm_policy_to_yaml(const struct wm_policy *p);

/* What `b` allows that `a` does not and the reverse, one readable line per
 * difference (network, filesystem, capabilities, syscalls, limits, env);
 * "" when they are equal in effect. Caller frees. */
char *wm_policy_diff(const struct wm_policy *a, const struct wm_policy *b);

/* Is `p` at least as strict as `floor` on every axis (README.md, "At least
 * as strict")? 1 when it is; 0 when not, with the first axis on which it is
 * weaker appended to `why` (may be NULL) as a phrase, e.g. "network host is
 * weaker than none". A partial order: reflexive and transitive, and a policy
 * stricter on one axis and weaker on another is not at least as strict.
 * Pure; conservative where the policies alone cannot tell (never claims
 * "at least as strict" falsely). */
int wm_policy_at_least_as_strict(const struct wm_policy *p, const struct wm_policy *floor,
				 struct wm_buf *why);

/* The action a call of `name` with arguments nobody filters gets: the
 * unconditional rule for it, else the default. *conditional is set when some
 * rule for the name has argument conditions. *errno_ret gets the errno
 * (0: EPERM) for WM_SC_ERRNO. Without a filter everything is WM_SC_ALLOW. */
enum wm_seccomp_action wm_policy_syscall_action(const struct wm_policy *p, const char *name,
						int *errno_ret, int *conditional);

/* `wm policy import-oci`: reads an OCI/Docker seccomp profile, checks it
 * (errors into diags, located at the profile), and returns a policy file
 * text defining `name` with `seccomp.profile` set to the profile's absolute
 * path. NULL on error. Caller frees. */
char *wm_policy_import_oci(const char *profile_path, const char *name, struct wm_diags *diags,
			   struct wm_error **err);

/* Names for the YAML forms, e.g. "loopback", "host-ro", "errno" (policy.h
 * lists them); "?" for a value outside the list. */
const char *wm_net_mode_name(enum wm_net_mode m);
const char *wm_fs_view_name(enum wm_fs_view v);
const char *wm_ws_mode_name(enum wm_ws_mode m);
const char *wm_seccomp_action_name(enum wm_seccomp_action a);
const char *wm_seccomp_op_name(enum wm_seccomp_op op);
/* Whether a call the action applies to is carried out (allow, log) rather
 * than denied (errno, kill, trap). */
bool wm_seccomp_action_passes(enum wm_seccomp_action a);

/* Appends to `out` the calls every program needs to start and end
 * (execve, exit_group, brk, mmap, read, write, ...) that the policy denies
 * outright, comma-separated; returns how many (0: none). */
size_t wm_policy_startup_denials(const struct wm_policy *p, struct wm_buf *out);

#endif
