/*
 * cmd_cancel.c - `wm cancel RUN_ID`: ask a live run to stop.
 *
 * The orchestrator holding the run's lock gets SIGTERM, exactly as if its
 * user had pressed Ctrl-C: it stops launching, stops its tasks (SIGTERM,
 * then SIGKILL after a grace period), writes a checkpoint and exits 130.
 * The run stays resumable. The pid comes from the lock file and is checked
 * against its recorded start time and boot id, so a reused pid is never
 * signalled. wm cancel waits for the lock to be let go, at most --timeout
 * (default 10 s): an orchestrator that does not stop by then (stopped by
 * SIGSTOP, or stuck) is named, with its process state, and the exit code
 * is 3; the SIGTERM stays pending and takes effect when it runs again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/lock.h"
#include "state/rundir.h"

#define WAIT_STEP_MS 50
#define DEFAULT_TIMEOUT_MS 10000

/* The holder's pid, once it is proven to be the process that took the lock. */
static int verified_pid(const struct wm_holder *h, struct wm_error **err)
{
	struct wm_holder self = { 0 };
	uint64_t start = 0;
	int same_boot;

	if (h->pid <= 0)
		return wm_error_setx(err, WM_EXIT_CANNOT, "the lock file names no process");
	if (wm_holder_self(&self, err) < 0)
		return -1;
	same_boot = h->boot_id && self.boot_id && strcmp(h->boot_id, self.boot_id) == 0;
	same_boot = same_boot && h->host && self.host && strcmp(h->host, self.host) == 0;
	wm_holder_release(&self);
	if (!same_boot)
		return wm_error_setx(err, WM_EXIT_CANNOT,
				     "the run is held by pid %d on %s: cancel it there",
				     (int)h->pid, h->host ? h->host : "another host");
	if (wm_proc_start_time(h->pid, &start, NULL) < 0)
		return wm_error_setx(err, WM_EXIT_CANNOT, "pid %d is gone", (int)h->pid);
	if (start != h->start_time)
		return wm_error_setx(err, WM_EXIT_CANNOT,
				     "pid %d is not the run's orchestrator any more", (int)h->pid);
	return (int)h->pid;
}

/* The process's state letter from /proc/PID/stat ('T': stopped), or '?'. */
static char proc_state(int pid)
{
	char path[64], buf[512];
	wm_autofclose FILE *f = NULL;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')) || p[1] != ' ')
		return '?';
	return p[2];
}

static int timed_out(const char *id, int pid, uint64_t timeout_ms, struct wm_error **err)
{
	wm_autofree char *waited = wm_format_duration(timeout_ms);
	char st = proc_state(pid);

	if (st == 'T' || st == 't')
		return wm_error_setx(
			err, WM_EXIT_CANNOT,
			"run %s did not stop within %s: its orchestrator (pid %d) is "
			"stopped (SIGSTOP?); it will stop once continued (kill -CONT %d)",
			id, waited, pid, pid);
	return wm_error_setx(err, WM_EXIT_CANNOT,
			     "run %s did not stop within %s: its orchestrator (pid %d) is still "
			     "running (state %c); it has the SIGTERM, try again or wait",
			     id, waited, pid, st);
}

/* Nothing to stop: say where the run is, and succeed (the run is where a
 * cancel would have left it, or beyond). */
static int ended_already(const char *state_dir, const char *id, struct wm_error **err)
{
	struct wm_runview v;

	if (wm_runview_load_brief(state_dir, id, &v, err) < 0)
		return -1;
	if (v.orphan)
		printf("run %s is not running: its orchestrator died (wm resume %s finishes it)\n",
		       id, id);
	else
		printf("run %s is not running: it already ended (%s)\n", id, wm_runview_state(&v));
	wm_runview_release(&v);
	return WM_EXIT_OK;
}

static int parse_args(int argc, char **argv, const char **run, uint64_t *timeout_ms,
		      struct wm_error **err)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 't')
			return wm_bad_option("cancel", argv, opt, opts);
		if (wm_parse_duration(optarg, timeout_ms, err) < 0 || !*timeout_ms) {
			wm_error_free(*err);
			*err = NULL;
			return wm_usage_error(
				"cancel", "--timeout wants a duration like 10s, not '%s'", optarg);
		}
	}
	if (argc - optind != 1)
		return wm_usage_error("cancel", "wants exactly one RUN_ID");
	*run = argv[optind];
	return 0;
}

/* WM_ACTOR (set by `wm serve` to api:KEY): left in the run directory for
 * the orchestrator, whose run.interrupt audit record names it. */
static int note_actor(const char *dir, struct wm_error **err)
{
	const char *actor = getenv("WM_ACTOR");

	return actor && *actor ? wm_rundir_note_canceller(dir, actor, err) : 0;
}

int wm_cmd_cancel(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	wm_autofree char *id = NULL;
	wm_autofree char *dir = NULL;
	struct wm_holder h = { 0 };
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *run = NULL;
	int live, pid, rc;

	rc = parse_args(argc, argv, &run, &timeout_ms, err);
	if (rc)
		return rc;
	id = wm_rundir_resolve(cli->state_dir, run, err);
	if (!id)
		return -1;
	dir = wm_rundir_path(cli->state_dir, id);
	live = wm_lock_is_live(dir, err);
	if (live < 0)
		return -1;
	if (!live) /* already where cancel would take it */
		return ended_already(cli->state_dir, id, err);
	if (wm_lock_read_holder(dir, &h, err) < 0)
		return -1;
	pid = verified_pid(&h, err);
	wm_holder_release(&h);
	if (pid < 0 || note_actor(dir, err) < 0)
		return -1;
	if (kill(pid, SIGTERM) < 0)
		return wm_error_set(err, errno, "signal the orchestrator (pid %d)", pid);
	for (uint64_t waited = 0; waited < timeout_ms; waited += WAIT_STEP_MS) {
		if (wm_lock_is_live(dir, err) == 0) {
			printf("run %s cancelled; resume it with `wm resume %s`\n", id, id);
			return WM_EXIT_OK;
		}
		nanosleep(&(struct timespec){ 0, WAIT_STEP_MS * 1000000L }, NULL);
	}
	return timed_out(id, pid, timeout_ms, err);
}
