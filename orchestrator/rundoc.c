/*
 * rundoc.c - one run as one JSON object (rundoc.h): the checkpoint for
 * states and decisions, the run's copy of its workflow for the DAG, the
 * audit log for every attempt, the logs for their tails.
 */
#include "orchestrator/rundoc.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/cleanup.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/runview.h"
#include "orchestrator/stats.h"
#include "state/audit.h"
#include "state/rundir.h"
#include "state/safeio.h"
#include "workflow/dag.h"

/* ---- text ---- */

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if
 * none: no overlong form, no surrogate, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min_second = 0x80, max_second = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		min_second = 0xa0;
	else if (s[0] == 0xed)
		max_second = 0x9f;
	else if (s[0] == 0xf0)
		min_second = 0x90;
	else if (s[0] == 0xf4)
		max_second = 0x8f;
	if (n < len || s[1] < min_second || s[1] > max_second)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void wm_rundoc_utf8_clean(const char *s, size_t len, struct wm_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t k = utf8_seq(p + i, len - i);

		if (k) {
			wm_buf_add(out, p + i, k);
			i += k;
		} else {
			wm_buf_addstr(out, "\xef\xbf\xbd");
			i++;
		}
	}
}

void wm_rundoc_dump_for_html(json_t *doc, struct wm_buf *out)
{
	wm_autofree char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);

	/* JSON has '<' only inside strings, where \u003c means the same. */
	for (const char *p = text ? text : "null"; *p; p++) {
		if (*p == '<')
			wm_buf_addstr(out, "\\u003c");
		else
			wm_buf_addch(out, *p);
	}
}

/* ---- the plan ---- */

static json_t *plan_task(const struct wm_run_state *rs, const char *id, const char *title,
			 size_t level)
{
	const struct wm_task_state *t = wm_run_state_find(rs, id);

	return json_pack("{s:s, s:s, s:I, s:[], s:s, s:s?, s:i}", "id", id, "title",
			 title ? title : id, "level", (json_int_t)level, "depends", "state",
			 t ? wm_task_status_name(t->state) : "pending", "policy",
			 t ? t->policy : NULL, "attempts", t ? (int)t->attempts : 0);
}

/* Levels: a task's longest path from a root, over a topological order. */
static void plan_from_workflow(const struct wm_workflow *wf, const struct wm_run_state *rs,
			       json_t *plan)
{
	const struct wm_dag *g = wf->dag;
	size_t *level = wm_xcalloc(g->n + 1, sizeof(*level)), levels = 0;
	json_t *tasks = json_array(), *edges = json_array();

	for (size_t k = 0; k < g->n; k++) {
		size_t i = g->order[k];
		const size_t *deps = wm_dag_deps(g, i);

		for (size_t d = 0; d < wm_dag_n_deps(g, i); d++)
			if (level[deps[d]] + 1 > level[i])
				level[i] = level[deps[d]] + 1;
		if (level[i] + 1 > levels)
			levels = level[i] + 1;
	}
	for (size_t i = 0; i < g->n; i++) {
		json_t *t = plan_task(rs, wf->tasks[i].id, wf->tasks[i].title, level[i]);
		json_t *deps = json_object_get(t, "depends"); /* borrowed */

		for (size_t d = 0; d < wm_dag_n_deps(g, i); d++) {
			const char *from = wf->tasks[wm_dag_deps(g, i)[d]].id;

			json_array_append_new(deps, json_string(from));
			json_array_append_new(edges, json_pack("{s:s, s:s}", "from", from, "to",
							       wf->tasks[i].id));
		}
		json_array_append_new(tasks, t);
	}
	json_object_set_new(plan, "tasks", tasks);
	json_object_set_new(plan, "edges", edges);
	json_object_set_new(plan, "levels", json_integer((json_int_t)levels));
	free(level);
}

