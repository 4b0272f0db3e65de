/*
 * runner.h - what `wm run` and `wm resume` share.
 *
 * wm_prepare() turns a workflow file into something runnable: parsed and
 * planned (every diagnostic into `diags`), each task's policy resolved from
 * the policy search order (--policies, front matter `policies`,
 * $XDG_CONFIG_HOME/wm/policies.yaml, built-ins), its policy hash and its
 * definition hash (resume compares them) computed. wm_prepare_profiles()
 * then compiles one sandbox profile per distinct policy.
 *
 * wm_runner_execute() runs a prepared workflow in an existing, locked run
 * directory: it records every event in the run state, the journal (durable
 * before the next task starts), the audit log, and shows progress. It
 * returns the exit code of SPEC.md section 2 (0, 1 or 130), or -1 with *err.
 */
#ifndef WM_ORCHESTRATOR_RUNNER_H
#define WM_ORCHESTRATOR_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"
#include "common/error.h"
#include "orchestrator/cli.h"
#include "orchestrator/floor.h"
#include "orchestrator/secrets.h"
#include "policies/policies.h"
#include "sandbox/sandbox.h"
#include "state/runstate.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

#define WM_DEFAULT_TAIL 20

/* How `wm run` and `wm resume` show a run (never saved with it). */
struct wm_display {
	bool verbose;  /* -v: every event */
	bool stream;   /* --output stream: tasks' output, live, prefixed */
	unsigned tail; /* --tail N: lines of a failed task's log shown */
	bool tail_set; /* else WM_DEFAULT_TAIL */
};

/* Their entries in a getopt_long table, and the parser for them: 1 when
 * opt was one of them, 0 when not, WM_EXIT_USAGE after a bad value. */
#define WM_DISPLAY_OPTIONS                                                                 \
	{ "verbose", no_argument, NULL, 'v' }, { "output", required_argument, NULL, 'O' }, \
	{                                                                                  \
		"tail", required_argument, NULL, 'T'                                       \
	}
int wm_display_option(const char *cmd, int opt, const char *arg, struct wm_display *d);

/* wm run --cache / --no-cache (taskcache.h). */
enum wm_cache_mode { WM_CACHE_AS_WRITTEN, WM_CACHE_ALL, WM_CACHE_NONE };

struct wm_run_options {
	unsigned jobs;		   /* -j; 0: max_parallel, else the number of CPUs */
	const char *policy;	   /* --policy: a floor, and the default of tasks naming none */
	const char *policies_file; /* --policies */
	char **cli_env;		   /* -e KEY=VALUE (strv) */
	char **params;		   /* -p NAME=VALUE (strv): the workflow's parameters */
	char **only;		   /* wm run FILE TASK...: these and what they need; NULL: all */
	const char *from;	   /* --from TASK: it and what follows; what it needs is reused */
	const char *dialect;	   /* --dialect NAME; NULL: detected */
	/* --level (levels.h), raised to the workflow's `level:`; a finding that
	 * is an error refuses the run. BASIC (resume): the workflow's alone. */
	enum wm_level level;
	bool all;	       /* --all: every task of a menu (a dialect file, README.md) */
	const char *every;     /* --every SPEC: run again and again (every.c); NULL: once */
	unsigned count;	       /* --count N: with --every, stop after N runs; 0: never */
	const char *workspace; /* --workspace; NULL: the workflow's directory */
	const char *executor;  /* --executor: "local" or "slurm" for every task; NULL:
				* as the workflow says */
	bool keep_going;
	enum wm_cache_mode cache; /* --cache, --no-cache */
	struct wm_display display;
	bool dry_run;
	bool interactive;
	bool detach;
	bool json;
	bool force;	     /* resume: rerun even if nothing changed */
	bool yes;	     /* --yes: run a minimal-asking workflow the user did not write */
	const char *consent; /* how such a run was allowed: "--yes", "terminal"; NULL: not needed */
	bool file_checked;   /* the workflow file was checked (a task asks for minimal) */
	char *untrusted;     /* why the workflow file is not the user's own; NULL: it is */
	const char *workflow; /* options.json only: the workflow file as started */
	/* resume: the copy of the workflow's own `policies:` file taken when
	 * the run started, read instead of the file a task may have changed. */
	const char *workflow_policies;
	/* --secret (resume: names and files from options.json); owned
	 * (wm_secrets_free); NULL: none. */
	struct wm_secrets *secrets;
};

