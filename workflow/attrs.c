/*
 * attrs.c - a task's attribute list items, `key: value` (SPEC.md section 1).
 *
 * Values are taken from the source text, not from cmark's rendering, so that
 * columns are exact and Markdown punctuation in a value is kept. A value
 * written as one code span (`- only_if: `test -f x``) loses its backticks.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
#include "workflow/internal.h"

const struct wm_attr_info wm_attrs[WM_ATTR_COUNT] = {
#define ATTR_INFO(E, key_, tag_, kind_, field_, repeat_, example_, what_) \
	[WM_ATTR_##E] = { .key = (key_),                                  \
			  .tag = (tag_),                                  \
			  .kind = WM_AK_##kind_,                          \
			  .offset = offsetof(struct wm_task, field_),     \
			  .repeat = (repeat_),                            \
			  .example = (example_),                          \
			  .what = (what_) },
	WM_TASK_ATTRS(ATTR_INFO)
#undef ATTR_INFO
};

/* The C type of each kind's field (attrs.h); a field of another type is a
 * compile error, so the code below may store and read through `offset`. */
#define CTYPE_ID char *
#define CTYPE_IDS char **
#define CTYPE_POLICY char *
#define CTYPE_DURATION uint64_t
#define CTYPE_COUNT unsigned
#define CTYPE_PRIORITY enum wm_priority
#define CTYPE_CONDITION enum wm_condition
#define CTYPE_COMMAND char *
#define CTYPE_IMAGE char *
#define CTYPE_ENV char **
#define CTYPE_DIR char *
#define CTYPE_PATHS char **
#define CTYPE_EXECUTOR enum wm_executor_kind
#define CTYPE_SIZE uint64_t
#define CTYPE_MATRIX struct wm_placed
#define CTYPE_PARAMS struct wm_params
#define CTYPE_FLAG bool
#define CTYPE_GLOBS char **
#define CTYPE_SWITCH enum wm_switch
#define CTYPE_SLA struct wm_sla
#define CHECK_TYPE(E, key, tag, kind, field, ...)                                             \
	_Static_assert(_Generic(((struct wm_task *)0)->field, CTYPE_##kind : 1, default : 0), \
		       "struct wm_task's field for `" key "` is not of its kind's type");
WM_TASK_ATTRS(CHECK_TYPE)
#undef CHECK_TYPE

/* wf_attr_apply()'s `seen` is a bit set of attributes. */
_Static_assert(WM_ATTR_COUNT <= 32, "more attributes than bits in `seen`");

/* Choices as written, in enum order (workflow.h). */
#define CHOICE_NAME(E, name) name,
static const char *const priority_names[] = { WM_PRIORITIES(CHOICE_NAME) };
static const char *const condition_names[] = { WM_CONDITIONS(CHOICE_NAME) };
static const char *const rollback_names[] = { WM_ROLLBACK_MODES(CHOICE_NAME) };
/* Written in a workflow: local or slurm ("inherit" is what not saying means). */
static const char *const executor_names[] = { WM_EXECUTORS(CHOICE_NAME) };
static const char *const level_names[] = { WM_LEVELS(CHOICE_NAME) };
#undef CHOICE_NAME
#define N_NAMES(a) (sizeof(a) / sizeof((a)[0]))

const struct wf_choice wf_priorities = { priority_names, N_NAMES(priority_names) };
const struct wf_choice wf_conditions = { condition_names, N_NAMES(condition_names) };
const struct wf_choice wf_rollback_modes = { rollback_names, N_NAMES(rollback_names) };
const struct wf_choice wf_levels = { level_names, N_NAMES(level_names) };
const struct wf_choice wf_executors = { executor_names + 1, N_NAMES(executor_names) - 1 };

static const char *choice_name(const struct wf_choice *ch, unsigned v)
{
	return v < ch->n ? ch->names[v] : "?";
}

const char *wm_priority_name(enum wm_priority p)
{
	return choice_name(&wf_priorities, (unsigned)p);
}

const char *wm_condition_name(enum wm_condition c)
{
	return choice_name(&wf_conditions, (unsigned)c);
}

const char *wm_rollback_name(enum wm_rollback_mode m)
{
	return choice_name(&wf_rollback_modes, (unsigned)m);
}

const char *wm_executor_name(enum wm_executor_kind k)
{
	return (unsigned)k < N_NAMES(executor_names) ? executor_names[k] : "?";
}

const char *wm_level_name(enum wm_level l)
{
	return choice_name(&wf_levels, (unsigned)l);
}

int wm_level_find(const char *s)
{
	return strcmp(s, "normal") == 0 ? WM_LEVEL_STANDARD : wf_choice_find(&wf_levels, s);
}

int wf_choice_find(const struct wf_choice *ch, const char *s)
{
	for (size_t i = 0; i < ch->n; i++)
		if (strcmp(s, ch->names[i]) == 0)
			return (int)i;
	return -1;
}

char *wf_choice_list(const struct wf_choice *ch)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; i < ch->n; i++)
		wm_buf_addf(&b, "%s%s", i == 0 ? "" : i + 1 < ch->n ? ", " : " or ", ch->names[i]);
	return wm_buf_detach(&b, NULL);
}

