/*
 * cmd_sandbox.c - `wm sandbox [--policy NAME] [--policies FILE] [--workspace DIR] -- CMD...`
 *
 * Runs one command under a policy and exits with its status (podman's
 * convention: 125 setup failed, 126 not executable, 127 not found, 128+N
 * killed by signal N). Denied system calls and the limit that ended the
 * command are reported on stderr. SIGINT, SIGTERM and SIGHUP sent to wm are
 * passed on to the command (a second one kills the sandbox), so it can stop
 * cleanly: it runs in a session of its own and never sees the terminal's.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/diag.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runner.h"
#include "policies/policies.h"
#include "sandbox/sandbox.h"

static void report(const struct wm_sandbox_result *res)
{
	for (size_t i = 0; i < res->n_denied; i++) {
		fprintf(stderr, "wm: sandbox: denied syscall %s", res->denied[i].name);
		if (res->denied[i].count > 1)
			fprintf(stderr, " (%llu times)", (unsigned long long)res->denied[i].count);
		fputc('\n', stderr);
	}
	if (res->denied_other)
		fprintf(stderr, "wm: sandbox: %llu more denials of other calls not named\n",
			(unsigned long long)res->denied_other);
	if (res->limit != WM_LIMIT_NONE)
		fprintf(stderr, "wm: sandbox: killed: %s limit\n", wm_limit_name(res->limit));
	if (res->setup_error)
		fprintf(stderr, "wm: sandbox: %s\n", res->setup_error);
}

static int run(const struct wm_policy *policy, const char *workspace, uint64_t timeout, char **argv,
	       char *const *mask, struct wm_error **err)
{
	struct wm_sandbox_profile *prof = NULL;
	struct wm_sandbox_result res;
	wm_autofree char *ws_env = wm_xasprintf("WM_WORKSPACE=%s", workspace);
	char *env[] = { ws_env, NULL };
	struct wm_sandbox_spec spec = {
		.argv = argv,
		.env = env,
		.workspace = workspace,
		.cwd = workspace,
		.mask = mask,
		.stdin_fd = STDIN_FILENO,
		.stdout_fd = STDOUT_FILENO,
		.stderr_fd = STDERR_FILENO,
		.timeout_ms = timeout ? timeout : policy->limits.timeout_ms,
		.forward_signals = true,
	};
	int status;

	/* Whatever stops the command before it runs, a host that cannot
	 * enforce a strict policy included, is 125 here, the reason said. */
	if (wm_sandbox_profile_new(policy, &prof, err) < 0)
		return wm_error_wrapx(err, WM_SANDBOX_SETUP_FAILED, "sandbox");
	if (wm_sandbox_profile_note(prof))
		fprintf(stderr, "wm: warning: %s\n", wm_sandbox_profile_note(prof));
	if (wm_sandbox_profile_unenforced(prof))
		fprintf(stderr, "wm: warning: policy %s: %s\n", policy->name,
			wm_sandbox_profile_unenforced(prof));
	fflush(stdout);
	if (wm_sandbox_run(prof, &spec, &res, err) < 0) {
		wm_sandbox_profile_free(prof);
		return wm_error_wrapx(err, WM_SANDBOX_SETUP_FAILED, "sandbox");
	}
	report(&res);
	/* As timeout(1) does: 124 says the time ran out. */
	status = res.limit == WM_LIMIT_TIMEOUT ? 124 : res.status;
	wm_sandbox_result_release(&res);
	wm_sandbox_profile_free(prof);
	return status;
}

int wm_cmd_sandbox(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "policies", required_argument, NULL, 'f' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = "standard", *file = NULL, *ws = NULL;
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	struct wm_diags diags = WM_DIAGS_INIT;
	wm_autofree char *workspace = NULL;
	const struct wm_policy *policy;
	uint64_t timeout = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			name = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'w':
			ws = optarg;
			break;
		case 't':
			if (wm_parse_duration(optarg, &timeout, err) < 0)
				return -1;
			break;
		default:
			return wm_bad_option("sandbox", argv, opt, opts);
		}
	}
	if (optind >= argc)
		return wm_usage_error("sandbox", "no command given");
	workspace = realpath(ws ? ws : ".", NULL);
	if (!workspace)
		return wm_error_setx(err, WM_EXIT_USAGE, "workspace `%s` does not exist",
				     ws ? ws : ".");
	/* --policies, then the user's config, then the built-ins. */
	set = wm_policy_set_load_search(file, NULL, &diags, err);
	wm_diags_sort(&diags);
	wm_diags_print(&diags, stderr);
	wm_diags_release(&diags);
	if (!set)
		return *err ? -1 : WM_EXIT_USAGE;
	policy = wm_policy_set_lookup(set, name, err);
	if (!policy)
		return -1;
	wm_use_filter_cache(cli->state_dir);
	return run(policy, workspace, timeout, argv + optind, cli->private_dirs, err);
}