struct wm_prepared {
	struct wm_workflow *wf; /* with its DAG, wf->dag */
	struct wm_policy_set *set;
	char *workspace;			   /* absolute */
	struct wm_task_policies tp;		   /* each task's policy, floors, weak list */
	const struct wm_policy **policy;	   /* per task, borrowed from set (tp.policy) */
	char **policy_hash;			   /* per task */
	char **def_hash;			   /* per task: body, attributes, policy hash */
	struct wm_sandbox_profile **profiles;	   /* per distinct policy, owned */
	const struct wm_sandbox_profile **profile; /* per task, borrowed from profiles */
	size_t n_profiles;
	bool *reused; /* --from: per task, taken from an earlier run; NULL: none */
	/* Policies made for tasks with an image (`image:` or rootfs.image),
	 * its reference pinned by digest; owned, in policy[] too. */
	struct wm_policy **image_policies;
	size_t n_image_policies;
};

/* Appends to *roots the task `id` names, or every instance of the matrix
 * it names; else an error (prefixed by `what`) with "did you mean". */
int wm_task_roots(const struct wm_workflow *wf, const char *id, const char *what, size_t **roots,
		  size_t *n, size_t *alloc, struct wm_error **err);

int wm_prepare(const char *path, const struct wm_run_options *o, struct wm_prepared *p,
	       struct wm_diags *diags, struct wm_error **err);
/* wm_prepare() of the text of `file` as if it were at `path` (resume runs
 * the run's copy of the workflow this way; o->workspace must be set). */
int wm_prepare_as(const char *file, const char *path, const struct wm_run_options *o,
		  struct wm_prepared *p, struct wm_diags *diags, struct wm_error **err);
int wm_prepare_profiles(struct wm_prepared *p, struct wm_error **err);
/* Front matter `timezone` names a zone this host knows; else an error at
 * its place and -1. */
int wm_check_zone(const struct wm_workflow *wf, struct wm_diags *diags);
/* Lets the sandbox cache compiled filters, authenticated under a subkey of
 * the state directory's audit key; best effort (no key: no cache). */
void wm_use_filter_cache(const char *state_dir);
void wm_prepared_release(struct wm_prepared *p);

/* Prints what would run, in order, with each task's resolved policy. */
void wm_print_dry_run(const struct wm_prepared *p, FILE *out);

struct wm_run_target {
	const char *run_id;
	const char *run_dir;
	const char *state_dir;
	struct wm_run_state *rs; /* tasks in workflow order; borrowed */
	uint64_t journal_seq;	 /* last journal record already on disk */
	bool resumed;
	const bool *keep;      /* per task: kept from the earlier run (resume); NULL: none */
	char *const *warnings; /* problems met loading the state: checkpoint.error events */
	bool was_orphan;       /* resuming a run whose orchestrator died: orphan.detected */
	bool accept_audit_gap; /* resume --accept-audit-gap: continue a damaged log (audit.h) */
	/* Called once the run's state is on disk (first checkpoint written). */
	void (*on_ready)(void *ctx);
	void *ready_ctx;
};

/* The options a run was started with, kept in <run>/options.json so that
 * `wm resume` runs the rest the same way (workspace, -e, policies ...).
 * load fills o with strings it allocates: release with wm_run_options_release. */
int wm_run_options_save(const char *run_dir, const struct wm_run_options *o, const char *workspace,
			const char *workflow, struct wm_error **err);
/* -p NAME=VALUE has its shape (what the names are is the workflow's to
 * say): 0, or WM_EXIT_USAGE after saying why. */
int wm_param_arg_ok(const char *cmd, const char *arg);
int wm_run_options_load(const char *run_dir, struct wm_run_options *o, struct wm_error **err);
void wm_run_options_release(struct wm_run_options *o);

/* A fresh run state for a new run: every task pending, with its policy and
 * definition hash, in workflow order. Caller frees. */
struct wm_run_state *wm_runner_new_state(const struct wm_prepared *p, const char *run_id,
					 const char *run_dir, const char *workflow_path,
					 struct wm_error **err);

/* cmd_run.c: one ordinary `wm run FILE` with options o: prepare, create
 * the run, run it. The exit code, or -1 with *err. */
int wm_run_file(const struct wm_cli *cli, const char *file, struct wm_run_options *o,
		struct wm_error **err);
/* every.c: `wm run --every SPEC FILE`, wm_run_file at each fire time
 * until SIGINT/SIGTERM or --count runs. */
int wm_run_every(const struct wm_cli *cli, const char *file, struct wm_run_options *o,
		 struct wm_error **err);

int wm_runner_execute(const struct wm_cli *cli, const struct wm_prepared *p,
		      const struct wm_run_options *o, struct wm_run_target *t,
		      struct wm_error **err);

#endif
