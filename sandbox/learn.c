/*
 * learn.c - the learning sandbox of `wm policy learn`: the base policy's
 * sandbox whose filter lets a few calls through (policies/learn.h,
 * wm_learn_unwatched) and sends every other one to the supervisor, which
 * records it and answers SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel then
 * carries the call out as if there were no filter.
 *
 * Never continued: a call of a critical risk group (policies/score.h) that
 * the base denies, unless --grant named the group; and a socket of a
 * family that reaches past the network namespace where the base keeps the
 * task off the host's network. Those get the base's errno, as under it.
 * The decision reads only the registers the kernel gave (number and
 * arguments), never the task's memory; what is read from memory
 * (addresses, paths) is only recorded, best effort, and is never trusted:
 * the task may change it between our read and the kernel's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/learn.h"
#include "policies/policies.h"
#include "policies/score.h"
#include "sandbox/internal.h"

int sb_filter_build_learning(struct sb_filter *out, struct wm_error **err)
{
	scmp_filter_ctx ctx;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!sb_notify_supported())
		return wm_error_setx(err, WM_EXIT_CANNOT,
				     "learning needs seccomp user notification, which this "
				     "kernel or libseccomp lacks");
	ctx = seccomp_init(SCMP_ACT_NOTIFY);
	if (!ctx)
		return wm_error_set(err, EINVAL, "seccomp_init");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		wm_error_set(err, EINVAL, "seccomp attributes");
		goto out;
	}
	for (size_t i = 0; wm_learn_unwatched[i]; i++) {
		int nr = seccomp_syscall_resolve_name(wm_learn_unwatched[i]);

		if (nr != __NR_SCMP_ERROR &&
		    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			wm_error_set(err, -rc, "seccomp rule for %s", wm_learn_unwatched[i]);
			rc = -1;
			goto out;
		}
	}
	out->notify = true;
	out->dflt = (struct sb_notify_rule){ .nr = -1, .err = EPERM };
	rc = sb_filter_export(ctx, out, err);
out:
	seccomp_release(ctx);
	return rc;
}

void sb_learn_free(struct sb_learn *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < SB_LEARN_NAMES; i++)
		free(l->names[i]);
	free(l->task);
	free(l->workspace);
	free(l->out_dir);
	free(l);
}

struct sb_learn *sb_learn_new(const struct wm_sandbox_spec *spec)
{
	struct sb_learn *l = wm_xcalloc(1, sizeof(*l));

	l->rec = spec->learned;
	l->task = wm_xstrdup(spec->learn_task ? spec->learn_task : "command");
	l->workspace = spec->workspace ? wm_xstrdup(spec->workspace) : NULL;
	l->out_dir = spec->out_dir ? wm_xstrdup(spec->out_dir) : NULL;
	return l;
}

/* The call's name, resolved once per number. */
static const char *name_of(struct sb_learn *l, uint32_t arch, int nr)
{
	if (arch != (uint32_t)seccomp_arch_native() || nr < 0 || nr >= SB_LEARN_NAMES)
		return NULL;
	if (!l->names[nr])
		l->names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	return l->names[nr];
}

/* Reads up to `size` bytes at `addr` of process `pid`, page by page (a
 * string may end just before an unmapped page). Returns bytes read. */
static size_t peek(pid_t pid, uint64_t addr, void *buf, size_t size)
{
	size_t got = 0;

	while (got < size && addr) {
		size_t page = 4096 - ((addr + got) & 4095),
		       n = size - got < page ? size - got : page;
		struct iovec local = { (char *)buf + got, n };
		struct iovec remote = { (void *)(uintptr_t)(addr + got), n };
		ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static const char *family_name(int f, char *buf, size_t size)
{
	static const struct {
		int f;
		const char *name;
	} names[] = { { AF_UNIX, "AF_UNIX" },		{ AF_INET, "AF_INET" },
		      { AF_INET6, "AF_INET6" },		{ AF_NETLINK, "AF_NETLINK" },
		      { AF_PACKET, "AF_PACKET" },	{ AF_VSOCK, "AF_VSOCK" },
		      { AF_BLUETOOTH, "AF_BLUETOOTH" }, { AF_ALG, "AF_ALG" } };

	for (size_t i = 0; i < WM_ARRAY_LEN(names); i++)
		if (names[i].f == f)
			return names[i].name;
	snprintf(buf, size, "AF_%d", f);
	return buf;
}

static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);

		return (a >> 24) == 127 || a == 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return true;
}

