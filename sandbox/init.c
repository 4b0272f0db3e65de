/*
 * init.c - the child side: pid 1 of the sandbox's pid namespace.
 *
 * Init is a copy of wm, made non-dumpable as soon as wm has written its
 * uid/gid maps, with wm's argv and environment strings wiped from its copy
 * of memory. It builds the sandbox (ids, mounts, hostname, loopback, fds),
 * then starts the command through a helper created with
 * CLONE_VM|CLONE_VFORK|CLONE_FILES: the helper drops capabilities, sets
 * no_new_privs, applies Landlock, loads the seccomp filter (its listener
 * lands in the shared fd table) and execs. Its only calls after the filter
 * are execve and exit, which the filter answers plainly; a failure is left
 * in shared memory, never written through a call the filter might send to
 * a listener nobody holds yet. Init resumes once the exec happened, hands
 * the listener to wm, drops its own capabilities, loads its own small
 * filter and execs the pid 1 program (pid1/pid1.c) with an empty
 * environment, which forwards signals, reaps orphans, and exits with the
 * command: the kernel then kills whatever is left in the namespace.
 *
 * Exit codes: the command's (as 128+N for signal N), 125 setup failed,
 * 126 not executable, 127 not found; failures also reach wm as a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/internal.h"

#define SOCK_FD WM_PID1_SOCK_FD
#define EXE_FD WM_PID1_EXE_FD

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT };

void sb_forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

static void send_msg(int sock, int type, int status, const struct sb_fail *f)
{
	struct wm_pid1_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.status = status;
	if (f) {
		m.err = f->err;
		memcpy(m.step, f->step, sizeof(m.step));
	}
	/* write(), not send(): a lost report only costs its text. */
	if (write(sock, &m, sizeof(m)) < 0)
		return;
}

static __attribute__((noreturn)) void die_setup(int sock, int status, const struct sb_fail *f)
{
	send_msg(sock, WM_PID1_SETUP, status, f);
	_exit(status);
}

/* ---- leaving nothing of wm's behind ----------------------------------------- */

/* From the text of /proc/PID/stat: where argv and the environment lie
 * (fields 48-51: arg_start, arg_end, env_start, env_end). */
int sb_stat_args_env(const char *stat, unsigned long v[4])
{
	const char *p = strrchr(stat, ')');

	/* Each space after ')' starts the next field: the 46th starts field 48. */
	for (int field = 3; p && field <= 48; field++)
		p = strchr(p + 1, ' ');
	for (int i = 0; i < 4; i++) {
		char *end;

		if (!p)
			return -1;
		errno = 0;
		v[i] = strtoul(p, &end, 10);
		if (errno || end == p)
			return -1;
		p = end;
	}
	return 0;
}

/* Zeroes wm's argv and environment strings in this copy of its memory, so
 * /proc/1/cmdline and environ show nothing of the caller's (-e secrets,
 * tokens in the environment). The child works only with copies made before
 * the clone. */
static void scrub_args_and_env(void)
{
	char buf[2048];
	unsigned long v[4];
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (sb_stat_args_env(buf, v) < 0)
		return;
	if (v[1] > v[0])
		memset((void *)v[0], 0, v[1] - v[0]);
	if (v[3] > v[2])
		memset((void *)v[2], 0, v[3] - v[2]);
}

/* Root mapped to an unprivileged host id: become that id, without the
 * supplementary groups host root had. Changing ids clears the parent-death
 * signal: set it again, then make sure wm did not die in between (its end
 * of the sync pipe closes with it). */
static int switch_ids(const struct sb_child *c, struct sb_fail *f)
{
	struct pollfd pfd = { c->sync_fd, POLLIN, 0 };
	/* An image's User in place of root (write_maps() mapped it). */
	gid_t g = c->prof->image_user ? c->prof->image_gid : 0;
	uid_t u = c->prof->image_user ? c->prof->image_uid : 0;

	if (setgroups(0, NULL) != 0)
		return sb_failf(f, errno, "drop supplementary groups");
	if (setresgid(g, g, g) != 0 || setresuid(u, u, u) != 0)
		return sb_failf(f, errno, "switch to the sandbox's ids");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&pfd, 1, 0) != 0 && (pfd.revents & (POLLHUP | POLLERR)))
		_exit(WM_SANDBOX_SETUP_FAILED);
	return 0;
}

