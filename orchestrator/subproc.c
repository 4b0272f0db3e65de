/*
 * subproc.c - running a short command and reading what it prints (sbatch,
 * squeue, scontrol, sacct): no shell, stdout captured (bounded), stderr
 * kept for the error, killed if it outlives its timeout.
 */
#include "orchestrator/subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xalloc.h"

extern char **environ;

#define OUT_MAX (4u << 20)

/* The last non-empty line of what a tool complained (Slurm's tools end
 * with the one that matters: "fatal: ...", "error: Batch job submission
 * failed: ..."), at most 240 bytes; "" when it said nothing. */
static const char *last_line(struct wm_buf *b)
{
	char *s = b->data, *line = NULL;

	if (!s)
		return "";
	while (b->len && (s[b->len - 1] == '\n' || s[b->len - 1] == ' '))
		s[--b->len] = '\0';
	line = strrchr(s, '\n');
	line = line ? line + 1 : s;
	if (strlen(line) > 240)
		line[240] = '\0';
	return line;
}

/* Reads both pipes until they close or the deadline passes. */
static bool drain(int out, int errfd, struct wm_buf *o, struct wm_buf *e, uint64_t deadline)
{
	struct pollfd pfd[2] = { { out, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	char buf[8192];

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		uint64_t now = wm_mono_ms();

		if (now >= deadline)
			return false;
		if (poll(pfd, 2, (int)(deadline - now)) < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			if ((i ? e : o)->len < OUT_MAX)
				wm_buf_add(i ? e : o, buf, (size_t)n);
		}
	}
	return true;
}

int wm_subproc_run(char *const *argv, unsigned timeout_ms, struct wm_buf *out, int *status,
		   struct wm_error **err)
{
	posix_spawn_file_actions_t fa;
	struct wm_buf errbuf = WM_BUF_INIT;
	int po[2], pe[2], st = 0, rc;
	bool in_time;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) != 0)
		return wm_error_set(err, errno, "pipe");
	if (pipe2(pe, O_CLOEXEC) != 0) {
		close(po[0]);
		close(po[1]);
		return wm_error_set(err, errno, "pipe");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (rc != 0) {
		close(po[0]);
		close(pe[0]);
		return wm_error_set(err, rc, "run %s", argv[0]);
	}
	in_time = drain(po[0], pe[0], out, &errbuf, wm_mono_ms() + timeout_ms);
	close(po[0]);
	close(pe[0]);
	if (!in_time)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (!in_time)
		rc = wm_error_setx(err, WM_EXIT_FAILED, "%s did not answer within %u ms", argv[0],
				   timeout_ms);
	else if (*status != 0)
		rc = wm_error_setx(err, WM_EXIT_FAILED, "%s exited %d: %s", argv[0], *status,
				   last_line(&errbuf));
	else
		rc = 0;
	wm_buf_release(&errbuf);
	return rc;
}
