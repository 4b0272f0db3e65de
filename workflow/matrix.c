/*
 * matrix.c - a task with a `matrix` becomes one task per combination of
 * its axes' values (SPEC.md section 1, README "Matrix tasks").
 *
 * `- matrix: os=debian,alpine; py=3.11,3.12` (repeatable: axes add up)
 * gives the instances test[os=debian,py=3.11], test[os=debian,py=3.12],
 * ... in the order written, the last axis fastest; `matrix_exclude` drops
 * the combinations matching all its pairs, `matrix_include` adds one (a
 * value per axis). An instance is a copy of the task with that id, its
 * values in MATRIX_<AXIS> and WM_MATRIX, and `matrix`/`matrix_of` set.
 * Runs after the whole file is read, before the DAG: a `depends` entry
 * naming the matrix becomes one entry per instance.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
#include "workflow/idmap.h"
#include "workflow/internal.h"

/* Past this many combinations before exclusions nothing is enumerated:
 * the count alone is reported. */
#define ENUMERATE_MAX 100000u

/* A piece of a value: s[0..len), at line:col. */
struct seg {
	const char *s;
	size_t len;
	struct wm_loc loc;
};

struct axis {
	struct seg name;
	struct seg *vals;
	size_t n;
};

/* A pair of a rule: axis index and value. */
struct pair {
	size_t axis;
	struct seg val;
};

struct rule {
	struct pair *pairs;
	size_t n;
};

struct matrix {
	struct axis *axes;
	size_t n_axes;
	struct rule *exclude, *include;
	size_t n_exclude, n_include;
	bool bad;
};

/* Visible characters other than `,;=[]/`: the value is part of an id, a
 * file name and an environment variable. */
static bool is_value(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= ' ' || ch == 0x7f || strchr(",;=[]/", ch))
			return false;
	}
	return true;
}

