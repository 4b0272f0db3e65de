/*
 * pid1.c - the sandbox's pid 1 once the command runs.
 *
 *     wm-pid1 CMD_PID
 *
 * wm builds the sandbox in a copy of itself, starts the command, and then
 * replaces that copy with this program (exec'd from a sealed memfd, with an
 * empty environment), so nothing of wm's memory - the audit key, the
 * caller's environment, the policies - stays in a process the task can
 * see. It forwards signals to the command, reaps orphans, reports the
 * command's wait status to wm on fd WM_PID1_SOCK_FD and exits with it; the
 * kernel then kills whatever is left in the pid namespace.
 *
 * It inherits from its builder: a blocked signal mask (SIGCHLD and the
 * forwarded signals), no capabilities, no_new_privs, PR_SET_PDEATHSIG and a
 * seccomp filter that allows only what this loop needs. It is linked
 * statically so it runs whatever the sandbox's root filesystem holds, and
 * includes nothing of wm's but the message layout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/pid1/proto.h"

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT };

static int exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 125;
}

static void report_exit(int wstatus)
{
	struct wm_pid1_msg m;

	memset(&m, 0, sizeof(m));
	m.type = WM_PID1_EXIT;
	m.status = wstatus;
	/* One packet; if wm is gone there is nobody to tell. */
	if (write(WM_PID1_SOCK_FD, &m, sizeof(m)) < 0)
		return;
}

int main(int argc, char **argv)
{
	sigset_t set;
	pid_t cmd;
	char *end;
	long v;

	/* Exec'd from a file we may not read: already not dumpable. Say it
	 * anyway, before anything else, in case a kernel thinks otherwise. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (argc != 2)
		return 125;
	errno = 0;
	v = strtol(argv[1], &end, 10);
	if (errno || *end || v <= 0)
		return 125;
	cmd = (pid_t)v;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL), st;
		pid_t pid;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(cmd, sig);
			continue;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid != cmd)
				continue;
			report_exit(st);
			_exit(exit_code(st));
		}
	}
}
