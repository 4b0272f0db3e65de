/*
 * reap.c - turning the end of a sandbox into a result, and the blocking
 * wm_sandbox_run() used by `wm sandbox`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

static void fill_status(struct wm_sandbox *sb, const siginfo_t *si, struct wm_sandbox_result *res)
{
	res->exit_code = -1;
	if (sb->have_setup) {
		res->status = sb->setup.status;
		res->setup_error = sb->setup.fail.err ? wm_xasprintf("%s: %s", sb->setup.fail.step,
								     strerror(sb->setup.fail.err))
						      : wm_xstrdup(sb->setup.fail.step);
	} else if (sb->have_exit) {
		res->status = sb_status_of(sb->cmd_wstatus);
		if (WIFEXITED(sb->cmd_wstatus))
			res->exit_code = WEXITSTATUS(sb->cmd_wstatus);
		else if (WIFSIGNALED(sb->cmd_wstatus))
			res->signal = WTERMSIG(sb->cmd_wstatus);
	} else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
		res->signal = si->si_status;
		res->status = 128 + si->si_status;
	} else {
		/* init ended without a word: it never got to report. */
		res->status = si->si_status;
		res->exit_code = si->si_status;
		if (si->si_status == WM_SANDBOX_SETUP_FAILED)
			res->setup_error = wm_xstrdup("sandbox init failed before reporting");
	}
}

int wm_sandbox_reap(struct wm_sandbox *sb, struct wm_sandbox_result *res, struct wm_error **err)
{
	siginfo_t si;
	enum wm_limit hit;

	memset(res, 0, sizeof(*res));
	memset(&si, 0, sizeof(si));
	if (!sb->reaped) {
		while (waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED) != 0)
			if (errno != EINTR)
				return wm_error_set(err, errno, "wait for the sandbox");
		sb->reaped = true;
	}
	while (sb->notify_fd >= 0) {
		struct pollfd pfd = { sb->notify_fd, POLLIN, 0 };

		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN))
			break;
		wm_sandbox_handle_notify(sb);
	}
	sb_read_msgs(sb);
	fill_status(sb, &si, res);
	hit = sb_cgroup_limit_hit(&sb->cg);
	res->limit = sb->limit;
	if (res->limit == WM_LIMIT_NONE && res->status != 0 && !res->setup_error)
		res->limit = hit;
	res->peak_memory = sb_cgroup_peak(&sb->cg);
	res->duration_ms = sb_now_ms() - sb->start_ms;
	res->denied = wm_xcalloc(sb->n_denied + 1, sizeof(char *));
	for (size_t i = 0; i < sb->n_denied; i++)
		res->denied[i] = wm_xstrdup(sb->denied[i]);
	return 0;
}

void wm_sandbox_free(struct wm_sandbox *sb)
{
	if (!sb)
		return;
	if (!sb->reaped && sb->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
		while (waitid(P_PIDFD, (id_t)sb->pidfd, NULL, WEXITED) != 0 && errno == EINTR)
			;
	}
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	if (sb->sock >= 0)
		close(sb->sock);
	if (sb->notify_fd >= 0)
		close(sb->notify_fd);
	sb_cgroup_destroy(&sb->cg);
	wm_strv_free(sb->denied);
	free(sb);
}

void wm_sandbox_result_release(struct wm_sandbox_result *res)
{
	wm_strv_free(res->denied);
	free(res->setup_error);
	memset(res, 0, sizeof(*res));
}

int wm_sandbox_run(const struct wm_sandbox_profile *prof, const struct wm_sandbox_spec *spec,
		   struct wm_sandbox_result *res, struct wm_error **err)
{
	struct wm_sandbox *sb = NULL;
	uint64_t timeout = spec->timeout_ms ? spec->timeout_ms : prof->policy->limits.timeout_ms;
	uint64_t deadline;
	int rc;

	if (wm_sandbox_spawn(prof, spec, &sb, err) < 0)
		return -1;
	deadline = timeout ? sb->start_ms + timeout : 0;
	for (;;) {
		struct pollfd pfd[2] = { { sb->pidfd, POLLIN, 0 }, { sb->notify_fd, POLLIN, 0 } };
		int wait = -1, n;

		if (deadline) {
			uint64_t now = sb_now_ms();

			if (now >= deadline) {
				wm_sandbox_terminate(sb, WM_LIMIT_TIMEOUT, SIGKILL);
				deadline = 0;
				continue;
			}
			wait = (int)(deadline - now < 60000 ? deadline - now : 60000);
		}
		n = poll(pfd, sb->notify_fd >= 0 ? 2 : 1, wait);
		if (n < 0 && errno != EINTR) {
			wm_error_set(err, errno, "poll");
			wm_sandbox_free(sb);
			return -1;
		}
		if (n > 0 && sb->notify_fd >= 0 && (pfd[1].revents & POLLIN))
			wm_sandbox_handle_notify(sb);
		else if (n > 0 && sb->notify_fd >= 0 && (pfd[1].revents & (POLLHUP | POLLERR)) &&
			 !(pfd[0].revents & POLLIN)) {
			close(sb->notify_fd);
			sb->notify_fd = -1;
		}
		if (n > 0 && (pfd[0].revents & POLLIN))
			break;
	}
	rc = wm_sandbox_reap(sb, res, err);
	wm_sandbox_free(sb);
	return rc;
}
