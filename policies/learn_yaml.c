/*
 * learn_yaml.c - the policy file `wm policy learn` writes (learn.h).
 *
 * The policy inherits the base and allows exactly the calls seen: each
 * one in `seccomp.allow` with a comment naming the tasks that made it and
 * how often; the calls the base allows that nobody made go to
 * `seccomp.deny` (a child cannot shorten its parent's allow list, and deny
 * wins over allow); a default that lets calls pass becomes errno. Calls
 * whose base rules look at arguments (clone, ioctl, personality) keep
 * those rules where the base's own allow rules cover what was used.
 * Limits come from the peaks with headroom, never above the base's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "policies/internal.h"
#include "policies/learn.h"
#include "policies/policies.h"
#include "policies/score.h"

#define MIB (1024ULL * 1024)
#define IND "      "

struct base_rules {
	size_t n, n_cond, n_allow, n_deny;
};

static struct base_rules rules_of(const struct wm_policy *p, const char *name)
{
	struct base_rules r = { 0 };

	for (size_t i = 0; p->seccomp.enabled && i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *x = &p->seccomp.rules[i];
		bool pass = wm_seccomp_action_passes(x->action);

		if (strcmp(x->name, name) != 0)
			continue;
		r.n++;
		r.n_cond += x->n_args > 0;
		r.n_allow += pass;
		r.n_deny += !pass;
	}
	return r;
}

static bool dflt_passes(const struct wm_policy *p)
{
	return !p->seccomp.enabled || wm_seccomp_action_passes(p->seccomp.default_action);
}

static bool unwatched(const char *name)
{
	for (size_t i = 0; wm_learn_unwatched[i]; i++)
		if (strcmp(wm_learn_unwatched[i], name) == 0)
			return true;
	return false;
}

static const struct wm_learn_call *used(const struct wm_learned *l, const char *name)
{
	for (size_t i = 0; i < l->n_calls; i++)
		if (!l->calls[i].refused && strcmp(l->calls[i].name, name) == 0)
			return &l->calls[i];
	return NULL;
}

static void add_tally(struct wm_buf *b, const struct wm_learn_tally *t, const char *sep)
{
	for (size_t i = 0; i < t->n; i++)
		wm_buf_addf(b, "%s%s %llu", i ? sep : "", t->v[i].what,
			    (unsigned long long)t->v[i].count);
	if (t->more)
		wm_buf_addf(b, "%sand %llu more", t->n ? sep : "", (unsigned long long)t->more);
}

static int call_cmp(const void *a, const void *b)
{
	const struct wm_learn_call *x = *(const struct wm_learn_call *const *)a;
	const struct wm_learn_call *y = *(const struct wm_learn_call *const *)b;

	return strcmp(x->name, y->name);
}

static const struct wm_learn_call **sorted_calls(const struct wm_learned *l)
{
	const struct wm_learn_call **v = wm_xcalloc(l->n_calls + 1, sizeof(*v));

	for (size_t i = 0; i < l->n_calls; i++)
		v[i] = &l->calls[i];
	qsort(v, l->n_calls, sizeof(*v), call_cmp);
	return v;
}

/* One call seen: into allow (with its tasks), a rule, or a comment. */
static void emit_call(struct wm_buf *allow, struct wm_buf *rules, const struct wm_policy *base,
		      const struct wm_learn_call *c)
{
	struct base_rules r = rules_of(base, c->name);
	struct wm_buf why = WM_BUF_INIT;

	add_tally(&why, &c->tasks, ", ");
	/* Calls the base denies by name were refused while learning. */
	if (!r.n_cond || c->base_denied) {
		wm_buf_addf(allow, IND "  - %-22s # %s%s\n", c->name, why.data,
			    r.n_cond ? " (past the base's argument rules)" : "");
	} else if (r.n_allow || !dflt_passes(base)) {
		wm_buf_addf(allow, IND "  # %s (%s): %s's argument rules kept\n", c->name, why.data,
			    base->name);
	} else if (strcmp(c->name, "clone") == 0) {
		wm_buf_addf(rules,
			    IND "  # clone without namespace flags (%s)\n" IND
				"  - {names: [clone], action: allow, args: [{index: 0, op: "
				"masked_eq, value: 0x7e020000, value_two: 0}]}\n",
			    why.data);
	} else if (r.n_deny == 1) {
		wm_buf_addf(rules,
			    IND "  # %s but what %s denies (%s)\n" IND
				"  - {names: [%s], action: allow}\n",
			    c->name, base->name, why.data, c->name);
		/* A child's rules replace its parent's for the name: say both. */
		for (size_t i = 0; i < base->seccomp.n_rules; i++)
			if (strcmp(base->seccomp.rules[i].name, c->name) == 0) {
				wm_buf_addf(rules, IND "  - {names: [%s]", c->name);
				pol_emit_rule_tail(rules, &base->seccomp.rules[i]);
			}
	} else {
		wm_buf_addf(allow, IND "  - %-22s # %s (the base's argument rules dropped)\n",
			    c->name, why.data);
	}
	wm_buf_release(&why);
}

