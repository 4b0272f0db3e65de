/*
 * dialect_out.c - writing the native text of a dialect file (see
 * dialect_internal.h) and reading the pieces every dialect shares: node
 * text, fence info strings, languages, `Key: value` lines, `{k=v}` blocks.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/dialect_internal.h"
#include "workflow/internal.h"

static void map_add(struct dl_out *o, unsigned line, int delta)
{
	WM_GROW(o->map, o->alloc, o->n + 1);
	o->map[o->n++] = (struct dl_place){ line, delta };
}

void dl_line(struct dl_out *o, unsigned line, int delta, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wm_buf_vaddf(&o->b, fmt, ap);
	va_end(ap);
	wm_buf_addch(&o->b, '\n');
	map_add(o, line, delta);
}

void dl_attr(struct dl_out *o, unsigned line, unsigned col, const char *key, const char *value)
{
	int gen_col = (int)strlen(key) + 5; /* "- key: " then the value */

	dl_line(o, line, col ? (int)col - gen_col : 0, "- %s: %s", key, value);
}

void dl_about(struct dl_out *o, unsigned line, const char *text)
{
	dl_line(o, line, 0, "%s", "");
	/* A backslash keeps a leading `-`, `#`, `>`, `1.`... from being markup. */
	dl_line(o, line, -1, "%s%s", ispunct((unsigned char)text[0]) ? "\\" : "", text);
	dl_line(o, line, 0, "%s", "");
}

/* A fence longer than any run of backticks in the text. */
static size_t fence_len(const char *text)
{
	size_t best = 2, run = 0;

	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best + 1;
}

void dl_body(struct dl_out *o, const struct dl_src *s, cmark_node *n, const char *lang,
	     const char *prefix)
{
	const char *lit = cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "";
	unsigned line = dl_nline(s, n);
	size_t fl = fence_len(lit);

	if (wf_is_transcript(lit))
		prefix = NULL; /* refused as it is written, not hidden behind one */

	dl_line(o, line, 0, "%.*s%s", (int)fl, "````````````````````````````````", lang);
	if (prefix && !*lit)
		dl_line(o, line + 1, 0, "%s", prefix);
	for (const char *p = lit; *p;) {
		size_t w = strcspn(p, "\n");
		int shift = prefix ? (int)strlen(prefix) + 2 : 0;

		dl_line(o, ++line, -shift, "%s%s%.*s", prefix ? prefix : "", prefix ? "; " : "",
			(int)w, p);
		prefix = NULL;
		p += w + (p[w] == '\n');
	}
	dl_line(o, line + 1, 0, "%.*s", (int)fl, "````````````````````````````````");
}

unsigned dl_nline(const struct dl_src *s, cmark_node *n)
{
	return (unsigned)cmark_node_get_start_line(n) + s->md_line0;
}

void dl_info(cmark_node *n, char **lang, char **attrs)
{
	const char *info = cmark_node_get_fence_info(n), *open, *close;
	size_t w;

	*lang = *attrs = NULL;
	if (!info)
		return;
	info += strspn(info, " \t");
	open = strchr(info, '{');
	close = open ? strchr(open, '}') : NULL;
	if (open && close)
		*attrs = wm_xstrndup(open + 1, (size_t)(close - open - 1));
	if (*info == '{') { /* `{.bash}`: the first class */
		const char *dot = strchr(info, '.');
		if (dot && close && dot < close) {
			w = strcspn(dot + 1, " \t}");
			*lang = w ? wm_xstrndup(dot + 1, w) : NULL;
		}
		return;
	}
	w = strcspn(info, " \t{");
	if (w)
		*lang = wm_xstrndup(info, w);
}

/* What the other tools run, by the names they accept. */
static const struct {
	const char *name, *lang;
} aliases[] = {
	{ "sh", "sh" },	    { "shell", "sh" },	    { "bash", "bash" },	      { "zsh", "zsh" },
	{ "fish", "fish" }, { "python", "python" }, { "python3", "python" },  { "py", "python" },
	{ "node", "node" }, { "js", "node" },	    { "javascript", "node" }, { "ruby", "ruby" },
	{ "rb", "ruby" },   { "php", "php" },	    { "powershell", "pwsh" }, { "pwsh", "pwsh" },
	{ "ps1", "pwsh" },
};

