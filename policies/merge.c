/*
 * merge.c - specs merged along `inherits` and the final struct wm_policy
 * built from a merged spec (OCI profile, rules, allow, deny).
 *
 * Every step costs time in proportion to the sizes involved (a sort, never
 * a search per item), so a chain of inheritance costs the sum of its
 * policies' sizes: lists are appended when merged and de-duplicated once,
 * when the policy is built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/internal.h"
#include "policies/policies.h"

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

/* Appends src to *dst; duplicates are dropped when the policy is built. */
static void strv_append(char ***dst, size_t *n, char *const *src)
{
	*n = wm_strv_len(*dst);
	for (size_t i = 0; src && src[i]; i++)
		wm_strv_push(dst, n, src[i]);
}

static int name_qcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Drops base's rules for every name the child has rules for: the child's
 * replace them. Sorted names and a binary search keep it O(n log n). */
static void drop_names_of(struct pol_spec *b, const struct pol_spec *c)
{
	const char **names;
	size_t j = 0;

	if (!c->n_rules || !b->n_rules)
		return;
	names = wm_xcalloc(c->n_rules, sizeof(*names));
	for (size_t i = 0; i < c->n_rules; i++)
		names[i] = c->rules[i].name;
	qsort(names, c->n_rules, sizeof(*names), name_qcmp);
	for (size_t i = 0; i < b->n_rules; i++) {
		const char *key = b->rules[i].name;

		if (bsearch(&key, names, c->n_rules, sizeof(*names), name_qcmp)) {
			free(b->rules[i].name);
			continue;
		}
		b->rules[j++] = b->rules[i];
	}
	b->n_rules = j;
	free(names);
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
	strv_append(&b->allow, &b->n_allow, c->allow);
	strv_append(&b->deny, &b->n_deny, c->deny);
	drop_names_of(b, c);
	for (size_t i = 0; i < c->n_rules; i++)
		pol_rules_push(&b->rules, &b->n_rules, &c->rules[i]);
}

/* The limits the child gives replace the parent's. */
static void merge_limits(struct wm_policy *bp, const struct wm_policy *cp, uint32_t given)
{
	if (given & PF_MEMORY)
		bp->limits.memory = cp->limits.memory;
	if (given & PF_PIDS)
		bp->limits.pids = cp->limits.pids;
	if (given & PF_CPU)
		bp->limits.cpu = cp->limits.cpu;
	if (given & PF_TIMEOUT)
		bp->limits.timeout_ms = cp->limits.timeout_ms;
	if (given & PF_NOFILE)
		bp->limits.nofile = cp->limits.nofile;
	if (given & PF_FSIZE)
		bp->limits.fsize = cp->limits.fsize;
	if (given & PF_CORE)
		bp->limits.core = cp->limits.core;
	if (given & PF_OUT)
		bp->limits.out = cp->limits.out;
	if (given & PF_STRICT)
		bp->limits.strict = cp->limits.strict;
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
	merge_limits(bp, cp, c->given);
	if (c->given & PF_ENV_KEEP)
		replace_strv(&bp->env.keep, cp->env.keep);
	{
		size_t n;

		strv_append(&bp->env.set, &n, cp->env.set);
	}
	merge_seccomp(b, c);
	b->given |= c->given & ~(uint32_t)PF_SC_ANY;
	b->line = c->line;
	b->col = c->col;
}

static bool env_key_eq(const char *a, const char *b)
{
	size_t ka = strcspn(a, "="), kb = strcspn(b, "=");

	return ka == kb && strncmp(a, b, ka) == 0;
}

