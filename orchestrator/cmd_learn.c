/*
 * cmd_learn.c - `wm policy learn --base BASE --name NAME [-o FILE]
 * [--grant GROUP]... -- CMD...` and `... RUN_ID|FILE.md`.
 *
 * Runs the command, or every task of the workflow in order, for real under
 * the learning sandbox of BASE (sandbox.h, wm_sandbox_profile_new_learning)
 * and writes the policy that allows what they used (policies/learn.h).
 * The tasks' output goes to stderr when the policy goes to stdout. The
 * policy is checked by loading it over the search order before it is
 * written, atomically, to FILE or stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/diag.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/attempt.h"
#include "orchestrator/cli.h"
#include "orchestrator/runner.h"
#include "policies/learn.h"
#include "policies/policies.h"
#include "policies/score.h"
#include "sandbox/sandbox.h"
#include "state/checkpoint.h"
#include "state/rundir.h"
#include "state/runstate.h"
#include "state/safeio.h"
#include "workflow/dag.h"

struct lopts {
	const char *base, *name, *out, *policies;
	uint32_t granted;
	bool command; /* `--` given: the rest is a command */
	char **args;
	int n_args;
};

struct learning {
	const struct wm_policy *base;
	struct wm_sandbox_profile *prof;
	struct wm_learned rec;
	int out_fd; /* where the tasks' stdout goes */
	size_t failed;
};

static int parse_grant(const char *name, uint32_t *granted)
{
	int g = wm_risk_group_find(name);
	struct wm_buf list = WM_BUF_INIT;

	if (g >= 0 && wm_risk_group_class(g) == WM_RISK_CRITICAL) {
		*granted |= 1u << g;
		return 0;
	}
	for (size_t i = 0; i < WM_RISK_GROUP_COUNT; i++)
		if (wm_risk_group_class(i) == WM_RISK_CRITICAL)
			wm_buf_addf(&list, "%s%s", list.len ? ", " : "", wm_risk_group_name(i));
	g = wm_usage_error("policy", "--grant: unknown group '%s' (groups: %s)", name, list.data);
	wm_buf_release(&list);
	return g;
}

static int parse_opts(int argc, char **argv, struct lopts *o)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "grant", required_argument, NULL, 'g' },
		{ "policies", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			wm_command_help(wm_command_find("policy"), stdout);
			return -2;
		case 'b':
			o->base = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			o->policies = optarg;
			break;
		case 'g':
			if ((rc = parse_grant(optarg, &o->granted)) != 0)
				return rc;
			break;
		default:
			return wm_bad_option("policy", argv, c, opts);
		}
	}
	o->command = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
	o->args = argv + optind;
	o->n_args = argc - optind;
	if (!o->base || !o->name)
		return wm_usage_error("policy", "'policy learn' needs --base BASE and --name NAME");
	if (o->n_args < 1 || (!o->command && o->n_args != 1))
		return wm_usage_error("policy", "'policy learn' takes -- CMD..., a RUN_ID or a "
						"FILE.md");
	return 0;
}

