/*
 * cmd_run.c - `wm run FILE`: plan, create the run directory, lock it, run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/fromrun.h"
#include "orchestrator/runner.h"
#include "state/audit.h"
#include "state/lock.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* -e KEY=VALUE, -p NAME=VALUE: 0, or the usage exit code. */
static int take_pair(const char *what, char ***v, size_t *n)
{
	if (!strchr(optarg, '=') || optarg[0] == '=')
		return wm_usage_error("run", "%s, not '%s'", what, optarg);
	wm_strv_push(v, n, optarg);
	return 0;
}

static int take_secret(struct wm_run_options *o)
{
	struct wm_error *e = NULL;
	wm_autofree char *why = NULL;

	if (wm_secrets_add_arg(&o->secrets, optarg, &e) == 0)
		return 0;
	why = wm_error_text(e);
	wm_error_free(e);
	return wm_usage_error("run", "%s", why);
}

/* --count N: 1 to 1000000 runs. */
static int take_count(unsigned *count)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(optarg, &end, 10);
	if (errno || end == optarg || *end || v < 1 || v > 1000000)
		return wm_usage_error("run",
				      "--count wants a number of runs from 1 to 1000000, "
				      "not '%s'",
				      optarg);
	*count = (unsigned)v;
	return 0;
}

/* Long options without a letter. */
enum { OPT_EVERY = 1000, OPT_COUNT };

/* One option of `wm run`: 0, or the usage exit code. */
static int one_option(int opt, struct wm_run_options *o, size_t *n_env, size_t *n_params)
{
	switch (opt) {
	case 'j':
		return wm_parse_jobs("run", optarg, &o->jobs) != 0 ? WM_EXIT_USAGE : 0;
	case 'o':
		o->policy = optarg;
		break;
	case 'p':
		return take_pair("-p wants NAME=VALUE", &o->params, n_params);
	case 'P':
		o->policies_file = optarg;
		break;
	case 'e':
		return take_pair("-e wants KEY=VALUE", &o->cli_env, n_env);
	case 'S':
		return take_secret(o);
	case 'L':
		if (wm_level_find(optarg) < 0)
			return wm_usage_error(
				"run", "--level is basic, standard, strict or paranoid, not '%s'",
				optarg);
		o->level = (enum wm_level)wm_level_find(optarg);
		break;
	case 'x':
		if (strcmp(optarg, "local") != 0 && strcmp(optarg, "slurm") != 0)
			return wm_usage_error("run", "--executor is local or slurm, not '%s'",
					      optarg);
		o->executor = optarg;
		break;
	case 'k':
		o->keep_going = true;
		break;
	case 'n':
		o->dry_run = true;
		break;
	case 'i':
		o->interactive = true;
		break;
	case 'd':
		o->detach = true;
		break;
	case 'w':
		o->workspace = optarg;
		break;
	case 'J':
		o->json = true;
		break;
	case 'y':
		o->yes = true;
		break;
	case 'F':
		o->from = optarg;
		break;
	case 'C':
		o->cache = WM_CACHE_ALL;
		break;
	case 'N':
		o->cache = WM_CACHE_NONE;
		break;
	case 'A':
		o->all = true;
		break;
	case OPT_EVERY:
		o->every = optarg;
		break;
	case OPT_COUNT:
		return take_count(&o->count);
	case 'D': {
		enum wm_dialect d;
		if (wm_parse_dialect("run", optarg, &d) != 0)
			return WM_EXIT_USAGE;
		o->dialect = optarg;
		break;
	}
	default:
		switch (wm_display_option("run", opt, optarg, &o->display)) {
		case 1:
			return 0;
		case 0:
			return -1; /* the caller says what was wrong */
		default:
			return WM_EXIT_USAGE;
		}
	}
	return 0;
}

/* Parses the options `wm run` shares with nothing else; returns 0, or the
 * usage exit code. */
