#include "common/strutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

bool wm_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool wm_str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

char *wm_str_trim(const char *s)
{
	const char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	return wm_xstrndup(s, (size_t)(end - s));
}

void wm_strv_push_owned(char ***v, size_t *n, char *s)
{
	*v = wm_xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

void wm_strv_push(char ***v, size_t *n, const char *s)
{
	wm_strv_push_owned(v, n, wm_xstrdup(s));
}

void wm_env_set(char ***v, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	if (!kv[klen])
		return; /* not KEY=VALUE */
	for (size_t i = 0; i < *n; i++) {
		if (strncmp((*v)[i], kv, klen + 1) == 0) {
			free((*v)[i]);
			(*v)[i] = wm_xstrdup(kv);
			return;
		}
	}
	wm_strv_push(v, n, kv);
}

size_t wm_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **wm_strv_dup(char *const *v)
{
	size_t n = wm_strv_len(v);
	char **copy = wm_xcalloc(n + 1, sizeof(*copy));

	for (size_t i = 0; i < n; i++)
		copy[i] = wm_xstrdup(v[i]);
	return copy;
}

void wm_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

bool wm_env_name_ok(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

bool wm_strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool wm_words_contain(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *s = list; *s;) {
		size_t len = strcspn(s, " \t\n");

		if (len == n && strncmp(s, word, n) == 0)
			return true;
		s += len;
		s += strspn(s, " \t\n");
	}
	return false;
}

static bool same_letter(char x, char y)
{
	return tolower((unsigned char)x) == tolower((unsigned char)y);
}

/* Optimal string alignment: insertions, deletions, substitutions and
 * swaps of two neighbours (`rnu` is one edit from `run`), three rows. */
size_t wm_edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *rows, *two, *one, *cur, best;

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	rows = wm_xcalloc(3 * (lb + 1), sizeof(*rows));
	two = rows, one = rows + lb + 1, cur = rows + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		one[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = one[j - 1] + !same_letter(a[i - 1], b[j - 1]);

			if (one[j] + 1 < v)
				v = one[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) &&
			    same_letter(a[i - 2], b[j - 1]) && two[j - 2] + 1 < v)
				v = two[j - 2] + 1;
			cur[j] = v;
		}
		size_t *t = two;
		two = one, one = cur, cur = t;
	}
	best = one[lb];
	free(rows);
	return best > limit ? limit + 1 : best;
}

const char *wm_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t limit = strlen(word) <= 4 ? 1 : 2;
	const char *best = NULL;
	size_t best_d = limit + 1;

	size_t len = strlen(word), prefixed = 0;
	const char *longer = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = wm_edit_distance(word, candidates[i], limit);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
		if (len >= 3 && strncmp(candidates[i], word, len) == 0 && candidates[i][len]) {
			longer = candidates[i];
			prefixed++;
		}
	}
	/* `lint` for `lint-code`: the one candidate that begins with it. */
	return best ? best : prefixed == 1 ? longer : NULL;
}

static bool utf8_continuation(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

size_t wm_str_columns(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += !utf8_continuation(*s);
	return n;
}

char *wm_str_ellipsize(const char *s, size_t width)
{
	const char *p = s;
	size_t cols = 0;

	if (wm_str_columns(s) <= width)
		return wm_xstrdup(s);
	if (width == 0)
		return wm_xstrdup("");
	/* width - 1 characters, then the ellipsis takes the last column. */
	while (*p && cols < width - 1) {
		p++;
		while (utf8_continuation(*p))
			p++;
		cols++;
	}
	return wm_xasprintf("%.*s\xe2\x80\xa6", (int)(p - s), s); /* U+2026 in UTF-8 */
}
