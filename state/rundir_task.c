/*
 * rundir_task.c - a task's files in its run directory, and the run's small
 * files (options, the cancel note), created relative to the run
 * directory's fd without following links (rundir.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* A task id as a file name: plain, no '/', no dot name. */
static int name_ok(const char *what, const char *name, struct wm_error **err)
{
	if (!name || strchr(name, '/') || !wm_safe_rel_ok(name))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s `%s` cannot be a file name", what,
				     name ? name : "");
	return 0;
}

char *wm_rundir_write_script(const char *run_dir, const char *task_id, const char *kind,
			     const char *text, struct wm_error **err)
{
	wm_autoclose int dfd = -1;
	wm_autoclose int sdir = -1;
	wm_autoclose int fd = -1;
	wm_autofree char *name = NULL;
	wm_autofree char *shown = wm_xasprintf("%s/" WM_RUN_SCRIPTS, run_dir);
	size_t len = text ? strlen(text) : 0;

	if (name_ok("task id", task_id, err) < 0 || name_ok("kind", kind, err) < 0)
		return NULL;
	name = wm_xasprintf("%s.%s", task_id, kind);
	if ((dfd = wm_rundir_open_fd(run_dir, err)) < 0 ||
	    (sdir = wm_safe_opendir(dfd, run_dir, WM_RUN_SCRIPTS, true, 0700, err)) < 0 ||
	    /* 0644 inside the 0700 run directory: no other user of the host
	     * reaches it, and a task whose uid is not the file's reads it
	     * through its bind mount even where id-mapped mounts are missing
	     * (the body is the workflow's text, no secret). */
	    (fd = wm_safe_open(sdir, shown, name, O_WRONLY | O_CREAT | O_TRUNC, 0644, err)) < 0)
		return NULL;
	if (wm_write_all(fd, text ? text : "", len) < 0) {
		wm_error_set(err, errno, "write `%s/%s`", shown, name);
		return NULL;
	}
	return wm_xasprintf("%s/%s", shown, name);
}

int wm_rundir_open_log(const char *run_dir, const char *task_id, struct wm_error **err)
{
	wm_autoclose int dfd = -1;
	wm_autoclose int ldir = -1;
	wm_autofree char *name = NULL;
	wm_autofree char *shown = wm_xasprintf("%s/" WM_RUN_LOGS, run_dir);

	if (name_ok("task id", task_id, err) < 0)
		return -1;
	name = wm_xasprintf("%s.log", task_id);
	if ((dfd = wm_rundir_open_fd(run_dir, err)) < 0 ||
	    (ldir = wm_safe_opendir(dfd, run_dir, WM_RUN_LOGS, true, 0700, err)) < 0)
		return -1;
	return wm_safe_open(ldir, shown, name, O_WRONLY | O_CREAT | O_APPEND, 0600, err);
}

/* <run_dir>/<sub>/<name> as a directory that is no link, empty first when
 * asked: its fd. `dfd` is the run directory, `run_dir` its path as shown. */
static int make_dir_at(int dfd, const char *run_dir, const char *sub, const char *name, bool empty,
		       struct wm_error **err)
{
	wm_autofree char *rel = wm_xasprintf("%s/%s", sub, name);

	if (empty && wm_safe_remove_tree(dfd, run_dir, rel, err) < 0)
		return -1;
	return wm_safe_opendir(dfd, run_dir, rel, true, 0700, err);
}

/* The same by path: the directory's path. */
static char *make_dir(const char *run_dir, const char *sub, const char *name, bool empty,
		      struct wm_error **err)
{
	wm_autoclose int dfd = -1;
	wm_autoclose int fd = -1;

	if ((dfd = wm_rundir_open_fd(run_dir, err)) < 0)
		return NULL;
	fd = make_dir_at(dfd, run_dir, sub, name, empty, err);
	if (fd < 0)
		return NULL;
	return wm_xasprintf("%s/%s/%s", run_dir, sub, name);
}

int wm_rundir_make_out_at(int run_fd, const char *run_dir, const char *task_id, bool empty,
			  struct wm_error **err)
{
	if (name_ok("task id", task_id, err) < 0)
		return -1;
	return make_dir_at(run_fd, run_dir, WM_RUN_OUT, task_id, empty, err);
}

char *wm_rundir_make_out(const char *run_dir, const char *task_id, bool empty,
			 struct wm_error **err)
{
	if (name_ok("task id", task_id, err) < 0)
		return NULL;
	return make_dir(run_dir, WM_RUN_OUT, task_id, empty, err);
}

char *wm_rundir_make_in(const char *run_dir, const char *task_id, const char *dep,
			struct wm_error **err)
{
	wm_autofree char *out = NULL;
	wm_autofree char *rel = NULL;

	if (name_ok("task id", task_id, err) < 0 || (dep && name_ok("task id", dep, err) < 0))
		return NULL;
	if (!dep)
		return make_dir(run_dir, WM_RUN_IN, task_id, false, err);
	out = make_dir(run_dir, WM_RUN_OUT, dep, false, err);
	if (!out)
		return NULL;
	rel = wm_xasprintf("%s/%s", task_id, dep);
	return make_dir(run_dir, WM_RUN_IN, rel, false, err);
}

int wm_rundir_write_file(const char *run_dir, const char *name, const void *data, size_t len,
			 struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);

	if (dfd < 0)
		return -1;
	return wm_safe_write_atomic(dfd, run_dir, name, data, len, 0600, err);
}

int wm_rundir_read_file(const char *run_dir, const char *name, size_t limit, struct wm_buf *out,
			struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);

	if (dfd < 0)
		return -1;
	return wm_safe_read(dfd, run_dir, name, limit, name, out, err);
}

int wm_rundir_note_canceller(const char *run_dir, const char *actor, struct wm_error **err)
{
	json_t *o = json_pack("{s:s, s:i}", "actor", actor, "pid", (int)getpid());
	wm_autofree char *text = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (!text)
		return wm_error_set(err, ENOMEM, "note who cancels");
	return wm_rundir_write_file(run_dir, WM_RUN_CANCEL, text, strlen(text), err);
}

char *wm_rundir_take_canceller(const char *run_dir)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, NULL);
	struct wm_buf b = WM_BUF_INIT;
	char *actor = NULL;
	json_t *o;

	if (dfd < 0)
		return NULL;
	if (wm_safe_read(dfd, run_dir, WM_RUN_CANCEL, 4096, WM_RUN_CANCEL, &b, NULL) == 0) {
		o = json_loadb(b.data, b.len, 0, NULL); /* new ref */
		if (json_is_string(json_object_get(o, "actor")))
			actor = wm_xstrdup(json_string_value(json_object_get(o, "actor")));
		json_decref(o);
		unlinkat(dfd, WM_RUN_CANCEL, 0);
	}
	wm_buf_release(&b);
	return actor;
}
