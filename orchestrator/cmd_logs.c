/*
 * cmd_logs.c - `wm logs RUN_ID [TASK] [-f]`: a run's task output.
 *
 * Without TASK every task's log is shown, in workflow order, each under a
 * "==> task <==" header (like tail). -f follows TASK's log (or every log)
 * until the run's orchestrator lets go of its lock; if it let go because it
 * died (the run is left orphaned), -f says so and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/lock.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define FOLLOW_POLL_MS 200

struct log_cursor {
	char *task;
	char *name; /* logs/<task>.log */
	char *path;
	int dfd; /* the run directory */
	off_t offset;
};

/* Copies what the log gained since the cursor; returns bytes copied or -1
 * with *err (a link or FIFO planted as a log is refused, never followed). */
static ssize_t drain(struct log_cursor *c, bool header, bool *last_was_this, struct wm_error **err)
{
	struct wm_error *e = NULL;
	wm_autoclose int fd = wm_safe_open(c->dfd, c->path, c->name, O_RDONLY, 0, &e);
	char buf[65536];
	ssize_t n, total = 0;

	if (fd < 0) {
		if (e->errnum == ENOENT) {
			wm_error_free(e);
			return 0;
		}
		wm_err_pass(err, e);
		return -1;
	}
	if (lseek(fd, c->offset, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (header && !*last_was_this) {
			printf("==> %s <==\n", c->task);
			*last_was_this = true;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		c->offset += n;
		total += n;
	}
	fflush(stdout);
	if (n < 0)
		return wm_error_set(err, errno, "read `%s/%s`", c->path, c->name);
	return total;
}

static int show(struct log_cursor *cur, size_t n, bool follow, const char *run_dir,
		struct wm_error **err)
{
	size_t last = (size_t)-1;

	for (;;) {
		int live = follow ? wm_lock_is_live(run_dir, err) : 0;

		if (live < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			bool same = last == i;
			ssize_t got = drain(&cur[i], n > 1, &same, err);

			if (got < 0)
				return -1;
			if (got > 0)
				last = i;
		}
		if (!live)
			return WM_EXIT_OK;
		nanosleep(&(struct timespec){ 0, FOLLOW_POLL_MS * 1000000L }, NULL);
	}
}

/* After following: did the run end, or did its orchestrator die? */
static int ended_well(const struct wm_cli *cli, const char *id, struct wm_error **err)
{
	struct wm_runview v;
	int rc = WM_EXIT_OK;

	if (wm_runview_load_brief(cli->state_dir, id, &v, err) < 0)
		return -1;
	if (v.orphan) {
		pid_t pid = v.from_summary ? v.sum.orchestrator.pid
			    : v.st.rs	   ? v.st.rs->orchestrator.pid
					   : 0;

		rc = wm_error_setx(
			err, WM_EXIT_FAILED,
			"run %s: its orchestrator (pid %d) died before the run ended; the "
			"run is orphaned: `wm resume %s` finishes it",
			id, (int)pid, id);
	}
	wm_runview_release(&v);
	return rc;
}

int wm_cmd_logs(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct wm_runview v = { 0 };
	struct log_cursor *cur = NULL;
	wm_autofree char *id = NULL;
	bool follow = false;
	wm_autoclose int dfd = -1;
	size_t n = 0;
	int opt, rc = -1;

	while ((opt = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		if (opt != 'f')
			return wm_bad_option("logs", argv, opt, opts);
		follow = true;
	}
	if (optind >= argc || argc - optind > 2)
		return wm_usage_error("logs", "wants RUN_ID and at most one TASK");
	id = wm_rundir_resolve(cli->state_dir, argv[optind], err);
	if (!id || wm_runview_load(cli->state_dir, id, &v, err) < 0)
		return -1;
	if (!v.st.rs) {
		wm_error_setx(err, WM_EXIT_USAGE, "run %s: %s", id, v.load_error);
		goto out;
	}
	dfd = wm_rundir_open_fd(v.dir, err);
	if (dfd < 0)
		goto out;
	cur = wm_xcalloc(v.st.rs->n_tasks + 1, sizeof(*cur));
	for (size_t i = 0; i < v.st.rs->n_tasks; i++) {
		const char *task = v.st.rs->tasks[i].id;

		if (optind + 1 < argc && strcmp(task, argv[optind + 1]) != 0)
			continue;
		cur[n].task = wm_xstrdup(task);
		cur[n].name = wm_xasprintf(WM_RUN_LOGS "/%s.log", task);
		cur[n].path = wm_xstrdup(v.dir);
		cur[n].dfd = dfd;
		n++;
	}
	if (!n) {
		wm_runview_task_index(&v, argv[optind + 1], err);
		goto out;
	}
	rc = show(cur, n, follow, v.dir, err);
	if (rc == WM_EXIT_OK && follow)
		rc = ended_well(cli, id, err);
out:
	for (size_t i = 0; i < n; i++) {
		free(cur[i].task);
		free(cur[i].path);
		free(cur[i].name);
	}
	free(cur);
	wm_runview_release(&v);
	return rc;
}
