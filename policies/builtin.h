/*
 * builtin.h - the six built-in policies' YAML, embedded at build time.
 *
 * tools/embed-policies turns the YAML files of policies/builtin/ into
 * $(BUILD)/gen/builtin_policies.c (see policies/builtin.mk). The table is
 * in order from least to most restrictive and ends with a NULL name; a
 * built-in may inherit only one listed before it.
 */
#ifndef WM_POLICIES_BUILTIN_H
#define WM_POLICIES_BUILTIN_H

struct wm_builtin_yaml {
	const char *name;
	const char *path; /* as diagnostics name it, e.g. "policies/builtin/standard.yaml" */
	const char *text;
};

extern const struct wm_builtin_yaml wm_builtin_yaml[];

#endif
