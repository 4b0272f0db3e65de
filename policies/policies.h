/*
 * policies.h - turning policy names into resolved policies.
 *
 * Lifecycle: wm_policy_set_new() holds the six built-ins (embedded YAML);
 * wm_policy_set_load_file() adds a user's file, whose policies may inherit
 * a built-in or a policy defined before them; wm_policy_set_get() returns a
 * fully resolved policy, borrowed from the set and valid until
 * wm_policy_set_free(). Later files override earlier names.
 *
 * Every problem in a file goes to `diags` as FILE:LINE:COL; load returns -1
 * when any is an error. *err is only set when a file cannot be read.
 * No system calls beyond reading files.
 */
#ifndef WM_POLICIES_POLICIES_H
#define WM_POLICIES_POLICIES_H

#include <stddef.h>

#include "common/diag.h"
#include "common/error.h"
#include "policies/policy.h"

struct wm_policy_set;

struct wm_policy_set *wm_policy_set_new(void);
void wm_policy_set_free(struct wm_policy_set *set);
int wm_policy_set_load_file(struct wm_policy_set *set, const char *path, struct wm_diags *diags,
			    struct wm_error **err);
const struct wm_policy *wm_policy_set_get(const struct wm_policy_set *set, const char *name);
size_t wm_policy_set_count(const struct wm_policy_set *set);
const struct wm_policy *wm_policy_set_at(const struct wm_policy_set *set, size_t i);

/* Hex SHA-256 of the resolved policy's canonical form: equal policies hash
 * equal whatever file or inheritance produced them. Caller frees. */
char *wm_policy_hash(const struct wm_policy *p);

#endif
