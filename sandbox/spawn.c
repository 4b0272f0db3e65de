/*
 * spawn.c - the parent side: profile, clone into new namespaces, uid/gid
 * maps, cgroup, the status socket, reaping, and the notify supervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

extern char **environ;

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

uint64_t sb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *wm_limit_name(enum wm_limit limit)
{
	switch (limit) {
	case WM_LIMIT_NONE:
		return "none";
	case WM_LIMIT_TIMEOUT:
		return "timeout";
	case WM_LIMIT_MEMORY:
		return "memory";
	case WM_LIMIT_PIDS:
		return "pids";
	}
	return "none";
}

int sb_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WM_SANDBOX_SETUP_FAILED;
}

/* ---- environment ------------------------------------------------------------ */

static void env_set(char ***v, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	if (!kv[klen])
		return; /* not KEY=VALUE */
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*v)[i], kv, klen + 1) == 0) {
			free((*v)[i]);
			(*v)[i] = wm_xstrdup(kv);
			return;
		}
	wm_strv_push(v, n, kv);
}

char **sb_env_build(const struct wm_policy *p, char *const *caller, char *const *extra)
{
	char **v = wm_xcalloc(1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; p->env.keep && p->env.keep[i]; i++) {
		size_t klen = strlen(p->env.keep[i]);

		for (size_t j = 0; caller && caller[j]; j++)
			if (strncmp(caller[j], p->env.keep[i], klen) == 0 &&
			    caller[j][klen] == '=') {
				env_set(&v, &n, caller[j]);
				break;
			}
	}
	for (size_t i = 0; p->env.set && p->env.set[i]; i++)
		env_set(&v, &n, p->env.set[i]);
	for (size_t i = 0; extra && extra[i]; i++)
		env_set(&v, &n, extra[i]);
	return v;
}

static char **split_path(char *const *env)
{
	const char *path = DEFAULT_PATH;
	char **v = wm_xcalloc(1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; env[i]; i++)
		if (wm_str_has_prefix(env[i], "PATH="))
			path = env[i] + 5;
	for (const char *s = path;; s++) {
		size_t len = strcspn(s, ":");

		wm_strv_push_owned(&v, &n, wm_xstrndup(s, len));
		s += len;
		if (!*s)
			break;
	}
	return v;
}

/* ---- profile ---------------------------------------------------------------- */

int wm_sandbox_profile_new(const struct wm_policy *policy, struct wm_sandbox_profile **out,
			   struct wm_error **err)
{
	struct wm_sandbox_profile *prof;

	if (sb_caps_check(policy->capabilities, err) < 0)
		return wm_error_wrap(err, "policy `%s`", policy->name);
	prof = wm_xcalloc(1, sizeof(*prof));
	prof->policy = policy;
	if (sb_filter_build(policy, true, &prof->filter, err) < 0)
		goto fail;
	if (policy->fs.rootfs) {
		prof->rootfs = sb_rootfs_prepare(policy->fs.rootfs, err);
		if (!prof->rootfs)
			goto fail;
	}
	prof->landlock_abi = policy->landlock ? sb_landlock_abi() : 0;
	*out = prof;
	return 0;
fail:
	wm_sandbox_profile_free(prof);
	return -1;
}

void wm_sandbox_profile_free(struct wm_sandbox_profile *prof)
{
	if (!prof)
		return;
	sb_filter_release(&prof->filter);
	free(prof->rootfs);
	free(prof);
}

/* ---- spawn ------------------------------------------------------------------ */

static void child_release(struct sb_child *c)
{
	sb_plan_release(&c->plan);
	wm_strv_free(c->env);
	wm_strv_free(c->path);
	wm_strv_free(c->writable);
	free(c->cwd);
}

static int child_prepare(const struct wm_sandbox_profile *prof, const struct wm_sandbox_spec *spec,
			 struct sb_child *c, struct wm_error **err)
{
	const struct wm_policy *p = prof->policy;
	size_t nw = 0;

