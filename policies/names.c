/*
 * names.c - syscall, capability, errno, action and operator names, and the
 * small rule helpers the other pieces share. Syscall names come from
 * libseccomp's tables and capability names from libcap: never a list of
 * our own.
 */
#include "policies/internal.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/policies.h"

/* The resolver knows every name of every architecture (names the native
 * one lacks get negative pseudo numbers); __NR_SCMP_ERROR means no arch has it. */
bool pol_syscall_known(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

bool pol_syscall_known_arch(const char *name, uint32_t arch)
{
	return seccomp_syscall_resolve_name_arch(arch, name) != __NR_SCMP_ERROR;
}

const char *const *pol_native_syscalls(size_t *n)
{
	static char *names[1024];
	static size_t n_names;

	if (!n_names) {
		for (int nr = 0; nr < 1024 && n_names < 1024; nr++) {
			char *nm = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
			if (nm)
				names[n_names++] = nm; /* kept for the process's life */
		}
	}
	*n = n_names;
	return (const char *const *)names;
}

const char *pol_syscall_suggest(const char *name)
{
	static char best[64];
	size_t n;
	const char *const *names = pol_native_syscalls(&n);
	const char *s = wm_suggest(name, names, n);

	if (!s)
		return NULL;
	snprintf(best, sizeof(best), "%s", s);
	return best;
}

char *pol_cap_canonical(const char *name)
{
	cap_value_t v;
	char *s, *out;

	if (!name || !*name || cap_from_name(name, &v) != 0)
		return NULL;
	/* cap_from_name also takes numbers; only names are accepted here. */
	if (isdigit((unsigned char)name[0]))
		return NULL;
	s = cap_to_name(v);
	if (!s)
		return NULL;
	out = wm_xstrdup(s);
	cap_free(s);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

char *pol_cap_suggest(const char *name)
{
	char *names[CAP_LAST_CAP + 1];
	const char *hint;
	char *out = NULL;
	size_t n = 0;

	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		char *s = cap_to_name(v);

		if (!s)
			continue;
		names[n] = wm_xstrdup(s);
		cap_free(s);
		for (char *p = names[n]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		n++;
	}
	hint = wm_suggest(name, (const char *const *)names, n);
	if (!hint && strncasecmp(name, "cap_", 4) != 0) { /* `net_admin` */
		wm_autofree char *with = wm_xasprintf("cap_%s", name);

		hint = wm_suggest(with, (const char *const *)names, n);
	}
	if (hint)
		out = wm_xstrdup(hint);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return out;
}

int pol_errno_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (*end || errno || v <= 0 || v > 4095)
			return -1;
		return (int)v;
	}
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcmp(n, s) == 0)
			return e;
	}
	return -1;
}

char *pol_errno_name(int e)
{
	const char *n = e > 0 ? strerrorname_np(e) : NULL;

	if (e == 0)
		return wm_xstrdup("EPERM");
	return n ? wm_xstrdup(n) : wm_xasprintf("%d", e);
}

/* ---- the enums' names, from the lists in policy.h ---- */

const char *const pol_net_names[WM_NET_MODE_COUNT] = { WM_NET_MODES(WM_XLIST_NAME) };
const char *const pol_view_names[WM_FS_VIEW_COUNT] = { WM_FS_VIEWS(WM_XLIST_NAME) };
const char *const pol_ws_names[WM_WS_MODE_COUNT] = { WM_WS_MODES(WM_XLIST_NAME) };
const char *const pol_action_names[WM_SECCOMP_ACTION_COUNT] = { WM_SECCOMP_ACTIONS(WM_XLIST_NAME) };
const char *const pol_op_names[WM_SECCOMP_OP_COUNT] = { WM_SECCOMP_OPS(WM_XLIST_NAME) };

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
	return v < n ? names[v] : "?";
}

const char *wm_net_mode_name(enum wm_net_mode m)
{
	return name_of(pol_net_names, WM_NET_MODE_COUNT, m);
}

const char *wm_fs_view_name(enum wm_fs_view v)
{
	return name_of(pol_view_names, WM_FS_VIEW_COUNT, v);
}

const char *wm_ws_mode_name(enum wm_ws_mode m)
{
	return name_of(pol_ws_names, WM_WS_MODE_COUNT, m);
}

