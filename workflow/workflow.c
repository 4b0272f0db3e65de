/*
 * workflow.c - Markdown workflow -> struct wm_workflow (SPEC.md section 1).
 *
 * The Markdown after the front matter is parsed by cmark with source
 * positions; only top-level headings open sections. Attribute values are
 * read from the source lines (see attrs.c) so that columns are exact.
 */
#include <cmark.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
#include "workflow/dag.h"
#include "workflow/idmap.h"
#include "workflow/internal.h"
#include "workflow/workflow.h"

char *wm_workflow_slug(const char *title)
{
	struct wm_buf b = WM_BUF_INIT;
	bool dash = false;

	for (const unsigned char *p = (const unsigned char *)title; *p; p++) {
		int ch = tolower(*p);
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (dash && b.len)
				wm_buf_addch(&b, '-');
			dash = false;
			wm_buf_addch(&b, (char)ch);
		} else {
			dash = true;
		}
	}
	return wm_buf_detach(&b, NULL);
}

/* ---- cmark helpers ---- */

static unsigned nline(const struct wf_ctx *c, cmark_node *n)
{
	return (unsigned)cmark_node_get_start_line(n) + c->md_line0;
}

static unsigned ncol(cmark_node *n)
{
	return (unsigned)cmark_node_get_start_column(n);
}

/* The heading's text as plain text (inline markup dropped); first_line:
 * only up to the first line break (a paragraph's first line). */
char *wf_node_text(cmark_node *h, bool first_line)
{
	struct wm_buf b = WM_BUF_INIT;
	cmark_iter *it = cmark_iter_new(h);
	cmark_event_type ev;
	char *trimmed;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type ty = cmark_node_get_type(n);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (ty == CMARK_NODE_TEXT || ty == CMARK_NODE_CODE)
			wm_buf_addstr(&b, cmark_node_get_literal(n));
		else if ((ty == CMARK_NODE_SOFTBREAK || ty == CMARK_NODE_LINEBREAK) && first_line)
			break;
		else if (ty == CMARK_NODE_SOFTBREAK || ty == CMARK_NODE_LINEBREAK)
			wm_buf_addch(&b, ' ');
	}
	cmark_iter_free(it);
	trimmed = wm_str_trim(b.data);
	wm_buf_release(&b);
	return trimmed;
}

/* `{.sh .numberLines}`: the first class, or NULL. */
static char *brace_lang(const char *info, bool *rollback)
{
	const char *end = strchr(info, '}'), *lang = NULL;
	size_t lang_len = 0;

	for (const char *p = info + 1; end && p < end;) {
		size_t w;

		p += strspn(p, " \t");
		w = strcspn(p, " \t}");
		if (w > 1 && *p == '.' && !lang) {
			lang = p + 1;
			lang_len = w - 1;
		} else if (w == 9 && strncmp(p, ".rollback", 9) == 0) {
			*rollback = true;
		}
		p += w ? w : 1;
	}
	return lang ? wm_xstrndup(lang, lang_len) : NULL;
}

/* A fenced block's language (first word of the info string) and whether
 * its second word is `rollback`. NULL when there is no info string.
 * Attribute blocks as Pandoc and others write them are understood:
 * `{.bash}` and `{.sh .numberLines}` (the first class; a `.rollback` class
 * makes a rollback), `bash{name=x}` and `sh {name=x}` (the word before). */
static char *fence_lang(cmark_node *n, bool *rollback)
{
	const char *info = cmark_node_get_fence_info(n);
	size_t w, s, r;

	*rollback = false;
	if (!info)
		return NULL;
	info += strspn(info, " \t");
	if (*info == '{')
		return brace_lang(info, rollback);
	w = strcspn(info, " \t{");
	if (w == 0)
		return NULL;
	s = w + strspn(info + w, " \t");
	if (info[s] == '{' && strchr(info + s, '}')) /* `sh {name=x} rollback` */
		s = (size_t)(strchr(info + s, '}') + 1 - info);
	s += strspn(info + s, " \t");
	r = strcspn(info + s, " \t");
	*rollback = r == 8 && strncmp(info + s, "rollback", 8) == 0;
	return wm_xstrndup(info, w);
}

/* A fenced code block, not an indented one (cmark 0.30 has no
 * cmark_node_get_fenced()): a fence starts at its block's first column,
 * after at most three spaces; indented code starts after four or a tab. */
