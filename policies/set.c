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
#include "policies/load.h"

/*
 * The built-ins are loaded when first named: a set starts with one entry
 * per built-in, in the table's order, whose policy is NULL until find()
 * (or listing the set) needs it. Starting a sandbox under `standard` then
 * parses standard.yaml alone, not all six files.
 */
struct entry {
	const char *name;	 /* the policy's, or the built-in table's */
	struct pol_spec *merged; /* inheritance applied, seccomp lists still apart */
	struct wm_policy *policy;
	const struct wm_builtin_yaml *builtin; /* NULL for a policy from a file */
};

struct wm_policy_set {
	struct entry *v;
	size_t n, alloc;
};

/* Who wrote a file, which decides what it may define. */
enum origin {
	ORIGIN_BUILTIN,	 /* the six built-ins, compiled in */
	ORIGIN_USER,	 /* --policies, ~/.config/wm/policies.yaml, `wm policy check` */
	ORIGIN_WORKFLOW, /* a workflow's own `policies:` file: untrusted */
};

static int load_text(struct wm_policy_set *set, const char *path, const char *display,
		     const char *text, size_t len, enum origin origin, struct wm_diags *diags);

struct wm_policy_set *wm_policy_set_new(void)
{
	struct wm_policy_set *set = wm_xcalloc(1, sizeof(*set));

	for (const struct wm_builtin_yaml *b = wm_builtin_yaml; b->name; b++) {
		WM_GROW(set->v, set->alloc, set->n + 1);
		set->v[set->n++] = (struct entry){ .name = b->name, .builtin = b };
	}
	return set;
}

/* Parses a built-in on first use. The set is const to its readers: what
 * they see does not change, only when the work of building it is done. */