int wm_attr_find(const char *key)
{
	for (int i = 0; i < WM_ATTR_COUNT; i++)
		if (strcmp(key, wm_attrs[i].key) == 0)
			return i;
	return -1;
}

/* With a "did you mean" and what that attribute does, else the list. */
static void report_unknown(struct wf_ctx *c, const struct wf_kv *kv)
{
	const char *keys[WM_ATTR_COUNT];
	const char *hint;
	int h;
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; i < WM_ATTR_COUNT; i++)
		keys[i] = wm_attrs[i].key;
	hint = wm_suggest(kv->key, keys, WM_ATTR_COUNT);
	h = hint ? wm_attr_find(hint) : -1;
	if (h >= 0) {
		wf_err(c, kv->line, kv->key_col, "unknown attribute `%s` (did you mean `%s`, %s?)",
		       kv->key, hint, wm_attrs[h].what);
		return;
	}
	for (size_t i = 0; i < WM_ATTR_COUNT; i++)
		wm_buf_addf(&b, "%s%s", i ? ", " : "", keys[i]);
	wf_err(c, kv->line, kv->key_col, "unknown attribute `%s` (the attributes are %s)", kv->key,
	       b.data);
	wm_buf_release(&b);
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

bool wf_is_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static void add_depend(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		       unsigned col, void *field);

/* The length of the entry at p: up to the next comma, except one between
 * brackets when `brackets` (a matrix instance's id, `test[os=a,py=3]`). */
static size_t entry_len(const char *p, bool brackets)
{
	size_t n = 0;
	bool in = false;

	for (; p[n] && (p[n] != ',' || in); n++)
		if (brackets && (p[n] == '[' || p[n] == ']'))
			in = p[n] == '[';
	return n;
}

void wf_for_each_entry(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, wf_entry_fn fn,
		       void *field)
{
	const char *p = kv->val;

	for (;;) {
		size_t n = entry_len(p, fn == add_depend), lead = 0;
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
			fn(c, t, kv, e, col, field);
		}
		if (!p[n])
			break;
		p += n + 1;
	}
}

/* The places go to depends_loc: the DAG reports unknown ids at them. */
static void add_depend(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		       unsigned col, void *field)
{
	char ***ids = field;
	size_t n = wm_strv_len(*ids);

	if (!wf_is_id(e) && !wf_matrix_id_ok(e)) {
		wf_err(c, kv->line, col, "%s: `%s` is not a task id", kv->key, e);
		return;
	}
	wm_strv_push(ids, &n, e);
	t->depends_loc = wm_xrealloc(t->depends_loc, n * sizeof(*t->depends_loc));
	t->depends_loc[n - 1] = (struct wm_loc){ kv->line, col };
}

/* A relative path (or pattern) that stays inside where `what` says. */
static void add_contained(struct wf_ctx *c, const struct wf_kv *kv, const char *e, unsigned col,
			  char ***v, const char *what)
{
	size_t n = wm_strv_len(*v);

	if (!wf_path_is_contained(e)) {
		wf_err(c, kv->line, col, "%s: `%s` must be %s (no leading / or ..)", kv->key, e,
		       what);
		return;
	}
	wm_strv_push(v, &n, e);
}

static void add_path(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		     unsigned col, void *field)
{
	(void)t;
	add_contained(c, kv, e, col, field, "a relative path inside $WM_OUT");
}

static void add_glob(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		     unsigned col, void *field)
{
	(void)t;
	add_contained(c, kv, e, col, field, "a pattern relative to the workspace");
}

static void set_switch(struct wf_ctx *c, const struct wf_kv *kv, enum wm_switch *dst)
{
	if (strcmp(kv->val, "true") == 0)
		*dst = WM_SWITCH_ON;
	else if (strcmp(kv->val, "false") == 0)
		*dst = WM_SWITCH_OFF;
	else
		wf_err(c, kv->line, kv->val_col, "%s: expected true or false, not `%s`", kv->key,
		       kv->val);
}

static void set_duration(struct wf_ctx *c, const struct wf_kv *kv, uint64_t *dst)
{
	struct wm_error *e = NULL;

	if (wm_parse_duration(kv->val, dst, &e) < 0) {
		wf_err(c, kv->line, kv->val_col, "%s: %s", kv->key, e->msg);
		wm_error_free(e);
	}
}

