/*
 * cmd_cancel.c - `wm cancel RUN_ID`: ask a live run to stop.
 *
 * The orchestrator holding the run's lock gets SIGTERM, exactly as if its
 * user had pressed Ctrl-C: it stops launching, stops its tasks (SIGTERM,
 * then SIGKILL after a grace period), writes a checkpoint and exits 130.
 * The run stays resumable. The pid comes from the lock file and is checked
 * against its recorded start time and boot id, so a reused pid is never
 * signalled. wm cancel waits (up to a minute) for the lock to be let go.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "state/lock.h"
#include "state/rundir.h"

#define WAIT_STEP_MS 100
#define WAIT_MAX_MS 60000

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

int wm_cmd_cancel(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	wm_autofree char *id = NULL;
	wm_autofree char *dir = NULL;
	struct wm_holder h = { 0 };
	int live, pid;

	if (argc != 2)
		return wm_usage_error("cancel", "wants exactly one RUN_ID");
	id = wm_rundir_resolve(cli->state_dir, argv[1], err);
	if (!id)
		return -1;
	dir = wm_rundir_path(cli->state_dir, id);
	live = wm_lock_is_live(dir, err);
	if (live <= 0)
		return live < 0 ? -1
				: wm_error_setx(err, WM_EXIT_USAGE, "run %s is not running", id);
	if (wm_lock_read_holder(dir, &h, err) < 0)
		return -1;
	pid = verified_pid(&h, err);
	wm_holder_release(&h);
	if (pid < 0)
		return -1;
	if (kill(pid, SIGTERM) < 0)
		return wm_error_set(err, errno, "signal the orchestrator (pid %d)", pid);
	for (int waited = 0; waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
		if (wm_lock_is_live(dir, err) == 0) {
			printf("run %s cancelled; resume it with `wm resume %s`\n", id, id);
			return WM_EXIT_OK;
		}
		nanosleep(&(struct timespec){ 0, WAIT_STEP_MS * 1000000L }, NULL);
	}
	return wm_error_setx(err, WM_EXIT_CANNOT, "run %s is still stopping (pid %d)", id, pid);
}
