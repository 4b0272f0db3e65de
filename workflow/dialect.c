/*
 * dialect.c - other tools' Markdown (mask, xc, runme): which one a file is
 * in, its translation to a native workflow (dialect_*.c write it), and the
 * parse of that translation with every place moved back to the original.
 *
 * A dialect file is a menu: its tasks are commands someone picks, not a
 * pipeline, so wm_workflow_parse_dialect() marks it (and any README.md)
 * and `wm run` refuses to start every task at once.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
#include "workflow/dialect_internal.h"
#include "workflow/internal.h"

#define DIALECT_NAME(E, name) name,
static const char *const dialect_names[] = { WM_DIALECTS(DIALECT_NAME) };
#undef DIALECT_NAME
#define N_DIALECTS (sizeof(dialect_names) / sizeof(dialect_names[0]))

int wm_dialect_find(const char *name)
{
	for (size_t i = 0; i < N_DIALECTS; i++)
		if (strcmp(dialect_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *wm_dialect_name(enum wm_dialect d)
{
	return (size_t)d < N_DIALECTS ? dialect_names[d] : "?";
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* xc's attribute keys, and what a native file says instead. */
static const struct {
	const char *key, *wm;
} xc_keys[] = {
	{ "requires", "- depends: NAMES" },
	{ "directory", "- workdir: DIR" },
	{ "env", "- env: NAME=VALUE" },
	{ "environment", "- env: NAME=VALUE" },
	{ "inputs", "- params: NAMES" },
	{ "rundeps", NULL },
	{ "run", NULL },
	{ "interactive", NULL },
};

/* The index of an xc attribute key in xc_keys, or -1. */
static int xc_key(const char *key, size_t len)
{
	for (size_t i = 0; i < sizeof(xc_keys) / sizeof(xc_keys[0]); i++)
		if (strlen(xc_keys[i].key) == len && strncasecmp(xc_keys[i].key, key, len) == 0)
			return (int)i;
	return -1;
}

bool dl_xc_key(const char *key, size_t len)
{
	return xc_key(key, len) >= 0;
}

/* Signs of each dialect in a file's lines, outside fenced blocks. */
struct signs {
	bool runme, options, tasks, xc_attr, arg_heading, wm_attr, front_matter;
};

static bool is_fence(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && i < 3 && l[i] == ' ')
		i++;
	return n - i >= 3 && (strncmp(l + i, "```", 3) == 0 || strncmp(l + i, "~~~", 3) == 0);
}

/* A fence line without an info string. */
static bool bare_fence(const char *l, size_t n)
{
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '`' || l[n - 1] == '~'))
		n--;
	return n == 0;
}

