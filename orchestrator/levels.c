/*
 * levels.c - the checks of each validation level (levels.h), each one a
 * finding at its place with the level that requires it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "orchestrator/levels.h"
#include "orchestrator/taskcache.h"
#include "workflow/dag.h"

/* PATH when the environment has none, as execvp(3) would search. */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

enum wm_level wm_level_effective(enum wm_level asked, const struct wm_workflow *wf)
{
	return wf && wf->level > asked ? wf->level : asked;
}

static void finding(struct wm_diags *d, const char *file, struct wm_loc at, enum wm_level l,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void finding(struct wm_diags *d, const char *file, struct wm_loc at, enum wm_level l,
		    const char *fmt, ...)
{
	struct wm_buf b = WM_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	wm_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	wm_diags_error(d, file, at.line, at.col, "%s [%s]", b.data, wm_level_name(l));
	wm_buf_release(&b);
}

/* Is `prog` an executable file here: a path, or a name in $PATH? */
static bool on_host(const char *prog)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	for (const char *p = path && *path ? path : DEFAULT_PATH; *p;) {
		size_t len = strcspn(p, ":");
		wm_autofree char *full = wm_xasprintf("%.*s/%s", (int)len, len ? p : ".", prog);

		if (access(full, X_OK) == 0)
			return true;
		p += len + (p[len] == ':');
	}
	return false;
}

/* Interpreters already looked for: a workflow's tasks share a few, and a
 * search of $PATH is a system call per directory. */
struct interp_memo {
	const char *prog[8];
	bool found[8];
	size_t n;
};

static bool on_host_memo(struct interp_memo *m, const char *prog)
{
	bool found;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->prog[i], prog) == 0)
			return m->found[i];
	found = on_host(prog);
	if (m->n < sizeof(m->prog) / sizeof(m->prog[0])) {
		m->prog[m->n] = prog;
		m->found[m->n++] = found;
	}
	return found;
}

/* standard: a task's interpreters are on this host, unless it runs in an
 * image or a root filesystem of its own, which holds them instead. */
static void check_interpreters(const struct wm_level_input *in, size_t i, struct interp_memo *m,
			       struct wm_diags *d)
{
	const struct wm_task *t = &in->wf->tasks[i];
	const struct wm_code *code[] = { &t->body, &t->rollback };

	if (t->image || in->policy[i]->fs.rootfs)
		return;
	for (size_t k = 0; k < 2; k++) {
		if (!code[k]->lang || on_host_memo(m, code[k]->argv[0]))
			continue;
		finding(d, in->wf->path, code[k]->loc, WM_LEVEL_STANDARD,
			"task '%s': the interpreter `%s` of its %s block is not on this host%s",
			t->id, code[k]->argv[0], code[k]->lang,
			strchr(code[k]->argv[0], '/') ? "" : " (not found in $PATH)");
	}
}

/* The file or directory a task's root filesystem comes from: its image
 * reference's layout or archive (relative to the workflow's directory), or
 * its policy's rootfs (already absolute). Caller frees; NULL: none. */
static char *rootfs_source(const struct wm_workflow *wf, const struct wm_task *t,
			   const struct wm_policy *p)
{
	const char *ref = t->image ? t->image : p->fs.rootfs;
	const char *slash = strrchr(wf->path, '/');
	/* "/w.md" is in "/", "w.md" in ".". */
	wm_autofree char *dir =
		!slash ? wm_xstrdup(".")
		       : wm_xstrndup(wf->path, slash == wf->path ? 1 : (size_t)(slash - wf->path));
	struct wm_image_ref r;
	char *path;

	if (!ref)
		return NULL;
	if (!wm_image_ref_is(ref))
		return wm_xstrdup(ref);
	if (wm_image_ref_parse(ref, dir, &r, NULL) < 0)
		return NULL; /* the parser reported it */
	path = wm_steal(&r.path);
	wm_image_ref_release(&r);
	return path;
}

/* Where a task's policy was chosen: its `- policy:` line, else the front
 * matter's, else its heading. */
static struct wm_loc policy_place(const struct wm_workflow *wf, const struct wm_task *t)
{
	if (t->policy)
		return t->policy_loc;
	return wf->policy ? wf->policy_loc : t->loc;
}