static bool is_fenced(const struct wf_ctx *c, cmark_node *n)
{
	unsigned line = nline(c, n), col = ncol(n);
	const struct wf_line *l;

	if (cmark_node_get_type(n) != CMARK_NODE_CODE_BLOCK || line == 0 || line > c->n_lines ||
	    col == 0)
		return false;
	l = &c->lines[line - 1];
	if (col > l->len || col > 4)
		return false;
	for (unsigned i = 0; i + 1 < col; i++)
		if (l->s[i] != ' ')
			return false;
	return l->s[col - 1] == '`' || l->s[col - 1] == '~';
}

/* ---- sections ---- */

struct section {
	cmark_node *heading, *end; /* end: the next top-level heading or NULL */
	cmark_node *list;	   /* first block, when a bullet list */
	cmark_node *body, *rollback;
	cmark_node *body2, *rollback2; /* the second of each, not run: warned about */
};

static void scan_code(struct wf_ctx *c, struct section *s)
{
	for (cmark_node *n = cmark_node_next(s->heading); n != s->end; n = cmark_node_next(n)) {
		bool rb;
		wm_autofree char *lang = NULL;

		if (!is_fenced(c, n))
			continue; /* indented code is prose */
		lang = fence_lang(n, &rb);
		/* Before the body, a block is most likely the body whose language
		 * was left out or misspelt: an unlabelled one would silently make
		 * the task a join node, or the heading prose. */
		if (!lang) {
			/* A README is documentation first: its examples warn. */
			if (!s->body)
				wm_diags_add(
					c->d,
					wf_is_readme(c->path) ? WM_DIAG_WARNING : WM_DIAG_ERROR,
					c->path, nline(c, n), ncol(n),
					"code block without a language: write ```sh or ```bash "
					"(or ```text if it is not a program)");
			continue;
		}
		if (!wm_interpreter_argv(c->wf, lang)) {
			if (!s->body)
				wf_lang_hint(c, lang, nline(c, n), ncol(n));
			continue;
		}
		if (rb && !s->rollback)
			s->rollback = n;
		else if (rb && !s->rollback2)
			s->rollback2 = n;
		else if (!rb && !s->body)
			s->body = n;
		else if (!rb && !s->body2)
			s->body2 = n;
	}
}

/* The text of a list item from the source, after its bullet; continuation
 * lines are joined with a space. *col is where the text starts. */
static char *item_text(struct wf_ctx *c, cmark_node *item, unsigned *line, unsigned *col)
{
	cmark_node *para = cmark_node_first_child(item);
	struct wm_buf b = WM_BUF_INIT;
	const struct wf_line *l;
	size_t p, last;

	*line = nline(c, item);
	*col = ncol(item);
	if (*line == 0 || *line > c->n_lines)
		return wm_buf_detach(&b, NULL);
	l = &c->lines[*line - 1];
	p = *col > 0 ? *col - 1 : 0;
	if (p > l->len)
		p = l->len;
	if (p < l->len)
		p++; /* the bullet */
	while (p < l->len && (l->s[p] == ' ' || l->s[p] == '\t'))
		p++;
	*col = (unsigned)p + 1;
	wm_buf_add(&b, l->s + p, l->len - p);
	last = para ? (size_t)cmark_node_get_end_line(para) + c->md_line0 : *line;
	for (size_t i = *line; i < last && i < c->n_lines; i++) {
		wm_autofree char *raw = wm_xstrndup(c->lines[i].s, c->lines[i].len);
		wm_autofree char *t = wm_str_trim(raw);
		if (*t) {
			wm_buf_addch(&b, ' ');
			wm_buf_addstr(&b, t);
		}
	}
	return wm_buf_detach(&b, NULL);
}

/* Splits an item as `identifier: value`; false for any other shape,
 * including items holding more than one paragraph. */
static bool item_kv(struct wf_ctx *c, cmark_node *item, struct wf_kv *kv, unsigned *line,
		    unsigned *col)
{
	cmark_node *first = cmark_node_first_child(item);
	wm_autofree char *text = item_text(c, item, line, col);

	memset(kv, 0, sizeof(*kv));
	if (!first || cmark_node_get_type(first) != CMARK_NODE_PARAGRAPH || cmark_node_next(first))
		return false;
	return wf_kv_split(text, *line, *col, kv);
}

