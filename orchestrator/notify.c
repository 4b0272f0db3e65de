/*
 * notify.c - notifications: queue and deliverer start (notify.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/event.h"
#include "orchestrator/libexec.h"
#include "orchestrator/notify.h"
#include "state/crashpoint.h"
#include "state/notifyq.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct wm_notifier {
	const struct wm_workflow *wf;
	const char *run_dir, *run_id, *state_dir;
	const struct wm_secrets *secrets;
	wm_notify_problem_fn problem;
	void *ctx;
	long next_id;
	bool full; /* the queue refused one: said once */
};

struct wm_notifier *wm_notifier_new(const struct wm_workflow *wf, const char *run_dir,
				    const char *run_id, const char *state_dir,
				    const struct wm_secrets *secrets, wm_notify_problem_fn problem,
				    void *ctx)
{
	struct wm_notifier *n = wm_xcalloc(1, sizeof(*n));

	*n = (struct wm_notifier){ .wf = wf,
				   .run_dir = run_dir,
				   .run_id = run_id,
				   .state_dir = state_dir,
				   .secrets = secrets,
				   .problem = problem,
				   .ctx = ctx,
				   .next_id = 1 };
	return n;
}

void wm_notifier_free(struct wm_notifier *n)
{
	free(n);
}

static void tell(struct wm_notifier *n, const char *event, struct wm_error *e)
{
	wm_autofree char *why = wm_error_text(e);

	wm_error_free(e);
	if (n->problem)
		n->problem(n->ctx, event, why);
}

void wm_notifier_start(struct wm_notifier *n)
{
	struct wm_notifyq q;
	struct wm_error *e = NULL;
	size_t pending;

	if (wm_notifyq_load(n->run_dir, &q, &e) < 0) {
		tell(n, "notify.unavailable", e);
		return;
	}
	n->next_id = wm_notifyq_next_id(&q);
	pending = wm_notifyq_pending(&q);
	wm_notifyq_release(&q);
	if (pending && wm_notify_spawn(n->run_dir, n->state_dir, &e) < 0)
		tell(n, "notify.unavailable", e);
}

/* The target as the deliverer needs it: never a key, only its name. */
static json_t *target_json(const struct wm_notify *nt)
{
	json_t *t = json_object(), *argv;

	if (nt->webhook) {
		json_object_set_new(t, "webhook", json_string(nt->webhook));
		if (nt->secret_env)
			json_object_set_new(t, "secret_env", json_string(nt->secret_env));
		json_object_set_new(t, "timeout_ms", json_integer((json_int_t)nt->timeout_ms));
		json_object_set_new(t, "retries", json_integer(nt->retries));
		return t;
	}
	argv = json_array();
	for (size_t i = 0; nt->command[i]; i++)
		json_array_append_new(argv, json_string(nt->command[i]));
	json_object_set_new(t, "command", argv);
	json_object_set_new(t, "policy", json_string(nt->policy ? nt->policy : "hardened"));
	return t;
}

/* What the receiver gets: the event, the run, the task; secrets masked. */
static json_t *body_json(struct wm_notifier *n, enum wm_notify_event ev, const char *task,
			 const char *detail, long id)
{
	wm_autofree char *now = wm_state_format_time(wm_wall_ms());
	wm_autofree char *delivery = wm_xasprintf("%s-%ld", n->run_id, id);
	json_t *b =
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", wm_notify_event_name(ev), "run",
			  n->run_id, "workflow", n->wf->name, "time", now, "delivery", delivery);

	json_object_set_new(b, "task", task ? json_string(task) : json_null());
	json_object_set_new(b, "detail", detail ? json_string(detail) : json_null());
	wm_secrets_mask_json(n->secrets, b);
	return b;
}

static int queue_one(struct wm_notifier *n, const struct wm_notify *nt, enum wm_notify_event ev,
		     const char *task, const char *detail, struct wm_error **err)
{
	long id = n->next_id;
	json_t *line = json_pack("{s:s, s:I, s:s, s:o, s:o}", "kind", "due", "id", (json_int_t)id,
				 "event", wm_notify_event_name(ev), "target", target_json(nt),
				 "body", body_json(n, ev, task, detail, id));
	int rc = wm_notifyq_append(n->run_dir, line, err);

	json_decref(line);
	if (rc == 0)
		n->next_id++;
	return rc;
}

