/*
 * workflow.h - what a workflow is (SPEC.md section 1): a Markdown file ->
 * tasks, their DAG and their definition hashes. The workflow module uses
 * only common/ and makes no system call but reading the file; everything
 * that runs, sandboxes or records a task lives above it.
 *
 * Lifecycle: wm_workflow_load(FILE) -> read-only use -> wm_workflow_free().
 * Loading splits the YAML front matter off (libyaml, checked against limits
 * while it parses: size, nesting, values, no aliases), parses the rest with
 * cmark, builds tasks from headings (attrs.h lists their attributes), then
 * the DAG (dag.h), once; every consumer (plan, run, resume, stats) uses
 * wf->dag rather than building its own.
 *
 * Errors: every problem goes to `diags` with its FILE:LINE:COL (1-based, in
 * the original file), all of them, not only the first. The loaders return
 * -1 when any is an error (*out is then NULL and nothing is leaked), 0
 * otherwise (warnings may be present). The input is hostile: a NUL byte
 * is an error at its place, a file larger than WM_WORKFLOW_MAX_BYTES is an
 * error and is read no further, and nothing recurses on its depth. *err is
 * set only when the file cannot be read at all (exit code WM_EXIT_USAGE).
 *
 * Ownership: the workflow owns everything reachable from it (strings,
 * vectors, tasks, DAG); callers borrow. wm_workflow_free() accepts NULL.
 *
 * Invariants of a workflow returned by a loader (or by
 * wm_workflow_parse_checked()):
 *   - n_tasks >= 1; task ids are non-empty, unique, and every `depends`
 *     entry names another task; the graph has no cycle; dag->n == n_tasks.
 *   - a task is a join node exactly when wm_task_is_join(): no body, so no
 *     argv, no text and no rollback; it runs nothing and needs no sandbox.
 *   - any other task's body has a language and a non-empty argv (front
 *     matter `interpreters` first, then the built-ins of
 *     wm_interpreter_argv()).
 * wm_workflow_parse() stops before the dependency checks: dag is NULL and
 * `depends` entries may name nothing.
 */
#ifndef WM_WORKFLOW_WORKFLOW_H
#define WM_WORKFLOW_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/error.h"
#include "common/schedule.h"

struct wm_dag;
struct wm_idmap;

struct wm_loc {
	unsigned line, col;
};

/* Choices, each listed once as X(ENUM, name as written): the enums, their
 * names and their parsing come from these lists. The order is the enum's,
 * whose numbers the definition hash records: append only. */
#define WM_PRIORITIES(X) X(LOW, "low") X(MEDIUM, "medium") X(HIGH, "high")
#define WM_CONDITIONS(X) X(SUCCESS, "success") X(FAILURE, "failure") X(ALWAYS, "always")
#define WM_ROLLBACK_MODES(X) X(OFF, "off") X(AUTO, "auto") X(MANUAL, "manual")
/* Where tasks run; INHERIT (a task that does not say) takes the workflow's,
 * and a workflow that does not say runs locally. */
#define WM_EXECUTORS(X) X(INHERIT, "inherit") X(LOCAL, "local") X(SLURM, "slurm")

enum wm_priority {
#define WM_PRIO_ENUM(E, name) WM_PRIO_##E,
	WM_PRIORITIES(WM_PRIO_ENUM) /* default: MEDIUM */
#undef WM_PRIO_ENUM
};

enum wm_condition {
#define WM_COND_ENUM(E, name) WM_COND_##E,
	/* default SUCCESS: every dependency succeeded; FAILURE: one failed at least */
	WM_CONDITIONS(WM_COND_ENUM)
#undef WM_COND_ENUM
};

enum wm_executor_kind {
#define WM_EXECUTOR_ENUM(E, name) WM_EXECUTOR_##E,
	WM_EXECUTORS(WM_EXECUTOR_ENUM)
#undef WM_EXECUTOR_ENUM
};

/* An on/off attribute that may also be left unset (then another setting
 * decides). */
