/*
 * strict_seccomp.c - the system call part of "at least as strict" (strict.c).
 *
 * A filter P is at least as strict as a filter F when F is on whenever P
 * is off never holds (no filter is the weakest), P's default action is no
 * more permissive (allow > log > errno = trap > kill), and for every system
 * call of this machine's architecture, every argument value for which the
 * call can succeed under P (action allow or log) can succeed under F too.
 *
 * Each policy's set of succeeding arguments is computed as the sandbox
 * builds the filter (sandbox/seccomp.c): an unconditional rule other than
 * allow takes the call whole; an unconditional allow beside conditional
 * denials allows everything but them; otherwise the conditional rules
 * decide and the default takes the rest. Sets are kept as "everything
 * except these regions" or "the union of these regions", a region being
 * one rule's conditions (all must hold). P's set is over-approximated, F's
 * under-approximated, and inclusion is checked with sufficient tests on the
 * conditions, so an answer of "at least as strict" is always sound.
 */
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/internal.h"
#include "policies/policies.h"

enum set_kind {
	SET_NONE,
	SET_ALL,
	SET_ALL_EXCEPT, /* everything but the regions */
	SET_UNION,	/* the union of the regions */
};

struct argset {
	enum set_kind kind;
	const struct wm_seccomp_rule **reg; /* each rule's conditions is one region */
	size_t n;
};

/* Permissiveness of a default action (policy.h); a value outside the list
 * counts as allow, the most permissive. */
static int default_rank(enum wm_seccomp_action a)
{
#define RANK(e, name, oci, rank, passes) [e] = (rank),
	static const int ranks[WM_SECCOMP_ACTION_COUNT] = { WM_SECCOMP_ACTIONS(RANK) };
#undef RANK

	return (unsigned)a < WM_SECCOMP_ACTION_COUNT ? ranks[a] : ranks[WM_SC_ALLOW];
}

/* ---- conditions ---- */

/* (x & mask) == value as the masked form of eq and masked_eq; false for the
 * ordering operators. */
static bool masked_form(const struct wm_seccomp_arg *c, uint64_t *mask, uint64_t *value)
{
	if (c->op == WM_SC_OP_EQ) {
		*mask = ~0ULL;
		*value = c->value;
		return true;
	}
	if (c->op == WM_SC_OP_MASKED_EQ) {
		*mask = c->value;
		*value = c->value_two;
		return true;
	}
	return false;
}

bool pol_arg_holds(const struct wm_seccomp_arg *c, uint64_t x)
{
	switch (c->op) {
	case WM_SC_OP_EQ:
		return x == c->value;
	case WM_SC_OP_NE:
		return x != c->value;
	case WM_SC_OP_LT:
		return x < c->value;
	case WM_SC_OP_LE:
		return x <= c->value;
	case WM_SC_OP_GT:
		return x > c->value;
	case WM_SC_OP_GE:
		return x >= c->value;
	case WM_SC_OP_MASKED_EQ:
		return (x & c->value) == c->value_two;
	}
	return false;
}

/* Does condition a imply condition b (same argument)? */
static bool implies(const struct wm_seccomp_arg *a, const struct wm_seccomp_arg *b)
{
	uint64_t ma, va, mb, vb;

	if (a->index != b->index)
		return false;
	if (a->op == b->op && a->value == b->value && a->value_two == b->value_two)
		return true;
	if (a->op == WM_SC_OP_EQ)
		return pol_arg_holds(b, a->value);
	if (masked_form(a, &ma, &va) && masked_form(b, &mb, &vb))
		return (va & ~ma) != 0 /* a holds for nothing */ ||
		       ((mb & ~ma) == 0 && (va & mb) == vb);
	return false;
}

/* Can no argument satisfy both a and b? */
static bool contradicts(const struct wm_seccomp_arg *a, const struct wm_seccomp_arg *b)
{
	uint64_t ma, va, mb, vb;

	if (a->index != b->index)
		return false;
	if (a->op == WM_SC_OP_EQ)
		return !pol_arg_holds(b, a->value);
	if (b->op == WM_SC_OP_EQ)
		return !pol_arg_holds(a, b->value);
	if (masked_form(a, &ma, &va) && masked_form(b, &mb, &vb))
		return (va & ~ma) != 0 || (vb & ~mb) != 0 || ((va ^ vb) & ma & mb) != 0;
	return false;
}

/* region(x) is inside region(y): every condition of y follows from x's. */
static bool region_in(const struct wm_seccomp_rule *x, const struct wm_seccomp_rule *y)
{
	for (size_t j = 0; j < y->n_args; j++) {
		bool found = false;

		for (size_t i = 0; i < x->n_args && !found; i++)
			found = implies(&x->args[i], &y->args[j]);
		if (!found)
			return false;
	}
	return true;
}

static bool disjoint(const struct wm_seccomp_rule *x, const struct wm_seccomp_rule *y)
{
	for (size_t i = 0; i < x->n_args; i++)
		for (size_t j = 0; j < y->n_args; j++)
			if (contradicts(&x->args[i], &y->args[j]))
				return true;
	return false;
}

/* ---- the set of succeeding arguments of one call ---- */

struct call {
	const struct wm_seccomp_rule *v; /* the call's rules (sorted by name) */
	size_t n;
};

static struct call rules_of(const struct wm_policy *p, const char *name)
{
	const struct wm_seccomp_rule *r = p->seccomp.rules;
	size_t lo = 0, hi = p->seccomp.n_rules;
	struct call c = { NULL, 0 };