static json_t *plan_json(const char *run_dir, const struct wm_run_state *rs)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *e = NULL;
	json_t *plan = json_object(), *tasks;

	if (wm_stats_load_workflow(run_dir, &wf, &d, &e) == 0) {
		plan_from_workflow(wf, rs, plan);
	} else {
		/* Tasks as the checkpoint knows them, side by side. */
		wm_autofree char *why = e ? wm_error_text(e) : wm_xstrdup("workflow has errors");

		tasks = json_array();
		for (size_t i = 0; i < rs->n_tasks; i++)
			json_array_append_new(tasks, plan_task(rs, rs->tasks[i].id, NULL, 0));
		json_object_set_new(plan, "tasks", tasks);
		json_object_set_new(plan, "edges", json_array());
		json_object_set_new(plan, "levels", json_integer(rs->n_tasks ? 1 : 0));
		json_object_set_new(plan, "error", json_string(why));
	}
	wm_error_free(e);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	return plan;
}

/* ---- attempts ---- */

static json_int_t int_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static long long ts_of(json_t *line)
{
	long long ms = 0;

	if (wm_parse_utc_time(json_string_value(json_object_get(line, "ts")), &ms, NULL) < 0)
		return 0;
	return ms;
}

/* The latest attempt of task (open_by_task: task -> index in attempts). */
static json_t *last_attempt(json_t *attempts, json_t *open_by_task, const char *task)
{
	json_t *at = json_object_get(open_by_task, task);

	return at ? json_array_get(attempts, (size_t)json_integer_value(at)) : NULL;
}

static void attempt_start(json_t *attempts, json_t *open_by_task, const char *task, json_t *line)
{
	long long at = ts_of(line);
	json_int_t wait = int_of(line, "wait_ms");

	json_object_set_new(open_by_task, task,
			    json_integer((json_int_t)json_array_size(attempts)));
	json_array_append_new(
		attempts,
		json_pack("{s:s, s:I, s:I, s:I, s:n, s:n, s:n, s:n, s:n, s:[], s:n, s:n, s:n, "
			  "s:O*}",
			  "task", task, "attempt", int_of(line, "attempt"), "queued_ms",
			  (json_int_t)(at - (wait > 0 ? wait : 0)), "started_ms", (json_int_t)at,
			  "ended_ms", "duration_ms", "exit", "signal", "limit", "denied",
			  "peak_memory", "outcome", "why", "policy",
			  json_object_get(line, "policy")));
}

static void attempt_end(json_t *a, json_t *line)
{
	static const char *const copied[] = { "duration_ms", "exit",   "signal",
					      "limit",	     "denied", "peak_memory" };

	json_object_set_new(a, "ended_ms", json_integer((json_int_t)ts_of(line)));
	for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++) {
		json_t *v = json_object_get(line, copied[k]); /* borrowed */

		if (v)
			json_object_set(a, copied[k], v); /* does not steal */
	}
}

static void attempt_line(json_t *attempts, json_t *open_by_task, json_t *line)
{
	const char *ev = json_string_value(json_object_get(line, "event"));
	const char *task = json_string_value(json_object_get(line, "task"));
	json_t *a;

	if (!ev || !task)
		return;
	if (strcmp(ev, "task.start") == 0) {
		attempt_start(attempts, open_by_task, task, line);
		return;
	}
	a = last_attempt(attempts, open_by_task, task);
	if (!a)
		return;
	if (strcmp(ev, "task.end") == 0) {
		attempt_end(a, line);
	} else if (strcmp(ev, "decision") == 0 && int_of(a, "attempt") == int_of(line, "attempt")) {
		json_object_set(a, "outcome", json_object_get(line, "what"));
		json_object_set(a, "why", json_object_get(line, "why"));
	}
}

/* Every attempt the audit log records, or NULL when it cannot be read. */
static json_t *attempts_from_audit(const char *run_dir)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_AUDIT);
	wm_autoclose int fd = wm_audit_open_read(path, NULL);
	json_t *attempts, *open_by_task;
	struct wm_lines lr;
	const char *line;
	size_t len;
	bool complete;

	if (fd < 0)
		return NULL;
	attempts = json_array();
	open_by_task = json_object();
	wm_lines_init(&lr, fd, path, WM_AUDIT_LINE_MAX);
	while (wm_lines_next(&lr, &line, &len, &complete, NULL) > 0) {
		json_t *o = complete ? json_loadb(line, len, 0, NULL) : NULL; /* new ref */

		if (json_is_object(o))
			attempt_line(attempts, open_by_task, o);
		json_decref(o);
	}
	wm_lines_release(&lr);
	json_decref(open_by_task);
	return attempts;
}

