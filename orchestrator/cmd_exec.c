/*
 * cmd_exec.c - `wm exec RUN_ID TASK --attempt N --kind KIND --policy-hash H`:
 * one attempt of one task of an existing run, in its sandbox, exactly as
 * the local executor would run it. Internal: the Slurm executor's batch
 * script runs it on a compute node (the state directory and the workspace
 * are on a filesystem the nodes share).
 *
 * It reads the run as it started (workflow.md, policies.yaml and
 * options.json in the run directory), resolves the task's policy under the
 * same floors, and refuses to run unless that policy's hash is the one the
 * orchestrator pinned. It writes the task's output to logs/<task>.log as
 * locally, and how the attempt ended to
 * logs/<task>.<kind>.<attempt>.result.json for the orchestrator to collect.
 * It records nothing else: the journal and the audit log are the
 * orchestrator's. SIGTERM (scancel) is passed on to the task.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/exec_result.h"
#include "orchestrator/runner.h"
#include "state/rundir.h"

struct exec_args {
	const char *run, *task, *kind, *policy_hash;
	unsigned attempt;
};

static int parse(int argc, char **argv, struct exec_args *a)
{
	static const struct option opts[] = {
		{ "attempt", required_argument, NULL, 'a' },
		{ "kind", required_argument, NULL, 'k' },
		{ "policy-hash", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	a->kind = "body";
	a->attempt = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'a')
			a->attempt = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'k')
			a->kind = optarg;
		else if (opt == 'p')
			a->policy_hash = optarg;
		else {
			wm_bad_option("exec", argv, opt, opts);
			return WM_EXIT_USAGE;
		}
	}
	if (argc - optind != 2 || !a->attempt || !a->policy_hash) {
		wm_usage_error("exec", "takes RUN_ID TASK, --attempt and --policy-hash");
		return WM_EXIT_USAGE;
	}
	a->run = argv[optind];
	a->task = argv[optind + 1];
	return 0;
}

static int kind_of(const char *name, enum wm_attempt_kind *kind)
{
	if (strcmp(name, "body") == 0)
		*kind = WM_ATTEMPT_BODY;
	else if (strcmp(name, "only_if") == 0)
		*kind = WM_ATTEMPT_ONLY_IF;
	else if (strcmp(name, "rollback") == 0)
		*kind = WM_ATTEMPT_ROLLBACK;
	else
		return -1;
	return 0;
}

/* The run as it started, prepared as resume would (floors included). */
static int prepare_run(const char *run_dir, struct wm_run_options *o, struct wm_prepared *p,
		       struct wm_error **err)
{
	wm_autofree char *file = wm_rundir_file(run_dir, WM_RUN_WORKFLOW);
	wm_autofree char *policies = wm_rundir_file(run_dir, WM_RUN_POLICIES);
	struct wm_diags diags = WM_DIAGS_INIT;
	int rc;

	if (wm_run_options_load(run_dir, o, err) < 0)
		return -1;
	if (access(policies, F_OK) == 0)
		o->workflow_policies = policies;
	rc = wm_prepare_as(file, o->workflow ? o->workflow : file, o, p, &diags, err);
	o->workflow_policies = NULL;
	wm_diags_print(&diags, stderr);
	wm_diags_release(&diags);
	if (rc < 0 && !*err)
		wm_error_setx(err, WM_EXIT_USAGE, "run's workflow does not plan any more");
	return rc;
}

static int run_attempt(const struct wm_cli *cli, const struct exec_args *a, const char *run_dir,
		       struct wm_prepared *p, const struct wm_run_options *o, size_t task,
		       enum wm_attempt_kind kind, struct wm_error **err)
{
	struct wm_exec_local_config cfg = {
		.wf = p->wf,
		.dag = p->wf->dag,
		.paths = { .run_id = a->run,
			   .run_dir = run_dir,
			   .workspace = p->workspace,
			   .cli_env = o->cli_env,
			   .mask = cli->private_dirs },
	};
	struct wm_exec_result res = { 0 };
	const struct wm_task *wt = &p->wf->tasks[task];
	uint64_t timeout = wt->timeout_ms ? wt->timeout_ms : p->policy[task]->limits.timeout_ms;
	int rc;

	wm_use_filter_cache(cli->state_dir);
	if (wm_prepare_profiles(p, err) < 0)
		return -1;
	cfg.profiles = p->profile; /* made just now */
	if (wm_exec_local_run(&cfg, task, kind, a->attempt, timeout, &res, err) < 0)
		return -1;
	rc = wm_exec_result_save(run_dir, a->task, a->kind, a->attempt, &res, err) < 0
		     ? -1
		     : res.r.status;
	wm_exec_result_release(&res);
	return rc;
}

int wm_cmd_exec(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct exec_args a = { 0 };
	struct wm_run_options o = { 0 };
	struct wm_prepared p = { 0 };
	wm_autofree char *run_id = NULL;
	wm_autofree char *run_dir = NULL;
	enum wm_attempt_kind kind;
	long task;
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc;
	if (kind_of(a.kind, &kind) < 0)
		return wm_usage_error("exec", "--kind is body, only_if or rollback");
	run_id = wm_rundir_resolve(cli->state_dir, a.run, err);
	run_dir = run_id ? wm_rundir_path(cli->state_dir, run_id) : NULL;
	a.run = run_id;
	if (!run_dir || prepare_run(run_dir, &o, &p, err) < 0) {
		rc = -1;
		goto out;
	}
	task = wm_workflow_find(p.wf, a.task);
	if (task < 0) {
		rc = wm_error_setx(err, WM_EXIT_USAGE, "run %s has no task '%s'", a.run, a.task);
		goto out;
	}
	/* The policy the orchestrator resolved, or nothing. */
	if (strcmp(p.policy_hash[task], a.policy_hash) != 0) {
		rc = wm_error_setx(err, WM_EXIT_CANNOT,
				   "task '%s': its policy here (%.12s) is not the one the run "
				   "pinned (%.12s): refusing to run it under another",
				   a.task, p.policy_hash[task], a.policy_hash);
		goto out;
	}
	rc = run_attempt(cli, &a, run_dir, &p, &o, (size_t)task, kind, err);
out:
	wm_prepared_release(&p);
	wm_run_options_release(&o);
	return rc;
}