	while (lo < hi) { /* first rule with this name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(r[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	c.v = r + lo;
	while (lo + c.n < p->seccomp.n_rules && strcmp(r[lo + c.n].name, name) == 0)
		c.n++;
	return c;
}

static void push(struct argset *s, const struct wm_seccomp_rule *r)
{
	s->reg = wm_xrealloc(s->reg, (s->n + 1) * sizeof(*s->reg));
	s->reg[s->n++] = r;
}

/* `over`: an over-approximation (for the policy checked), else an
 * under-approximation (for the floor). */
static void argset_of(const struct wm_policy *p, const char *name, bool over, struct argset *s)
{
	struct call c = rules_of(p, name);
	bool allow_all = false, any_ok = false, any_bad = false;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c.n; i++) {
		if (!c.v[i].n_args && c.v[i].action != WM_SC_ALLOW) {
			s->kind = wm_seccomp_action_passes(c.v[i].action) ? SET_ALL : SET_NONE;
			return; /* an unconditional non-allow rule takes the call whole */
		}
		allow_all = allow_all || !c.v[i].n_args;
		if (c.v[i].n_args) {
			any_ok = any_ok || wm_seccomp_action_passes(c.v[i].action);
			any_bad = any_bad || !wm_seccomp_action_passes(c.v[i].action);
		}
	}
	if (allow_all || wm_seccomp_action_passes(p->seccomp.default_action)) {
		/* Where a succeeding and a failing condition overlap the outcome is
		 * not known: the over-approximation counts them as succeeding. */
		s->kind = over && any_ok && !allow_all ? SET_ALL : SET_ALL_EXCEPT;
		for (size_t i = 0; s->kind == SET_ALL_EXCEPT && i < c.n; i++)
			if (c.v[i].n_args && !wm_seccomp_action_passes(c.v[i].action))
				push(s, &c.v[i]);
		return;
	}
	s->kind = SET_UNION;
	for (size_t i = 0; i < c.n; i++) {
		bool clear = true;

		if (!c.v[i].n_args || !wm_seccomp_action_passes(c.v[i].action))
			continue;
		for (size_t j = 0; !over && any_bad && j < c.n && clear; j++)
			if (c.v[j].n_args && !wm_seccomp_action_passes(c.v[j].action))
				clear = disjoint(&c.v[i], &c.v[j]);
		if (clear)
			push(s, &c.v[i]);
	}
	if (!s->n)
		s->kind = SET_NONE;
}

/* Is every region of `x` inside some region of `y` (inside: y_in), or outside
 * every region of `y` (!y_in)? */
static bool regions_fit(const struct argset *x, const struct argset *y, bool y_in)
{
	for (size_t i = 0; i < x->n; i++) {
		bool ok = !y_in;

		for (size_t j = 0; j < y->n; j++) {
			if (y_in && region_in(x->reg[i], y->reg[j]))
				ok = true;
			if (!y_in && !disjoint(x->reg[i], y->reg[j]))
				ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Are the floor's excluded regions all inside the policy's excluded ones? */
static bool excluded_fit(const struct argset *p, const struct argset *f)
{
	for (size_t j = 0; j < f->n; j++) {
		bool ok = false;

		for (size_t i = 0; i < p->n && !ok; i++)
			ok = region_in(f->reg[j], p->reg[i]);
		if (!ok)
			return false;
	}
	return true;
}

static bool subset(const struct argset *p, const struct argset *f)
{
	if (p->kind == SET_NONE || f->kind == SET_ALL)
		return true;
	if (f->kind == SET_NONE || p->kind == SET_ALL)
		return false;
	if (p->kind == SET_ALL_EXCEPT)
		return f->kind == SET_ALL_EXCEPT && excluded_fit(p, f);
	if (f->kind == SET_ALL_EXCEPT)
		return regions_fit(p, f, false);
	return regions_fit(p, f, true);
}

static bool call_ok(const struct wm_policy *p, const struct wm_policy *f, const char *name,
		    struct wm_buf *b)
{
	struct argset sp, sf;
	bool ok;

	argset_of(p, name, true, &sp);
	argset_of(f, name, false, &sf);
	ok = subset(&sp, &sf);
	if (!ok && b) {
		if (sf.kind == SET_NONE)
			wm_buf_addf(b, "system call %s is allowed, the floor denies it", name);
		else
			wm_buf_addf(b,
				    "system call %s is allowed for arguments the floor does "
				    "not allow",
				    name);
	}
	free(sp.reg);
	free(sf.reg);
	return ok;
}

/* Every name of this architecture, and the names the rules use. */
static bool names_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	const struct wm_policy *both[2] = { p, f };
	size_t n;
	const char *const *native = pol_native_syscalls(&n);

	for (size_t i = 0; i < n; i++)
		if (!call_ok(p, f, native[i], b))
			return false;
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < both[k]->seccomp.n_rules; i++) {
			const char *name = both[k]->seccomp.rules[i].name;

			if (seccomp_syscall_resolve_name(name) < 0)
				continue; /* not on this architecture: never called here */
			if (!call_ok(p, f, name, b))
				return false;
		}
	}
	return true;
}

int pol_seccomp_at_least_as_strict(const struct wm_policy *p, const struct wm_policy *f,
				   struct wm_buf *b)
{
	if (!f->seccomp.enabled)
		return 1;
	if (!p->seccomp.enabled) {
		if (b)
			wm_buf_addstr(b, "no seccomp filter is weaker than the floor's filter");
		return 0;
	}
	if (default_rank(p->seccomp.default_action) > default_rank(f->seccomp.default_action)) {
		if (b)
			wm_buf_addf(b, "seccomp default action %s is weaker than %s",
				    wm_seccomp_action_name(p->seccomp.default_action),
				    wm_seccomp_action_name(f->seccomp.default_action));
		return 0;
	}
	return names_ok(p, f, b) ? 1 : 0;
}
