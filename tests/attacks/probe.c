/*
 * probe.c - tries one escape or forbidden action inside a sandbox and says
 * how it went: exit 10 "BLOCKED", 20 "SUCCEEDED", 30 "INCONCLUSIVE".
 *
 *     probe NAME [ARG]
 *
 * Every attempt is harmless even when it works: bogus arguments make the
 * kernel itself refuse with EINVAL/EFAULT/ENOTTY, so such an answer proves
 * the call got past the filter (the filter answers EPERM/EACCES).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { BLOCKED = 10, SUCCEEDED = 20, INCONCLUSIVE = 30 };

static int say(int r, const char *what, int err)
{
	const char *w = r == BLOCKED ? "BLOCKED" : r == SUCCEEDED ? "SUCCEEDED" : "INCONCLUSIVE";

	printf("%s: %s%s%s\n", w, what, err ? ": " : "", err ? strerror(err) : "");
	fflush(stdout);
	return r;
}

/* A raw call: -1/EPERM or EACCES is the filter, anything else the kernel. */
static int judge(const char *what, long rc)
{
	if (rc >= 0)
		return say(SUCCEEDED, what, 0);
	if (errno == EPERM || errno == EACCES)
		return say(BLOCKED, what, errno);
	return say(SUCCEEDED, what, errno); /* reached the kernel */
}

static int seepid(const char *arg)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%s", arg);
	if (access(path, F_OK) == 0 || kill(atoi(arg), 0) == 0 || errno == EPERM)
		return say(SUCCEEDED, "host process visible", 0);
	return say(BLOCKED, "host process visible", errno);
}

static int do_connect(const char *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return say(BLOCKED, "socket", errno);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return say(SUCCEEDED, "connect 127.0.0.1", 0);
	return say(BLOCKED, "connect 127.0.0.1", errno);
}

/* Write access without changing anything: an append-open, or a new file
 * removed at once. */
static int do_write(const char *path)
{
	struct stat st;
	char tmp[4096];
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(tmp, sizeof(tmp), "%s/.wm-probe-%d", path, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
			return say(SUCCEEDED, "create file", 0);
		}
		return say(BLOCKED, "create file", errno);
	}
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd >= 0) {
		close(fd);
		return say(SUCCEEDED, "open for writing", 0);
	}
	return say(BLOCKED, "open for writing", errno);
}

static int do_ptrace(void)
{
	pid_t sib = fork();
	long rc;
	int e;

	if (sib == 0) {
		pause();
		_exit(0);
	}
	rc = ptrace(PTRACE_ATTACH, sib, NULL, NULL);
	e = errno;
	kill(sib, SIGKILL);
	waitpid(sib, NULL, 0);
	errno = e;
	if (rc == 0)
		return say(SUCCEEDED, "ptrace attach", 0);
	return say(BLOCKED, "ptrace attach", e);
}

static int caps(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int bad = 0;

	if (!f)
		return say(INCONCLUSIVE, "read status", errno);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 &&
		    strtoull(strchr(line, ':') + 1, NULL, 16) != 0) {
			bad = 1;
			fputs(line, stdout);
		}
	fclose(f);
	return say(bad ? SUCCEEDED : BLOCKED, "capabilities kept", 0);
}

static int forkbomb(const char *arg)
{
	int want = atoi(arg), got = 0;

	for (; got < want; got++) {
		pid_t p = fork();

		if (p < 0)
			break;
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	printf("forked %d of %d\n", got, want);
	return say(got >= want ? SUCCEEDED : BLOCKED, "fork bomb", got < want ? errno : 0);
}

static int memhog(const char *arg)
{
	long mb = atol(arg);

	for (long i = 0; i < mb; i += 16) {
		char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return say(BLOCKED, "memory hog", errno);
		memset(p, 1, 16 << 20);
	}
	return say(SUCCEEDED, "memory hog", 0);
}

static int tiocsti(unsigned long request)
{
	char c = ' ';
	int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY);

	if (fd < 0)
		fd = open("/dev/null", O_RDONLY);
	/* On /dev/null the kernel says ENOTTY: only the filter says EPERM. */
	return judge("ioctl TIOCSTI", syscall(SYS_ioctl, fd, request, &c));
}

static int x32(void)
{
	long rc = syscall(0x40000000 | 39 /* x32 getpid */);

	if (rc >= 0)
		return say(SUCCEEDED, "x32 getpid", 0);
	if (errno == ENOSYS)
		return say(INCONCLUSIVE, "x32 getpid (no x32 in this kernel)", errno);
	return say(BLOCKED, "x32 getpid", errno);
}

static int nonnp(void)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return say(BLOCKED, "no_new_privs is set", 0);
	return judge("seccomp without no_new_privs",
		     syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, NULL));
}

static int clone3_enosys(void)
{
	long rc = syscall(SYS_clone3, NULL, 0);

	if (rc < 0 && errno == ENOSYS)
		return say(BLOCKED, "clone3 gives ENOSYS", errno);
	return judge("clone3", rc);
}

static int clone_ns(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return judge("clone(CLONE_NEWUSER)", pid);
}

int main(int argc, char **argv)
{
	const char *n = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : "0";

	if (!strcmp(n, "seepid"))
		return seepid(a);
	if (!strcmp(n, "connect"))
		return do_connect(a);
	if (!strcmp(n, "write"))
		return do_write(a);
	if (!strcmp(n, "ptrace"))
		return do_ptrace();
	if (!strcmp(n, "mount"))
		return judge("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(n, "unshare"))
		return judge("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
	if (!strcmp(n, "clone_ns"))
		return clone_ns();
	if (!strcmp(n, "keyctl"))
		return judge("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
	if (!strcmp(n, "bpf"))
		return judge("bpf", syscall(SYS_bpf, 0x7fff, NULL, 0));
	if (!strcmp(n, "perf_event_open"))
		return judge("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	if (!strcmp(n, "userfaultfd"))
		return judge("userfaultfd", syscall(SYS_userfaultfd, 0x7fff0000));
	if (!strcmp(n, "open_by_handle_at"))
		return judge("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
	if (!strcmp(n, "kexec_load"))
		return judge("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL));
	if (!strcmp(n, "io_uring_setup"))
		return judge("io_uring_setup", syscall(SYS_io_uring_setup, 0, NULL));
	if (!strcmp(n, "tiocsti"))
		return tiocsti(TIOCSTI);
	if (!strcmp(n, "tiocsti_high"))
		return tiocsti(TIOCSTI | 0x100000000UL);
	if (!strcmp(n, "x32"))
		return x32();
	if (!strcmp(n, "caps"))
		return caps();
	if (!strcmp(n, "fd"))
		return fcntl(atoi(a), F_GETFD) >= 0 ? say(SUCCEEDED, "inherited fd open", 0)
						    : say(BLOCKED, "inherited fd open", errno);
	if (!strcmp(n, "forkbomb"))
		return forkbomb(a);
	if (!strcmp(n, "memhog"))
		return memhog(a);
	if (!strcmp(n, "nonnp"))
		return nonnp();
	if (!strcmp(n, "clone3"))
		return clone3_enosys();
	fprintf(stderr, "probe: unknown attack '%s'\n", n);
	return 2;
}
