/*
 * score.h - how exposed a task is under a policy: the risk groups of
 * system calls and the 0-100 exposure score of `wm policy score`.
 *
 * Pure: computed from a resolved policy alone (policy.h), no system calls.
 * The groups are one table (groups.c): each names a set of calls, a risk
 * class and why it is risky. `wm policy learn` uses the critical groups as
 * the calls never learned silently; the score weighs calls by class.
 * README.md, "Exposure score", gives the formula and weights.
 */
#ifndef WM_POLICIES_SCORE_H
#define WM_POLICIES_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/xlist.h"
#include "policies/policy.h"

/* X(enumerator, name, points when any call of the class passes, points
 * times the share of the class's calls that pass). A call in no group is
 * ordinary. One open critical call is most of the harm: it earns the first
 * column at once. */
#define WM_RISK_CLASSES(X)                         \
	X(WM_RISK_CRITICAL, "critical", 10.0, 8.0) \
	X(WM_RISK_ELEVATED, "elevated", 0.0, 8.0)  \
	X(WM_RISK_ORDINARY, "ordinary", 0.0, 4.0)

enum wm_risk_class { WM_RISK_CLASSES(WM_XLIST_ENUM) };
#define WM_RISK_CLASS_COUNT (0 WM_RISK_CLASSES(WM_XLIST_COUNT))

/* X(enumerator, name, class, why it is risky, calls separated by spaces).
 * clone with a CLONE_NEW* flag belongs to "namespaces" too (learn.c checks
 * the flags: the call's name alone cannot say). */
#define WM_RISK_GROUPS(X)                                                                         \
	X(WM_GRP_PTRACE, "ptrace", WM_RISK_CRITICAL,                                              \
	  "reads and steers other processes, their memory and file descriptors",                  \
	  "ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd")                           \
	X(WM_GRP_MOUNT, "mount", WM_RISK_CRITICAL,                                                \
	  "rearranges the filesystem view, where sandbox escapes start",                          \
	  "mount umount umount2 pivot_root chroot fsopen fsconfig fsmount fspick move_mount "     \
	  "open_tree mount_setattr")                                                              \
	X(WM_GRP_NAMESPACES, "namespaces", WM_RISK_CRITICAL,                                      \
	  "new namespaces bring fresh capabilities over kernel code", "unshare setns clone3")     \
	X(WM_GRP_MODULE, "module", WM_RISK_CRITICAL, "loads and runs code in the kernel",         \
	  "kexec_load kexec_file_load init_module finit_module delete_module create_module "      \
	  "query_module")                                                                         \
	X(WM_GRP_BPF, "bpf", WM_RISK_CRITICAL,                                                    \
	  "eBPF and perf: large kernel attack surface and a side channel", "bpf perf_event_open") \
	X(WM_GRP_KEYRINGS, "keyrings", WM_RISK_CRITICAL,                                          \
	  "the kernel keyring is not namespaced: keys leak between tasks",                        \
	  "keyctl add_key request_key")                                                           \
	X(WM_GRP_USERFAULTFD, "userfaultfd", WM_RISK_CRITICAL, "makes kernel races easy to win",  \
	  "userfaultfd")                                                                          \
	X(WM_GRP_HANDLES, "handles", WM_RISK_CRITICAL, "file handles bypass path permissions",    \
	  "open_by_handle_at name_to_handle_at")                                                  \
	X(WM_GRP_HOST, "host", WM_RISK_CRITICAL,                                                  \
	  "changes host-wide state: reboot, swap, the clock, accounting, quotas, the log",        \
	  "reboot swapon swapoff settimeofday clock_settime clock_adjtime adjtimex stime acct "   \
	  "quotactl quotactl_fd syslog")                                                          \
	X(WM_GRP_IO_URING, "io_uring", WM_RISK_CRITICAL,                                          \
	  "performs I/O outside the system call path seccomp sees",                               \
	  "io_uring_setup io_uring_enter io_uring_register")                                      \
	X(WM_GRP_RAW, "raw", WM_RISK_CRITICAL,                                                    \
	  "raw hardware, other processes' pages, or obsolete interfaces",                         \
	  "iopl ioperm uselib vm86 vm86old nfsservctl lookup_dcookie _sysctl sysfs ustat "        \
	  "vhangup move_pages migrate_pages")                                                     \
	X(WM_GRP_IDENTITY, "identity", WM_RISK_ELEVATED, "changes who the process is",            \
	  "setuid setgid setreuid setregid setresuid setresgid setgroups setfsuid setfsgid "      \
	  "capset")                                                                               \
	X(WM_GRP_SCHED, "scheduling", WM_RISK_ELEVATED,                                           \
	  "reorders the machine's CPUs and memory for itself",                                    \
	  "sched_setaffinity sched_setparam sched_setscheduler sched_setattr setpriority "        \
	  "ioprio_set set_mempolicy set_mempolicy_home_node mbind")                               \
	X(WM_GRP_MEMLOCK, "memlock", WM_RISK_ELEVATED, "holds RAM others need",                   \
	  "mlock mlock2 mlockall memfd_secret")                                                   \
	X(WM_GRP_LEGACY, "legacy", WM_RISK_ELEVATED,                                              \
	  "old or rarely used interfaces with a history of kernel bugs",                          \
	  "modify_ldt remap_file_pages vmsplice epoll_ctl_old epoll_wait_old fanotify_init "      \
	  "fanotify_mark process_madvise")                                                        \
	X(WM_GRP_IPC, "ipc", WM_RISK_ELEVATED,                                                    \
	  "queued signals and POSIX message queues reach other processes",                        \
	  "rt_sigqueueinfo rt_tgsigqueueinfo mq_open mq_unlink mq_timedsend mq_timedreceive "     \
	  "mq_notify mq_getsetattr")                                                              \
	X(WM_GRP_AIO, "aio", WM_RISK_ELEVATED, "asynchronous I/O: complex kernel paths",          \
	  "io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents")                   \
	X(WM_GRP_SANDBOXING, "sandboxing", WM_RISK_ELEVATED,                                      \
	  "installs filters and Landlock rules, the sandbox's job",                               \
	  "seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self")

