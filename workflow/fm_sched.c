/*
 * fm_sched.c - the front matter of a scheduled workflow: `schedule`
 * (common/schedule.h), `jitter`, `timezone`, `concurrency`, `catchup`, and
 * the `notify:` list of where its events go, and `trigger:` (a webhook of
 * `wm serve` that starts it).
 *
 * Only the text is checked here; whether a zone exists on this host is the
 * orchestrator's question (it reads the system's zone database).
 */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "workflow/fm_internal.h"

#define CHOICE_NAME(E, name) name,
static const char *const concurrency_names[] = { WM_CONCURRENCY_MODES(CHOICE_NAME) };
static const char *const event_names[] = { WM_NOTIFY_EVENTS(CHOICE_NAME) };
#undef CHOICE_NAME
static const char *const catchup_names[] = { "none", "latest" };
static const struct wf_choice concurrency_choice = { concurrency_names, 3 };
static const struct wf_choice catchup_choice = { catchup_names, 2 };
static const struct wf_choice event_choice = { event_names, WM_NOTIFY_COUNT };

static const char *const notify_keys[] = { "on",      "webhook", "secret_env", "timeout",
					   "retries", "command", "policy" };
#define N_NOTIFY_KEYS (sizeof(notify_keys) / sizeof(notify_keys[0]))

/* The longest a webhook attempt may take, and the most retries. */
#define MAX_TIMEOUT_MS (5 * 60 * 1000)
#define MAX_RETRIES 10

const char *wm_notify_event_name(enum wm_notify_event e)
{
	return (unsigned)e < WM_NOTIFY_COUNT ? event_names[e] : "?";
}

int wm_notify_event_find(const char *name)
{
	return wf_choice_find(&event_choice, name);
}

const char *wm_concurrency_name(enum wm_concurrency c)
{
	return (unsigned)c < concurrency_choice.n ? concurrency_names[c] : "?";
}

#define ERR_AT(c, n, ...) \
	wf_err(c, wf_fm_line(&(n)->start_mark), wf_fm_col(&(n)->start_mark), __VA_ARGS__)

static void set_schedule(struct wf_ctx *c, yaml_node_t *v)
{
	struct wm_sched_spec *sp = &c->wf->sched;
	const char *s = wf_fm_string(c, "schedule", v);
	struct wm_error *e = NULL;
	size_t at = 0;
	unsigned quoted;

	if (!s)
		return;
	sp->loc = (struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
	if (wm_schedule_parse(s, &sp->when, &at, &e) < 0) {
		quoted = v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			 v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		wf_err(c, sp->loc.line, sp->loc.col + quoted + (unsigned)at, "schedule: %s",
		       e->msg);
		wm_error_free(e);
		return;
	}
	sp->expr = wm_xstrdup(s);
}

static void set_jitter(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_string(c, "jitter", v);
	struct wm_error *e = NULL;

	if (s && wm_parse_duration(s, &c->wf->sched.jitter_ms, &e) < 0) {
		ERR_AT(c, v, "front matter `jitter`: %s", e->msg);
		wm_error_free(e);
	}
}

static void set_timezone(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_string(c, "timezone", v);

	if (!s)
		return;
	if (!wm_schedule_tz_name_ok(s)) {
		ERR_AT(c, v,
		       "front matter `timezone` must be an IANA zone name such as "
		       "Europe/Berlin or UTC, not `%s`",
		       s);
		return;
	}
	c->wf->sched.timezone = wm_xstrdup(s);
	c->wf->sched.timezone_loc =
		(struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
}

/* `key: one of the choice's names`: its index, or -1 after an error. */
static int choose(struct wf_ctx *c, const char *key, const struct wf_choice *ch, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);
	int k = s ? wf_choice_find(ch, s) : -1;
	wm_autofree char *all = NULL;

	if (k >= 0)
		return k;
	all = wf_choice_list(ch);
	ERR_AT(c, v, "%s must be %s, not `%s`", key, all, s ? s : wf_fm_kind(v));
	return -1;
}

/* `on: [run.failed, task.failed]` or `on: run.failed`. */
static unsigned parse_on(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	unsigned on = 0;
	int k;

	if (v->type == YAML_SCALAR_NODE) {
		k = choose(c, "notify.on", &event_choice, v);
		return k < 0 ? 0 : 1u << k;
	}
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start) {
		ERR_AT(c, v, "notify.on must be a non-empty list of events, e.g. [run.failed]");
		return 0;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		k = choose(c, "notify.on", &event_choice, yaml_document_get_node(doc, *i));
		if (k >= 0)
			on |= 1u << k;
	}
	return on;
}