/* The calls the base lets pass that nobody made. */
static void emit_deny(struct wm_buf *b, const struct wm_policy *base, const struct wm_learned *l)
{
	size_t n = 0, col = 0;
	const char *const *all = pol_native_syscalls(&n);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct base_rules r = rules_of(base, all[i]);

		if (used(l, all[i]) || unwatched(all[i]) || !r.n_allow)
			continue;
		if (!any)
			wm_buf_addf(b,
				    IND "deny:\n" IND "  # %s allows these; no task made them\n" IND
					"  [",
				    base->name);
		else if (col > 70) {
			wm_buf_addf(b, ",\n" IND "  ");
			col = 0;
		} else {
			wm_buf_addstr(b, ", ");
			col += 2;
		}
		wm_buf_addstr(b, all[i]);
		col += strlen(all[i]);
		any = true;
	}
	if (any)
		wm_buf_addstr(b, "]\n");
}

static void emit_seccomp(struct wm_buf *b, const struct wm_policy *base, const struct wm_learned *l)
{
	const struct wm_learn_call **v = sorted_calls(l);
	struct wm_buf allow = WM_BUF_INIT, rules = WM_BUF_INIT;

	wm_buf_addstr(b, "    seccomp:\n");
	if (dflt_passes(base))
		wm_buf_addf(b, IND "default_action: errno   # %s lets unlisted calls pass\n",
			    base->name);
	wm_buf_addstr(b,
		      IND "allow:\n" IND "  # every program makes these; let through unwatched\n");
	for (size_t i = 0; wm_learn_unwatched[i]; i++)
		wm_buf_addf(b, IND "  - %s\n", wm_learn_unwatched[i]);
	wm_buf_addstr(b, IND "  # seen while learning: task count, ...\n");
	for (size_t i = 0; i < l->n_calls; i++)
		if (!v[i]->refused && !unwatched(v[i]->name))
			emit_call(&allow, &rules, base, v[i]);
	wm_buf_add(b, allow.data, allow.len);
	if (rules.len)
		wm_buf_addf(b, IND "rules:\n%s", rules.data);
	emit_deny(b, base, l);
	wm_buf_release(&allow);
	wm_buf_release(&rules);
	free(v);
}

static void emit_limits(struct wm_buf *b, const struct wm_policy *base, const struct wm_learned *l)
{
	bool off = l->per_task_limits_off != NULL;
	uint64_t mem = off ? 0
			   : wm_learn_headroom(l->peak_memory, WM_LEARN_MEMORY_FACTOR, 64 * MIB,
					       base->limits.memory);
	uint64_t pids =
		off ? 0
		    : wm_learn_headroom(l->peak_pids, WM_LEARN_PIDS_FACTOR, 16, base->limits.pids);
	uint64_t ms =
		wm_learn_headroom(l->wall_ms, WM_LEARN_TIME_FACTOR, 60000, base->limits.timeout_ms);

	if (!mem && !pids && !ms)
		return;
	wm_buf_addstr(b, "    limits:\n");
	if (off)
		wm_buf_addf(b, IND "# memory and pids: %s's (here %s)\n", base->name,
			    l->per_task_limits_off);
	if (mem)
		wm_buf_addf(b,
			    IND "memory: %lluM   # peak %lluK x %d, at least 64M, at most %s's\n",
			    (unsigned long long)((mem + MIB - 1) / MIB),
			    (unsigned long long)(l->peak_memory / 1024), WM_LEARN_MEMORY_FACTOR,
			    base->name);
	if (pids)
		wm_buf_addf(b,
			    IND
			    "pids: %llu   # at most %llu at once x %d, at least 16, at most %s's\n",
			    (unsigned long long)pids, (unsigned long long)l->peak_pids,
			    WM_LEARN_PIDS_FACTOR, base->name);
	if (ms)
		wm_buf_addf(b,
			    IND "timeout: %llus   # longest task %llums x %d, at least 1m, at "
				"most %s's\n",
			    (unsigned long long)((ms + 999) / 1000), (unsigned long long)l->wall_ms,
			    WM_LEARN_TIME_FACTOR, base->name);
}

