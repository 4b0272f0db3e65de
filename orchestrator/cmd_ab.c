/*
 * cmd_ab.c - `wm ab`: is workflow B really better than A?
 *
 *   wm ab A.md B.md --runs N [-j J] [--json]
 *       runs A and B alternately (A, B, A, B...) N times each, every run in
 *       a fresh empty workspace removed afterwards, through `wm run` (so
 *       each run is recorded in the state directory like any other); run k
 *       of a side gets WM_AB_RUN=k and WM_AB_SIDE=A or B in its tasks'
 *       environment.
 *   wm ab --a-runs ID,ID... | --a-name NAME   --b-runs ... | --b-name NAME
 *       compares runs already made (ids or unique prefixes; or every
 *       finished run of the named workflow in the state directory).
 *
 * The comparison itself is ab.c's; exit 0 whatever it says, 2 for bad
 * input (unknown or unfinished runs, a workflow `wm run` refuses).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/stattest.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/ab.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "orchestrator/subproc.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* The longest one run of a side may take. */
#define AB_RUN_TIMEOUT_MS (24u * 3600 * 1000)

struct ab_opts {
	const char *files[2]; /* A.md B.md */
	const char *ids[2];   /* --a-runs, --b-runs */
	const char *names[2]; /* --a-name, --b-name */
	unsigned runs, jobs;  /* --runs N, -j J (0: the workflow's) */
	bool json;
};

/* Adds the finished run `prefix` to s; an unknown or unfinished run is
 * bad input. */
static int add_run_id(const struct wm_cli *cli, const char *prefix, struct wm_ab_side *s,
		      struct wm_error **err)
{
	wm_autofree char *id = wm_rundir_resolve(cli->state_dir, prefix, err);
	struct wm_runview v = { 0 };
	int rc = 0;

	if (!id || wm_runview_load(cli->state_dir, id, &v, err) < 0)
		return -1;
	if (!v.st.rs)
		rc = wm_error_setx(err, WM_EXIT_USAGE, "run %s: %s", id, v.load_error);
	else if (!wm_ab_side_add(s, v.st.rs))
		rc = wm_error_setx(err, WM_EXIT_USAGE,
				   "run %s is %s: wm ab compares runs that succeeded or failed", id,
				   wm_runview_state(&v));
	wm_runview_release(&v);
	return rc;
}

static int side_from_ids(const struct wm_cli *cli, const char *list, struct wm_ab_side *s,
			 struct wm_error **err)
{
	wm_autofree char *copy = wm_xstrdup(list);
	char *save = NULL;

	s->label = wm_xasprintf("runs %s", list);
	for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save))
		if (add_run_id(cli, id, s, err) < 0)
			return -1;
	return 0;
}

struct by_name {
	const struct wm_cli *cli;
	struct wm_ab_side *side;
};

static void add_named(const struct wm_runview *brief, void *ctx)
{
	struct by_name *bn = ctx;
	struct wm_runview v = { 0 };

	if (wm_runview_load(bn->cli->state_dir, brief->id, &v, NULL) == 0 && v.st.rs)
		wm_ab_side_add(bn->side, v.st.rs);
	wm_runview_release(&v);
}

/* Every finished run of the workflow `name`. */
static int side_from_name(const struct wm_cli *cli, const char *name, struct wm_ab_side *s,
			  struct wm_error **err)
{
	struct by_name bn = { cli, s };

	s->label = wm_xasprintf("workflow %s", name);
	if (wm_runview_each_finished(cli->state_dir, name, add_named, &bn, err) < 0)
		return -1;
	if (!s->n_runs)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "no finished run of workflow '%s' in %s (see wm list --name)",
				     name, cli->state_dir);
	return 0;
}

/* The run id from `wm run`'s first line, "run ID". Caller frees. */
static char *run_id_of(const struct wm_buf *out)
{
	const char *s = out->data;

	if (!wm_str_has_prefix(s, "run "))
		return NULL;
	return wm_xstrndup(s + 4, strcspn(s + 4, " \n"));
}

/* argv of one `wm run` of `file` in workspace `ws`, run k of `side`. */
static char **run_argv(const struct wm_cli *cli, const struct ab_opts *o, const char *file,
		       const char *ws, unsigned k, char side)
{
	char **v = NULL;
	size_t n = 0;

	wm_strv_push(&v, &n, "/proc/self/exe");
	wm_strv_push(&v, &n, "--state-dir");
	wm_strv_push(&v, &n, cli->state_dir);
	wm_strv_push(&v, &n, "run");
	wm_strv_push(&v, &n, file);
	wm_strv_push(&v, &n, "--workspace");
	wm_strv_push(&v, &n, ws);
	wm_strv_push_owned(&v, &n, wm_xasprintf("--env=WM_AB_RUN=%u", k));
	wm_strv_push_owned(&v, &n, wm_xasprintf("--env=WM_AB_SIDE=%c", side));
	if (o->jobs)
		wm_strv_push_owned(&v, &n, wm_xasprintf("--jobs=%u", o->jobs));
	return v;
}

/* rm -rf of the workspace `ws` (an absolute path), never following a link
 * a task planted in it. */
static int remove_workspace(const char *ws, struct wm_error **err)
{
	const char *slash = strrchr(ws, '/');
	wm_autofree char *parent = wm_xstrndup(ws, slash == ws ? 1 : (size_t)(slash - ws));
	wm_autoclose int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return wm_error_set(err, errno, "open `%s`", parent);
	return wm_safe_remove_tree(dfd, ws, slash + 1, err);
}

/* Runs `file` once in a new workspace and adds the run to s. A run whose
 * tasks failed is an outcome; a run that could not start is an error. */