static char **parse_argv(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	char **argv = NULL;
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start) {
		ERR_AT(c, v,
		       "notify.command must be a non-empty list (its argv), e.g. "
		       "[/usr/bin/logger, -t, wm]");
		return NULL;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *a = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(a);

		if (!s || !*s) {
			ERR_AT(c, a, "notify.command: every argument must be a non-empty string");
			wm_strv_free(argv);
			return NULL;
		}
		wm_strv_push(&argv, &n, s);
	}
	return argv;
}

static void set_webhook(struct wf_ctx *c, struct wm_notify *nt, yaml_node_t *v)
{
	const char *s = wf_fm_string(c, "notify.webhook", v);

	if (!s)
		return;
	if (!wm_str_has_prefix(s, "http://") && !wm_str_has_prefix(s, "https://")) {
		ERR_AT(c, v, "notify.webhook must be an http:// or https:// URL, not `%s`", s);
		return;
	}
	nt->webhook = wm_xstrdup(s);
}

static void set_secret_env(struct wf_ctx *c, struct wm_notify *nt, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);

	if (!s || !wm_env_name_ok(s, strlen(s))) {
		ERR_AT(c, v, "notify.secret_env must name an environment variable, not `%s`",
		       s ? s : wf_fm_kind(v));
		return;
	}
	nt->secret_env = wm_xstrdup(s);
}

static void set_timeout(struct wf_ctx *c, struct wm_notify *nt, yaml_node_t *v)
{
	const char *s = wf_fm_string(c, "notify.timeout", v);
	struct wm_error *e = NULL;
	uint64_t ms = 0;

	if (!s)
		return;
	if (wm_parse_duration(s, &ms, &e) < 0 || ms == 0 || ms > MAX_TIMEOUT_MS) {
		ERR_AT(c, v, "notify.timeout must be a duration from 1ms to 5m, not `%s`", s);
		wm_error_free(e);
		return;
	}
	nt->timeout_ms = ms;
}

static void set_retries(struct wf_ctx *c, struct wm_notify *nt, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);
	char *end = NULL;
	unsigned long n = s ? strtoul(s, &end, 10) : 0;

	if (!s || !*s || *end || *s == '-' || n > MAX_RETRIES) {
		ERR_AT(c, v, "notify.retries must be a whole number from 0 to %d, not `%s`",
		       MAX_RETRIES, s ? s : wf_fm_kind(v));
		return;
	}
	nt->retries = (unsigned)n;
}

static void notify_key(struct wf_ctx *c, yaml_document_t *doc, size_t key, yaml_node_t *v,
		       void *ctx)
{
	struct wm_notify *nt = ctx;

	switch (key) {
	case 0:
		nt->on = parse_on(c, doc, v);
		break;
	case 1:
		set_webhook(c, nt, v);
		break;
	case 2:
		set_secret_env(c, nt, v);
		break;
	case 3:
		set_timeout(c, nt, v);
		break;
	case 4:
		set_retries(c, nt, v);
		break;
	case 5:
		nt->command = parse_argv(c, doc, v);
		break;
	default: {
		const char *s = wf_fm_string(c, "notify.policy", v);
		if (s)
			nt->policy = wm_xstrdup(s);
	}
	}
}

