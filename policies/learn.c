/*
 * learn.c - the record of a learning run and the policy written from it
 * (learn.h). Pure: counts and text.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/internal.h"
#include "policies/learn.h"
#include "policies/policies.h"
#include "policies/score.h"

/* Every CLONE_NEW* flag (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID,
 * NEWNET), as the built-ins' clone rules name them. */
#define CLONE_NEW_ANY 0x7e020000ULL

const char *const wm_learn_unwatched[] = { "execve",
					   "exit",
					   "exit_group",
					   "read",
					   "write",
					   "close",
					   "brk",
					   "mmap",
					   "munmap",
					   "mprotect",
					   "futex",
					   "rt_sigreturn",
					   "rt_sigprocmask",
					   "restart_syscall",
					   NULL };

static void tally_release(struct wm_learn_tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].what);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void wm_learned_release(struct wm_learned *l)
{
	for (size_t i = 0; i < l->n_calls; i++) {
		free(l->calls[i].name);
		tally_release(&l->calls[i].tasks);
	}
	free(l->calls);
	tally_release(&l->families);
	tally_release(&l->addresses);
	tally_release(&l->paths);
	tally_release(&l->caps);
	tally_release(&l->runs);
	free(l->per_task_limits_off);
	memset(l, 0, sizeof(*l));
}

/* `what` as it may stand in a YAML comment: a task chose the bytes (a
 * path, a socket address), and a newline would end the comment and write
 * policy, a byte that is not ASCII could make the file invalid UTF-8. */
static char *printable(const char *what)
{
	struct wm_buf b = WM_BUF_INIT;

	for (const unsigned char *p = (const unsigned char *)what; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			wm_buf_addf(&b, "\\x%02x", *p);
		else
			wm_buf_addch(&b, (char)*p);
	}
	return wm_buf_detach(&b, NULL);
}

void wm_learn_tally_add(struct wm_learn_tally *t, const char *raw, uint64_t n)
{
	wm_autofree char *what = printable(raw);

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].what, what) == 0) {
			t->v[i].count += n;
			return;
		}
	if (t->n == WM_LEARN_MAX_TALLY) {
		t->more += n;
		return;
	}
	WM_GROW(t->v, t->alloc, t->n + 1);
	t->v[t->n].what = wm_steal(&what);
	t->v[t->n++].count = n;
}

void wm_learned_call(struct wm_learned *l, const char *task, const char *name, int group,
		     bool refused, bool base_denied)
{
	struct wm_learn_call *c = NULL;

	for (size_t i = 0; i < l->n_calls && !c; i++)
		if (strcmp(l->calls[i].name, name) == 0 && l->calls[i].refused == refused)
			c = &l->calls[i];
	if (!c) {
		WM_GROW(l->calls, l->alloc, l->n_calls + 1);
		c = &l->calls[l->n_calls++];
		memset(c, 0, sizeof(*c));
		c->name = wm_xstrdup(name);
		c->group = group;
	}
	c->count++;
	c->refused = refused;
	c->base_denied |= base_denied;
	wm_learn_tally_add(&c->tasks, task, 1);
}

enum wm_seccomp_action wm_policy_call_action(const struct wm_policy *p, const char *name,
					     const uint64_t args[6], int *errno_ret)
{
	bool allowed = false;

	*errno_ret = 0;
	if (!p->seccomp.enabled)
		return WM_SC_ALLOW;
	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
		bool all = true;

		if (strcmp(r->name, name) != 0)
			continue;
		for (size_t k = 0; k < r->n_args && all; k++)
			all = pol_arg_holds(&r->args[k],
					    args[r->args[k].index < 6 ? r->args[k].index : 0]);
		if (!all)
			continue;
		if (!wm_seccomp_action_passes(r->action)) {
			*errno_ret = r->errno_ret;
			return r->action;
		}
		allowed = true;
	}
	if (allowed)
		return WM_SC_ALLOW;
	*errno_ret = p->seccomp.default_errno;
	return p->seccomp.default_action;
}

bool wm_learn_denied_by_name(const struct wm_policy *p, const char *name)
{
	for (size_t i = 0; p->seccomp.enabled && i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		if (!r->n_args && !wm_seccomp_action_passes(r->action) &&
		    strcmp(r->name, name) == 0)
			return true;
	}
	return false;
}

int wm_learn_group_of(const char *name, const uint64_t args[6])
{
	if (strcmp(name, "clone") == 0)
		return (args[0] & CLONE_NEW_ANY) ? WM_GRP_NAMESPACES : -1;
	return wm_risk_group_of(name);
}

uint64_t wm_learn_headroom(uint64_t peak, unsigned factor, uint64_t floor, uint64_t base)
{
	uint64_t v;

	if (!peak)
		return 0;
	v = peak > UINT64_MAX / factor ? UINT64_MAX : peak * factor;
	if (v < floor)
		v = floor;
	if (base && v > base)
		v = base;
	return v;
}
