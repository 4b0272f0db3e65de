/*
 * set.c - the policy set: built-ins, files in search order, inheritance,
 * and building the final struct wm_policy (OCI profile, rules, allow, deny).
 */
#include "policies/policies.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/builtin.h"
#include "policies/internal.h"

struct entry {
	struct pol_spec *merged; /* inheritance applied, seccomp lists still apart */
	struct wm_policy *policy;
	bool builtin;
};

struct wm_policy_set {
	struct entry *v;
	size_t n, alloc;
};

void pol_spec_free(struct pol_spec *s)
{
	if (!s)
		return;
	/* The plain fields are a wm_policy without rules: free them the same way. */
	struct wm_policy *p = wm_xmalloc(sizeof(*p));
	*p = s->p;
	wm_policy_free(p);
	free(s->file);
	wm_strv_free(s->allow);
	wm_strv_free(s->deny);
	pol_rules_free(s->rules, s->n_rules);
	free(s);
}

static char *xstrdup_or_null(const char *s)
{
	return s ? wm_xstrdup(s) : NULL;
}

static char **strv_dup(char *const *v)
{
	char **out = NULL;
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; v[i]; i++)
		wm_strv_push(&out, &n, v[i]);
	return out ? out : wm_xcalloc(1, sizeof(char *));
}

static void binds_copy(struct wm_policy *dst, const struct wm_policy *src)
{
	dst->fs.n_binds = src->fs.n_binds;
	dst->fs.binds =
		src->fs.n_binds ? wm_xcalloc(src->fs.n_binds, sizeof(struct wm_bind)) : NULL;
	for (size_t i = 0; i < src->fs.n_binds; i++) {
		dst->fs.binds[i].src = wm_xstrdup(src->fs.binds[i].src);
		dst->fs.binds[i].dst = wm_xstrdup(src->fs.binds[i].dst);
		dst->fs.binds[i].rw = src->fs.binds[i].rw;
	}
}

/* Deep copy of the plain fields (rules are not copied). */
static void plain_copy(struct wm_policy *dst, const struct wm_policy *src)
{
	*dst = *src;
	dst->name = xstrdup_or_null(src->name);
	dst->description = xstrdup_or_null(src->description);
	dst->inherits = xstrdup_or_null(src->inherits);
	dst->source = xstrdup_or_null(src->source);
	dst->fs.rootfs = xstrdup_or_null(src->fs.rootfs);
	dst->fs.hide = strv_dup(src->fs.hide);
	binds_copy(dst, src);
	dst->fs.devices = strv_dup(src->fs.devices);
	dst->capabilities = strv_dup(src->capabilities);
	dst->seccomp.profile = xstrdup_or_null(src->seccomp.profile);
	dst->seccomp.rules = NULL;
	dst->seccomp.n_rules = 0;
	dst->env.keep = strv_dup(src->env.keep);
	dst->env.set = strv_dup(src->env.set);
}

struct pol_spec *pol_spec_dup(const struct pol_spec *s)
{
	struct pol_spec *d = wm_xcalloc(1, sizeof(*d));

	*d = *s;
	plain_copy(&d->p, &s->p);
	d->file = xstrdup_or_null(s->file);
	d->allow = strv_dup(s->allow);
	d->deny = strv_dup(s->deny);
	d->rules = NULL;
	d->n_rules = 0;
	for (size_t i = 0; i < s->n_rules; i++)
		pol_rules_push(&d->rules, &d->n_rules, &s->rules[i]);
	return d;
}

static void replace_str(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup_or_null(src);
}

static void replace_strv(char ***dst, char *const *src)
{
	wm_strv_free(*dst);
	*dst = strv_dup(src);
}

static void strv_union(char ***dst, size_t *n, char *const *src)
{
	*n = wm_strv_len(*dst);
	for (size_t i = 0; src && src[i]; i++)
		if (!wm_strv_contains(*dst, src[i]))
			wm_strv_push(dst, n, src[i]);
}

