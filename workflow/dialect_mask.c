/*
 * dialect_mask.c - mask's maskfile.md as a native workflow.
 *
 * `## db` then `### migrate (name) [version]` is the task `db.migrate`
 * with a required parameter `name` and an optional `version`; an
 * `**OPTIONS**` list adds parameters (flags, type, required, choices). The
 * first code block of a command is its script. Mask gives each argument
 * and option as a variable of its own name, MASKFILE_DIR and MASK: a shell
 * script's first line starts by exporting them (`$MASK` fails, saying
 * why: a sandboxed task cannot start wm's sandboxes itself; `- depends:`
 * can).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dialect_internal.h"
#include "workflow/internal.h"

#define MAX_DEPTH 6

/* What $MASK is inside a sandbox: a command that is not there, named so
 * that the shell's "not found" says why. */
#define MASK_STUB "/wm-runs-no-MASK-in-a-sandbox--declare-depends-instead"

struct mparam {
	char *name;
	char *spec; /* as `- params:` writes it */
	enum { ARG_REQUIRED, ARG_OPTIONAL, ARG_FLAG } kind;
};

struct mcmd {
	struct mparam *p;
	size_t n, alloc;
	char *about;
	unsigned about_line;
	cmark_node *code;
};

/* A parameter name: mask's `dry-run` is the variable `dry_run`. */
static char *param_name(const char *s, size_t n)
{
	char *v = wm_xstrndup(s, n);

	for (char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	return v;
}

static void add_param(struct mcmd *m, char *name, int kind, const char *type)
{
	struct mparam *p;

	WM_GROW(m->p, m->alloc, m->n + 1);
	p = &m->p[m->n++];
	p->name = name;
	p->kind = kind;
	if (kind == ARG_FLAG)
		p->spec = wm_xasprintf("%s:bool=false", name);
	else if (kind == ARG_OPTIONAL)
		p->spec = wm_xasprintf("%s=", name);
	else
		p->spec = wm_xasprintf("%s%s%s", name, type ? ":" : "", type ? type : "");
}

/* `migrate (name) [version]`: the command's name, its markers as parameters. */
static char *split_heading(const char *title, struct mcmd *m)
{
	size_t n = strcspn(title, "([");
	wm_autofree char *name = wm_xstrndup(title, n);

	for (const char *p = title + n; *p;) {
		char close = *p == '(' ? ')' : ']';
		const char *end = strchr(p, close);
		size_t len;

		if (*p != '(' && *p != '[') {
			p++;
			continue;
		}
		if (!end)
			break;
		len = (size_t)(end - p - 1);
		if (len >= 3 && strncmp(end - 3, "...", 3) == 0)
			len -= 3; /* `(files...)`: one value, the words as written */
		if (len)
			add_param(m, param_name(p + 1, len),
				  close == ')' ? ARG_REQUIRED : ARG_OPTIONAL, NULL);
		p = end + 1;
	}
	return wm_workflow_slug(name);
}

/* One option of an `**OPTIONS**` list: its name, then `flags:`, `type:`,
 * `choices:`, `required` items. */
static void option_item(const struct dl_src *s, cmark_node *item, struct mcmd *m)
{
	cmark_node *name = cmark_node_first_child(item);
	wm_autofree char *nm = name ? wf_node_text(name, true) : NULL;
	wm_autofree char *type = NULL, *choices = NULL;
	bool required = false;

	(void)s;
	if (!nm || !*nm)
		return;
	for (cmark_node *l = cmark_node_next(name); l; l = cmark_node_next(l)) {
		if (cmark_node_get_type(l) != CMARK_NODE_LIST)
			continue;
		for (cmark_node *it = cmark_node_first_child(l); it; it = cmark_node_next(it)) {
			wm_autofree char *t =
				cmark_node_first_child(it)
					? wf_node_text(cmark_node_first_child(it), true)
					: NULL;
			struct dl_kv kv;

			if (t && strcasecmp(t, "required") == 0) {
				required = true;
			} else if (t && dl_kv_line(t, strlen(t), &kv) && kv.key_len == 4 &&
				   strncasecmp(kv.key, "type", 4) == 0) {
				free(type); /* the last one written counts */
				type = wm_xstrndup(kv.val, kv.val_len);
			} else if (t && dl_kv_line(t, strlen(t), &kv) && kv.key_len == 7 &&
				   strncasecmp(kv.key, "choices", 7) == 0) {
				free(choices);
				choices = wm_xstrndup(kv.val, kv.val_len);
			}
		}
	}
	if (choices) {
		for (char *p = choices; *p; p++)
			*p = *p == ',' ? '|' : *p;
		wm_autofree char *c = wm_xasprintf("choice(%s)", choices);
		wm_autofree char *sp = wm_str_trim(c);
		char *w = sp, *r = sp; /* drop the blanks around each choice */

		for (; *r; r++)
			if (*r != ' ')
				*w++ = *r;
		*w = '\0';
		add_param(m, param_name(nm, strlen(nm)), required ? ARG_REQUIRED : ARG_OPTIONAL,
			  required ? sp : NULL);
	} else if (!type) {
		add_param(m, param_name(nm, strlen(nm)), ARG_FLAG, NULL);
	} else {
		bool num = strcasecmp(type, "number") == 0 || strcasecmp(type, "int") == 0;
		/* An optional number may be left unset, which an int cannot. */
		add_param(m, param_name(nm, strlen(nm)), required ? ARG_REQUIRED : ARG_OPTIONAL,
			  num && required ? "int" : NULL);
	}
}

static bool is_options(const struct dl_src *s, cmark_node *n)
{
	unsigned l = dl_nline(s, n);

	return cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH && l >= 1 && l <= s->n_lines &&
	       s->line_len[l - 1] >= 11 && strncasecmp(s->line[l - 1], "**OPTIONS**", 11) == 0;
}

/* The section under a command's heading: about, options, script. */
static void scan_section(const struct dl_src *s, cmark_node *h, struct mcmd *m)
{
	for (cmark_node *n = cmark_node_next(h); n && cmark_node_get_type(n) != CMARK_NODE_HEADING;
	     n = cmark_node_next(n)) {
		cmark_node_type ty = cmark_node_get_type(n);

		if (is_options(s, n)) {
			cmark_node *l = cmark_node_next(n);
			if (l && cmark_node_get_type(l) == CMARK_NODE_LIST)
				for (cmark_node *it = cmark_node_first_child(l); it;
				     it = cmark_node_next(it))
					option_item(s, it, m);
		} else if (ty == CMARK_NODE_PARAGRAPH && !m->about) {
			m->about = wf_node_text(n, true);
			m->about_line = dl_nline(s, n);
		} else if (ty == CMARK_NODE_CODE_BLOCK && !m->code &&
			   cmark_node_get_fence_info(n)) {
			m->code = n;
		}
	}
}

/* The task `$MASK w1 w2 ...` calls: the longest run of words that is the
 * id of a command (`db.migrate`), else the first word. Caller frees. */
static char *called_id(const char *q, const char *end, char *const *ids)
{
	struct wm_buf id = WM_BUF_INIT;
	char *best = NULL;

	while (q < end) {
		size_t k = strspn(q, " \t"), n = 0;

		while (q + k + n < end &&
		       (isalnum((unsigned char)q[k + n]) || q[k + n] == '-' || q[k + n] == '_'))
			n++;
		if (!n)
			break;
		wm_buf_addf(&id, "%s%.*s", id.len ? "." : "", (int)n, q + k);
		if (!best || wm_strv_contains(ids, id.data)) {
			free(best);
			best = wm_xstrdup(id.data);
		}
		q += k + n;
	}
	wm_buf_release(&id);
	return best ? best : wm_xstrdup("TASK");
}

/* `$MASK db migrate` in a script: warned about at its place. */
static void check_mask_calls(const struct dl_src *s, cmark_node *code, char *const *ids)
{
	const char *lit = cmark_node_get_literal(code);
	unsigned line = dl_nline(s, code) + 1;

	for (const char *p = lit ? lit : ""; *p; line++) {
		size_t w = strcspn(p, "\n");

		for (const char *m = p; (m = strstr(m, "MASK")) && m < p + w; m += 4) {
			bool brace = m > p + 1 && m[-1] == '{' && m[-2] == '$' && m[4] == '}';
			bool dollar = m > p && m[-1] == '$';
			const char *q = m + (brace ? 5 : 4);
			wm_autofree char *id = NULL;

			if (!(dollar || brace) || (*q != ' ' && *q != '\t'))
				continue;
			id = called_id(q, p + w, ids);
			dl_warn(s, line, (unsigned)(m - p) - (brace ? 1u : 0u),
				"`$MASK` calls the task `%s` from inside this one: a sandboxed "
				"task "
				"cannot start wm's sandboxes, and $MASK fails here; declare "
				"`- depends: %s` (in a native file: wm import) or run both with "
				"`wm run FILE %s ...`",
				id, id, id);
		}
		p += w + (p[w] == '\n');
	}
}

/* What a shell script of a mask command starts with. */
static char **preamble(const struct mcmd *m)
{
	char **v = NULL;
	size_t n = 0;

	wm_strv_push_owned(&v, &n,
			   wm_xstrdup("export MASKFILE_DIR=\"$WM_WORKSPACE\" MASK=" MASK_STUB));
	for (size_t i = 0; i < m->n; i++) {
		wm_autofree char *var = wm_param_var(m->p[i].name);
		const char *nm = m->p[i].name;

		if (m->p[i].kind == ARG_REQUIRED)
			wm_strv_push_owned(&v, &n, wm_xasprintf("export %s=\"$%s\"", nm, var));
		else if (m->p[i].kind == ARG_FLAG)
			wm_strv_push_owned(
				&v, &n,
				wm_xasprintf("if [ \"$%s\" = true ]; then export %s=true; fi", var,
					     nm));
		else
			wm_strv_push_owned(
				&v, &n,
				wm_xasprintf("if [ -n \"$%s\" ]; then export %s=\"$%s\"; fi", var,
					     nm, var));
	}
	return v;
}

static void mcmd_release(struct mcmd *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->p[i].name);
		free(m->p[i].spec);
	}
	free(m->p);
	free(m->about);
}

