#include "orchestrator/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "orchestrator/notify.h"
#include "orchestrator/runexec.h"
#include "orchestrator/progress.h"
#include "orchestrator/scheduler.h"
#include "orchestrator/taskcache.h"
#include "state/audit.h"
#include "state/notifyq.h"
#include "state/rundir.h"
#include "state/store.h"

#define TICK_MS 500

/* ---- executing ---- */

struct exec {
	const struct wm_prepared *p;
	struct wm_run_target *t;
	struct wm_run_state *rs;
	struct wm_audit_key *key; /* in its own page, never in a forked child */
	struct wm_audit *audit;
	struct wm_store *store;
	struct wm_progress *progress;
	struct wm_sched *sched;
	struct wm_runexec re;	    /* the executor(s) tasks go to */
	struct wm_taskcache *cache; /* NULL: no task caches */
	struct wm_error *err;	    /* the first recording failure: the run stops on it */
	bool loop_done;		    /* the scheduler has returned: nothing left to stop */
	bool unsynced;		    /* records appended since the last barrier */
	long long began_ms;	    /* when this orchestrator took the run (run or resume) */
	/* Masked in every event's fields. */
	const struct wm_secrets *secrets;
	struct wm_notifier *notifier; /* front matter `notify:` (notify.h) */
};

static json_t *namespaces_json(const struct wm_policy *pol)
{
	json_t *a = json_array(); /* new ref */

	if (geteuid() != 0 || pol->user_namespace)
		json_array_append_new(a, json_string("user"));
	json_array_append_new(a, json_string("pid"));
	json_array_append_new(a, json_string("mount"));
	json_array_append_new(a, json_string("ipc"));
	json_array_append_new(a, json_string("uts"));
	json_array_append_new(a, json_string("cgroup"));
	if (pol->network != WM_NET_HOST)
		json_array_append_new(a, json_string("net"));
	return a;
}