static void env_set_merge(char ***dst, char *const *src)
{
	size_t n = wm_strv_len(*dst);

	for (size_t i = 0; src && src[i]; i++) {
		size_t klen = (size_t)(strchr(src[i], '=') - src[i]);
		bool done = false;

		for (size_t j = 0; j < n && !done; j++) {
			if (strncmp((*dst)[j], src[i], klen + 1) == 0) {
				free((*dst)[j]);
				(*dst)[j] = wm_xstrdup(src[i]);
				done = true;
			}
		}
		if (!done)
			wm_strv_push(dst, &n, src[i]);
	}
}

static void merge_seccomp(struct pol_spec *b, const struct pol_spec *c)
{
	if (c->given & PF_SECCOMP_OFF)
		b->p.seccomp.enabled = false;
	if (!(c->given & PF_SC_ANY))
		return;
	b->p.seccomp.enabled = true;
	if (c->given & PF_SC_PROFILE) {
		/* A profile is a whole filter: what the parent listed goes. */
		wm_strv_free(b->allow);
		wm_strv_free(b->deny);
		pol_rules_free(b->rules, b->n_rules);
		b->allow = b->deny = NULL;
		b->n_allow = b->n_deny = 0;
		b->rules = NULL;
		b->n_rules = 0;
		b->given &= ~(uint32_t)(PF_SC_DEFAULT | PF_SC_ERRNO);
		replace_str(&b->p.seccomp.profile, c->p.seccomp.profile);
		replace_str(&b->file, c->file);
		b->prof_line = c->prof_line;
		b->prof_col = c->prof_col;
	}
	if (c->given & PF_SC_DEFAULT)
		b->p.seccomp.default_action = c->p.seccomp.default_action;
	if (c->given & PF_SC_ERRNO)
		b->p.seccomp.default_errno = c->p.seccomp.default_errno;
	strv_union(&b->allow, &b->n_allow, c->allow);
	strv_union(&b->deny, &b->n_deny, c->deny);
	for (size_t i = 0; i < c->n_rules; i++)
		pol_rules_drop_name(b->rules, &b->n_rules, c->rules[i].name);
	for (size_t i = 0; i < c->n_rules; i++)
		pol_rules_push(&b->rules, &b->n_rules, &c->rules[i]);
}

void pol_spec_merge(struct pol_spec *b, const struct pol_spec *c)
{
	const struct wm_policy *cp = &c->p;
	struct wm_policy *bp = &b->p;

	replace_str(&bp->name, cp->name);
	replace_str(&bp->source, cp->source);
	replace_str(&bp->inherits, cp->inherits);
	if (c->given & PF_DESCRIPTION)
		replace_str(&bp->description, cp->description);
	if (c->given & PF_NETWORK)
		bp->network = cp->network;
	if (c->given & PF_VIEW)
		bp->fs.view = cp->fs.view;
	if (c->given & PF_ROOTFS)
		replace_str(&bp->fs.rootfs, cp->fs.rootfs);
	if (c->given & PF_WORKSPACE)
		bp->fs.workspace = cp->fs.workspace;
	if (c->given & PF_TMP)
		bp->fs.tmp_size = cp->fs.tmp_size;
	if (c->given & PF_HIDE)
		replace_strv(&bp->fs.hide, cp->fs.hide);
	if (c->given & PF_BIND) {
		for (size_t i = 0; i < bp->fs.n_binds; i++) {
			free(bp->fs.binds[i].src);
			free(bp->fs.binds[i].dst);
		}
		free(bp->fs.binds);
		binds_copy(bp, cp);
	}
	if (c->given & PF_DEVICES)
		replace_strv(&bp->fs.devices, cp->fs.devices);
	if (c->given & PF_SHM)
		bp->fs.shm_size = cp->fs.shm_size;
	if (c->given & PF_CAPS)
		replace_strv(&bp->capabilities, cp->capabilities);
	if (c->given & PF_USERNS)
		bp->user_namespace = cp->user_namespace;
	if (c->given & PF_LANDLOCK)
		bp->landlock = cp->landlock;
	if (c->given & PF_MEMORY)
		bp->limits.memory = cp->limits.memory;
	if (c->given & PF_PIDS)
		bp->limits.pids = cp->limits.pids;
	if (c->given & PF_CPU)
		bp->limits.cpu = cp->limits.cpu;
	if (c->given & PF_TIMEOUT)
		bp->limits.timeout_ms = cp->limits.timeout_ms;
	if (c->given & PF_NOFILE)
		bp->limits.nofile = cp->limits.nofile;
	if (c->given & PF_FSIZE)
		bp->limits.fsize = cp->limits.fsize;
	if (c->given & PF_CORE)
		bp->limits.core = cp->limits.core;
	if (c->given & PF_OUT)
		bp->limits.out = cp->limits.out;
	if (c->given & PF_STRICT)
		bp->limits.strict = cp->limits.strict;
	if (c->given & PF_ENV_KEEP)
		replace_strv(&bp->env.keep, cp->env.keep);
	env_set_merge(&bp->env.set, cp->env.set);
	merge_seccomp(b, c);
	b->given |= c->given & ~(uint32_t)PF_SC_ANY;
	b->line = c->line;
	b->col = c->col;
}