static void load_builtin(const struct wm_policy_set *cset, struct entry *e)
{
	struct wm_policy_set *set = (struct wm_policy_set *)cset;
	const struct wm_builtin_yaml *b = e->builtin;
	size_t i = (size_t)(e - set->v);
	struct wm_diags d = WM_DIAGS_INIT;

	if (load_text(set, b->path, NULL, b->text, strlen(b->text), ORIGIN_BUILTIN, &d) < 0 ||
	    !set->v[i].policy) {
		/* A build that embeds a broken built-in is a bug, not bad input. */
		wm_diags_print(&d, stderr);
		abort();
	}
	wm_diags_release(&d);
	e = &set->v[i];
	e->builtin = b;
	free(e->policy->source);
	e->policy->source = wm_xasprintf("builtin:%s", e->name);
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

/* The entry of that name, a built-in still unparsed included. */
static struct entry *find_entry(const struct wm_policy_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

/* The entry of that name, parsed. */
static struct entry *find(const struct wm_policy_set *set, const char *name)
{
	struct entry *e = find_entry(set, name);

	if (e && !e->policy)
		load_builtin(set, e);
	return e;
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
	if (i >= set->n)
		return NULL;
	if (!set->v[i].policy)
		load_builtin(set, &set->v[i]);
	return set->v[i].policy;
}

const char *wm_policy_set_suggest(const struct wm_policy_set *set, const char *name)
{
	const char **names = wm_xcalloc(set->n + 1, sizeof(*names));
	const char *s;

	for (size_t i = 0; i < set->n; i++)
		names[i] = set->v[i].name;
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

bool wm_policy_set_from_workflow(const struct wm_policy_set *set, const char *name)
{
	const struct entry *e = find(set, name);

	return e && e->merged->from_workflow;
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
			names[n++] = set->v[k].name;
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
	struct entry *e = find_entry(set, p->name);

	if (e) {
		pol_spec_free(e->merged);
		wm_policy_free(e->policy);
	} else {
		WM_GROW(set->v, set->alloc, set->n + 1);
		e = &set->v[set->n++];
	}
	e->name = p->name;
	e->merged = merged;
	e->policy = p;
	e->builtin = NULL;
}

static bool same_effect(const struct wm_policy *a, const struct wm_policy *b)
{
	char *x = wm_policy_hash(a), *y = wm_policy_hash(b);
	bool same = strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

/*
 * May this file define s->p.name? No file may redefine a built-in (one
 * equal in effect, such as `wm policy show` prints, is accepted and ignored:
 * *skip), nor use a built-in's name in other letter case; a workflow's own
 * file may not replace a policy defined before it, so that the names a user
 * chose keep the meaning the user gave them.
 */
static bool name_allowed(const struct wm_policy_set *set, const struct pol_spec *s,
			 const struct wm_policy *built, enum origin origin, bool *skip,
			 struct wm_diags *d)
{
	const char *name = s->p.name;
	const struct entry *e;

	*skip = false;
	if (origin == ORIGIN_BUILTIN)
		return true;
	e = find(set, name);
	for (const struct wm_builtin_yaml *b = wm_builtin_yaml; b->name; b++) {
		if (strcmp(b->name, name) == 0) {
			if (e && e->builtin && built && same_effect(built, e->policy)) {
				*skip = true;
				return true;
			}
			wm_diags_error(d, s->file, s->line, s->col,
				       "'%s' is a built-in policy and cannot be redefined (give "
				       "yours another name; it may inherit '%s')",
				       name, name);
			return false;
		}
		if (strcasecmp(b->name, name) == 0) {
			wm_diags_error(d, s->file, s->line, s->col,
				       "'%s' differs from the built-in policy '%s' only in letter "
				       "case: choose a name of its own",
				       name, b->name);
			return false;
		}
	}
	if (origin == ORIGIN_WORKFLOW && e) {
		wm_diags_error(d, s->file, s->line, s->col,
			       "'%s' is already defined in %s; a workflow's policy file may only "
			       "add policies of new names",
			       name, e->policy->source ? e->policy->source : "another file");
		return false;
	}
	return true;
}

static bool depth_ok(const struct pol_spec *s, const struct pol_spec *parent, struct wm_diags *d)
{
	if (!parent || parent->depth + 1 <= POL_MAX_INHERIT)
		return true;
	wm_diags_error(d, s->file, s->inh_line, s->inh_col,
		       "'%s' inherits through more than %u levels (the limit of inheritance)",
		       s->p.name, POL_MAX_INHERIT);
	return false;
}

/* Inheritance depth and where the policy comes from, from its parent's. */
static void note_parent(struct pol_spec *m, const struct pol_spec *parent, enum origin origin)
{
	m->depth = parent ? parent->depth + 1 : 0;
	m->from_workflow = origin == ORIGIN_WORKFLOW || (parent && parent->from_workflow);
}

static int load_text(struct wm_policy_set *set, const char *path, const char *display,
		     const char *text, size_t len, enum origin origin, struct wm_diags *diags)
{
	struct pending pd = { 0 };
	size_t errors_before = diags->n_errors;
	bool *skip;
	int rc = 0;

	pd.n = pol_load_yaml(path, display, text, len, &pd.specs, diags);
	skip = wm_xcalloc(pd.n + 1, sizeof(*skip));
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
		if (!depth_ok(s, parent, diags))
			continue; /* refused before anything is copied */
		if (parent) {
			pd.merged[i] = pol_spec_dup(parent);
			pol_spec_merge(pd.merged[i], s);
		} else {
			pd.merged[i] = pol_spec_dup(s);
			pd.merged[i]->p.seccomp.enabled = (s->given & PF_SC_ANY) != 0;
		}
		note_parent(pd.merged[i], parent, origin);
		pd.built[i] = pol_spec_build(pd.merged[i], diags);
		if (!pd.built[i] || !name_allowed(set, s, pd.built[i], origin, &skip[i], diags)) {
			pol_spec_free(pd.merged[i]);
			pd.merged[i] = NULL;
		}
	}
	if (diags->n_errors > errors_before)
		rc = -1;
	for (size_t i = 0; i < pd.n; i++) {
		if (rc == 0 && pd.merged[i] && !skip[i]) {
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
	free(skip);
	wm_diags_sort(diags);
	return rc;
}

int wm_policy_set_load_text(struct wm_policy_set *set, const char *path, const char *text,
			    size_t len, struct wm_diags *diags, struct wm_error **err)
{
	(void)err;
	return load_text(set, path, NULL, text, len, ORIGIN_USER, diags);
}

/* `dflt`: the user's default file, which need not exist, and which is
 * skipped with a warning when it cannot be read (git does the same with its
 * config): HOME may well not be the user's, as under sudo or setpriv with
 * HOME=/root. A file named on the command line or by the workflow must be
 * read. */
static int load_file(struct wm_policy_set *set, const char *path, const char *display, bool dflt,
		     enum origin origin, struct wm_diags *diags, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	/* A file past the limit is read no further; the loader reports it. */
	if (wm_buf_read_file_max(&b, path, POL_MAX_FILE_BYTES) < 0) {
		int e = errno;
		wm_buf_release(&b);
		if (dflt && (e == ENOENT || e == ENOTDIR))
			return 0;
		if (dflt && (e == EACCES || e == EPERM)) {
			wm_diags_warn(diags, NULL, 0, 0, "cannot read `%s`: %s; ignored", path,
				      strerror(e));
			return 0;
		}
		/* A file the user named that cannot be read is bad input. */
		return wm_error_make(err, WM_EXIT_USAGE, e, "read policy file `%s`",
				     display ? display : path);
	}
	rc = load_text(set, path, display, b.data, b.len, origin, diags);
	wm_buf_release(&b);
	return rc;
}

int wm_policy_set_load_file(struct wm_policy_set *set, const char *path, struct wm_diags *diags,
			    struct wm_error **err)
{
	return load_file(set, path, NULL, false, ORIGIN_USER, diags, err);
}

int wm_policy_set_load_file_as(struct wm_policy_set *set, const char *path, const char *display,
			       struct wm_diags *diags, struct wm_error **err)
{
	return load_file(set, path, display, false, ORIGIN_USER, diags, err);
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
		rc |= load_file(set, user, NULL, true, ORIGIN_USER, diags, err);
	if (rc == 0 && frontmatter_path)
		rc |= load_file(set, frontmatter_path, NULL, false, ORIGIN_WORKFLOW, diags, err);
	if (rc == 0 && flag_path)
		rc |= load_file(set, flag_path, NULL, false, ORIGIN_USER, diags, err);
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
