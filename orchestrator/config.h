/*
 * config.h - the user's wm settings: $XDG_CONFIG_HOME/wm/config.yaml (else
 * ~/.config/wm/config.yaml), YAML with these keys:
 *
 *     policy_floor: standard   # every task runs under this or stricter
 *     cache:
 *       max_size: 5G           # the task cache's cap (least recently used go)
 *
 * A missing file is no settings, and so is one that cannot be read (HOME
 * is not the user's, as under sudo), with a warning in `diags`. Unknown keys, wrong types and YAML
 * beyond the limits of common/yamlguard.h are errors at their FILE:LINE:COL in `diags`. The file is
 * the user's own: wm never reads a workflow's config.
 */
#ifndef WM_ORCHESTRATOR_CONFIG_H
#define WM_ORCHESTRATOR_CONFIG_H

#include <stdint.h>

#include "common/diag.h"
#include "common/error.h"

struct wm_config {
	char *path;	    /* the file read, or NULL when there is none */
	char *policy_floor; /* NULL: none */
	unsigned floor_line, floor_col;
	uint64_t cache_max_size; /* bytes; 0: not set */
};

/* 0 (cfg filled, maybe empty), or -1 with errors in diags or *err (the file
 * exists but reading it failed other than for permission). Release with
 * wm_config_release. */
int wm_config_load(struct wm_config *cfg, struct wm_diags *diags, struct wm_error **err);
void wm_config_release(struct wm_config *cfg);

#endif
