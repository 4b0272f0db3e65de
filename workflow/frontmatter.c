/*
 * frontmatter.c - the YAML front matter of a workflow (SPEC.md section 1).
 *
 * The front matter is the text between a first line `---` and the next line
 * `---`. It is parsed with libyaml's document API; every mark is shifted by
 * the opening line so that positions are those of the original file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "common/yamlguard.h"
#include "workflow/fm_internal.h"

/* clang-format off */
static const char *const fm_keys[] = {
	"name", "policy",	"policies", "max_parallel", "keep_going", "rollback",
	"env",	"interpreters", "executor", "slurm",	    "secrets",	  "params",
	"cache",
	"level",
	/* fm_sched.c */
	"schedule", "jitter", "timezone", "concurrency", "catchup", "notify", "trigger",
};
/* clang-format on */
#define N_FM_KEYS (sizeof(fm_keys) / sizeof(fm_keys[0]))

/* The YAML text starts on line 2 of the file. */
#define FM_FIRST_LINE 2u

unsigned wf_fm_line(const yaml_mark_t *m)
{
	return (unsigned)m->line + FM_FIRST_LINE;
}

unsigned wf_fm_col(const yaml_mark_t *m)
{
	return (unsigned)m->column + 1;
}

/* `---`, or when `end`, also `...` (YAML's end of document). */
static bool is_delim(const struct wf_line *l, bool end)
{
	size_t n = l->len;

	while (n > 3 && (l->s[n - 1] == ' ' || l->s[n - 1] == '\t'))
		n--;
	return n == 3 && (memcmp(l->s, "---", 3) == 0 || (end && memcmp(l->s, "...", 3) == 0));
}

const char *wf_fm_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool wf_fm_is_null(yaml_node_t *n)
{
	const char *s = wf_fm_scalar(n);

	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	       strcmp(s, "NULL") == 0;
}

const char *wf_fm_kind(yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	return "empty";
}

/* A non-empty string value, or NULL after an error at the value. */
const char *wf_fm_string(struct wf_ctx *c, const char *key, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);

	if (!s || !*s || wf_fm_is_null(v)) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `%s` must be a non-empty string, not %s", key,
		       s ? "empty" : wf_fm_kind(v));
		return NULL;
	}
	return s;
}

unsigned long wf_fm_whole(struct wf_ctx *c, const char *key, yaml_node_t *v, unsigned long max)
{
	const char *s = wf_fm_scalar(v);
	unsigned long n = 0;
	char *end = NULL;

	if (s && isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtoul(s, &end, 10);
	}
	if (!s || !end || *end || errno || n < 1 || n > max) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `%s` must be a whole number from 1 to %lu, not `%s`", key, max,
		       s ? s : wf_fm_kind(v));
		return 0;
	}
	return n;
}

static void set_max_parallel(struct wf_ctx *c, yaml_node_t *v)
{
	unsigned long n = wf_fm_whole(c, "max_parallel", v, 65536);

	if (n)
		c->wf->max_parallel = (unsigned)n;
}

/* keep_going, cache: true or false (yes/no, on/off). */
static void set_bool(struct wf_ctx *c, const char *key, yaml_node_t *v, bool *dst)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no",
										  "off" };
	const char *s = wf_fm_scalar(v);

	for (size_t i = 0; s && i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*dst = true;
			return;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*dst = false;
			return;
		}
	}
	wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
	       "front matter `%s` must be true or false, not `%s`", key, s ? s : wf_fm_kind(v));
}

static void set_rollback(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);
	int m = s ? wf_choice_find(&wf_rollback_modes, s) : -1;
	wm_autofree char *all = NULL;

	if (m >= 0) {
		c->wf->rollback = (enum wm_rollback_mode)m;
		return;
	}
	all = wf_choice_list(&wf_rollback_modes);
	wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
	       "front matter `rollback` must be %s, not `%s`", all, s ? s : wf_fm_kind(v));
}

/* `level: strict`: the least validation level of this workflow. "normal"
 * (standard's older name) is not offered in a new file. */
static void set_level(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);
	int l = s ? wm_level_find(s) : -1;
	wm_autofree char *all = NULL;

	c->wf->level_loc = (struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
	if (l >= 0) {
		c->wf->level = (enum wm_level)l;
		return;
	}
	all = wf_choice_list(&wf_levels);
	wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
	       "front matter `level` must be %s, not `%s`", all, s ? s : wf_fm_kind(v));
}

