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
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "sandbox/internal.h"

extern char **environ;

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *wm_limit_name(enum wm_limit limit)
{
	static const char *const names[WM_LIMIT_COUNT] = { WM_LIMITS(WM_XLIST_NAME) };

	return (unsigned)limit < WM_LIMIT_COUNT ? names[limit] : names[WM_LIMIT_NONE];
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

char **sb_env_build(const struct wm_policy *p, char *const *caller, char *const *image,
		    char *const *extra)
{
	char **v = wm_xcalloc(1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; p->env.keep && p->env.keep[i]; i++) {
		size_t klen = strlen(p->env.keep[i]);

		for (size_t j = 0; caller && caller[j]; j++)
			if (strncmp(caller[j], p->env.keep[i], klen) == 0 &&
			    caller[j][klen] == '=') {
				wm_env_set(&v, &n, caller[j]);
				break;
			}
	}
	for (size_t i = 0; image && image[i]; i++)
		wm_env_set(&v, &n, image[i]);
	for (size_t i = 0; p->env.set && p->env.set[i]; i++)
		wm_env_set(&v, &n, p->env.set[i]);
	for (size_t i = 0; extra && extra[i]; i++)
		wm_env_set(&v, &n, extra[i]);
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
	if (sb_filter_build(policy, true, &prof->filter, &prof->note, err) < 0 ||
	    !sb_pid1_filter(err))
		goto fail;
	if (policy->fs.rootfs) {
		prof->rootfs = wm_image_ref_is(policy->fs.rootfs)
				       ? sb_image_prepare(prof, policy->fs.rootfs, err)
				       : sb_rootfs_prepare(policy->fs.rootfs, err);
		if (!prof->rootfs)
			goto fail;
	}
	prof->landlock_abi = policy->landlock ? sb_landlock_abi() : 0;
	prof->unenforced = sb_limits_unenforced(policy);
	if (prof->unenforced && policy->limits.strict) {
		wm_error_setx(err, WM_EXIT_CANNOT,
			      "policy `%s` wants its limits enforced (limits.strict), but here %s",
			      policy->name, prof->unenforced);
		goto fail;
	}
	*out = prof;
	return 0;
fail:
	wm_sandbox_profile_free(prof);
	return -1;
}

int wm_sandbox_profile_new_learning(const struct wm_policy *base, uint32_t granted,
				    struct wm_sandbox_profile **out, struct wm_error **err)
{
	struct wm_sandbox_profile *prof = NULL;

	if (wm_sandbox_profile_new(base, &prof, err) < 0 || !prof)
		return -1;
	sb_filter_release(&prof->filter);
	if (sb_filter_build_learning(&prof->filter, err) < 0) {
		wm_sandbox_profile_free(prof);
		return -1;
	}
	prof->learning = true;
	prof->granted = granted;
	*out = prof;
	return 0;
}

size_t wm_sandbox_clean_leftovers(void)
{
	return sb_cgroup_clean_leftovers();
}

const struct wm_policy *wm_sandbox_profile_policy(const struct wm_sandbox_profile *prof)
{
	return prof->policy;
}

const char *wm_sandbox_profile_note(const struct wm_sandbox_profile *prof)
{
	return prof->note;
}

const char *wm_sandbox_profile_unenforced(const struct wm_sandbox_profile *prof)
{
	return prof->unenforced;
}

void wm_sandbox_profile_free(struct wm_sandbox_profile *prof)
{
	if (!prof)
		return;
	sb_filter_release(&prof->filter);
	free(prof->rootfs);
	wm_strv_free(prof->image_env);
	free(prof->image_workdir);
	free(prof->note);
	free(prof->unenforced);
	free(prof);
}

/* ---- spawn ------------------------------------------------------------------ */

static void child_release(struct sb_child *c)
{
	sb_plan_release(&c->plan);
	wm_strv_free(c->argv);
	wm_strv_free(c->env);
	wm_strv_free(c->path);
	wm_strv_free(c->writable);
	free(c->cwd);
}

/* The mount plan, with wm's cache masked beside the caller's own
 * directories; as root, the binds opened here with host privileges. */
static int plan_filesystem(const struct wm_sandbox_profile *prof,
			   const struct wm_sandbox_spec *spec, struct sb_child *c,
			   struct wm_error **err)
{
	struct wm_sandbox_spec masked = *spec;
	wm_autostrv char **mask = wm_strv_dup(spec->mask);
	size_t n = wm_strv_len(mask);
	int rc;

	wm_strv_push_owned(&mask, &n, sb_cache_root());
	masked.mask = mask;
	rc = sb_plan_mounts(prof->policy, &masked, prof->rootfs, c->map_root, &c->plan, err);
	c->plan.userns = c->userns;
	if (rc == 0 && geteuid() == 0)
		rc = sb_plan_open_trees(&c->plan, c->map_root, err);
	if (rc == 0)
		rc = sb_plan_open_image(&c->plan, err);
	return rc;
}

/* An image's WorkingDir stands in for the default start, the workspace. */
static const char *start_dir(const struct wm_sandbox_profile *prof,
			     const struct wm_sandbox_spec *spec)
{
	bool dflt = !spec->cwd || (spec->workspace && strcmp(spec->cwd, spec->workspace) == 0);

	if (prof->image_workdir && dflt)
		return prof->image_workdir;
	return spec->cwd ? spec->cwd : spec->workspace ? spec->workspace : "/";
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
	c->argv = wm_strv_dup(spec->argv);
	c->env = sb_env_build(p, environ, prof->image_env, spec->env);
	c->path = split_path(c->env);
	c->cwd = wm_xstrdup(start_dir(prof, spec));
	c->stdio[0] = spec->stdin_fd;
	c->stdio[1] = spec->stdout_fd;
	c->stdio[2] = spec->stderr_fd;
	c->userns = geteuid() != 0 || p->user_namespace;
	c->map_root = geteuid() == 0 && c->userns;
	c->pid1_fd = sb_pid1_image_fd();
	c->pid1_filter = c->pid1_fd >= 0 ? sb_pid1_filter(NULL) : NULL;
	c->writable = wm_xcalloc(1, sizeof(char *));
	if (spec->workspace && p->fs.workspace == WM_WS_RW)
		wm_strv_push(&c->writable, &nw, spec->workspace);
	if (p->fs.tmp_size)
		wm_strv_push(&c->writable, &nw, "/tmp");
	/* An image's root is its writable layer, a tmpfs the task alone
	 * sees; what must stay read-only in it is mounted read-only. */
	if (p->fs.rootfs && wm_image_ref_is(p->fs.rootfs))
		wm_strv_push(&c->writable, &nw, "/");
	for (size_t i = 0; i < p->fs.n_binds; i++)
		if (p->fs.binds[i].rw)
			wm_strv_push(&c->writable, &nw, p->fs.binds[i].dst);
	for (size_t i = 0; i < spec->n_binds; i++)
		if (spec->binds[i].rw)
			wm_strv_push(&c->writable, &nw, spec->binds[i].dst);
	if (plan_filesystem(prof, spec, c, err) < 0) {
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

/* Rootless: the caller's ids map to themselves (files keep their owner),
 * and setgroups stays denied as the kernel requires. As root, uid and gid
 * 0 inside map to an unprivileged host id, so the task is never host root:
 * init switches to them and drops host root's supplementary groups. */
static int write_maps(pid_t pid, const struct wm_sandbox_profile *prof, struct wm_error **err)
{
	char umap[64], gmap[64];
	bool root = geteuid() == 0;
	/* An image's User takes the place of the ids inside. */
	unsigned uid = prof->image_user ? prof->image_uid : root ? 0 : (unsigned)geteuid();
	unsigned gid = prof->image_user ? prof->image_gid : root ? 0 : (unsigned)getegid();

	snprintf(umap, sizeof(umap), "%u %u 1\n", uid,
		 root ? (unsigned)WM_SANDBOX_ROOT_ID : (unsigned)geteuid());
	snprintf(gmap, sizeof(gmap), "%u %u 1\n", gid,
		 root ? (unsigned)WM_SANDBOX_ROOT_ID : (unsigned)getegid());
	if (write_proc(pid, "setgroups", root ? "allow" : "deny", err) < 0 ||
	    write_proc(pid, "gid_map", gmap, err) < 0)
		return -1;
	return write_proc(pid, "uid_map", umap, err);
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

int sb_userns_fd(const char *uid_map, const char *gid_map, struct wm_error **err)
{
	char path[64];
	int pidfd = -1, fd = -1;
	pid_t pid = do_clone(CLONE_NEWUSER, &pidfd);

	if (pid < 0)
		return wm_error_set(err, errno, "cannot create user namespace");
	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (write_proc(pid, "uid_map", uid_map, err) == 0 &&
	    write_proc(pid, "gid_map", gid_map, err) == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			wm_error_set(err, errno, "open %s", path);
	}
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, (id_t)pidfd, NULL, WEXITED) != 0 && errno == EINTR)
		;
	close(pidfd);
	return fd;
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

/* The pipe that carries the command's stdout and stderr to wm: the task
 * holds only its write end, never wm's log file. */
static int make_output_pipe(struct wm_sandbox *sb, const struct wm_sandbox_spec *spec,
			    struct sb_child *c, int *write_end, struct wm_error **err)
{
	int p[2];

	*write_end = -1;
	if (!spec->on_output)
		return 0;
	if (pipe2(p, O_CLOEXEC) != 0)
		return wm_error_set(err, errno, "output pipe");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) {
		close(p[0]);
		close(p[1]);
		return wm_error_set(err, errno, "output pipe");
	}
	sb->out_fd = p[0];
	sb->on_output = spec->on_output;
	sb->output_ctx = spec->output_ctx;
	c->stdio[1] = c->stdio[2] = *write_end = p[1];
	return 0;
}

/* limits.out: where $WM_OUT's tmpfs is copied when the task ends, held
 * from now on so nothing put at its path later is written through. */
static int open_out_dest(struct wm_sandbox *sb, const struct wm_sandbox_spec *spec,
			 struct wm_error **err)
{
	if (!sb->prof->policy->limits.out || !spec->out_dir)
		return 0;
	sb->out_dest = open(spec->out_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sb->out_dest < 0)
		return wm_error_set(err, errno, "$WM_OUT directory `%s`", spec->out_dir);
	return 0;
}

static int start(struct wm_sandbox *sb, struct sb_child *c, struct wm_error **err)
{
	int sync[2] = { -1, -1 }, sv[2] = { -1, -1 };
	uint64_t flags = ns_flags(c->prof->policy, c->userns);
	sigset_t block, old;
	int rc = -1;

	if (pipe2(sync, O_CLOEXEC) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		wm_error_set(err, errno, "sandbox pipes");
		goto out;
	}
	/* A pid namespace's init drops signals it has no handler for: the
	 * child is born with them blocked, pending until pid 1 forwards them. */
	sb_forwarded_set(&block);
	sigprocmask(SIG_BLOCK, &block, &old);
	sb->pid = do_clone(flags, &sb->pidfd);
	if (sb->pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
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
	if (fcntl(sb->sock, F_SETFL, O_NONBLOCK) != 0 ||
	    (c->userns && write_maps(sb->pid, c->prof, err) < 0) ||
	    (sb->cg.mode != SB_CG_NONE && sb_cgroup_join(&sb->cg, sb->pid, err) < 0)) {
		if (err && !*err)
			wm_error_set(err, errno, "status socket");
		kill(sb->pid, SIGKILL);
		waitid(P_PIDFD, (id_t)sb->pidfd, NULL, WEXITED);
		sb->reaped = true;
		goto out;
	}
	if (write(sync[1], "g", 1) != 1) {
		wm_error_set(err, errno, "release the sandbox");
		goto out;
	}
	sb->lifeline = wm_steal_fd(&sync[1]);
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
	int out_w = -1;

	sb->prof = prof;
	if (prof->learning)
		sb->learn = sb_learn_new(spec);
	sb->pidfd = sb->sock = sb->notify_fd = sb->out_fd = sb->lifeline = -1;
	sb->out_tree = sb->out_dest = -1;
	sb->start_ms = wm_mono_ms();
	if (child_prepare(prof, spec, &c, err) < 0) {
		sb_learn_free(sb->learn);
		free(sb);
		return -1;
	}
	if (make_output_pipe(sb, spec, &c, &out_w, err) < 0 || open_out_dest(sb, spec, err) < 0 ||
	    sb_cgroup_create(prof->policy, &sb->cg, err) < 0)
		goto fail;
	c.have_cgroup = sb->cg.mode != SB_CG_NONE;
	if (start(sb, &c, err) < 0)
		goto fail;
	if (out_w >= 0)
		close(out_w);
	child_release(&c);
	*out = sb;
	return 0;
fail:
	if (out_w >= 0)
		close(out_w);
	child_release(&c);
	wm_sandbox_free(sb);
	return -1;
}

int wm_sandbox_terminate(struct wm_sandbox *sb, enum wm_limit why, int sig)
{
	if (sb->reaped || sb->exited)
		return 0;
	if (sb->limit == WM_LIMIT_NONE)
		sb->limit = why;
	if (syscall(SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0) != 0 && errno != ESRCH)
		return -1;
	return 0;
}