static int parse_options(int argc, char **argv, struct wm_run_options *o, const char **file)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "policy", required_argument, NULL, 'o' },
		{ "param", required_argument, NULL, 'p' },
		{ "policies", required_argument, NULL, 'P' },
		{ "env", required_argument, NULL, 'e' },
		{ "secret", required_argument, NULL, 'S' },
		{ "executor", required_argument, NULL, 'x' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "detach", no_argument, NULL, 'd' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'J' },
		{ "yes", no_argument, NULL, 'y' },
		{ "from", required_argument, NULL, 'F' },
		{ "cache", no_argument, NULL, 'C' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "all", no_argument, NULL, 'A' },
		{ "dialect", required_argument, NULL, 'D' },
		{ "level", required_argument, NULL, 'L' },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "count", required_argument, NULL, OPT_COUNT },
		WM_DISPLAY_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	size_t n_env = 0, n_only = 0, n_params = 0;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":j:e:p:kyv", opts, NULL)) != -1)
		if ((rc = one_option(opt, o, &n_env, &n_params)) != 0)
			return rc < 0 ? wm_bad_option("run", argv, opt, opts) : rc;
	if (optind >= argc)
		return wm_usage_error("run", "missing workflow FILE");
	for (int i = optind + 1; i < argc; i++) /* TASK...: those and what they need */
		wm_strv_push(&o->only, &n_only, argv[i]);
	if (o->only && o->from)
		return wm_usage_error("run", "TASK... and --from exclude each other");
	if (o->all && (o->only || o->from))
		return wm_usage_error("run", "--all and TASK... or --from exclude each other");
	if (o->detach && o->interactive)
		return wm_usage_error("run", "--detach and --interactive exclude each other");
	if (o->every && (o->detach || o->interactive || o->dry_run))
		return wm_usage_error("run", "--every runs in the foreground, without --detach, "
					     "--interactive or --dry-run");
	if (o->count && !o->every)
		return wm_usage_error("run", "--count goes with --every");
	if (o->detach) /* its output is orchestrator.log: every event belongs there */
		o->display.verbose = true;
	*file = argv[optind];
	return 0;
}

/* --detach: the parent prints the run id and returns; the child goes on in
 * its own session, its output in <run>/orchestrator.log. Returns 1 in the
 * parent, 0 in the child, -1 on error. */
/* The detached child says when the run's state is on disk (its first
 * checkpoint written), so that `wm status`, `wm logs` or `wm cancel` right
 * after `wm run --detach` find the run loaded, not half made. */
static void say_ready(void *ctx)
{
	int *fd = ctx;

	if (*fd >= 0) {
		if (write(*fd, "r", 1) < 0) {
			/* The parent is gone: nobody waits. */
		}
		close(*fd);
		*fd = -1;
	}
}