static void set_policies(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_string(c, "policies", v);
	const char *slash;

	if (!s)
		return;
	slash = strrchr(c->wf->path, '/');
	if (s[0] == '/' || !slash)
		c->wf->policies_file = wm_xstrdup(s);
	else
		c->wf->policies_file =
			wm_xasprintf("%.*s/%s", (int)(slash - c->wf->path), c->wf->path, s);
}

static void set_env(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	size_t n = 0;

	if (v->type != YAML_MAPPING_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `env` must be a mapping of NAME: value");
		return;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *val = yaml_document_get_node(doc, p->value);
		const char *ks = wf_fm_scalar(k), *vs = wf_fm_scalar(val);

		if (!ks || !wm_env_name_ok(ks, strlen(ks))) {
			wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
			       "env: `%s` is not a variable name (letters, digits, _)",
			       ks ? ks : wf_fm_kind(k));
			continue;
		}
		if (!vs) {
			wf_err(c, wf_fm_line(&val->start_mark), wf_fm_col(&val->start_mark),
			       "env: the value of `%s` must be a string, not %s", ks,
			       wf_fm_kind(val));
			continue;
		}
		wm_strv_push_owned(&c->wf->env, &n,
				   wm_xasprintf("%s=%s", ks, wf_fm_is_null(val) ? "" : vs));
	}
}

/* `secrets: [API_TOKEN, ...]`: names only. The values come from the
 * caller (wm run --secret), never from the file. */
static void set_secrets(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `secrets` must be a list of variable names, e.g. "
		       "[API_TOKEN]");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *item = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(item);
		unsigned line = wf_fm_line(&item->start_mark), col = wf_fm_col(&item->start_mark);

		if (!s || !wm_env_name_ok(s, strlen(s)))
			wf_err(c, line, col,
			       "secrets: `%s` is not a variable name (letters, digits, _)",
			       s ? s : wf_fm_kind(item));
		else if (wm_str_has_prefix(s, "WM_"))
			wf_err(c, line, col, "secrets: `%s`: names starting with WM_ are wm's own",
			       s);
		else if (wm_strv_contains(c->wf->secrets, s))
			wf_err(c, line, col, "secrets: `%s` is listed twice", s);
		else
			wm_strv_push(&c->wf->secrets, &n, s);
	}
}

static bool is_lang_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+.-", *s))
			return false;
	return true;
}

/* One `lang: [argv...]` entry; 0 or -1 after an error. */
static int add_interpreter(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *k, yaml_node_t *v)
{
	const char *lang = wf_fm_scalar(k);
	char **argv = NULL;
	size_t n = 0;
	struct wm_interpreter *it;

	if (!lang || !is_lang_name(lang))
		return wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
			      "interpreters: `%s` is not a language name",
			      lang ? lang : wf_fm_kind(k)),
		       -1;
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start)
		return wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
			      "interpreters: `%s` must be a non-empty list of strings (its argv), "
			      "e.g. [awk, -f]",
			      lang),
		       -1;
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *a = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(a);

		if (!s || !*s) {
			wf_err(c, wf_fm_line(&a->start_mark), wf_fm_col(&a->start_mark),
			       "interpreters: every argument of `%s` must be a non-empty string",
			       lang);
			wm_strv_free(argv);
			return -1;
		}
		wm_strv_push(&argv, &n, s);
	}
	for (size_t i = 0; i < c->wf->n_interpreters; i++) {
		if (strcmp(c->wf->interpreters[i].lang, lang) == 0) {
			wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
			       "interpreters: `%s` is declared twice", lang);
			wm_strv_free(argv);
			return -1;
		}
	}
	c->wf->interpreters = wm_xrealloc(
		c->wf->interpreters, (c->wf->n_interpreters + 1) * sizeof(*c->wf->interpreters));
	it = &c->wf->interpreters[c->wf->n_interpreters++];
	it->lang = wm_xstrdup(lang);
	it->argv = argv;
	return 0;
}

static void set_interpreters(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `interpreters` must be a mapping of language: [argv...]");
		return;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
		add_interpreter(c, doc, yaml_document_get_node(doc, p->key),
				yaml_document_get_node(doc, p->value));
}

static void set_string(struct wf_ctx *c, const char *key, yaml_node_t *v, char **dst,
		       struct wm_loc *loc)
{
	const char *s = wf_fm_string(c, key, v);