	memset(c, 0, sizeof(*c));
	c->prof = prof;
	if (!spec->argv || !spec->argv[0])
		return wm_error_setx(err, WM_EXIT_USAGE, "no command to run");
	c->argv = (char **)spec->argv;
	c->env = sb_env_build(p, environ, spec->env);
	c->path = split_path(c->env);
	c->cwd = wm_xstrdup(spec->cwd ? spec->cwd : spec->workspace ? spec->workspace : "/");
	c->stdio[0] = spec->stdin_fd;
	c->stdio[1] = spec->stdout_fd;
	c->stdio[2] = spec->stderr_fd;
	c->userns = geteuid() != 0 || p->user_namespace;
	c->writable = wm_xcalloc(1, sizeof(char *));
	if (spec->workspace && p->fs.workspace == WM_WS_RW)
		wm_strv_push(&c->writable, &nw, spec->workspace);
	if (p->fs.tmp_size)
		wm_strv_push(&c->writable, &nw, "/tmp");
	for (size_t i = 0; i < p->fs.n_binds; i++)
		if (p->fs.binds[i].rw)
			wm_strv_push(&c->writable, &nw, p->fs.binds[i].dst);
	for (size_t i = 0; i < spec->n_binds; i++)
		if (spec->binds[i].rw)
			wm_strv_push(&c->writable, &nw, spec->binds[i].dst);
	if (sb_plan_mounts(p, spec, prof->rootfs, &c->plan, err) < 0) {
		child_release(c);
		return -1;
	}
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text, struct wm_error **err)
{
	char path[64];
	wm_autoclose int fd = -1;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return wm_error_set(err, errno, "cannot create user namespace: write %s", file);
	return 0;
}

/* Rootless: the caller's ids map to themselves (files keep their owner);
 * as root (when the policy asks for a user namespace) root maps to root,
 * whose capabilities then only reach the sandbox's own namespaces. */
static int write_maps(pid_t pid, struct wm_error **err)
{
	char map[64];

	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)getegid(), (unsigned)getegid());
	if (write_proc(pid, "setgroups", "deny", err) < 0 ||
	    write_proc(pid, "gid_map", map, err) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)geteuid(), (unsigned)geteuid());
	return write_proc(pid, "uid_map", map, err);
}

static pid_t do_clone(uint64_t flags, int *pidfd)
{
	struct clone_args args = { .flags = flags | CLONE_PIDFD,
				   .pidfd = (uint64_t)(uintptr_t)pidfd,
				   .exit_signal = SIGCHLD };
	long pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0 && errno == ENOSYS)
		pid = syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, 0, pidfd, NULL, 0);
	return (pid_t)pid;
}

/* Records what init reported: how setup went (first report only) and the
 * command's exit status. */
static void apply_msg(struct wm_sandbox *sb, const struct sb_msg *m)
{
	if (m->type == SB_MSG_SETUP && !sb->have_setup) {
		sb->have_setup = true;
		sb->setup = *m;
	} else if (m->type == SB_MSG_EXIT) {
		sb->have_exit = true;
		sb->cmd_wstatus = m->status;
	}
}

/* The first message: READY (with the listener) or a setup failure. */
static void wait_ready(struct wm_sandbox *sb)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct sb_msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	do
		n = recvmsg(sb->sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		return;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&sb->notify_fd, CMSG_DATA(cm), sizeof(int));
	apply_msg(sb, &m);
}

static uint64_t ns_flags(const struct wm_policy *p, bool userns)
{
	uint64_t f = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

	if (p->network != WM_NET_HOST)
		f |= CLONE_NEWNET;
	if (userns)
		f |= CLONE_NEWUSER;
	return f;
}

static int start(struct wm_sandbox *sb, struct sb_child *c, struct wm_error **err)
{
	int sync[2] = { -1, -1 }, sv[2] = { -1, -1 };
	uint64_t flags = ns_flags(c->prof->policy, c->userns);
	int rc = -1;

	if (pipe2(sync, O_CLOEXEC) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		wm_error_set(err, errno, "sandbox pipes");
		goto out;
	}
	sb->pid = do_clone(flags, &sb->pidfd);
	if (sb->pid < 0) {
		wm_error_set(err, errno, "%s",
			     c->userns ? "cannot create user namespace"
				       : "cannot create namespaces");
		goto out;
	}
	if (sb->pid == 0) {
		close(sync[1]);
		close(sv[0]);
		c->sync_fd = sync[0];
		c->sock_fd = sv[1];
		sb_init_main(c);
	}
	sb->sock = wm_steal_fd(&sv[0]);
	if ((c->userns && write_maps(sb->pid, err) < 0) ||
	    (sb->cg.mode != SB_CG_NONE && sb_cgroup_join(&sb->cg, sb->pid, err) < 0)) {
		kill(sb->pid, SIGKILL);
		waitid(P_PIDFD, (id_t)sb->pidfd, NULL, WEXITED);
		sb->reaped = true;
		goto out;
	}
	if (write(sync[1], "g", 1) != 1) {
		wm_error_set(err, errno, "release the sandbox");
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sync[i] >= 0)
			close(sync[i]);
		if (sv[i] >= 0)
			close(sv[i]);
	}
	return rc;
}

