/*
 * doctor.c - probes of the kernel features the sandbox uses.
 */
#include "sandbox/doctor.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/internal.h"

static struct wm_doctor_item *add(struct wm_doctor *d, const char *name, bool ok, bool required,
				  const char *cost, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct wm_doctor_item *add(struct wm_doctor *d, const char *name, bool ok, bool required,
				  const char *cost, const char *fmt, ...)
{
	struct wm_doctor_item *it = &d->items[d->n++];
	va_list ap;

	it->name = name;
	it->ok = ok;
	it->required = required;
	it->cost = cost;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	return it;
}

/* Can this process create the namespaces a sandbox uses? */
static int try_clone(uint64_t flags)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	int st;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, &st, 0);
	return 0;
}

static const char *cg_name(enum sb_cg_mode m)
{
	return m == SB_CG_V2   ? "cgroup v2 (delegated subtree)"
	       : m == SB_CG_V1 ? "cgroup v1 (memory, pids writable)"
			       : "none writable: rlimits only";
}

static const char *cpu_detail(enum sb_cg_mode m)
{
	bool ok = sb_cgroup_cpu_ok(m);

	if (m == SB_CG_V2)
		return ok ? "cpu.max in the delegated cgroup v2"
			  : "the delegated cgroup v2 has no cpu controller";
	if (m == SB_CG_V1)
		return ok ? "cpu.cfs_quota_us in cgroup v1"
			  : "the cgroup v1 cpu controller is not writable";
	return "no writable cgroup: limits.cpu is not enforced";
}

void wm_sandbox_doctor(struct wm_doctor *d)
{
	uint32_t act = SECCOMP_RET_ERRNO;
	bool root = geteuid() == 0;
	int e, abi;
	enum sb_cg_mode cg;

	memset(d, 0, sizeof(*d));
	d->root = root;
	add(d, "root", root, false, "rootless: a user namespace does what root would",
	    "running as uid %u", (unsigned)geteuid());
	e = try_clone(CLONE_NEWUSER);
	add(d, "user_namespaces", e == 0, !root,
	    "rootless sandboxes cannot start (status 125); as root only policies asking for one",
	    e == 0 ? "can create user namespaces" : "cannot create user namespace: %s",
	    strerror(e));
	e = try_clone(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
		      CLONE_NEWCGROUP | (root ? 0 : CLONE_NEWUSER));
	add(d, "namespaces", e == 0, true, "no isolation at all: nothing can run sandboxed",
	    e == 0 ? "pid, mount, net, ipc, uts, cgroup" : "cannot create namespaces: %s",
	    strerror(e));
	e = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0;
	add(d, "seccomp", e, true,
	    "no system call filtering: policies from development on refuse to run",
	    "seccomp filters, libseccomp %u.%u.%u", seccomp_version()->major,
	    seccomp_version()->minor, seccomp_version()->micro);
	add(d, "seccomp_notify", sb_notify_supported(), false,
	    "denied calls still fail, but are not reported by name",
	    sb_notify_supported() ? "user notification: denials reported by name"
				  : "no user notification");
	abi = sb_landlock_abi();
	add(d, "landlock", abi > 0, false, "paranoid relies on its read-only mounts alone",
	    abi > 0 ? "Landlock ABI %d" : "no Landlock", abi);
	cg = sb_cgroup_detect();
	add(d, "cgroups", cg != SB_CG_NONE, false,
	    "memory falls back to RLIMIT_AS (per process) and pids to RLIMIT_NPROC (per "
	    "user): wm warns (limit.unenforced), limits.strict refuses; run wm in a delegated "
	    "cgroup v2, e.g. systemd-run --user --scope -p Delegate=yes wm run ...",
	    "%s", cg_name(cg));
	add(d, "cpu_limit", sb_cgroup_cpu_ok(cg), false,
	    "a policy's limits.cpu (hardened: 2 CPUs, paranoid: 1) is not enforced: wm warns "
	    "when a run starts (limit.unenforced), limits.strict refuses; delegate the cpu "
	    "controller to wm's cgroup (systemd: Delegate=cpu memory pids)",
	    "%s", cpu_detail(cg));
	e = sb_pid1_image_fd();
	add(d, "pid1_image", e >= 0, false,
	    "the sandbox's pid 1 stays a copy of wm (not dumpable, argv and environment "
	    "wiped) instead of its own small program: memfds cannot be executed here",
	    "%s", e >= 0 ? "pid 1 runs from a sealed memfd" : "memfds cannot be executed");
	if (root) {
		e = sb_idmap_probe(".");
		add(d, "idmapped_mounts", e == 0, false,
		    "tasks that run as uid 65534 (standard and up) see the workspace with "
		    "'other' permissions only and may not write it",
		    e == 0 ? "the current directory's filesystem can be id-mapped"
			   : "cannot id-map the current directory's filesystem: %s",
		    strerror(e));
	}
	e = wm_sandbox_overlay_works();
	add(d, "image_layer", e, false,
	    "a task in an image (image:, rootfs.image) gets a copy of the image on a tmpfs "
	    "as its writable root: slower to start, and it counts against memory",
	    "%s",
	    e ? "overlayfs: a task writes to its own layer over the shared image"
	      : "no overlayfs here: a task's image is copied onto a tmpfs");
	e = syscall(SYS_pidfd_open, getpid(), 0);
	add(d, "pidfd", e >= 0, true, "wm cannot supervise its sandboxes", "%s",
	    e >= 0 ? "pidfd_open works" : "no pidfd_open");
	if (e >= 0)
		close(e);
}
