/*
 * cli.h - the command table and what every command receives.
 *
 * Each command lives in its own file (cmd_run.c, cmd_plan.c, ...) as
 *     int wm_cmd_NAME(int argc, char **argv, const struct wm_cli *cli,
 *                     struct wm_error **err);
 * argv[0] is the command's name. A command returns the process exit code
 * (>= 0), or -1 with *err set; main.c prints the error and exits with
 * err->exit_code. Commands print their own normal output.
 */
#ifndef WM_ORCHESTRATOR_CLI_H
#define WM_ORCHESTRATOR_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "workflow/workflow.h"

struct wm_cli {
	const char *state_dir; /* resolved: --state-dir, $WM_STATE_DIR, $XDG_STATE_HOME/wm,
				  ~/.local/state/wm */
	bool color;	       /* stdout is a terminal and NO_COLOR is unset */
	/* Absolute paths of wm's own directories (state, config) that every
	 * sandbox masks: tasks never see wm's keys, runs or policies. */
	char *const *private_dirs;
};

typedef int (*wm_cmd_fn)(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);

struct wm_command {
	const char *name;
	wm_cmd_fn fn; /* NULL: not implemented yet */
	const char *usage;
	const char *summary;
};

/* The table, in the order `wm help` lists it; ends with a NULL name. */
extern const struct wm_command wm_commands[];

const struct wm_command *wm_command_find(const char *name);
/* Prints "usage: wm ..." for a command to stderr; returns WM_EXIT_USAGE. */
int wm_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* `wm help CMD`, `wm CMD --help`: usage, summary and every option. */
void wm_command_help(const struct wm_command *c, FILE *f);
/* After getopt_long (with a ':' leading its optstring) returned '?' or
 * ':' (opt): prints what was wrong with the option just read, once, with
 * the usage line; returns WM_EXIT_USAGE. opts (may be NULL) give "did you
 * mean" for a misspelt long option. */
struct option;
/* --dialect NAME (mask, xc, runme, wm, auto) into *d: 0, or the usage exit
 * code after saying what is wrong. */
int wm_parse_dialect(const char *cmd, const char *name, enum wm_dialect *d);
int wm_bad_option(const char *cmd, char **argv, int opt, const struct option *opts);

/* Parses -j's argument (1..4096) for `cmd`; 0, or prints usage and returns
 * WM_EXIT_USAGE. */
int wm_parse_jobs(const char *cmd, const char *arg, unsigned *jobs);

int wm_cmd_help(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_cancel(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_logs(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_stats(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_resume(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_run(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
/* `wm run FILE TASK... --help` (--help already taken out of argv): lists
 * the parameters of those tasks. 1 when no TASK is named (the command's
 * help is meant), else an exit code, or -1 with *err set. */
int wm_cmd_run_task_help(int argc, char **argv, struct wm_error **err);
int wm_cmd_plan(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_import(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_status(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_list(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_orphans(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_audit(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_export(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_report(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_policy(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
/* `wm policy learn` (cmd_learn.c); argv[0] is "learn". */
int wm_cmd_policy_learn(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_sandbox(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_doctor(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_init(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_outputs(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_prune(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_cp(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_exec(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_image(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_cache(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_ab(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_schedule(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);
int wm_cmd_serve(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err);

#endif