int wm_sandbox_spawn(const struct wm_sandbox_profile *prof, const struct wm_sandbox_spec *spec,
		     struct wm_sandbox **out, struct wm_error **err)
{
	struct wm_sandbox *sb = wm_xcalloc(1, sizeof(*sb));
	struct sb_child c;

	sb->prof = prof;
	sb->pidfd = sb->sock = sb->notify_fd = -1;
	sb->start_ms = sb_now_ms();
	if (child_prepare(prof, spec, &c, err) < 0) {
		free(sb);
		return -1;
	}
	if (sb_cgroup_create(prof->policy, &sb->cg, err) < 0)
		goto fail;
	c.have_cgroup = sb->cg.mode != SB_CG_NONE;
	if (start(sb, &c, err) < 0)
		goto fail;
	child_release(&c);
	wait_ready(sb);
	*out = sb;
	return 0;
fail:
	child_release(&c);
	wm_sandbox_free(sb);
	return -1;
}

pid_t wm_sandbox_pid(const struct wm_sandbox *sb)
{
	return sb->pid;
}

int wm_sandbox_pidfd(const struct wm_sandbox *sb)
{
	return sb->pidfd;
}

int wm_sandbox_notify_fd(const struct wm_sandbox *sb)
{
	return sb->notify_fd;
}

void sb_record_denied(struct wm_sandbox *sb, const char *name)
{
	for (size_t i = 0; i < sb->n_denied; i++)
		if (strcmp(sb->denied[i], name) == 0)
			return;
	wm_strv_push(&sb->denied, &sb->n_denied, name);
}

int wm_sandbox_handle_notify(struct wm_sandbox *sb)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	const struct sb_notify_rule *rule;
	char *name;
	int rc;

	if (sb->notify_fd < 0)
		return 0;
	if (seccomp_notify_alloc(&req, &resp) != 0)
		return -1;
	rc = seccomp_notify_receive(sb->notify_fd, req);
	if (rc < 0) {
		seccomp_notify_free(req, resp);
		/* The caller died meanwhile, or the tree is gone: nothing to answer. */
		if (rc == -ENOENT || rc == -ECANCELED || rc == -EINTR)
			return 0;
		close(sb->notify_fd);
		sb->notify_fd = -1;
		return 0;
	}
	rule = sb_filter_lookup(&sb->prof->filter, req->data.nr);
	name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
	if (name)
		sb_record_denied(sb, name);
	else {
		char num[32];

		snprintf(num, sizeof(num), "syscall_%d", req->data.nr);
		sb_record_denied(sb, num);
	}
	free(name);
	/* Default-kill policies: the call never runs, the process dies. */
	if (rule->kill)
		kill((pid_t)req->pid, SIGKILL);
	resp->id = req->id;
	resp->val = 0;
	resp->error = -rule->err;
	resp->flags = 0;
	seccomp_notify_respond(sb->notify_fd, resp);
	seccomp_notify_free(req, resp);
	return 0;
}

int wm_sandbox_terminate(struct wm_sandbox *sb, enum wm_limit why, int sig)
{
	if (sb->reaped)
		return 0;
	if (sb->limit == WM_LIMIT_NONE)
		sb->limit = why;
	if (syscall(SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0) != 0 && errno != ESRCH)
		return -1;
	return 0;
}

void sb_read_msgs(struct wm_sandbox *sb)
{
	struct sb_msg m;

	while (sb->sock >= 0 && recv(sb->sock, &m, sizeof(m), MSG_DONTWAIT) == (ssize_t)sizeof(m))
		apply_msg(sb, &m);
}