static void result_fields(json_t *f, const struct wm_sandbox_result *r)
{
	json_t *denied = json_array();

	json_object_set_new(f, "exit",
			    r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
	json_object_set_new(f, "signal", json_integer(r->signal));
	json_object_set_new(f, "status", json_integer(r->status));
	json_object_set_new(f, "duration_ms", json_integer((json_int_t)r->duration_ms));
	json_object_set_new(f, "peak_memory", json_integer((json_int_t)r->peak_memory));
	json_object_set_new(f, "limit",
			    r->limit != WM_LIMIT_NONE ? json_string(wm_limit_name(r->limit))
						      : json_null());
	for (size_t i = 0; i < r->n_denied; i++)
		json_array_append_new(denied, json_string(r->denied[i].name));
	json_object_set_new(f, "denied", denied);
	if (r->setup_error)
		json_object_set_new(f, "setup_error", json_string(r->setup_error));
}

/* How long a starting task waited in the ready queue. */
static json_int_t queue_wait_ms(const struct exec *x, long task)
{
	long long queued = (long long)wm_sched_queued_ms(x->sched, (size_t)task);
	long long now = wm_wall_ms();

	return queued && now > queued ? now - queued : 0;
}

/* task.start: what the task runs under, and how long it waited. */
static void start_fields(json_t *f, const struct exec *x, long task, const struct wm_policy *pol)
{
	json_object_set_new(f, "policy", json_string(pol->name));
	json_object_set_new(f, "policy_hash", json_string(x->p->policy_hash[task]));
	/* The image pinned by digest (policies.h: wm_policy_with_rootfs). */
	if (pol->fs.rootfs && wm_image_ref_is(pol->fs.rootfs))
		json_object_set_new(f, "image", json_string(pol->fs.rootfs));
	json_object_set_new(f, "namespaces", namespaces_json(pol));
	json_object_set_new(f, "wait_ms", json_integer(queue_wait_ms(x, task)));
}

/* The fields an event records in the audit log and shows with --json. New ref. */
static json_t *event_fields(const struct exec *x, const struct wm_event *ev)
{
	json_t *f = json_object();
	const struct wm_policy *pol = ev->task >= 0 ? x->p->policy[ev->task] : NULL;

	if (ev->task >= 0 && ev->type != WM_EV_TASK_SKIP)
		json_object_set_new(f, "attempt", json_integer(ev->attempt));
	switch (ev->type) {
	case WM_EV_TASK_START:
		if (pol) /* task events always name a task */
			start_fields(f, x, ev->task, pol);
		break;
	case WM_EV_TASK_END:
	case WM_EV_ROLLBACK_END:
		result_fields(f, ev->result);
		break;
	case WM_EV_DECISION:
		json_object_set_new(f, "what", json_string(ev->action->what));
		json_object_set_new(f, "why", json_string(ev->action->why));
		json_object_set_new(f, "state", json_string(wm_task_status_name(ev->state)));
		break;
	case WM_EV_TASK_RETRY:
		json_object_set_new(f, "delay_ms", json_integer((json_int_t)ev->ms));
		json_object_set_new(f, "why", json_string(ev->detail));
		break;
	case WM_EV_SECCOMP_DENIED:
		json_object_set_new(f, "syscall", json_string(ev->detail));
		json_object_set_new(f, "count", json_integer((json_int_t)ev->count));
		if (pol)
			json_object_set_new(f, "policy", json_string(pol->name));
		break;
	case WM_EV_SECCOMP_SUPPRESSED:
		json_object_set_new(f, "count", json_integer((json_int_t)ev->count));
		json_object_set_new(f, "reason",
				    json_string("more distinct calls denied than are named"));
		break;
	case WM_EV_LIMIT_HIT:
		json_object_set_new(f, "limit", json_string(ev->detail));
		break;
	case WM_EV_SLA_BREACH:
		json_object_set_new(f, "sla_ms", json_integer((json_int_t)ev->ms));
		json_object_set_new(f, "level", json_string(ev->detail ? ev->detail : "warn"));
		break;
	case WM_EV_ROLLBACK_MANUAL:
		json_object_set_new(f, "script", json_string(ev->detail));
		break;
	case WM_EV_TASK_ADOPTED:
		json_object_set_new(f, "job", json_string(ev->detail ? ev->detail : ""));
		break;
	case WM_EV_TASK_CACHED:
		json_object_set_new(f, "key", json_string(x->rs->tasks[ev->task].cache_key));
		json_object_set_new(f, "from_run", json_string(ev->detail ? ev->detail : ""));
		break;
	case WM_EV_INTERRUPT: {
		char *actor = wm_rundir_take_canceller(x->t->run_dir);

		if (actor)
			json_object_set_new(f, "actor", json_string(actor));
		free(actor);
		break;
	}
	case WM_EV_TASK_SKIP:
	case WM_EV_BREAKER:
	case WM_EV_ADOPT_FAILED:
	case WM_EV_CACHE_MISS:
	case WM_EV_CACHE_REJECTED:
	case WM_EV_CACHE_STORE_FAILED:
		json_object_set_new(f, "reason", json_string(ev->detail ? ev->detail : ""));
		break;
	case WM_EV_ROLLBACK_START:
	case WM_EV_TICK:
	case WM_EV_RUN_START: /* run-level: their fields are built where they happen */
	case WM_EV_RUN_RESUME:
	case WM_EV_RUN_END:
	case WM_EV_COUNT:
		break;
	}
	return f;
}

static void fail_recording(struct exec *x, struct wm_error *e)
{
	if (!x->err) {
		x->err = e;
		/* Nothing more may run without a durable record of it. */
		if (x->sched && !x->loop_done)
			wm_sched_interrupt(x->sched);
	} else {
		wm_error_free(e);
	}
}

/* `wm audit rekey` ran while this run goes on: before the next line, the
 * log says where the key changed, and every line after is MAC'd with the
 * new key (one fstatat per line while nothing changes). */
static void follow_rekey(struct exec *x)
{
	char old_id[WM_AUDIT_KEY_ID_LEN + 1], new_id[WM_AUDIT_KEY_ID_LEN + 1];
	struct wm_error *e = NULL;
	int rc = wm_audit_key_refresh(x->key, old_id, new_id, &e);
	json_t *f;

	if (rc < 0) {
		/* A bad new key: keep the one in hand, say so. */
		wm_autofree char *why = wm_error_text(e);

		fprintf(stderr, "wm: warning: audit key changed but cannot be used: %s\n", why);
		wm_error_free(e);
		return;
	}
	if (rc == 0)
		return;
	f = json_pack("{s:s, s:s, s:s}", "old_key", old_id, "new_key", new_id, "reason",
		      "audit.key replaced (wm audit rekey) while the run was going on");
	if (wm_audit_append(x->audit, NULL, "audit.rekey", f, &e) < 0)
		fail_recording(x, e);
	json_decref(f);
}

static int audit_event(struct exec *x, const char *task, const char *event, json_t *fields)
{
	struct wm_error *e = NULL;

	follow_rekey(x);
	/* In place: the observers (--json) get the same fields after this. */
	wm_secrets_mask_json(x->secrets, fields);
	if (wm_audit_append(x->audit, task, event, fields, &e) < 0) {
		fail_recording(x, e);
		return -1;
	}
	wm_run_state_set_audit(x->rs, x->audit);
	return 0;
}

static void keep_in_cache(struct exec *x, size_t task);

static void on_event(void *ctx, const struct wm_event *ev)
{
	struct exec *x = ctx;
	const char *name = wm_event_name(ev->type);
	const char *task = ev->task >= 0 ? x->p->wf->tasks[ev->task].id : NULL;
	struct wm_error *e = NULL;
	json_t *fields;

	if (ev->type == WM_EV_TICK) {
		wm_progress_tick(x->progress);
		return;
	}
	/* The scheduler has updated the task's record: make it durable, then
	 * show it. */
	fields = event_fields(x, ev);
	audit_event(x, task, name, fields);
	wm_notifier_on_event(x->notifier, ev, task);
	wm_progress_event(x->progress, ev, fields);
	json_decref(fields);
	if (!wm_event_is_boundary(ev->type) || x->err)
		return;
	/* A task boundary: recorded now, durable at the scheduler's next
	 * barrier, which comes before anything else starts or is waited for. */
	if (wm_store_record(x->store, ev->task, name, &e) < 0)
		fail_recording(x, e);
	x->unsynced = true;
	if (x->cache && ev->type == WM_EV_DECISION && ev->action->verdict == WM_VERDICT_SUCCEED)
		keep_in_cache(x, (size_t)ev->task);
}

/* Group commit: one fdatasync of the audit log and one of the journal for
 * every record of a scheduler turn. */
static bool barrier(void *ctx)
{
	struct exec *x = ctx;
	struct wm_error *e = NULL;

	if (x->err)
		return false;
	if (!x->unsynced)
		return true;
	if (wm_audit_flush(x->audit, &e) < 0 || wm_store_sync(x->store, &e) < 0) {
		fail_recording(x, e);
		return false;
	}
	x->unsynced = false;
	return true;
}

/* An event of the task cache's, told as the scheduler tells its own. */
static void cache_event(struct exec *x, enum wm_event_type type, size_t task, const char *detail)
{
	struct wm_event ev = { .type = type,
			       .task = (long)task,
			       .attempt = x->rs->tasks[task].attempts,
			       .state = x->rs->tasks[task].state,
			       .detail = detail };

	on_event(x, &ev);
}

/* A task that succeeded: its outputs kept for later runs. Failing to
 * keep them is said, never the run's failure. */
static void keep_in_cache(struct exec *x, size_t task)
{
	struct wm_error *e = NULL;

	if (wm_taskcache_store(x->cache, task, &e) < 0) {
		wm_autofree char *why = wm_error_text(e);

		wm_error_free(e);
		cache_event(x, WM_EV_CACHE_STORE_FAILED, task, why);
	}
}

static bool cache_restore(void *ctx, size_t task)
{
	struct exec *x = ctx;
	struct wm_task_state *rec = &x->rs->tasks[task];
	struct wm_cache_lookup l;
	bool hit;

	wm_taskcache_lookup(x->cache, task, x->rs, &l);
	if (l.rejected)
		cache_event(x, WM_EV_CACHE_REJECTED, task, l.rejected);
	hit = l.hit;
	if (hit) {
		free(rec->cache_key);
		free(rec->cache_run);
		rec->cache_key = wm_xstrdup(l.key);
		rec->cache_run = wm_xstrdup(l.source);
	} else {
		cache_event(x, WM_EV_CACHE_MISS, task, l.why);
	}
	wm_cache_lookup_release(&l);
	return hit;
}

static unsigned parallelism(const struct wm_prepared *p, const struct wm_run_options *o)
{
	long cpus;

	if (o->jobs)
		return o->jobs;
	if (p->wf->max_parallel)
		return p->wf->max_parallel;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 0 ? (unsigned)cpus : 1;
}

static json_t *ids_where(const struct wm_prepared *p, const bool *keep, bool kept)
{
	json_t *a = json_array(); /* new ref */

	for (size_t i = 0; i < p->wf->n_tasks; i++)
		if ((keep && keep[i]) == kept)
			json_array_append_new(a, json_string(p->wf->tasks[i].id));
	return a;
}

static void audit_run_start(struct exec *x, const struct wm_run_options *o, unsigned jobs)
{
	const char *actor = getenv("WM_ACTOR");
	json_t *f = json_object();

	json_object_set_new(f, "workflow", json_string(x->rs->workflow_path));
	json_object_set_new(f, "workflow_hash", json_string(x->rs->workflow_hash));
	json_object_set_new(f, "tasks", json_integer((json_int_t)x->p->wf->n_tasks));
	json_object_set_new(f, "max_parallel", json_integer(jobs));
	json_object_set_new(f, "keep_going", json_boolean(o->keep_going || x->p->wf->keep_going));
	json_object_set_new(f, "pid", json_integer(getpid()));
	json_object_set_new(f, "secrets", wm_secrets_to_json(o->secrets)); /* names, files */
	/* Who asked for the run, when not its user at a terminal: `wm serve`
	 * sets WM_ACTOR=api:KEY for the runs and resumes it starts. */
	if (actor && *actor)
		json_object_set_new(f, "actor", json_string(actor));
	if (x->t->resumed) {
		json_object_set_new(f, "kept", ids_where(x->p, x->t->keep, true));
		json_object_set_new(f, "rerun", ids_where(x->p, x->t->keep, false));
	}
	audit_event(x, NULL, x->t->resumed ? "run.resume" : "run.start", f);
	wm_progress_event(
		x->progress,
		&(struct wm_event){ .type = x->t->resumed ? WM_EV_RUN_RESUME : WM_EV_RUN_START,
				    .task = -1 },
		f);
	json_decref(f);
}

/* What the sandbox says of each policy before any task runs:
 * seccomp.cache.rejected, a cached filter that failed its checks (bad MAC,
 * not our private file) and was compiled afresh; limit.unenforced, limits
 * this host cannot enforce as written. Both are also warnings. */
static void audit_profile_notes(struct exec *x)
{
	for (size_t k = 0; k < x->p->n_profiles; k++) {
		const struct wm_sandbox_profile *prof = x->p->profiles[k];
		const char *note = wm_sandbox_profile_note(prof);
		const char *unenforced = wm_sandbox_profile_unenforced(prof);
		json_t *f;

		if (note) {
			fprintf(stderr, "wm: warning: %s\n", note);
			f = json_pack("{s:s}", "reason", note);
			audit_event(x, NULL, "seccomp.cache.rejected", f);
			json_decref(f);
		}
		if (unenforced) {
			const char *name = wm_sandbox_profile_policy(prof)->name;

			fprintf(stderr, "wm: warning: policy %s: %s\n", name, unenforced);
			f = json_pack("{s:s, s:s}", "policy", name, "reason", unenforced);
			audit_event(x, NULL, "limit.unenforced", f);
			json_decref(f);
		}
	}
}

/* policy.weak: the tasks whose policy is weaker than standard, why, and how
 * a workflow the user did not write was allowed to ask for minimal. */
static void audit_weak(struct exec *x, const struct wm_run_options *o)
{
	const struct wm_prepared *p = x->p;
	json_t *f, *tasks = json_array();

	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		if (!p->tp.weak[i])
			continue;
		json_array_append_new(tasks, json_pack("{s:s, s:s, s:s}", "task",
						       p->wf->tasks[i].id, "policy",
						       p->policy[i]->name, "why", p->tp.weak[i]));
	}
	if (!json_array_size(tasks)) {
		json_decref(tasks);
		return;
	}
	f = json_pack("{s:o}", "tasks", tasks); /* "o" steals tasks */
	/* Checked only when a task asks for minimal; null otherwise. */
	json_object_set_new(f, "workflow_file",
			    !o->file_checked ? json_null()
			    : o->untrusted   ? json_string(o->untrusted)
					     : json_string("is the user's own"));
	json_object_set_new(f, "consent", o->consent ? json_string(o->consent) : json_null());
	audit_event(x, NULL, "policy.weak", f);
	json_decref(f);
}