/* Is the section's first list its attribute list? (SPEC.md section 1) */
static bool is_attr_list(struct wf_ctx *c, const struct section *s)
{
	bool first = true, all = true, first_known = false;

	if (!s->list)
		return false;
	for (cmark_node *it = cmark_node_first_child(s->list); it; it = cmark_node_next(it)) {
		struct wf_kv kv;
		unsigned line, col;
		bool ok = item_kv(c, it, &kv, &line, &col);

		if (first)
			first_known = ok && wm_attr_find(kv.key) >= 0;
		all = all && ok;
		first = false;
		wf_kv_release(&kv);
	}
	return first_known || (s->body && all);
}

/* One item of a list read as prose that is nearly an attribute: `Retries:
 * 2` (a key in another case) or, under a task's heading, `timeout 5m` (a
 * key without its colon, before one word or a comma list). */
static void warn_near_attr(struct wf_ctx *c, cmark_node *item, bool task)
{
	unsigned line, col;
	wm_autofree char *text = item_text(c, item, &line, &col);
	size_t n = 0;
	const char *rest;
	char key[32];

	while (n + 1 < sizeof(key) && (isalpha((unsigned char)text[n]) || text[n] == '_')) {
		key[n] = (char)tolower((unsigned char)text[n]);
		n++;
	}
	key[n] = '\0';
	if (!n || isalnum((unsigned char)text[n]) || wm_attr_find(key) < 0)
		return;
	rest = text + n;
	if (*rest == ':' && strncmp(text, key, n) != 0) {
		wf_warn(c, line, col,
			"`%.*s:` looks like the attribute `%s`, but attribute names are lower "
			"case; "
			"as written this list is prose",
			(int)n, text, key);
	} else if (task && (*rest == ' ' || *rest == '\t') && strncmp(text, key, n) == 0) {
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest && (!strpbrk(rest, " \t") || strchr(rest, ',')))
			wf_warn(c, line, col,
				"`%s %s` looks like an attribute without its colon: write `- %s: "
				"%s` "
				"(as written this list is prose)",
				key, rest, key, rest);
	}
}

static void warn_near_attrs(struct wf_ctx *c, const struct section *s)
{
	if (!s->list)
		return;
	for (cmark_node *it = cmark_node_first_child(s->list); it; it = cmark_node_next(it))
		warn_near_attr(c, it, s->body != NULL);
}

static void apply_attrs(struct wf_ctx *c, struct wm_task *t, cmark_node *list)
{
	unsigned seen = 0;

	for (cmark_node *it = cmark_node_first_child(list); it; it = cmark_node_next(it)) {
		struct wf_kv kv;
		unsigned line, col;

		if (!item_kv(c, it, &kv, &line, &col))
			wf_err(c, line, col,
			       "this item of the attribute list is not a `key: value` attribute "
			       "(write prose after the list, separated by a blank line and text)");
		else
			wf_attr_apply(c, t, &kv, &seen);
		wf_kv_release(&kv);
	}
}

static void set_code(struct wf_ctx *c, struct wm_code *code, cmark_node *n)
{
	bool rb;
	const char *const *argv;
	size_t k = 0;

	code->lang = fence_lang(n, &rb);
	argv = wm_interpreter_argv(c->wf, code->lang);
	for (size_t i = 0; argv[i]; i++)
		wm_strv_push(&code->argv, &k, argv[i]);
	code->text = wm_xstrdup(cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "");
	code->loc = (struct wm_loc){ nline(c, n), ncol(n) };
}

static struct wm_task *new_task(struct wf_ctx *c)
{
	struct wm_workflow *wf = c->wf;
	struct wm_task *t;

	WM_GROW(wf->tasks, c->tasks_alloc, wf->n_tasks + 1);
	t = &wf->tasks[wf->n_tasks++];
	memset(t, 0, sizeof(*t));
	t->backoff_ms = 1000;
	t->priority = WM_PRIO_MEDIUM;
	t->condition = WM_COND_SUCCESS;
	return t;
}

/* What the author may have meant otherwise: a second block that does not
 * run, a heading written as a call, a body that is a transcript. */
