/*
 * dialect_xc.c - xc's tasks (the `## Tasks` section of a README) as a
 * native workflow.
 *
 * Each heading one level under `Tasks` is a task; its paragraphs' lines
 * `Requires: a, b`, `Directory: src`, `Env: A=1, B=2`, `Inputs: NAME`
 * become `depends`, `workdir`, `env` and `params` (an input is also given
 * to a shell script under its own name, as xc does); its first code block
 * is its script, `sh` when untagged. `RunDeps: async` is what wm does
 * anyway (dependencies run in parallel); `RunDeps: sync` is warned about
 * (wm orders only what `depends` says); an `Interactive` task is planned
 * but `wm run` refuses to run it: a sandboxed task gets no terminal.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dialect_internal.h"
#include "workflow/internal.h"

struct xtask {
	struct dl_out attrs; /* the attribute lines, in the order written */
	struct wm_buf inputs;
	unsigned inputs_line, inputs_col;
	char *about;
	unsigned about_line;
	cmark_node *code;
	bool interactive;
};

/* `a, b c` as native ids, comma-separated. Caller frees. */
static char *id_list(const char *v, size_t n)
{
	wm_autofree char *s = wm_xstrndup(v, n);
	struct wm_buf b = WM_BUF_INIT;

	for (char *tok = strtok(s, ", \t"); tok; tok = strtok(NULL, ", \t")) {
		wm_autofree char *id = wf_is_id(tok) ? wm_xstrdup(tok) : wm_workflow_slug(tok);
		wm_buf_addf(&b, "%s%s", b.len ? ", " : "", id);
	}
	return wm_buf_detach(&b, NULL);
}

static void attr_line(const struct dl_src *s, struct xtask *x, unsigned line,
		      const struct dl_kv *kv)
{
	wm_autofree char *key = wm_xstrndup(kv->key, kv->key_len);
	wm_autofree char *val = wm_xstrndup(kv->val, kv->val_len);
	unsigned col = (unsigned)kv->val_col + 1;

	if (strcasecmp(key, "requires") == 0) {
		wm_autofree char *ids = id_list(kv->val, kv->val_len);
		dl_attr(&x->attrs, line, col, "depends", ids);
	} else if (strcasecmp(key, "directory") == 0) {
		dl_attr(&x->attrs, line, col, "workdir", val);
	} else if (strcasecmp(key, "env") == 0 || strcasecmp(key, "environment") == 0) {
		wm_autofree char *copy = wm_xstrdup(val);
		for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
			wm_autofree char *t = wm_str_trim(tok);
			dl_attr(&x->attrs, line, col, "env", t);
		}
	} else if (strcasecmp(key, "inputs") == 0) {
		wm_autofree char *ids = id_list(kv->val, kv->val_len);
		wm_buf_addf(&x->inputs, "%s%s", x->inputs.len ? ", " : "", ids);
		x->inputs_line = line;
		x->inputs_col = col;
	} else if (strcasecmp(key, "rundeps") == 0 && strcasecmp(val, "async") != 0) {
		dl_warn(s, line, col,
			"xc's `RunDeps: %s` is not wm's way: wm runs dependencies in parallel and "
			"orders only what `depends` says; make them depend on each other to order "
			"them",
			val);
	} else if (strcasecmp(key, "interactive") == 0 && strcasecmp(val, "false") != 0) {
		x->interactive = true;
		dl_warn(s, line, col,
			"xc's `Interactive` task wants a terminal, which wm's sandboxes do not "
			"give: wm run refuses to run it");
	}
}

/* A paragraph: its `Key: value` lines are attributes, the first other line
 * the task's first prose line. */
static void paragraph(const struct dl_src *s, cmark_node *n, struct xtask *x)
{
	unsigned first = dl_nline(s, n), last = (unsigned)cmark_node_get_end_line(n) + s->md_line0;

	for (unsigned l = first; l >= 1 && l <= last && l <= s->n_lines; l++) {
		struct dl_kv kv;

		if (dl_kv_line(s->line[l - 1], s->line_len[l - 1], &kv) &&
		    dl_xc_key(kv.key, kv.key_len)) {
			attr_line(s, x, l, &kv);
		} else if (!x->about) {
			wm_autofree char *raw = wm_xstrndup(s->line[l - 1], s->line_len[l - 1]);
			x->about = wm_str_trim(raw);
			x->about_line = l;
			if (!*x->about) {
				free(x->about);
				x->about = NULL;
			}
		}
	}
}

