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
	struct wm_buf other; /* the keys with no effect under wm */
};

/* A value given twice: the last one counts; an empty one changes nothing. */
static void set_value(char **field, const char *v, size_t vn)
{
	if (vn) {
		free(*field);
		*field = wm_xstrndup(v, vn);
	}
}

static void block_pair(const char *k, size_t kn, const char *v, size_t vn, void *ctx)
{
	struct rblock *b = ctx;

	if (kn == 4 && strncmp(k, "name", 4) == 0)
		set_value(&b->name, v, vn);
	else if (kn == 3 && strncmp(k, "cwd", 3) == 0)
		set_value(&b->cwd, v, vn);
	else
		wm_buf_addf(&b->other, "%s`%.*s`", b->other.len ? ", " : "", (int)kn, k);
}

/* One key of the front matter: `shell` and `cwd` kept, others noted. */
static void fm_pair(const struct dl_src *s, yaml_document_t *doc, const yaml_node_pair_t *pr,
		    char **shell, char **cwd)
{
	yaml_node_t *k = yaml_document_get_node(doc, pr->key);
	yaml_node_t *v = yaml_document_get_node(doc, pr->value);
	const char *key, *val;

	if (!k || k->type != YAML_SCALAR_NODE)
		return;
	key = (const char *)k->data.scalar.value;
	if (strcmp(key, "shell") != 0 && strcmp(key, "cwd") != 0) {
		dl_note(s, (unsigned)k->start_mark.line + 2, (unsigned)k->start_mark.column + 1,
			"front matter `%s` accepted, with no effect under wm", key);
		return;
	}
	if (!v || v->type != YAML_SCALAR_NODE)
		return;
	val = (const char *)v->data.scalar.value;
	set_value(strcmp(key, "shell") == 0 ? shell : cwd, val, strlen(val));
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
		if (root && root->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
			     pr < root->data.mapping.pairs.top; pr++)
				fm_pair(s, &doc, pr, shell, cwd);
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
		struct rblock b = { .other = WM_BUF_INIT };

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
		if (b.name && b.other.len)
			dl_note(s, dl_nline(s, n), 1,
				"runme block `%s`: %s accepted, with no effect under wm", b.name,
				b.other.data);
		wm_buf_release(&b.other);
		free(b.name);
		free(b.cwd);
	}
	dl_front_matter(o, used);
	dl_append(o, &body);
}