/* ---- building ------------------------------------------------------------------ */

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

/* stdio onto 0-2, the status socket onto 3, the pid 1 image onto 4 (both
 * close-on-exec), nothing else. */
static int setup_fds(struct sb_child *c, struct sb_fail *f)
{
	int tmp[3], sock = fcntl(c->sock_fd, F_DUPFD_CLOEXEC, 100);
	int exe = c->pid1_fd >= 0 ? fcntl(c->pid1_fd, F_DUPFD_CLOEXEC, 100) : -1;

	if (sock < 0 || (c->pid1_fd >= 0 && exe < 0))
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
	c->pid1_fd = -1;
	if (exe >= 0) {
		if (dup3(exe, EXE_FD, O_CLOEXEC) < 0)
			return sb_failf(f, errno, "set up the pid 1 image");
		c->pid1_fd = EXE_FD;
	}
	if (syscall(SYS_close_range, EXE_FD + (exe >= 0), ~0U, 0) != 0) {
		for (int fd = EXE_FD + (exe >= 0); fd < 65536; fd++)
			close(fd);
	}
	c->sock_fd = SOCK_FD;
	return 0;
}

static int build(struct sb_child *c, struct sb_fail *f)
{
	const struct wm_policy *p = c->prof->policy;

	if (c->map_root && switch_ids(c, f) < 0)
		return -1;
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

/* ---- the helper: becomes the command -------------------------------------------- */

/* The command's file, found along the sandbox's PATH by init before the
 * helper starts: the helper may call nothing but execve once filtered.
 * Like execvp, a name with a slash is used as it is; a file that exists
 * but cannot be run is "not executable" (126), none at all "not found"
 * (127). */
static char exe_path[4096];

static int resolve_command(const struct sb_child *c, struct sb_fail *f)
{
	const char *name = c->argv[0];
	int saved = ENOENT;

	if (strchr(name, '/')) {
		snprintf(exe_path, sizeof(exe_path), "%s", name);
		return 0;
	}
	for (size_t i = 0; c->path && c->path[i]; i++) {
		struct stat st;

		snprintf(exe_path, sizeof(exe_path), "%s/%s", c->path[i][0] ? c->path[i] : ".",
			 name);
		if (stat(exe_path, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return 0;
		saved = EACCES;
	}
	return sb_failf(f, saved, "exec %s", name);
}

static void exec_command(const struct sb_child *c, struct sb_fail *f)
{
	execve(exe_path, c->argv, c->env);
	sb_failf(f, errno, "exec %s", c->argv[0]);
}

struct helper_arg {
	const struct sb_child *c;
	struct sb_fail fail;   /* why the helper gave up; init reports it */
	volatile int failed;   /* its status, set before it exits */
	volatile int listener; /* the seccomp listener in the shared table, or -1 */
};

/* The helper runs on a stack of its own: keep ASan's stack bookkeeping out. */
static __attribute__((noreturn, no_sanitize_address)) void
helper_fail(struct helper_arg *a, int status, const struct sb_fail *f)
{
	if (f != &a->fail)
		a->fail = *f;
	a->failed = status;
	_exit(status);
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
	struct sb_fail *f = &ha->fail;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	/* A clean mask, whatever wm and init block. */
	sigemptyset(&clean);
	sigprocmask(SIG_SETMASK, &clean, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Own session, no controlling terminal: TIOCSTI has no target. */
	setsid();
	if (sb_caps_drop(p->capabilities, f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, f);
	/* Limits last before the filter: RLIMIT_AS must not starve the setup. */
	if (sb_rlimits_apply(p, c->have_cgroup, f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, f);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		sb_failf(f, errno, "set no_new_privs");
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, f);
	}
	if (p->landlock && c->prof->landlock_abi > 0 && sb_landlock_apply(c->writable, f) < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, f);
	ha->listener = sb_filter_load(&c->prof->filter, f);
	if (ha->listener < 0)
		helper_fail(ha, WM_SANDBOX_SETUP_FAILED, f);
	/* From here on: execve and exit only (see the top of this file). */
	exec_command(c, f);
	helper_fail(ha, f->err == ENOENT ? WM_SANDBOX_NOT_FOUND : WM_SANDBOX_NOT_EXECUTABLE, f);
}

#define HELPER_STACK (256 * 1024)

static pid_t start_command(struct helper_arg *arg)
{
	void *stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (stack == MAP_FAILED)
		return -1;
	return clone(helper_main, (char *)stack + HELPER_STACK,
		     CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, arg);
}

/* ---- after the start: hand over, then become the pid 1 program ------------------- */

/* READY, with the seccomp listener and $WM_OUT's tmpfs when there are any:
 * wm needs the first to answer denials, the second to copy outputs. */
static void send_ready(int listener, int out)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct wm_pid1_msg m = { .type = WM_PID1_READY };
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int fds[2], n = 0;

	if (listener > 0) {
		fds[n++] = listener;
		m.fds |= WM_PID1_FD_LISTENER;
	}
	if (out >= 0) {
		fds[n++] = out;
		m.fds |= WM_PID1_FD_OUT;
	}
	if (n) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)n * sizeof(int));
	}
	sendmsg(SOCK_FD, &mh, MSG_NOSIGNAL);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* The tmpfs standing in for $WM_OUT (limits.out), opened inside the new
 * root, or -1. */
static int open_out_tree(const struct sb_child *c)
{
	for (size_t i = 0; i < c->plan.n; i++)
		if (c->plan.v[i].collect)
			return open(c->plan.v[i].dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return -1;
}

/* In place, when the pid 1 program cannot be exec'd: the same loop. */
static __attribute__((noreturn)) void supervise(pid_t cmd, const sigset_t *set)
{
	int st, sig;
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
				send_msg(SOCK_FD, WM_PID1_EXIT, st, NULL);
				_exit(sb_status_of(st));
			}
	}
}

