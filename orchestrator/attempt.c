#include "orchestrator/attempt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/rundir.h"

static const char *kind_name(enum wm_attempt_kind kind)
{
	switch (kind) {
	case WM_ATTEMPT_ONLY_IF:
		return "only_if";
	case WM_ATTEMPT_ROLLBACK:
		return "rollback";
	case WM_ATTEMPT_BODY:
		break;
	}
	return "body";
}

static void env_addv(char ***env, size_t *n, char *const *kvs)
{
	for (size_t i = 0; kvs && kvs[i]; i++)
		wm_env_set(env, n, kvs[i]);
}

static void env_addf(char ***env, size_t *n, const char *key, const char *value)
{
	wm_autofree char *kv = wm_xasprintf("%s=%s", key, value);
	wm_env_set(env, n, kv);
}

static void add_bind(struct wm_attempt *a, const char *src, const char *dst, bool rw)
{
	a->binds = wm_xrealloc(a->binds, (a->n_binds + 1) * sizeof(*a->binds));
	a->binds[a->n_binds].src = wm_xstrdup(src);
	a->binds[a->n_binds].dst = wm_xstrdup(dst);
	a->binds[a->n_binds].rw = rw;
	a->n_binds++;
}

static int write_script(const struct wm_run_paths *rp, const struct wm_task *t,
			enum wm_attempt_kind kind, char **path, struct wm_error **err)
{
	const char *text = kind == WM_ATTEMPT_ROLLBACK ? t->rollback.text : t->only_if;

	if (kind == WM_ATTEMPT_BODY)
		text = t->body.text;
	*path = wm_rundir_write_script(rp->run_dir, t->id, kind_name(kind), text, err);
	return *path ? 0 : -1;
}

static int open_log(const struct wm_run_paths *rp, const struct wm_task *t, unsigned attempt,
		    enum wm_attempt_kind kind, struct wm_error **err)
{
	struct wm_buf hdr = WM_BUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd = wm_rundir_open_log(rp->run_dir, t->id, err);

	if (fd < 0)
		return -1;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	wm_buf_addf(&hdr, "=== %s %s, attempt %u, %s ===\n", t->id, kind_name(kind), attempt,
		    stamp);
	if (write(fd, hdr.data, hdr.len) < 0) {
		int saved = errno;
		close(fd);
		wm_buf_release(&hdr);
		return wm_error_set(err, saved, "write log of task '%s'", t->id);
	}
	wm_buf_release(&hdr);
	return fd;
}

/* $WM_OUT: emptied before each body attempt so a failed attempt's leftovers
 * never satisfy `outputs`; $WM_IN/<dep>: mount points for the deps' outputs.
 * All of it made relative to the run directory's fd, never through a link a
 * task could have planted (rundir.h). */
static int setup_io_dirs(const struct wm_run_paths *rp, const struct wm_workflow *wf, size_t task,
			 const size_t *deps, size_t n_deps, enum wm_attempt_kind kind,
			 struct wm_attempt *a, char **in_dir, struct wm_error **err)
{
	const struct wm_task *t = &wf->tasks[task];

	a->out_dir = wm_rundir_make_out(rp->run_dir, t->id, kind == WM_ATTEMPT_BODY, err);
	if (!a->out_dir)
		return -1;
	add_bind(a, a->out_dir, a->out_dir, kind != WM_ATTEMPT_ONLY_IF);
	*in_dir = wm_rundir_make_in(rp->run_dir, t->id, NULL, err);
	if (!*in_dir)
		return -1;
	/* Without dependencies nothing is mounted under $WM_IN, and wm's state
	 * is masked in the sandbox: the empty directory is bound read-only so
	 * that $WM_IN names a directory there too. */
	if (n_deps == 0)
		add_bind(a, *in_dir, *in_dir, false);
	for (size_t i = 0; i < n_deps; i++) {
		const char *dep = wf->tasks[deps[i]].id;
		wm_autofree char *src = wm_rundir_out_path(rp->run_dir, dep);
		wm_autofree char *dst = wm_rundir_make_in(rp->run_dir, t->id, dep, err);

		if (!dst)
			return -1;
		add_bind(a, src, dst, false);
	}
	return 0;
}

static void build_env(const struct wm_run_paths *rp, const struct wm_workflow *wf,
		      const struct wm_task *t, unsigned attempt, const char *in_dir,
		      struct wm_attempt *a)
{
	size_t n = 0;
	char num[16];

	env_addv(&a->env, &n, wf->env);
	env_addv(&a->env, &n, t->env);
	env_addv(&a->env, &n, rp->cli_env);
	/* PARAM_*: never a WM_* name; a policy's env.set wins (prepare.c). */
	env_addv(&a->env, &n, t->param_env);
	env_addv(&a->env, &n, wm_secrets_env(rp->secrets));
	snprintf(num, sizeof(num), "%u", attempt);
	env_addf(&a->env, &n, "WM_RUN_ID", rp->run_id);
	env_addf(&a->env, &n, "WM_TASK_ID", t->id);
	env_addf(&a->env, &n, "WM_ATTEMPT", num);
	env_addf(&a->env, &n, "WM_WORKSPACE", rp->workspace);
	env_addf(&a->env, &n, "WM_OUT", a->out_dir);
	env_addf(&a->env, &n, "WM_IN", in_dir);
}

