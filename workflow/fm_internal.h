/*
 * fm_internal.h - what the front matter's readers share: frontmatter.c
 * (the document and the core keys) and fm_cluster.c (`executor`, `slurm`).
 * Not for other files.
 */
#ifndef WM_WORKFLOW_FM_INTERNAL_H
#define WM_WORKFLOW_FM_INTERNAL_H

#include <stdbool.h>
#include <yaml.h>

#include "workflow/internal.h"

/* A node's place in the workflow file (1-based). */
unsigned wf_fm_line(const yaml_mark_t *m);
unsigned wf_fm_col(const yaml_mark_t *m);
/* A scalar's text, or NULL for a mapping or list. */
const char *wf_fm_scalar(yaml_node_t *n);
/* A plain `~`, `null` or empty scalar. */
bool wf_fm_is_null(yaml_node_t *n);
/* "a mapping", "a list" or "empty", for messages. */
const char *wf_fm_kind(yaml_node_t *n);
/* A non-empty string value, or NULL after an error at the value. */
const char *wf_fm_string(struct wf_ctx *c, const char *key, yaml_node_t *v);
/* A whole number from 1 to max, or 0 after an error at the value. */
unsigned long wf_fm_whole(struct wf_ctx *c, const char *key, yaml_node_t *v, unsigned long max);

/* params.c: front matter `params`. */
void wf_fm_params(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v);

/* fm_cluster.c */
void wf_fm_executor(struct wf_ctx *c, yaml_node_t *v);
void wf_fm_slurm(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v);

/* fm_sched.c: `schedule`, `jitter`, `timezone`, `concurrency`, `catchup`
 * and `notify`; false when `key` is none of them. */
bool wf_fm_sched_key(struct wf_ctx *c, yaml_document_t *doc, const char *key, yaml_node_t *v);

#endif
