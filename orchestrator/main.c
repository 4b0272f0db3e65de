/*
 * main.c - wm's entry point: global options, command dispatch, and the one
 * place that prints an error and chooses the exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"

const struct wm_command wm_commands[] = {
	{ "init", wm_cmd_init,
	  "init [--template NAME] [--force] [FILE]\n"
	  "       init --list",
	  "write a starting workflow from a template" },
	{ "run", wm_cmd_run,
	  "run FILE [TASK]... [--from TASK] [-j N] [--policy NAME] [--policies FILE] [-e "
	  "KEY=VALUE]... [--keep-going]\n"
	  "       [--secret NAME[=@FILE]]... [--dry-run] [--interactive] [--detach]\n"
	  "       [--workspace DIR] [--json] [--yes] [--executor local|slurm] [-v]\n"
	  "       [--output compact|stream] [--tail N] [-p NAME=VALUE]...\n"
	  "       [--cache | --no-cache] [--level basic|standard|strict|paranoid]\n"
	  "       [--every SPEC [--count N]]\n"
	  "       run FILE TASK --help   (the task's parameters)\n"
	  "       run FILE --all | TASK... [--dialect mask|xc|runme|wm]   (a menu: another\n"
	  "       tool's file, a README.md)",
	  "run a workflow, each task in its sandbox" },
	{ "resume", wm_cmd_resume,
	  "resume [RUN_ID] [-j N] [--force] [--reload] [--json] [--accept-audit-gap] [-v]\n"
	  "       [--output compact|stream] [--tail N] [-p NAME=VALUE]...",
	  "finish a run whose orchestrator died" },
	{ "plan", wm_cmd_plan,
	  "plan FILE [--format text|dot|json] [--policy NAME] [--level LEVEL]\n"
	  "       [--dialect mask|xc|runme|wm]\n"
	  "       plan FILE --explain [--format text|json] [--policy NAME]",
	  "validate a workflow and show its DAG" },
	{ "import", wm_cmd_import, "import [--dialect mask|xc|runme] FILE [-o OUT]",
	  "write another tool's Markdown tasks as a native workflow" },
	{ "status", wm_cmd_status, "status [RUN_ID] [--json]",
	  "show one run (default: the newest)" },
	{ "list", wm_cmd_list,
	  "list [--json | -q] [--state STATE[,STATE]...] [--name GLOB] [--since WHEN]",
	  "list runs, newest first" },
	{ "orphans", wm_cmd_orphans, "orphans [--json | -q] [--name GLOB] [--since WHEN]",
	  "list runs whose orchestrator died" },
	{ "cancel", wm_cmd_cancel, "cancel RUN_ID [--timeout D]", "stop a live run gracefully" },
	{ "logs", wm_cmd_logs, "logs RUN_ID [TASK] [-f]", "show a run's task output" },
	{ "stats", wm_cmd_stats,
	  "stats [RUN_ID | --since WHEN] [--json]\n"
	  "       stats --trend NAME [--by day|week] [--json]",
	  "statistics of one run or of all history" },
	{ "audit", wm_cmd_audit,
	  "audit show [RUN_ID] [--task T] [--event E] [--since TIME] [--json]\n"
	  "       audit verify [RUN_ID]\n"
	  "       audit rekey",
	  "show or verify a run's audit log; replace a lost audit key" },
	{ "policy", wm_cmd_policy,
	  "policy list | show NAME | check FILE | diff A B | score NAME [--json] | import-oci "
	  "FILE.json --name N\n"
	  "       policy learn --base BASE --name NAME [-o FILE] [--grant GROUP]... -- CMD... | "
	  "RUN_ID | FILE.md",
	  "inspect, check, score and learn security policies" },
	{ "sandbox", wm_cmd_sandbox,
	  "sandbox [--policy NAME] [--policies FILE] [--workspace DIR] [--timeout D] -- CMD "
	  "[ARG]...",
	  "run one command in a sandbox" },
	{ "outputs", wm_cmd_outputs, "outputs RUN_ID [TASK] [--json]",
	  "show where a run's task outputs are, file by file" },
	{ "cp", wm_cmd_cp, "cp RUN_ID:TASK[/PATH] DEST",
	  "copy a task's output file or directory out" },
	{ "prune", wm_cmd_prune,
	  "prune [--keep N] [--older-than AGE] [--dry-run] [--force] [--json]",
	  "remove old runs from the state directory" },
	{ "cache", wm_cmd_cache,
	  "cache ls [--json] | show KEY [--json] | rm KEY... | prune [--older-than AGE]",
	  "list, show or remove the task cache's entries" },
	{ "ab", wm_cmd_ab,
	  "ab A.md B.md --runs N [-j J] [--json]\n"
	  "       ab --a-runs ID,ID... | --a-name NAME  --b-runs ID,ID... | --b-name NAME [--json]",
	  "compare two workflows, or two sets of runs, with statistical tests" },
	{ "export", wm_cmd_export, "export RUN_ID -o FILE.tar.zst",
	  "bundle a run directory for review" },
	{ "report", wm_cmd_report, "report RUN_ID -o FILE.html | -o - | --json",
	  "one run as a self-contained HTML page (or its run document as JSON)" },
	{ "doctor", wm_cmd_doctor, "doctor [--json] [--clean]",
	  "show which kernel features this host offers" },
	{ "exec", wm_cmd_exec,
	  "exec RUN_ID TASK --attempt N --kind body|only_if|rollback --policy-hash H",
	  "internal: one attempt of a run's task in its sandbox (cluster executors run it)" },
	{ "image", wm_cmd_image,
	  "image ls [--json] | inspect REF|DIGEST [--json] | rm DIGEST|REF... | prune",
	  "list, inspect and remove the images tasks run in" },
	{ "serve", wm_cmd_serve,
	  "serve [--listen ADDR:PORT] [--workflows DIR] [--no-auth-read] [--cors ORIGIN]\n"
	  "       [--rate N] [--burst N] [--body-limit SIZE] [--max-streams N] [--heartbeat N]\n"
	  "       serve token create --role read|run [--name NAME] | token list [--json]\n"
	  "       serve token revoke NAME",
	  "the REST API and live dashboard over the state directory" },
	{ "schedule", wm_cmd_schedule,
	  "schedule next FILE [-n N] [--after TIME]\n"
	  "       schedule list [--json] | pause NAME | resume NAME",
	  "show, pause and resume scheduled workflows" },
	{ "help", wm_cmd_help, "help [COMMAND]", "show help" },
	{ NULL, NULL, NULL, NULL },
};

const struct wm_command *wm_command_find(const char *name)
{
	for (const struct wm_command *c = wm_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int wm_usage_error(const char *cmd, const char *fmt, ...)
{
	const struct wm_command *c = cmd ? wm_command_find(cmd) : NULL;
	va_list ap;

	fputs("wm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "usage: wm %s\n", c->usage);
	else
		fputs("usage: wm [--state-dir DIR] COMMAND [ARGS]... (see 'wm help')\n", stderr);
	return WM_EXIT_USAGE;
}

int wm_parse_jobs(const char *cmd, const char *arg, unsigned *jobs)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 4096)
		return wm_usage_error(cmd, "-j wants a number from 1 to 4096, not '%s'", arg);
	*jobs = (unsigned)v;
	return 0;
}

static void print_overview(FILE *f)
{
	fputs("usage: wm [--state-dir DIR] COMMAND [ARGS]...\n\n"
	      "wm runs a Markdown workflow as a DAG of sandboxed tasks.\n\nCommands:\n",
	      f);
	for (const struct wm_command *c = wm_commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fputs("\nGlobal options:\n"
	      "  --state-dir DIR  where runs are kept (else $WM_STATE_DIR, $XDG_STATE_HOME/wm,\n"
	      "                   ~/.local/state/wm)\n"
	      "  --version        print the version\n\n"
	      "'wm help COMMAND' shows one command; 'man wm' has the whole story.\n",
	      f);
}

static int unknown_command(const char *name);

int wm_cmd_help(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	const struct wm_command *c;

	(void)cli;
	(void)err;
	if (argc < 2) {
		print_overview(stdout);
		return WM_EXIT_OK;
	}
	c = wm_command_find(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	wm_command_help(c, stdout);
	return WM_EXIT_OK;
}

static char *default_state_dir(void)
{
	const char *v = getenv("WM_STATE_DIR");

	if (v && *v)
		return wm_xstrdup(v);
	v = getenv("XDG_STATE_HOME");
	if (v && *v)
		return wm_xasprintf("%s/wm", v);
	v = getenv("HOME");
	if (v && *v)
		return wm_xasprintf("%s/.local/state/wm", v);
	return wm_xstrdup("/tmp/wm-state");
}

/* An absolute form of `path`, resolved when it exists. */
static char *absolute(const char *path)
{
	char *real = realpath(path, NULL);
	char cwd[4096];

	if (real || path[0] == '/')
		return real ? real : wm_xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return wm_xstrdup(path);
	return wm_xasprintf("%s/%s", cwd, path);
}