static bool seg_eq(const struct seg *a, const struct seg *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Splits seg at `sep` into trimmed pieces with their places; caller frees. */
static struct seg *split(const struct seg *in, char sep, size_t *n)
{
	struct seg *out = NULL;
	size_t alloc = 0, i = 0;

	*n = 0;
	for (;;) {
		size_t end = i, lead, len;

		while (end < in->len && in->s[end] != sep)
			end++;
		for (lead = i; lead < end && isspace((unsigned char)in->s[lead]); lead++)
			;
		for (len = end - lead; len && isspace((unsigned char)in->s[lead + len - 1]); len--)
			;
		WM_GROW(out, alloc, *n + 1);
		out[(*n)++] = (struct seg){ in->s + lead,
					    len,
					    { in->loc.line, in->loc.col + (unsigned)lead } };
		if (end >= in->len)
			return out;
		i = end + 1;
	}
}

#define mx_err(c, m, loc, ...) ((m)->bad = true, wf_err((c), (loc).line, (loc).col, __VA_ARGS__))

static long find_axis(const struct matrix *m, const struct seg *name)
{
	for (size_t i = 0; i < m->n_axes; i++)
		if (name->len == m->axes[i].name.len &&
		    strncasecmp(name->s, m->axes[i].name.s, name->len) == 0)
			return (long)i;
	return -1;
}

/* One `name=v1,v2` of a `matrix` value. */
static void add_axis(struct wf_ctx *c, struct matrix *m, const struct seg *s)
{
	const char *eq = memchr(s->s, '=', s->len);
	struct seg name = { s->s, eq ? (size_t)(eq - s->s) : s->len, s->loc };
	struct seg rest;
	struct axis *a;

	while (name.len && isspace((unsigned char)name.s[name.len - 1]))
		name.len--;
	if (!s->len)
		return (void)mx_err(c, m, s->loc,
				    "matrix: empty axis: write `name=value,value` between `;`");
	if (!eq)
		return (void)mx_err(c, m, s->loc,
				    "matrix: `%.*s` has no values: write `%.*s=value,value`",
				    (int)s->len, s->s, (int)s->len, s->s);
	if (!name.len)
		return (void)mx_err(c, m, s->loc, "matrix: an axis needs a name before `=`");
	if (!wm_env_name_ok(name.s, name.len) /* it ends MATRIX_<NAME> */)
		return (void)mx_err(c, m, s->loc,
				    "matrix: `%.*s` is not an axis name (letters, digits and '_', "
				    "not starting with a digit)",
				    (int)name.len, name.s);
	if (find_axis(m, &name) >= 0)
		return (void)mx_err(c, m, s->loc, "matrix: axis `%.*s` is given twice",
				    (int)name.len, name.s);
	m->axes = wm_xrealloc(m->axes, (m->n_axes + 1) * sizeof(*m->axes));
	a = &m->axes[m->n_axes++];
	a->name = name;
	rest = (struct seg){ eq + 1,
			     s->len - (size_t)(eq + 1 - s->s),
			     { s->loc.line, s->loc.col + (unsigned)(eq + 1 - s->s) } };
	a->vals = split(&rest, ',', &a->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct seg *v = &a->vals[i];
		if (!is_value(v->s, v->len))
			mx_err(c, m, v->loc,
			       v->len ? "matrix: `%.*s` is not a matrix value (no spaces, none of "
					"`,;=[]/`)"
				      : "matrix: empty value in axis `%.*s`",
			       (int)(v->len ? v->len : name.len), v->len ? v->s : name.s);
		for (size_t j = 0; j < i; j++)
			if (v->len && seg_eq(v, &a->vals[j]))
				mx_err(c, m, v->loc,
				       "matrix: value `%.*s` is given twice in axis `%.*s`",
				       (int)v->len, v->s, (int)name.len, name.s);
	}
}

static bool axis_has(const struct axis *a, const struct seg *v)
{
	for (size_t i = 0; i < a->n; i++)
		if (seg_eq(&a->vals[i], v))
			return true;
	return false;
}

/* One `axis=value,...` of matrix_exclude (include false) or matrix_include. */
static void add_rule(struct wf_ctx *c, struct matrix *m, const char *key, const struct seg *s,
		     bool include)
{
	size_t n;
	wm_autofree struct seg *ps = split(s, ',', &n);
	struct rule r = { wm_xcalloc(n, sizeof(struct pair)), 0 };
	struct rule **rules = include ? &m->include : &m->exclude;
	size_t *n_rules = include ? &m->n_include : &m->n_exclude;

	for (size_t i = 0; i < n; i++) {
		const char *eq = memchr(ps[i].s, '=', ps[i].len);
		struct seg name = { ps[i].s, eq ? (size_t)(eq - ps[i].s) : 0, ps[i].loc };
		struct seg val = { eq ? eq + 1 : ps[i].s,
				   eq ? ps[i].len - name.len - 1 : 0,
				   { ps[i].loc.line, ps[i].loc.col + (unsigned)name.len + 1 } };
		long ax = eq ? find_axis(m, &name) : -1;
		bool twice = false;

		for (size_t j = 0; ax >= 0 && j < r.n; j++)
			twice = twice || r.pairs[j].axis == (size_t)ax;
		if (!eq)
			mx_err(c, m, ps[i].loc, "%s: expected axis=value, not `%.*s`", key,
			       (int)ps[i].len, ps[i].s);
		else if (ax < 0)
			mx_err(c, m, ps[i].loc, "%s: `%.*s` is not an axis of the matrix", key,
			       (int)name.len, name.s);
		else if (twice)
			mx_err(c, m, ps[i].loc, "%s: axis `%.*s` is given twice", key,
			       (int)name.len, name.s);
		else if (!is_value(val.s, val.len))
			mx_err(c, m, val.loc, "%s: `%.*s` is not a matrix value", key, (int)val.len,
			       val.s);
		else if (!include && !axis_has(&m->axes[ax], &val))
			mx_err(c, m, val.loc, "%s: `%.*s` is not a value of axis `%.*s`", key,
			       (int)val.len, val.s, (int)name.len, name.s);
		else
			r.pairs[r.n++] = (struct pair){ (size_t)ax, val };
	}
	if (include && !m->bad && r.n != m->n_axes)
		mx_err(c, m, s->loc,
		       "%s: give one value for each axis of the matrix (%zu, not %zu)", key,
		       m->n_axes, r.n);
	*rules = wm_xrealloc(*rules, (*n_rules + 1) * sizeof(**rules));
	(*rules)[(*n_rules)++] = r;
}

static void matrix_release(struct matrix *m)
{
	for (size_t i = 0; i < m->n_axes; i++)
		free(m->axes[i].vals);
	free(m->axes);
	for (size_t i = 0; i < m->n_exclude; i++)
		free(m->exclude[i].pairs);
	for (size_t i = 0; i < m->n_include; i++)
		free(m->include[i].pairs);
	free(m->exclude);
	free(m->include);
}

static void read_placed(struct wf_ctx *c, struct matrix *m, const struct wm_placed *p,
			const char *key, int rule)
{
	for (size_t i = 0; p->vals && p->vals[i]; i++) {
		struct seg all = { p->vals[i], strlen(p->vals[i]), p->locs[i] };
		size_t n;
		wm_autofree struct seg *parts = rule ? NULL : split(&all, ';', &n);

		if (rule)
			add_rule(c, m, key, &all, rule > 1);
		else
			for (size_t k = 0; k < n; k++)
				add_axis(c, m, &parts[k]);
	}
}

/* Reads the task's matrix; false after errors. */
static bool read_matrix(struct wf_ctx *c, const struct wm_task *t, struct matrix *m)
{
	memset(m, 0, sizeof(*m));
	read_placed(c, m, &t->matrix_axes, "matrix", 0);
	if (m->bad)
		return false;
	read_placed(c, m, &t->matrix_exclude, "matrix_exclude", 1);
	read_placed(c, m, &t->matrix_include, "matrix_include", 2);
	return !m->bad;
}

/* ---- combinations ---- */

/* A combination: one value per axis, n_axes of them. */
typedef const struct seg *cval;
struct combos {
	cval **v; /* each of n_axes values */
	size_t n, alloc;
};

static bool matches(const struct rule *r, const cval *combo)
{
	for (size_t i = 0; i < r->n; i++)
		if (!seg_eq(&r->pairs[i].val, combo[r->pairs[i].axis]))
			return false;
	return true;
}

static bool excluded(const struct matrix *m, const cval *combo)
{
	for (size_t i = 0; i < m->n_exclude; i++)
		if (matches(&m->exclude[i], combo))
			return true;
	return false;
}

static void push_combo(struct combos *cs, const cval *combo, size_t n_axes)
{
	WM_GROW(cs->v, cs->alloc, cs->n + 1);
	cs->v[cs->n++] = wm_xmalloc(n_axes * sizeof(*combo));
	memcpy(cs->v[cs->n - 1], combo, n_axes * sizeof(*combo));
}

/* The product in order, last axis fastest, without the excluded ones. */
static void enumerate(const struct matrix *m, struct combos *cs)
{
	wm_autofree size_t *idx = wm_xcalloc(m->n_axes, sizeof(*idx));
	wm_autofree cval *combo = wm_xcalloc(m->n_axes, sizeof(*combo));

	for (;;) {
		size_t k = m->n_axes;

		for (size_t i = 0; i < m->n_axes; i++)
			combo[i] = &m->axes[i].vals[idx[i]];
		if (!excluded(m, combo))
			push_combo(cs, combo, m->n_axes);
		while (k > 0 && ++idx[k - 1] == m->axes[k - 1].n)
			idx[--k] = 0;
		if (k == 0)
			return;
	}
}

static bool same_combo(const struct matrix *m, const cval *a, const cval *b)
{
	for (size_t i = 0; i < m->n_axes; i++)
		if (!seg_eq(a[i], b[i]))
			return false;
	return true;
}

static void add_includes(struct wf_ctx *c, struct matrix *m, const struct wm_task *t,
			 struct combos *cs)
{
	wm_autofree cval *combo = wm_xcalloc(m->n_axes, sizeof(*combo));

	for (size_t r = 0; r < m->n_include; r++) {
		const struct rule *inc = &m->include[r];
		bool dup = false;

		for (size_t i = 0; i < inc->n; i++)
			combo[inc->pairs[i].axis] = &inc->pairs[i].val;
		for (size_t i = 0; i < cs->n && !dup; i++)
			dup = same_combo(m, cs->v[i], combo);
		if (dup)
			mx_err(c, m, t->matrix_include.locs[r],
			       "matrix_include: this combination is in the matrix already");
		else
			push_combo(cs, combo, m->n_axes);
	}
}

/* All combinations, or false after an error (too many). */
static bool combinations(struct wf_ctx *c, struct matrix *m, const struct wm_task *t,
			 struct combos *cs)
{
	uint64_t product = 1;
	struct wm_loc at = t->matrix_axes.locs[0];

	for (size_t i = 0; i < m->n_axes; i++)
		product = product > UINT64_MAX / m->axes[i].n ? UINT64_MAX : product * m->axes[i].n;
	if (product > ENUMERATE_MAX) {
		mx_err(c, m, at, "matrix expands to %s%llu tasks; at most %u",
		       product == UINT64_MAX ? "more than " : "", (unsigned long long)product,
		       WM_MATRIX_MAX);
		return false;
	}
	enumerate(m, cs);
	if (cs->n + m->n_include > WM_MATRIX_MAX) {
		mx_err(c, m, at, "matrix expands to %zu tasks; at most %u", cs->n + m->n_include,
		       WM_MATRIX_MAX);
		return false;
	}
	add_includes(c, m, t, cs);
	if (cs->n == 0)
		mx_err(c, m, at, "matrix: matrix_exclude leaves no combination");
	return !m->bad;
}

static void combos_release(struct combos *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i]);
	free(cs->v);
}