/* Every NULL list becomes an empty one, so the sandbox and the emitter never
 * have to tell "unset" from "empty". */
static void fill_empty(char ***v)
{
	if (!*v)
		*v = wm_xcalloc(1, sizeof(char *));
}

/* The final policy: plain fields, then the filter in order of precedence
 * profile < rules < allow < deny. */
static struct wm_policy *build(const struct pol_spec *m, struct wm_diags *diags)
{
	struct wm_policy *p = wm_xcalloc(1, sizeof(*p));
	struct wm_seccomp_rule *rules = NULL;
	size_t n = 0;

	plain_copy(p, &m->p);
	fill_empty(&p->fs.hide);
	fill_empty(&p->fs.devices);
	fill_empty(&p->capabilities);
	fill_empty(&p->env.keep);
	fill_empty(&p->env.set);
	if (!p->seccomp.enabled) {
		p->seccomp.default_action = WM_SC_ALLOW;
		p->seccomp.default_errno = 0;
		free(p->seccomp.profile);
		p->seccomp.profile = NULL;
		return p;
	}
	if (m->p.seccomp.profile) {
		enum wm_seccomp_action act;
		int err_ret;

		if (pol_oci_load(m->p.seccomp.profile, p->capabilities, m->file, m->prof_line,
				 m->prof_col, diags, &act, &err_ret, &rules, &n) < 0) {
			wm_policy_free(p);
			return NULL;
		}
		if (!(m->given & PF_SC_DEFAULT))
			p->seccomp.default_action = act;
		if (!(m->given & PF_SC_ERRNO))
			p->seccomp.default_errno = err_ret;
	}
	for (size_t i = 0; i < m->n_rules; i++)
		pol_rules_drop_name(rules, &n, m->rules[i].name);
	for (size_t i = 0; i < m->n_rules; i++)
		pol_rules_push(&rules, &n, &m->rules[i]);
	for (size_t i = 0; m->allow && m->allow[i]; i++) {
		struct wm_seccomp_rule r = { .name = m->allow[i], .action = WM_SC_ALLOW };
		pol_rules_drop_name(rules, &n, r.name);
		pol_rules_push(&rules, &n, &r);
	}
	for (size_t i = 0; m->deny && m->deny[i]; i++) {
		struct wm_seccomp_rule r = { .name = m->deny[i], .action = WM_SC_ERRNO };
		pol_rules_drop_name(rules, &n, r.name);
		pol_rules_push(&rules, &n, &r);
	}
	pol_rules_canonical(rules, &n);
	if (p->seccomp.default_action != WM_SC_ERRNO || p->seccomp.default_errno == EPERM)
		p->seccomp.default_errno = 0;
	p->seccomp.rules = rules;
	p->seccomp.n_rules = n;
	return p;
}

