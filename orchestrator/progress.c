#include "orchestrator/progress.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/tasklog.h"

#define BAR_WIDTH 20
#define ID_WIDTH_MAX 24
/* Lines of a failed attempt's end searched for the line its error names. */
#define ERROR_PROBE_LINES 50

#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define DIM "\033[2m"
#define RESET "\033[0m"

struct wm_progress {
	struct wm_progress_config c;
	bool status_shown;
	bool closed; /* out failed (a reader went away): write no more */
	long long started_ms;
	int id_width;	   /* the task column of compact lines */
	bool *rolled_back; /* per task: its rollback ran and succeeded */
	struct wm_tasklog_follow follow;
};

struct wm_progress *wm_progress_new(const struct wm_progress_config *cfg)
{
	struct wm_progress *p = wm_xcalloc(1, sizeof(*p));

	p->c = *cfg;
	p->c.color = cfg->color && cfg->mode == WM_PROGRESS_LIVE;
	p->started_ms = wm_wall_ms();
	p->rolled_back = wm_xcalloc(cfg->rs->n_tasks + 1, sizeof(*p->rolled_back));
	for (size_t i = 0; i < cfg->wf->n_tasks; i++) {
		int w = (int)strlen(cfg->wf->tasks[i].id);
		if (w > p->id_width)
			p->id_width = w > ID_WIDTH_MAX ? ID_WIDTH_MAX : w;
	}
	wm_tasklog_follow_init(&p->follow, cfg->stream ? cfg->wf->n_tasks : 0);
	return p;
}

void wm_progress_free(struct wm_progress *p)
{
	if (!p)
		return;
	wm_tasklog_follow_release(&p->follow);
	free(p->rolled_back);
	free(p);
}

static const char *ink(const struct wm_progress *p, const char *color)
{
	return p->c.color ? color : "";
}

static const char *paint(const struct wm_progress *p, const char *event)
{
	if (!p->c.color)
		return "";
	if (strstr(event, "fail") || strstr(event, "denied") || strstr(event, "limit") ||
	    strstr(event, "breaker"))
		return "\033[31m";
	if (strstr(event, "retry") || strstr(event, "skip") || strstr(event, "sla") ||
	    strstr(event, "interrupt"))
		return "\033[33m";
	if (strcmp(event, "task.end") == 0)
		return "\033[32m";
	return "";
}