static void set_size(struct wf_ctx *c, const struct wf_kv *kv, uint64_t *dst)
{
	struct wm_error *e = NULL;

	if (wm_parse_size(kv->val, dst, &e) < 0) {
		wf_err(c, kv->line, kv->val_col, "%s: %s", kv->key, e->msg);
		wm_error_free(e);
	}
}

static void set_count(struct wf_ctx *c, const struct wf_kv *kv, unsigned *dst)
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
		       "%s: expected a whole number from 0 to 1000, not `%s`", kv->key, s);
		return;
	}
	*dst = (unsigned)n;
}

/* The index of the value among the choice's names, or -1 after an error. */
static int choose(struct wf_ctx *c, const struct wf_kv *kv, const struct wf_choice *ch)
{
	int v = wf_choice_find(ch, kv->val);
	const char *hint;
	wm_autofree char *all = NULL;

	if (v >= 0)
		return v;
	hint = wm_suggest(kv->val, ch->names, ch->n);
	all = wf_choice_list(ch);
	wf_err(c, kv->line, kv->val_col, "%s: expected %s, not `%s`%s%s%s", kv->key, all, kv->val,
	       hint ? " (did you mean `" : "", hint ? hint : "", hint ? "`?)" : "");
	return -1;
}

static void set_env(struct wf_ctx *c, const struct wf_kv *kv, char ***env)
{
	const char *eq = strchr(kv->val, '=');
	size_t n = wm_strv_len(*env);

	if (!eq || !wm_env_name_ok(kv->val, (size_t)(eq - kv->val))) {
		wf_err(c, kv->line, kv->val_col, "%s: expected NAME=VALUE, not `%s`", kv->key,
		       kv->val);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp((*env)[i], kv->val, (size_t)(eq - kv->val) + 1) == 0) {
			wf_err(c, kv->line, kv->val_col, "%s: `%.*s` is set twice", kv->key,
			       (int)(eq - kv->val), kv->val);
			return;
		}
	}
	wm_strv_push(env, &n, kv->val);
}

static void set_text(const struct wf_kv *kv, char **dst)
{
	free(*dst);
	*dst = wm_xstrdup(kv->val);
}

static void set_id(struct wf_ctx *c, const struct wf_kv *kv, char **dst)
{
	if (!wf_is_id(kv->val))
		wf_err(c, kv->line, kv->val_col,
		       "%s: `%s` is not a valid id (letters, digits, '.', '_', '-'; "
		       "starting with a letter or digit)",
		       kv->key, kv->val);
	else
		set_text(kv, dst);
}

static void set_dir(struct wf_ctx *c, const struct wf_kv *kv, char **dst)
{
	if (!wf_path_is_contained(kv->val))
		wf_err(c, kv->line, kv->val_col,
		       "%s: `%s` must be a relative path inside the workspace "
		       "(no leading / or ..)",
		       kv->key, kv->val);
	else
		set_text(kv, dst);
}

static void set_executor(struct wf_ctx *c, const struct wf_kv *kv, enum wm_executor_kind *dst)
{
	int v = choose(c, kv, &wf_executors);

	if (v >= 0)
		*dst = (enum wm_executor_kind)(v + 1);
}

static void set_flag(struct wf_ctx *c, const struct wf_kv *kv, bool *dst)
{
	if (strcmp(kv->val, "ok") != 0)
		wf_err(c, kv->line, kv->val_col, "%s: the only value is `ok`, not `%s`", kv->key,
		       kv->val);
	else
		*dst = true;
}

/* Checked in full (and its path made absolute) when the image is opened. */
static void set_image(struct wf_ctx *c, const struct wf_kv *kv, char **dst)
{
	if (!wm_str_has_prefix(kv->val, "oci:") && !wm_str_has_prefix(kv->val, "docker-archive:"))
		wf_err(c, kv->line, kv->val_col,
		       "%s: `%s` is not an image: want oci:PATH[:TAG], oci:PATH@sha256:HEX or "
		       "docker-archive:FILE[:NAME:TAG]",
		       kv->key, kv->val);
	else
		set_text(kv, dst);
}

/* Kept as written with its place; matrix.c reads it once the whole list is in. */
static void add_placed(const struct wf_kv *kv, struct wm_placed *p)
{
	size_t n = wm_strv_len(p->vals);

	wm_strv_push(&p->vals, &n, kv->val);
	p->locs = wm_xrealloc(p->locs, n * sizeof(*p->locs));
	p->locs[n - 1] = (struct wm_loc){ kv->line, kv->val_col };
}