/* ---- instances ---- */

static void copy_code(struct wm_code *dst, const struct wm_code *src)
{
	dst->lang = src->lang ? wm_xstrdup(src->lang) : NULL;
	dst->argv = src->argv ? wm_strv_dup(src->argv) : NULL;
	dst->text = src->text ? wm_xstrdup(src->text) : NULL;
}

/* Gives the copy its own attribute values, as their kinds say (attrs.h):
 * a new kind is a compile error here, not a shared pointer. */
static void own_attr(struct wm_task *t, const struct wm_attr_info *a)
{
	void *field = (char *)t + a->offset;

	switch (a->kind) {
	case WM_AK_ID:
	case WM_AK_POLICY:
	case WM_AK_COMMAND:
	case WM_AK_DIR:
	case WM_AK_IMAGE:
		if (*(char **)field)
			*(char **)field = wm_xstrdup(*(char **)field);
		break;
	case WM_AK_IDS:
	case WM_AK_ENV:
	case WM_AK_PATHS:
	case WM_AK_GLOBS:
		if (*(char ***)field)
			*(char ***)field = wm_strv_dup(*(char ***)field);
		break;
	case WM_AK_MATRIX: /* an instance has none */
		*(struct wm_placed *)field = (struct wm_placed){ 0 };
		break;
	case WM_AK_PARAMS: {
		struct wm_params copy;

		wf_params_copy(&copy, field);
		*(struct wm_params *)field = copy;
		break;
	}
	case WM_AK_FLAG:
	case WM_AK_SWITCH:
	case WM_AK_DURATION:
	case WM_AK_COUNT:
	case WM_AK_PRIORITY:
	case WM_AK_CONDITION:
	case WM_AK_EXECUTOR:
	case WM_AK_SIZE:
	case WM_AK_SLA: /* values only */
		break;
	}
}