/* What a reader wants of an event on one line, from the event itself. */
static void describe(struct wm_buf *b, const struct wm_progress *p, const struct wm_event *ev)
{
	const struct wm_sandbox_result *r = ev->result;

	if (ev->task >= 0 && ev->type != WM_EV_TASK_SKIP)
		wm_buf_addf(b, " attempt=%u", ev->attempt);
	switch (ev->type) {
	case WM_EV_TASK_START:
		wm_buf_addf(b, " policy=%s",
			    p->c.rs->tasks[ev->task].policy ? p->c.rs->tasks[ev->task].policy
							    : "-");
		break;
	case WM_EV_TASK_END:
	case WM_EV_ROLLBACK_END:
		if (r->exit_code >= 0)
			wm_buf_addf(b, " exit=%d", r->exit_code);
		wm_buf_addf(b, " signal=%d duration_ms=%llu", r->signal,
			    (unsigned long long)r->duration_ms);
		if (r->limit != WM_LIMIT_NONE)
			wm_buf_addf(b, " limit=%s", wm_limit_name(r->limit));
		wm_buf_addf(b, " status=%d", r->status);
		break;
	case WM_EV_DECISION:
		wm_buf_addf(b, " what=%s why=%s", ev->action->what, ev->action->why);
		break;
	case WM_EV_TASK_RETRY:
		wm_buf_addf(b, " why=%s delay_ms=%llu", ev->detail, (unsigned long long)ev->ms);
		break;
	case WM_EV_SECCOMP_DENIED:
		wm_buf_addf(b, " syscall=%s", ev->detail);
		break;
	case WM_EV_SECCOMP_SUPPRESSED:
		wm_buf_addf(b, " count=%llu", (unsigned long long)ev->count);
		break;
	case WM_EV_LIMIT_HIT:
		wm_buf_addf(b, " limit=%s", ev->detail);
		break;
	case WM_EV_SLA_BREACH:
		wm_buf_addf(b, " sla_ms=%llu", (unsigned long long)ev->ms);
		break;
	case WM_EV_TASK_ADOPTED:
		wm_buf_addf(b, " job=%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_TASK_CACHED:
		wm_buf_addf(b, " key=%.12s run=%s", p->c.rs->tasks[ev->task].cache_key,
			    ev->detail ? ev->detail : "");
		break;
	case WM_EV_TASK_SKIP:
	case WM_EV_BREAKER:
	case WM_EV_INTERRUPT:
	case WM_EV_ADOPT_FAILED:
	case WM_EV_CACHE_MISS:
	case WM_EV_CACHE_REJECTED:
	case WM_EV_CACHE_STORE_FAILED:
		wm_buf_addf(b, " reason=%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_RUN_END:
		wm_buf_addf(b, " duration_ms=%llu total_ms=%llu", (unsigned long long)ev->ms,
			    (unsigned long long)ev->count);
		break;
	case WM_EV_RUN_START:
	case WM_EV_RUN_RESUME:
	case WM_EV_ROLLBACK_MANUAL:
	case WM_EV_ROLLBACK_START:
	case WM_EV_TICK:
	case WM_EV_COUNT:
		break;
	}
}

static void clear_status(struct wm_progress *p)
{
	if (p->status_shown) {
		fputs("\r\033[K", p->c.out);
		p->status_shown = false;
	}
}

static void print_json(struct wm_progress *p, const struct wm_event *ev, const char *task,
		       json_t *fields)
{
	json_t *o = fields ? json_deep_copy(fields) : json_object(); /* new ref */
	char *line;

	json_object_set_new(o, "event", json_string(wm_event_name(ev->type)));
	json_object_set_new(o, "run", json_string(p->c.rs->run_id));
	json_object_set_new(o, "task", task ? json_string(task) : json_null());
	json_object_set_new(o, "ts_ms", json_integer(wm_wall_ms()));
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(p->c.out, "%s\n", line);
	free(line);
	json_decref(o);
}

/* -v: every event, with its time and fields. */
static void print_verbose(struct wm_progress *p, const struct wm_event *ev, const char *task)
{
	const char *event = wm_event_name(ev->type);
	struct wm_buf b = WM_BUF_INIT;
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	wm_buf_addf(&b, "%s %s%-15s%s %s", stamp, paint(p, event), event, ink(p, RESET),
		    task ? task : "-");
	describe(&b, p, ev);
	fprintf(p->c.out, "%s\n", b.data);
	wm_buf_release(&b);
}

/* One compact line: a mark, the task, what happened. */
static void line(struct wm_progress *p, const char *color, const char *mark, const char *task,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void line(struct wm_progress *p, const char *color, const char *mark, const char *task,
		 const char *fmt, ...)
{
	va_list ap;

	fprintf(p->c.out, "%s%-9s%s %-*s ", ink(p, color), mark, ink(p, RESET), p->id_width,
		task ? task : "");
	va_start(ap, fmt);
	vfprintf(p->c.out, fmt, ap);
	va_end(ap);
	fputc('\n', p->c.out);
}

static void emit_stream(void *ctx, const char *text, size_t len)
{
	struct wm_progress **pp = ctx;
	struct wm_progress *p = pp[0];
	const char *task = (const char *)pp[1];

	fprintf(p->c.out, "%s[%s]%s %.*s\n", ink(p, DIM), task, ink(p, RESET), (int)len, text);
}

/* --output stream: what task i wrote since the last look. */
static void drain(struct wm_progress *p, long i, bool final)
{
	void *ctx[2] = { p, NULL };

	if (!p->c.stream || i < 0 || !p->c.run_dir)
		return;
	ctx[1] = (void *)p->c.wf->tasks[i].id;
	wm_tasklog_follow(&p->follow, p->c.run_dir, (size_t)i, p->c.wf->tasks[i].id, final,
			  emit_stream, ctx);
}

/* A failed task's last lines, and where the rest is. */
/* The last --tail lines of `log` (the attempt's end, read once for this
 * and for the error's place); `cut`: earlier lines were left out. */
static void print_tail(struct wm_progress *p, long i, const char *log, bool cut)
{
	const char *id = p->c.wf->tasks[i].id;
	const char *tail;

	if (p->c.stream || !p->c.tail || !p->c.run_dir)
		return;
	tail = log ? wm_last_lines(log, strlen(log), p->c.tail) : NULL;
	cut = cut || (tail && tail > log);
	if (tail && *tail) {
		if (cut)
			fprintf(p->c.out, "%9s %s...%s\n", "", ink(p, DIM), ink(p, RESET));
		for (const char *l = tail, *nl; l && *l; l = nl ? nl + 1 : NULL) {
			nl = strchr(l, '\n');
			fprintf(p->c.out, "%9s %s|%s %.*s\n", "", ink(p, DIM), ink(p, RESET),
				(int)(nl ? nl - l : (long)strlen(l)), l);
		}
	}
	fprintf(p->c.out, "%9s see all: wm logs %s %s\n", "", p->c.rs->run_id, id);
}

/* The body line an error names in the failed attempt's last lines: a
 * Python traceback's `TASK.body", line N`, bash's `TASK.body: line N:`,
 * dash's `TASK.body: N:`. The last one wins (the innermost frame). */
static unsigned error_line(const char *tail, const char *task)
{
	wm_autofree char *mark = wm_xasprintf("/%s.body", task);
	unsigned found = 0;

	for (const char *p = tail; tail && (p = strstr(p, mark)) != NULL; p++) {
		const char *q = p + strlen(mark);
		unsigned long n;
		char *end;

		if (strncmp(q, "\", line ", 8) == 0)
			q += 8;
		else if (strncmp(q, ": line ", 7) == 0)
			q += 7;
		else if (strncmp(q, ": ", 2) == 0)
			q += 2;
		else
			continue;
		n = strtoul(q, &end, 10);
		if (end != q && n > 0 && n < 1000000)
			found = (unsigned)n;
	}
	return found;
}

/* Where the body is in the workflow, and the file line of the error the
 * output names (a traceback's, a shell's), counted from the body's start. */
static void print_body_place(struct wm_progress *p, long i, const char *tail)
{
	const struct wm_task *t = &p->c.wf->tasks[i];
	unsigned at = error_line(tail, t->id);

	if (!t->body.lang)
		return;
	if (at)
		fprintf(p->c.out,
			"%9s error at %s:%u (line %u of the body, which starts at line %u)\n", "",
			p->c.wf->path, t->body.loc.line + at, at, t->body.loc.line + 1);
	else
		fprintf(p->c.out, "%9s body at %s:%u\n", "", p->c.wf->path, t->body.loc.line + 1);
}

/* A failed task: where its error is in the workflow, its last lines. */
static void print_failure(struct wm_progress *p, long i)
{
	unsigned lines = p->c.tail > ERROR_PROBE_LINES ? p->c.tail : ERROR_PROBE_LINES;
	wm_autofree char *log = NULL;
	bool cut = false;

	if (p->c.run_dir)
		log = wm_tasklog_tail(p->c.run_dir, p->c.wf->tasks[i].id, lines, &cut);
	print_body_place(p, i, log);
	print_tail(p, i, log, cut);
}

static void print_finished(struct wm_progress *p, const struct wm_event *ev, const char *task)
{
	const struct wm_task_state *t = &p->c.rs->tasks[ev->task];
	wm_autofree char *dur = NULL;

	if (t->started_ms && t->ended_ms >= t->started_ms)
		dur = wm_format_duration((uint64_t)(t->ended_ms - t->started_ms));
	switch (ev->state) {
	case WM_TASK_SUCCEEDED:
		line(p, GREEN, "ok", task, "%s", dur ? dur : "");
		break;
	case WM_TASK_FAILED:
		line(p, RED, "FAILED", task, "%s", ev->action->why);
		print_failure(p, ev->task);
		break;
	case WM_TASK_CANCELLED:
		line(p, YELLOW, "cancelled", task, "%s", ev->action->why);
		break;
	default: /* a retry: its own event says so */
		break;
	}
}

/* Without -v: what a reader wants to know, one line each. */
static void print_compact(struct wm_progress *p, const struct wm_event *ev, const char *task)
{
	switch (ev->type) {
	case WM_EV_DECISION:
		print_finished(p, ev, task);
		break;
	case WM_EV_TASK_RETRY:
		line(p, YELLOW, "retry", task, "%s", ev->detail);
		break;
	case WM_EV_TASK_SKIP:
		line(p, YELLOW, "skipped", task, "%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_TASK_CACHED:
		line(p, GREEN, "cached", task, "reusing run %s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_CACHE_REJECTED:
		line(p, YELLOW, "discarded", task, "%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_CACHE_STORE_FAILED:
		line(p, YELLOW, "not cached", task, "%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_SECCOMP_DENIED:
		line(p, RED, "denied", task, "system call %s", ev->detail);
		break;
	case WM_EV_LIMIT_HIT:
		line(p, RED, "limit", task, "%s limit reached", ev->detail);
		break;
	case WM_EV_SLA_BREACH:
		line(p, YELLOW, "late", task, "past its SLA (%llums)", (unsigned long long)ev->ms);
		break;
	case WM_EV_TASK_ADOPTED:
		line(p, "", "adopted", task, "still running as job %s",
		     ev->detail ? ev->detail : "");
		break;
	case WM_EV_ADOPT_FAILED:
	case WM_EV_BREAKER:
	case WM_EV_INTERRUPT:
		line(p, RED, wm_event_name(ev->type), task, "%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_ROLLBACK_END:
		if (ev->result->status == 0)
			line(p, YELLOW, "undone", task, "its rollback ran");
		else
			line(p, RED, "undo fail", task, "its rollback exited %d",
			     ev->result->status);
		break;
	case WM_EV_ROLLBACK_MANUAL:
		line(p, YELLOW, "to undo", task, "by hand:\n%s", ev->detail ? ev->detail : "");
		break;
	default: /* start, end, run-level: the status line and summary show them */
		break;
	}
}

/* After each batch of output: a reader that went away (`wm run --json |
 * head -1`) stops the output, never the run. */
static void flush(struct wm_progress *p)
{
	if (fflush(p->c.out) != 0 || ferror(p->c.out))
		p->closed = true;
}

void wm_progress_event(struct wm_progress *p, const struct wm_event *ev, json_t *fields)
{
	const char *task = ev->task >= 0 ? p->c.wf->tasks[ev->task].id : NULL;

	if (ev->type == WM_EV_ROLLBACK_END && ev->result->status == 0 && ev->task >= 0)
		p->rolled_back[ev->task] = true;
	if (p->closed)
		return;
	if (p->c.mode == WM_PROGRESS_JSON) {
		print_json(p, ev, task, fields);
		flush(p);
		return;
	}
	clear_status(p);
	if (ev->type == WM_EV_TASK_END || ev->type == WM_EV_ROLLBACK_END)
		drain(p, ev->task, true);
	if (p->c.verbose)
		print_verbose(p, ev, task);
	else
		print_compact(p, ev, task);
	if (p->c.mode == WM_PROGRESS_LIVE)
		wm_progress_tick(p);
	flush(p);
}

static unsigned term_width(const struct wm_progress *p)
{
	struct winsize ws;

	if (ioctl(fileno(p->c.out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

void wm_progress_tick(struct wm_progress *p)
{
	size_t counts[WM_TASK_STATUS_COUNT] = { 0 };
	size_t total = p->c.rs->n_tasks, done, filled;
	struct wm_buf b = WM_BUF_INIT;
	long long now = wm_wall_ms();
	unsigned width;

	if (p->closed)
		return;
	if (p->c.stream && p->c.mode != WM_PROGRESS_JSON) {
		clear_status(p);
		for (size_t i = 0; i < p->c.rs->n_tasks; i++)
			if (p->c.rs->tasks[i].state == WM_TASK_RUNNING)
				drain(p, (long)i, false);
		flush(p);
	}
	if (p->c.mode != WM_PROGRESS_LIVE)
		return;
	wm_run_state_count(p->c.rs, counts);
	done = counts[WM_TASK_SUCCEEDED] + counts[WM_TASK_CACHED] + counts[WM_TASK_FAILED] +
	       counts[WM_TASK_SKIPPED] + counts[WM_TASK_CANCELLED];
	filled = total ? done * BAR_WIDTH / total : BAR_WIDTH;
	wm_buf_addch(&b, '[');
	for (size_t i = 0; i < BAR_WIDTH; i++)
		wm_buf_addch(&b, i < filled ? '#' : '.');
	wm_buf_addf(&b, "] %zu/%zu done, %zu failed, %llds", done, total, counts[WM_TASK_FAILED],
		    (now - p->started_ms) / 1000);
	for (size_t i = 0; i < p->c.rs->n_tasks; i++) {
		const struct wm_task_state *t = &p->c.rs->tasks[i];
		if (t->state == WM_TASK_RUNNING && t->started_ms)
			wm_buf_addf(&b, " | %s %llds", t->id, (now - t->started_ms) / 1000);
		else if (t->state == WM_TASK_WAITING)
			wm_buf_addf(&b, " | %s waiting to retry", t->id);
	}
	width = term_width(p);
	if (b.len > width - 1)
		wm_buf_setlen(&b, width - 1);
	fprintf(p->c.out, "\r\033[K%s", b.data);
	p->status_shown = true;
	wm_buf_release(&b);
	flush(p);
}

/* A task's state in the summary, and why it is there. */
static const char *summary_state(const struct wm_progress *p, size_t i, const char **why)
{
	const struct wm_task_state *t = &p->c.rs->tasks[i];

	*why = t->n_decisions ? t->decisions[t->n_decisions - 1].why : "";
	if (t->kept && t->state == WM_TASK_SUCCEEDED) {
		*why = "not run: its result is kept from an earlier run";
		return "kept";
	}
	if (t->state == WM_TASK_SUCCEEDED) {
		*why = p->rolled_back[i] ? "undone by its rollback after the run failed" : "";
		return p->rolled_back[i] ? "rolled-back" : "succeeded";
	}
	if (t->state == WM_TASK_PENDING)
		*why = "not started";
	return wm_task_status_name(t->state);
}

/* "run ID succeeded in 3s", and for a resumed run its whole time too. */
static void print_ending(struct wm_progress *p, enum wm_run_status outcome)
{
	long long now = wm_wall_ms(), first = p->c.rs->started_ms;
	wm_autofree char *here = wm_format_duration((uint64_t)(now - p->started_ms));
	wm_autofree char *total = NULL;

	if (first && first < p->started_ms - 1000)
		total = wm_format_duration((uint64_t)(now - first));
	fprintf(p->c.out, "\nrun %s %s in %s%s%s%s\n", p->c.rs->run_id, wm_run_status_name(outcome),
		here, total ? " (" : "", total ? total : "",
		total ? " since it first started)" : "");
}

void wm_progress_summary(struct wm_progress *p, enum wm_run_status outcome)
{
	size_t w = 4;

	if (p->c.mode == WM_PROGRESS_JSON || p->closed)
		return;
	clear_status(p);
	for (size_t i = 0; i < p->c.rs->n_tasks; i++)
		if (strlen(p->c.rs->tasks[i].id) > w)
			w = strlen(p->c.rs->tasks[i].id);
	fprintf(p->c.out, "\n%-*s  %-11s  %8s  %-8s  %s\n", (int)w, "TASK", "STATE", "ATTEMPTS",
		"DURATION", "REASON");
	for (size_t i = 0; i < p->c.rs->n_tasks; i++) {
		const struct wm_task_state *t = &p->c.rs->tasks[i];
		wm_autofree char *dur = NULL;
		const char *why, *state = summary_state(p, i, &why);

		if (t->started_ms && t->ended_ms >= t->started_ms)
			dur = wm_format_duration((uint64_t)(t->ended_ms - t->started_ms));
		fprintf(p->c.out, "%-*s  %-11s  %8u  %-8s  %s\n", (int)w, t->id, state, t->attempts,
			dur ? dur : "-", why);
	}
	print_ending(p, outcome);
	flush(p);
}