static void emit_network(struct wm_buf *b, const struct wm_policy *base, const struct wm_learned *l)
{
	if (base->network == WM_NET_NONE)
		return;
	if (!l->inet)
		wm_buf_addstr(b,
			      "    network: none   # no task made an AF_INET or AF_INET6 socket\n");
	else if (base->network == WM_NET_HOST && !l->beyond_loopback)
		wm_buf_addstr(b, "    network: loopback   # only loopback addresses were tried\n");
}

/* The section a refused call is listed in: -1 for the calls the base
 * denies by name, else its risk group. */
static int section_of(const struct wm_policy *base, const struct wm_learn_call *c)
{
	return wm_learn_denied_by_name(base, c->name) ? -1 : c->group;
}

/* Calls answered with the base's errno, section by section. */
static void emit_refused(struct wm_buf *b, const struct wm_policy *base, const struct wm_learned *l)
{
	const struct wm_learn_call **v = sorted_calls(l);
	bool any = false;

	for (int g = -1; g < (int)WM_RISK_GROUP_COUNT; g++) {
		bool head = false;

		for (size_t i = 0; i < l->n_calls; i++) {
			struct wm_buf tasks = WM_BUF_INIT;

			if (!v[i]->refused || section_of(base, v[i]) != g)
				continue;
			if (!any)
				wm_buf_addstr(b,
					      "#\n# Needed but not granted (the calls failed while "
					      "learning; `--grant GROUP` allows a group):\n");
			if (!head && g < 0)
				wm_buf_addf(b,
					    "#   denied by name by %s, which no policy inheriting "
					    "it can undo (learn over another base):\n",
					    base->name);
			else if (!head)
				wm_buf_addf(b, "#   %s: %s\n", wm_risk_group_name(g),
					    wm_risk_group_reason(g));
			add_tally(&tasks, &v[i]->tasks, ", ");
			wm_buf_addf(b, "#     %s (%s)\n", v[i]->name, tasks.data);
			wm_buf_release(&tasks);
			any = head = true;
		}
	}
	free(v);
}

static void emit_seen(struct wm_buf *b, const char *what, const struct wm_learn_tally *t)
{
	if (!t->n && !t->more)
		return;
	wm_buf_addf(b, "# %s: ", what);
	add_tally(b, t, ", ");
	wm_buf_addch(b, '\n');
}

static void emit_observed(struct wm_buf *b, const struct wm_learned *l)
{
	wm_buf_addstr(b,
		      "#\n# Observed (best effort, read from the tasks' memory; not trusted):\n");
	emit_seen(b, "socket families", &l->families);
	emit_seen(b, "addresses tried", &l->addresses);
	emit_seen(b, "written outside the workspace and $WM_OUT", &l->paths);
	emit_seen(b, "capabilities the calls may need (none granted)", &l->caps);
	if (l->unnamed)
		wm_buf_addf(b, "# calls libseccomp cannot name: %llu\n",
			    (unsigned long long)l->unnamed);
	if (l->cpu_ms)
		wm_buf_addf(b, "# CPU time of the busiest task: %llums\n",
			    (unsigned long long)l->cpu_ms);
}

char *wm_learned_yaml(const struct wm_policy *base, const char *name, const struct wm_learned *l,
		      uint32_t granted, const char *origin)
{
	struct wm_buf b = WM_BUF_INIT;

	wm_buf_addf(&b, "# Learned by `wm policy learn --base %s` from %s.\n", base->name, origin);
	if (l->runs.n) {
		wm_buf_addstr(&b, "# Tasks (exit status): ");
		add_tally(&b, &l->runs, ", ");
		wm_buf_addch(&b, '\n');
	}
	for (size_t g = 0, n = 0; g < WM_RISK_GROUP_COUNT; g++)
		if (granted & (1u << g))
			wm_buf_addf(&b, "%s%s%s",
				    n++ ? ", " : "# Granted with --grant: ", wm_risk_group_name(g),
				    g + 1 < WM_RISK_GROUP_COUNT && (granted >> (g + 1)) ? ""
											: "\n");
	wm_buf_addf(&b, "# A call not listed under allow fails as %s answers it.\n", base->name);
	wm_buf_addf(&b, "version: 1\npolicies:\n  %s:\n    inherits: %s\n", name, base->name);
	wm_buf_addf(&b, "    description: learned over %s\n", base->name);
	emit_network(&b, base, l);
	emit_seccomp(&b, base, l);
	emit_limits(&b, base, l);
	emit_refused(&b, base, l);
	emit_observed(&b, l);
	return wm_buf_detach(&b, NULL);
}