const char *wm_seccomp_action_name(enum wm_seccomp_action a)
{
	return name_of(pol_action_names, WM_SECCOMP_ACTION_COUNT, a);
}

const char *wm_seccomp_op_name(enum wm_seccomp_op op)
{
	return name_of(pol_op_names, WM_SECCOMP_OP_COUNT, op);
}

bool wm_seccomp_action_passes(enum wm_seccomp_action a)
{
#define PASSES(e, name, oci, rank, passes) [e] = (passes),
	static const bool passes[WM_SECCOMP_ACTION_COUNT] = { WM_SECCOMP_ACTIONS(PASSES) };
#undef PASSES

	return (unsigned)a < WM_SECCOMP_ACTION_COUNT && passes[a];
}

void pol_rule_copy(struct wm_seccomp_rule *dst, const struct wm_seccomp_rule *src)
{
	*dst = *src;
	dst->name = wm_xstrdup(src->name);
}

int pol_rule_cmp(const struct wm_seccomp_rule *a, const struct wm_seccomp_rule *b)
{
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	if (a->n_args != b->n_args)
		return a->n_args < b->n_args ? -1 : 1;
	for (size_t i = 0; i < a->n_args; i++) {
		const struct wm_seccomp_arg *x = &a->args[i], *y = &b->args[i];
		if (x->index != y->index)
			return x->index < y->index ? -1 : 1;
		if (x->op != y->op)
			return x->op < y->op ? -1 : 1;
		if (x->value != y->value)
			return x->value < y->value ? -1 : 1;
		if (x->value_two != y->value_two)
			return x->value_two < y->value_two ? -1 : 1;
	}
	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	if (a->errno_ret != b->errno_ret)
		return a->errno_ret < b->errno_ret ? -1 : 1;
	return 0;
}

/* Arrays of rules are only ever grown here, so their capacity is the power
 * of two (at least 8) above the largest length they had: grow at powers of two. */
void pol_rules_push(struct wm_seccomp_rule **v, size_t *n, const struct wm_seccomp_rule *r)
{
	if ((*n & (*n - 1)) == 0)
		*v = wm_xrealloc(*v, (*n < 8 ? 8 : *n * 2) * sizeof(**v));
	pol_rule_copy(&(*v)[*n], r);
	(*n)++;
}

void pol_rules_free(struct wm_seccomp_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static int rule_qcmp(const void *a, const void *b)
{
	return pol_rule_cmp(a, b);
}

static int arg_qcmp(const void *a, const void *b)
{
	const struct wm_seccomp_arg *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->value_two != y->value_two)
		return x->value_two < y->value_two ? -1 : 1;
	return 0;
}

/* Sorted by name then conditions, EPERM written as 0, exact duplicates
 * dropped: the one form show, diff and the hash rely on. */
void pol_rules_canonical(struct wm_seccomp_rule *v, size_t *n)
{
	size_t j = 0;

	for (size_t i = 0; i < *n; i++) {
		if (v[i].action != WM_SC_ERRNO || v[i].errno_ret == EPERM)
			v[i].errno_ret = 0;
		if (v[i].n_args > 1)
			qsort(v[i].args, v[i].n_args, sizeof(v[i].args[0]), arg_qcmp);
	}
	if (*n > 1) /* an empty list may be NULL, which qsort must not get */
		qsort(v, *n, sizeof(*v), rule_qcmp);
	for (size_t i = 0; i < *n; i++) {
		if (j > 0 && pol_rule_cmp(&v[j - 1], &v[i]) == 0) {
			free(v[i].name);
			continue;
		}
		v[j++] = v[i];
	}
	*n = j;
}

enum wm_seccomp_action wm_policy_syscall_action(const struct wm_policy *p, const char *name,
						int *errno_ret, int *conditional)
{
	enum wm_seccomp_action a = p->seccomp.default_action;
	int e = p->seccomp.default_errno;
	int cond = 0;

	if (!p->seccomp.enabled) {
		a = WM_SC_ALLOW;
		e = 0;
	} else {
		for (size_t i = 0; i < p->seccomp.n_rules; i++) {
			const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
			if (strcmp(r->name, name) != 0)
				continue;
			if (r->n_args) {
				cond = 1;
				continue;
			}
			a = r->action;
			e = r->errno_ret;
		}
	}
	if (errno_ret)
		*errno_ret = e;
	if (conditional)
		*conditional = cond;
	return a;
}
