/*
 * cmd_outputs.c - `wm outputs RUN [TASK] [--json]`: where each task's
 * outputs are (out/<task>/ in the run directory) and what they hold, and
 * `wm cp RUN:TASK[/PATH] DEST`: one of them copied out.
 *
 * Both read what a hostile task wrote through state/outputs.h: a link is
 * shown with its target and never followed, a FIFO or device never opened.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/outputs.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* The run (a unique prefix of its id) with its tasks, loaded into *v. */
static int load_run(const struct wm_cli *cli, const char *prefix, struct wm_runview *v,
		    struct wm_error **err)
{
	wm_autofree char *id = wm_rundir_resolve(cli->state_dir, prefix, err);

	memset(v, 0, sizeof(*v));
	if (!id || wm_runview_load(cli->state_dir, id, v, err) < 0)
		return -1;
	if (!v->st.rs)
		return wm_error_setx(err, WM_EXIT_USAGE, "run %s: %s", id, v->load_error);
	return 0;
}

/* ---- wm outputs ---- */

struct listing {
	json_t *entries; /* of the task being listed */
	size_t files;
	uint64_t bytes;
};

static const char *kind(const struct wm_tree_entry *e)
{
	mode_t m = e->st.st_mode;

	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "link" : "other";
}

static int collect(const struct wm_tree_entry *e, void *ctx, struct wm_error **err)
{
	struct listing *l = ctx;
	json_t *o = json_pack("{s:s, s:s}", "path", e->path, "type", kind(e));
	char mode[8];

	(void)err;
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->st.st_mode & 07777));
	/* json_object_set_new steals the new values. */
	json_object_set_new(o, "mode", json_string(mode));
	if (S_ISREG(e->st.st_mode)) {
		json_object_set_new(o, "size", json_integer((json_int_t)e->st.st_size));
		l->files++;
		l->bytes += (uint64_t)e->st.st_size;
	} else if (e->link) {
		json_object_set_new(o, "target", json_string(e->link));
	} else if (!S_ISDIR(e->st.st_mode)) {
		json_object_set_new(o, "what", json_string(wm_file_type_name(e->st.st_mode)));
	}
	if (e->error)
		json_object_set_new(o, "error", json_string(strerror(e->error)));
	json_array_append_new(l->entries, o); /* steals */
	return 0;
}

/* One task's outputs as JSON: {task, state, dir, exists, files, bytes, entries}. */
static json_t *task_outputs(int dfd, const struct wm_runview *v, const struct wm_task_state *t,
			    struct wm_error **err)
{
	wm_autofree char *rel = wm_xasprintf(WM_RUN_OUT "/%s", t->id);
	wm_autofree char *dir = wm_rundir_out_path(v->dir, t->id);
	struct listing l = { .entries = json_array() };
	struct wm_error *e = NULL;
	bool exists = true;

	if (wm_tree_walk(dfd, v->dir, rel, collect, &l, &e) < 0) {
		exists = false;
		if (e->errnum != ENOENT) {
			wm_err_pass(err, e);
			json_decref(l.entries);
			return NULL;
		}
		wm_error_free(e);
	}
	return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:o}", "task", t->id, "state",
			 wm_task_status_name(t->state), "dir", dir, "exists", exists, "files",
			 (json_int_t)l.files, "bytes", (json_int_t)l.bytes, "entries", l.entries);
}

static void print_entry(json_t *e)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *error = json_string_value(json_object_get(e, "error"));
	json_t *size = json_object_get(e, "size");
	wm_autofree char *human =
		size ? wm_format_size_human((uint64_t)json_integer_value(size)) : wm_xstrdup("-");

	if (error)
		printf("  %6s  %s/  (cannot read: %s)\n", "?", path, error);
	else if (strcmp(type, "link") == 0)
		printf("  %6s  %s -> %s  (symbolic link, not followed)\n", human, path,
		       json_string_value(json_object_get(e, "target")));
	else if (strcmp(type, "other") == 0)
		printf("  %6s  %s  (%s, not copied)\n", human, path,
		       json_string_value(json_object_get(e, "what")));
	else if (strcmp(type, "file") == 0)
		printf("  %6s  %s\n", human, path);
}

static void print_task(json_t *t)
{
	json_int_t files = json_integer_value(json_object_get(t, "files"));
	wm_autofree char *size =
		wm_format_size_human((uint64_t)json_integer_value(json_object_get(t, "bytes")));
	json_t *e;
	size_t i;

	printf("%s: %s/", json_string_value(json_object_get(t, "task")),
	       json_string_value(json_object_get(t, "dir")));
	if (!json_is_true(json_object_get(t, "exists")))
		printf("  (none: the task has not run)\n");
	else if (!json_array_size(json_object_get(t, "entries")))
		printf("  (empty)\n");
	else
		printf("  (%lld file%s, %s)\n", (long long)files, files == 1 ? "" : "s", size);
	json_array_foreach(json_object_get(t, "entries"), i, e) print_entry(e);
}