static void audit_run_end(struct exec *x)
{
	size_t counts[WM_TASK_STATUS_COUNT] = { 0 };
	json_t *f = json_object(), *by = json_object();

	wm_run_state_count(x->rs, counts);
	for (int s = 0; s < WM_TASK_STATUS_COUNT; s++)
		json_object_set_new(by, wm_task_status_name((enum wm_task_status)s),
				    json_integer((json_int_t)counts[s]));
	json_object_set_new(f, "state", json_string(wm_run_status_name(x->rs->state)));
	json_object_set_new(f, "tasks", by);
	/* This orchestrator's part (since the resume), and the run's whole. */
	json_object_set_new(f, "duration_ms", json_integer(x->rs->ended_ms - x->began_ms));
	json_object_set_new(f, "total_ms", json_integer(x->rs->ended_ms - x->rs->started_ms));
	if (x->re.slurm_exec) /* what the run cost the cluster's controller */
		json_object_set_new(
			f, "slurm_calls",
			json_integer((json_int_t)wm_exec_slurm_calls(x->re.slurm_exec)));
	audit_event(x, NULL, "run.end", f);
	wm_notifier_run_end(x->notifier, x->rs->state);
	wm_progress_event(
		x->progress,
		&(struct wm_event){ .type = WM_EV_RUN_END,
				    .task = -1,
				    .ms = (uint64_t)(x->rs->ended_ms - x->began_ms),
				    .count = (uint64_t)(x->rs->ended_ms - x->rs->started_ms) },
		f);
	json_decref(f);
}

