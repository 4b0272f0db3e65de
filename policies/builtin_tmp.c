/*
 * builtin_tmp.c - the six built-in policies written in C, standing in for the
 * policy loader (policies.h) until the YAML one replaces this file.
 *
 * Everything policy-specific lives here; sandbox/ only reads struct wm_policy.
 * Syscall lists are space-separated strings turned into rules at set creation.
 */
#include "policies/policies.h"

#include <errno.h>
#include <linux/sched.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)

struct wm_policy_set {
	struct wm_policy **v;
	size_t n;
};

/* Denied from `development` on (SPEC.md section 3). */
static const char dangerous[] =
    "ptrace mount umount2 pivot_root kexec_load kexec_file_load init_module finit_module "
    "delete_module bpf perf_event_open keyctl add_key request_key userfaultfd "
    "open_by_handle_at name_to_handle_at reboot swapon swapoff settimeofday clock_settime "
    "clock_adjtime adjtimex unshare setns io_uring_setup io_uring_enter io_uring_register "
    "process_vm_readv process_vm_writev pidfd_getfd kcmp acct quotactl syslog vhangup "
    "fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr iopl ioperm "
    "lookup_dcookie uselib";

/* Close to Docker's default profile, without what `dangerous` lists. */
static const char allow_standard[] =
    "accept accept4 access alarm bind brk capget capset chdir chmod chown clock_getres "
    "clock_gettime clock_nanosleep close close_range connect copy_file_range creat dup dup2 "
    "dup3 epoll_create epoll_create1 epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd "
    "eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fallocate "
    "fanotify_mark fchdir fchmod fchmodat fchown fchownat fcntl fdatasync fgetxattr "
    "flistxattr flock fork fremovexattr fsetxattr fstat fstatfs fsync ftruncate futex "
    "futex_waitv futimesat getcpu getcwd getdents getdents64 getegid geteuid getgid "
    "getgroups getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom "
    "getresgid getresuid getrlimit get_robust_list getrusage getsid getsockname getsockopt "
    "get_thread_area gettid gettimeofday getuid getxattr inotify_add_watch inotify_init "
    "inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents "
    "ioprio_get ioprio_set io_setup io_submit kill landlock_add_rule landlock_create_ruleset "
    "landlock_restrict_self lchown lgetxattr link linkat listen listxattr llistxattr "
    "lremovexattr lseek lsetxattr lstat madvise membarrier memfd_create mincore mkdir "
    "mkdirat mknod mknodat mlock mlock2 mlockall mmap mprotect mq_getsetattr mq_notify "
    "mq_open mq_timedreceive mq_timedsend mq_unlink mremap msgctl msgget msgrcv msgsnd msync "
    "munlock munlockall munmap nanosleep newfstatat open openat openat2 pause pidfd_open "
    "pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll prctl pread64 "
    "preadv preadv2 prlimit64 pselect6 pwrite64 pwritev pwritev2 read readahead readlink "
    "readlinkat readv recvfrom recvmmsg recvmsg remap_file_pages removexattr rename renameat "
    "renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask "
    "rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo "
    "sched_getaffinity sched_getattr sched_getparam sched_get_priority_max "
    "sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_setaffinity "
    "sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget "
    "semop semtimedop sendfile sendmmsg sendmsg sendto setfsgid setfsuid setgid setgroups "
    "setitimer setpgid setpriority setregid setresgid setresuid setreuid setrlimit "
    "set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setxattr shmat "
    "shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 socket socketpair splice "
    "stat statfs statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time "
    "timer_create timer_delete timer_getoverrun timer_gettime timer_settime timerfd_create "
    "timerfd_gettime timerfd_settime times tkill truncate umask uname unlink unlinkat utime "
    "utimensat utimes vfork vmsplice wait4 waitid write writev arch_prctl";

