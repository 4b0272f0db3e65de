/*
 * params.c - parameters: declared by a task (`- params: target,
 * count:int=3`) or by the front matter (`params:`), given values with
 * `wm run -p NAME=VALUE`, handed to the task as PARAM_<NAME>.
 *
 * A value is checked against its type when it is a default (at the place
 * it is written) and when it is given (before anything runs), by the same
 * function, so a default can never be a value the command line may not give.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/fm_internal.h"
#include "workflow/internal.h"

#define TYPE_NAME(E, name) name,
static const char *const type_names[] = { WM_PARAM_TYPES(TYPE_NAME) };
#undef TYPE_NAME
#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

/* Longer values are refused: a parameter is a word, not a file. */
#define MAX_VALUE 4096

const char *wm_param_type_name(enum wm_param_type t)
{
	return (size_t)t < N_TYPES ? type_names[t] : "?";
}

char *wm_param_var(const char *name)
{
	char *v = wm_xasprintf("PARAM_%s", name);

	for (char *p = v; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return v;
}

char *wm_param_describe(const struct wm_param *p)
{
	struct wm_buf b = WM_BUF_INIT;

	wm_buf_addf(&b, "%s (%s", p->name, wm_param_type_name(p->type));
	for (size_t i = 0; p->choices && p->choices[i]; i++)
		wm_buf_addf(&b, "%c%s", i ? '|' : ' ', p->choices[i]);
	if (p->def)
		wm_buf_addf(&b, ", default %s)", p->def);
	else
		wm_buf_addstr(&b, ", required)");
	if (p->help)
		wm_buf_addf(&b, ": %s", p->help);
	return wm_buf_detach(&b, NULL);
}

static bool name_ok(const char *s, size_t len)
{
	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* NULL when `v` is a value of p's type, else what is wrong (static). */
static const char *value_problem(const struct wm_param *p, const char *v)
{
	char *end = NULL;

	if (strlen(v) > MAX_VALUE)
		return "is longer than 4096 bytes";
	switch (p->type) {
	case WM_PARAM_STRING:
		return NULL;
	case WM_PARAM_INT:
		if (!*v || isspace((unsigned char)*v))
			return "is not a whole number";
		errno = 0;
		(void)strtoll(v, &end, 10);
		return *end || errno ? "is not a whole number" : NULL;
	case WM_PARAM_BOOL:
		return strcmp(v, "true") == 0 || strcmp(v, "false") == 0 ? NULL
									 : "is not true or false";
	case WM_PARAM_CHOICE:
		return wm_strv_contains(p->choices, v) ? NULL : "is not one of the choices";
	}
	return "has an unknown type";
}

static char *choices_text(const struct wm_param *p)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; p->choices && p->choices[i]; i++)
		wm_buf_addf(&b, "%s%s", i ? ", " : "", p->choices[i]);
	return wm_buf_detach(&b, NULL);
}

/* "`x` is not a whole number" with the choices when they matter; caller frees. */
static char *describe_problem(const struct wm_param *p, const char *v, const char *why)
{
	wm_autofree char *all = p->type == WM_PARAM_CHOICE ? choices_text(p) : NULL;

	return wm_xasprintf("`%s` %s%s%s%s", v, why, all ? " (" : "", all ? all : "",
			    all ? ")" : "");
}

static void param_release(struct wm_param *p)
{
	free(p->name);
	free(p->def);
	wm_strv_free(p->choices);
	free(p->help);
}

void wf_params_release(struct wm_params *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		param_release(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

void wf_params_copy(struct wm_params *dst, const struct wm_params *src)
{
	dst->n = src->n;
	dst->v = src->n ? wm_xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		const struct wm_param *s = &src->v[i];
		struct wm_param *d = &dst->v[i];

		*d = *s;
		d->name = wm_xstrdup(s->name);
		d->def = s->def ? wm_xstrdup(s->def) : NULL;
		d->choices = s->choices ? wm_strv_dup(s->choices) : NULL;
		d->help = s->help ? wm_xstrdup(s->help) : NULL;
	}
}

static const struct wm_param *params_find(const struct wm_params *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcasecmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}

/* Adds p (taken over) unless its name is taken or its default is wrong. */
static void params_add(struct wf_ctx *c, struct wm_params *ps, struct wm_param *p)
{
	const char *why = p->def ? value_problem(p, p->def) : NULL;

	if (params_find(ps, p->name) ||
	    (ps != &c->wf->params && params_find(&c->wf->params, p->name))) {
		wf_err(c, p->loc.line, p->loc.col, "params: `%s` is declared twice%s", p->name,
		       params_find(ps, p->name) ? "" : " (the front matter declares it)");
	} else if (why) {
		wm_autofree char *msg = describe_problem(p, p->def, why);
		wf_err(c, p->loc.line, p->loc.col, "params: the default of `%s`: %s", p->name, msg);
	} else {
		ps->v = wm_xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
		ps->v[ps->n++] = *p;
		return;
	}
	param_release(p);
}

/* `choice(a|b|c)`: the choices into p; false when malformed. */
static bool parse_choices(struct wm_param *p, const char *s, size_t len)
{
	size_t n = 0;

	if (len < 8 || strncmp(s, "choice(", 7) != 0 || s[len - 1] != ')')
		return false;
	s += 7;
	len -= 8;
	for (;;) {
		size_t w = 0;
		while (w < len && s[w] != '|')
			w++;
		if (w == 0)
			return false;
		wm_strv_push_owned(&p->choices, &n, wm_xstrndup(s, w));
		if (w == len)
			return true;
		s += w + 1;
		len -= w + 1;
	}
}

static bool parse_type(struct wm_param *p, const char *s, size_t len)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		if (strlen(type_names[i]) == len && strncmp(s, type_names[i], len) == 0 &&
		    i != WM_PARAM_CHOICE) {
			p->type = (enum wm_param_type)i;
			return true;
		}
	}
	p->type = WM_PARAM_CHOICE;
	return parse_choices(p, s, len);
}