/* CPU time of the children wm has waited for, in ms. */
static uint64_t children_cpu_ms(struct rusage *ru)
{
	getrusage(RUSAGE_CHILDREN, ru);
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Runs one task (or the command) under the learning profile. */
static int learn_one(struct learning *L, struct wm_sandbox_spec *spec, const char *task,
		     struct wm_error **err)
{
	struct wm_sandbox_result res;
	struct rusage ru;
	uint64_t cpu0 = children_cpu_ms(&ru), cpu;

	spec->learned = &L->rec;
	spec->learn_task = task;
	spec->timeout_ms = L->base->limits.timeout_ms;
	L->rec.task_starts = 0;
	fflush(stdout);
	if (wm_sandbox_run(L->prof, spec, &res, err) < 0)
		return wm_error_wrapx(err, WM_SANDBOX_SETUP_FAILED, "learn `%s`", task);
	cpu = children_cpu_ms(&ru) - cpu0;
	L->rec.peak_memory =
		max_u64(L->rec.peak_memory,
			res.peak_memory ? res.peak_memory : (uint64_t)ru.ru_maxrss * 1024);
	L->rec.peak_pids = max_u64(L->rec.peak_pids, L->rec.task_starts + 1);
	L->rec.wall_ms = max_u64(L->rec.wall_ms, res.duration_ms);
	L->rec.cpu_ms = max_u64(L->rec.cpu_ms, cpu);
	wm_learn_tally_add(&L->rec.runs, task, (uint64_t)res.status);
	for (size_t i = 0; i < res.n_denied; i++)
		fprintf(stderr, "wm: learn: %s: refused %s (%llu time%s)\n", task,
			res.denied[i].name, (unsigned long long)res.denied[i].count,
			res.denied[i].count == 1 ? "" : "s");
	if (res.setup_error)
		fprintf(stderr, "wm: learn: %s: %s\n", task, res.setup_error);
	if (res.status != 0) {
		fprintf(stderr, "wm: warning: %s exited %d while learning\n", task, res.status);
		L->failed++;
	}
	wm_sandbox_result_release(&res);
	return 0;
}

static int learn_command(struct learning *L, char **argv, const struct wm_cli *cli,
			 struct wm_error **err)
{
	wm_autofree char *workspace = realpath(".", NULL);
	wm_autofree char *ws_env = NULL;
	const char *slash = strrchr(argv[0], '/');
	char *env[2] = { NULL, NULL };
	struct wm_sandbox_spec spec = { 0 };

	if (!workspace)
		return wm_error_set(err, errno, "the current directory");
	ws_env = wm_xasprintf("WM_WORKSPACE=%s", workspace);
	env[0] = ws_env;
	spec.argv = argv;
	spec.env = env;
	spec.workspace = workspace;
	spec.cwd = workspace;
	spec.mask = cli->private_dirs;
	spec.stdin_fd = STDIN_FILENO;
	spec.stdout_fd = L->out_fd;
	spec.stderr_fd = STDERR_FILENO;
	spec.forward_signals = true;
	return learn_one(L, &spec, slash ? slash + 1 : argv[0], err);
}

/* Every task of the workflow, in order, in a scratch run directory that
 * holds the scripts, $WM_OUT and $WM_IN as a run's would. */
static int learn_tasks(struct learning *L, const struct wm_prepared *p, const char *run_dir,
		       const struct wm_cli *cli, struct wm_error **err)
{
	const struct wm_workflow *wf = p->wf;
	const struct wm_dag *g = wf->dag;
	struct wm_run_paths rp = { .run_id = "learn",
				   .run_dir = run_dir,
				   .workspace = p->workspace,
				   .mask = cli->private_dirs };

	for (size_t k = 0; k < g->n; k++) {
		size_t i = g->order[k];
		struct wm_attempt a;
		int rc;

		if (!wf->tasks[i].body.lang)
			continue;
		if (wm_attempt_prepare(&rp, wf, i, wm_dag_deps(g, i), wm_dag_n_deps(g, i), 1,
				       WM_ATTEMPT_BODY, &a, err) < 0)
			return -1;
		a.spec.on_output = NULL;
		a.spec.stdout_fd = L->out_fd;
		a.spec.stderr_fd = STDERR_FILENO;
		rc = learn_one(L, &a.spec, wf->tasks[i].id, err);
		wm_attempt_release(&a);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int learn_workflow(struct learning *L, const char *file, const char *policies,
			  const struct wm_cli *cli, struct wm_error **err)
{
	struct wm_run_options o = { .policies_file = policies, .yes = true };
	struct wm_prepared p = { 0 };
	struct wm_diags d = WM_DIAGS_INIT;
	const char *env_tmp = getenv("TMPDIR");
	const char *tmp = env_tmp && *env_tmp ? env_tmp : "/tmp";
	wm_autofree char *dir = wm_xasprintf("%s/wm-learn-XXXXXX", tmp);
	wm_autoclose int tmpfd = -1;
	int rc = wm_prepare(file, &o, &p, &d, err);

	wm_diags_print(&d, stderr);
	wm_diags_release(&d);
	if (rc < 0)
		return *err ? -1 : wm_error_setx(err, WM_EXIT_USAGE, "%s has errors", file);
	if (!mkdtemp(dir)) {
		wm_prepared_release(&p);
		return wm_error_set(err, errno, "make a scratch directory in `%s`", tmp);
	}
	rc = learn_tasks(L, &p, dir, cli, err);
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd >= 0)
		wm_safe_remove_tree(tmpfd, tmp, dir + strlen(tmp) + 1, NULL);
	wm_prepared_release(&p);
	return rc;
}

/* RUN_ID: the workflow file that run was started from. */
static char *run_workflow(const char *state_dir, const char *id, struct wm_error **err)
{
	wm_autofree char *full = wm_rundir_resolve(state_dir, id, err);
	wm_autofree char *dir = full ? wm_rundir_path(state_dir, full) : NULL;
	wm_autofree char *cp = dir ? wm_rundir_file(dir, WM_CHECKPOINT_FILE) : NULL;
	struct wm_run_state *rs = cp ? wm_checkpoint_read(cp, NULL, err) : NULL;
	char *path = NULL;

	if (!rs)
		return NULL;
	if (rs->workflow_path && access(rs->workflow_path, R_OK) == 0)
		path = wm_xstrdup(rs->workflow_path);
	else
		wm_error_setx(err, WM_EXIT_USAGE, "run %s: its workflow `%s` is gone", full,
			      rs->workflow_path ? rs->workflow_path : "?");
	wm_run_state_free(rs);
	return path;
}

/* The learned file must load over the search order, as `wm policy check`
 * would load it; anything else is wm's bug, said as such. */
static int verify(const char *yaml, const char *policies, struct wm_error **err)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_policy_set *set = wm_policy_set_load_search(policies, NULL, &d, err);
	int rc = set ? wm_policy_set_load_text(set, "learned.yaml", yaml, strlen(yaml), &d, err)
		     : -1;

	wm_diags_print(&d, stderr);
	wm_diags_release(&d);
	wm_policy_set_free(set);
	if (rc < 0 && !*err)
		wm_error_setx(err, WM_EXIT_USAGE, "the learned policy does not load (see above)");
	return rc < 0 ? -1 : 0;
}

static int write_out(const char *path, const char *text, struct wm_error **err)
{
	const char *slash = strrchr(path, '/');
	wm_autofree char *dir = !slash		? wm_xstrdup(".")
				: slash == path ? wm_xstrdup("/")
						: wm_xstrndup(path, (size_t)(slash - path));
	wm_autoclose int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0)
		return wm_error_make(err, WM_EXIT_USAGE, errno, "cannot write `%s`: directory `%s`",
				     path, dir);
	if (slash && !slash[1])
		return wm_error_setx(err, WM_EXIT_USAGE, "`%s` names a directory", path);
	return wm_safe_write_atomic(dirfd, dir, slash ? slash + 1 : path, text, strlen(text), 0666,
				    err);
}