enum wm_switch { WM_SWITCH_UNSET, WM_SWITCH_ON, WM_SWITCH_OFF };

enum wm_rollback_mode {
#define WM_ROLLBACK_ENUM(E, name) WM_ROLLBACK_##E,
	WM_ROLLBACK_MODES(WM_ROLLBACK_ENUM) /* default: OFF */
#undef WM_ROLLBACK_ENUM
};

/* How a file is read (dialect.c): wm's own format, or another tool's
 * Markdown translated to it. AUTO: detected (wm_dialect_detect). */
#define WM_DIALECTS(X) X(AUTO, "auto") X(WM, "wm") X(MASK, "mask") X(XC, "xc") X(RUNME, "runme")

enum wm_dialect {
#define WM_DIALECT_ENUM(E, name) WM_DIALECT_##E,
	WM_DIALECTS(WM_DIALECT_ENUM)
#undef WM_DIALECT_ENUM
};

/* Validation levels (`wm plan --level`, front matter `level:`), each
 * including the checks of the ones before it; README.md, "Validation
 * levels", says what each checks. */
#define WM_LEVELS(X) \
	X(BASIC, "basic") X(STANDARD, "standard") X(STRICT, "strict") X(PARANOID, "paranoid")

enum wm_level {
#define WM_LEVEL_ENUM(E, name) WM_LEVEL_##E,
	WM_LEVELS(WM_LEVEL_ENUM)
#undef WM_LEVEL_ENUM
};

/* A parameter (`- params:` of a task, `params:` of the front matter): a
 * value given with `wm run -p NAME=VALUE`, or its default. Each type is
 * X(ENUM, name as written). */
#define WM_PARAM_TYPES(X) X(STRING, "string") X(INT, "int") X(BOOL, "bool") X(CHOICE, "choice")

enum wm_param_type {
#define WM_PARAM_ENUM(E, name) WM_PARAM_##E,
	WM_PARAM_TYPES(WM_PARAM_ENUM)
#undef WM_PARAM_ENUM
};

struct wm_param {
	char *name; /* letters, digits, '_'; the variable is PARAM_<NAME upper-cased> */
	enum wm_param_type type;
	char *def;	/* the default, checked against the type; NULL: required */
	char **choices; /* CHOICE: NULL-terminated, at least one; else NULL */
	char *help;	/* front matter `help`, or NULL */
	struct wm_loc loc;
};

struct wm_params {
	struct wm_param *v;
	size_t n;
};

/* A runnable code block: its language, the interpreter argv it runs with
 * (the script is passed as the last argument, a file path), and its text. */
struct wm_code {
	char *lang;  /* NULL: no block (join node / no rollback); then all NULL */
	char **argv; /* NULL-terminated, e.g. {"/bin/sh", "-e", NULL} */
	char *text;
	struct wm_loc loc; /* the fence's line */
};

/* What a task's `sla` does at each of its thresholds: WARN records an
 * sla.breach event and a warning (a plain `sla: 10m`), NOTIFY also sends
 * the workflow's sla.breach notifications, CANCEL ends the task as failed
 * ("sla 1h exceeded", not retried). X(ENUM, name as written). */
#define WM_SLA_LEVELS(X) X(WARN, "warn") X(NOTIFY, "notify") X(CANCEL, "cancel")

enum wm_sla_level {
#define WM_SLA_ENUM(E, name) WM_SLA_##E,
	WM_SLA_LEVELS(WM_SLA_ENUM)
#undef WM_SLA_ENUM
		WM_SLA_LEVEL_COUNT
};

/* `- sla: 10m warn, 30m notify, 1h cancel`: each level's threshold after
 * the task's first attempt started, in ms; 0: that level is not set. */
struct wm_sla {
	uint64_t ms[WM_SLA_LEVEL_COUNT];
};

/* A repeatable attribute kept as written, each value with its place
 * (matrix, matrix_exclude, matrix_include: read when the matrix expands). */
struct wm_placed {
	char **vals;	     /* NULL-terminated; NULL: not given */
	struct wm_loc *locs; /* one per value */
};

