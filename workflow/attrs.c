/*
 * attrs.c - a task's attribute list items, `key: value` (SPEC.md section 1).
 *
 * Values are taken from the source text, not from cmark's rendering, so that
 * columns are exact and Markdown punctuation in a value is kept. A value
 * written as one code span (`- only_if: `test -f x``) loses its backticks.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "workflow/internal.h"

enum attr {
	A_ID,
	A_DEPENDS,
	A_POLICY,
	A_TIMEOUT,
	A_RETRIES,
	A_BACKOFF,
	A_PRIORITY,
	A_CONDITION,
	A_ONLY_IF,
	A_ENV,
	A_WORKDIR,
	A_SLA,
	A_OUTPUTS,
	N_ATTRS,
};

static const char *const attr_names[N_ATTRS] = {
	"id",	     "depends", "policy", "timeout", "retries", "backoff", "priority",
	"condition", "only_if", "env",	  "workdir", "sla",	"outputs",
};

/* Attributes that may be given more than once (their values add up). */
#define REPEATABLE ((1u << A_DEPENDS) | (1u << A_ENV) | (1u << A_OUTPUTS))

static int attr_index(const char *key)
{
	for (int i = 0; i < N_ATTRS; i++)
		if (strcmp(key, attr_names[i]) == 0)
			return i;
	return -1;
}

bool wf_attr_known(const char *key)
{
	return attr_index(key) >= 0;
}

const char *wf_attr_suggest(const char *key)
{
	return wm_suggest(key, attr_names, N_ATTRS);
}

bool wf_is_env_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

bool wf_path_is_contained(const char *s)
{
	long depth = 0;

	if (!*s || s[0] == '/')
		return false;
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			depth++;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* Strips a code span around the whole value: "`x`" -> "x"; *shift gets
 * how many bytes were removed in front. */
static char *strip_code_span(const char *v, size_t len, size_t *shift)
{
	size_t ticks = 0;

	*shift = 0;
	while (ticks < len && v[ticks] == '`')
		ticks++;
	if (ticks == 0 || len < 2 * ticks + 1)
		return wm_xstrndup(v, len);
	for (size_t i = 0; i < ticks; i++)
		if (v[len - 1 - i] != '`')
			return wm_xstrndup(v, len);
	v += ticks;
	len -= 2 * ticks;
	*shift = ticks;
	if (len >= 2 && v[0] == ' ' && v[len - 1] == ' ') {
		v++;
		len -= 2;
		(*shift)++;
	}
	return wm_xstrndup(v, len);
}

bool wf_kv_split(const char *text, unsigned line, unsigned col, struct wf_kv *kv)
{
	const char *p = text, *v;
	size_t vlen, shift;

	memset(kv, 0, sizeof(*kv));
	if (!(islower((unsigned char)*p) || *p == '_'))
		return false;
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
		p++;
	if (*p != ':' || (p[1] && p[1] != ' ' && p[1] != '\t'))
		return false;
	kv->key = wm_xstrndup(text, (size_t)(p - text));
	v = p + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	vlen = strlen(v);
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	kv->val = strip_code_span(v, vlen, &shift);
	kv->line = line;
	kv->key_col = col;
	kv->val_col = col + (unsigned)(v - text + (ptrdiff_t)shift);
	return true;
}

void wf_kv_release(struct wf_kv *kv)
{
	free(kv->key);
	free(kv->val);
	kv->key = kv->val = NULL;
}

static bool is_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* Each comma-separated entry of kv->val, trimmed, with its column. */
typedef void (*entry_fn)(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv,
			 const char *entry, unsigned col);

static void for_each_entry(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, entry_fn fn)
{
	const char *p = kv->val;

	for (;;) {
		size_t n = strcspn(p, ","), lead = 0;
		while (lead < n && isspace((unsigned char)p[lead]))
			lead++;
		size_t len = n - lead;
		while (len > 0 && isspace((unsigned char)p[lead + len - 1]))
			len--;
		unsigned col = kv->val_col + (unsigned)(p + lead - kv->val);
		if (len == 0) {
			wf_err(c, kv->line, col, "%s: empty entry in a comma-separated list",
			       kv->key);
		} else {
			wm_autofree char *e = wm_xstrndup(p + lead, len);
			fn(c, t, kv, e, col);
		}
		if (!p[n])
			break;
		p += n + 1;
	}
}

static void add_depend(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		       unsigned col)
{
	size_t n = wm_strv_len(t->depends);

	if (!is_id(e)) {
		wf_err(c, kv->line, col, "depends: `%s` is not a task id", e);
		return;
	}
	wm_strv_push(&t->depends, &n, e);
	t->depends_loc = wm_xrealloc(t->depends_loc, n * sizeof(*t->depends_loc));
	t->depends_loc[n - 1] = (struct wm_loc){ kv->line, col };
}

static void add_output(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		       unsigned col)
{
	size_t n = wm_strv_len(t->outputs);

	if (!wf_path_is_contained(e)) {
		wf_err(c, kv->line, col,
		       "outputs: `%s` must be a relative path inside $WM_OUT (no leading / or ..)",
		       e);
		return;
	}
	wm_strv_push(&t->outputs, &n, e);
}

static void set_duration(struct wf_ctx *c, const struct wf_kv *kv, uint64_t *dst)
{
	struct wm_error *e = NULL;

	if (wm_parse_duration(kv->val, dst, &e) < 0) {
		wf_err(c, kv->line, kv->val_col, "%s: %s", kv->key, e->msg);
		wm_error_free(e);
	}
}

static void set_retries(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv)
{
	const char *s = kv->val;
	unsigned long n = 0;
	char *end = NULL;

	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtoul(s, &end, 10);
	}
	if (!end || *end || errno || n > 1000) {
		wf_err(c, kv->line, kv->val_col,
		       "retries: expected a whole number from 0 to 1000, not `%s`", s);
		return;
	}
	t->retries = (unsigned)n;
}

