/*
 * dialect_internal.h - what the dialect readers share (dialect.c and
 * dialect_mask.c, dialect_xc.c, dialect_runme.c). Not for use outside
 * workflow/.
 *
 * A dialect reader turns another tool's Markdown into the equivalent
 * native workflow text (what `wm import` writes), line by line through a
 * struct dl_out that remembers, for every line it writes, the line of the
 * original it stands for: the native parser's diagnostics and the places
 * kept in the workflow are moved back to the original file through it.
 * Problems only a dialect sees (a `$MASK` call) are reported by the reader
 * itself, at their place in the original. Nothing here makes a system call.
 */
#ifndef WM_WORKFLOW_DIALECT_INTERNAL_H
#define WM_WORKFLOW_DIALECT_INTERNAL_H

#include <cmark.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "workflow/workflow.h"

/* The original file: its lines, and where its Markdown starts. */
struct dl_src {
	const char *path;
	const char *text;
	size_t len;
	struct wm_diags *d;
	const char **line; /* line[i] starts line i + 1 */
	size_t *line_len;
	size_t n_lines;
	unsigned md_line0; /* lines of front matter before the Markdown */
	char ***notes;	   /* what was accepted without effect (dl_note) */
	size_t *n_notes;
	char ***terminal; /* ids of the tasks that want a terminal */
	size_t *n_terminal;
	size_t md_off; /* the byte the Markdown starts at */
};

/* Line i of the native text stands for original line `line`; its column
 * c is the original's c + delta. */
struct dl_place {
	unsigned line;
	int delta;
};

struct dl_out {
	struct wm_buf b;
	struct dl_place *map;
	size_t n, alloc;
};

/* One line of native text, standing for original line `line`. */
void dl_line(struct dl_out *o, unsigned line, int delta, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* `- key: value` whose value is written at (line, col) in the original. */
void dl_attr(struct dl_out *o, unsigned line, unsigned col, const char *key, const char *value);
/* A paragraph of one line (a task's first prose line), escaped so that it
 * stays a paragraph, between blank lines. */
void dl_about(struct dl_out *o, unsigned line, const char *text);
/* The fenced block `n` as a body in `lang`, each line mapped to its place.
 * A shell command `prefix` (may be NULL) goes at the start of its first
 * line, `prefix; line`, so that the script keeps its line numbers. */
void dl_body(struct dl_out *o, const struct dl_src *s, cmark_node *n, const char *lang,
	     const char *prefix);

/* Appends `more` (tasks written before the front matter they need) to o,
 * and empties it. */
void dl_append(struct dl_out *o, struct dl_out *more);

/* Line of a node in the original file (1-based). */
unsigned dl_nline(const struct dl_src *s, cmark_node *n);
/* A fenced block's info string split: the language (NULL when none) and
 * the text inside `{...}` (NULL when none). Caller frees both. */
void dl_info(cmark_node *n, char **lang, char **attrs);

/* The native language and interpreter for a block written in `lang` as
 * mask, xc and runme run it: "sh", "bash", "zsh", "python", "node",
 * "ruby", "php", "pwsh"... NULL when they would not run it. Static. */
const char *dl_lang(const char *lang);
/* The front matter a native file needs to run languages wm does not know
 * itself (`interpreters:`), for the languages flagged in `used`. */
void dl_front_matter(struct dl_out *o, const bool *used);
/* Index of a dl_lang() result in the table dl_front_matter reads, or -1. */
int dl_lang_index(const char *lang);
#define DL_N_LANGS 12

/* Is `lang` (a dl_lang() result) run by a POSIX-like shell? */
bool dl_lang_is_shell(const char *lang);

/* `Key: value` as other tools write attributes in a paragraph line:
 * a word of letters, digits, '-' and '_' starting with a letter, a colon,
 * a value. False for any other shape. Spans point into `line`. */
struct dl_kv {
	const char *key, *val;
	size_t key_len, val_len;
	size_t val_col; /* 0-based offset of the value in the line */
};
bool dl_kv_line(const char *line, size_t len, struct dl_kv *kv);

/* Is this (`Requires`, `Directory`...) an attribute key of xc? */
bool dl_xc_key(const char *key, size_t len);

/* `{name=x cwd="a b"}` or `{"name": "x"}`: calls fn for each key and value. */
typedef void (*dl_pair_fn)(const char *key, size_t klen, const char *val, size_t vlen, void *ctx);
void dl_brace_attrs(const char *s, dl_pair_fn fn, void *ctx);

/* The readers: native text into o, problems into s->d. */
void dl_mask(const struct dl_src *s, cmark_node *doc, struct dl_out *o);
void dl_xc(const struct dl_src *s, cmark_node *doc, struct dl_out *o);
void dl_runme(const struct dl_src *s, cmark_node *doc, struct dl_out *o);

/* A note on something accepted without effect, shown by `wm run -v`. */
void dl_note(const struct dl_src *s, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define dl_err(s, line, col, ...) wm_diags_error((s)->d, (s)->path, (line), (col), __VA_ARGS__)
#define dl_warn(s, line, col, ...) wm_diags_warn((s)->d, (s)->path, (line), (col), __VA_ARGS__)

#endif
