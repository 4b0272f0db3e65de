/*
 * help.c - what `wm help CMD`, `wm CMD --help` and `wm CMD -h` print: the
 * command's usage line and summary (the table in main.c), then each of
 * its options. The man page says the same at more length.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "orchestrator/cli.h"

struct command_help {
	const char *name;
	const char *options;
};

static const struct command_help helps[] = {
	{ "init", "  FILE                  the workflow to write (default: workflow.md)\n"
		  "  -t, --template NAME   the template (default: basic); see --list\n"
		  "  -f, --force           replace FILE if it exists\n"
		  "  --list                each template's name and what it is\n" },
	{ "run",
	  "  -j, --jobs N          run at most N tasks at once (default: max_parallel, else\n"
	  "                        the number of CPUs)\n"
	  "  --policy NAME         a floor: no task runs under a weaker policy; also the\n"
	  "                        policy of tasks that name none\n"
	  "  --policies FILE       a policy file searched before all others\n"
	  "  -e, --env KEY=VALUE   set a variable in every task's environment; may repeat\n"
	  "                        (recorded in the run directory)\n"
	  "  --secret NAME[=@FILE] give tasks NAME from the environment or FILE; never\n"
	  "                        written down, shown as *** in logs and events\n"
	  "  -k, --keep-going      after a failure, independent branches go on\n"
	  "  --all                 every task of a menu (another tool's file, a README.md)\n"
	  "  --dialect D           read FILE as mask, xc, runme or wm (default: detected)\n"
	  "  --dry-run             print what would run, in order, and run nothing\n"
	  "  --interactive         ask before each task: run, skip or abort\n"
	  "  --detach              print the run id and go on in the background\n"
	  "  --workspace DIR       the tasks' working tree (default: FILE's directory)\n"
	  "  --json                one JSON object per event on stdout\n"
	  "  -y, --yes             run a file you do not own that asks for a weak policy\n"
	  "  --executor local|slurm  where tasks run (default: the front matter's)\n"
	  "  --from TASK           run TASK and what follows it; take what they need from\n"
	  "                        the newest earlier run where it succeeded\n"
	  "  TASK...               run only these tasks and what they depend on\n"
	  "  -v, --verbose         show every event, with its time and fields\n"
	  "  --output MODE         compact (default) or stream: every task's output, live,\n"
	  "                        each line headed by [task]\n"
	  "  --tail N              lines of a failed task's log shown (default 20)\n"
	  "  --cache               every task uses the task cache (but `cache: false` ones)\n"
	  "  --no-cache            no task uses the task cache: everything runs\n"
	  "  --level LEVEL         refuse to start unless the workflow passes this\n"
	  "                        validation level (default standard; see wm plan)\n"
	  "  --every SPEC          run again and again, in the foreground: an interval (1h:\n"
	  "                        at once, then every hour) or a schedule (0 3 * * *,\n"
	  "                        @daily); never two runs at once; SIGINT stops\n"
	  "  --count N             with --every: stop after N runs\n" },
	{ "resume",
	  "  -j, --jobs N          as for run\n"
	  "  -f, --force           keep nothing: run every task again\n"
	  "  --reload              run the workflow file as it is now, after showing what\n"
	  "                        changed\n"
	  "  --json                one JSON object per event on stdout\n"
	  "  --accept-audit-gap    go on although the audit log is damaged, recording the gap\n"
	  "  -v, --verbose, --output MODE, --tail N  as for run\n" },
	{ "plan",
	  "  -f, --format FORMAT   text (default), dot (Graphviz) or json\n"
	  "  --policy NAME         as for run: the floor, and the policy of tasks naming none\n"
	  "  --level LEVEL         basic, standard (default; also: normal), strict or\n"
	  "                        paranoid (see man wm, VALIDATION LEVELS); json lists\n"
	  "                        the findings too\n"
	  "  --explain             per task: would `wm run FILE` reuse its cached result,\n"
	  "                        and why it runs otherwise\n"
	  "  --dialect D           read FILE as mask, xc, runme or wm (default: detected)\n" },
	{ "import",
	  "  --dialect D           read FILE as mask, xc or runme (default: detected)\n"
	  "  -o, --output OUT      write the native workflow to OUT (default: stdout)\n" },
	{ "status", "  --json                the run's checkpoint as JSON\n" },
	{ "list",
	  "  --state STATE[,...]   only runs in these states: pending, running, succeeded,\n"
	  "                        failed, cancelled, interrupted, orphaned, broken\n"
	  "  --name GLOB           only runs whose workflow name matches GLOB\n"
	  "  --since WHEN          only runs started at or after WHEN (2026-11-22, 2h, 3d,\n"
	  "                        1w, today, yesterday)\n"
	  "  -q, --quiet           the ids only, one per line\n"
	  "  --json                a JSON array\n" },
	{ "orphans", "  --name GLOB, --since WHEN, -q, --quiet  as for list\n"
		     "  --json                a JSON array\n" },
	{ "cancel", "  --timeout D           wait at most D for the run to stop (default 10s)\n" },
	{ "logs", "  -f, --follow          keep printing as the run goes on\n" },
	{ "stats",
	  "  --since WHEN          the history of the runs started at or after WHEN\n"
	  "  --trend NAME          workflow NAME's success rate and duration over time,\n"
	  "                        with sparklines and the change point if one stands out\n"
	  "  --by day|week         with --trend: per day (default) or week\n"
	  "  --json                the statistics as JSON\n" },
	{ "audit",
	  "  show [RUN_ID]         print a run's audit log (default: the newest run)\n"
	  "    --task T            only events of task T\n"
	  "    --event E           only events named E (e.g. task.end)\n"
	  "    --since TIME        only events at or after TIME (2026-11-22, 2h, today, ...)\n"
	  "    --json              the lines as stored\n"
	  "  verify [RUN_ID]       check the log's MAC chain; exit 1 when it is not intact\n"
	  "  rekey                 make a new audit key when the old one is lost\n" },
	{ "policy",
	  "  list                  the policies in force\n"
	  "  show NAME             the resolved policy as YAML, headed by its SHA-256\n"
	  "  check FILE            check a policy file\n"
	  "  diff A B              what one policy allows that the other does not\n"
	  "  score NAME [--json]   exposure 0-100 with its breakdown\n"
	  "  learn --base B --name N [-o FILE] [--grant GROUP]... -- CMD... | RUN_ID | FILE.md\n"
	  "                        run under a learning sandbox of B and write the policy\n"
	  "                        that allows what was used; --grant lets a dangerous\n"
	  "                        group through (ptrace, mount, namespaces, module, bpf,\n"
	  "                        keyrings, userfaultfd, handles, host, io_uring, raw)\n"
	  "  import-oci FILE --name N  a policy from an OCI or Docker seccomp profile\n"
	  "  --policies FILE       a policy file on top of the search order (every\n"
	  "                        subcommand)\n" },
	{ "sandbox", "  --policy NAME         the policy (default: standard)\n"
		     "  --policies FILE       a policy file searched before all others\n"
		     "  --workspace DIR       the writable working tree (default: the current\n"
		     "                        directory)\n"
		     "  --timeout D           stop the command after D (SIGTERM, then SIGKILL)\n" },
	{ "outputs",
	  "  TASK                  only this task's outputs\n"
	  "  --json                an object per task: its directory and every entry\n" },
	{ "cp", "  RUN_ID:TASK[/PATH]    a task's output file or directory (all of them\n"
		"                        without PATH)\n"
		"  DEST                  where to copy: into DEST when it is a directory\n"
		"  Links, FIFOs and devices a task left are never followed, opened or copied.\n" },
	{ "prune", "  --keep N              every run but the N newest is a candidate\n"
		   "  --older-than AGE      runs that ended longer than AGE ago (12h, 3d, 1w) are\n"
		   "                        candidates\n"
		   "  --dry-run             say what would go and the space freed; remove nothing\n"
		   "  --force               remove failed, interrupted, orphaned, broken runs too\n"
		   "                        (never a live one)\n"
		   "  --json                what was removed, kept (and why) as JSON\n" },
	{ "cache",
	  "  ls                    every entry: key, task, run that made it, size, last use\n"
	  "  show KEY              one entry: its key parts and files (KEY: 6+ hex digits)\n"
	  "  rm KEY...             remove entries\n"
	  "  prune                 evict least recently used entries down to the cap\n"
	  "                        (config cache.max_size, default 5G)\n"
	  "  --older-than AGE      prune: remove entries unused for longer than AGE\n"
	  "  --json                ls, show: as JSON\n" },
	{ "ab", "  A.md B.md             the workflows to run and compare\n"
		"  --runs N              runs of each, alternately, in fresh workspaces\n"
		"  -j, --jobs N          passed to each wm run\n"
		"  --a-runs ID,...       compare these finished runs as side A instead\n"
		"  --b-runs ID,...       ... as side B\n"
		"  --a-name NAME         every finished run of workflow NAME as side A\n"
		"  --b-name NAME         ... as side B\n"
		"  --json                the comparison as JSON\n" },
	{ "export", "  -o, --output FILE     the bundle to write, FILE.tar.zst\n" },
	{ "report", "  -o, --output FILE     the page to write (0600); '-': standard output\n"
		    "  --json                the run document instead of the page (standard\n"
		    "                        output unless -o)\n" },
	{ "serve", "  --listen ADDR:PORT    where to listen (default 127.0.0.1:8450; port 0: any)\n"
		   "  --workflows DIR       the workflows the API may plan and start\n"
		   "  --no-auth-read        reads need no key (loopback --listen only)\n"
		   "  --cors ORIGIN         allow this origin (no CORS header otherwise)\n"
		   "  --rate N, --burst N   each key's rate limit (default 20/s, bursts of 40)\n"
		   "  --body-limit SIZE     the largest request body (default 64K)\n"
		   "  --max-streams N       event streams at once (default 64)\n"
		   "  --heartbeat N         seconds between event stream heartbeats (default 15)\n"
		   "  token create --role read|run [--name NAME]   make an API key, print it once\n"
		   "  token list [--json]   the keys: name, role, created, last used\n"
		   "  token revoke NAME     remove a key\n" },
	{ "doctor",
	  "  --json                the report as JSON\n"
	  "  --clean               first remove cgroups that killed orchestrators left\n" },
	{ "image", "  REF                   oci:PATH[:TAG], oci:PATH@sha256:HEX or\n"
		   "                        docker-archive:FILE[:NAME:TAG]\n"
		   "  DIGEST                a cached image's digest (or 6+ hex digits of it)\n"
		   "  --json                ls and inspect: as JSON\n"
		   "  prune removes what interrupted preparations left and images whose\n"
		   "  source is gone.\n" },
	{ "schedule",
	  "  next FILE             the next fire times of FILE's `schedule:`, in its\n"
	  "                        time zone (with its jitter, if any)\n"
	  "  -n, --count N         how many (default 5)\n"
	  "  --after TIME          from TIME (UTC, 2026-03-08T01:59) instead of now\n"
	  "  list [--json]         what wm serve --workflows schedules: state, next and last\n"
	  "                        fire, the last run's exit status\n"
	  "  pause NAME            no more fires of NAME until resume (a run going on\n"
	  "                        goes on)\n"
	  "  resume NAME           fires again, from the next fire time\n" },
	{ "exec",
	  "  --attempt N           the attempt's number\n"
	  "  --kind KIND           body (default), only_if or rollback\n"
	  "  --policy-hash H       the policy the orchestrator resolved; refuse any other\n" },
};

void wm_command_help(const struct wm_command *c, FILE *f)
{
	fprintf(f, "usage: wm %s\n\n%s.\n", c->usage, c->summary);
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, c->name) == 0)
			fprintf(f, "\n%s", helps[i].options);
	fputs("\nGlobal options (before or after the command):\n"
	      "  --state-dir DIR       where runs are kept\n"
	      "  -h, --help            this help\n"
	      "\n'man wm' has the whole story.\n",
	      f);
}

/* The long option `--name[=...]` names, without its value. */
static const char *long_name(const char *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	return buf;
}

int wm_bad_option(const char *cmd, char **argv, int opt, const struct option *opts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = strncmp(arg, "--", 2) == 0;
	char name[64];
	const char *names[64], *hint;
	size_t n = 0;

	if (!is_long) {
		if (opt == ':')
			return wm_usage_error(cmd, "option '-%c' needs a value", optopt);
		return wm_usage_error(cmd, "unknown option '-%c'", optopt);
	}
	long_name(arg, name, sizeof(name));
	if (opt == ':')
		return wm_usage_error(cmd, "option '%s' needs a value", name);
	if (optopt)
		return wm_usage_error(cmd, "option '%s' takes no value", name);
	for (; opts && opts[n].name && n < sizeof(names) / sizeof(names[0]); n++)
		names[n] = opts[n].name;
	hint = wm_suggest(name + 2, names, n);
	if (hint)
		return wm_usage_error(cmd, "unknown option '%s' (did you mean '--%s'?)", name,
				      hint);
	return wm_usage_error(cmd, "unknown or ambiguous option '%s'", name);
}
