/*
 * serve.c - what wm does for a running sandbox, from its event loop: read
 * init's reports, answer denied system calls, copy the command's output.
 * Every step is non-blocking and does a bounded amount of work per call,
 * so a task flooding wm with denials or output delays nobody else's timers.
 */
#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "sandbox/internal.h"

/* Per wm_sandbox_serve() call: denials answered, output bytes copied. */
#define NOTIFY_BUDGET 64
#define OUTPUT_BUDGET (256 * 1024)

/* ---- init's reports ------------------------------------------------------------ */

/* Takes the descriptors a READY message brought, in the order its flags
 * say; anything else that came along is closed. */
static void take_fds(struct wm_sandbox *sb, const struct wm_pid1_msg *m, int *fds, size_t n)
{
	size_t k = 0;

	if (m->type == WM_PID1_READY) {
		if ((m->fds & WM_PID1_FD_LISTENER) && k < n && sb->notify_fd < 0)
			sb->notify_fd = fds[k++];
		if ((m->fds & WM_PID1_FD_OUT) && k < n && sb->out_tree < 0)
			sb->out_tree = fds[k++];
	}
	for (; k < n; k++)
		close(fds[k]);
}

static void apply_msg(struct wm_sandbox *sb, const struct wm_pid1_msg *m, int *fds, size_t n)
{
	take_fds(sb, m, fds, n);
	if (m->type == WM_PID1_SETUP && !sb->have_setup) {
		sb->have_setup = true;
		sb->setup = *m;
		sb->setup.step[sizeof(sb->setup.step) - 1] = '\0';
	} else if (m->type == WM_PID1_EXIT) {
		sb->have_exit = true;
		sb->cmd_wstatus = m->status;
	}
}

void sb_read_msgs(struct wm_sandbox *sb)
{
	for (;;) {
		char cbuf[CMSG_SPACE(2 * sizeof(int))];
		struct wm_pid1_msg m;
		struct iovec iov = { &m, sizeof(m) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		int fds[2];
		size_t nfd = 0;
		ssize_t n;

		if (sb->sock < 0)
			return;
		n = recvmsg(sb->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* EOF: init and everything it started are gone. */
			if (n == 0 || errno != EAGAIN) {
				close(sb->sock);
				sb->sock = -1;
			}
			return;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < k && nfd < 2; i++)
				memcpy(&fds[nfd++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		}
		if (n == (ssize_t)sizeof(m))
			apply_msg(sb, &m, fds, nfd);
		else
			take_fds(sb, &(struct wm_pid1_msg){ 0 }, fds, nfd);
	}
}

/* ---- denials --------------------------------------------------------------------- */

/* Counts one denial: at most SB_MAX_NAMED comparisons, one name resolved
 * per distinct call. */
static void count_denial(struct sb_denials *d, uint32_t arch, int nr)
{
	char *name;

	for (size_t i = 0; i < d->n; i++)
		if (d->nr[i] == nr && d->arch[i] == arch) {
			d->named[i].count++;
			return;
		}
	if (d->n == SB_MAX_NAMED) {
		d->other++;
		return;
	}
	name = seccomp_syscall_resolve_num_arch(arch, nr);
	if (!name)
		name = wm_xasprintf("syscall_%d", nr);
	d->nr[d->n] = nr;
	d->arch[d->n] = arch;
	d->named[d->n].name = name;
	d->named[d->n].count = 1;
	d->n++;
}

static void stop_notify(struct wm_sandbox *sb)
{
	close(sb->notify_fd);
	sb->notify_fd = -1;
}

size_t sb_serve_notify(struct wm_sandbox *sb, size_t budget)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	size_t done = 0;

	if (sb->notify_fd < 0 || seccomp_notify_alloc(&req, &resp) != 0)
		return 0;
	while (done < budget) {
		struct pollfd pfd = { sb->notify_fd, POLLIN, 0 };
		const struct sb_notify_rule *rule;
		int rc;

		/* The receive ioctl blocks: only call it with a request waiting. */
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN)) {
			if (pfd.revents & (POLLHUP | POLLERR))
				stop_notify(sb);
			break;
		}
		memset(req, 0, sizeof(*req));
		rc = seccomp_notify_receive(sb->notify_fd, req);
		if (rc < 0) {
			/* The caller died meanwhile: nothing to answer. */
			if (rc == -ENOENT || rc == -ECANCELED || rc == -EINTR)
				continue;
			stop_notify(sb);
			break;
		}
		done++;
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		if (sb->learn) {
			if (sb_learn_answer(sb, req, resp))
				count_denial(&sb->denials, req->data.arch, req->data.nr);
			seccomp_notify_respond(sb->notify_fd, resp);
			continue;
		}
		rule = sb_filter_lookup(&sb->prof->filter, req->data.nr);
		count_denial(&sb->denials, req->data.arch, req->data.nr);
		/* Default-kill policies: the call never runs, the process dies. */
		if (rule->kill)
			kill((pid_t)req->pid, SIGKILL);
		resp->error = -rule->err;
		seccomp_notify_respond(sb->notify_fd, resp);
	}
	seccomp_notify_free(req, resp);
	return done;
}

/* ---- output ------------------------------------------------------------------------ */

int sb_serve_output(struct wm_sandbox *sb, size_t budget)
{
	char buf[65536];
	size_t copied = 0;

	while (sb->out_fd >= 0) {
		ssize_t n;

		if (copied >= budget)
			return 1;
		n = read(sb->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		sb->on_output(sb->output_ctx, buf, (size_t)n);
		copied += (size_t)n;
	}
	if (sb->out_fd >= 0)
		close(sb->out_fd);
	sb->out_fd = -1;
	return -1;
}

/* ---- the poll set -------------------------------------------------------------------- */

size_t wm_sandbox_fds(const struct wm_sandbox *sb, struct pollfd *pfd)
{
	const int fds[WM_SANDBOX_MAX_FDS] = { sb->exited ? -1 : sb->pidfd, sb->sock, sb->notify_fd,
					      sb->out_fd };
	size_t n = 0;

	for (size_t i = 0; i < WM_SANDBOX_MAX_FDS; i++)
		if (fds[i] >= 0)
			pfd[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	return n;
}

/* Once init is gone, every process of the tree is gone too (the kernel
 * kills the pid namespace before init's exit is reported): what remains in
 * the socket and the pipe is all there will be. */
static void drain(struct wm_sandbox *sb)
{
	while (sb_serve_notify(sb, NOTIFY_BUDGET) == NOTIFY_BUDGET)
		;
	sb_read_msgs(sb);
	while (sb_serve_output(sb, OUTPUT_BUDGET) > 0)
		;
	/* Nothing to read with the writers dead: a copy of the write end
	 * escaped the tree, and what it writes later is not ours. */
	if (sb->out_fd >= 0) {
		close(sb->out_fd);
		sb->out_fd = -1;
	}
}

bool wm_sandbox_serve(struct wm_sandbox *sb, const struct pollfd *pfd, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == sb->notify_fd)
			sb_serve_notify(sb, NOTIFY_BUDGET);
		else if (pfd[i].fd == sb->sock)
			sb_read_msgs(sb);
		else if (pfd[i].fd == sb->out_fd)
			sb_serve_output(sb, OUTPUT_BUDGET);
		else if (pfd[i].fd == sb->pidfd)
			sb->exited = true;
	}
	if (!sb->exited)
		return false;
	drain(sb);
	return true;
}
