/*
 * oci_pos.c - where each value of an OCI profile is written, so that its
 * problems are reported at their real FILE:LINE:COL.
 *
 * jansson's tree keeps no positions, so jansson decodes the text a second
 * time, one value at a time: with JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK
 * it reports in error.position how many bytes the value took. Only the
 * punctuation between values (whitespace, '{', '[', ':', ',') is stepped
 * over here; strings, numbers and literals are always jansson's to read.
 * Objects and arrays are entered down to POS_DEPTH levels, deeper values
 * are stepped over whole. Built only when a problem must be located.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "policies/internal.h"

#define POS_DEPTH 4

struct pol_jpos {
	size_t off; /* where the value starts */
	char *key;  /* its key in the parent object, NULL in an array */
	struct pol_jpos *kids;
	size_t n, alloc;
};

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* End of the value at i, decoded by jansson; *str gets it when a string. */
static long value_end(const char *s, size_t len, size_t i, char **str)
{
	json_error_t e;
	json_t *v = json_loadb(s + i, len - i, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
	long end;

	if (!v)
		return -1;
	if (str)
		*str = json_is_string(v) ? wm_xstrdup(json_string_value(v)) : NULL;
	end = (long)(i + (size_t)e.position);
	json_decref(v);
	return end;
}

static struct pol_jpos *kid(struct pol_jpos *p, char *key, size_t off)
{
	WM_GROW(p->kids, p->alloc, p->n + 1);
	p->kids[p->n] = (struct pol_jpos){ .off = off, .key = key };
	return &p->kids[p->n++];
}

static long walk(const char *s, size_t len, size_t i, unsigned depth, struct pol_jpos *node);

/* The members of the object or the items of the array at i ('{' or '['). */
static long walk_children(const char *s, size_t len, size_t i, unsigned depth,
			  struct pol_jpos *node)
{
	char close = s[i] == '{' ? '}' : ']';
	long end;

	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == close)
		return (long)i + 1;
	while (i < len) {
		char *key = NULL;

		if (close == '}') {
			if ((end = value_end(s, len, i, &key)) < 0 || !key)
				return free(key), -1;
			i = skip_ws(s, len, (size_t)end);
			if (i >= len || s[i] != ':')
				return free(key), -1;
			i = skip_ws(s, len, i + 1);
		}
		if ((end = walk(s, len, i, depth + 1, kid(node, key, i))) < 0)
			return -1;
		i = skip_ws(s, len, (size_t)end);
		if (i < len && s[i] == close)
			return (long)i + 1;
		if (i >= len || s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
	return -1;
}

static long walk(const char *s, size_t len, size_t i, unsigned depth, struct pol_jpos *node)
{
	node->off = i;
	if (i < len && (s[i] == '{' || s[i] == '[') && depth < POS_DEPTH)
		return walk_children(s, len, i, depth, node);
	return value_end(s, len, i, NULL);
}

struct pol_jpos *pol_jpos_index(const char *text, size_t len)
{
	struct pol_jpos *root = wm_xcalloc(1, sizeof(*root));

	/* A text jansson accepted walks to its end; if not, what was found
	 * before the problem still locates what it can. */
	walk(text, len, skip_ws(text, len, 0), 0, root);
	return root;
}

static void release(struct pol_jpos *p)
{
	for (size_t i = 0; i < p->n; i++)
		release(&p->kids[i]);
	free(p->kids);
	free(p->key);
}

void pol_jpos_free(struct pol_jpos *p)
{
	if (!p)
		return;
	release(p);
	free(p);
}

static const struct pol_jpos *step(const struct pol_jpos *p, const char *key, long idx)
{
	if (!p)
		return NULL;
	if (key) {
		for (size_t i = p->n; i-- > 0;) /* the last of duplicate keys, as jansson */
			if (p->kids[i].key && strcmp(p->kids[i].key, key) == 0)
				return &p->kids[i];
		return NULL;
	}
	return idx >= 0 && (size_t)idx < p->n ? &p->kids[idx] : NULL;
}

size_t pol_jpos_find(const struct pol_jpos *p, const char *const *keys, const long *idx, size_t n)
{
	size_t off = p ? p->off : 0;

	for (size_t k = 0; k < n && p; k++) {
		p = step(p, keys[k], idx[k]);
		if (p)
			off = p->off;
	}
	return off;
}

void pol_text_place(const char *text, size_t off, unsigned *line, unsigned *col)
{
	const char *nl = NULL;

	*line = 1;
	for (const char *q = text; (q = memchr(q, '\n', (size_t)(text + off - q))); q++) {
		++*line;
		nl = q;
	}
	*col = 1;
	for (const char *q = nl ? nl + 1 : text; q < text + off; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			++*col;
}