/* One attempt per task that started: its last, as the checkpoint has it. */
static json_t *attempts_from_checkpoint(const struct wm_run_state *rs)
{
	json_t *attempts = json_array();

	for (size_t i = 0; i < rs->n_tasks; i++) {
		const struct wm_task_state *t = &rs->tasks[i];
		const struct wm_decision *d =
			t->n_decisions ? &t->decisions[t->n_decisions - 1] : NULL;

		if (!t->started_ms || t->kept)
			continue;
		json_array_append_new(
			attempts,
			json_pack("{s:s, s:i, s:I, s:I, s:o, s:o, s:o, s:o, s:s?, s:s?, s:s?}",
				  "task", t->id, "attempt", (int)t->attempts, "queued_ms",
				  (json_int_t)t->started_ms, "started_ms",
				  (json_int_t)t->started_ms, "ended_ms",
				  t->ended_ms ? json_integer(t->ended_ms) : json_null(),
				  "duration_ms",
				  t->ended_ms >= t->started_ms && t->ended_ms
					  ? json_integer(t->ended_ms - t->started_ms)
					  : json_null(),
				  "exit",
				  t->exit_code >= 0 ? json_integer(t->exit_code) : json_null(),
				  "signal", t->signal ? json_integer(t->signal) : json_null(),
				  "limit", t->limit, "outcome", d ? d->what : NULL, "why",
				  d ? d->why : NULL));
	}
	return attempts;
}

/* ---- what the checkpoint says ---- */

static void add_task_facts(const struct wm_run_state *rs, json_t *doc)
{
	json_t *decisions = json_array(), *denied = json_array(), *limits = json_array();

	for (size_t i = 0; i < rs->n_tasks; i++) {
		const struct wm_task_state *t = &rs->tasks[i];

		for (size_t k = 0; k < t->n_decisions; k++)
			json_array_append_new(decisions,
					      json_pack("{s:s, s:i, s:I, s:s, s:s}", "task", t->id,
							"attempt", (int)t->decisions[k].attempt,
							"at_ms", (json_int_t)t->decisions[k].at_ms,
							"what", t->decisions[k].what, "why",
							t->decisions[k].why));
		for (size_t k = 0; k < t->n_denied; k++)
			json_array_append_new(denied, json_pack("{s:s, s:s}", "task", t->id,
								"syscall", t->denied[k]));
		if (t->limit)
			json_array_append_new(
				limits, json_pack("{s:s, s:s}", "task", t->id, "limit", t->limit));
	}
	json_object_set_new(doc, "decisions", decisions);
	json_object_set_new(doc, "denied", denied);
	json_object_set_new(doc, "limits", limits);
}

/* ---- logs ---- */

/* The last `want` bytes of logs/<task>.log from a line start (the whole log
 * when it is that short), or NULL when there is no log to read. */
static json_t *log_tail(int dfd, const char *run_dir, const char *task, size_t want)
{
	wm_autofree char *rel = wm_xasprintf(WM_RUN_LOGS "/%s.log", task);
	wm_autofree char *raw = NULL;
	wm_autoclose int fd = -1;
	struct wm_buf clean = WM_BUF_INIT;
	struct stat st;
	const char *start, *nl;
	off_t from;
	ssize_t n;
	json_t *out;

	if (!wm_safe_rel_ok(rel))
		return NULL;
	fd = wm_safe_open(dfd, run_dir, rel, O_RDONLY, 0, NULL);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	from = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
	raw = wm_xmalloc(want + 1);
	n = pread(fd, raw, want, from);
	if (n < 0)
		return NULL;
	start = raw;
	nl = from > 0 ? memchr(raw, '\n', (size_t)n) : NULL;
	if (nl) /* begin with a whole line */
		start = nl + 1;
	wm_rundoc_utf8_clean(start, (size_t)n - (size_t)(start - raw), &clean);
	out = json_pack("{s:I, s:s%, s:b}", "size", (json_int_t)st.st_size, "tail", clean.data,
			clean.len, "truncated", from > 0);
	wm_buf_release(&clean);
	return out;
}