struct wm_task {
	char *id;
	char *title;	   /* heading text */
	struct wm_loc loc; /* the heading */
	unsigned level;	   /* heading level, 2..6 */

	char **depends;		    /* NULL-terminated ids as written */
	struct wm_loc *depends_loc; /* one per entry of depends */
	char *policy;		    /* NULL: the workflow's default */
	struct wm_loc policy_loc;
	uint64_t timeout_ms; /* 0: the policy's */
	unsigned retries;
	uint64_t backoff_ms; /* default 1000 */
	enum wm_priority priority;
	enum wm_condition condition;
	char *only_if;	   /* shell command, or NULL */
	char **env;	   /* NULL-terminated KEY=VALUE */
	char *workdir;	   /* relative to the workspace, or NULL */
	struct wm_sla sla; /* all 0: none */
	char **outputs;	   /* NULL-terminated paths relative to $WM_OUT */
	enum wm_executor_kind executor;
	unsigned cpus, gpus; /* what a cluster job asks for; 0: the cluster's default */
	uint64_t memory;     /* bytes; 0: the cluster's default */
	uint64_t time_ms;    /* a cluster job's wall time; 0: from the timeout */
	/* A matrix as written (matrix.c); cleared on its instances, so only a
	 * task of a workflow still being parsed has one. */
	struct wm_placed matrix_axes, matrix_exclude, matrix_include;
	/* On a matrix instance: the matrix's id and its "axis=value" pairs in
	 * axis order (its id is matrix_of[pairs joined by ',']); else NULL. */
	char *matrix_of;
	char **matrix;

	struct wm_params params; /* `- params:`, in the order written */
	char *image;		 /* `- image: oci:...`: the root filesystem, as written, or NULL */
	bool transcript_ok;	 /* `- transcript: ok`: a body of `$ ` lines is meant */
	char **inputs;		 /* `- inputs:` globs relative to the workspace, or NULL */
	enum wm_switch cache;	 /* `- cache:`; UNSET: the workflow's */
	/* The parameters' values once bound (wm_workflow_bind_params): the
	 * workflow's and the task's as PARAM_NAME=VALUE, NULL-terminated; NULL
	 * when there are none. Part of the definition hash. */
	char **param_env;

	struct wm_code body;	 /* body.lang == NULL: a join node */
	struct wm_code rollback; /* rollback.lang == NULL: none */
	char *about;		 /* the first line of its first paragraph, or NULL */
	/* It wants a terminal (xc's `Interactive`), which a sandboxed task does
	 * not get: wm run refuses to run it. Not in native files. */
	bool needs_terminal;
};

/* A join node: a heading with an attribute list and no runnable block. It
 * succeeds when its condition allows, without starting anything. */
static inline bool wm_task_is_join(const struct wm_task *t)
{
	return t->body.lang == NULL;
}

struct wm_interpreter {
	char *lang;
	char **argv; /* NULL-terminated */
};

/* What a scheduled run does when the previous one is still going. */
#define WM_CONCURRENCY_MODES(X) X(SKIP, "skip") X(QUEUE, "queue") X(REPLACE, "replace")

enum wm_concurrency {
#define WM_CONCURRENCY_ENUM(E, name) WM_CONCURRENCY_##E,
	WM_CONCURRENCY_MODES(WM_CONCURRENCY_ENUM) /* default: SKIP */
#undef WM_CONCURRENCY_ENUM
};

/* Front matter `schedule:` and its companions (fm_sched.c). */
struct wm_sched_spec {
	char *expr;		 /* as written; NULL: not scheduled */
	struct wm_loc loc;	 /* of the expression */
	struct wm_schedule when; /* parsed (common/schedule.h) */
	uint64_t jitter_ms;	 /* `jitter:`; 0: none */
	char *timezone;		 /* `timezone:` IANA name; NULL: the host's */
	struct wm_loc timezone_loc;
	enum wm_concurrency concurrency; /* `concurrency:` */
	enum wm_catchup catchup;	 /* `catchup:`; default NONE */
};