void wm_notifier_event(struct wm_notifier *n, enum wm_notify_event ev, const char *task,
		       const char *detail)
{
	struct wm_error *e = NULL;
	bool queued = false;

	for (size_t i = 0; n && i < n->wf->n_notify; i++) {
		if (!(n->wf->notify[i].on & (1u << ev)))
			continue;
		if (queue_one(n, &n->wf->notify[i], ev, task, detail, &e) < 0) {
			if (!n->full)
				tell(n, "notify.dropped", e);
			else
				wm_error_free(e);
			e = NULL;
			n->full = true;
			continue;
		}
		queued = true;
	}
	if (!queued)
		return;
	/* Crash tests: the notification is due and durable, not yet sent. */
	if (wm_crashpoint_hit("notify"))
		raise(SIGKILL);
	if (wm_notify_spawn(n->run_dir, n->state_dir, &e) < 0)
		tell(n, "notify.unavailable", e);
}

void wm_notifier_on_event(struct wm_notifier *n, const struct wm_event *ev, const char *task)
{
	if (!n || !n->wf->n_notify)
		return;
	switch (ev->type) {
	case WM_EV_DECISION:
		if (ev->action && ev->action->verdict == WM_VERDICT_FAIL)
			wm_notifier_event(n, WM_NOTIFY_TASK_FAILED, task, ev->action->why);
		break;
	case WM_EV_SLA_BREACH: /* a warn level is recorded, not sent */
		if (ev->detail && strcmp(ev->detail, "warn") != 0) {
			wm_autofree char *d = wm_format_duration(ev->ms);
			wm_autofree char *what =
				wm_xasprintf("ran past its sla of %s (%s)", d, ev->detail);

			wm_notifier_event(n, WM_NOTIFY_SLA_BREACH, task, what);
		}
		break;
	case WM_EV_LIMIT_HIT:
		wm_notifier_event(n, WM_NOTIFY_LIMIT_HIT, task, ev->detail);
		break;
	case WM_EV_SECCOMP_DENIED:
		wm_notifier_event(n, WM_NOTIFY_SECCOMP_DENIED, task, ev->detail);
		break;
	default:
		break;
	}
}

void wm_notifier_run_end(struct wm_notifier *n, enum wm_run_status outcome)
{
	enum wm_notify_event ev = WM_NOTIFY_RUN_FAILED;

	if (outcome == WM_RUN_SUCCEEDED)
		ev = WM_NOTIFY_RUN_SUCCEEDED;
	else if (outcome == WM_RUN_INTERRUPTED || outcome == WM_RUN_CANCELLED)
		ev = WM_NOTIFY_RUN_INTERRUPTED;
	wm_notifier_event(n, ev, NULL, wm_run_status_name(outcome));
}

/* In the detached grandchild: stdio, fds, exec. Never returns. */
static void exec_deliverer(const char *helper, const char *run_dir, const char *state_dir,
			   const char *self)
{
	int dfd = wm_rundir_open_fd(run_dir, NULL);
	int log = dfd < 0 ? -1
			  : wm_safe_open(dfd, run_dir, "notify.log", O_WRONLY | O_CREAT | O_APPEND,
					 0600, NULL);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (log < 0 || null < 0)
		_exit(127);
	dup2(null, STDIN_FILENO);
	dup2(log, STDOUT_FILENO);
	dup2(log, STDERR_FILENO);
	closefrom(3);
	execl(helper, "wm-notify", run_dir, state_dir, self, (char *)NULL);
	_exit(127);
}

int wm_notify_spawn(const char *run_dir, const char *state_dir, struct wm_error **err)
{
	wm_autofree char *helper = wm_libexec_find("wm-notify", err);
	wm_autofree char *self = helper ? wm_self_path(err) : NULL;
	sigset_t all, none, old;
	pid_t pid;
	int status;

	if (!self)
		return -1;
	/* The child starts with every signal blocked, then takes the defaults. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		exec_deliverer(helper, run_dir, state_dir, self);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return wm_error_set(err, errno, "start wm-notify");
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}