struct wm_policy_set *wm_policy_set_new(void)
{
	struct wm_policy_set *set = wm_xcalloc(1, sizeof(*set));

	for (const struct wm_builtin_yaml *b = wm_builtin_yaml; b->name; b++) {
		struct wm_diags d = WM_DIAGS_INIT;

		if (wm_policy_set_load_text(set, b->path, b->text, strlen(b->text), &d, NULL) < 0) {
			/* A build that embeds a broken built-in is a bug, not bad input. */
			wm_diags_print(&d, stderr);
			abort();
		}
		wm_diags_release(&d);
	}
	for (size_t i = 0; i < set->n; i++) {
		set->v[i].builtin = true;
		free(set->v[i].policy->source);
		set->v[i].policy->source = wm_xasprintf("builtin:%s", set->v[i].policy->name);
	}
	return set;
}

void wm_policy_set_free(struct wm_policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		pol_spec_free(set->v[i].merged);
		wm_policy_free(set->v[i].policy);
	}
	free(set->v);
	free(set);
}

static struct entry *find(const struct wm_policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].policy->name, name) == 0)
			return &set->v[i];
	return NULL;
}

const struct wm_policy *wm_policy_set_get(const struct wm_policy_set *set, const char *name)
{
	const struct entry *e = find(set, name);
	return e ? e->policy : NULL;
}

size_t wm_policy_set_count(const struct wm_policy_set *set)
{
	return set->n;
}

const struct wm_policy *wm_policy_set_at(const struct wm_policy_set *set, size_t i)
{
	return i < set->n ? set->v[i].policy : NULL;
}

const char *wm_policy_set_suggest(const struct wm_policy_set *set, const char *name)
{
	const char **names = wm_xcalloc(set->n + 1, sizeof(*names));
	const char *s;

	for (size_t i = 0; i < set->n; i++)
		names[i] = set->v[i].policy->name;
	s = wm_suggest(name, names, set->n);
	free(names);
	return s;
}

const struct wm_policy *wm_policy_set_resolve(const struct wm_policy_set *set, const char *name,
					      const char *file, unsigned line, unsigned col,
					      struct wm_diags *diags)
{
	const struct wm_policy *p = wm_policy_set_get(set, name);
	const char *hint;

	if (p)
		return p;
	hint = wm_policy_set_suggest(set, name);
	if (hint)
		wm_diags_error(diags, file, line, col, "unknown policy '%s' (did you mean '%s'?)",
			       name, hint);
	else
		wm_diags_error(diags, file, line, col, "unknown policy '%s' (see 'wm policy list')",
			       name);
	return NULL;
}