int wm_cmd_outputs(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct wm_runview v = { 0 };
	wm_autoclose int dfd = -1;
	json_t *arr = json_array();
	bool as_json = false;
	long only = -1;
	int opt, rc = -1;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'j') {
			json_decref(arr);
			return wm_bad_option("outputs", argv, opt, opts);
		}
		as_json = true;
	}
	if (optind >= argc || argc - optind > 2) {
		json_decref(arr);
		return wm_usage_error("outputs", "wants RUN and at most one TASK");
	}
	if (load_run(cli, argv[optind], &v, err) < 0 ||
	    (optind + 1 < argc && (only = wm_runview_task_index(&v, argv[optind + 1], err)) < 0) ||
	    (dfd = wm_rundir_open_fd(v.dir, err)) < 0)
		goto out;
	for (size_t i = 0; i < v.st.rs->n_tasks; i++) {
		json_t *t;

		if (only >= 0 && (long)i != only)
			continue;
		if (!(t = task_outputs(dfd, &v, &v.st.rs->tasks[i], err)))
			goto out;
		if (!as_json)
			print_task(t);
		json_array_append_new(arr, t); /* steals */
	}
	if (as_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	rc = WM_EXIT_OK;
out:
	json_decref(arr);
	wm_runview_release(&v);
	return rc;
}

/* ---- wm cp ---- */

/* "TASK/a//./b/" -> out/TASK/a/b; a ".." anywhere is refused. */
static int source_path(const char *spec, struct wm_buf *rel, char **task, struct wm_error **err)
{
	wm_autofree char *copy = wm_xstrdup(spec);
	char *save = NULL;
	bool first = true;

	wm_buf_addstr(rel, WM_RUN_OUT);
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, "..") == 0)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "`..` in `%s`: wm cp copies from inside the task's "
					     "outputs only",
					     spec);
		if (strcmp(c, ".") == 0 && !first)
			continue;
		if (first)
			*task = wm_xstrdup(c);
		wm_buf_addf(rel, "/%s", c);
		first = false;
	}
	if (first)
		return wm_error_setx(err, WM_EXIT_USAGE, "no task in `%s` (want RUN:TASK[/PATH])",
				     spec);
	return 0;
}

static void print_copied(const struct wm_copy_report *r)
{
	wm_autofree char *size = wm_format_size_human(r->bytes);

	for (size_t i = 0; i < r->n_skipped; i++)
		fprintf(stderr, "wm: warning: %s\n", r->skipped[i]);
	printf("copied %zu file%s", r->files, r->files == 1 ? "" : "s");
	if (r->dirs)
		printf(" in %zu director%s", r->dirs, r->dirs == 1 ? "y" : "ies");
	printf(" (%s) to %s\n", size, r->dest);
}

int wm_cmd_cp(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct wm_runview v = { 0 };
	struct wm_copy_report rep = { 0 };
	struct wm_buf rel = WM_BUF_INIT;
	wm_autofree char *run = NULL;
	wm_autofree char *task = NULL;
	wm_autoclose int dfd = -1;
	const char *colon;
	int rc = -1;

	if (argc > 1 && argv[1][0] == '-' && argv[1][1])
		return wm_usage_error("cp", "unknown option '%s'", argv[1]);
	if (argc != 3)
		return wm_usage_error("cp", "wants RUN:TASK[/PATH] and DEST");
	colon = strchr(argv[1], ':');
	if (!colon || colon == argv[1])
		return wm_usage_error("cp", "'%s' is not RUN:TASK[/PATH]", argv[1]);
	run = wm_xstrndup(argv[1], (size_t)(colon - argv[1]));
	if (source_path(colon + 1, &rel, &task, err) < 0 || load_run(cli, run, &v, err) < 0 ||
	    wm_runview_task_index(&v, task, err) < 0 || (dfd = wm_rundir_open_fd(v.dir, err)) < 0)
		goto out;
	if (wm_copy_out(dfd, v.dir, rel.data, argv[2], &rep, err) < 0)
		goto out;
	print_copied(&rep);
	rc = WM_EXIT_OK;
	if (rep.n_skipped)
		rc = wm_error_set(err, 0, "%zu entr%s not copied (see the warnings above)",
				  rep.n_skipped, rep.n_skipped == 1 ? "y was" : "ies were");
out:
	wm_copy_report_release(&rep);
	wm_buf_release(&rel);
	wm_runview_release(&v);
	return rc;
}