static void warn_unrun(struct wf_ctx *c, const struct wm_task *t, const struct section *s)
{
	if (s->body2)
		wf_warn(c, nline(c, s->body2), ncol(s->body2),
			"a second runnable block in task `%s` is not run; only the first is the "
			"body (make it a task of its own under a heading, or merge the two)",
			t->id);
	if (s->rollback2)
		wf_warn(c, nline(c, s->rollback2), ncol(s->rollback2),
			"a second rollback block in task `%s` is not run; only the first is the "
			"rollback",
			t->id);
	wf_check_heading_args(c, t);
	if (t->body.lang)
		wf_check_transcript(c, t);
}

/* The first line of the section's first paragraph (what a menu shows);
 * its lines that look like another tool's attributes are warned about. */
static char *section_about(struct wf_ctx *c, const struct section *s)
{
	char *about = NULL;

	for (cmark_node *n = cmark_node_next(s->heading); n != s->end; n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_PARAGRAPH)
			continue;
		wf_check_foreign_attrs(c, nline(c, n),
				       (unsigned)cmark_node_get_end_line(n) + c->md_line0);
		if (!about)
			about = wf_node_text(n, true);
	}
	return about;
}

static void handle_section(struct wf_ctx *c, struct section *s)
{
	unsigned hline = nline(c, s->heading), hcol = ncol(s->heading);
	bool attrs;
	struct wm_task *t;

	scan_code(c, s);
	attrs = is_attr_list(c, s);
	if (!attrs)
		warn_near_attrs(c, s);
	if (!s->body && !attrs) {
		if (s->rollback)
			wf_err(c, nline(c, s->rollback), ncol(s->rollback),
			       "a rollback block needs a task body before it");
		return;
	}
	t = new_task(c);
	t->title = wf_node_text(s->heading, false);
	t->about = section_about(c, s);
	t->loc = (struct wm_loc){ hline, hcol };
	t->level = (unsigned)cmark_node_get_heading_level(s->heading);
	if (attrs)
		apply_attrs(c, t, s->list);
	if (!t->id) { /* no valid `- id:` */
		t->id = wm_workflow_slug(t->title);
		if (!*t->id)
			wf_err(c, hline, hcol,
			       "heading `%s` gives an empty task id; set one with `- id: NAME`",
			       t->title);
	}
	if (s->body)
		set_code(c, &t->body, s->body);
	if (s->rollback && !s->body)
		wf_err(c, nline(c, s->rollback), ncol(s->rollback),
		       "task `%s` has a rollback block but no body", t->id);
	else if (s->rollback)
		set_code(c, &t->rollback, s->rollback);
	warn_unrun(c, t, s);
}

static void walk_document(struct wf_ctx *c, cmark_node *doc)
{
	cmark_node *n = cmark_node_first_child(doc);

	while (n) {
		struct section s = { 0 };
		cmark_node *first;

		if (cmark_node_get_type(n) != CMARK_NODE_HEADING) {
			n = cmark_node_next(n);
			continue;
		}
		s.heading = n;
		for (s.end = cmark_node_next(n); s.end; s.end = cmark_node_next(s.end))
			if (cmark_node_get_type(s.end) == CMARK_NODE_HEADING)
				break;
		first = cmark_node_next(n);
		if (first && first != s.end && cmark_node_get_type(first) == CMARK_NODE_LIST &&
		    cmark_node_get_list_type(first) == CMARK_BULLET_LIST)
			s.list = first;
		if (cmark_node_get_heading_level(n) >= 2)
			handle_section(c, &s);
		n = s.end;
	}
}

static void index_tasks(struct wf_ctx *c)
{
	struct wm_workflow *wf = c->wf;

	wf->index = wm_idmap_new(wf->n_tasks);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		struct wm_task *t = &wf->tasks[i];
		long prev;

		if (!t->id || !*t->id)
			continue;
		prev = wm_idmap_put(wf->index, t->id, i);
		if (prev >= 0)
			wf_err(c, t->loc.line, t->loc.col,
			       "duplicate task id `%s` (the task at line %u has it too)", t->id,
			       wf->tasks[prev].loc.line);
	}
}

