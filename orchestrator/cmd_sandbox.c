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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/diag.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "policies/policies.h"
#include "sandbox/sandbox.h"

WM_DEFINE_AUTO(struct wm_policy_set, wm_policy_set_free)

static void report(const struct wm_sandbox_result *res)
{
	for (size_t i = 0; res->denied && res->denied[i]; i++)
		fprintf(stderr, "wm: sandbox: denied syscall %s\n", res->denied[i]);
	if (res->limit != WM_LIMIT_NONE)
		fprintf(stderr, "wm: sandbox: killed: %s limit\n", wm_limit_name(res->limit));
	if (res->setup_error)
		fprintf(stderr, "wm: sandbox: %s\n", res->setup_error);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for the sandbox, answering denials, enforcing the timeout and
 * passing signals on; `sfd` is a signalfd for the forwarded signals. */
static void wait_tree(struct wm_sandbox *sb, int sfd, uint64_t timeout)
{
	uint64_t deadline = timeout ? now_ms() + timeout : 0;
	int forwarded = 0;

	for (;;) {
		struct pollfd pfd[3] = { { wm_sandbox_pidfd(sb), POLLIN, 0 },
					 { sfd, POLLIN, 0 },
					 { wm_sandbox_notify_fd(sb), POLLIN, 0 } };
		uint64_t now = now_ms();
		int wait = -1;

		if (deadline && now >= deadline) {
			wm_sandbox_terminate(sb, WM_LIMIT_TIMEOUT, SIGKILL);
			deadline = 0;
		}
		if (deadline)
			wait = (int)(deadline - now < 60000 ? deadline - now : 60000);
		if (poll(pfd, pfd[2].fd >= 0 ? 3 : 2, wait) < 0 && errno != EINTR)
			return;
		if (pfd[2].revents & POLLIN)
			wm_sandbox_handle_notify(sb);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				wm_sandbox_terminate(sb, WM_LIMIT_NONE,
						     forwarded++ ? SIGKILL : (int)si.ssi_signo);
		}
		if (pfd[0].revents & POLLIN)
			return;
	}
}

static int supervise(const struct wm_sandbox_profile *prof, const struct wm_sandbox_spec *spec,
		     uint64_t timeout, struct wm_sandbox_result *res, struct wm_error **err)
{
	struct wm_sandbox *sb = NULL;
	sigset_t mask, old;
	int sfd, rc = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		wm_error_set(err, errno, "signalfd");
		goto out;
	}
	if (wm_sandbox_spawn(prof, spec, &sb, err) < 0)
		goto out;
	wait_tree(sb, sfd, timeout);
	rc = wm_sandbox_reap(sb, res, err);
out:
	wm_sandbox_free(sb);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int run(const struct wm_policy *policy, const char *workspace, uint64_t timeout, char **argv,
	       struct wm_error **err)
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
		.stdin_fd = STDIN_FILENO,
		.stdout_fd = STDOUT_FILENO,
		.stderr_fd = STDERR_FILENO,
	};
	int status;

	if (wm_sandbox_profile_new(policy, &prof, err) < 0) {
		(*err)->exit_code = WM_SANDBOX_SETUP_FAILED;
		return wm_error_wrap(err, "sandbox");
	}
	fflush(stdout);
	if (supervise(prof, &spec, timeout ? timeout : policy->limits.timeout_ms, &res, err) < 0) {
		wm_sandbox_profile_free(prof);
		(*err)->exit_code = WM_SANDBOX_SETUP_FAILED;
		return wm_error_wrap(err, "sandbox");
	}
	report(&res);
	status = res.status;
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

	(void)cli;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
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
			return wm_usage_error("sandbox", "bad option");
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
	return run(policy, workspace, timeout, argv + optind, err);
}