/* <run>/metrics.json: the run in numbers, for dashboards and `wm stats`. */
static void write_metrics(struct exec *x)
{
	size_t counts[WM_TASK_STATUS_COUNT] = { 0 };
	json_t *m = json_object(), *by = json_object();
	unsigned retries = 0, denials = 0;
	struct wm_error *e = NULL;
	char *text;

	wm_run_state_count(x->rs, counts);
	for (int s = 0; s < WM_TASK_STATUS_COUNT; s++)
		json_object_set_new(by, wm_task_status_name((enum wm_task_status)s),
				    json_integer((json_int_t)counts[s]));
	for (size_t i = 0; i < x->rs->n_tasks; i++) {
		retries += x->rs->tasks[i].attempts > 1 ? x->rs->tasks[i].attempts - 1 : 0;
		denials += (unsigned)x->rs->tasks[i].n_denied;
	}
	json_object_set_new(m, "run_id", json_string(x->rs->run_id));
	json_object_set_new(m, "workflow", json_string(x->rs->name ? x->rs->name : ""));
	json_object_set_new(m, "state", json_string(wm_run_status_name(x->rs->state)));
	json_object_set_new(m, "start_ms", json_integer(x->rs->started_ms));
	json_object_set_new(m, "duration_ms", json_integer(x->rs->ended_ms - x->rs->started_ms));
	json_object_set_new(m, "tasks", by);
	json_object_set_new(m, "retries", json_integer(retries));
	json_object_set_new(m, "denials", json_integer(denials));
	text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	/* Metrics are a convenience: failing to write them does not fail the run. */
	if (!text ||
	    wm_rundir_write_file(x->t->run_dir, "metrics.json", text, strlen(text), &e) < 0) {
		wm_autofree char *why = e ? wm_error_text(e) : wm_xstrdup("out of memory");

		fprintf(stderr, "wm: warning: cannot write metrics.json: %s\n", why);
		wm_error_free(e);
	}
	free(text);
}

