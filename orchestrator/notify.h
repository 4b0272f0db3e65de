/*
 * notify.h - the orchestrator's side of notifications (front matter
 * `notify:`, README "Notifications").
 *
 * The orchestrator never sends anything itself: an event a `notify:`
 * entry asks for becomes a line in the run's queue (state/notifyq.h),
 * durable at once, and a delivery process (build/wm-notify, found with
 * wm_libexec_find) is started, detached, to send it. The orchestrator goes
 * on at once: a slow or dead receiver costs it one fork per notification.
 * Outcomes come back through the queue and reach the audit log when the
 * run's lock holder copies them there (wm_notifyq_audit): the orchestrator
 * at the start and end of a run, wm-notify once the run has ended.
 *
 * Lifecycle: wm_notifier_new (NULL when the workflow has no `notify:`) ->
 * wm_notifier_start (resume: sends what a crash left due) ->
 * wm_notifier_event()... -> wm_notifier_free.
 */
#ifndef WM_ORCHESTRATOR_NOTIFY_H
#define WM_ORCHESTRATOR_NOTIFY_H

#include <stdbool.h>

#include "common/error.h"
#include "orchestrator/secrets.h"
#include "state/audit.h"
#include "state/runstate.h"
#include "workflow/workflow.h"

struct wm_notifier;

/* What could not be queued or started is told through `problem` (for the
 * audit log: event "notify.dropped" or "notify.unavailable"). */
typedef void (*wm_notify_problem_fn)(void *ctx, const char *event, const char *what);

struct wm_notifier *wm_notifier_new(const struct wm_workflow *wf, const char *run_dir,
				    const char *run_id, const char *state_dir,
				    const struct wm_secrets *secrets, wm_notify_problem_fn problem,
				    void *ctx);
/* Loads the queue: continues its ids, starts a deliverer when something is
 * pending. n may be NULL (no `notify:` now): pending lines are still sent
 * when a deliverer can be found. */
void wm_notifier_start(struct wm_notifier *n);
/* Queues event `ev` (task: its id or NULL; detail: what happened, may be
 * NULL) for every entry that asks for it, and starts a deliverer. */
void wm_notifier_event(struct wm_notifier *n, enum wm_notify_event ev, const char *task,
		       const char *detail);
/* The run's events that notifications are about (task.failed, sla.breach,
 * limit.hit, seccomp.denied), from the scheduler's event; n may be NULL. */
struct wm_event;
void wm_notifier_on_event(struct wm_notifier *n, const struct wm_event *ev, const char *task);
/* run.succeeded, run.failed or run.interrupted, as the run ended. */
void wm_notifier_run_end(struct wm_notifier *n, enum wm_run_status outcome);
void wm_notifier_free(struct wm_notifier *n);

/* Starts build/wm-notify for run_dir, detached (its own session, stdio to
 * <run>/notify.log), with this process's environment (webhook keys are
 * read from it). */
int wm_notify_spawn(const char *run_dir, const char *state_dir, struct wm_error **err);

#endif