/* Front matter `trigger:` (fm_sched.c): a signed webhook of `wm serve`,
 * POST /api/v1/hooks/NAME, starts a run with the declared params of its
 * JSON body as environment variables; a change to a workspace file that
 * matches `paths` starts one too. */
struct wm_trigger {
	char *webhook;	  /* the hook's name ([a-z0-9_-], 1..64), or NULL */
	char *secret_env; /* the variable of wm serve's environment holding its
			   * HMAC key; required with webhook */
	char **params;	  /* body fields passed on, NULL-terminated; NULL: none */
	char **paths;	  /* globs relative to the workspace (`**` any dirs); NULL: none */
	struct wm_loc loc;
};

/* The events a `notify:` entry may ask for, X(ENUM, name as written). */
#define WM_NOTIFY_EVENTS(X)                   \
	X(RUN_FAILED, "run.failed")           \
	X(RUN_SUCCEEDED, "run.succeeded")     \
	X(RUN_INTERRUPTED, "run.interrupted") \
	X(TASK_FAILED, "task.failed")         \
	X(SLA_BREACH, "sla.breach")           \
	X(LIMIT_HIT, "limit.hit")             \
	X(SECCOMP_DENIED, "seccomp.denied")

enum wm_notify_event {
#define WM_NOTIFY_ENUM(E, name) WM_NOTIFY_##E,
	WM_NOTIFY_EVENTS(WM_NOTIFY_ENUM)
#undef WM_NOTIFY_ENUM
		WM_NOTIFY_COUNT
};

/* One `notify:` entry: a webhook or a command, and the events it wants. */
struct wm_notify {
	unsigned on;	     /* bit (1u << enum wm_notify_event) per event */
	char *webhook;	     /* http(s) URL, or NULL */
	char *secret_env;    /* webhook: the variable holding the HMAC key, or NULL */
	uint64_t timeout_ms; /* webhook: per attempt; default 5s */
	unsigned retries;    /* webhook: extra attempts; default 3 */
	char **command;	     /* NULL-terminated argv, or NULL */
	char *policy;	     /* command: its sandbox policy; NULL: hardened */
	struct wm_loc loc;
};

struct wm_workflow {
	char *path;   /* as given */
	char *name;   /* front matter name, else file name without .md */
	char *policy; /* default policy; NULL: "standard" */
	struct wm_loc policy_loc;
	char *policies_file;   /* front matter `policies`, resolved against the workflow's dir */
	unsigned max_parallel; /* 0: number of CPUs */
	bool keep_going;
	bool cache; /* front matter `cache`: tasks reuse earlier results (taskcache.h) */
	enum wm_rollback_mode rollback;
	char **env; /* NULL-terminated KEY=VALUE from the front matter */
	/* Front matter `secrets`: names of variables whose values the caller
	 * gives (wm run --secret), NULL-terminated; NULL: none. */
	char **secrets;
	struct wm_interpreter *interpreters;
	size_t n_interpreters;
	struct wm_params params; /* front matter `params`: every task receives them */
	/* Front matter `level`: the least validation level the workflow asks
	 * for (a command line asking less is raised to it); BASIC: unset. */
	enum wm_level level;
	struct wm_loc level_loc;
	enum wm_executor_kind executor; /* front matter `executor`; INHERIT: local */
	struct wm_slurm_options {
		char *partition, *account, *qos; /* NULL: the cluster's default */
		char **extra;			 /* further sbatch options, allowlisted */
		unsigned max_queued;		 /* 0: 500 */
	} slurm;
	struct wm_sched_spec sched; /* front matter `schedule:` and friends */
	struct wm_notify *notify;   /* front matter `notify:`, in order */
	size_t n_notify;
	struct wm_trigger trigger; /* front matter `trigger:` */

	struct wm_task *tasks; /* file order */
	size_t n_tasks;

	/* The task graph (dag.h), built once by wm_workflow_load() and
	 * wm_workflow_parse_checked(); owned. NULL after wm_workflow_parse()
	 * and in a workflow built by hand. */
	struct wm_dag *dag;