/* Lines end as CommonMark says: "\n", "\r\n" or a lone "\r". */
static void split_lines(struct wf_ctx *c, const char *text, size_t len)
{
	size_t alloc = 0, i = 0;

	while (i < len) {
		size_t end = i;
		struct wf_line *l;

		while (end < len && text[end] != '\n' && text[end] != '\r')
			end++;
		WM_GROW(c->lines, alloc, c->n_lines + 1);
		l = &c->lines[c->n_lines++];
		l->s = text + i;
		l->len = end - i;
		if (end + 1 < len && text[end] == '\r' && text[end + 1] == '\n')
			end++;
		i = end + 1;
	}
	/* A UTF-8 byte order mark is not part of the first line's text. */
	if (c->n_lines && c->lines[0].len >= 3 && memcmp(c->lines[0].s, "\xef\xbb\xbf", 3) == 0) {
		c->lines[0].s += 3;
		c->lines[0].len -= 3;
	}
}

static char *default_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".md") == 0)
		n -= 3;
	return wm_xstrndup(base, n);
}

/* Line and column (characters) of byte `off`, lines split as split_lines does. */
static void place_of(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= off || text[i + 1] != '\n'))) {
			++*line;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80 && text[i] != '\r') {
			++*col;
		}
	}
}

/* A NUL byte is not text: cmark would turn it into U+FFFD silently, and a
 * body or an attribute would not be what the file shows. */
static void check_nul(struct wf_ctx *c, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	size_t more = 0;
	unsigned line, col;

	if (!nul)
		return;
	for (const char *p = nul + 1; (p = memchr(p, '\0', len - (size_t)(p - text))); p++)
		more++;
	place_of(text, (size_t)(nul - text), &line, &col);
	if (more)
		wf_err(c, line, col, "NUL byte in the workflow (and %zu more): a workflow is text",
		       more);
	else
		wf_err(c, line, col, "NUL byte in the workflow: a workflow is text");
}

/* Parses into a workflow that is kept even when errors were found. */
static struct wm_workflow *parse(const char *path, const char *text, size_t len, struct wm_diags *d)
{
	struct wf_ctx c = { .path = path, .d = d };
	long fm;

	c.wf = wm_xcalloc(1, sizeof(*c.wf));
	c.wf->path = wm_xstrdup(path);
	check_nul(&c, text, len);
	split_lines(&c, text, len);
	fm = wf_frontmatter(&c);
	if (fm >= 0) {
		size_t off = (size_t)fm < c.n_lines ? (size_t)(c.lines[fm].s - text) : len;
		cmark_node *doc = cmark_parse_document(text + off, len - off, CMARK_OPT_SOURCEPOS);

		c.md_line0 = (unsigned)fm;
		walk_document(&c, doc);
		cmark_node_free(doc);
		index_tasks(&c);
		wf_matrix_expand(&c);
		if (c.wf->n_tasks == 0)
			wf_err(&c, 1, 1,
			       "no tasks: a task is a heading of level 2 or deeper holding a "
			       "runnable "
			       "code block (sh, bash, python...) or an attribute list");
	}
	if (!c.wf->name)
		c.wf->name = default_name(path);
	free(c.lines);
	return c.wf;
}

/* Hands the workflow out, or frees it when errors were added since `before`. */
static int finish(struct wm_workflow *wf, struct wm_workflow **out, struct wm_diags *d,
		  size_t before)
{
	wm_diags_sort(d);
	if (d->n_errors > before) {
		wm_workflow_free(wf);
		return -1;
	}
	*out = wf;
	return 0;
}

int wm_workflow_parse(const char *path, const char *text, size_t len, struct wm_workflow **out,
		      struct wm_diags *diags)
{
	size_t before = diags->n_errors;

	*out = NULL;
	return finish(parse(path, text, len, diags), out, diags, before);
}

int wm_workflow_parse_checked(const char *path, const char *text, size_t len,
			      struct wm_workflow **out, struct wm_diags *diags)
{
	size_t before = diags->n_errors;
	struct wm_workflow *wf;

	*out = NULL;
	wf = parse(path, text, len, diags);
	if (wf->n_tasks > 0)
		wm_dag_build(wf, &wf->dag, diags);
	return finish(wf, out, diags, before);
}

int wm_workflow_load(const char *path, struct wm_workflow **out, struct wm_diags *diags,
		     struct wm_error **err)
{
	return wm_workflow_load_as(path, path, out, diags, err);
}

int wm_workflow_load_as(const char *file, const char *path, struct wm_workflow **out,
			struct wm_diags *diags, struct wm_error **err)
{
	return wm_workflow_load_in(file, path, WM_DIALECT_AUTO, out, diags, err);
}

