#include "orchestrator/progress.h"

#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/units.h"
#include "common/xalloc.h"

#define BAR_WIDTH 20

struct wm_progress {
	enum wm_progress_mode mode;
	FILE *out;
	bool color;
	bool status_shown;
	const struct wm_workflow *wf;
	const struct wm_run_state *rs;
	long long started_ms;
};

struct wm_progress *wm_progress_new(enum wm_progress_mode mode, FILE *out, bool color,
				    const struct wm_workflow *wf, const struct wm_run_state *rs)
{
	struct wm_progress *p = wm_xcalloc(1, sizeof(*p));

	p->mode = mode;
	p->out = out;
	p->color = color && mode == WM_PROGRESS_LIVE;
	p->wf = wf;
	p->rs = rs;
	p->started_ms = wm_wall_ms();
	return p;
}

void wm_progress_free(struct wm_progress *p)
{
	free(p);
}

static const char *paint(const struct wm_progress *p, const char *event)
{
	if (!p->color)
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
			    p->rs->tasks[ev->task].policy ? p->rs->tasks[ev->task].policy : "-");
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
	case WM_EV_TASK_SKIP:
	case WM_EV_BREAKER:
	case WM_EV_INTERRUPT:
	case WM_EV_ADOPT_FAILED:
		wm_buf_addf(b, " reason=%s", ev->detail ? ev->detail : "");
		break;
	case WM_EV_RUN_END:
		wm_buf_addf(b, " duration_ms=%llu", (unsigned long long)ev->ms);
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
		fputs("\r\033[K", p->out);
		p->status_shown = false;
	}
}

void wm_progress_event(struct wm_progress *p, const struct wm_event *ev, json_t *fields)
{
	const char *event = wm_event_name(ev->type);
	const char *task = ev->task >= 0 ? p->wf->tasks[ev->task].id : NULL;
	struct wm_buf b = WM_BUF_INIT;
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;

	if (p->mode == WM_PROGRESS_JSON) {
		json_t *o = fields ? json_deep_copy(fields) : json_object(); /* new ref */
		char *line;

		json_object_set_new(o, "event", json_string(event));
		json_object_set_new(o, "task", task ? json_string(task) : json_null());
		json_object_set_new(o, "ts_ms", json_integer(wm_wall_ms()));
		line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(p->out, "%s\n", line);
		free(line);
		json_decref(o);
		fflush(p->out);
		return;
	}
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	wm_buf_addf(&b, "%s %s%-15s%s %s", stamp, paint(p, event), event, p->color ? "\033[0m" : "",
		    task ? task : "-");
	describe(&b, p, ev);
	clear_status(p);
	fprintf(p->out, "%s\n", b.data);
	wm_buf_release(&b);
	if (p->mode == WM_PROGRESS_LIVE)
		wm_progress_tick(p);
	fflush(p->out);
}

static unsigned term_width(const struct wm_progress *p)
{
	struct winsize ws;

	if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

void wm_progress_tick(struct wm_progress *p)
{
	size_t counts[WM_TASK_STATUS_COUNT] = { 0 };
	size_t total = p->rs->n_tasks, done, filled;
	struct wm_buf b = WM_BUF_INIT;
	long long now = wm_wall_ms();
	unsigned width;

	if (p->mode != WM_PROGRESS_LIVE)
		return;
	wm_run_state_count(p->rs, counts);
	done = counts[WM_TASK_SUCCEEDED] + counts[WM_TASK_FAILED] + counts[WM_TASK_SKIPPED] +
	       counts[WM_TASK_CANCELLED];
	filled = total ? done * BAR_WIDTH / total : BAR_WIDTH;
	wm_buf_addch(&b, '[');
	for (size_t i = 0; i < BAR_WIDTH; i++)
		wm_buf_addch(&b, i < filled ? '#' : '.');
	wm_buf_addf(&b, "] %zu/%zu done, %zu failed, %llds", done, total, counts[WM_TASK_FAILED],
		    (now - p->started_ms) / 1000);
	for (size_t i = 0; i < p->rs->n_tasks; i++) {
		const struct wm_task_state *t = &p->rs->tasks[i];
		if (t->state == WM_TASK_RUNNING && t->started_ms)
			wm_buf_addf(&b, " | %s %llds", t->id, (now - t->started_ms) / 1000);
		else if (t->state == WM_TASK_WAITING)
			wm_buf_addf(&b, " | %s waiting to retry", t->id);
	}
	width = term_width(p);
	if (b.len > width - 1)
		wm_buf_setlen(&b, width - 1);
	fprintf(p->out, "\r\033[K%s", b.data);
	p->status_shown = true;
	wm_buf_release(&b);
	fflush(p->out);
}

void wm_progress_summary(struct wm_progress *p, enum wm_run_status outcome)
{
	size_t w = 4;

	if (p->mode == WM_PROGRESS_JSON)
		return;
	clear_status(p);
	for (size_t i = 0; i < p->rs->n_tasks; i++)
		if (strlen(p->rs->tasks[i].id) > w)
			w = strlen(p->rs->tasks[i].id);
	fprintf(p->out, "\n%-*s  %-9s  %8s  %s\n", (int)w, "TASK", "STATE", "ATTEMPTS", "DURATION");
	for (size_t i = 0; i < p->rs->n_tasks; i++) {
		const struct wm_task_state *t = &p->rs->tasks[i];
		wm_autofree char *dur = NULL;

		if (t->started_ms && t->ended_ms >= t->started_ms)
			dur = wm_format_duration((uint64_t)(t->ended_ms - t->started_ms));
		fprintf(p->out, "%-*s  %-9s  %8u  %s\n", (int)w, t->id,
			wm_task_status_name(t->state), t->attempts, dur ? dur : "-");
	}
	fprintf(p->out, "\nrun %s %s\n", p->rs->run_id, wm_run_status_name(outcome));
	fflush(p->out);
}
