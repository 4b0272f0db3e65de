/*
 * startup.c - the calls no program can start or end without, and which of
 * them a policy denies outright.
 *
 * A policy that denies execve, exit_group or the memory calls a dynamic
 * loader makes lets nothing run under it: every task fails at its start.
 * That is worth a warning when the policy is checked, not a surprise in a
 * run. "Outright" is read from the rules alone, without the kernel: a
 * default that refuses and no allow rule for the call, or an
 * unconditional rule that refuses it.
 */
#include <string.h>

#include "policies/policies.h"

static const char *const startup_calls[] = { "execve",	     "exit", "exit_group", "brk",
					     "mmap",	     "read", "write",	   "close",
					     "rt_sigreturn", NULL };

static bool refuses(enum wm_seccomp_action a)
{
	return !wm_seccomp_action_passes(a);
}

static bool denied_outright(const struct wm_policy *p, const char *name)
{
	bool allowed = false;

	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		if (strcmp(r->name, name) != 0)
			continue;
		if (refuses(r->action) && r->n_args == 0)
			return true;
		allowed |= !refuses(r->action);
	}
	return refuses(p->seccomp.default_action) && !allowed;
}

size_t wm_policy_startup_denials(const struct wm_policy *p, struct wm_buf *out)
{
	size_t n = 0;

	if (!p->seccomp.enabled)
		return 0;
	for (size_t i = 0; startup_calls[i]; i++)
		if (denied_outright(p, startup_calls[i]))
			wm_buf_addf(out, "%s%s", n++ ? ", " : "", startup_calls[i]);
	return n;
}