/* One `name[:type][=default]` entry of `- params:`. */
static void attr_entry(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv, const char *e,
		       unsigned col, void *field)
{
	struct wm_param p = { .loc = { kv->line, col } };
	size_t n = strcspn(e, ":="), tlen;
	const char *rest = e + n;

	(void)t;
	if (!name_ok(e, n)) {
		wf_err(c, kv->line, col,
		       "params: `%.*s` is not a parameter name (letters, digits, _; not starting "
		       "with a digit)",
		       (int)n, e);
		return;
	}
	p.name = wm_xstrndup(e, n);
	if (*rest == ':') {
		tlen = strcspn(rest + 1, "=");
		if (!parse_type(&p, rest + 1, tlen)) {
			wf_err(c, kv->line, col + (unsigned)n + 1,
			       "params: `%.*s` is not a type (string, int, bool or choice(a|b))",
			       (int)tlen, rest + 1);
			param_release(&p);
			return;
		}
		rest += 1 + tlen;
	}
	if (*rest == '=')
		p.def = wm_xstrdup(rest + 1);
	params_add(c, field, &p);
}

void wf_params_attr(struct wf_ctx *c, struct wm_task *t, const struct wf_kv *kv)
{
	wf_for_each_entry(c, t, kv, attr_entry, &t->params);
}

/* ---- front matter: `params:` ---- */

static bool fm_choices(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v, struct wm_param *p)
{
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "params: `choices` of `%s` must be a non-empty list", p->name);
		return false;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		const char *s = wf_fm_scalar(yaml_document_get_node(doc, *i));
		if (!s || !*s) {
			wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
			       "params: every choice of `%s` must be a non-empty string", p->name);
			return false;
		}
		wm_strv_push(&p->choices, &n, s);
	}
	p->type = WM_PARAM_CHOICE;
	return true;
}

static bool fm_type(struct wf_ctx *c, yaml_node_t *v, struct wm_param *p)
{
	const char *s = wf_fm_scalar(v);

	for (size_t i = 0; s && i < N_TYPES; i++) {
		if (strcmp(s, type_names[i]) == 0) {
			if (i == WM_PARAM_CHOICE && !p->choices)
				break;
			p->type = (enum wm_param_type)i;
			return true;
		}
	}
	wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
	       "params: the type of `%s` must be string, int, bool or choice (with `choices`)%s",
	       p->name, s && strcmp(s, "choice") == 0 ? ": `choices` is missing" : "");
	return false;
}

/* `name: {type: int, default: 3, choices: [...], help: "..."}`; false after an error. */
static bool fm_spec(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v, struct wm_param *p)
{
	static const char *const keys[] = { "choices", "type", "default", "help" };
	yaml_node_t *got[4] = { 0 };

	for (yaml_node_pair_t *kp = v->data.mapping.pairs.start; kp < v->data.mapping.pairs.top;
	     kp++) {
		yaml_node_t *k = yaml_document_get_node(doc, kp->key);
		const char *ks = wf_fm_scalar(k);
		size_t i = 0;

		while (ks && i < 4 && strcmp(ks, keys[i]) != 0)
			i++;
		if (!ks || i == 4) {
			const char *hint = ks ? wm_suggest(ks, keys, 4) : NULL;
			wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
			       "params: `%s`: unknown key `%s` (%s%s%s)", p->name, ks ? ks : "?",
			       hint ? "did you mean `"
				    : "the keys are type, default, choices and help",
			       hint ? hint : "", hint ? "`?" : "");
			return false;
		}
		got[i] = yaml_document_get_node(doc, kp->value);
	}
	if (got[0] && !fm_choices(c, doc, got[0], p))
		return false;
	if (got[1] && !fm_type(c, got[1], p))
		return false;
	if (got[2] && !wf_fm_is_null(got[2])) {
		const char *def = wf_fm_scalar(got[2]);
		if (!def)
			return wf_err(c, wf_fm_line(&got[2]->start_mark),
				      wf_fm_col(&got[2]->start_mark),
				      "params: the default of `%s` must be a value, not %s",
				      p->name, wf_fm_kind(got[2])),
			       false;
		p->def = wm_xstrdup(def);
	}
	if (got[3] && wf_fm_string(c, "help", got[3]))
		p->help = wm_xstrdup(wf_fm_scalar(got[3]));
	return true;
}