static json_t *logs_json(const char *run_dir, const struct wm_run_state *rs)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, NULL);
	size_t want = rs->n_tasks ? WM_RUNDOC_LOGS_MAX / rs->n_tasks : WM_RUNDOC_LOG_TAIL;
	json_t *logs = json_object();

	if (dfd < 0)
		return logs;
	if (want > WM_RUNDOC_LOG_TAIL)
		want = WM_RUNDOC_LOG_TAIL;
	for (size_t i = 0; i < rs->n_tasks; i++) {
		json_t *t = log_tail(dfd, run_dir, rs->tasks[i].id, want);

		if (t)
			json_object_set_new(logs, rs->tasks[i].id, t);
	}
	return logs;
}

/* ---- the audit badge ---- */

static json_t *audit_json(const char *state_dir, const struct wm_runview *v)
{
	struct wm_audit_result res;
	struct wm_error *e = NULL;
	json_t *out;

	if (wm_runview_verify_audit(v, state_dir, &res, &e) < 0) {
		wm_autofree char *why = wm_error_text(e);

		wm_error_free(e);
		return json_pack("{s:b, s:s}", "verified", 0, "error", why);
	}
	out = json_pack("{s:b, s:b, s:s, s:I, s:I, s:s, s:s?}", "verified", 1, "intact",
			wm_audit_result_intact(&res), "problem",
			wm_audit_problem_name(res.problem), "first_bad_seq",
			(json_int_t)res.first_bad_seq, "lines", (json_int_t)res.lines, "message",
			res.message ? res.message : "", "notes", res.notes);
	wm_audit_result_release(&res);
	return out;
}

/* ---- the document ---- */

static json_t *build(const char *state_dir, const struct wm_runview *v, unsigned flags)
{
	const struct wm_run_state *rs = v->st.rs;
	json_t *doc = json_object(), *stats = wm_stats_run_json(v); /* new refs */
	json_t *attempts = attempts_from_audit(v->dir);

	json_object_set_new(doc, "format", json_string(WM_RUNDOC_FORMAT));
	json_object_set_new(doc, "version", json_integer(WM_RUNDOC_VERSION));
	json_object_set_new(doc, "generated_ms", json_integer(wm_wall_ms()));
	json_object_set_new(doc, "run_id", json_string(v->id));
	json_object_set_new(doc, "name", rs->name ? json_string(rs->name) : json_null());
	json_object_set_new(doc, "state", json_string(wm_runview_state(v)));
	json_object_set_new(doc, "status", wm_runview_status_json(v));
	json_object_set_new(doc, "plan", plan_json(v->dir, rs));
	json_object_set_new(doc, "attempts", attempts ? attempts : attempts_from_checkpoint(rs));
	add_task_facts(rs, doc);
	json_object_set(doc, "critical_path", json_object_get(stats, "critical_path"));
	json_object_set(doc, "critical_path_ms", json_object_get(stats, "critical_path_ms"));
	json_object_set_new(doc, "stats", stats);
	if (flags & WM_RUNDOC_LOGS)
		json_object_set_new(doc, "logs", logs_json(v->dir, rs));
	if (flags & WM_RUNDOC_VERIFY)
		json_object_set_new(doc, "audit", audit_json(state_dir, v));
	return doc;
}

json_t *wm_rundoc_build(const char *state_dir, const char *run_id, unsigned flags,
			struct wm_error **err)
{
	wm_autofree char *id = wm_rundir_resolve(state_dir, run_id, err);
	struct wm_runview v;
	json_t *doc;

	if (!id || wm_runview_load(state_dir, id, &v, err) < 0)
		return NULL;
	if (!v.st.rs) {
		wm_error_setx(err, WM_EXIT_USAGE, "run %s: %s", id, v.load_error);
		wm_runview_release(&v);
		return NULL;
	}
	doc = build(state_dir, &v, flags);
	wm_runview_release(&v);
	return doc;
}