static void emit(const struct dl_src *s, cmark_node *h, struct xtask *x, struct dl_out *o,
		 bool *used)
{
	wm_autofree char *title = wf_node_text(h, false);
	wm_autofree char *id = wf_is_id(title) ? wm_xstrdup(title) : wm_workflow_slug(title);
	wm_autofree char *lang_w = NULL, *battrs = NULL;
	const char *lang = "sh";
	unsigned hl = dl_nline(s, h);

	if (x->code) {
		dl_info(x->code, &lang_w, &battrs);
		lang = lang_w ? dl_lang(lang_w) : "sh";
		if (!lang) {
			dl_warn(s, dl_nline(s, x->code), 1,
				"xc task `%s`: `%s` is not a language wm runs; the block is prose",
				id, lang_w);
			x->code = NULL;
		}
	}
	if (!x->code && !x->attrs.n)
		return; /* neither script nor attribute: prose */
	if (x->interactive)
		wm_strv_push(s->terminal, s->n_terminal, id);
	if (x->code && dl_lang_index(lang) >= 0)
		used[dl_lang_index(lang)] = true;
	dl_line(o, hl, 0, "%s", "");
	dl_line(o, hl, 0, "## %s", title);
	dl_attr(o, hl, 0, "id", id);
	dl_append(o, &x->attrs);
	if (x->inputs.len)
		dl_attr(o, x->inputs_line, x->inputs_col, "params", x->inputs.data);
	if (x->about)
		dl_about(o, x->about_line, x->about);
	else
		dl_line(o, hl, 0, "%s", "");
	if (!x->code)
		return;
	if (x->inputs.len && dl_lang_is_shell(lang)) {
		wm_autofree char *copy = wm_xstrdup(x->inputs.data);
		struct wm_buf pre = WM_BUF_INIT;

		for (char *tok = strtok(copy, ", "); tok; tok = strtok(NULL, ", ")) {
			wm_autofree char *var = wm_param_var(tok);
			wm_buf_addf(&pre, "%sexport %s=\"$%s\"", pre.len ? "; " : "", tok, var);
		}
		dl_body(o, s, x->code, lang, pre.data);
		wm_buf_release(&pre);
	} else {
		dl_body(o, s, x->code, lang, NULL);
	}
}

/* One task: the heading h and what follows it up to a heading of level
 * `stop` or less. Returns the node after the section. */
static cmark_node *task(const struct dl_src *s, cmark_node *h, int stop, struct dl_out *o,
			bool *used)
{
	struct xtask x = { .attrs = { .b = WM_BUF_INIT }, .inputs = WM_BUF_INIT };
	cmark_node *n = cmark_node_next(h);

	for (; n; n = cmark_node_next(n)) {
		cmark_node_type ty = cmark_node_get_type(n);

		if (ty == CMARK_NODE_HEADING && cmark_node_get_heading_level(n) <= stop)
			break;
		if (ty == CMARK_NODE_PARAGRAPH && !x.code)
			paragraph(s, n, &x);
		else if (ty == CMARK_NODE_CODE_BLOCK && !x.code && cmark_node_get_fence_info(n))
			x.code = n;
	}
	emit(s, h, &x, o, used);
	wm_buf_release(&x.attrs.b);
	free(x.attrs.map);
	wm_buf_release(&x.inputs);
	free(x.about);
	return n;
}

void dl_xc(const struct dl_src *s, cmark_node *doc, struct dl_out *o)
{
	bool used[DL_N_LANGS] = { 0 };
	struct dl_out body = { .b = WM_BUF_INIT };
	cmark_node *n = cmark_node_first_child(doc);
	int level = 0;

	for (; n && !level; n = cmark_node_next(n)) {
		wm_autofree char *t = NULL;

		if (cmark_node_get_type(n) != CMARK_NODE_HEADING)
			continue;
		t = wf_node_text(n, false);
		if (strcasecmp(t, "tasks") == 0)
			level = cmark_node_get_heading_level(n);
	}
	while (n && level) {
		if (cmark_node_get_type(n) != CMARK_NODE_HEADING) {
			n = cmark_node_next(n);
			continue;
		}
		if (cmark_node_get_heading_level(n) <= level)
			break; /* the end of the Tasks section */
		if (cmark_node_get_heading_level(n) == level + 1)
			n = task(s, n, level + 1, &body, used);
		else
			n = cmark_node_next(n);
	}
	dl_front_matter(o, used);
	dl_append(o, &body);
}
