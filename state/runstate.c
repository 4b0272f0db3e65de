/*
 * runstate.c - the run model, its id index, and its JSON form.
 */
#include "state/runstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"

static const char *const run_names[WM_RUN_STATUS_COUNT] = { WM_RUN_STATUSES(WM_XLIST_NAME) };
static const char *const task_names[WM_TASK_STATUS_COUNT] = { WM_TASK_STATUSES(WM_XLIST_NAME) };

/* The numbers of states written before "waiting" existed stay what they were. */
_Static_assert(WM_RUN_PENDING == 0 && WM_RUN_RUNNING == 1 && WM_RUN_SUCCEEDED == 2 &&
		       WM_RUN_FAILED == 3 && WM_RUN_CANCELLED == 4 && WM_RUN_INTERRUPTED == 5,
	       "run states keep their numbers");
_Static_assert(WM_TASK_PENDING == 0 && WM_TASK_RUNNING == 1 && WM_TASK_SUCCEEDED == 2 &&
		       WM_TASK_FAILED == 3 && WM_TASK_SKIPPED == 4 && WM_TASK_CANCELLED == 5 &&
		       WM_TASK_WAITING == 6 && WM_TASK_CACHED == 7,
	       "task states keep their numbers");

const char *wm_run_status_name(enum wm_run_status s)
{
	return (unsigned)s < WM_RUN_STATUS_COUNT ? run_names[s] : "unknown";
}

int wm_run_status_parse(const char *name)
{
	return wm_xlist_index(run_names, WM_RUN_STATUS_COUNT, name);
}

const char *wm_task_status_name(enum wm_task_status s)
{
	return (unsigned)s < WM_TASK_STATUS_COUNT ? task_names[s] : "unknown";
}

int wm_task_status_parse(const char *name)
{
	return wm_xlist_index(task_names, WM_TASK_STATUS_COUNT, name);
}

struct wm_run_state *wm_run_state_new(const char *run_id)
{
	struct wm_run_state *rs = wm_xcalloc(1, sizeof(*rs));

	rs->run_id = wm_xstrdup(run_id ? run_id : "");
	return rs;
}

void wm_task_state_release(struct wm_task_state *t)
{
	free(t->id);
	free(t->definition_hash);
	free(t->policy);
	free(t->limit);
	wm_strv_free(t->denied);
	for (size_t i = 0; i < t->n_decisions; i++) {
		free(t->decisions[i].what);
		free(t->decisions[i].why);
	}
	free(t->decisions);
	free(t->out_dir);
	free(t->cache_key);
	free(t->cache_run);
	memset(t, 0, sizeof(*t));
}