/* The languages wm has no built-in interpreter for, with theirs. */
static const struct {
	const char *lang, *argv;
} extra_langs[] = {
	{ "zsh", "[zsh, -e]" }, { "fish", "[fish]" },
	{ "node", "[node]" },	{ "ruby", "[ruby]" },
	{ "php", "[php]" },	{ "pwsh", "[pwsh, -NoProfile, -NonInteractive, -File]" },
};

const char *dl_lang(const char *lang)
{
	for (size_t i = 0; lang && i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(aliases[i].name, lang) == 0)
			return aliases[i].lang;
	return NULL;
}

int dl_lang_index(const char *lang)
{
	for (size_t i = 0; lang && i < sizeof(extra_langs) / sizeof(extra_langs[0]); i++)
		if (strcmp(extra_langs[i].lang, lang) == 0)
			return (int)i;
	return -1;
}

bool dl_lang_is_shell(const char *lang)
{
	return strcmp(lang, "sh") == 0 || strcmp(lang, "bash") == 0 || strcmp(lang, "zsh") == 0;
}

void dl_front_matter(struct dl_out *o, const bool *used)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(extra_langs) / sizeof(extra_langs[0]); i++)
		any = any || used[i];
	if (!any)
		return;
	dl_line(o, 1, 0, "---");
	dl_line(o, 1, 0, "interpreters:");
	for (size_t i = 0; i < sizeof(extra_langs) / sizeof(extra_langs[0]); i++)
		if (used[i])
			dl_line(o, 1, 0, "  %s: %s", extra_langs[i].lang, extra_langs[i].argv);
	dl_line(o, 1, 0, "---");
}

bool dl_kv_line(const char *line, size_t len, struct dl_kv *kv)
{
	size_t i = 0, k;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || !isalpha((unsigned char)line[i]))
		return false;
	k = i;
	while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '-' || line[i] == '_'))
		i++;
	if (i >= len || line[i] != ':' || i - k > 32)
		return false;
	kv->key = line + k;
	kv->key_len = i - k;
	i++;
	if (i < len && line[i] != ' ' && line[i] != '\t')
		return false; /* `http://...`, `a:b` */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (len > i && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (i >= len)
		return false;
	kv->val = line + i;
	kv->val_len = len - i;
	kv->val_col = i;
	return true;
}

/* A word or a quoted string at *p; its span in *s, *n. */
static void brace_word(const char **p, const char **s, size_t *n, const char *stop)
{
	if (**p == '"' || **p == '\'') {
		char q = *(*p)++;

		*s = *p;
		while (**p && **p != q)
			(*p)++;
		*n = (size_t)(*p - *s);
		if (**p)
			(*p)++;
		return;
	}
	*s = *p;
	*n = strcspn(*p, stop);
	*p += *n;
}

void dl_brace_attrs(const char *s, dl_pair_fn fn, void *ctx)
{
	const char *p = s;

	while (*p) {
		const char *k, *v = "";
		size_t kn, vn = 0;

		p += strspn(p, " \t,{}");
		if (!*p)
			break;
		brace_word(&p, &k, &kn, " \t,=:}");
		p += strspn(p, " \t");
		if (*p == '=' || *p == ':') {
			p++;
			p += strspn(p, " \t");
			brace_word(&p, &v, &vn, " \t,}");
		}
		if (kn)
			fn(k, kn, v, vn, ctx);
		else if (*p)
			p++; /* a stray quote or separator */
	}
}

void dl_note(const struct dl_src *s, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	wm_strv_push_owned(s->notes, s->n_notes,
			   wm_xasprintf("%s:%u:%u: note: %s", s->path, line, col, msg));
	free(msg);
}

void dl_append(struct dl_out *o, struct dl_out *more)
{
	wm_buf_add(&o->b, more->b.data ? more->b.data : "", more->b.len);
	for (size_t i = 0; i < more->n; i++)
		map_add(o, more->map[i].line, more->map[i].delta);
	wm_buf_release(&more->b);
	free(more->map);
	more->map = NULL;
	more->n = more->alloc = 0;
}