/* What a build or a script needs; no SysV IPC, no id changes, no scheduling. */
static const char allow_hardened[] =
    "access alarm brk capget chdir chmod clock_getres clock_gettime clock_nanosleep close "
    "close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 "
    "epoll_ctl epoll_pwait epoll_pwait2 epoll_wait eventfd eventfd2 execve execveat exit "
    "exit_group faccessat faccessat2 fadvise64 fallocate fchdir fchmod fchmodat fcntl "
    "fdatasync fgetxattr flistxattr flock fork fstat fstatfs fsync ftruncate futex getcpu "
    "getcwd getdents getdents64 getegid geteuid getgid getgroups getitimer getpeername "
    "getpgid getpgrp getpid getppid getpriority getrandom getresgid getresuid getrlimit "
    "get_robust_list getrusage getsid getsockname getsockopt gettid gettimeofday getuid "
    "getxattr inotify_add_watch inotify_init1 inotify_rm_watch ioctl kill lgetxattr link "
    "linkat listxattr llistxattr lseek lstat madvise membarrier memfd_create mincore mkdir "
    "mkdirat mmap mprotect mremap msync munmap nanosleep newfstatat open openat openat2 "
    "pause pipe pipe2 poll ppoll prctl pread64 preadv preadv2 prlimit64 pselect6 pwrite64 "
    "pwritev pwritev2 read readahead readlink readlinkat readv recvfrom recvmsg rename "
    "renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending "
    "rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait "
    "rt_tgsigqueueinfo sched_getaffinity sched_yield select sendfile sendmsg sendto "
    "set_robust_list setpgid setsid set_tid_address sigaltstack signalfd4 socket socketpair "
    "splice stat statfs statx symlink symlinkat sysinfo tee tgkill time timer_create "
    "timer_delete timer_gettime timer_settime timerfd_create timerfd_gettime "
    "timerfd_settime times tkill truncate umask uname unlink unlinkat utimensat utimes vfork "
    "wait4 waitid write writev arch_prctl";

/* Enough for a shell, coreutils and python; everything else kills. */
static const char allow_paranoid[] =
    "access alarm brk chdir chmod clock_getres clock_gettime clock_nanosleep close "
    "close_range dup dup2 dup3 epoll_create1 epoll_ctl epoll_pwait epoll_wait eventfd2 "
    "execve exit exit_group faccessat faccessat2 fadvise64 fchdir fchmod fcntl fdatasync "
    "flock fstat fstatfs fsync ftruncate futex getcwd getdents64 getegid geteuid getgid "
    "getgroups getpgid getpgrp getpid getppid getrandom getresgid getresuid getrlimit "
    "get_robust_list getrusage getsid gettid gettimeofday getuid ioctl kill lseek lstat "
    "madvise mkdir mkdirat mmap mprotect mremap munmap nanosleep newfstatat open openat "
    "pause pipe pipe2 poll ppoll prctl pread64 prlimit64 pselect6 pwrite64 read readlink "
    "readlinkat readv rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction "
    "rt_sigprocmask rt_sigreturn rt_sigsuspend rt_sigtimedwait sched_getaffinity "
    "sched_yield select set_robust_list setpgid set_tid_address sigaltstack stat statfs "
    "statx symlink symlinkat sysinfo tgkill time times umask uname unlink unlinkat "
    "utimensat vfork wait4 waitid write writev arch_prctl";

/* Calls ordinary programs probe and cope without: refused, not killed. */
static const char refuse_paranoid[] = "socket socketpair connect sendto recvfrom sendmsg recvmsg "
				      "getsockname getsockopt getpeername";

static void add_rule(struct wm_policy *p, size_t *alloc, const char *name,
		     enum wm_seccomp_action action, int errno_ret)
{
	struct wm_seccomp_rule *r;

	WM_GROW(p->seccomp.rules, *alloc, p->seccomp.n_rules + 1);
	r = &p->seccomp.rules[p->seccomp.n_rules++];
	memset(r, 0, sizeof(*r));
	r->name = wm_xstrdup(name);
	r->action = action;
	r->errno_ret = errno_ret;
}

static void add_rules(struct wm_policy *p, size_t *alloc, const char *names,
		      enum wm_seccomp_action action, int errno_ret)
{
	const char *s = names;

