/*
 * init.c - the child side: pid 1 of the sandbox's pid namespace.
 *
 * Init builds the sandbox (mounts, hostname, loopback, rlimits, fds), then
 * starts the command through a helper created with CLONE_VM|CLONE_VFORK|CLONE_FILES:
 * the helper drops capabilities, sets no_new_privs, applies Landlock, loads
 * the seccomp filter (its listener fd lands in the shared fd table at
 * LISTENER_FD) and execs. Init resumes once the exec happened, hands the
 * listener to wm, drops its own capabilities, forwards signals, reaps
 * orphans, and exits with the command: the kernel then kills whatever is
 * left in the namespace.
 *
 * Exit codes: the command's (as 128+N for signal N), 125 setup failed,
 * 126 not executable, 127 not found; failures also reach wm as a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/internal.h"

#define SOCK_FD 3
#define LISTENER_FD 4

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT };

static void send_msg(int type, int status, const struct sb_fail *f)
{
	struct sb_msg m = { .type = type, .status = status };

	if (f)
		m.fail = *f;
	if (write(SOCK_FD, &m, sizeof(m)) < 0)
		return;
}

static __attribute__((noreturn, no_sanitize_address)) void die_setup(int sock, int status,
								     const struct sb_fail *f)
{
	struct sb_msg m = { .type = SB_MSG_SETUP, .status = status, .fail = *f };

	/* write(), not send(): every filter allows it, not every filter send. */
	if (write(sock, &m, sizeof(m)) < 0)
		_exit(status);
	_exit(status);
}

static int loopback_up(struct sb_fail *f)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return sb_failf(f, errno, "socket for loopback");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		rc = sb_failf(f, errno, "read flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		rc = sb_failf(f, errno, "bring lo up");
	close(fd);
	return rc;
}

/* stdio onto 0-2, the status socket onto 3 (close-on-exec), nothing else. */
static int setup_fds(struct sb_child *c, struct sb_fail *f)
{
	int tmp[3], sock = fcntl(c->sock_fd, F_DUPFD_CLOEXEC, 100);

	if (sock < 0)
		return sb_failf(f, errno, "move status socket");
	for (int i = 0; i < 3; i++) {
		tmp[i] = c->stdio[i] >= 0 ? fcntl(c->stdio[i], F_DUPFD_CLOEXEC, 100)
					  : open("/dev/null", O_RDWR | O_CLOEXEC);
		if (tmp[i] < 0)
			return sb_failf(f, errno, "prepare fd %d", i);
	}
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0)
			return sb_failf(f, errno, "set up fd %d", i);
	if (dup3(sock, SOCK_FD, O_CLOEXEC) < 0)
		return sb_failf(f, errno, "set up status socket");
	if (syscall(SYS_close_range, SOCK_FD + 1, ~0U, 0) != 0) {
		for (int fd = SOCK_FD + 1; fd < 65536; fd++)
			close(fd);
	}
	c->sock_fd = SOCK_FD;
	return 0;
}

static void exec_command(const struct sb_child *c, struct sb_fail *f)
{
	const char *name = c->argv[0];
	char path[4096];
	int saved = ENOENT;

	if (strchr(name, '/')) {
		execve(name, c->argv, c->env);
		sb_failf(f, errno, "exec %s", name);
		return;
	}
	for (size_t i = 0; c->path && c->path[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->path[i][0] ? c->path[i] : ".", name);
		execve(path, c->argv, c->env);
		if (errno == EACCES)
			saved = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR) {
			saved = errno;
			break;
		}
	}
	sb_failf(f, saved, "exec %s", name);
}

struct helper_arg {
	const struct sb_child *c;
	volatile int failed; /* set by the helper before it gives up; init reads it */
};

/* The helper runs on a stack of its own: keep ASan's stack bookkeeping out. */
static __attribute__((noreturn, no_sanitize_address)) void
helper_fail(struct helper_arg *a, int status, const struct sb_fail *f)
{
	a->failed = status;
	die_setup(SOCK_FD, status, f);
}