static int run_once(const struct wm_cli *cli, const struct ab_opts *o, int side, unsigned k,
		    struct wm_ab_side *s, struct wm_error **err)
{
	const char *tmp = getenv("TMPDIR");
	wm_autofree char *ws = wm_xasprintf("%s/wm-ab.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	wm_autostrv char **argv = NULL;
	wm_autofree char *id = NULL;
	struct wm_buf out = WM_BUF_INIT;
	struct wm_error *e = NULL;
	int status = 0, rc = -1;

	if (!mkdtemp(ws))
		return wm_error_set(err, errno, "create a workspace `%s`", ws);
	argv = run_argv(cli, o, o->files[side], ws, k, side ? 'B' : 'A');
	wm_subproc_run(argv, AB_RUN_TIMEOUT_MS, &out, &status, &e);
	id = run_id_of(&out);
	if ((status != 0 && status != WM_EXIT_FAILED) || !id) {
		wm_autofree char *why = e ? wm_error_text(e) : NULL;

		wm_error_setx(err, WM_EXIT_USAGE, "%s: wm run did not run it (exit %d)%s%s",
			      o->files[side], status, why ? ": " : "", why ? why : "");
		goto out;
	}
	rc = add_run_id(cli, id, s, err);
	if (rc == 0 && !o->json)
		fprintf(stderr, "%c %u/%u: run %s %s\n", side ? 'B' : 'A', k, o->runs, id,
			status ? "failed" : "succeeded");
out:
	if (remove_workspace(ws, rc < 0 ? NULL : err) < 0)
		rc = -1;
	wm_error_free(e);
	wm_buf_release(&out);
	return rc;
}

static int run_sides(const struct wm_cli *cli, const struct ab_opts *o, struct wm_ab_side s[2],
		     struct wm_error **err)
{
	for (int i = 0; i < 2; i++)
		s[i].label = wm_xstrdup(o->files[i]);
	for (unsigned k = 1; k <= o->runs; k++)
		for (int i = 0; i < 2; i++)
			if (run_once(cli, o, i, k, &s[i], err) < 0)
				return -1;
	return 0;
}

static int parse_count(const char *what, const char *arg, unsigned *n)
{
	char *end = NULL;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v < 1 || v > 10000)
		return wm_usage_error("ab", "%s is a whole number from 1 to 10000, not '%s'", what,
				      arg);
	*n = (unsigned)v;
	return 0;
}

/* Each side from exactly one place: a file (run --runs times), run ids, a
 * workflow name. */
static int check_sides(const struct ab_opts *o)
{
	bool files = o->files[0] != NULL;

	for (int i = 0; i < 2; i++) {
		int given = (o->ids[i] != NULL) + (o->names[i] != NULL);

		if (files && given)
			return wm_usage_error("ab", "give A.md B.md, or runs to compare, not both");
		if (!files && given != 1)
			return wm_usage_error(
				"ab",
				"side %c needs one of --%c-runs and --%c-name (or give "
				"A.md B.md --runs N)",
				i ? 'B' : 'A', i ? 'b' : 'a', i ? 'b' : 'a');
	}
	if (files && !o->runs)
		return wm_usage_error("ab", "how many runs of each? (--runs N)");
	if (!files && (o->runs || o->jobs))
		return wm_usage_error("ab", "--runs and -j are for running A.md B.md");
	return 0;
}

static int parse_opts(int argc, char **argv, struct ab_opts *o)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "a-runs", required_argument, NULL, 'a' },
		{ "b-runs", required_argument, NULL, 'b' },
		{ "a-name", required_argument, NULL, 'A' },
		{ "b-name", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc = 0;

	while (rc == 0 && (opt = getopt_long(argc, argv, ":j:", opts, NULL)) != -1) {
		if (opt == 'n')
			rc = parse_count("--runs", optarg, &o->runs);
		else if (opt == 'j')
			rc = wm_parse_jobs("ab", optarg, &o->jobs);
		else if (opt == 'J')
			o->json = true;
		else if (opt == 'a' || opt == 'b')
			o->ids[opt == 'b'] = optarg;
		else if (opt == 'A' || opt == 'B')
			o->names[opt == 'B'] = optarg;
		else
			return wm_bad_option("ab", argv, opt, opts);
	}
	if (rc)
		return rc;
	if (argc - optind == 2) {
		o->files[0] = argv[optind];
		o->files[1] = argv[optind + 1];
	} else if (argc != optind) {
		return wm_usage_error("ab", "give two workflow files, A.md B.md");
	}
	return check_sides(o);
}

int wm_cmd_ab(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct ab_opts o = { 0 };
	struct wm_ab_side s[2] = { { 0 }, { 0 } };
	int rc = parse_opts(argc, argv, &o);
	json_t *r;

	if (rc)
		return rc;
	if (wm_stat_load(err) < 0)
		return -1;
	if (o.files[0])
		rc = run_sides(cli, &o, s, err);
	for (int i = 0; rc == 0 && !o.files[0] && i < 2; i++)
		rc = o.ids[i]	  ? side_from_ids(cli, o.ids[i], &s[i], err)
		     : o.names[i] ? side_from_name(cli, o.names[i], &s[i], err)
				  : -1; /* check_sides() said so already */
	if (rc == 0) {
		r = wm_ab_report(&s[0], &s[1]);
		if (o.json) {
			json_dumpf(r, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			putchar('\n');
		} else {
			wm_ab_print(r, stdout);
		}
		json_decref(r);
	}
	wm_ab_side_release(&s[0]);
	wm_ab_side_release(&s[1]);
	return rc < 0 ? -1 : WM_EXIT_OK;
}