/* One command with a script: its task. */
static void emit(const struct dl_src *s, cmark_node *h, const char *id, struct mcmd *m,
		 struct dl_out *o, bool *used)
{
	wm_autofree char *lang_w = NULL, *attrs = NULL;
	const char *lang;
	unsigned hl = dl_nline(s, h);
	struct wm_buf spec = WM_BUF_INIT;

	dl_info(m->code, &lang_w, &attrs);
	lang = dl_lang(lang_w);
	if (!lang) {
		dl_warn(s, dl_nline(s, m->code), 1,
			"mask command `%s`: `%s` is not a language mask runs; not a task", id,
			lang_w ? lang_w : "");
		return;
	}
	if (dl_lang_index(lang) >= 0)
		used[dl_lang_index(lang)] = true;
	dl_line(o, hl, 0, "%s", "");
	dl_line(o, hl, 0, "## %s", id);
	dl_attr(o, hl, 0, "id", id);
	for (size_t i = 0; i < m->n; i++)
		wm_buf_addf(&spec, "%s%s", i ? ", " : "", m->p[i].spec);
	if (m->n)
		dl_attr(o, hl, 0, "params", spec.data);
	wm_buf_release(&spec);
	if (m->about)
		dl_about(o, m->about_line, m->about);
	else
		dl_line(o, hl, 0, "%s", "");
	if (dl_lang_is_shell(lang)) {
		char **pre = preamble(m);
		struct wm_buf one = WM_BUF_INIT;

		for (size_t i = 0; pre[i]; i++)
			wm_buf_addf(&one, "%s%s", i ? "; " : "", pre[i]);
		dl_body(o, s, m->code, lang, one.data);
		wm_buf_release(&one);
		wm_strv_free(pre);
	} else {
		if (m->n)
			dl_warn(s, dl_nline(s, m->code), 1,
				"mask command `%s`: a %s script reads its arguments as "
				"PARAM_<NAME>, "
				"not by their own names",
				id, lang);
		dl_body(o, s, m->code, lang, NULL);
	}
}