enum wm_risk_group { WM_RISK_GROUPS(WM_XLIST_ENUM) };
#define WM_RISK_GROUP_COUNT (0 WM_RISK_GROUPS(WM_XLIST_COUNT))

const char *wm_risk_class_name(enum wm_risk_class c);
const char *wm_risk_group_name(enum wm_risk_group g);
enum wm_risk_class wm_risk_group_class(enum wm_risk_group g);
const char *wm_risk_group_reason(enum wm_risk_group g);
/* The group of a call, or -1 when it is in none (ordinary). */
int wm_risk_group_of(const char *syscall);
/* The group named `name`, or -1. */
int wm_risk_group_find(const char *name);
/* Appends the group's calls to `out`, separated by ", ". */
void wm_risk_group_calls(enum wm_risk_group g, struct wm_buf *out);

/* X(enumerator, name, most points) of the breakdown; they add up to 100. */
#define WM_SCORE_PARTS(X)                          \
	X(WM_SCORE_NETWORK, "network", 25.0)       \
	X(WM_SCORE_FILESYSTEM, "filesystem", 20.0) \
	X(WM_SCORE_SYSCALLS, "syscalls", 30.0)     \
	X(WM_SCORE_CAPS, "capabilities", 15.0)     \
	X(WM_SCORE_LIMITS, "limits", 10.0)

enum wm_score_part { WM_SCORE_PARTS(WM_XLIST_ENUM) };
#define WM_SCORE_PART_COUNT (0 WM_SCORE_PARTS(WM_XLIST_COUNT))

struct wm_policy_score {
	double total; /* 0-100, the sum of the parts */
	double part[WM_SCORE_PART_COUNT];
	double max[WM_SCORE_PART_COUNT];
	/* Within the syscalls part: points per class, calls passing / known. */
	double cls[WM_RISK_CLASS_COUNT];
	size_t cls_passing[WM_RISK_CLASS_COUNT];
	size_t cls_known[WM_RISK_CLASS_COUNT];
};

/* A score as shown, to one decimal (scores are never negative). */
static inline double wm_score_shown(double x)
{
	return (double)(long long)(x * 10 + 0.5) / 10;
}

const char *wm_score_part_name(enum wm_score_part s);
/* Scores p into *out; when `why` is not NULL, appends one line per part
 * saying what earned its points ("network      25.0/25  host ..."). */
void wm_policy_score(const struct wm_policy *p, struct wm_policy_score *out, struct wm_buf *why);

#endif