static void copy_task(struct wm_task *dst, const struct wm_task *src)
{
	size_t n_deps = wm_strv_len(src->depends);

	*dst = *src;
	for (size_t i = 0; i < WM_ATTR_COUNT; i++)
		own_attr(dst, &wm_attrs[i]);
	dst->title = wm_xstrdup(src->title);
	dst->about = src->about ? wm_xstrdup(src->about) : NULL;
	dst->depends_loc = NULL;
	if (n_deps) {
		dst->depends_loc = wm_xmalloc(n_deps * sizeof(*dst->depends_loc));
		memcpy(dst->depends_loc, src->depends_loc, n_deps * sizeof(*dst->depends_loc));
	}
	copy_code(&dst->body, &src->body);
	copy_code(&dst->rollback, &src->rollback);
	dst->matrix_of = NULL;
	dst->matrix = NULL;
}

/* MATRIX_<AXIS>, the variable an axis sets; caller frees. */
static char *axis_var(const struct axis *a)
{
	char *var = wm_xasprintf("MATRIX_%.*s", (int)a->name.len, a->name.s);

	for (char *p = var; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return var;
}

static bool env_sets(const struct wm_task *t, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; t->env && t->env[i]; i++)
		if (strncmp(t->env[i], name, len) == 0 && t->env[i][len] == '=')
			return true;
	return false;
}