/* Calls fn with the index in keys of each key of mapping v; an unknown key
 * (with "did you mean" for a near miss) or one given twice is an error at
 * it, prefixed by `what`. Returns the bit set of keys given. */
typedef void (*key_fn)(struct wf_ctx *c, yaml_document_t *doc, size_t key, yaml_node_t *v,
		       void *ctx);
static unsigned walk_map(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v, const char *what,
			 const char *const *keys, size_t n, key_fn fn, void *ctx)
{
	unsigned seen = 0;

	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *key = wf_fm_scalar(k), *hint;
		size_t i;

		for (i = 0; key && i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (key && i < n && !(seen & (1u << i))) {
			seen |= 1u << i;
			fn(c, doc, i, yaml_document_get_node(doc, p->value), ctx);
			continue;
		}
		hint = key ? wm_suggest(key, keys, n) : NULL;
		ERR_AT(c, k, "%s: %s key `%s`%s%s%s", what, key && i < n ? "repeated" : "unknown",
		       key ? key : wf_fm_kind(k), hint ? " (did you mean `" : "", hint ? hint : "",
		       hint ? "`?)" : "");
	}
	return seen;
}

/* A webhook or a command, not both; what belongs to the other is refused. */
static void check_target(struct wf_ctx *c, yaml_node_t *v, unsigned seen)
{
	bool hook = seen & (1u << 1), cmd = seen & (1u << 5);

	if (!(seen & 1u))
		ERR_AT(c, v, "notify: each entry needs `on:` (the events it is for)");
	if (hook == cmd)
		ERR_AT(c, v, "notify: each entry needs either `webhook: URL` or `command: [argv]`");
	else if (hook && (seen & (1u << 6)))
		ERR_AT(c, v, "notify: `policy` is for a command; a webhook is sent by wm itself");
	else if (cmd && (seen & (1u << 2 | 1u << 3 | 1u << 4)))
		ERR_AT(c, v, "notify: `secret_env`, `timeout` and `retries` are a webhook's");
}

static void add_notify(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	struct wm_notify nt = { .timeout_ms = 5000, .retries = 3 };
	unsigned seen = 0;

	nt.loc = (struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
	if (v->type != YAML_MAPPING_NODE) {
		ERR_AT(c, v,
		       "notify: each entry must be a mapping, e.g. {on: [run.failed], "
		       "webhook: https://...}");
		return;
	}
	seen = walk_map(c, doc, v, "notify", notify_keys, N_NOTIFY_KEYS, notify_key, &nt);
	check_target(c, v, seen);
	c->wf->notify = wm_xrealloc(c->wf->notify, (c->wf->n_notify + 1) * sizeof(nt));
	c->wf->notify[c->wf->n_notify++] = nt;
}

static void set_notify(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE) {
		ERR_AT(c, v,
		       "front matter `notify` must be a list of {on: [...], webhook: URL} "
		       "or {on: [...], command: [argv]}");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++)
		add_notify(c, doc, yaml_document_get_node(doc, *i));
}

static bool hook_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && !strchr("_-", *s))
			return false;
	return true;
}

static void trigger_paths(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top == v->data.sequence.items.start) {
		ERR_AT(c, v,
		       "trigger.paths must be a non-empty list of globs, e.g. [\"src/**/*.c\"]");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *p = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(p);

		if (!s || !*s || !wf_path_is_contained(s))
			ERR_AT(c, p,
			       "trigger.paths: `%s` is not a pattern relative to the workspace",
			       s ? s : wf_fm_kind(p));
		else
			wm_strv_push(&c->wf->trigger.paths, &n, s);
	}
}

static void trigger_params(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		ERR_AT(c, v, "trigger.params must be a list of body fields, e.g. [ref, sha]");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *p = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(p);

		if (!s || !wm_env_name_ok(s, strlen(s)) || wm_str_has_prefix(s, "WM_"))
			ERR_AT(c, p,
			       "trigger.params: `%s` is not a variable name (letters, digits, "
			       "_; not WM_...)",
			       s ? s : wf_fm_kind(p));
		else
			wm_strv_push(&c->wf->trigger.params, &n, s);
	}
}

