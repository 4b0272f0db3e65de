/*
 * workflow.h - a Markdown workflow (SPEC.md section 1) as data.
 *
 * wm_workflow_load() reads FILE, splits the YAML front matter off (keeping
 * the line offset), parses the rest with cmark and builds tasks from
 * headings. Every problem is added to `diags` with its FILE:LINE:COL (1-based,
 * in the original file); the function returns -1 when any is an error (the
 * workflow is then freed and *out stays NULL), 0 otherwise (warnings may be
 * present). *err is only set when the file cannot be read at all.
 *
 * The workflow owns everything reachable from it; wm_workflow_free() accepts
 * NULL. Dependency ids are checked against task ids by dag.c, not here:
 * wm_workflow_load() runs both steps so that every error is reported.
 */
#ifndef WM_ORCHESTRATOR_WORKFLOW_H
#define WM_ORCHESTRATOR_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/error.h"

struct wm_loc {
	unsigned line, col;
};

enum wm_priority {
	WM_PRIO_LOW,
	WM_PRIO_MEDIUM, /* default */
	WM_PRIO_HIGH,
};

enum wm_condition {
	WM_COND_SUCCESS, /* default: every dependency succeeded */
	WM_COND_FAILURE, /* at least one dependency failed */
	WM_COND_ALWAYS,
};

enum wm_rollback_mode {
	WM_ROLLBACK_OFF,
	WM_ROLLBACK_AUTO,
	WM_ROLLBACK_MANUAL,
};

/* A runnable code block: its language, the interpreter argv it runs with
 * (the script is passed as the last argument, a file path), and its text. */
struct wm_code {
	char *lang;       /* NULL: none (join node / no rollback) */
	char **argv;      /* NULL-terminated, e.g. {"/bin/sh", "-e", NULL} */
	char *text;
	struct wm_loc loc; /* the fence's line */
};

struct wm_task {
	char *id;
	char *title;        /* heading text */
	struct wm_loc loc;  /* the heading */
	unsigned level;     /* heading level, 2..6 */

	char **depends;     /* NULL-terminated ids as written */
	struct wm_loc *depends_loc; /* one per entry of depends */
	char *policy;       /* NULL: the workflow's default */
	struct wm_loc policy_loc;
	uint64_t timeout_ms; /* 0: the policy's */
	unsigned retries;
	uint64_t backoff_ms; /* default 1000 */
	enum wm_priority priority;
	enum wm_condition condition;
	char *only_if;      /* shell command, or NULL */
	char **env;         /* NULL-terminated KEY=VALUE */
	char *workdir;      /* relative to the workspace, or NULL */
	uint64_t sla_ms;    /* 0: none */
	char **outputs;     /* NULL-terminated paths relative to $WM_OUT */

	struct wm_code body;     /* body.lang == NULL: a join node */
	struct wm_code rollback; /* rollback.lang == NULL: none */
};

struct wm_interpreter {
	char *lang;
	char **argv; /* NULL-terminated */
};

struct wm_workflow {
	char *path;          /* as given */
	char *name;          /* front matter name, else file name without .md */
	char *policy;        /* default policy; NULL: "standard" */
	struct wm_loc policy_loc;
	char *policies_file; /* front matter `policies`, resolved against the workflow's dir */
	unsigned max_parallel; /* 0: number of CPUs */
	bool keep_going;
	enum wm_rollback_mode rollback;
	char **env;          /* NULL-terminated KEY=VALUE from the front matter */
	struct wm_interpreter *interpreters;
	size_t n_interpreters;

	struct wm_task *tasks; /* file order */
	size_t n_tasks;
};

int wm_workflow_parse(const char *path, const char *text, size_t len, struct wm_workflow **out,
		      struct wm_diags *diags);
int wm_workflow_load(const char *path, struct wm_workflow **out, struct wm_diags *diags,
		     struct wm_error **err);
void wm_workflow_free(struct wm_workflow *wf);
/* Index of the task with this id, or -1. */
long wm_workflow_find(const struct wm_workflow *wf, const char *id);

#endif