/* connect, bind, sendto: the address, as text, into the tally. */
static void note_address(struct sb_learn *l, pid_t pid, const char *call, uint64_t addr,
			 uint64_t len)
{
	struct sockaddr_storage ss = { 0 };
	char host[INET6_ADDRSTRLEN] = "", text[200];
	size_t n = peek(pid, addr, &ss, len < sizeof(ss) ? (size_t)len : sizeof(ss));
	unsigned port = 0;

	if (n < sizeof(sa_family_t))
		return;
	if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(text, sizeof(text), "%s %s:%u", call, host, port);
	} else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(text, sizeof(text), "%s [%s]:%u", call, host, port);
	} else if (ss.ss_family == AF_UNIX) {
		const char *path = ((struct sockaddr_un *)&ss)->sun_path;
		size_t max = n - offsetof(struct sockaddr_un, sun_path);

		snprintf(text, sizeof(text), "%s unix:%s%.*s", call, path[0] ? "" : "@",
			 (int)strnlen(path[0] ? path : path + 1, max ? max - !path[0] : 0),
			 path[0] ? path : path + 1);
	} else {
		return;
	}
	wm_learn_tally_add(&l->rec->addresses, text, 1);
	if (!loopback(&ss))
		l->rec->beyond_loopback = true;
	if (strcmp(call, "bind") == 0 && port && port < 1024)
		wm_learn_tally_add(&l->rec->caps, "cap_net_bind_service (bind)", 1);
}

static bool below(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;

	return n && strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* open, openat, creat for writing: an absolute path outside the workspace
 * and $WM_OUT (relative ones are below the working directory, the
 * workspace unless the task moved). */
static void note_path(struct sb_learn *l, pid_t pid, uint64_t path_arg, uint64_t flags)
{
	char path[512];
	size_t n;

	if (!(flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)))
		return;
	n = peek(pid, path_arg, path, sizeof(path) - 1);
	path[n] = '\0';
	if (path[0] != '/')
		return;
	if (below(path, l->workspace) || below(path, l->out_dir) ||
	    strcmp(path, "/dev/null") == 0 || strcmp(path, "/dev/tty") == 0)
		return;
	wm_learn_tally_add(&l->rec->paths, path, 1);
}

/* Capabilities a call may need, by name (README.md, "wm policy learn"). */
static void note_caps(struct sb_learn *l, const char *name)
{
	static const char *const table[][2] = {
		{ "chown", "cap_chown" },
		{ "fchown", "cap_chown" },
		{ "lchown", "cap_chown" },
		{ "fchownat", "cap_chown" },
		{ "mknod", "cap_mknod" },
		{ "mknodat", "cap_mknod" },
		{ "setuid", "cap_setuid" },
		{ "setreuid", "cap_setuid" },
		{ "setresuid", "cap_setuid" },
		{ "setgid", "cap_setgid" },
		{ "setregid", "cap_setgid" },
		{ "setresgid", "cap_setgid" },
		{ "setgroups", "cap_setgid" },
		{ "chroot", "cap_sys_chroot" },
		{ "mount", "cap_sys_admin" },
		{ "umount2", "cap_sys_admin" },
		{ "sethostname", "cap_sys_admin" },
		{ "ptrace", "cap_sys_ptrace" },
		{ "reboot", "cap_sys_boot" },
		{ "settimeofday", "cap_sys_time" },
		{ "clock_settime", "cap_sys_time" },
		{ "init_module", "cap_sys_module" },
		{ "finit_module", "cap_sys_module" },
		{ "setpriority", "cap_sys_nice" },
		{ "sched_setscheduler", "cap_sys_nice" },
		{ "mlockall", "cap_ipc_lock" },
		{ "iopl", "cap_sys_rawio" },
		{ "ioperm", "cap_sys_rawio" },
		{ "bpf", "cap_bpf" },
		{ "perf_event_open", "cap_perfmon" },
		{ "syslog", "cap_syslog" },
		{ "acct", "cap_sys_pacct" },
	};

	for (size_t i = 0; i < WM_ARRAY_LEN(table); i++)
		if (strcmp(table[i][0], name) == 0) {
			char text[80];

			snprintf(text, sizeof(text), "%s (%s)", table[i][1], name);
			wm_learn_tally_add(&l->rec->caps, text, 1);
		}
}

