/*
 * strutil.h - small string helpers shared by the parsers and the CLI.
 *
 * strv: a NULL-terminated vector of owned strings (argv/envp shape).
 * `char **v = NULL; size_t n = 0;` then wm_strv_push(&v, &n, s) copies s;
 * wm_strv_free(v) frees the strings and the vector (accepts NULL).
 */
#ifndef WM_COMMON_STRUTIL_H
#define WM_COMMON_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

bool wm_str_has_prefix(const char *s, const char *prefix);
bool wm_str_has_suffix(const char *s, const char *suffix);
/* Returns a copy of s without leading and trailing whitespace. */
char *wm_str_trim(const char *s);

void wm_strv_push(char ***v, size_t *n, const char *s);
void wm_strv_push_owned(char ***v, size_t *n, char *s);
/* Environment strv: sets a copy of kv ("KEY=VALUE") in place of an earlier
 * KEY's entry, else at the end; a kv without '=' is ignored. */
void wm_env_set(char ***v, size_t *n, const char *kv);
size_t wm_strv_len(char *const *v);
/* A copy of v (NULL gives an empty vector). */
char **wm_strv_dup(char *const *v);
void wm_strv_free(char **v);
WM_DEFINE_CLEANUP(char *, wm_strv_free)
/* A strv freed when it leaves scope: `wm_autostrv char **v = NULL;`. */
#define wm_autostrv wm_auto(wm_strv_free)
bool wm_strv_contains(char *const *v, const char *s);
/* Is `word` one of the words of `list` (separated by blanks and newlines)? */
bool wm_words_contain(const char *list, const char *word);
/* An environment variable name: a letter or '_', then letters, digits, '_'
 * (the first len bytes of s). */
bool wm_env_name_ok(const char *s, size_t len);

/* Terminal columns of a UTF-8 string: one per character (continuation
 * bytes do not count; wide characters are rare in ids and names). */
size_t wm_str_columns(const char *s);
/* A copy of s that fits in `width` columns: cut at a character boundary
 * and ended with an ellipsis ("…") when longer. width 0: "". */
char *wm_str_ellipsize(const char *s, size_t width);

/* Edit distance (Levenshtein, a swap of neighbours counting as one edit),
 * capped at `limit`+1 to stay cheap. */
size_t wm_edit_distance(const char *a, const char *b, size_t limit);
/* The candidate closest to `word` when close enough to be a typo
 * (distance <= 2, or <= 1 for short words), else the only candidate that
 * begins with a word of 3 or more letters (`lint` -> `lint-code`); NULL
 * otherwise. Borrowed. */
const char *wm_suggest(const char *word, const char *const *candidates, size_t n);

#endif