/* wm's own directories, which tasks must never see: the state directory
 * and the user's config (policies, the policy floor). The sandbox adds
 * its cache itself. */
static char **private_dirs(const char *state_dir)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char **v = NULL;
	size_t n = 0;

	wm_strv_push_owned(&v, &n, absolute(state_dir));
	if (xdg && xdg[0] == '/')
		wm_strv_push_owned(&v, &n, wm_xasprintf("%s/wm", xdg));
	else if (home && home[0] == '/')
		wm_strv_push_owned(&v, &n, wm_xasprintf("%s/.config/wm", home));
	return v;
}

/* Global options after the command are taken out of its arguments, up to
 * a `--` (and for `sandbox`, up to the command it runs): `wm logs RUN
 * --state-dir D` means what `wm --state-dir D logs RUN` does. -h and
 * --help there ask for the command's help. Returns the new argc. */
static int take_globals(int argc, char **argv, bool stop_at_operand, char **state_dir, bool *help)
{
	int out = 1, i = 1;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0 || (stop_at_operand && a[0] != '-'))
			break;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
		} else if (strncmp(a, "--state-dir=", 12) == 0) {
			free(*state_dir);
			*state_dir = wm_xstrdup(a + 12);
		} else if (strcmp(a, "--state-dir") == 0 && i + 1 < argc) {
			free(*state_dir);
			*state_dir = wm_xstrdup(argv[++i]);
		} else {
			argv[out++] = argv[i];
			/* sandbox: an option's value is not the command */
			if (stop_at_operand && a[1] == '-' && !strchr(a, '=') && i + 1 < argc)
				argv[out++] = argv[++i];
		}
	}
	while (i < argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	return out;
}