static enum wm_progress_mode progress_mode(const struct wm_run_options *o)
{
	const char *term = getenv("TERM");

	if (o->json)
		return WM_PROGRESS_JSON;
	if (!isatty(STDOUT_FILENO) || (term && strcmp(term, "dumb") == 0))
		return WM_PROGRESS_PLAIN; /* no escape codes */
	return WM_PROGRESS_LIVE;
}

static struct wm_progress *new_progress(const struct wm_cli *cli, const struct wm_prepared *p,
					const struct wm_run_options *o,
					const struct wm_run_target *t)
{
	struct wm_progress_config c = {
		.mode = progress_mode(o),
		.out = stdout,
		.color = cli->color,
		.verbose = o->display.verbose,
		.stream = o->display.stream,
		.tail = o->display.tail_set ? o->display.tail : WM_DEFAULT_TAIL,
		.run_dir = t->run_dir,
		.wf = p->wf,
		.rs = t->rs,
	};

	return wm_progress_new(&c);
}

/* A problem found on the way in: told to the user and kept in the audit log. */
static void record_problem(struct exec *x, const char *event, const char *what)
{
	json_t *f = json_pack("{s:s}", "problem", what); /* new ref */

	fprintf(stderr, "wm: %s: %s\n", event, what);
	audit_event(x, NULL, event, f);
	json_decref(f);
}