/* The task's `env` must leave the matrix's variables to it. */
static bool check_env(struct wf_ctx *c, struct matrix *m, const struct wm_task *t)
{
	if (env_sets(t, "WM_MATRIX"))
		mx_err(c, m, t->matrix_axes.locs[0],
		       "matrix: `env` sets WM_MATRIX, which the "
		       "matrix sets");
	for (size_t i = 0; i < m->n_axes; i++) {
		wm_autofree char *var = axis_var(&m->axes[i]);
		if (env_sets(t, var))
			mx_err(c, m, m->axes[i].name.loc,
			       "matrix: `env` sets %s, which axis `%.*s` sets", var,
			       (int)m->axes[i].name.len, m->axes[i].name.s);
	}
	return !m->bad;
}

static void make_instance(struct wm_task *dst, const struct wm_task *src, const struct matrix *m,
			  const cval *combo)
{
	struct wm_buf suffix = WM_BUF_INIT;
	size_t n = 0, n_env;

	copy_task(dst, src);
	n_env = wm_strv_len(dst->env);
	dst->matrix_of = wm_xstrdup(src->id);
	for (size_t i = 0; i < m->n_axes; i++) {
		const struct axis *a = &m->axes[i];
		wm_autofree char *var = axis_var(a);

		wm_strv_push_owned(&dst->matrix, &n,
				   wm_xasprintf("%.*s=%.*s", (int)a->name.len, a->name.s,
						(int)combo[i]->len, combo[i]->s));
		wm_buf_addf(&suffix, "%s%s", i ? "," : "", dst->matrix[i]);
		wm_strv_push_owned(&dst->env, &n_env,
				   wm_xasprintf("%s=%.*s", var, (int)combo[i]->len, combo[i]->s));
	}
	wm_strv_push_owned(&dst->env, &n_env, wm_xasprintf("WM_MATRIX=%s", suffix.data));
	free(dst->id);
	dst->id = wm_xasprintf("%s[%s]", src->id, suffix.data);
	free(dst->title);
	dst->title = wm_xasprintf("%s [%s]", src->title, suffix.data);
	wm_buf_release(&suffix);
}

bool wf_matrix_id_ok(const char *s)
{
	const char *open = strchr(s, '['), *p;
	size_t len = strlen(s);
	wm_autofree char *base = NULL;

	if (!open || len < 2 || s[len - 1] != ']')
		return false;
	base = wm_xstrndup(s, (size_t)(open - s));
	if (!wf_is_id(base))
		return false;
	for (p = open + 1; p < s + len - 1;) {
		size_t n = strcspn(p, ",]");
		const char *eq = memchr(p, '=', n);

		if (!eq || !wm_env_name_ok(p, (size_t)(eq - p)) ||
		    !is_value(eq + 1, n - (size_t)(eq + 1 - p)))
			return false;
		p += n;
		if (*p == ',' && p + 1 < s + len - 1)
			p++;
		else if (p != s + len - 1)
			return false;
	}
	return p == s + len - 1 && p > open + 1;
}

/* Where each expanded matrix's instances are in the new task list. */
struct span {
	size_t first, n;
};

/* Appends the task's instances to the list; false (nothing appended) after
 * an error in its matrix. */