/* `## deploy (env) [region]`: a heading ending in an argument marker. */
static bool arg_heading(const char *l, size_t n)
{
	while (n && (l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (n < 4 || (l[n - 1] != ')' && l[n - 1] != ']'))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (l[i] == ' ' && (l[i + 1] == '(' || l[i + 1] == '['))
			return true;
	return false;
}

static void sign_line(struct signs *g, const char *l, size_t n)
{
	struct dl_kv kv;
	size_t h = 0;

	while (h < n && l[h] == '#')
		h++;
	if (h >= 1 && h <= 6 && h < n && l[h] == ' ') {
		wm_autofree char *t = wm_xstrndup(l + h, n - h);
		wm_autofree char *title = wm_str_trim(t);

		g->tasks = g->tasks || strcasecmp(title, "tasks") == 0;
		g->arg_heading = g->arg_heading || (h >= 2 && arg_heading(l, n));
		return;
	}
	if (n >= 11 && strncmp(l, "**OPTIONS**", 11) == 0)
		g->options = true;
	if (g->tasks && dl_kv_line(l, n, &kv) && xc_key(kv.key, kv.key_len) >= 0)
		g->xc_attr = true;
	if (n > 2 && l[0] == '-' && l[1] == ' ' && dl_kv_line(l + 2, n - 2, &kv)) {
		wm_autofree char *key = wm_xstrndup(kv.key, kv.key_len);
		g->wm_attr = g->wm_attr || wm_attr_find(key) >= 0;
	}
}

enum wm_dialect wm_dialect_detect(const char *path, const char *text, size_t len)
{
	struct signs g = { 0 };
	bool fence = false, fm = false;
	size_t i = 0, no = 0;

	if (strcasecmp(base_name(path), "maskfile.md") == 0)
		return WM_DIALECT_MASK;
	while (i < len) {
		size_t n = strcspn(text + i, "\r\n");
		const char *l = text + i;

		n = n > len - i ? len - i : n;
		if (no == 0 && n == 3 && strncmp(l, "---", 3) == 0)
			fm = g.front_matter = true;
		else if (fm && n == 3 && (strncmp(l, "---", 3) == 0 || strncmp(l, "...", 3) == 0))
			fm = false;
		else if (fm)
			g.runme = g.runme || (n >= 6 && strncmp(l, "runme:", 6) == 0);
		else if (is_fence(l, n) && !fence && g.tasks && bare_fence(l, n))
			fence = g.xc_attr = true; /* xc runs untagged blocks; wm refuses them */
		else if (is_fence(l, n))
			fence = !fence;
		else if (!fence)
			sign_line(&g, l, n);
		i += n + 1;
		no++;
	}
	if (g.runme)
		return WM_DIALECT_RUNME;
	if (g.options)
		return WM_DIALECT_MASK;
	if (g.tasks && g.xc_attr)
		return WM_DIALECT_XC;
	if (g.arg_heading && !g.wm_attr && !g.front_matter)
		return WM_DIALECT_MASK;
	return WM_DIALECT_WM;
}

/* The original's lines and where its Markdown starts (after front matter
 * that ends with `---` or `...`). */
static void src_init(struct dl_src *s, const char *path, const char *text, size_t len,
		     struct wm_diags *d)
{
	size_t alloc = 0, i = 0;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->text = text;
	s->len = len;
	s->d = d;
	while (i < len) {
		size_t n = strcspn(text + i, "\n");

		n = n > len - i ? len - i : n;
		WM_GROW(s->line, alloc, s->n_lines + 1);
		s->line_len = wm_xrealloc(s->line_len, alloc * sizeof(*s->line_len));
		s->line[s->n_lines] = text + i;
		s->line_len[s->n_lines++] = n && text[i + n - 1] == '\r' ? n - 1 : n;
		i += n + 1;
	}
	if (s->n_lines < 2 || s->line_len[0] != 3 || strncmp(s->line[0], "---", 3) != 0)
		return;
	for (size_t k = 1; k < s->n_lines; k++) {
		if (s->line_len[k] == 3 &&
		    (strncmp(s->line[k], "---", 3) == 0 || strncmp(s->line[k], "...", 3) == 0)) {
			s->md_line0 = (unsigned)k + 1;
			s->md_off = k + 1 < s->n_lines ? (size_t)(s->line[k + 1] - text) : len;
			return;
		}
	}
}

static char *translate(enum wm_dialect dialect, const struct dl_src *s, struct dl_out *o)
{
	cmark_node *doc =
		cmark_parse_document(s->text + s->md_off, s->len - s->md_off, CMARK_OPT_SOURCEPOS);

	switch (dialect) {
	case WM_DIALECT_MASK:
		dl_mask(s, doc, o);
		break;
	case WM_DIALECT_XC:
		dl_xc(s, doc, o);
		break;
	case WM_DIALECT_RUNME:
		dl_runme(s, doc, o);
		break;
	case WM_DIALECT_AUTO:
	case WM_DIALECT_WM:
		break;
	}
	cmark_node_free(doc);
	return wm_buf_detach(&o->b, NULL);
}

/* One translation: the original, the native text's line map, and what
 * the reader found besides the text. */
struct tr {
	struct dl_src s;
	struct dl_out o;
	char **notes, **terminal;
	size_t n_notes, n_terminal;
};

static char *tr_run(struct tr *t, enum wm_dialect dialect, const char *path, const char *text,
		    size_t len, struct wm_diags *diags)
{
	memset(t, 0, sizeof(*t));
	t->o.b = (struct wm_buf)WM_BUF_INIT;
	src_init(&t->s, path, text, len, diags);
	t->s.notes = &t->notes;
	t->s.n_notes = &t->n_notes;
	t->s.terminal = &t->terminal;
	t->s.n_terminal = &t->n_terminal;
	return translate(dialect, &t->s, &t->o);
}

static void tr_release(struct tr *t)
{
	wm_strv_free(t->notes);
	wm_strv_free(t->terminal);
	free(t->s.line);
	free(t->s.line_len);
	free(t->o.map);
}

char *wm_dialect_translate(enum wm_dialect dialect, const char *path, const char *text, size_t len,
			   struct wm_diags *diags)
{
	struct tr t;
	size_t before = diags->n_errors;
	/* Notes and refusals are for wm run: `wm import` writes the text. */
	char *native = tr_run(&t, dialect, path, text, len, diags);

	tr_release(&t);
	if (diags->n_errors > before) {
		free(native);
		return NULL;
	}
	return native;
}

/* ---- the parse of a translation, with the original's places ---- */

static void remap(const struct dl_out *o, unsigned *line, unsigned *col)
{
	const struct dl_place *p;
	long c;

	if (*line == 0 || *line > o->n)
		return;
	p = &o->map[*line - 1];
	*line = p->line;
	c = (long)*col + p->delta;
	*col = c < 1 ? 1 : (unsigned)c;
}

static void remap_loc(const struct dl_out *o, struct wm_loc *l)
{
	remap(o, &l->line, &l->col);
}

static void remap_params(const struct dl_out *o, struct wm_params *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		remap_loc(o, &ps->v[i].loc);
}

static void remap_workflow(const struct dl_out *o, struct wm_workflow *wf)
{
	remap_loc(o, &wf->policy_loc);
	remap_params(o, &wf->params);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		struct wm_task *t = &wf->tasks[i];

		remap_loc(o, &t->loc);
		remap_loc(o, &t->policy_loc);
		remap_loc(o, &t->body.loc);
		remap_loc(o, &t->rollback.loc);
		remap_params(o, &t->params);
		for (size_t k = 0; t->depends && t->depends[k]; k++)
			remap_loc(o, &t->depends_loc[k]);
	}
}

/* The translation's diagnostics, moved to the original's places. */
static void remap_diags(const struct dl_out *o, const char *path, const struct wm_diags *from,
			struct wm_diags *to)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct wm_diag *g = &from->v[i];
		unsigned line = g->line, col = g->col;

		if (g->file && strcmp(g->file, path) == 0)
			remap(o, &line, &col);
		wm_diags_add(to, g->level, g->file, line, col, "%s", g->msg);
	}
	wm_diags_sort(to);
}

