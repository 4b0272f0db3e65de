/*
 * main.c - build/wm-notify RUN_DIR STATE_DIR WM: sends a run's pending
 * notifications (state/notifyq.h), then records the outcomes in the run's
 * audit log once the run's lock is free.
 *
 * wm starts it, detached, whenever a notification falls due (and `wm
 * resume` when a crash left one due); it is never linked into wm, which
 * keeps libcurl out of every wm start. One deliverer at a time per run,
 * by an flock on <run>/notify.lock: a second one exits at once. The
 * holder lets go of that lock before looking at the queue a last time, so
 * a notification queued while it finished is never left behind (the
 * orchestrator appends before it starts a deliverer). Exit status: 0, or 2
 * for a bad command line; what failed to send is in the queue and the
 * audit log, what went wrong otherwise in <run>/notify.log.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/notify/send.h"
#include "state/audit.h"
#include "state/lock.h"
#include "state/notifyq.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* How often the lock of a run still going is tried, for the audit. */
#define LOCK_POLL_US 500000

struct ctx {
	const char *run_dir, *state_dir, *wm;
};

static void complain(const char *what, struct wm_error *e)
{
	wm_autofree char *why = e ? wm_error_text(e) : NULL;

	fprintf(stderr, "wm-notify: %s%s%s\n", what, why ? ": " : "", why ? why : "");
	wm_error_free(e);
}

/* The deliverers' lock: its fd, or -1 when another deliverer holds it. */
static int take_lock(const struct ctx *c)
{
	wm_autoclose int dfd = wm_rundir_open_fd(c->run_dir, NULL);
	int fd = dfd < 0 ? -1
			 : wm_safe_open(dfd, c->run_dir, "notify.lock", O_RDWR | O_CREAT, 0600,
					NULL);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static char **argv_of(json_t *a)
{
	char **v = wm_xcalloc(json_array_size(a) + 1, sizeof(*v));

	for (size_t i = 0; i < json_array_size(a); i++)
		v[i] = wm_xstrdup(json_string_value(json_array_get(a, i)) ?: "");
	return v;
}

/* Sends one; its result line is appended whatever happened. */
static void send_one(const struct ctx *c, const struct wm_notifyq_item *it)
{
	json_t *t = json_object_get(it->due, "target"), *body = json_object_get(it->due, "body");
	wm_autofree char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	wm_autostrv char **argv = NULL;
	struct wm_send s = {
		.event = json_string_value(json_object_get(it->due, "event")),
		.delivery = json_string_value(json_object_get(body, "delivery")),
		.body = text ? text : "{}",
		.url = json_string_value(json_object_get(t, "webhook")),
		.secret_env = json_string_value(json_object_get(t, "secret_env")),
		.timeout_ms = (long)json_integer_value(json_object_get(t, "timeout_ms")),
		.retries = (unsigned)json_integer_value(json_object_get(t, "retries")),
		.policy = json_string_value(json_object_get(t, "policy")),
		.wm = c->wm,
		.state_dir = c->state_dir,
		.run_dir = c->run_dir,
	};
	struct wm_send_result r = { 0 };
	struct wm_error *e = NULL;
	json_t *line;
	int rc;

	if (!s.event || !s.delivery || (!s.url && !json_is_array(json_object_get(t, "command")))) {
		r.detail = wm_xstrdup("a queue line wm-notify cannot read");
		rc = -1;
	} else if (s.url) {
		if (s.timeout_ms <= 0)
			s.timeout_ms = 5000;
		rc = wm_send_webhook(&s, &r);
	} else {
		argv = argv_of(json_object_get(t, "command"));
		s.command = argv;
		s.policy = s.policy ? s.policy : "hardened";
		rc = wm_send_command(&s, &r);
	}
	line = json_pack("{s:s, s:I, s:b, s:I, s:s}", "kind", "result", "id", (json_int_t)it->id,
			 "ok", rc == 0, "attempts", (json_int_t)r.attempts, "detail",
			 r.detail ? r.detail : "");
	if (wm_notifyq_append(c->run_dir, line, &e) < 0)
		complain("cannot record a result", e);
	json_decref(line);
	free(r.detail);
}

/* Sends what is pending (send) or counts it; the count, or -1 when the
 * queue cannot be read. */
static long pending(const struct ctx *c, bool send)
{
	struct wm_notifyq q;
	struct wm_error *e = NULL;
	long n;

	if (wm_notifyq_load(c->run_dir, &q, &e) < 0) {
		complain("cannot read the queue", e);
		return -1;
	}
	for (size_t i = 0; send && i < q.n; i++)
		if (!q.v[i].result)
			send_one(c, &q.v[i]);
	n = (long)wm_notifyq_pending(&q);
	wm_notifyq_release(&q);
	return n;
}

static void copy_to_audit(const struct ctx *c, const char *run_id)
{
	wm_autofree char *path = wm_rundir_file(c->run_dir, WM_RUN_AUDIT);
	wm_autofree char *warning = NULL;
	struct wm_error *e = NULL;
	struct wm_audit_key *key = wm_audit_key_open(c->state_dir, 0, &e);
	struct wm_audit *a =
		key ? wm_audit_open(path, run_id, wm_audit_key_bytes(key), &warning, &e) : NULL;

	if (a && wm_notifyq_audit(c->run_dir, a, &e) == 0)
		e = NULL;
	if (e)
		complain("cannot record outcomes in the audit log", e);
	wm_audit_close(a);
	wm_audit_key_free(key);
}

/* Once the run's lock is free (its orchestrator done), outcomes go to the
 * audit log under it. */
static void audit_when_free(const struct ctx *c)
{
	const char *slash = strrchr(c->run_dir, '/');
	const char *run_id = slash ? slash + 1 : c->run_dir;

	for (;;) {
		struct wm_error *e = NULL;
		struct wm_lock *l = wm_lock_acquire(c->run_dir, run_id, &e);

		if (l) {
			copy_to_audit(c, run_id);
			wm_lock_release(l);
			return;
		}
		if (e->exit_code != WM_EXIT_CANNOT) {
			complain("cannot take the run's lock", e);
			return;
		}
		wm_error_free(e);
		usleep(LOCK_POLL_US);
	}
}

int main(int argc, char **argv)
{
	struct ctx c;
	int lock;

	if (argc != 4) {
		fputs("usage: wm-notify RUN_DIR STATE_DIR WM (started by wm itself)\n", stderr);
		return WM_EXIT_USAGE;
	}
	c = (struct ctx){ .run_dir = argv[1], .state_dir = argv[2], .wm = argv[3] };
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		complain("cannot initialise libsodium or libcurl", NULL);
		return WM_EXIT_FAILED;
	}
	do {
		lock = take_lock(&c);
		if (lock < 0)
			return WM_EXIT_OK; /* another deliverer has it */
		pending(&c, true);
		close(lock);
		/* Looked at after letting go: what came meanwhile is ours, or
		 * the next deliverer's, never nobody's. */
	} while (pending(&c, false) > 0);
	audit_when_free(&c);
	curl_global_cleanup();
	return WM_EXIT_OK;
}
