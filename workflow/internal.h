/*
 * internal.h - what the pieces of the workflow parser share (workflow.c,
 * frontmatter.c, attrs.c, lang.c). Not for use outside workflow/.
 *
 * A struct wf_ctx lives for one parse: it borrows the source text, owns the
 * split line table and the workflow under construction, and adds every
 * problem to `d` with positions in the original file.
 */
#ifndef WM_WORKFLOW_INTERNAL_H
#define WM_WORKFLOW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"
#include "workflow/workflow.h"

struct wf_line {
	const char *s; /* into the source text, not NUL-terminated */
	size_t len;    /* without the line break (and without a trailing \r) */
};

struct wf_ctx {
	const char *path; /* for diagnostics */
	struct wm_diags *d;
	struct wm_workflow *wf;
	struct wf_line *lines; /* lines[0] is line 1 */
	size_t n_lines;
	size_t tasks_alloc;
	unsigned md_line0; /* lines before the Markdown (the front matter's) */
};

#define wf_err(c, line, col, ...) wm_diags_error((c)->d, (c)->path, (line), (col), __VA_ARGS__)
#define wf_warn(c, line, col, ...) wm_diags_warn((c)->d, (c)->path, (line), (col), __VA_ARGS__)

/* Parses the front matter, if any, into c->wf. Returns the number of lines
 * it takes (the Markdown starts after them), or -1 when it is unterminated
 * (an error has been added and the Markdown should not be parsed). */
long wf_frontmatter(struct wf_ctx *c);

/* Parses one attribute-list item into the task. `line` is 1-based;
 * `col` the column just after the bullet and its spaces. `text` is the
 * item's whole text (continuation lines joined with a space). */
struct wf_kv {
	char *key, *val;
	unsigned line, key_col, val_col;
};
/* Splits `identifier: value`; false when the item has another shape. */
bool wf_kv_split(const char *text, unsigned line, unsigned col, struct wf_kv *kv);
void wf_kv_release(struct wf_kv *kv);
/* Applies one attribute (an unknown key is an error with a hint); `seen`
 * is the bit set of attributes already given, 0 for a new list. Adds
 * errors to c. */
void wf_attr_apply(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, unsigned *seen);

/* Calls fn for each comma-separated entry of kv->val, trimmed, with its
 * column; an empty entry is an error. */
typedef void (*wf_entry_fn)(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv,
			    const char *entry, unsigned col, void *field);
void wf_for_each_entry(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, wf_entry_fn fn,
		       void *field);

/* params.c: `- params:` into t->params (errors at their entries). */
void wf_params_attr(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv);
/* A deep copy (a matrix instance's own parameters). */
void wf_params_copy(struct wm_params *dst, const struct wm_params *src);
void wf_params_release(struct wm_params *ps);

/* The names of a choice (workflow.h's lists), in enum order. */
struct wf_choice {
	const char *const *names;
	size_t n;
};
extern const struct wf_choice wf_priorities, wf_conditions, wf_rollback_modes;
extern const struct wf_choice wf_executors; /* as written: local, slurm */
extern const struct wf_choice wf_levels;
/* The index of `s` among the names, or -1. */
int wf_choice_find(const struct wf_choice *ch, const char *s);
/* "a, b or c"; caller frees. */
char *wf_choice_list(const struct wf_choice *ch);

/* Warns about a block in a language that does not run (lang.c): a hint
 * towards sh or bash for shell names and near misses, towards
 * `interpreters` for other programs; nothing for data and transcripts. */
void wf_lang_hint(struct wf_ctx *c, const char *lang, unsigned line, unsigned col);

/* lint.c: a heading ending in an argument marker, `## build (target)` or
 * `## deploy [env]`, is warned about (parameters are `- params:`). */
void wf_check_heading_args(struct wf_ctx *c, const struct wm_task *t);
/* A body whose every non-empty line starts with `$ ` or `> ` is a
 * transcript, not a script: an error unless the task says `- transcript: ok`. */
void wf_check_transcript(struct wf_ctx *c, const struct wm_task *t);
/* Is every non-empty line of `text` a `$ ` or `> ` prompt (one at least)? */
bool wf_is_transcript(const char *text);

/* A cmark node's plain text (inline markup dropped, line breaks as ' ');
 * first_line: only up to the first line break. Caller frees. */
struct cmark_node;
char *wf_node_text(struct cmark_node *n, bool first_line);

/* dialect.c: is this file a README.md (a menu, and documentation first)? */
bool wf_is_readme(const char *path);

/* dialect.c: lines first..last (a paragraph of a task) written as another
 * tool's attributes (`Requires: build`) are warned about: wm reads them
 * as prose. */
void wf_check_foreign_attrs(struct wf_ctx *c, unsigned first, unsigned last);

/* True when `s` is a relative path that stays inside its base. */
bool wf_path_is_contained(const char *s);

/* A task id as written: letters, digits, '.', '_', '-', starting with a
 * letter or digit. */
bool wf_is_id(const char *s);
/* matrix.c: is `s` a matrix instance's id, `base[axis=value,...]`? */
bool wf_matrix_id_ok(const char *s);
/* Replaces every task that has a `matrix` by its instances, in place and in
 * order, and every `depends` entry naming such a task by all its instances;
 * rebuilds wf->index when a task was expanded. Adds errors to c. */
void wf_matrix_expand(struct wf_ctx *c);

/* fm_sched.c: frees what `schedule`, `timezone` and `notify` set. */
void wf_sched_release(struct wm_workflow *wf);

/* Frees what a task owns (not the task itself). */
void wf_task_release(struct wm_task *t);

#endif