static void fm_param(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *k, yaml_node_t *v)
{
	const char *name = wf_fm_scalar(k);
	struct wm_param p = { .loc = { wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark) } };

	if (!name || !name_ok(name, strlen(name))) {
		wf_err(c, p.loc.line, p.loc.col,
		       "params: `%s` is not a parameter name (letters, digits, _; not starting "
		       "with a digit)",
		       name ? name : wf_fm_kind(k));
		return;
	}
	p.name = wm_xstrdup(name);
	if (v->type == YAML_MAPPING_NODE) {
		if (!fm_spec(c, doc, v, &p)) {
			param_release(&p);
			return;
		}
	} else if (v->type == YAML_SCALAR_NODE && !wf_fm_is_null(v)) {
		p.def = wm_xstrdup(wf_fm_scalar(v));
	} else if (v->type != YAML_SCALAR_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "params: `%s` must be a default value or a mapping (type, default, "
		       "choices, help)",
		       name);
		param_release(&p);
		return;
	}
	params_add(c, &c->wf->params, &p);
}

void wf_fm_params(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `params` must be a mapping of name: default or name: {type, "
		       "default, choices, help}");
		return;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
		fm_param(c, doc, yaml_document_get_node(doc, p->key),
			 yaml_document_get_node(doc, p->value));
}

/* ---- binding values ---- */

/* The value `assign` gives `name` (the last one), or NULL. */
static const char *given(char *const *assign, const char *name)
{
	const char *v = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; assign && assign[i]; i++)
		if (strncasecmp(assign[i], name, len) == 0 && assign[i][len] == '=')
			v = assign[i] + len + 1;
	return v;
}

int wm_workflow_check_param_names(const struct wm_workflow *wf, char *const *assign,
				  struct wm_diags *d)
{
	size_t before = d->n_errors;
	size_t n = wf->params.n, k = 0;

	for (size_t i = 0; i < wf->n_tasks; i++)
		n += wf->tasks[i].params.n;
	wm_autofree const char **names = wm_xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < wf->params.n; i++)
		names[k++] = wf->params.v[i].name;
	for (size_t i = 0; i < wf->n_tasks; i++)
		for (size_t j = 0; j < wf->tasks[i].params.n; j++)
			names[k++] = wf->tasks[i].params.v[j].name;
	for (size_t i = 0; assign && assign[i]; i++) {
		size_t len = strcspn(assign[i], "=");
		wm_autofree char *name = wm_xstrndup(assign[i], len);
		size_t j = 0;
		const char *hint;

		while (j < k && strcasecmp(names[j], name) != 0)
			j++;
		if (j < k)
			continue;
		hint = wm_suggest(name, names, k);
		wm_diags_error(d, NULL, 0, 0, "-p %s: %s has no parameter `%s`%s%s%s", assign[i],
			       wf->path, name, hint ? " (did you mean `" : "", hint ? hint : "",
			       hint ? "`?)" : "");
	}
	return d->n_errors > before ? -1 : 0;
}

/* Adds p's value to *env, or reports why there is none. */
static void bind_one(const struct wm_workflow *wf, const struct wm_task *t,
		     const struct wm_param *p, char *const *assign, char ***env, size_t *n,
		     struct wm_diags *d)
{
	const char *v = given(assign, p->name), *why;
	wm_autofree char *var = wm_param_var(p->name);

	if (!v && !p->def) {
		wm_diags_error(d, NULL, 0, 0,
			       "parameter `%s`%s%s%s of %s is required: give it with -p %s=VALUE",
			       p->name, t ? " (task `" : "", t ? t->id : "", t ? "`)" : "",
			       wf->path, p->name);
		return;
	}
	if (!v)
		v = p->def;
	else if ((why = value_problem(p, v))) {
		wm_autofree char *msg = describe_problem(p, v, why);
		wm_diags_error(d, NULL, 0, 0, "-p %s=%s: parameter `%s` (%s): %s", p->name, v,
			       p->name, wm_param_type_name(p->type), msg);
		return;
	}
	wm_strv_push_owned(env, n, wm_xasprintf("%s=%s", var, v));
}

int wm_workflow_bind_params(struct wm_workflow *wf, char *const *assign, struct wm_diags *d)
{
	size_t before = d->n_errors;
	char **shared = NULL;
	size_t n_shared = 0;

	for (size_t i = 0; i < wf->params.n; i++)
		bind_one(wf, NULL, &wf->params.v[i], assign, &shared, &n_shared, d);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		struct wm_task *t = &wf->tasks[i];
		size_t n = n_shared;

		wm_strv_free(t->param_env);
		t->param_env = n_shared || t->params.n ? wm_strv_dup(shared) : NULL;
		for (size_t j = 0; j < t->params.n; j++)
			bind_one(wf, t, &t->params.v[j], assign, &t->param_env, &n, d);
	}
	wm_strv_free(shared);
	return d->n_errors > before ? -1 : 0;
}