	if (!s)
		return;
	free(*dst);
	*dst = wm_xstrdup(s);
	if (loc)
		*loc = (struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
}

static void apply_key(struct wf_ctx *c, yaml_document_t *doc, const char *key, yaml_node_t *v)
{
	if (strcmp(key, "name") == 0)
		set_string(c, key, v, &c->wf->name, NULL);
	else if (strcmp(key, "policy") == 0)
		set_string(c, key, v, &c->wf->policy, &c->wf->policy_loc);
	else if (strcmp(key, "policies") == 0)
		set_policies(c, v);
	else if (strcmp(key, "max_parallel") == 0)
		set_max_parallel(c, v);
	else if (strcmp(key, "keep_going") == 0)
		set_bool(c, key, v, &c->wf->keep_going);
	else if (strcmp(key, "cache") == 0)
		set_bool(c, key, v, &c->wf->cache);
	else if (strcmp(key, "rollback") == 0)
		set_rollback(c, v);
	else if (strcmp(key, "env") == 0)
		set_env(c, doc, v);
	else if (strcmp(key, "executor") == 0)
		wf_fm_executor(c, v);
	else if (strcmp(key, "slurm") == 0)
		wf_fm_slurm(c, doc, v);
	else if (strcmp(key, "secrets") == 0)
		set_secrets(c, doc, v);
	else if (strcmp(key, "params") == 0)
		wf_fm_params(c, doc, v);
	else if (strcmp(key, "level") == 0)
		set_level(c, v);
	else if (!wf_fm_sched_key(c, doc, key, v))
		set_interpreters(c, doc, v);
}

/* A near miss of a known key is an error: what it meant to set would be
 * silently unset. Any other key is a warning: the file may also serve a
 * site generator (Hugo's `title:`, `date:`), which wm leaves alone. */
static void unknown_key(struct wf_ctx *c, yaml_node_t *k, const char *key)
{
	const char *hint = key ? wm_suggest(key, fm_keys, N_FM_KEYS) : NULL;
	unsigned line = wf_fm_line(&k->start_mark), col = wf_fm_col(&k->start_mark);

	if (!key || hint)
		wf_err(c, line, col, "unknown front matter key `%s`%s%s%s",
		       key ? key : wf_fm_kind(k), hint ? " (did you mean `" : "", hint ? hint : "",
		       hint ? "`?)" : "");
	else
		wf_warn(c, line, col, "front matter key `%s` is not wm's: ignored", key);
}

static void walk_root(struct wf_ctx *c, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	unsigned seen = 0;

	if (!root || wf_fm_is_null(root))
		return; /* empty front matter */
	if (root->type != YAML_MAPPING_NODE) {
		wf_err(c, wf_fm_line(&root->start_mark), wf_fm_col(&root->start_mark),
		       "the front matter must be a mapping of key: value");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key = wf_fm_scalar(k);
		size_t i;

		for (i = 0; key && i < N_FM_KEYS; i++)
			if (strcmp(key, fm_keys[i]) == 0)
				break;
		if (!key || i == N_FM_KEYS) {
			unknown_key(c, k, key);
			continue;
		}
		if (seen & (1u << i)) {
			wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
			       "front matter key `%s` is given twice", key);
			continue;
		}
		seen |= 1u << i;
		apply_key(c, doc, key, v);
	}
}

/* Limits of the front matter, checked while libyaml reads it (yamlguard.h):
 * a handful of keys needs little, and hostile YAML is refused before any
 * document is built from it. Aliases are refused: nothing here needs them. */
static const struct wm_yaml_limits fm_limits = {
	.max_bytes = 1u << 20,
	.max_depth = 16,
	.max_nodes = 10000,
	.what = "front matter",
};

static void parse_yaml(struct wf_ctx *c, const char *text, size_t len)
{
	struct wm_yaml_problem pb;
	yaml_parser_t parser;
	yaml_document_t doc;

	if (wm_yaml_check(text, len, &fm_limits, &pb) < 0) {
		wf_err(c, pb.line + FM_FIRST_LINE - 1, pb.col, "%s%s",
		       pb.syntax ? "front matter is not valid YAML: " : "", pb.msg);
		free(pb.msg);
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		wf_err(c, 1, 1, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m = &parser.problem_mark;
		wf_err(c, wf_fm_line(m), wf_fm_col(m), "front matter is not valid YAML: %s%s%s",
		       parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
		       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return;
	}
	walk_root(c, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

long wf_frontmatter(struct wf_ctx *c)
{
	size_t end;
	const char *start, *stop;

	if (c->n_lines == 0 || !is_delim(&c->lines[0], false))
		return 0;
	for (end = 1; end < c->n_lines; end++)
		if (is_delim(&c->lines[end], true))
			break;
	if (end == c->n_lines) {
		wf_err(c, 1, 1, "unterminated front matter: no closing `---` (or `...`) line");
		return -1;
	}
	start = end > 1 ? c->lines[1].s : c->lines[end].s;
	stop = c->lines[end].s;
	parse_yaml(c, start, (size_t)(stop - start));
	return (long)end + 1;
}