/* Appends what the task wrote, masked, to its log. A failing write (disk
 * full) loses that output, not the run: the task's status still counts. */
static void write_log(void *ctx, const char *data, size_t len)
{
	const struct wm_attempt *a = ctx;

	while (len > 0 && a->log_fd >= 0) {
		ssize_t n = write(a->log_fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void to_log(void *ctx, const char *data, size_t len)
{
	struct wm_attempt *a = ctx;

	wm_mask_writer_write(&a->log_writer, data, len);
}

int wm_attempt_prepare(const struct wm_run_paths *rp, const struct wm_workflow *wf, size_t task,
		       const size_t *deps, size_t n_deps, unsigned attempt,
		       enum wm_attempt_kind kind, struct wm_attempt *a, struct wm_error **err)
{
	const struct wm_task *t = &wf->tasks[task];
	const char *lang = kind == WM_ATTEMPT_ROLLBACK ? t->rollback.lang : t->body.lang;
	const char *const *interp =
		kind == WM_ATTEMPT_ONLY_IF ? wm_interpreter_argv(NULL, "sh") : NULL;
	wm_autofree char *script = NULL;
	wm_autofree char *in_dir = NULL;
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	a->log_fd = -1;
	wm_mask_writer_init(&a->log_writer, wm_secrets_mask(rp->secrets), write_log, a);
	if (!interp && lang)
		interp = wm_interpreter_argv(wf, lang);
	if (!interp)
		return wm_error_setx(err, WM_EXIT_USAGE, "task '%s': no interpreter for '%s'",
				     t->id, lang ? lang : "(none)");
	if (write_script(rp, t, kind, &script, err) < 0 ||
	    setup_io_dirs(rp, wf, task, deps, n_deps, kind, a, &in_dir, err) < 0)
		goto fail;
	add_bind(a, script, script, false);
	for (size_t i = 0; interp[i]; i++)
		wm_strv_push(&a->argv, &n, interp[i]);
	wm_strv_push(&a->argv, &n, script);
	build_env(rp, wf, t, attempt, in_dir, a);
	a->cwd = t->workdir ? wm_xasprintf("%s/%s", rp->workspace, t->workdir)
			    : wm_xstrdup(rp->workspace);
	a->log_fd = open_log(rp, t, attempt, kind, err);
	if (a->log_fd < 0)
		goto fail;

	a->spec.argv = a->argv;
	a->spec.env = a->env;
	a->spec.workspace = rp->workspace;
	a->spec.cwd = a->cwd;
	a->spec.binds = a->binds;
	a->spec.n_binds = a->n_binds;
	a->spec.mask = rp->mask;
	/* limits.out applies to the body: a rollback works on what it left. */
	a->spec.out_dir = kind == WM_ATTEMPT_BODY ? a->out_dir : NULL;
	a->spec.stdin_fd = -1;
	a->spec.stdout_fd = -1;
	a->spec.stderr_fd = -1;
	/* The task writes to a pipe and wm to the log: a task holding the log
	 * itself could truncate or rewrite earlier attempts' output. */
	a->spec.on_output = to_log;
	a->spec.output_ctx = a;
	return 0;
fail:
	wm_error_wrap(err, "prepare task '%s'", t->id);
	wm_attempt_release(a);
	return -1;
}

void wm_attempt_output_ended(struct wm_attempt *a)
{
	/* What was held back as the possible start of a secret goes out as
	 * it is: no more output can complete it. */
	wm_mask_writer_flush(&a->log_writer);
}

void wm_attempt_release(struct wm_attempt *a)
{
	wm_strv_free(a->argv);
	/* The environment holds the secrets' values. */
	for (size_t i = 0; a->env && a->env[i]; i++)
		explicit_bzero(a->env[i], strlen(a->env[i]));
	wm_strv_free(a->env);
	for (size_t i = 0; i < a->n_binds; i++) {
		free(a->binds[i].src);
		free(a->binds[i].dst);
	}
	free(a->binds);
	free(a->cwd);
	free(a->out_dir);
	wm_attempt_output_ended(a);
	wm_mask_writer_release(&a->log_writer);
	if (a->log_fd >= 0)
		close(a->log_fd);
	memset(a, 0, sizeof(*a));
	a->log_fd = -1;
}

const char *wm_attempt_missing_output(const struct wm_task *t, const char *out_dir)
{
	for (size_t i = 0; t->outputs && t->outputs[i]; i++) {
		wm_autofree char *p = wm_xasprintf("%s/%s", out_dir, t->outputs[i]);
		struct stat st;

		if (lstat(p, &st) < 0)
			return t->outputs[i];
	}
	return NULL;
}