	while (*s) {
		size_t len = strcspn(s, " ");
		char *name = wm_xstrndup(s, len);

		add_rule(p, alloc, name, action, errno_ret);
		free(name);
		s += len;
		s += strspn(s, " ");
	}
}

static void add_arg(struct wm_policy *p, unsigned index, enum wm_seccomp_op op, uint64_t value,
		    uint64_t value_two)
{
	struct wm_seccomp_rule *r = &p->seccomp.rules[p->seccomp.n_rules - 1];

	r->args[r->n_args++] = (struct wm_seccomp_arg){index, op, value, value_two};
}

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP)

/* The rules every policy from development on has, whatever its default. */
static void add_common_denials(struct wm_policy *p, size_t *alloc, bool allowlist)
{
	add_rules(p, alloc, dangerous, WM_SC_ERRNO, 0);
	/* TIOCSTI whatever the upper 32 bits: the kernel ignores them. */
	add_rule(p, alloc, "ioctl", WM_SC_ERRNO, 0);
	add_arg(p, 1, WM_SC_OP_MASKED_EQ, 0xffffffffULL, TIOCSTI);
	/* clone3 passes its flags in memory seccomp cannot read: make libc
	 * fall back to clone, whose flags it can. */
	add_rule(p, alloc, "clone3", WM_SC_ERRNO, ENOSYS);
	if (allowlist) {
		add_rule(p, alloc, "clone", WM_SC_ALLOW, 0);
		add_arg(p, 0, WM_SC_OP_MASKED_EQ, NS_FLAGS, 0);
	} else {
		static const uint64_t flags[] = {CLONE_NEWNS,	 CLONE_NEWUTS, CLONE_NEWIPC,
						 CLONE_NEWUSER,	 CLONE_NEWPID, CLONE_NEWNET,
						 CLONE_NEWCGROUP};
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			add_rule(p, alloc, "clone", WM_SC_ERRNO, 0);
			add_arg(p, 0, WM_SC_OP_MASKED_EQ, flags[i], flags[i]);
		}
	}
}

static void add_personality(struct wm_policy *p, size_t *alloc, bool strict)
{
	static const uint64_t ok[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (strict && ok[i] != 0 && ok[i] != 0xffffffff)
			continue;
		add_rule(p, alloc, "personality", WM_SC_ALLOW, 0);
		add_arg(p, 0, WM_SC_OP_EQ, ok[i], 0);
	}
}

static char **strv_of(const char *words)
{
	char **v = NULL;
	size_t n = 0;
	const char *s = words;

	while (*s) {
		size_t len = strcspn(s, " ");

		wm_strv_push_owned(&v, &n, wm_xstrndup(s, len));
		s += len;
		s += strspn(s, " ");
	}
	if (!v)
		v = wm_xcalloc(1, sizeof(*v));
	return v;
}

static struct wm_policy *base(const char *name, const char *desc)
{
	struct wm_policy *p = wm_xcalloc(1, sizeof(*p));

	p->name = wm_xstrdup(name);
	p->description = wm_xstrdup(desc);
	p->source = wm_xasprintf("builtin:%s", name);
	p->fs.hide = strv_of("");
	p->fs.devices = strv_of("");
	p->capabilities = strv_of("");
	p->env.keep = strv_of("PATH HOME LANG LC_ALL TERM USER LOGNAME SHELL TZ");
	p->env.set = strv_of("");
	p->limits.core = 0;
	return p;
}

static struct wm_policy *make_minimal(void)
{
	struct wm_policy *p = base("minimal", "trusted scripts");

	p->network = WM_NET_HOST;
	p->fs.view = WM_VIEW_HOST_RW;
	p->fs.workspace = WM_WS_RW;
	wm_strv_free(p->fs.devices);
	p->fs.devices = strv_of("tty pts");
	p->limits.timeout_ms = 3600 * 1000ULL;
	return p;
}

static struct wm_policy *make_development(void)
{
	struct wm_policy *p = base("development", "local work");
	size_t alloc = 0;

