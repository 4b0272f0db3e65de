/*
 * probe.c - tries one escape or forbidden action inside a sandbox and says
 * how it went: exit 10 "BLOCKED", 20 "SUCCEEDED", 30 "INCONCLUSIVE".
 *
 *     probe NAME [ARG]
 *
 * Before trying, it prints "probe: ran uid=U seccomp=S nnp=N": proof that
 * it ran, and under what, so a sandbox that never started cannot pass for
 * a blocked attack (the tests require this line and exit 10 together).
 *
 * Every attempt is harmless even when it works: bogus arguments make the
 * kernel itself refuse with EINVAL/EFAULT/ENOTTY, so such an answer proves
 * the call got past the filter (the filter answers EPERM/EACCES); a write
 * to another process's memory writes back the byte that was there.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

/* ---- pid 1 (the sandbox's init) and wm's own files ---- */

/* Reads a file of pid 1: anything at all read means the attack worked. */
static int read_init(const char *file, const char *canary)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/1/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return say(BLOCKED, path, errno);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return say(BLOCKED, path, errno);
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	if (canary[0] != '0' && strstr(buf, canary))
		printf("canary %s found in %s\n", canary, path);
	return say(SUCCEEDED, path, 0);
}

/* The first writable mapping of pid 1, from its maps (if readable). */
static unsigned long init_rw_address(void)
{
	char line[512];
	unsigned long lo = 0, hi;
	char perms[8];
	FILE *f = fopen("/proc/1/maps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w')
			break;
	fclose(f);
	return lo;
}

/* Opens /proc/1/mem; when that works, reads one byte and (for "write")
 * writes the same byte back. */
static int init_mem(bool write_back)
{
	unsigned long addr;
	unsigned char c;
	int fd = open("/proc/1/mem", write_back ? O_RDWR : O_RDONLY);

	if (fd < 0)
		return say(BLOCKED, "open /proc/1/mem", errno);
	addr = init_rw_address();
	if (!addr || pread(fd, &c, 1, (off_t)addr) != 1) {
		int e = errno;

		close(fd);
		/* Opened but nothing to read: the open alone is a breach. */
		return say(SUCCEEDED, "open /proc/1/mem", e);
	}
	if (write_back && pwrite(fd, &c, 1, (off_t)addr) != 1) {
		int e = errno;

		close(fd);
		return say(BLOCKED, "write /proc/1/mem", e);
	}
	close(fd);
	return say(SUCCEEDED, write_back ? "write /proc/1/mem" : "read /proc/1/mem", 0);
}

/* Another process's descriptor by pidfd_getfd: pid 1's status socket. */
static int getfd_init(void)
{
	long pidfd = syscall(SYS_pidfd_open, 1, 0), fd;

	if (pidfd < 0)
		return say(BLOCKED, "pidfd_open 1", errno);
	fd = syscall(SYS_pidfd_getfd, pidfd, 3, 0);
	if (fd >= 0)
		return say(SUCCEEDED, "pidfd_getfd of pid 1", 0);
	if (errno == EBADF)
		return say(SUCCEEDED, "pidfd_getfd reached pid 1", errno);
	return say(BLOCKED, "pidfd_getfd of pid 1", errno);
}

/* Reads a file by path: wm's audit key, a root-only host file. */
static int read_file(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return say(BLOCKED, path, errno);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n >= 0 ? say(SUCCEEDED, path, 0) : say(BLOCKED, path, errno);
}

/* The task's identity on the host: uid 0 mapped to host uid 0 (or no user
 * namespace at all while uid 0) is host root. */
static int host_root(void)
{
	unsigned inside = 1, outside = 1;
	FILE *f = fopen("/proc/self/uid_map", "r");
	int ok = f && fscanf(f, "%u %u", &inside, &outside) == 2;

	if (f)
		fclose(f);
	if (!ok)
		return say(INCONCLUSIVE, "read uid_map", errno);
	printf("uid %u, uid_map %u -> %u\n", (unsigned)getuid(), inside, outside);
	if (getuid() == inside && outside == 0)
		return say(SUCCEEDED, "runs as host uid 0", 0);
	return say(BLOCKED, "runs as host uid 0", 0);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0) /* no sockets at all: blocked the other way */
		return say(errno == EPERM || errno == EACCES ? BLOCKED : INCONCLUSIVE,
			   "socket(AF_UNIX)", errno);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return say(SUCCEEDED, "connect to a host socket", 0);
	return say(BLOCKED, "connect to a host socket", errno);
}

/* A socket of a family given by number (40: AF_VSOCK); nothing connects. */
static int family(const char *arg)
{
	int fd = socket(atoi(arg), SOCK_STREAM, 0);

	if (fd >= 0) {
		close(fd);
		return say(SUCCEEDED, "socket of that family", 0);
	}
	return say(BLOCKED, "socket of that family", errno);
}

/* A raw system call by number with bogus arguments: prints the errno so
 * the test can compare with the same call made outside any sandbox. */
static int raw(const char *arg)
{
	long rc = syscall(atol(arg), 0, 0, 0, 0, 0, 0);
	int e = errno;

	printf("errno %s\n", rc < 0 ? strerrorname_np(e) : "none");
	return rc < 0 && (e == EPERM || e == ENOSYS || e == EACCES)
		       ? say(BLOCKED, "raw system call", e)
		       : say(SUCCEEDED, "raw system call", rc < 0 ? e : 0);
}

/* A storm of denied calls: distinct numbers no kernel has, for `arg`
 * seconds. Harmless: every one is refused. */
static int storm(const char *arg)
{
	time_t end = time(NULL) + atol(arg);
	unsigned long calls = 0;

	while (time(NULL) < end)
		for (long nr = 1000; nr < 61000; nr += 1) {
			syscall(nr, 0, 0, 0, 0, 0, 0);
			calls++;
			if ((calls & 1023) == 0 && time(NULL) >= end)
				break;
		}
	printf("%lu calls made\n", calls);
	return say(BLOCKED, "storm of denied calls", 0);
}

/* Proof of life: who and under what this probe runs. */
static void ran(void)
{
	char line[256];
	int seccomp = -1, nnp = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", &seccomp);
		sscanf(line, "NoNewPrivs: %d", &nnp);
	}
	if (f)
		fclose(f);
	printf("probe: ran uid=%u seccomp=%d nnp=%d\n", (unsigned)getuid(), seccomp, nnp);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *n = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : "0";

	ran();
	if (!strcmp(n, "init-environ"))
		return read_init("environ", a);
	if (!strcmp(n, "init-cmdline"))
		return read_init("cmdline", a);
	if (!strcmp(n, "init-syscall"))
		return read_init("syscall", a);
	if (!strcmp(n, "init-mem-read"))
		return init_mem(false);
	if (!strcmp(n, "init-mem-write"))
		return init_mem(true);
	if (!strcmp(n, "init-getfd"))
		return getfd_init();
	if (!strcmp(n, "read"))
		return read_file(a);
	if (!strcmp(n, "hostroot"))
		return host_root();
	if (!strcmp(n, "unix-connect"))
		return unix_connect(a);
	if (!strcmp(n, "family"))
		return family(a);
	if (!strcmp(n, "raw"))
		return raw(a);
	if (!strcmp(n, "storm"))
		return storm(a);

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