int wm_workflow_load_in(const char *file, const char *path, enum wm_dialect dialect,
			struct wm_workflow **out, struct wm_diags *diags, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	*out = NULL;
	rc = wm_buf_read_file_max(&b, file, WM_WORKFLOW_MAX_BYTES);
	if (rc < 0) {
		int e = errno;

		wm_buf_release(&b);
		return wm_error_make(err, WM_EXIT_USAGE, e, "cannot read workflow `%s`", file);
	}
	if (rc > 0) { /* the rest is never read: a huge file costs what the limit does */
		unsigned line, col;

		place_of(b.data, WM_WORKFLOW_MAX_BYTES, &line, &col);
		wm_diags_error(diags, path, line, col,
			       "the workflow is larger than the limit of %u bytes",
			       WM_WORKFLOW_MAX_BYTES);
		wm_buf_release(&b);
		return -1;
	}
	rc = wm_workflow_parse_dialect(path, b.data, b.len, dialect, out, diags);
	wm_buf_release(&b);
	return rc;
}

static void code_release(struct wm_code *code)
{
	free(code->lang);
	wm_strv_free(code->argv);
	free(code->text);
}

void wf_task_release(struct wm_task *t)
{
	free(t->id);
	free(t->title);
	free(t->about);
	wm_strv_free(t->depends);
	free(t->depends_loc);
	free(t->policy);
	free(t->only_if);
	free(t->image);
	wm_strv_free(t->env);
	free(t->workdir);
	wm_strv_free(t->outputs);
	wm_strv_free(t->inputs);
	wf_params_release(&t->params);
	wm_strv_free(t->param_env);
	code_release(&t->body);
	code_release(&t->rollback);
	wm_strv_free(t->matrix_axes.vals);
	free(t->matrix_axes.locs);
	wm_strv_free(t->matrix_exclude.vals);
	free(t->matrix_exclude.locs);
	wm_strv_free(t->matrix_include.vals);
	free(t->matrix_include.locs);
	free(t->matrix_of);
	wm_strv_free(t->matrix);
}

void wm_workflow_free(struct wm_workflow *wf)
{
	if (!wf)
		return;
	for (size_t i = 0; i < wf->n_tasks; i++)
		wf_task_release(&wf->tasks[i]);
	free(wf->tasks);
	for (size_t i = 0; i < wf->n_interpreters; i++) {
		free(wf->interpreters[i].lang);
		wm_strv_free(wf->interpreters[i].argv);
	}
	free(wf->interpreters);
	wf_params_release(&wf->params);
	wm_dag_free(wf->dag);
	wm_idmap_free(wf->index);
	free(wf->path);
	free(wf->name);
	free(wf->policy);
	free(wf->policies_file);
	wm_strv_free(wf->env);
	wm_strv_free(wf->secrets);
	wm_strv_free(wf->notes);
	free(wf->slurm.partition);
	free(wf->slurm.account);
	free(wf->slurm.qos);
	wm_strv_free(wf->slurm.extra);
	wf_sched_release(wf);
	free(wf);
}

long wm_workflow_find(const struct wm_workflow *wf, const char *id)
{
	if (wf->index)
		return wm_idmap_get(wf->index, id);
	for (size_t i = 0; i < wf->n_tasks; i++)
		if (strcmp(wf->tasks[i].id, id) == 0)
			return (long)i;
	return -1;
}

const char *wm_task_policy(const struct wm_workflow *wf, const struct wm_task *t)
{
	if (t && t->policy)
		return t->policy;
	return wf->policy ? wf->policy : "standard";
}

void wm_workflow_check_policies(const struct wm_workflow *wf,
				bool (*known)(const char *name, void *ctx), void *ctx,
				struct wm_diags *d)
{
	if (wf->policy && !known(wf->policy, ctx))
		wm_diags_error(d, wf->path, wf->policy_loc.line, wf->policy_loc.col,
			       "unknown policy `%s`", wf->policy);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		const struct wm_task *t = &wf->tasks[i];
		if (t->policy && !known(t->policy, ctx))
			wm_diags_error(d, wf->path, t->policy_loc.line, t->policy_loc.col,
				       "task `%s`: unknown policy `%s`", t->id, t->policy);
	}
	wm_diags_sort(d);
}