	enum wm_dialect dialect; /* as it was read: WM or another tool's */
	/* What the dialect accepted without effect, "FILE:LINE:COL: note: ...",
	 * NULL-terminated; NULL: nothing (`wm run -v` shows them). */
	char **notes;
	/* A menu of independent commands (another tool's file, or a
	 * README.md), not a pipeline: `wm run` runs only the tasks named. */
	bool menu;

	/* id -> task index for wm_workflow_find(); owned, private to workflow.c.
	 * NULL in a workflow built by hand (find then scans the tasks). */
	struct wm_idmap *index;
};

/* The largest workflow file wm reads (16 MiB: a 10,000-task workflow is a
 * tenth of it); a larger one is an error, and is read no further. */
#define WM_WORKFLOW_MAX_BYTES (16u << 20)

/* Parses `text` (len bytes, NUL not needed) without the dependency checks;
 * `path` names the file in diagnostics and gives the default name and the
 * directory `policies` is resolved against. Same return as _load(). */
int wm_workflow_parse(const char *path, const char *text, size_t len, struct wm_workflow **out,
		      struct wm_diags *diags);
int wm_workflow_load(const char *path, struct wm_workflow **out, struct wm_diags *diags,
		     struct wm_error **err);
/* Reads `file` as if it were at `path`: diagnostics name `path` and its
 * directory anchors `policies:` (resume reads the run's copy this way). */
int wm_workflow_load_as(const char *file, const char *path, struct wm_workflow **out,
			struct wm_diags *diags, struct wm_error **err);
/* wm_workflow_load_as() reading the file in `dialect` (AUTO: detected). */
int wm_workflow_load_in(const char *file, const char *path, enum wm_dialect dialect,
			struct wm_workflow **out, struct wm_diags *diags, struct wm_error **err);
void wm_workflow_free(struct wm_workflow *wf);

/* dialect.c. The dialect of the name as written ("mask"), or -1. */
int wm_dialect_find(const char *name);
const char *wm_dialect_name(enum wm_dialect d);
/* The dialect a file is in, from its name and text (never AUTO): MASK for
 * a maskfile.md or mask's `**OPTIONS**` and argument headings, RUNME for
 * `runme:` front matter, XC for a `Tasks` section with xc's attribute
 * lines (`Requires: a, b`) or code blocks without a language, else WM. */
enum wm_dialect wm_dialect_detect(const char *path, const char *text, size_t len);
/* The native workflow text equivalent to a file in `dialect` (not AUTO or
 * WM), NUL-terminated; problems only the dialect sees go to `diags` at
 * their places. NULL when one of them is an error. Caller frees. */
char *wm_dialect_translate(enum wm_dialect dialect, const char *path, const char *text, size_t len,
			   struct wm_diags *diags);
/* wm_workflow_parse_checked() of a file in `dialect` (AUTO: detected);
 * diagnostics and the places kept in the workflow are the original
 * file's. Sets wf->dialect and wf->menu. */
int wm_workflow_parse_dialect(const char *path, const char *text, size_t len,
			      enum wm_dialect dialect, struct wm_workflow **out,
			      struct wm_diags *diags);

/* Index of the task with this id, or -1. */
long wm_workflow_find(const struct wm_workflow *wf, const char *id);

/* select.c: the tasks reachable from `roots` through what they depend on
 * (dependents false) or through what depends on them (true), roots
 * included, as a per-task flag array; the workflow must have its DAG.
 * Caller frees. */
bool *wm_workflow_closure(const struct wm_workflow *wf, const size_t *roots, size_t n_roots,
			  bool dependents);
/* Drops every task whose keep flag is false; what a kept task depends on
 * must be kept too. Rebuilds the index and the DAG; -1 if the DAG has
 * errors (it cannot, given that rule). */
int wm_workflow_keep_only(struct wm_workflow *wf, const bool *keep, struct wm_diags *diags);

/* wm_workflow_parse() followed by the dependency checks of dag.c, as
 * wm_workflow_load() does for a file: every error of the text is reported. */