	p->network = WM_NET_HOST;
	p->fs.view = WM_VIEW_HOST_RO;
	p->fs.workspace = WM_WS_RW;
	p->fs.tmp_size = 1 * GIB;
	wm_strv_free(p->fs.devices);
	p->fs.devices = strv_of("tty pts");
	p->seccomp.enabled = true;
	p->seccomp.default_action = WM_SC_ALLOW;
	add_common_denials(p, &alloc, false);
	p->limits = (__typeof__(p->limits)){
	    .memory = 8 * GIB, .pids = 4096, .timeout_ms = 2 * 3600 * 1000ULL};
	return p;
}

static struct wm_policy *make_testing(void)
{
	struct wm_policy *p = make_development();

	free(p->name);
	free(p->description);
	free(p->source);
	p->name = wm_xstrdup("testing");
	p->description = wm_xstrdup("CI");
	p->source = wm_xstrdup("builtin:testing");
	p->network = WM_NET_LOOPBACK;
	p->fs.tmp_size = 512 * MIB;
	p->limits = (__typeof__(p->limits)){
	    .memory = 2 * GIB, .pids = 1024, .nofile = 4096, .timeout_ms = 30 * 60 * 1000ULL};
	wm_strv_free(p->env.keep);
	p->env.keep = strv_of("PATH HOME TERM");
	wm_strv_free(p->env.set);
	p->env.set = strv_of("LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC SOURCE_DATE_EPOCH=0 CI=1");
	return p;
}

static void allowlist(struct wm_policy *p, const char *allow, enum wm_seccomp_action dflt,
		      bool strict_personality)
{
	size_t alloc = 0;

	p->seccomp.enabled = true;
	p->seccomp.default_action = dflt;
	add_common_denials(p, &alloc, true);
	add_personality(p, &alloc, strict_personality);
	add_rules(p, &alloc, allow, WM_SC_ALLOW, 0);
}

static struct wm_policy *make_standard(void)
{
	struct wm_policy *p = base("standard", "general use");

	p->network = WM_NET_NONE;
	p->fs.view = WM_VIEW_HOST_RO;
	p->fs.workspace = WM_WS_RW;
	p->fs.tmp_size = 512 * MIB;
	allowlist(p, allow_standard, WM_SC_ERRNO, false);
	p->limits = (__typeof__(p->limits)){
	    .memory = 1 * GIB, .pids = 512, .nofile = 4096, .timeout_ms = 30 * 60 * 1000ULL};
	wm_strv_free(p->env.keep);
	p->env.keep = strv_of("PATH HOME LANG LC_ALL TERM TZ");
	return p;
}

static struct wm_policy *make_hardened(void)
{
	struct wm_policy *p = base("hardened", "production");

	p->network = WM_NET_NONE;
	p->fs.view = WM_VIEW_SYSTEM;
	p->fs.workspace = WM_WS_RO;
	p->fs.tmp_size = 256 * MIB;
	allowlist(p, allow_hardened, WM_SC_ERRNO, true);
	p->limits = (__typeof__(p->limits)){.memory = 512 * MIB,
					    .pids = 128,
					    .cpu = 1,
					    .nofile = 1024,
					    .fsize = 1 * GIB,
					    .timeout_ms = 10 * 60 * 1000ULL};
	wm_strv_free(p->env.keep);
	p->env.keep = strv_of("PATH LANG");
	wm_strv_free(p->env.set);
	p->env.set = strv_of("HOME=/tmp");
	return p;
}

static struct wm_policy *make_paranoid(void)
{
	struct wm_policy *p = base("paranoid", "untrusted code");
	size_t alloc;

	p->network = WM_NET_NONE;
	p->fs.view = WM_VIEW_MINIMAL;
	p->fs.workspace = WM_WS_RO;
	p->fs.tmp_size = 64 * MIB;
	wm_strv_free(p->fs.hide);
	p->fs.hide = strv_of("/home /root");
	p->user_namespace = true;
	p->landlock = true;
	allowlist(p, allow_paranoid, WM_SC_KILL, true);
	alloc = p->seccomp.n_rules;
	add_rules(p, &alloc, refuse_paranoid, WM_SC_ERRNO, EACCES);
	p->limits = (__typeof__(p->limits)){.memory = 256 * MIB,
					    .pids = 64,
					    .cpu = 1,
					    .nofile = 256,
					    .fsize = 256 * MIB,
					    .timeout_ms = 5 * 60 * 1000ULL};
	wm_strv_free(p->env.keep);
	p->env.keep = strv_of("");
	wm_strv_free(p->env.set);
	p->env.set = strv_of("PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8");
	return p;
}