/* standard: the image or root filesystem a task runs in is on this host. */
static void check_rootfs(const struct wm_level_input *in, size_t i, struct wm_diags *d)
{
	const struct wm_task *t = &in->wf->tasks[i];
	wm_autofree char *src = rootfs_source(in->wf, t, in->policy[i]);
	struct stat st;

	if (!src || stat(src, &st) == 0)
		return;
	finding(d, in->wf->path, t->image ? t->loc : policy_place(in->wf, t), WM_LEVEL_STANDARD,
		"task '%s': its %s `%s` is not on this host (no `%s`)", t->id,
		t->image ? "image" : "root filesystem",
		t->image ? t->image : in->policy[i]->fs.rootfs, src);
}

/* Is p at least as strict as the built-in `floor`? Else *why says how. */
static bool at_least(const struct wm_level_input *in, const struct wm_policy *p, const char *floor,
		     char **why)
{
	const struct wm_policy *f = wm_policy_set_get(in->set, floor);
	struct wm_buf b = WM_BUF_INIT;

	*why = NULL;
	if (!f || wm_policy_at_least_as_strict(p, f, &b)) {
		wm_buf_release(&b);
		return true;
	}
	*why = wm_buf_detach(&b, NULL);
	return false;
}

/* The first task that depends on task i and runs something (a join node
 * reads no $WM_IN), or -1. */
static long first_reader(const struct wm_workflow *wf, size_t i)
{
	for (size_t k = 0; k < wm_dag_n_dependents(wf->dag, i); k++)
		if (!wm_task_is_join(&wf->tasks[wm_dag_dependents(wf->dag, i)[k]]))
			return (long)wm_dag_dependents(wf->dag, i)[k];
	return -1;
}

static void check_strict_task(const struct wm_level_input *in, size_t i, struct wm_diags *d)
{
	const struct wm_workflow *wf = in->wf;
	const struct wm_task *t = &wf->tasks[i];
	const struct wm_policy *p = in->policy[i];
	long reader = first_reader(wf, i);
	wm_autofree char *why = NULL;
	wm_autofree char *backstop = wm_format_duration(p->limits.timeout_ms);

	/* Every built-in sets a timeout of hours: a backstop, not a choice. */
	if (!t->timeout_ms)
		finding(d, wf->path, t->loc, WM_LEVEL_STRICT,
			"task '%s' declares no `timeout` (its policy `%s` only stops it after %s)",
			t->id, p->name, backstop);
	if (!at_least(in, p, "testing", &why))
		finding(d, wf->path, policy_place(wf, t), WM_LEVEL_STRICT,
			"task '%s' runs under `%s`, weaker than `testing` (%s): strict accepts no "
			"task under minimal or development",
			t->id, p->name, why);
	if (reader >= 0 && !t->outputs)
		finding(d, wf->path, t->loc, WM_LEVEL_STRICT,
			"task '%s' declares no `outputs`, yet '%s' depends on it", t->id,
			wf->tasks[reader].id);
	/* A task whose result is reused must say what it reads and writes,
	 * else nothing shows it is pure (its body may write outside $WM_OUT or
	 * read what its key does not cover). */
	if (wm_taskcache_wanted(wf, i, WM_CACHE_AS_WRITTEN) && (!t->outputs || !t->inputs))
		finding(d, wf->path, t->loc, WM_LEVEL_STRICT,
			"task '%s' is cached but declares no %s: nothing shows that it "
			"depends only on what its cache key covers",
			t->id,
			!t->outputs && !t->inputs ? "`outputs` or `inputs`"
			: !t->outputs		  ? "`outputs`"
						  : "`inputs`");
}

/* API_TOKEN, db_password, AWS_SECRET_ACCESS_KEY, GITHUB_PAT... */
static bool secret_name(const char *s, size_t len)
{
	static const char *const words[] = { "TOKEN",  "SECRET",     "PASSWORD", "PASSWD",
					     "APIKEY", "API_KEY",    "PRIVATE",	 "CREDENTIAL",
					     "_PAT",   "ACCESS_KEY", "AUTH" };
	wm_autofree char *up = wm_xstrndup(s, len);

	for (char *c = up; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(up, words[k]))
			return true;
	return false;
}

/* The first KEY=VALUE of env whose KEY looks like a secret's, or NULL. */
static const char *secret_in(char *const *env)
{
	for (size_t k = 0; env && env[k]; k++)
		if (secret_name(env[k], strcspn(env[k], "=")))
			return env[k];
	return NULL;
}