static void notify_problem(void *ctx, const char *event, const char *what)
{
	record_problem(ctx, event, what);
}

/* Outcomes of notifications into the audit log (this process holds the
 * run's lock); what a crash left due is sent again. */
static void open_notify(struct exec *x)
{
	struct wm_error *e = NULL;

	if (wm_notifyq_audit(x->t->run_dir, x->audit, &e) < 0) {
		wm_autofree char *why = wm_error_text(e);

		wm_error_free(e);
		record_problem(x, "notify.unavailable", why);
	}
	x->notifier = wm_notifier_new(x->p->wf, x->t->run_dir, x->t->run_id, x->t->state_dir,
				      x->secrets, notify_problem, x);
	wm_notifier_start(x->notifier);
}

static int open_recording(struct exec *x, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(x->t->run_dir, WM_RUN_AUDIT);
	wm_autofree char *warning = NULL;

	/* `wm run` made the key before the run directory, if it was missing. */
	x->key = wm_audit_key_open(x->t->state_dir, 0, err);
	if (!x->key)
		return -1;
	/* A resumed log must still end where the run's state says it does. */
	x->audit = wm_audit_open_checked(path, x->t->run_id, wm_audit_key_bytes(x->key),
					 x->rs->audit.seq, x->rs->audit.mac, &x->rs->audit.prefix,
					 x->t->accept_audit_gap ? WM_AUDIT_ACCEPT_GAP : 0, &warning,
					 err);
	if (!x->audit)
		return -1;
	if (warning)
		record_problem(x, "checkpoint.error", warning);
	for (size_t i = 0; x->t->warnings && x->t->warnings[i]; i++)
		record_problem(x, "checkpoint.error", x->t->warnings[i]);
	if (x->t->was_orphan)
		record_problem(x, "orphan.detected",
			       "the run's orchestrator died while it was running");
	x->rs->state = WM_RUN_RUNNING;
	x->began_ms = wm_wall_ms();
	if (!x->rs->started_ms)
		x->rs->started_ms = x->began_ms;
	x->rs->ended_ms = 0;
	wm_holder_release(&x->rs->orchestrator);
	if (wm_holder_self(&x->rs->orchestrator, err) < 0)
		return -1;
	/* The first checkpoint records the log's end: it must be on disk. */
	wm_run_state_set_audit(x->rs, x->audit);
	if (wm_audit_flush(x->audit, err) < 0)
		return -1;
	x->store = wm_store_open(x->t->run_dir, x->rs, x->t->journal_seq, NULL, err);
	if (!x->store)
		return -1;
	open_notify(x);
	return 0;
}