static int detach(const char *run_dir, int *ready_fd, struct wm_error **err)
{
	int fd, null, p[2];
	pid_t pid;
	char c;

	fflush(stdout);
	if (pipe2(p, O_CLOEXEC) < 0)
		return wm_error_set(err, errno, "pipe for --detach");
	pid = fork();
	if (pid < 0)
		return wm_error_set(err, errno, "fork for --detach");
	if (pid > 0) {
		close(p[1]);
		/* One byte once ready; end of file if the child failed first (its
		 * error is in orchestrator.log). */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		close(p[0]);
		return 1;
	}
	close(p[0]);
	*ready_fd = p[1];
	setsid();
	{
		/* A task may have planted a link under this name: never followed. */
		wm_autoclose int dfd = wm_rundir_open_fd(run_dir, NULL);

		fd = dfd < 0 ? -1
			     : wm_safe_open(dfd, run_dir, "orchestrator.log",
					    O_WRONLY | O_CREAT | O_APPEND, 0600, NULL);
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || null < 0)
		_exit(WM_EXIT_FAILED);
	dup2(null, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	close(null);
	return 0;
}

/* The workflow's own policy file, kept beside workflow.md: resume reads
 * this copy, not a file the run's tasks may have rewritten since. */
static int keep_policies(const char *run_dir, const char *policies_file, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	if (!policies_file)
		return 0;
	if (wm_buf_read_file_max(&b, policies_file, WM_RUN_POLICIES_MAX) < 0) {
		wm_buf_release(&b);
		return wm_error_set(err, errno, "read policy file `%s`", policies_file);
	}
	rc = wm_rundir_write_file(run_dir, WM_RUN_POLICIES, b.data, b.len, err);
	wm_buf_release(&b);
	return rc;
}

/* --from: the outputs of what the tasks need, from an earlier run. */
static int take_reused(const struct wm_cli *cli, const struct wm_prepared *p, const char *run_dir,
		       bool json, struct wm_run_target *t, struct wm_error **err)
{
	wm_autofree char *source = NULL;
	size_t n = 0;

	if (wm_from_take(cli->state_dir, p->wf, p->reused, run_dir, &source, err) < 0)
		return -1;
	for (size_t i = 0; i < p->wf->n_tasks; i++)
		if (p->reused[i] && !json)
			printf("%s %s from run %s\n", n++ ? "  " : "reusing", p->wf->tasks[i].id,
			       source);
	t->keep = p->reused;
	return 0;
}

static int run_prepared(const struct wm_cli *cli, const char *file, struct wm_prepared *p,
			struct wm_run_options *o, struct wm_error **err)
{
	char run_id[WM_RUN_ID_LEN + 1];
	wm_autofree char *run_dir = NULL;
	wm_auto(wm_run_state_free) struct wm_run_state *rs = NULL;
	struct wm_lock *lock = NULL;
	struct wm_run_target t = { 0 };
	static int ready_fd = -1;
	int rc;

	/* The audit key is made (if missing) before the run exists: it may be
	 * made only while there is no run whose log needs the old one. */
	struct wm_audit_key *key = wm_audit_key_open(cli->state_dir, WM_AUDIT_KEY_CREATE, err);

	if (!key)
		return -1;
	wm_audit_key_free(key);
	run_dir = wm_rundir_create(cli->state_dir, file, run_id, err);
	if (!run_dir || wm_run_options_save(run_dir, o, p->workspace, file, err) < 0 ||
	    keep_policies(run_dir, p->wf->policies_file, err) < 0)
		return -1;
	rs = wm_runner_new_state(p, run_id, run_dir, file, err);
	if (!rs)
		return -1;
	if (o->detach) {
		rc = detach(run_dir, &ready_fd, err);
		if (rc != 0) {
			if (rc > 0)
				printf("%s\n", run_id);
			return rc < 0 ? -1 : WM_EXIT_OK;
		}
	} else if (!o->json) {
		printf("run %s\n", run_id);
		fflush(stdout);
	}
	lock = wm_lock_acquire(run_dir, run_id, err);
	if (!lock)
		return -1;
	t.run_id = run_id;
	t.run_dir = run_dir;
	t.state_dir = cli->state_dir;
	t.rs = rs;
	t.on_ready = say_ready;
	t.ready_ctx = &ready_fd;
	if (p->reused && take_reused(cli, p, run_dir, o->json, &t, err) < 0) {
		wm_lock_release(lock);
		return -1;
	}
	rc = wm_runner_execute(cli, p, o, &t, err);
	say_ready(&ready_fd);
	wm_lock_release(lock);
	return rc;
}

static bool ask(const char *file, size_t n)
{
	char line[64];

	fprintf(stderr,
		"wm: run %s, which asks for a policy as weak as minimal for %zu task%s? [y/N] ",
		file, n, n == 1 ? "" : "s");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 || strcmp(line, "Y\n") == 0;
}

/* A workflow the user did not write may not ask for minimal (or anything as
 * permissive) without --yes or a yes on a terminal; the audit log records
 * what was decided (runner.c, policy.weak). */
static int consent(const struct wm_prepared *p, const char *file, struct wm_run_options *o,
		   struct wm_error **err)
{
	size_t n = wm_floor_count_minimal(&p->tp, p->set);

	if (!n)
		return 0;
	o->file_checked = true;
	if (wm_file_is_users_own(file, &o->untrusted))
		return 0;
	fprintf(stderr, "wm: warning: %s %s\n", file, o->untrusted);
	if (o->yes) {
		o->consent = "--yes";
		return 0;
	}
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		if (ask(file, n)) {
			o->consent = "terminal";
			return 0;
		}
		return wm_error_setx(err, WM_EXIT_USAGE, "not confirmed: nothing was run");
	}
	return wm_error_setx(err, WM_EXIT_USAGE,
			     "%s %s and asks for a policy as weak as minimal for %zu task%s; "
			     "nothing was run. Read it, then run it with --yes, or keep its tasks "
			     "above a floor with --policy standard",
			     file, o->untrusted, n, n == 1 ? "" : "s");
}