void wm_run_state_free(struct wm_run_state *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_tasks; i++)
		wm_task_state_release(&rs->tasks[i]);
	free(rs->tasks);
	free(rs->index_);
	free(rs->run_id);
	free(rs->workflow_path);
	free(rs->workflow_hash);
	free(rs->name);
	wm_holder_release(&rs->orchestrator);
	free(rs);
}

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Slot for id: either holding it, or the empty slot where it would go. */
static size_t slot_of(const struct wm_run_state *rs, const char *id)
{
	size_t mask = rs->index_cap_ - 1, i = hash_str(id) & mask;

	while (rs->index_[i] && strcmp(rs->tasks[rs->index_[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

static void index_grow(struct wm_run_state *rs)
{
	size_t cap = rs->index_cap_ ? rs->index_cap_ * 2 : 16;

	free(rs->index_);
	rs->index_ = wm_xcalloc(cap, sizeof(*rs->index_));
	rs->index_cap_ = cap;
	for (size_t t = 0; t < rs->n_tasks; t++)
		rs->index_[slot_of(rs, rs->tasks[t].id)] = t + 1;
}

long wm_run_state_index(const struct wm_run_state *rs, const char *id)
{
	size_t s;

	if (!rs->index_cap_ || !id)
		return -1;
	s = slot_of(rs, id);
	return rs->index_[s] ? (long)rs->index_[s] - 1 : -1;
}

struct wm_task_state *wm_run_state_find(const struct wm_run_state *rs, const char *id)
{
	long i = wm_run_state_index(rs, id);

	return i < 0 ? NULL : &rs->tasks[i];
}

long wm_run_state_add_task(struct wm_run_state *rs, const char *id, struct wm_error **err)
{
	struct wm_task_state *t;

	if (!id || !*id)
		return wm_error_setx(err, WM_EXIT_USAGE, "empty task id");
	if (wm_run_state_index(rs, id) >= 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "duplicate task id '%s'", id);
	if ((rs->n_tasks + 1) * 2 > rs->index_cap_)
		index_grow(rs);
	WM_GROW(rs->tasks, rs->alloc_tasks, rs->n_tasks + 1);
	t = &rs->tasks[rs->n_tasks];
	memset(t, 0, sizeof(*t));
	t->id = wm_xstrdup(id);
	t->exit_code = -1;
	rs->index_[slot_of(rs, id)] = ++rs->n_tasks;
	return (long)rs->n_tasks - 1;
}

void wm_task_add_decision(struct wm_task_state *t, long long at_ms, unsigned attempt,
			  const char *what, const char *why)
{
	struct wm_decision *d;

	WM_GROW(t->decisions, t->alloc_decisions, t->n_decisions + 1);
	d = &t->decisions[t->n_decisions++];
	d->at_ms = at_ms;
	d->attempt = attempt;
	d->what = wm_xstrdup(what ? what : "");
	d->why = wm_xstrdup(why ? why : "");
}

void wm_task_add_denied(struct wm_task_state *t, const char *syscall)
{
	if (!wm_strv_contains(t->denied, syscall))
		wm_strv_push(&t->denied, &t->n_denied, syscall);
}

void wm_run_state_set_audit(struct wm_run_state *rs, const struct wm_audit *a)
{
	rs->audit.seq = wm_audit_seq(a);
	snprintf(rs->audit.mac, sizeof(rs->audit.mac), "%s", wm_audit_mac(a));
	wm_audit_prefix(a, &rs->audit.prefix);
}

void wm_run_state_count(const struct wm_run_state *rs, size_t counts[WM_TASK_STATUS_COUNT])
{
	memset(counts, 0, sizeof(size_t) * WM_TASK_STATUS_COUNT);
	for (size_t i = 0; i < rs->n_tasks; i++)
		if ((unsigned)rs->tasks[i].state < WM_TASK_STATUS_COUNT)
			counts[rs->tasks[i].state]++;
}

static long long max_ll(long long a, long long b)
{
	return a > b ? a : b;
}

long long wm_run_state_last_event_ms(const struct wm_run_state *rs)
{
	long long m = max_ll(rs->created_ms, max_ll(rs->started_ms, rs->ended_ms));

	for (size_t i = 0; i < rs->n_tasks; i++) {
		const struct wm_task_state *t = &rs->tasks[i];

		m = max_ll(m, max_ll(t->started_ms, t->ended_ms));
		for (size_t d = 0; d < t->n_decisions; d++)
			m = max_ll(m, t->decisions[d].at_ms);
	}
	return m;
}

/* ---- JSON out. json_object_set_new steals the value it is given. ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *wm_task_state_to_json(const struct wm_task_state *t)
{
	json_t *o = json_object();
	json_t *denied = json_array();
	json_t *decisions = json_array();

	json_object_set_new(o, "state", json_string(wm_task_status_name(t->state)));
	json_object_set_new(o, "attempts", json_integer(t->attempts));
	if (t->lost)
		json_object_set_new(o, "lost_attempts", json_integer(t->lost));
	if (t->kept)
		json_object_set_new(o, "kept", json_true());
	json_object_set_new(o, "exit_code",
			    t->exit_code >= 0 ? json_integer(t->exit_code) : json_null());
	json_object_set_new(o, "signal", t->signal ? json_integer(t->signal) : json_null());
	json_object_set_new(o, "started_ms", json_integer(t->started_ms));
	json_object_set_new(o, "ended_ms", json_integer(t->ended_ms));
	json_object_set_new(o, "definition_hash", str_or_null(t->definition_hash));
	json_object_set_new(o, "policy", str_or_null(t->policy));
	json_object_set_new(o, "limit", str_or_null(t->limit));
	for (size_t i = 0; i < t->n_denied; i++)
		json_array_append_new(denied, json_string(t->denied[i])); /* steals */
	json_object_set_new(o, "denied", denied);
	for (size_t i = 0; i < t->n_decisions; i++) {
		const struct wm_decision *d = &t->decisions[i];

		json_array_append_new(decisions, json_pack("{s:I, s:I, s:s, s:s}", "at_ms",
							   (json_int_t)d->at_ms, "attempt",
							   (json_int_t)d->attempt, "what", d->what,
							   "why", d->why));
	}
	json_object_set_new(o, "decisions", decisions);
	json_object_set_new(o, "out_dir", str_or_null(t->out_dir));
	if (t->cache_key)
		json_object_set_new(
			o, "cache",
			json_pack("{s:s, s:s?}", "key", t->cache_key, "run", t->cache_run));
	return o;
}

/* Everything of the checkpoint object but task_order and tasks. New ref. */
/* {"last_seq", "last_mac", "prefix": {"bytes", "seq", "mac", "hash"}};
 * the prefix only once the log has been hashed. */
static json_t *audit_json(const struct wm_run_state *rs)
{
	const struct wm_audit_prefix *p = &rs->audit.prefix;
	json_t *o = json_pack("{s:I, s:s}", "last_seq", (json_int_t)rs->audit.seq, "last_mac",
			      rs->audit.mac);

	if (p->bytes)
		json_object_set_new(o, "prefix",
				    json_pack("{s:I, s:I, s:s, s:s}", "bytes", (json_int_t)p->bytes,
					      "seq", (json_int_t)p->seq, "mac", p->mac, "hash",
					      p->hash));
	return o;
}

static json_t *header_json(const struct wm_run_state *rs, uint64_t journal_seq)
{
	json_t *o = json_object();
	const struct wm_holder *h = &rs->orchestrator;

	json_object_set_new(o, "format", json_string(WM_CHECKPOINT_FORMAT));
	json_object_set_new(o, "version", json_integer(WM_CHECKPOINT_VERSION));
	json_object_set_new(o, "run_id", json_string(rs->run_id));
	json_object_set_new(o, "name", str_or_null(rs->name));
	json_object_set_new(o, "workflow",
			    json_pack("{s:o, s:o}", "path", str_or_null(rs->workflow_path), "hash",
				      str_or_null(rs->workflow_hash)));
	json_object_set_new(o, "state", json_string(wm_run_status_name(rs->state)));
	json_object_set_new(o, "orchestrator",
			    json_pack("{s:I, s:o, s:o, s:I}", "pid", (json_int_t)h->pid, "host",
				      str_or_null(h->host), "boot_id", str_or_null(h->boot_id),
				      "start_time", (json_int_t)h->start_time));
	json_object_set_new(o, "created_ms", json_integer(rs->created_ms));
	json_object_set_new(o, "started_ms", json_integer(rs->started_ms));
	json_object_set_new(o, "ended_ms", json_integer(rs->ended_ms));
	json_object_set_new(o, "audit", audit_json(rs));
	json_object_set_new(o, "journal_seq", json_integer((json_int_t)journal_seq));
	return o;
}

json_t *wm_run_state_to_json(const struct wm_run_state *rs, uint64_t journal_seq)
{
	json_t *o = header_json(rs, journal_seq);
	json_t *order = json_array(), *tasks = json_object();

	for (size_t i = 0; i < rs->n_tasks; i++) {
		json_object_set_new(tasks, rs->tasks[i].id, wm_task_state_to_json(&rs->tasks[i]));
		json_array_append_new(order, json_string(rs->tasks[i].id));
	}
	json_object_set_new(o, "task_order", order);
	json_object_set_new(o, "tasks", tasks);
	return o;
}

/* Appends v (a new reference, consumed) as compact JSON text. */
static int append_json(struct wm_buf *b, json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(v);
	if (!text)
		return -1;
	wm_buf_addstr(b, text);
	free(text);
	return 0;
}

/* Hands b's text to emit and empties b. */
static int emit_buf(struct wm_buf *b, wm_text_sink emit, void *ctx)
{
	int rc = emit(b->data, b->len, ctx);

	wm_buf_setlen(b, 0);
	return rc;
}

int wm_run_state_dump(const struct wm_run_state *rs, uint64_t journal_seq, wm_text_sink emit,
		      void *ctx)
{
	struct wm_buf b = WM_BUF_INIT;
	int bad;

	/* The header object, reopened after its closing brace. */
	bad = append_json(&b, header_json(rs, journal_seq));
	if (bad || b.len < 2)
		goto out;
	wm_buf_setlen(&b, b.len - 1);
	wm_buf_addstr(&b, ",\"task_order\":[");
	for (size_t i = 0; i < rs->n_tasks && !bad; i++) {
		if (i)
			wm_buf_addch(&b, ',');
		bad = append_json(&b, json_string(rs->tasks[i].id));
	}
	wm_buf_addstr(&b, "],\"tasks\":{");
	bad = bad || emit_buf(&b, emit, ctx);
	for (size_t i = 0; i < rs->n_tasks && !bad; i++) {
		if (i)
			wm_buf_addch(&b, ',');
		bad = append_json(&b, json_string(rs->tasks[i].id));
		wm_buf_addch(&b, ':');
		bad = bad || append_json(&b, wm_task_state_to_json(&rs->tasks[i]));
		bad = bad || emit_buf(&b, emit, ctx);
	}
	wm_buf_addstr(&b, "}}");
	bad = bad || emit_buf(&b, emit, ctx);
out:
	wm_buf_release(&b);
	return bad ? -1 : 0;
}

static int add_text(const char *text, size_t len, void *ctx)
{
	wm_buf_add(ctx, text, len);
	return 0;
}

char *wm_run_state_dumps(const struct wm_run_state *rs, uint64_t journal_seq)
{
	struct wm_buf b = WM_BUF_INIT;

	if (wm_run_state_dump(rs, journal_seq, add_text, &b) < 0) {
		wm_buf_release(&b);
		return NULL;
	}
	return wm_buf_detach(&b, NULL);
}

/* ---- JSON in. Every getter borrows; strings are copied. ---- */

static int get_str(json_t *o, const char *key, char **out, const char *what, struct wm_error **err)
{
	json_t *v = json_object_get(o, key);

	free(*out);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return wm_error_set(err, 0, "%s: \"%s\" is not a string", what, key);
	*out = wm_xstrdup(json_string_value(v));
	return 0;
}

static int get_int(json_t *o, const char *key, long long *out, long long dflt, long long min,
		   const char *what, struct wm_error **err)
{
	json_t *v = json_object_get(o, key);

	*out = dflt;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return wm_error_set(err, 0, "%s: \"%s\" is not an integer >= %lld", what, key, min);
	*out = json_integer_value(v);
	return 0;
}

static int get_decisions(struct wm_task_state *t, json_t *arr, struct wm_error **err)
{
	size_t i;
	json_t *d;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return wm_error_set(err, 0, "task '%s': \"decisions\" is not an array", t->id);
	json_array_foreach(arr, i, d)
	{
		const char *what = NULL, *why = NULL;
		json_int_t at = 0, attempt = 0;

		if (json_unpack(d, "{s:I, s:I, s:s, s:s}", "at_ms", &at, "attempt", &attempt,
				"what", &what, "why", &why) < 0 ||
		    attempt < 0)
			return wm_error_set(err, 0, "task '%s': bad decision %zu", t->id, i);
		wm_task_add_decision(t, at, (unsigned)attempt, what, why);
	}
	return 0;
}

/* "cache": {"key", "run"} of a cached task; absent otherwise. */
static int get_cache(struct wm_task_state *t, json_t *obj, struct wm_error **err)
{
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return wm_error_set(err, 0, "task %s: \"cache\" is not an object", t->id);
	return get_str(obj, "key", &t->cache_key, "task cache", err) < 0 ||
			       get_str(obj, "run", &t->cache_run, "task cache", err) < 0
		       ? -1
		       : 0;
}

static int get_denied(struct wm_task_state *t, json_t *arr, struct wm_error **err)
{
	size_t i;
	json_t *s;

	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return wm_error_set(err, 0, "task '%s': \"denied\" is not an array", t->id);
	json_array_foreach(arr, i, s)
	{
		if (!json_is_string(s))
			return wm_error_set(err, 0, "task '%s': bad denied entry", t->id);
		wm_task_add_denied(t, json_string_value(s));
	}
	return 0;
}

int wm_task_state_from_json(struct wm_task_state *t, json_t *obj, struct wm_error **err)
{
	wm_autofree char *what = wm_xasprintf("task '%s'", t->id);
	json_t *st;
	long long v;
	int s;

	if (!json_is_object(obj))
		return wm_error_set(err, 0, "%s is not an object", what);
	st = json_object_get(obj, "state");
	s = wm_task_status_parse(json_string_value(st));
	if (s < 0)
		return wm_error_set(err, 0, "%s: bad state", what);
	/* Replace everything but the id. */
	{
		char *id = wm_steal(&t->id);

		wm_task_state_release(t);
		t->id = id;
	}
	t->state = (enum wm_task_status)s;
	if (get_int(obj, "attempts", &v, 0, 0, what, err) < 0)
		return -1;
	t->attempts = (unsigned)v;
	if (get_int(obj, "lost_attempts", &v, 0, 0, what, err) < 0)
		return -1;
	t->lost = v > t->attempts ? t->attempts : (unsigned)v;
	t->kept = json_is_true(json_object_get(obj, "kept"));
	if (get_int(obj, "exit_code", &v, -1, 0, what, err) < 0)
		return -1;
	t->exit_code = (int)v;
	if (get_int(obj, "signal", &v, 0, 0, what, err) < 0)
		return -1;
	t->signal = (int)v;
	if (get_int(obj, "started_ms", &t->started_ms, 0, 0, what, err) < 0 ||
	    get_int(obj, "ended_ms", &t->ended_ms, 0, 0, what, err) < 0 ||
	    get_str(obj, "definition_hash", &t->definition_hash, what, err) < 0 ||
	    get_str(obj, "policy", &t->policy, what, err) < 0 ||
	    get_str(obj, "limit", &t->limit, what, err) < 0 ||
	    get_str(obj, "out_dir", &t->out_dir, what, err) < 0 ||
	    get_denied(t, json_object_get(obj, "denied"), err) < 0 ||
	    get_cache(t, json_object_get(obj, "cache"), err) < 0)
		return -1;
	return get_decisions(t, json_object_get(obj, "decisions"), err);
}

static int run_header_from_json(struct wm_run_state *rs, json_t *obj, struct wm_error **err)
{
	json_t *wf = json_object_get(obj, "workflow");
	json_t *orch = json_object_get(obj, "orchestrator");
	json_t *audit = json_object_get(obj, "audit");
	const char *what = "checkpoint";
	long long v;
	int s = wm_run_status_parse(json_string_value(json_object_get(obj, "state")));

	if (s < 0)
		return wm_error_set(err, 0, "checkpoint: bad run state");
	rs->state = (enum wm_run_status)s;
	if (get_str(obj, "name", &rs->name, what, err) < 0 ||
	    get_int(obj, "created_ms", &rs->created_ms, 0, 0, what, err) < 0 ||
	    get_int(obj, "started_ms", &rs->started_ms, 0, 0, what, err) < 0 ||
	    get_int(obj, "ended_ms", &rs->ended_ms, 0, 0, what, err) < 0)
		return -1;
	if (!json_is_object(wf) || !json_is_object(orch) || !json_is_object(audit))
		return wm_error_set(err, 0, "checkpoint: missing workflow, orchestrator or audit");
	if (get_str(wf, "path", &rs->workflow_path, what, err) < 0 ||
	    get_str(wf, "hash", &rs->workflow_hash, what, err) < 0 ||
	    get_str(orch, "host", &rs->orchestrator.host, what, err) < 0 ||
	    get_str(orch, "boot_id", &rs->orchestrator.boot_id, what, err) < 0 ||
	    get_int(orch, "pid", &v, 0, 0, what, err) < 0)
		return -1;
	rs->orchestrator.pid = (pid_t)v;
	if (get_int(orch, "start_time", &v, 0, 0, what, err) < 0)
		return -1;
	rs->orchestrator.start_time = (uint64_t)v;
	return 0;
}

/* A string of exactly `len` characters (0: may also be empty) into dst. */
static int get_hex(json_t *o, const char *key, char *dst, size_t len, bool may_be_empty,
		   struct wm_error **err)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || (strlen(v) != len && !(may_be_empty && !*v)))
		return wm_error_set(err, 0, "checkpoint: bad audit.prefix.%s", key);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Checkpoints only; absent (older checkpoints, journal records): kept. */
static int prefix_from_json(struct wm_run_state *rs, json_t *o, struct wm_error **err)
{
	struct wm_audit_prefix p = { 0 };
	long long bytes, seq;

	if (!o)
		return 0;
	if (!json_is_object(o))
		return wm_error_set(err, 0, "checkpoint: bad audit.prefix");
	if (get_int(o, "bytes", &bytes, 0, 1, "audit.prefix", err) < 0 ||
	    get_int(o, "seq", &seq, 0, 0, "audit.prefix", err) < 0 ||
	    get_hex(o, "mac", p.mac, WM_AUDIT_MAC_HEX, true, err) < 0 ||
	    get_hex(o, "hash", p.hash, WM_AUDIT_PREFIX_HEX, false, err) < 0)
		return -1;
	p.bytes = (uint64_t)bytes;
	p.seq = (uint64_t)seq;
	rs->audit.prefix = p;
	return 0;
}

/* Shared by checkpoints and journal records: {"last_seq", "last_mac"}. */
static int audit_from_json(struct wm_run_state *rs, json_t *audit, struct wm_error **err)
{
	long long v;
	json_t *mac = json_object_get(audit, "last_mac");

	if (get_int(audit, "last_seq", &v, 0, 0, "audit", err) < 0)
		return -1;
	if (!json_is_string(mac) || strlen(json_string_value(mac)) >= sizeof(rs->audit.mac))
		return wm_error_set(err, 0, "checkpoint: bad audit.last_mac");
	rs->audit.seq = (uint64_t)v;
	snprintf(rs->audit.mac, sizeof(rs->audit.mac), "%s", json_string_value(mac));
	return prefix_from_json(rs, json_object_get(audit, "prefix"), err);
}

static int tasks_from_json(struct wm_run_state *rs, json_t *obj, struct wm_error **err)
{
	json_t *tasks = json_object_get(obj, "tasks");
	json_t *order = json_object_get(obj, "task_order");
	const char *id;
	json_t *t;
	size_t i;

	if (!json_is_object(tasks))
		return wm_error_set(err, 0, "checkpoint: \"tasks\" is not an object");
	/* task_order keeps workflow indexes stable; tasks missing from it
	 * (hand-written checkpoints) follow in the object's order. */
	if (json_is_array(order))
		json_array_foreach(order, i, t)
		{
			if (!json_is_string(t) || !json_object_get(tasks, json_string_value(t)))
				return wm_error_set(err, 0, "checkpoint: bad task_order entry %zu",
						    i);
			if (wm_run_state_add_task(rs, json_string_value(t), err) < 0)
				return -1;
		}
	json_object_foreach(tasks, id, t)
	{
		long idx = wm_run_state_index(rs, id);

		if (idx < 0 && (idx = wm_run_state_add_task(rs, id, err)) < 0)
			return -1;
		if (wm_task_state_from_json(&rs->tasks[idx], t, err) < 0)
			return -1;
	}
	if (rs->n_tasks != json_object_size(tasks))
		return wm_error_set(err, 0, "checkpoint: task_order names tasks not in \"tasks\"");
	return 0;
}

struct wm_run_state *wm_run_state_from_json(json_t *obj, uint64_t *journal_seq,
					    struct wm_error **err)
{
	const char *format = json_string_value(json_object_get(obj, "format"));
	json_t *version = json_object_get(obj, "version");
	const char *run_id = json_string_value(json_object_get(obj, "run_id"));
	struct wm_run_state *rs;
	long long seq;

	if (!json_is_object(obj) || !format || strcmp(format, WM_CHECKPOINT_FORMAT) != 0) {
		wm_error_set(err, 0, "not a wm checkpoint (format is not \"%s\")",
			     WM_CHECKPOINT_FORMAT);
		return NULL;
	}
	if (!json_is_integer(version) || json_integer_value(version) != WM_CHECKPOINT_VERSION) {
		wm_error_set(err, 0, "unsupported checkpoint version %lld (this wm reads %d)",
			     json_is_integer(version) ? (long long)json_integer_value(version)
						      : -1LL,
			     WM_CHECKPOINT_VERSION);
		return NULL;
	}
	if (!run_id) {
		wm_error_set(err, 0, "checkpoint: missing run_id");
		return NULL;
	}
	rs = wm_run_state_new(run_id);
	if (run_header_from_json(rs, obj, err) < 0 ||
	    audit_from_json(rs, json_object_get(obj, "audit"), err) < 0 ||
	    get_int(obj, "journal_seq", &seq, 0, 0, "checkpoint", err) < 0 ||
	    tasks_from_json(rs, obj, err) < 0) {
		wm_run_state_free(rs);
		return NULL;
	}
	if (journal_seq)
		*journal_seq = (uint64_t)seq;
	return rs;
}

json_t *wm_run_state_run_json(const struct wm_run_state *rs)
{
	return json_pack("{s:s, s:I, s:I, s:{s:I, s:s}}", "state", wm_run_status_name(rs->state),
			 "started_ms", (json_int_t)rs->started_ms, "ended_ms",
			 (json_int_t)rs->ended_ms, "audit", "last_seq", (json_int_t)rs->audit.seq,
			 "last_mac", rs->audit.mac);
}

int wm_run_state_apply_run_json(struct wm_run_state *rs, json_t *obj, struct wm_error **err)
{
	int s = wm_run_status_parse(json_string_value(json_object_get(obj, "state")));

	if (s < 0)
		return wm_error_set(err, 0, "bad run state");
	if (get_int(obj, "started_ms", &rs->started_ms, 0, 0, "run", err) < 0 ||
	    get_int(obj, "ended_ms", &rs->ended_ms, 0, 0, "run", err) < 0 ||
	    audit_from_json(rs, json_object_get(obj, "audit"), err) < 0)
		return -1;
	rs->state = (enum wm_run_status)s;
	return 0;
}