static void close_recording(struct exec *x)
{
	wm_notifier_free(x->notifier);
	wm_store_close(x->store);
	wm_audit_close(x->audit);
	wm_audit_key_free(x->key);
	wm_progress_free(x->progress);
	wm_sched_free(x->sched);
	wm_runexec_release(&x->re);
	wm_error_free(x->err);
}

static int fill_config(struct exec *x, const struct wm_run_options *o, unsigned jobs,
		       char *const *mask, struct wm_sched_config *cfg, struct wm_error **err)
{
	const struct wm_prepared *p = x->p;

	memset(cfg, 0, sizeof(*cfg));
	if (wm_runexec_build(&x->re, p, o, x->t, mask, err) < 0)
		return -1;
	cfg->wf = p->wf;
	cfg->dag = p->wf->dag;
	cfg->rs = x->rs;
	cfg->exec = x->re.exec;
	cfg->policies = p->policy;
	cfg->max_parallel = jobs;
	cfg->keep_going = o->keep_going || p->wf->keep_going;
	cfg->interactive = o->interactive;
	cfg->adopt = x->t->keep != NULL; /* resume */
	cfg->tick_ms = progress_mode(o) == WM_PROGRESS_LIVE || o->display.stream ? TICK_MS : 0;
	cfg->on_event = on_event;
	cfg->barrier = barrier;
	cfg->cache_restore = x->cache ? cache_restore : NULL;
	cfg->ctx = x;
	return 0;
}

/* The task cache, when a task uses it; one that cannot be opened is said
 * and the run goes on without it. */
static void open_cache(struct exec *x, const struct wm_cli *cli, const struct wm_run_options *o)
{
	struct wm_taskcache_config c = { .state_dir = cli->state_dir,
					 .run_dir = x->t->run_dir,
					 .run_id = x->t->run_id,
					 .p = x->p,
					 .cli_env = o->cli_env,
					 .secrets = o->secrets,
					 .mode = o->cache };
	struct wm_error *e = NULL;

	x->cache = wm_taskcache_new(&c, &e);
	if (e) {
		wm_autofree char *why = wm_error_text(e);

		record_problem(x, "cache.unavailable", why);
		wm_error_free(e);
	}
}

static int exit_code_for(enum wm_run_status s)
{
	switch (s) {
	case WM_RUN_SUCCEEDED:
		return WM_EXIT_OK;
	case WM_RUN_INTERRUPTED:
	case WM_RUN_CANCELLED:
		return WM_EXIT_INTERRUPTED;
	default:
		return WM_EXIT_FAILED;
	}
}