static bool expand_one(struct wf_ctx *c, const struct wm_task *t, struct wm_task **out,
		       size_t *n_out, size_t *alloc)
{
	struct matrix m;
	struct combos cs = { 0 };
	bool ok = read_matrix(c, t, &m) && check_env(c, &m, t) && combinations(c, &m, t, &cs);

	for (size_t i = 0; ok && i < cs.n; i++) {
		WM_GROW(*out, *alloc, *n_out + 1);
		make_instance(&(*out)[(*n_out)++], t, &m, cs.v[i]);
	}
	combos_release(&cs);
	matrix_release(&m);
	return ok;
}

/* `depends: test` on a matrix: one entry per instance, at the same place. */
static void rewrite_depends(struct wm_task *t, const struct wm_idmap *bases,
			    const struct span *spans, const struct wm_task *all)
{
	char **deps = NULL;
	struct wm_loc *locs = NULL;
	size_t n = 0, alloc = 0;
	bool changed = false;

	for (size_t k = 0; t->depends && t->depends[k]; k++) {
		long s = wm_idmap_get(bases, t->depends[k]);
		size_t first = s >= 0 ? spans[s].first : 0, count = s >= 0 ? spans[s].n : 1;

		changed = changed || s >= 0;
		for (size_t i = 0; i < count; i++) {
			WM_GROW(locs, alloc, n + 1);
			locs[n] = t->depends_loc[k];
			wm_strv_push(&deps, &n, s >= 0 ? all[first + i].id : t->depends[k]);
		}
	}
	if (!changed) {
		wm_strv_free(deps);
		free(locs);
		return;
	}
	wm_strv_free(t->depends);
	free(t->depends_loc);
	t->depends = deps;
	t->depends_loc = locs;
}

static bool has_matrix(struct wf_ctx *c, const struct wm_task *t)
{
	const struct wm_placed *rules[] = { &t->matrix_exclude, &t->matrix_include };

	if (t->matrix_axes.vals)
		return true;
	for (size_t i = 0; i < 2; i++)
		if (rules[i]->vals)
			wf_err(c, rules[i]->locs[0].line, rules[i]->locs[0].col,
			       "%s without a `matrix` on this task",
			       i ? "matrix_include" : "matrix_exclude");
	return false;
}

static void reindex(struct wm_workflow *wf)
{
	wm_idmap_free(wf->index);
	wf->index = wm_idmap_new(wf->n_tasks);
	for (size_t i = 0; i < wf->n_tasks; i++)
		wm_idmap_put(wf->index, wf->tasks[i].id, i);
}

void wf_matrix_expand(struct wf_ctx *c)
{
	struct wm_workflow *wf = c->wf;
	struct wm_task *out = NULL;
	struct span *spans = NULL;
	struct wm_idmap *bases;
	size_t n_out = 0, alloc = 0, n_spans = 0;
	bool any = false;

	for (size_t i = 0; i < wf->n_tasks; i++)
		any = has_matrix(c, &wf->tasks[i]) || any;
	if (!any)
		return;
	bases = wm_idmap_new(wf->n_tasks);
	spans = wm_xcalloc(wf->n_tasks, sizeof(*spans)); /* at most one per task */
	for (size_t i = 0; i < wf->n_tasks; i++) {
		struct wm_task *t = &wf->tasks[i];
		size_t first = n_out;

		if (t->matrix_axes.vals && expand_one(c, t, &out, &n_out, &alloc)) {
			spans[n_spans] = (struct span){ first, n_out - first };
			/* the key is borrowed: an instance's copy of the id */
			wm_idmap_put(bases, out[first].matrix_of, n_spans++);
			wf_task_release(t);
			continue;
		}
		WM_GROW(out, alloc, n_out + 1);
		out[n_out++] = *t; /* moved: a matrix in error stays one task */
	}
	for (size_t i = 0; i < n_out; i++)
		rewrite_depends(&out[i], bases, spans, out);
	wm_idmap_free(bases);
	free(spans);
	free(wf->tasks);
	wf->tasks = out;
	wf->n_tasks = n_out;
	c->tasks_alloc = alloc;
	reindex(wf);
}