static const char *const sla_names[] = {
#define SLA_NAME(E, name) name,
	WM_SLA_LEVELS(SLA_NAME)
#undef SLA_NAME
};

const char *wm_sla_level_name(enum wm_sla_level l)
{
	return (unsigned)l < WM_SLA_LEVEL_COUNT ? sla_names[l] : "?";
}

/* One entry of `sla`: `DURATION [LEVEL]`, LEVEL warn when left out. */
static void add_sla(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *entry,
		    unsigned col, void *field)
{
	struct wm_sla *sla = field;
	size_t dlen = strcspn(entry, " \t");
	const char *level = entry + dlen + strspn(entry + dlen, " \t");
	wm_autofree char *d = wm_xstrndup(entry, dlen);
	struct wm_error *e = NULL;
	uint64_t ms = 0;
	int l = *level ? -1 : WM_SLA_WARN;

	(void)t;
	for (int i = 0; l < 0 && i < WM_SLA_LEVEL_COUNT; i++)
		if (strcmp(level, sla_names[i]) == 0)
			l = i;
	if (l < 0) {
		wf_err(c, kv->line, col + (unsigned)(level - entry),
		       "%s: `%s` is not a level (warn, notify or cancel), e.g. `10m warn, 1h "
		       "cancel`",
		       kv->key, level);
	} else if (wm_parse_duration(d, &ms, &e) < 0 || ms == 0) {
		wf_err(c, kv->line, col, "%s: %s", kv->key,
		       e ? e->msg : "a threshold must be longer than 0");
		wm_error_free(e);
	} else if (sla->ms[l]) {
		wf_err(c, kv->line, col, "%s: level `%s` is given twice", kv->key, sla_names[l]);
	} else {
		sla->ms[l] = ms;
	}
}

/* Reads the value as its kind says into the field at a->offset. */
static void apply_value(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv,
			const struct wm_attr_info *a)
{
	void *field = (char *)t + a->offset;
	int v;

	switch (a->kind) {
	case WM_AK_ID:
		set_id(c, kv, field);
		break;
	case WM_AK_IDS:
		wf_for_each_entry(c, t, kv, add_depend, field);
		break;
	case WM_AK_POLICY:
		set_text(kv, field);
		t->policy_loc = (struct wm_loc){ kv->line, kv->val_col };
		break;
	case WM_AK_DURATION:
		set_duration(c, kv, field);
		break;
	case WM_AK_COUNT:
		set_count(c, kv, field);
		break;
	case WM_AK_PRIORITY:
		if ((v = choose(c, kv, &wf_priorities)) >= 0)
			*(enum wm_priority *)field = (enum wm_priority)v;
		break;
	case WM_AK_CONDITION:
		if ((v = choose(c, kv, &wf_conditions)) >= 0)
			*(enum wm_condition *)field = (enum wm_condition)v;
		break;
	case WM_AK_COMMAND:
		set_text(kv, field);
		break;
	case WM_AK_ENV:
		set_env(c, kv, field);
		break;
	case WM_AK_DIR:
		set_dir(c, kv, field);
		break;
	case WM_AK_PATHS:
		wf_for_each_entry(c, t, kv, add_path, field);
		break;
	case WM_AK_EXECUTOR:
		set_executor(c, kv, field);
		break;
	case WM_AK_SIZE:
		set_size(c, kv, field);
		break;
	case WM_AK_MATRIX:
		add_placed(kv, field);
		break;
	case WM_AK_PARAMS:
		wf_params_attr(c, t, kv);
		break;
	case WM_AK_IMAGE:
		set_image(c, kv, field);
		break;
	case WM_AK_FLAG:
		set_flag(c, kv, field);
		break;
	case WM_AK_GLOBS:
		wf_for_each_entry(c, t, kv, add_glob, field);
		break;
	case WM_AK_SWITCH:
		set_switch(c, kv, field);
		break;
	case WM_AK_SLA:
		wf_for_each_entry(c, t, kv, add_sla, field);
		break;
	}
}

void wf_attr_apply(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, unsigned *seen)
{
	int i = wm_attr_find(kv->key);
	const struct wm_attr_info *a;

	if (i < 0) {
		report_unknown(c, kv);
		return;
	}
	a = &wm_attrs[i];
	if ((*seen & (1u << i)) && !a->repeat) {
		wf_err(c, kv->line, kv->key_col, "attribute `%s` is given twice", kv->key);
		return;
	}
	*seen |= 1u << i;
	if (!*kv->val) {
		wf_err(c, kv->line, kv->val_col, "attribute `%s` has no value (e.g. `- %s: %s`)",
		       kv->key, kv->key, a->example);
		return;
	}
	apply_value(c, t, kv, a);
}