static void check_paranoid_task(const struct wm_level_input *in, size_t i, struct wm_diags *d)
{
	const struct wm_workflow *wf = in->wf;
	const struct wm_task *t = &wf->tasks[i];
	const struct wm_policy *p = in->policy[i];
	const char *rootfs = p->fs.rootfs, *s = secret_in(t->env);
	wm_autofree char *why = NULL;

	/* Network first: a policy with some is not hardened either, and one
	 * finding says it. */
	if (p->network != WM_NET_NONE)
		finding(d, wf->path, policy_place(wf, t), WM_LEVEL_PARANOID,
			"task '%s' runs under `%s`, which has network (%s): paranoid allows none",
			t->id, p->name, wm_net_mode_name(p->network));
	else if (!at_least(in, p, "hardened", &why))
		finding(d, wf->path, policy_place(wf, t), WM_LEVEL_PARANOID,
			"task '%s' runs under `%s`, weaker than `hardened` (%s)", t->id, p->name,
			why);
	if (t->image && !strstr(t->image, "@sha256:"))
		finding(d, wf->path, t->loc, WM_LEVEL_PARANOID,
			"task '%s': its image `%s` is not pinned by digest (add @sha256:...)",
			t->id, t->image);
	if (!t->image && rootfs && !strstr(rootfs, "@sha256:"))
		finding(d, wf->path, policy_place(wf, t), WM_LEVEL_PARANOID,
			"task '%s': the root filesystem `%s` of policy `%s` is not pinned by "
			"digest (use an image reference with @sha256:...)",
			t->id, rootfs, p->name);
	if (s)
		finding(d, wf->path, t->loc, WM_LEVEL_PARANOID,
			"task '%s' sets `%.*s` in its `env`: declare it under front matter "
			"`secrets` and pass it with --secret",
			t->id, (int)strcspn(s, "="), s);
}

static void check_paranoid_env(const struct wm_level_input *in, struct wm_diags *d)
{
	const char *s = secret_in(in->wf->env);
	char *const *cli = in->cli_env;

	if (s)
		finding(d, in->wf->path, (struct wm_loc){ 1, 1 }, WM_LEVEL_PARANOID,
			"the front matter's `env` sets `%.*s`: declare it under `secrets` and "
			"pass it with --secret",
			(int)strcspn(s, "="), s);
	for (size_t k = 0; cli && cli[k]; k++)
		if (secret_name(cli[k], strcspn(cli[k], "=")))
			wm_diags_error(d, NULL, 0, 0,
				       "-e %.*s=...: pass secrets with --secret %.*s (declared "
				       "under front matter `secrets`), not -e [paranoid]",
				       (int)strcspn(cli[k], "="), cli[k], (int)strcspn(cli[k], "="),
				       cli[k]);
}

/* strict: warnings are errors. */
static void promote_warnings(struct wm_diags *d)
{
	for (size_t k = 0; k < d->n; k++) {
		struct wm_diag *dg = &d->v[k];
		char *msg;

		if (dg->level != WM_DIAG_WARNING)
			continue;
		msg = wm_xasprintf("%s [%s]", dg->msg, wm_level_name(WM_LEVEL_STRICT));
		free(dg->msg);
		dg->msg = msg;
		dg->level = WM_DIAG_ERROR;
		d->n_errors++;
	}
}

void wm_levels_check(const struct wm_level_input *in, enum wm_level level, struct wm_diags *d)
{
	const struct wm_workflow *wf = in->wf;
	struct interp_memo memo = { .n = 0 };

	if (level >= WM_LEVEL_STRICT)
		promote_warnings(d);
	for (size_t i = 0; i < wf->n_tasks && level >= WM_LEVEL_STANDARD; i++) {
		if (wm_task_is_join(&wf->tasks[i]))
			continue; /* runs nothing, in no sandbox */
		check_interpreters(in, i, &memo, d);
		check_rootfs(in, i, d);
		if (level >= WM_LEVEL_STRICT)
			check_strict_task(in, i, d);
		if (level >= WM_LEVEL_PARANOID)
			check_paranoid_task(in, i, d);
	}
	if (level >= WM_LEVEL_PARANOID)
		check_paranoid_env(in, d);
}

enum wm_level wm_level_of_diag(const struct wm_diag *dg)
{
	size_t len = strlen(dg->msg);
	const char *open = len ? strrchr(dg->msg, '[') : NULL;
	int l;

	if (!open || dg->msg[len - 1] != ']')
		return WM_LEVEL_BASIC;
	wm_autofree char *name = wm_xstrndup(open + 1, (size_t)(dg->msg + len - 1 - open - 1));
	l = wm_level_find(name);
	return l < 0 ? WM_LEVEL_BASIC : (enum wm_level)l;
}