int wm_workflow_parse_checked(const char *path, const char *text, size_t len,
			      struct wm_workflow **out, struct wm_diags *diags);

/* The heading-to-id rule: lower case, every run of characters other than
 * [a-z0-9] becomes one '-', none at either end. Caller frees. */
char *wm_workflow_slug(const char *title);

/* The policy a task runs under by name: its own, else the workflow's, else
 * "standard" (t may be NULL: the workflow's default). Borrowed. */
const char *wm_task_policy(const struct wm_workflow *wf, const struct wm_task *t);

/* The argv a block in `lang` runs with (the script's path is appended):
 * the front matter's `interpreters` entry, else a built-in: sh
 * (/bin/sh -e), bash (--noprofile --norc -eo pipefail), python and python3
 * (python3). wf may be NULL: built-ins only (only_if always runs with sh).
 * NULL when the language does not run. Borrowed. */
const char *const *wm_interpreter_argv(const struct wm_workflow *wf, const char *lang);

/* fm_sched.c: "run.failed" ..., "skip" ...; the event named, or -1. */
const char *wm_notify_event_name(enum wm_notify_event e);
int wm_notify_event_find(const char *name);
const char *wm_concurrency_name(enum wm_concurrency c);
/* attrs.c: "warn", "notify", "cancel". */
const char *wm_sla_level_name(enum wm_sla_level l);

/* Names of enum values as written in workflows ("high", "failure", "auto"). */
const char *wm_priority_name(enum wm_priority p);
const char *wm_condition_name(enum wm_condition c);
const char *wm_rollback_name(enum wm_rollback_mode m);
const char *wm_executor_name(enum wm_executor_kind k);
const char *wm_level_name(enum wm_level l);
/* The level named `s` ("normal" is an older name of "standard"), or -1. */
int wm_level_find(const char *s);
/* Is this an sbatch option a workflow may pass through `slurm.extra`
 * ("--constraint=gpu", "--exclusive")? Options that would change how wm
 * runs and watches the job (--output, --job-name, --wrap ...) are not. */
bool wm_slurm_extra_allowed(const char *option);

/* The largest number of tasks one matrix may expand to. */
#define WM_MATRIX_MAX 1000
/* params.c: every name of `assign` (NAME=VALUE strings) is a parameter of
 * the workflow or of one of its tasks; else an error with a hint. Called
 * before a part of the workflow is selected: a value for a task not run
 * is not a mistake. Errors go to `d` without a place (they are the command
 * line's); -1 when there are. */
int wm_workflow_check_param_names(const struct wm_workflow *wf, char *const *assign,
				  struct wm_diags *d);
/* Gives each task's parameters their values from `assign` (the last of a
 * name wins) or their defaults, and sets each task's param_env. Errors (a
 * missing required value; a value not of the type or not among the
 * choices) as above. */
int wm_workflow_bind_params(struct wm_workflow *wf, char *const *assign, struct wm_diags *d);
/* "int", "choice"... */
const char *wm_param_type_name(enum wm_param_type t);
/* "count (int, default 3)", "level (choice low|high, required): help".
 * Caller frees. */
char *wm_param_describe(const struct wm_param *p);
/* The environment variable a parameter is given in: PARAM_<NAME>. Caller frees. */
char *wm_param_var(const char *name);

/* Hex SHA-256 of a task's definition: id, dependencies, every attribute,
 * its matrix values, body and rollback (language, interpreter argv, text) and `policy_hash`
 * (the resolved policy's hash; NULL counts as ""). Equal definitions hash
 * equal; any change changes it. Resume uses it to spot edited tasks.
 * Caller frees. */
char *wm_task_definition_hash(const struct wm_task *t, const char *policy_hash);

/* Reports, as errors at the place they are written, policy names for which
 * known(name, ctx) is false: each task's `policy` attribute and the front
 * matter's `policy`. */
void wm_workflow_check_policies(const struct wm_workflow *wf,
				bool (*known)(const char *name, void *ctx), void *ctx,
				struct wm_diags *d);

#endif