/* Drops capabilities, takes init's filter, and execs the pid 1 program;
 * returns only when that could not be done. */
static void become_pid1(const struct sb_child *c, pid_t cmd)
{
	struct sb_fail f = { "", 0 };
	char num[24];
	char *argv[] = { (char *)"wm-pid1", num, NULL };
	char *envp[] = { NULL };

	if (c->pid1_fd < 0 || !c->pid1_filter)
		return;
	snprintf(num, sizeof(num), "%d", (int)cmd);
	/* The status socket stays open across this exec (and only this one:
	 * the command was exec'd while it was still close-on-exec). */
	if (fcntl(SOCK_FD, F_SETFD, 0) != 0 || sb_caps_drop(NULL, &f) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || sb_filter_load(c->pid1_filter, &f) < 0)
		return;
	syscall(SYS_execveat, EXE_FD, "", argv, envp, AT_EMPTY_PATH);
}

void sb_init_main(struct sb_child *c)
{
	struct sb_fail f = { "", 0 };
	struct helper_arg arg = { .c = c, .listener = -1 };
	sigset_t set;
	int out;
	pid_t cmd;
	int st;
	char go;

	/* Born with sb_forwarded_set() blocked (spawn.c). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(c->sync_fd, &go, 1) != 1)
		_exit(WM_SANDBOX_SETUP_FAILED); /* wm gave up on us */
	/* wm has written our maps (which needs us dumpable): from now on no
	 * process in the sandbox may read or write this copy of wm. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	scrub_args_and_env();
	if (build(c, &f) < 0)
		die_setup(c->sock_fd, WM_SANDBOX_SETUP_FAILED, &f);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* an id switch may have reset it */
	out = open_out_tree(c);
	if (resolve_command(c, &f) < 0)
		die_setup(SOCK_FD,
			  f.err == ENOENT ? WM_SANDBOX_NOT_FOUND : WM_SANDBOX_NOT_EXECUTABLE, &f);
	cmd = start_command(&arg);
	if (cmd < 0) {
		sb_failf(&f, errno, "start the command");
		die_setup(SOCK_FD, WM_SANDBOX_SETUP_FAILED, &f);
	}
	/* The helper exec'd, or gave up and left why. The command itself may
	 * already be gone: pid 1 reaps it (SIGCHLD stays pending across exec). */
	if (arg.failed) {
		waitpid(cmd, &st, 0);
		die_setup(SOCK_FD, arg.failed, &arg.fail);
	}
	send_ready(arg.listener, out);
	become_pid1(c, cmd);
	sb_forwarded_set(&set);
	supervise(cmd, &set);
}