bool wf_is_readme(const char *path)
{
	return strcasecmp(base_name(path), "README.md") == 0;
}

static int parse_translated(const char *path, const char *text, size_t len, enum wm_dialect dialect,
			    struct wm_workflow **out, struct wm_diags *diags)
{
	struct tr t;
	struct wm_diags tmp = WM_DIAGS_INIT;
	size_t before = diags->n_errors;
	wm_autofree char *native = tr_run(&t, dialect, path, text, len, diags);
	int rc = -1;

	if (diags->n_errors == before) {
		rc = wm_workflow_parse_checked(path, native, strlen(native), out, &tmp);
		remap_diags(&t.o, path, &tmp, diags);
	}
	if (rc == 0) {
		remap_workflow(&t.o, *out);
		(*out)->notes = wm_steal(&t.notes);
		for (size_t i = 0; t.terminal && t.terminal[i]; i++) {
			long k = wm_workflow_find(*out, t.terminal[i]);
			if (k >= 0)
				(*out)->tasks[k].needs_terminal = true;
		}
	}
	wm_diags_release(&tmp);
	tr_release(&t);
	return rc;
}

int wm_workflow_parse_dialect(const char *path, const char *text, size_t len,
			      enum wm_dialect dialect, struct wm_workflow **out,
			      struct wm_diags *diags)
{
	int rc;

	*out = NULL;
	if (dialect == WM_DIALECT_AUTO)
		dialect = wm_dialect_detect(path, text, len);
	if (dialect == WM_DIALECT_WM)
		rc = wm_workflow_parse_checked(path, text, len, out, diags);
	else
		rc = parse_translated(path, text, len, dialect, out, diags);
	if (rc == 0) {
		(*out)->dialect = dialect;
		(*out)->menu = dialect != WM_DIALECT_WM || wf_is_readme(path);
	}
	return rc;
}

void wf_check_foreign_attrs(struct wf_ctx *c, unsigned first, unsigned last)
{
	for (unsigned l = first; l >= 1 && l <= last && l <= c->n_lines; l++) {
		const struct wf_line *ln = &c->lines[l - 1];
		unsigned col = (unsigned)(strspn(ln->s, " \t") + 1);
		struct dl_kv kv;
		int k;

		if (!dl_kv_line(ln->s, ln->len, &kv) || (k = xc_key(kv.key, kv.key_len)) < 0)
			continue;
		if (xc_keys[k].wm)
			wf_warn(c, l, col,
				"`%.*s:` is how xc writes an attribute; wm reads this line as "
				"prose: write `%s` in the task's attribute list, or read the "
				"file with --dialect xc",
				(int)kv.key_len, kv.key, xc_keys[k].wm);
		else
			wf_warn(c, l, col,
				"`%.*s:` is how xc writes an attribute; wm reads this line as "
				"prose (read the file with --dialect xc to use it)",
				(int)kv.key_len, kv.key);
	}
}