void dl_mask(const struct dl_src *s, cmark_node *doc, struct dl_out *o)
{
	char *path[MAX_DEPTH + 1] = { 0 };
	bool used[DL_N_LANGS] = { 0 };
	struct dl_out body = { .b = WM_BUF_INIT };
	char **ids = NULL;
	cmark_node **codes = NULL;
	size_t n_ids = 0, codes_alloc = 0;

	for (cmark_node *h = cmark_node_first_child(doc); h; h = cmark_node_next(h)) {
		struct mcmd m = { 0 };
		int level;
		struct wm_buf id = WM_BUF_INIT;
		wm_autofree char *title = NULL;

		if (cmark_node_get_type(h) != CMARK_NODE_HEADING)
			continue;
		level = cmark_node_get_heading_level(h);
		for (int k = level; k <= MAX_DEPTH; k++) {
			free(path[k]);
			path[k] = NULL;
		}
		if (level < 2)
			continue;
		title = wf_node_text(h, false);
		path[level] = split_heading(title, &m);
		for (int k = 2; k <= level; k++)
			if (path[k] && *path[k])
				wm_buf_addf(&id, "%s%s", id.len ? "." : "", path[k]);
		scan_section(s, h, &m);
		if (m.code && id.len) {
			emit(s, h, id.data, &m, &body, used);
			WM_GROW(codes, codes_alloc, n_ids + 1);
			codes[n_ids] = m.code;
			wm_strv_push(&ids, &n_ids, id.data);
		}
		wm_buf_release(&id);
		mcmd_release(&m);
	}
	for (int k = 0; k <= MAX_DEPTH; k++)
		free(path[k]);
	for (size_t i = 0; i < n_ids; i++)
		check_mask_calls(s, codes[i], ids);
	free(codes);
	wm_strv_free(ids);
	dl_front_matter(o, used);
	dl_append(o, &body);
}