static void note_socket(struct sb_learn *l, const uint64_t *a)
{
	char buf[32];
	int family = (int)(uint32_t)a[0];

	wm_learn_tally_add(&l->rec->families, family_name(family, buf, sizeof(buf)), 1);
	if (family == AF_INET || family == AF_INET6)
		l->rec->inet = true;
	if (family == AF_PACKET || (a[1] & 0xf) == SOCK_RAW)
		wm_learn_tally_add(&l->rec->caps, "cap_net_raw (socket)", 1);
}

/* What a call let through says beyond its name. */
static void observe(struct sb_learn *l, const struct seccomp_notif *req, const uint64_t *a,
		    const char *name)
{
	pid_t pid = (pid_t)req->pid;

	if (strcmp(name, "socket") == 0)
		note_socket(l, a);
	else if (strcmp(name, "connect") == 0 || strcmp(name, "bind") == 0)
		note_address(l, pid, name, a[1], a[2]);
	else if (strcmp(name, "sendto") == 0 && a[4])
		note_address(l, pid, name, a[4], a[5]);
	else if (strcmp(name, "open") == 0)
		note_path(l, pid, a[0], a[1]);
	else if (strcmp(name, "openat") == 0)
		note_path(l, pid, a[1], a[2]);
	else if (strcmp(name, "creat") == 0)
		note_path(l, pid, a[0], O_CREAT);
	else if (strcmp(name, "clone") == 0 || strcmp(name, "fork") == 0 ||
		 strcmp(name, "vfork") == 0)
		l->rec->task_starts++;
	note_caps(l, name);
}

/* A socket family a network namespace does not isolate, where the base
 * keeps the task off the host's network. */
static bool family_escapes(const struct wm_policy *base, const char *name, const uint64_t *a)
{
	return strcmp(name, "socket") == 0 && base->network != WM_NET_HOST &&
	       !sb_family_namespaced((int)(uint32_t)a[0]);
}

/*
 * What to answer a call the base denies: 0 (let it through and learn it),
 * or the errno the base answers with. Refused are the critical groups not
 * granted, and the calls the base denies by name (no policy inheriting it
 * could allow them: the task had better see now what it will see then).
 * *quiet: answered without counting the call (ENOSYS, which libc falls
 * back from at once; a socket family that escapes the network namespace).
 */
static int refusal(const struct wm_sandbox *sb, const char *name, const uint64_t *a, int group,
		   bool *base_denied, bool *quiet)
{
	const struct wm_policy *base = sb->prof->policy;
	int e = 0;
	enum wm_seccomp_action act = wm_policy_call_action(base, name, a, &e);

	*base_denied = !wm_seccomp_action_passes(act);
	*quiet = false;
	if (family_escapes(base, name, a)) {
		*quiet = true;
		return EAFNOSUPPORT;
	}
	if (!*base_denied)
		return 0;
	e = act == WM_SC_KILL || !e ? EPERM : e;
	*quiet = e == ENOSYS;
	if (*quiet || wm_learn_denied_by_name(base, name))
		return e;
	if (group >= 0 && wm_risk_group_class(group) == WM_RISK_CRITICAL &&
	    !(sb->prof->granted & (1u << group)))
		return e;
	return 0;
}

bool sb_learn_answer(struct wm_sandbox *sb, const struct seccomp_notif *req,
		     struct seccomp_notif_resp *resp)
{
	struct sb_learn *l = sb->learn;
	const char *name = name_of(l, req->data.arch, req->data.nr);
	bool base_denied, quiet;
	int group, e;
	uint64_t a[6];
	char num[32], fam[64];

	if (!name) { /* a number libseccomp cannot name: as the base's unknown filter */
		l->rec->unnamed++;
		resp->error = -ENOSYS;
		return false;
	}
	for (size_t i = 0; i < 6; i++)
		a[i] = req->data.args[i];
	group = wm_learn_group_of(name, a);
	e = refusal(sb, name, a, group, &base_denied, &quiet);
	if (quiet) {
		if (e == EAFNOSUPPORT) {
			snprintf(fam, sizeof(fam), "%s (refused)",
				 family_name((int)(uint32_t)a[0], num, sizeof(num)));
			wm_learn_tally_add(&l->rec->families, fam, 1);
		}
		resp->error = -e;
		return false;
	}
	wm_learned_call(l->rec, l->task, name, group, e != 0, base_denied);
	observe(l, req, a, name);
	if (e) {
		resp->error = -e;
		return true;
	}
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return false;
}