/* The helper: becomes the command. Runs on its own stack in init's memory
 * and fd table while init waits (CLONE_VM|CLONE_VFORK, as posix_spawn does):
 * no page tables to copy, no copy-on-write faults. */
static __attribute__((no_sanitize_address)) int helper_main(void *arg)
{
	struct helper_arg *ha = arg;
	const struct sb_child *c = ha->c;
	sigset_t clean;
	const struct wm_policy *p = c->prof->policy;
	struct sb_fail f = { "", 0 };

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* A clean mask, whatever wm and init block. */
	sigemptyset(&clean);
	sigprocmask(SIG_SETMASK, &clean, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Own session, no controlling terminal: TIOCSTI has no target. */
	setsid();
	if (sb_caps_drop(p->capabilities, &f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, &f);
	/* Limits last before the filter: RLIMIT_AS must not starve the setup. */
	if (sb_rlimits_apply(p, c->have_cgroup, &f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, &f);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		sb_failf(&f, errno, "set no_new_privs");
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, &f);
	}
	if (p->landlock && c->prof->landlock_abi > 0 && sb_landlock_apply(c->writable, &f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, &f);
	if (sb_filter_load(&c->prof->filter, &f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, &f);
	exec_command(c, &f);
	helper_fail(ha, f.err == ENOENT ? WM_SANDBOX_NOT_FOUND : WM_SANDBOX_NOT_EXECUTABLE, &f);
}

#define HELPER_STACK (256 * 1024)

static void send_listener(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct sb_msg m = { .type = SB_MSG_READY };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int fd = LISTENER_FD;

	if (fcntl(fd, F_GETFD) >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	sendmsg(SOCK_FD, &mh, MSG_NOSIGNAL);
	close(fd);
}

static __attribute__((noreturn)) void supervise(pid_t cmd, const sigset_t *set)
{
	int wstatus = 0, st, sig;
	pid_t pid;

	for (;;) {
		sig = sigwaitinfo(set, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(cmd, sig);
			continue;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			if (pid == cmd) {
				wstatus = st;
				send_msg(SB_MSG_EXIT, wstatus, NULL);
				_exit(sb_status_of(wstatus));
			}
	}
}

static int build(struct sb_child *c, struct sb_fail *f)
{
	const struct wm_policy *p = c->prof->policy;

	if (setsid() < 0)
		return sb_failf(f, errno, "setsid");
	if (sethostname("wm", 2) != 0)
		return sb_failf(f, errno, "set hostname");
	if (p->network == WM_NET_LOOPBACK && loopback_up(f) < 0)
		return -1;
	if (sb_mounts_apply(&c->plan, f) < 0)
		return -1;
	if (chdir(c->cwd) != 0)
		return sb_failf(f, errno, "chdir %s", c->cwd);
	return setup_fds(c, f);
}

void sb_init_main(struct sb_child *c)
{
	struct sb_fail f = { "", 0 };
	sigset_t set, old;
	struct helper_arg arg = { c, 0 };
	void *stack;
	pid_t cmd;
	int st;
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(c->sync_fd, &go, 1) != 1)
		_exit(WM_SANDBOX_SETUP_FAILED); /* wm gave up on us */
	close(c->sync_fd);
	if (build(c, &f) < 0)
		die_setup(c->sock_fd, WM_SANDBOX_SETUP_FAILED, &f);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	cmd = stack == MAP_FAILED ? -1
				  : clone(helper_main, (char *)stack + HELPER_STACK,
					  CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &arg);
	if (cmd < 0) {
		sb_failf(&f, errno, "start the command");
		die_setup(SOCK_FD, WM_SANDBOX_SETUP_FAILED, &f);
	}
	/* The helper exec'd, or gave up and reported why. The command itself
	 * may already be gone: the supervisor reaps it. */
	if (arg.failed) {
		waitpid(cmd, &st, 0);
		_exit(arg.failed);
	}
	send_listener();
	sb_caps_drop(NULL, &f);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	supervise(cmd, &set);
}