static void trigger_key(struct wf_ctx *c, yaml_document_t *doc, size_t key, yaml_node_t *v,
			void *ctx)
{
	struct wm_trigger *t = &c->wf->trigger;
	const char *s;

	(void)ctx;
	if (key == 0) {
		s = wf_fm_scalar(v);
		if (!s || !hook_name_ok(s))
			ERR_AT(c, v,
			       "trigger.webhook must be a hook name ([a-z0-9_-], at most 64), "
			       "not `%s`",
			       s ? s : wf_fm_kind(v));
		else
			t->webhook = wm_xstrdup(s);
	} else if (key == 1) {
		s = wf_fm_scalar(v);
		if (!s || !wm_env_name_ok(s, strlen(s)))
			ERR_AT(c, v, "trigger.secret_env must name an environment variable");
		else
			t->secret_env = wm_xstrdup(s);
	} else if (key == 2) {
		trigger_params(c, doc, v);
	} else {
		trigger_paths(c, doc, v);
	}
}

/* `trigger: {webhook: NAME, secret_env: VAR, params: [a, b], paths: [g]}`. */
static void set_trigger(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	static const char *const keys[] = { "webhook", "secret_env", "params", "paths" };

	c->wf->trigger.loc =
		(struct wm_loc){ wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark) };
	if (v->type != YAML_MAPPING_NODE) {
		ERR_AT(c, v,
		       "front matter `trigger` must be a mapping: {webhook: NAME, secret_env: "
		       "VAR, params: [...]}");
		return;
	}
	walk_map(c, doc, v, "trigger", keys, 4, trigger_key, NULL);
	if (!c->wf->trigger.webhook && !c->wf->trigger.paths)
		ERR_AT(c, v, "trigger needs `webhook: NAME` or `paths: [globs]`");
	else if (c->wf->trigger.webhook && !c->wf->trigger.secret_env)
		ERR_AT(c, v, "trigger: a webhook needs `secret_env` (its requests are signed)");
}

bool wf_fm_sched_key(struct wf_ctx *c, yaml_document_t *doc, const char *key, yaml_node_t *v)
{
	int k;

	if (strcmp(key, "schedule") == 0) {
		set_schedule(c, v);
	} else if (strcmp(key, "jitter") == 0) {
		set_jitter(c, v);
	} else if (strcmp(key, "timezone") == 0) {
		set_timezone(c, v);
	} else if (strcmp(key, "concurrency") == 0) {
		if ((k = choose(c, "front matter `concurrency`", &concurrency_choice, v)) >= 0)
			c->wf->sched.concurrency = (enum wm_concurrency)k;
	} else if (strcmp(key, "catchup") == 0) {
		if ((k = choose(c, "front matter `catchup`", &catchup_choice, v)) >= 0)
			c->wf->sched.catchup = (enum wm_catchup)k;
	} else if (strcmp(key, "notify") == 0) {
		set_notify(c, doc, v);
	} else if (strcmp(key, "trigger") == 0) {
		set_trigger(c, doc, v);
	} else {
		return false;
	}
	return true;
}

void wf_sched_release(struct wm_workflow *wf)
{
	free(wf->sched.expr);
	free(wf->sched.timezone);
	for (size_t i = 0; i < wf->n_notify; i++) {
		free(wf->notify[i].webhook);
		free(wf->notify[i].secret_env);
		wm_strv_free(wf->notify[i].command);
		free(wf->notify[i].policy);
	}
	free(wf->notify);
	free(wf->trigger.webhook);
	free(wf->trigger.secret_env);
	wm_strv_free(wf->trigger.params);
	wm_strv_free(wf->trigger.paths);
}