int wm_run_file(const struct wm_cli *cli, const char *file, struct wm_run_options *o,
		struct wm_error **err)
{
	struct wm_diags diags = WM_DIAGS_INIT;
	struct wm_prepared p;
	int rc;

	rc = wm_prepare(file, o, &p, &diags, err);
	wm_diags_sort(&diags);
	wm_diags_print(&diags, stderr);
	if (rc < 0) {
		/* Kept only when wm_prepare said nothing itself (error.h). */
		wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu error%s", file, diags.n_errors,
			      diags.n_errors == 1 ? "" : "s");
		goto out;
	}
	wm_floor_print_weak(p.wf, &p.tp, stderr);
	/* Every secret given and readable, before anything runs. */
	if (wm_secrets_fetch(o->secrets, p.wf, o->cli_env, false, err) < 0) {
		rc = -1;
		goto release;
	}
	if (o->dry_run) {
		wm_print_dry_run(&p, stdout);
		rc = WM_EXIT_OK;
	} else if (consent(&p, file, o, err) < 0) {
		rc = -1;
	} else {
		wm_use_filter_cache(cli->state_dir);
		rc = wm_prepare_profiles(&p, err) < 0 ? -1 : run_prepared(cli, file, &p, o, err);
	}
release:
	wm_prepared_release(&p);
out:
	wm_diags_release(&diags);
	return rc;
}

int wm_cmd_run(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct wm_run_options o = { .level = WM_LEVEL_STANDARD };
	const char *file = NULL;
	int rc;

	rc = parse_options(argc, argv, &o, &file);
	if (rc == 0)
		rc = o.every ? wm_run_every(cli, file, &o, err) : wm_run_file(cli, file, &o, err);
	wm_strv_free(o.cli_env);
	wm_strv_free(o.params);
	wm_strv_free(o.only);
	wm_secrets_free(o.secrets);
	free(o.untrusted);
	return rc;
}

/* One task's parameters, the workflow's first (it receives both). */
static void print_task_params(const struct wm_workflow *wf, const struct wm_task *t)
{
	const struct wm_params *all[] = { &wf->params, &t->params };

	printf("usage: wm run %s %s", wf->path, t->id);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < all[k]->n; i++)
			printf(all[k]->v[i].def ? " [-p %s=VALUE]" : " -p %s=VALUE",
			       all[k]->v[i].name);
	printf("\n\n%s\n", t->title);
	if (!wf->params.n && !t->params.n)
		puts("\nIt takes no parameters.");
	else
		puts("\nParameters (in the task's environment as PARAM_<NAME>):");
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < all[k]->n; i++) {
			wm_autofree char *d = wm_param_describe(&all[k]->v[i]);
			printf("  %s\n", d);
		}
	}
}

int wm_cmd_run_task_help(int argc, char **argv, struct wm_error **err)
{
	struct wm_run_options o = { 0 };
	struct wm_diags diags = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	const char *file = NULL;
	int operands = 0, rc;

	/* Without FILE and TASK the command's help is meant, whatever else
	 * the line holds: nothing to complain about. */
	for (int i = 1; i < argc; i++)
		operands += argv[i][0] != '-';
	if (operands < 2)
		return 1;
	rc = parse_options(argc, argv, &o, &file);
	if (rc == 0 && !o.only)
		rc = 1;
	if (rc == 0 && wm_workflow_load_in(file, file,
					   o.dialect ? (enum wm_dialect)wm_dialect_find(o.dialect)
						     : WM_DIALECT_AUTO,
					   &wf, &diags, err) < 0) {
		wm_diags_print(&diags, stderr);
		rc = diags.n_errors ? wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu error%s", file,
						    diags.n_errors, diags.n_errors == 1 ? "" : "s")
				    : -1;
	}
	for (size_t i = 0; rc == 0 && o.only[i]; i++) {
		long t = wm_workflow_find(wf, o.only[i]);

		if (t < 0)
			rc = wm_error_setx(err, WM_EXIT_USAGE, "%s has no task '%s'", file,
					   o.only[i]);
		else
			print_task_params(wf, &wf->tasks[t]);
	}
	wm_workflow_free(wf);
	wm_diags_release(&diags);
	wm_strv_free(o.cli_env);
	wm_strv_free(o.params);
	wm_strv_free(o.only);
	wm_secrets_free(o.secrets);
	return rc;
}