static void set_choice(struct wf_ctx *c, const struct wf_kv *kv, const char *const *names,
		       const int *values, size_t n, int *dst)
{
	const char *hint;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv->val, names[i]) == 0) {
			*dst = values[i];
			return;
		}
	}
	hint = wm_suggest(kv->val, names, n);
	wf_err(c, kv->line, kv->val_col, "%s: expected %s, %s or %s, not `%s`%s%s%s", kv->key,
	       names[0], names[1], names[2], kv->val, hint ? " (did you mean `" : "",
	       hint ? hint : "", hint ? "`?)" : "");
}

static void set_env(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv)
{
	const char *eq = strchr(kv->val, '=');
	size_t n = wm_strv_len(t->env);

	if (!eq || !wf_is_env_name(kv->val, (size_t)(eq - kv->val))) {
		wf_err(c, kv->line, kv->val_col, "env: expected NAME=VALUE, not `%s`", kv->val);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(t->env[i], kv->val, (size_t)(eq - kv->val) + 1) == 0) {
			wf_err(c, kv->line, kv->val_col, "env: `%.*s` is set twice",
			       (int)(eq - kv->val), kv->val);
			return;
		}
	}
	wm_strv_push(&t->env, &n, kv->val);
}

static void set_text(struct wf_ctx *c, const struct wf_kv *kv, char **dst)
{
	(void)c;
	free(*dst);
	*dst = wm_xstrdup(kv->val);
}

static void apply_choice(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, int which)
{
	static const char *const prio[] = { "high", "medium", "low" };
	static const int prio_v[] = { WM_PRIO_HIGH, WM_PRIO_MEDIUM, WM_PRIO_LOW };
	static const char *const cond[] = { "success", "failure", "always" };
	static const int cond_v[] = { WM_COND_SUCCESS, WM_COND_FAILURE, WM_COND_ALWAYS };
	int v;

	if (which == A_PRIORITY) {
		v = (int)t->priority;
		set_choice(c, kv, prio, prio_v, 3, &v);
		t->priority = (enum wm_priority)v;
	} else {
		v = (int)t->condition;
		set_choice(c, kv, cond, cond_v, 3, &v);
		t->condition = (enum wm_condition)v;
	}
}

static void apply_value(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, int a,
			bool *id_given)
{
	switch (a) {
	case A_ID:
		if (!is_id(kv->val))
			wf_err(c, kv->line, kv->val_col,
			       "id: `%s` is not a valid id (letters, digits, '.', '_', '-'; "
			       "starting with a letter or digit)",
			       kv->val);
		else {
			set_text(c, kv, &t->id);
			*id_given = true;
		}
		break;
	case A_DEPENDS:
		for_each_entry(c, t, kv, add_depend);
		break;
	case A_POLICY:
		set_text(c, kv, &t->policy);
		t->policy_loc = (struct wm_loc){ kv->line, kv->val_col };
		break;
	case A_TIMEOUT:
		set_duration(c, kv, &t->timeout_ms);
		break;
	case A_RETRIES:
		set_retries(c, t, kv);
		break;
	case A_BACKOFF:
		set_duration(c, kv, &t->backoff_ms);
		break;
	case A_PRIORITY:
	case A_CONDITION:
		apply_choice(c, t, kv, a);
		break;
	case A_ONLY_IF:
		set_text(c, kv, &t->only_if);
		break;
	case A_ENV:
		set_env(c, t, kv);
		break;
	case A_WORKDIR:
		if (!wf_path_is_contained(kv->val))
			wf_err(c, kv->line, kv->val_col,
			       "workdir: `%s` must be a relative path inside the workspace "
			       "(no leading / or ..)",
			       kv->val);
		else
			set_text(c, kv, &t->workdir);
		break;
	case A_SLA:
		set_duration(c, kv, &t->sla_ms);
		break;
	default:
		for_each_entry(c, t, kv, add_output);
		break;
	}
}

void wf_attr_apply(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, unsigned *seen,
		   bool *id_given)
{
	int a = attr_index(kv->key);

	if (a < 0)
		return;
	if ((*seen & (1u << a)) && !(REPEATABLE & (1u << a))) {
		wf_err(c, kv->line, kv->key_col, "attribute `%s` is given twice", kv->key);
		return;
	}
	*seen |= 1u << a;
	if (!*kv->val) {
		wf_err(c, kv->line, kv->val_col, "attribute `%s` has no value", kv->key);
		return;
	}
	apply_value(c, t, kv, a, id_given);
}