int wm_runner_execute(const struct wm_cli *cli, const struct wm_prepared *p,
		      const struct wm_run_options *o, struct wm_run_target *t,
		      struct wm_error **err)
{
	struct exec x = { .p = p, .t = t, .rs = t->rs, .secrets = o->secrets };
	unsigned jobs = parallelism(p, o);
	struct wm_sched_config cfg;
	enum wm_run_status outcome = WM_RUN_FAILED;
	struct wm_error *e = NULL;
	int rc = -1;

	/* A reader of our output that goes away must not take the run with
	 * it: writes fail with EPIPE instead (tasks get SIGPIPE back: the
	 * sandbox resets every signal). */
	signal(SIGPIPE, SIG_IGN);
	x.progress = new_progress(cli, p, o, t);
	if (open_recording(&x, err) < 0)
		goto out;
	if (t->on_ready)
		t->on_ready(t->ready_ctx);
	open_cache(&x, cli, o);
	if (fill_config(&x, o, jobs, cli->private_dirs, &cfg, err) < 0)
		goto out;
	x.sched = wm_sched_new(&cfg);
	audit_run_start(&x, o, jobs);
	audit_weak(&x, o);
	audit_profile_notes(&x);
	for (size_t i = 0; t->keep && i < p->wf->n_tasks; i++)
		if (t->keep[i])
			wm_sched_keep(x.sched, i);
	if (wm_sched_run(x.sched, &outcome, err) < 0)
		goto out;
	x.loop_done = true;
	t->rs->state = outcome;
	t->rs->ended_ms = wm_wall_ms();
	audit_run_end(&x);
	if (wm_audit_flush(x.audit, &e) < 0 || wm_store_checkpoint(x.store, &e) < 0)
		fail_recording(&x, e);
	write_metrics(&x);
	wm_progress_summary(x.progress, outcome);
	if (x.err) {
		/* The run stopped (or ended) without its state safely on disk: what
		 * is there is still consistent, and resume finishes it. */
		*err = x.err;
		x.err = NULL;
		/* A run directory (or its files) deleted under the run cannot be
		 * resumed, whether or not rm has finished with it yet. */
		if ((*err)->errnum == ENOENT || access(t->run_dir, F_OK) < 0)
			wm_error_wrap(err, "run %s stopped", t->run_id);
		else
			wm_error_wrap(err, "run %s stopped, resumable with `wm resume %s`",
				      t->run_id, t->run_id);
		goto out;
	}
	rc = exit_code_for(outcome);
out:
	wm_taskcache_free(x.cache);
	close_recording(&x);
	return rc;
}

struct wm_run_state *wm_runner_new_state(const struct wm_prepared *p, const char *run_id,
					 const char *run_dir, const char *workflow_path,
					 struct wm_error **err)
{
	wm_auto(wm_run_state_free) struct wm_run_state *rs = wm_run_state_new(run_id);
	char abs[PATH_MAX];

	rs->workflow_path = wm_xstrdup(realpath(workflow_path, abs) ? abs : workflow_path);
	rs->workflow_hash = wm_rundir_hash_file(run_dir, WM_RUN_WORKFLOW, err);
	if (!rs->workflow_hash)
		return NULL;
	rs->name = wm_xstrdup(p->wf->name);
	rs->created_ms = wm_wall_ms();
	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		long k = wm_run_state_add_task(rs, p->wf->tasks[i].id, err);
		struct wm_task_state *ts;

		if (k < 0)
			return NULL;
		ts = &rs->tasks[k];
		ts->policy = wm_xstrdup(p->policy[i]->name);
		ts->definition_hash = wm_xstrdup(p->def_hash[i]);
		ts->out_dir = wm_xasprintf("%s/%s", WM_RUN_OUT, p->wf->tasks[i].id);
	}
	return wm_steal(&rs);
}