static int unknown_command(const char *name)
{
	const char *names[64], *hint;
	size_t n = 0;

	for (const struct wm_command *c = wm_commands; c->name && n < 64; c++)
		names[n++] = c->name;
	hint = wm_suggest(name, names, n);
	if (hint)
		return wm_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", name,
				      hint);
	return wm_usage_error(NULL, "unknown command '%s'", name);
}

/* Options before the command; returns -1 to go on, else the exit code. */
static int global_options(int argc, char **argv, char **state_dir)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			free(*state_dir);
			*state_dir = wm_xstrdup(optarg);
			break;
		case 'V':
			printf("wm %s\n", WM_VERSION);
			return WM_EXIT_OK;
		case 'h':
			print_overview(stdout);
			return WM_EXIT_OK;
		default:
			return wm_bad_option(NULL, argv, opt, opts);
		}
	}
	if (optind >= argc) {
		print_overview(stderr);
		return WM_EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	wm_autofree char *state_dir = NULL;
	wm_autostrv char **private = NULL;
	struct wm_error *err = NULL;
	const struct wm_command *c;
	struct wm_cli cli = { 0 };
	const char *nc;
	bool help = false;
	int rc;

	opterr = 0; /* every option error is said once, by wm_bad_option */
	if ((rc = global_options(argc, argv, &state_dir)) >= 0)
		return rc;
	c = wm_command_find(argv[optind]);
	if (!c)
		return unknown_command(argv[optind]);
	/* Commands parse their own options from a fresh getopt state. */
	argc -= optind;
	argv += optind;
	optind = 0;
	argc = take_globals(argc, argv, strcmp(c->name, "sandbox") == 0, &state_dir, &help);
	if (help && c->fn == wm_cmd_run && (rc = wm_cmd_run_task_help(argc, argv, &err)) != 1) {
		if (rc < 0) {
			wm_error_print(err, stderr);
			rc = err ? err->exit_code : WM_EXIT_FAILED;
			wm_error_free(err);
		}
		return rc;
	}
	if (help) {
		wm_command_help(c, stdout);
		return WM_EXIT_OK;
	}
	if (!c->fn) {
		fprintf(stderr, "wm: '%s' is not implemented yet\n", c->name);
		return WM_EXIT_USAGE;
	}
	if (!state_dir)
		state_dir = default_state_dir();
	nc = getenv("NO_COLOR");
	cli.state_dir = state_dir;
	cli.color = isatty(STDOUT_FILENO) && !(nc && *nc);
	private = private_dirs(state_dir);
	cli.private_dirs = private;
	rc = c->fn(argc, argv, &cli, &err);
	if (rc < 0) {
		wm_error_print(err, stderr);
		rc = err ? err->exit_code : WM_EXIT_FAILED;
		wm_error_free(err);
	}
	/* Output lost is a failure, unless its reader left on purpose. */
	if (fflush(stdout) != 0 && rc == 0 && errno != EPIPE)
		rc = WM_EXIT_FAILED;
	return rc;
}