int wm_policy_is_builtin_name(const char *name)
{
	for (const struct wm_builtin_yaml *b = wm_builtin_yaml; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return 1;
	return 0;
}

/* One file's specs while they are resolved: merged[i] is NULL until done,
 * or when spec i (or its parent) had an error. */
struct pending {
	struct pol_spec **specs;
	struct pol_spec **merged;
	struct wm_policy **built;
	size_t n;
};

static long index_of(const struct pending *pd, const char *name, size_t from, size_t to)
{
	for (size_t j = from; j < to; j++)
		if (strcmp(pd->specs[j]->p.name, name) == 0)
			return (long)j;
	return -1;
}

/* s inherits a name defined at or after itself in the same file: a cycle when
 * the chain of inherits through this file comes back to s. */
static void report_later(const struct pending *pd, size_t i, long j, struct wm_diags *d)
{
	const struct pol_spec *s = pd->specs[i];
	struct wm_buf chain = WM_BUF_INIT;
	long k = j;

	wm_buf_addf(&chain, "%s -> %s", s->p.name, s->p.inherits);
	for (size_t steps = 0; steps <= pd->n && k >= 0; steps++) {
		const char *next = pd->specs[k]->p.inherits;
		if (!next)
			break;
		wm_buf_addf(&chain, " -> %s", next);
		if (strcmp(next, s->p.name) == 0) {
			wm_diags_error(d, s->file, s->inh_line, s->inh_col, "inheritance cycle: %s",
				       chain.data);
			wm_buf_release(&chain);
			return;
		}
		k = index_of(pd, next, 0, pd->n);
	}
	wm_buf_release(&chain);
	wm_diags_error(d, s->file, s->inh_line, s->inh_col,
		       "'%s' inherits '%s', which is defined later (line %u): define it first",
		       s->p.name, s->p.inherits, pd->specs[j]->line);
}

static const struct pol_spec *find_parent(const struct wm_policy_set *set, const struct pending *pd,
					  size_t i, bool *failed, struct wm_diags *d)
{
	const struct pol_spec *s = pd->specs[i];
	const char *name = s->p.inherits;
	const struct entry *e;
	long j = -1;

	*failed = false;
	for (size_t k = 0; k < i; k++)
		if (strcmp(pd->specs[k]->p.name, name) == 0)
			j = (long)k;
	if (j >= 0) {
		*failed = pd->merged[j] == NULL; /* already reported */
		return pd->merged[j];
	}
	if ((e = find(set, name)) != NULL)
		return e->merged;
	*failed = true;
	if (strcmp(name, s->p.name) == 0) {
		wm_diags_error(d, s->file, s->inh_line, s->inh_col, "'%s' inherits itself", name);
		return NULL;
	}
	if ((j = index_of(pd, name, i + 1, pd->n)) >= 0) {
		report_later(pd, i, j, d);
		return NULL;
	}
	{
		const char **names = wm_xcalloc(set->n + pd->n + 1, sizeof(*names));
		size_t n = 0;
		const char *hint;

		for (size_t k = 0; k < set->n; k++)
			names[n++] = set->v[k].policy->name;
		for (size_t k = 0; k < i; k++)
			names[n++] = pd->specs[k]->p.name;
		hint = wm_suggest(name, names, n);
		if (hint)
			wm_diags_error(d, s->file, s->inh_line, s->inh_col,
				       "'%s' inherits unknown policy '%s' (did you mean '%s'?)",
				       s->p.name, name, hint);
		else
			wm_diags_error(d, s->file, s->inh_line, s->inh_col,
				       "'%s' inherits unknown policy '%s'", s->p.name, name);
		free(names);
	}
	return NULL;
}

static void commit(struct wm_policy_set *set, struct pol_spec *merged, struct wm_policy *p)
{
	struct entry *e = find(set, p->name);

	if (e) {
		pol_spec_free(e->merged);
		wm_policy_free(e->policy);
	} else {
		WM_GROW(set->v, set->alloc, set->n + 1);
		e = &set->v[set->n++];
	}
	e->merged = merged;
	e->policy = p;
	e->builtin = false;
}

static int load_text(struct wm_policy_set *set, const char *path, const char *display,
		     const char *text, size_t len, struct wm_diags *diags)
{
	struct pending pd = { 0 };
	size_t errors_before = diags->n_errors;
	int rc = 0;

	pd.n = pol_load_yaml(path, display, text, len, &pd.specs, diags);
	pd.merged = wm_xcalloc(pd.n + 1, sizeof(*pd.merged));
	pd.built = wm_xcalloc(pd.n + 1, sizeof(*pd.built));
	for (size_t i = 0; i < pd.n; i++) {
		struct pol_spec *s = pd.specs[i];
		const struct pol_spec *parent = NULL;
		bool failed = false;

		if (s->p.inherits)
			parent = find_parent(set, &pd, i, &failed, diags);
		if (failed)
			continue;
		if (parent) {
			pd.merged[i] = pol_spec_dup(parent);
			pol_spec_merge(pd.merged[i], s);
		} else {
			pd.merged[i] = pol_spec_dup(s);
			pd.merged[i]->p.seccomp.enabled = (s->given & PF_SC_ANY) != 0;
		}
		pd.built[i] = build(pd.merged[i], diags);
		if (!pd.built[i]) {
			pol_spec_free(pd.merged[i]);
			pd.merged[i] = NULL;
		}
	}
	if (diags->n_errors > errors_before)
		rc = -1;
	for (size_t i = 0; i < pd.n; i++) {
		if (rc == 0 && pd.built[i]) {
			commit(set, pd.merged[i], pd.built[i]);
		} else {
			pol_spec_free(pd.merged[i]);
			wm_policy_free(pd.built[i]);
		}
		pol_spec_free(pd.specs[i]);
	}
	free(pd.specs);
	free(pd.merged);
	free(pd.built);
	wm_diags_sort(diags);
	return rc;
}

int wm_policy_set_load_text(struct wm_policy_set *set, const char *path, const char *text,
			    size_t len, struct wm_diags *diags, struct wm_error **err)
{
	(void)err;
	return load_text(set, path, NULL, text, len, diags);
}

static int load_file(struct wm_policy_set *set, const char *path, const char *display,
		     bool missing_ok, struct wm_diags *diags, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	if (wm_buf_read_file(&b, path) < 0) {
		int e = errno;
		wm_buf_release(&b);
		if (missing_ok && e == ENOENT)
			return 0;
		return wm_error_set(err, e, "read policy file `%s`", display ? display : path);
	}
	rc = load_text(set, path, display, b.data, b.len, diags);
	wm_buf_release(&b);
	return rc;
}

int wm_policy_set_load_file(struct wm_policy_set *set, const char *path, struct wm_diags *diags,
			    struct wm_error **err)
{
	return load_file(set, path, NULL, false, diags, err);
}

int wm_policy_set_load_file_as(struct wm_policy_set *set, const char *path, const char *display,
			       struct wm_diags *diags, struct wm_error **err)
{
	return load_file(set, path, display, false, diags, err);
}

struct wm_policy_set *wm_policy_set_load_search(const char *flag_path, const char *frontmatter_path,
						struct wm_diags *diags, struct wm_error **err)
{
	struct wm_policy_set *set = wm_policy_set_new();
	wm_autofree char *user = NULL;
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int rc = 0;

	if (xdg && *xdg)
		user = wm_xasprintf("%s/wm/policies.yaml", xdg);
	else if (home && *home)
		user = wm_xasprintf("%s/.config/wm/policies.yaml", home);
	if (user)
		rc |= load_file(set, user, NULL, true, diags, err);
	if (rc == 0 && frontmatter_path)
		rc |= load_file(set, frontmatter_path, NULL, false, diags, err);
	if (rc == 0 && flag_path)
		rc |= load_file(set, flag_path, NULL, false, diags, err);
	if (rc < 0) {
		wm_policy_set_free(set);
		return NULL;
	}
	return set;
}

char *wm_policy_hash(const struct wm_policy *p)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];
	struct wm_buf b = WM_BUF_INIT;

	pol_emit_body(&b, p, "");
	crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
	wm_buf_release(&b);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return wm_xstrdup(hex);
}

const struct wm_policy *wm_policy_set_lookup(const struct wm_policy_set *set, const char *name,
					     struct wm_error **err)
{
	const struct wm_policy *p = wm_policy_set_get(set, name);
	const char *hint;

	if (p)
		return p;
	hint = wm_policy_set_suggest(set, name);
	if (hint)
		wm_error_setx(err, WM_EXIT_USAGE, "unknown policy '%s' (did you mean '%s'?)", name,
			      hint);
	else
		wm_error_setx(err, WM_EXIT_USAGE, "unknown policy '%s' (see 'wm policy list')",
			      name);
	return NULL;
}
