/*
 * reap.c - turning the end of a sandbox into a result, and the blocking
 * wm_sandbox_run() used by `wm sandbox`, rollbacks and tests.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

static void fill_status(struct wm_sandbox *sb, const siginfo_t *si, struct wm_sandbox_result *res)
{
	res->exit_code = -1;
	if (sb->have_setup) {
		res->status = sb->setup.status;
		res->setup_error = sb->setup.err ? wm_xasprintf("%s: %s", sb->setup.step,
								strerror(sb->setup.err))
						 : wm_xstrdup(sb->setup.step);
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

/* The denial table moves into the result. */
static void take_denials(struct wm_sandbox *sb, struct wm_sandbox_result *res)
{
	struct sb_denials *d = &sb->denials;

	res->denied = wm_xcalloc(d->n + 1, sizeof(*res->denied));
	for (size_t i = 0; i < d->n; i++) {
		res->denied[i] = d->named[i];
		d->named[i].name = NULL;
	}
	res->n_denied = d->n;
	res->denied_other = d->other;
	d->n = 0;
	d->other = 0;
}

/* limits.out: the task's $WM_OUT tmpfs into the host's directory; a full
 * tmpfs is remembered, since a task that failed on it hit the limit. */
static void collect_out(struct wm_sandbox *sb, struct wm_sandbox_result *res)
{
	struct statfs fs;

	if (sb->out_tree < 0 || sb->out_dest < 0)
		return;
	if (fstatfs(sb->out_tree, &fs) == 0 && fs.f_bavail == 0)
		sb->out_full = true;
	if (sb_copy_out(sb->out_tree, sb->out_dest, &res->out_error) < 0 && !res->out_error)
		res->out_error = wm_xstrdup("copy $WM_OUT out");
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
	if (!sb->exited) {
		struct pollfd pfd = { sb->pidfd, POLLIN, POLLIN };

		wm_sandbox_serve(sb, &pfd, 1);
	}
	fill_status(sb, &si, res);
	collect_out(sb, res);
	hit = sb_cgroup_limit_hit(&sb->cg);
	res->limit = sb->limit;
	if (res->limit == WM_LIMIT_NONE && res->status != 0 && !res->setup_error)
		res->limit = hit != WM_LIMIT_NONE ? hit : sb->out_full ? WM_LIMIT_OUT : hit;
	res->peak_memory = sb_cgroup_peak(&sb->cg);
	res->duration_ms = wm_mono_ms() - sb->start_ms;
	take_denials(sb, res);
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
	if (sb->out_fd >= 0)
		close(sb->out_fd);
	if (sb->lifeline >= 0)
		close(sb->lifeline);
	if (sb->out_tree >= 0)
		close(sb->out_tree);
	if (sb->out_dest >= 0)
		close(sb->out_dest);
	sb_cgroup_destroy(&sb->cg);
	for (size_t i = 0; i < sb->denials.n; i++)
		free(sb->denials.named[i].name);
	sb_learn_free(sb->learn);
	free(sb);
}

void wm_sandbox_result_release(struct wm_sandbox_result *res)
{
	for (size_t i = 0; i < res->n_denied; i++)
		free(res->denied[i].name);
	free(res->denied);
	free(res->setup_error);
	free(res->out_error);
	memset(res, 0, sizeof(*res));
}

/* ---- the blocking loop ------------------------------------------------------------ */

struct run_loop {
	struct wm_sandbox *sb;
	int sfd; /* forwarded signals, or -1 */
	unsigned forwarded;
	uint64_t deadline;
};

static void on_signal(struct run_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		wm_sandbox_terminate(l->sb, WM_LIMIT_NONE,
				     l->forwarded++ ? SIGKILL : (int)si.ssi_signo);
}

/* One turn: returns true once the sandbox has ended. */
static bool turn(struct run_loop *l)
{
	struct pollfd pfd[WM_SANDBOX_MAX_FDS + 1];
	size_t n = wm_sandbox_fds(l->sb, pfd);
	uint64_t now = wm_mono_ms();
	int wait = -1;

	if (l->deadline && now >= l->deadline) {
		wm_sandbox_terminate(l->sb, WM_LIMIT_TIMEOUT, SIGKILL);
		l->deadline = 0;
	}
	if (l->deadline)
		wait = (int)(l->deadline - now < 60000 ? l->deadline - now : 60000);
	if (l->sfd >= 0)
		pfd[n] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
	if (poll(pfd, n + (l->sfd >= 0), wait) < 0) {
		if (errno != EINTR)
			wm_sandbox_terminate(l->sb, WM_LIMIT_NONE, SIGKILL);
		return false;
	}
	if (l->sfd >= 0 && pfd[n].revents)
		on_signal(l);
	return wm_sandbox_serve(l->sb, pfd, n);
}

int wm_sandbox_run(const struct wm_sandbox_profile *prof, const struct wm_sandbox_spec *spec,
		   struct wm_sandbox_result *res, struct wm_error **err)
{
	uint64_t timeout = spec->timeout_ms ? spec->timeout_ms : prof->policy->limits.timeout_ms;
	struct run_loop l = { .sfd = -1 };
	sigset_t mask, old;
	int rc = -1;

	sigemptyset(&mask);
	if (spec->forward_signals) {
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGHUP);
	}
	sigprocmask(SIG_BLOCK, &mask, &old);
	if (spec->forward_signals) {
		l.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
		if (l.sfd < 0) {
			wm_error_set(err, errno, "signalfd");
			goto out;
		}
	}
	if (wm_sandbox_spawn(prof, spec, &l.sb, err) < 0)
		goto out;
	l.deadline = timeout ? l.sb->start_ms + timeout : 0;
	while (!turn(&l))
		;
	rc = wm_sandbox_reap(l.sb, res, err);
out:
	wm_sandbox_free(l.sb);
	if (l.sfd >= 0)
		close(l.sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