/* What was run, for the file's first comment: one line, bounded. */
static char *origin_of(const struct lopts *o)
{
	struct wm_buf b = WM_BUF_INIT;

	if (!o->command)
		wm_buf_addf(&b, "%s", o->args[0]);
	for (int i = 0; o->command && i < o->n_args; i++)
		wm_buf_addf(&b, "%s%s", i ? " " : "`", o->args[i]);
	if (o->command)
		wm_buf_addch(&b, '`');
	for (size_t i = 0; i < b.len; i++) /* a comment line: no control characters */
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	if (b.len > 200)
		wm_buf_setlen(&b, 200);
	return wm_buf_detach(&b, NULL);
}

static bool is_file(const char *arg)
{
	struct stat st;

	return wm_str_has_suffix(arg, ".md") || (stat(arg, &st) == 0 && S_ISREG(st.st_mode));
}

static int finish(struct learning *L, const struct lopts *o, struct wm_error **err)
{
	wm_autofree char *origin = origin_of(o);
	wm_autofree char *yaml = wm_learned_yaml(L->base, o->name, &L->rec, o->granted, origin);
	size_t n_refused = 0;

	if (verify(yaml, o->policies, err) < 0)
		return -1;
	if (o->out ? write_out(o->out, yaml, err) < 0 : fputs(yaml, stdout) < 0)
		return o->out ? -1 : wm_error_set(err, errno, "write the policy");
	for (size_t i = 0; i < L->rec.n_calls; i++)
		n_refused += L->rec.calls[i].refused;
	fprintf(stderr, "wm: learned %zu call%s over %s%s%s", L->rec.n_calls - n_refused,
		L->rec.n_calls - n_refused == 1 ? "" : "s", L->base->name, o->out ? " into " : "",
		o->out ? o->out : "");
	if (n_refused)
		fprintf(stderr, "; %zu needed but not granted (see the file's end)", n_refused);
	fputc('\n', stderr);
	return WM_EXIT_OK;
}

int wm_cmd_policy_learn(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct lopts o = { 0 };
	struct learning L = { .out_fd = STDOUT_FILENO };
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	struct wm_diags d = WM_DIAGS_INIT;
	wm_autofree char *file = NULL;
	int rc = parse_opts(argc, argv, &o);

	if (rc != 0 || !o.args)
		return rc == -2 ? WM_EXIT_OK : rc;
	set = wm_policy_set_load_search(o.policies, NULL, &d, err);
	wm_diags_print(&d, stderr);
	wm_diags_release(&d);
	if (!set)
		return *err ? -1 : WM_EXIT_USAGE;
	if (!(L.base = wm_policy_set_lookup(set, o.base, err)))
		return -1;
	if (wm_policy_set_get(set, o.name))
		return wm_usage_error("policy", "--name %s: a policy of that name exists", o.name);
	if (!o.command && !is_file(o.args[0]) &&
	    !(file = run_workflow(cli->state_dir, o.args[0], err)))
		return -1;
	if (!o.out)
		L.out_fd = STDERR_FILENO; /* stdout carries the policy */
	wm_use_filter_cache(cli->state_dir);
	if (wm_sandbox_profile_new_learning(L.base, o.granted, &L.prof, err) < 0)
		return -1;
	if (wm_sandbox_profile_unenforced(L.prof))
		L.rec.per_task_limits_off = wm_xstrdup(wm_sandbox_profile_unenforced(L.prof));
	if (o.command)
		rc = learn_command(&L, o.args, cli, err);
	else
		rc = learn_workflow(&L, file ? file : o.args[0], o.policies, cli, err);
	if (rc == 0)
		rc = finish(&L, &o, err);
	wm_sandbox_profile_free(L.prof);
	wm_learned_release(&L.rec);
	return rc;
}