static int env_key_qcmp(const void *x, const void *y)
{
	const char *const *a = *(const char *const *const *)x, *const *b = *(
								       const char *const *const *)y;
	size_t ka = strcspn(*a, "="), kb = strcspn(*b, "=");
	int c = strncmp(*a, *b, ka < kb ? ka : kb);

	if (c)
		return c;
	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Every NULL list becomes an empty one, so the sandbox and the emitter never
 * have to tell "unset" from "empty". */
static void fill_empty(char ***v)
{
	if (!*v)
		*v = wm_xcalloc(1, sizeof(char *));
}

/* One candidate rule of the final filter, with the precedence of where it
 * came from: profile 0 < rules 1 < allow 2 < deny 3. */
struct cand {
	struct wm_seccomp_rule r; /* name borrowed */
	int prec;
	size_t seq; /* keeps the sort stable */
};

static int cand_qcmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	int c = strcmp(a->r.name, b->r.name);

	if (c)
		return c;
	if (a->prec != b->prec)
		return a->prec > b->prec ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void cand_add(struct cand **v, size_t *n, size_t *alloc, const struct wm_seccomp_rule *r,
		     int prec)
{
	WM_GROW(*v, *alloc, *n + 1);
	(*v)[*n] = (struct cand){ *r, prec, *n };
	(*n)++;
}

/* Keeps, for each name, only the rules of its highest precedence (a later
 * kind replaces every rule of the same name), in one sort. */
static void resolve_rules(struct cand *c, size_t nc, struct wm_seccomp_rule **rules, size_t *n)
{
	struct wm_seccomp_rule *out = NULL;
	int top = 0;

	if (nc > 1)
		qsort(c, nc, sizeof(*c), cand_qcmp);
	for (size_t i = 0; i < nc; i++) {
		if (i == 0 || strcmp(c[i].r.name, c[i - 1].r.name) != 0)
			top = c[i].prec; /* the group's first is its highest */
		if (c[i].prec == top)
			pol_rules_push(&out, n, &c[i].r);
	}
	*rules = out;
}

/* The filter of a merged spec, in order of precedence profile < rules <
 * allow < deny; -1 after reporting a profile that does not load. */
static int build_filter(const struct pol_spec *m, struct wm_policy *p, struct wm_diags *diags)
{
	struct wm_seccomp_rule *prof = NULL;
	size_t n_prof = 0, nc = 0, alloc = 0;
	struct cand *c = NULL;

	if (m->p.seccomp.profile) {
		enum wm_seccomp_action act;
		int err_ret;

		if (pol_oci_load(m->p.seccomp.profile, p->capabilities, m->file, m->prof_line,
				 m->prof_col, diags, &act, &err_ret, &prof, &n_prof) < 0)
			return -1;
		if (!(m->given & PF_SC_DEFAULT))
			p->seccomp.default_action = act;
		if (!(m->given & PF_SC_ERRNO))
			p->seccomp.default_errno = err_ret;
	}
	for (size_t i = 0; i < n_prof; i++)
		cand_add(&c, &nc, &alloc, &prof[i], 0);
	for (size_t i = 0; i < m->n_rules; i++)
		cand_add(&c, &nc, &alloc, &m->rules[i], 1);
	for (size_t i = 0; m->allow && m->allow[i]; i++) {
		struct wm_seccomp_rule r = { .name = m->allow[i], .action = WM_SC_ALLOW };
		cand_add(&c, &nc, &alloc, &r, 2);
	}
	for (size_t i = 0; m->deny && m->deny[i]; i++) {
		struct wm_seccomp_rule r = { .name = m->deny[i], .action = WM_SC_ERRNO };
		cand_add(&c, &nc, &alloc, &r, 3);
	}
	resolve_rules(c, nc, &p->seccomp.rules, &p->seccomp.n_rules);
	pol_rules_canonical(p->seccomp.rules, &p->seccomp.n_rules);
	free(c);
	pol_rules_free(prof, n_prof);
	if (p->seccomp.default_action != WM_SC_ERRNO || p->seccomp.default_errno == EPERM)
		p->seccomp.default_errno = 0;
	return 0;
}

/* "K=V" entries where a later K replaces an earlier one, in one sort. */
static void env_set_normalize(char **v)
{
	size_t n = wm_strv_len(v), j = 0;
	char ***order;

	if (n < 2)
		return;
	order = wm_xcalloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &v[i];
	/* Sort by key, later entries last (their addresses order equal keys). */
	qsort(order, n, sizeof(*order), env_key_qcmp);
	for (size_t i = 0; i + 1 < n; i++) {
		if (env_key_eq(*order[i], *order[i + 1])) {
			free(*order[i]);
			*order[i] = NULL;
		}
	}
	free(order);
	for (size_t i = 0; i < n; i++)
		if (v[i])
			v[j++] = v[i];
	v[j] = NULL;
}

/* The final policy: plain fields, lists without duplicates, the filter. */
struct wm_policy *pol_spec_build(const struct pol_spec *m, struct wm_diags *diags)
{
	struct wm_policy *p = wm_xcalloc(1, sizeof(*p));

	plain_copy(p, &m->p);
	fill_empty(&p->fs.hide);
	fill_empty(&p->fs.devices);
	fill_empty(&p->capabilities);
	fill_empty(&p->env.keep);
	fill_empty(&p->env.set);
	env_set_normalize(p->env.set);
	if (!p->seccomp.enabled) {
		p->seccomp.default_action = WM_SC_ALLOW;
		p->seccomp.default_errno = 0;
		free(p->seccomp.profile);
		p->seccomp.profile = NULL;
		return p;
	}
	if (build_filter(m, p, diags) < 0) {
		wm_policy_free(p);
		return NULL;
	}
	return p;
}

struct wm_policy *wm_policy_with_rootfs(const struct wm_policy *p, const char *rootfs)
{
	struct wm_policy *d = wm_xcalloc(1, sizeof(*d));

	plain_copy(d, p);
	for (size_t i = 0; i < p->seccomp.n_rules; i++)
		pol_rules_push(&d->seccomp.rules, &d->seccomp.n_rules, &p->seccomp.rules[i]);
	free(d->fs.rootfs);
	d->fs.rootfs = xstrdup_or_null(rootfs);
	return d;
}
