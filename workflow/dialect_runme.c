/*
 * dialect_runme.c - a runme runbook as a native workflow.
 *
 * Each code block named in its info string (```sh {name=setup cwd=app})
 * is a task called by that name; `cwd` becomes `workdir` (the front
 * matter's `cwd` for blocks that say none) and the front matter's `shell`
 * the interpreter of shell blocks. Runme's other keys (interactive,
 * background, terminalRows...) and its front matter's are accepted and
 * have no effect under wm. Unnamed blocks are prose.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dialect_internal.h"
#include "workflow/internal.h"

struct rblock {
	char *name, *cwd;
};

static void block_pair(const char *k, size_t kn, const char *v, size_t vn, void *ctx)
{
	struct rblock *b = ctx;
	char **field = NULL;

	if (kn == 4 && strncmp(k, "name", 4) == 0)
		field = &b->name;
	else if (kn == 3 && strncmp(k, "cwd", 3) == 0)
		field = &b->cwd;
	if (field && vn) {
		free(*field);
		*field = wm_xstrndup(v, vn);
	}
}

/* The front matter's top-level scalars `shell` and `cwd` (libyaml; the
 * file's own limits were checked when it was read). */
static void front_matter(const struct dl_src *s, char **shell, char **cwd)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	size_t start, end;

	if (!s->md_line0 || s->md_line0 < 2)
		return;
	start = (size_t)(s->line[1] - s->text);
	end = (size_t)(s->line[s->md_line0 - 1] - s->text);
	if (!yaml_parser_initialize(&p))
		return;
	yaml_parser_set_input_string(&p, (const unsigned char *)s->text + start, end - start);
	if (yaml_parser_load(&p, &doc)) {
		root = yaml_document_get_root_node(&doc);
		for (yaml_node_pair_t *pr = root && root->type == YAML_MAPPING_NODE
						    ? root->data.mapping.pairs.start
						    : NULL;
		     pr && pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
			const char *key = k && k->type == YAML_SCALAR_NODE
						  ? (const char *)k->data.scalar.value
						  : "";

			if (!v || v->type != YAML_SCALAR_NODE)
				continue;
			if (strcmp(key, "shell") == 0 && !*shell)
				*shell = wm_xstrdup((const char *)v->data.scalar.value);
			else if (strcmp(key, "cwd") == 0 && !*cwd)
				*cwd = wm_xstrdup((const char *)v->data.scalar.value);
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
}

/* A shell block runs with the front matter's `shell` when it names one
 * wm knows (`/bin/bash` -> bash). */
static const char *block_lang(const char *lang, const char *shell)
{
	const char *l = dl_lang(lang);
	const char *base = shell ? strrchr(shell, '/') : NULL;
	const char *sl = shell ? dl_lang(base ? base + 1 : shell) : NULL;

	if (l && sl && dl_lang_is_shell(l) && dl_lang_is_shell(sl))
		return sl;
	return l;
}

static void emit(const struct dl_src *s, cmark_node *n, const struct rblock *b, const char *about,
		 unsigned about_line, const char *shell, const char *cwd, struct dl_out *o,
		 bool *used)
{
	wm_autofree char *lang_w = NULL, *attrs = NULL;
	wm_autofree char *id = wf_is_id(b->name) ? wm_xstrdup(b->name) : wm_workflow_slug(b->name);
	const char *lang;
	unsigned line = dl_nline(s, n);

	dl_info(n, &lang_w, &attrs);
	lang = block_lang(lang_w, shell);
	if (!lang) {
		dl_warn(s, line, 1, "runme block `%s`: `%s` is not a language wm runs; not a task",
			b->name, lang_w ? lang_w : "");
		return;
	}
	if (dl_lang_index(lang) >= 0)
		used[dl_lang_index(lang)] = true;
	dl_line(o, line, 0, "%s", "");
	dl_line(o, line, 0, "## %s", b->name);
	dl_attr(o, line, 0, "id", id);
	if (b->cwd || cwd)
		dl_attr(o, line, 0, "workdir", b->cwd ? b->cwd : cwd);
	if (about)
		dl_about(o, about_line, about);
	else
		dl_line(o, line, 0, "%s", "");
	dl_body(o, s, n, lang, NULL);
}

void dl_runme(const struct dl_src *s, cmark_node *doc, struct dl_out *o)
{
	bool used[DL_N_LANGS] = { 0 };
	struct dl_out body = { .b = WM_BUF_INIT };
	wm_autofree char *shell = NULL, *cwd = NULL, *about = NULL;
	unsigned about_line = 0;

	front_matter(s, &shell, &cwd);
	for (cmark_node *n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
		cmark_node_type ty = cmark_node_get_type(n);
		wm_autofree char *lang = NULL, *attrs = NULL;
		struct rblock b = { 0 };

		if (ty == CMARK_NODE_HEADING || ty == CMARK_NODE_PARAGRAPH) {
			free(about); /* the prose nearest before a block tells what it does */
			about = wf_node_text(n, true);
			about_line = dl_nline(s, n);
			continue;
		}
		if (ty != CMARK_NODE_CODE_BLOCK)
			continue;
		dl_info(n, &lang, &attrs);
		if (attrs)
			dl_brace_attrs(attrs, block_pair, &b);
		if (b.name)
			emit(s, n, &b, about, about_line, shell, cwd, &body, used);
		free(b.name);
		free(b.cwd);
	}
	dl_front_matter(o, used);
	dl_append(o, &body);
}