struct wm_policy_set *wm_policy_set_new(void)
{
	struct wm_policy *(*const makers[])(void) = {make_minimal,  make_development,
						     make_testing,  make_standard,
						     make_hardened, make_paranoid};
	struct wm_policy_set *set = wm_xcalloc(1, sizeof(*set));

	set->n = sizeof(makers) / sizeof(makers[0]);
	set->v = wm_xcalloc(set->n, sizeof(*set->v));
	for (size_t i = 0; i < set->n; i++)
		set->v[i] = makers[i]();
	return set;
}

void wm_policy_set_free(struct wm_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		wm_policy_free(set->v[i]);
	free(set->v);
	free(set);
}

int wm_policy_set_load_file(struct wm_policy_set *set, const char *path, struct wm_diags *diags,
			    struct wm_error **err)
{
	(void)set;
	(void)diags;
	return wm_error_setx(err, WM_EXIT_USAGE, "policy file `%s`: not supported yet", path);
}

const struct wm_policy *wm_policy_set_get(const struct wm_policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}

size_t wm_policy_set_count(const struct wm_policy_set *set)
{
	return set->n;
}

const struct wm_policy *wm_policy_set_at(const struct wm_policy_set *set, size_t i)
{
	return i < set->n ? set->v[i] : NULL;
}

static void add_strv(struct wm_buf *b, const char *key, char *const *v)
{
	wm_buf_addf(b, "%s:", key);
	for (size_t i = 0; v && v[i]; i++)
		wm_buf_addf(b, "%zu:%s,", strlen(v[i]), v[i]);
	wm_buf_addch(b, '\n');
}

char *wm_policy_hash(const struct wm_policy *p)
{
	struct wm_buf b = WM_BUF_INIT;
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];

	wm_buf_addf(&b, "net:%d view:%d rootfs:%s ws:%d tmp:%llu userns:%d landlock:%d\n",
		    (int)p->network, (int)p->fs.view, p->fs.rootfs ? p->fs.rootfs : "-",
		    (int)p->fs.workspace, (unsigned long long)p->fs.tmp_size, p->user_namespace,
		    p->landlock);
	add_strv(&b, "hide", p->fs.hide);
	add_strv(&b, "dev", p->fs.devices);
	add_strv(&b, "caps", p->capabilities);
	for (size_t i = 0; i < p->fs.n_binds; i++)
		wm_buf_addf(&b, "bind:%s:%s:%d\n", p->fs.binds[i].src, p->fs.binds[i].dst,
			    p->fs.binds[i].rw);
	wm_buf_addf(&b, "seccomp:%d:%d:%d\n", p->seccomp.enabled, (int)p->seccomp.default_action,
		    p->seccomp.default_errno);
	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		wm_buf_addf(&b, "rule:%s:%d:%d", r->name, (int)r->action, r->errno_ret);
		for (size_t j = 0; j < r->n_args; j++)
			wm_buf_addf(&b, ":%u/%d/%llx/%llx", r->args[j].index, (int)r->args[j].op,
				    (unsigned long long)r->args[j].value,
				    (unsigned long long)r->args[j].value_two);
		wm_buf_addch(&b, '\n');
	}
	wm_buf_addf(&b, "limits:%llu:%llu:%g:%llu:%llu:%llu:%llu\n",
		    (unsigned long long)p->limits.memory, (unsigned long long)p->limits.pids,
		    p->limits.cpu, (unsigned long long)p->limits.timeout_ms,
		    (unsigned long long)p->limits.nofile, (unsigned long long)p->limits.fsize,
		    (unsigned long long)p->limits.core);
	add_strv(&b, "keep", p->env.keep);
	add_strv(&b, "set", p->env.set);
	crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
	wm_buf_release(&b);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return wm_xstrdup(hex);
}
