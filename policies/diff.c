/*
 * diff.c - what one policy allows that another does not, in words a
 * reviewer can read: network, filesystem, capabilities, system calls,
 * limits, environment. Each line reads "WHAT: A x, B y (consequence)".
 */
#include "policies/policies.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "policies/internal.h"

/* What a policy with a network mode or a filesystem view allows (policy.h). */
#define SAYS(e, name, rank, says) [e] = (says),
static const char *const net_says[WM_NET_MODE_COUNT] = { WM_NET_MODES(SAYS) };
static const char *const view_says[WM_FS_VIEW_COUNT] = { WM_FS_VIEWS(SAYS) };
#undef SAYS

static const char *says(const char *const *v, size_t n, unsigned value)
{
	return value < n ? v[value] : "?";
}

static void only_in(struct wm_buf *b, const char *what, char *const *x, char *const *y)
{
	bool any = false;

	for (size_t i = 0; x && x[i]; i++) {
		if (wm_strv_contains(y, x[i]))
			continue;
		wm_buf_addf(b, "%s%s", any ? ", " : what, x[i]);
		any = true;
	}
	if (any)
		wm_buf_addch(b, '\n');
}

static void diff_fs(struct wm_buf *b, const struct wm_policy *a, const struct wm_policy *c)
{
	wm_autostrv char **ab = NULL;
	wm_autostrv char **cb = NULL;
	size_t na = 0, nc = 0;

	if (a->fs.view != c->fs.view)
		wm_buf_addf(b, "filesystem view: A %s, B %s (B %s)\n", wm_fs_view_name(a->fs.view),
			    wm_fs_view_name(c->fs.view),
			    says(view_says, WM_FS_VIEW_COUNT, c->fs.view));
	if (a->fs.workspace != c->fs.workspace)
		wm_buf_addf(b, "workspace: A %s, B %s\n", wm_ws_mode_name(a->fs.workspace),
			    wm_ws_mode_name(c->fs.workspace));
	if ((a->fs.rootfs == NULL) != (c->fs.rootfs == NULL) ||
	    (a->fs.rootfs && strcmp(a->fs.rootfs, c->fs.rootfs) != 0))
		wm_buf_addf(b, "root filesystem: A %s, B %s\n",
			    a->fs.rootfs ? a->fs.rootfs : "the host's",
			    c->fs.rootfs ? c->fs.rootfs : "the host's");
	if (a->fs.tmp_size != c->fs.tmp_size) {
		char *x = a->fs.tmp_size ? wm_format_size(a->fs.tmp_size) : wm_xstrdup("none");
		char *y = c->fs.tmp_size ? wm_format_size(c->fs.tmp_size) : wm_xstrdup("none");
		wm_buf_addf(b, "private /tmp: A %s, B %s\n", x, y);
		free(x);
		free(y);
	}
	if (a->fs.shm_size != c->fs.shm_size) {
		char *x = a->fs.shm_size ? wm_format_size(a->fs.shm_size) : wm_xstrdup("none");
		char *y = c->fs.shm_size ? wm_format_size(c->fs.shm_size) : wm_xstrdup("none");
		wm_buf_addf(b, "/dev/shm: A %s, B %s\n", x, y);
		free(x);
		free(y);
	}
	only_in(b, "paths A hides that B shows: ", a->fs.hide, c->fs.hide);
	only_in(b, "paths B hides that A shows: ", c->fs.hide, a->fs.hide);
	for (size_t i = 0; i < a->fs.n_binds; i++)
		wm_strv_push_owned(&ab, &na,
				   wm_xasprintf("%s -> %s (%s)", a->fs.binds[i].src,
						a->fs.binds[i].dst,
						a->fs.binds[i].rw ? "rw" : "ro"));
	for (size_t i = 0; i < c->fs.n_binds; i++)
		wm_strv_push_owned(&cb, &nc,
				   wm_xasprintf("%s -> %s (%s)", c->fs.binds[i].src,
						c->fs.binds[i].dst,
						c->fs.binds[i].rw ? "rw" : "ro"));
	only_in(b, "mounts B binds that A does not: ", cb, ab);
	only_in(b, "mounts A binds that B does not: ", ab, cb);
	only_in(b, "devices B offers that A does not: ", c->fs.devices, a->fs.devices);
	only_in(b, "devices A offers that B does not: ", a->fs.devices, c->fs.devices);
}

enum sc_state { SC_DENY, SC_PARTIAL, SC_ALLOW };

static enum sc_state state_of(const struct wm_policy *p, const char *name)
{
	int cond;
	enum wm_seccomp_action a = wm_policy_syscall_action(p, name, NULL, &cond);

	if (wm_seccomp_action_passes(a))
		return cond ? SC_PARTIAL : SC_ALLOW;
	return cond ? SC_PARTIAL : SC_DENY;
}

static void syscall_names(const struct wm_policy *a, const struct wm_policy *c, char ***v,
			  size_t *n)
{
	for (int nr = 0; nr < 1024; nr++) {
		char *nm = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (nm && !wm_strv_contains(*v, nm))
			wm_strv_push(v, n, nm);
		free(nm);
	}
	/* Names this machine lacks only matter to other machines: left out. */
	for (size_t i = 0; i < a->seccomp.n_rules; i++)
		if (seccomp_syscall_resolve_name(a->seccomp.rules[i].name) >= 0 &&
		    !wm_strv_contains(*v, a->seccomp.rules[i].name))
			wm_strv_push(v, n, a->seccomp.rules[i].name);
	for (size_t i = 0; i < c->seccomp.n_rules; i++)
		if (seccomp_syscall_resolve_name(c->seccomp.rules[i].name) >= 0 &&
		    !wm_strv_contains(*v, c->seccomp.rules[i].name))
			wm_strv_push(v, n, c->seccomp.rules[i].name);
}

static int str_qcmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The rules of one name, as text, to see whether two filters differ. */
static char *rules_text(const struct wm_policy *p, const char *name)
{
	struct wm_buf b = WM_BUF_INIT;

	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
		if (strcmp(r->name, name) != 0)
			continue;
		wm_buf_addf(&b, "%d/%d:", r->action, r->errno_ret);
		for (size_t k = 0; k < r->n_args; k++)
			wm_buf_addf(&b, "%u,%d,%llx,%llx;", r->args[k].index, r->args[k].op,
				    (unsigned long long)r->args[k].value,
				    (unsigned long long)r->args[k].value_two);
	}
	return wm_buf_detach(&b, NULL);
}

static void diff_seccomp(struct wm_buf *b, const struct wm_policy *a, const struct wm_policy *c)
{
	/* [A state][B state] -> list */
	static const char *const what[3][3] = {
		[SC_DENY][SC_ALLOW] = "syscalls B allows that A denies: ",
		[SC_ALLOW][SC_DENY] = "syscalls A allows that B denies: ",
		[SC_DENY][SC_PARTIAL] = "syscalls B allows for some arguments, A never: ",
		[SC_PARTIAL][SC_DENY] = "syscalls A allows for some arguments, B never: ",
		[SC_PARTIAL][SC_ALLOW] = "syscalls B allows with any arguments, A only some: ",
		[SC_ALLOW][SC_PARTIAL] = "syscalls A allows with any arguments, B only some: ",
		[SC_PARTIAL][SC_PARTIAL] = "syscalls whose argument filters differ: ",
	};
	char **lists[3][3] = { { 0 } };
	size_t counts[3][3] = { { 0 } };
	wm_autostrv char **names = NULL;
	size_t n = 0;

	if (a->seccomp.enabled != c->seccomp.enabled)
		wm_buf_addf(b, "seccomp filter: A %s, B %s\n", a->seccomp.enabled ? "on" : "none",
			    c->seccomp.enabled ? "on" : "none");
	if (a->seccomp.enabled && c->seccomp.enabled &&
	    (a->seccomp.default_action != c->seccomp.default_action))
		wm_buf_addf(b, "unlisted system calls: A %s, B %s\n",
			    wm_seccomp_action_name(a->seccomp.default_action),
			    wm_seccomp_action_name(c->seccomp.default_action));
	syscall_names(a, c, &names, &n);
	qsort(names, n, sizeof(*names), str_qcmp);
	for (size_t i = 0; i < n; i++) {
		enum sc_state sa = state_of(a, names[i]), sb = state_of(c, names[i]);

		if (sa == sb && sa == SC_PARTIAL) {
			char *ta = rules_text(a, names[i]), *tb = rules_text(c, names[i]);
			bool same = strcmp(ta, tb) == 0;
			free(ta);
			free(tb);
			if (same)
				continue;
		} else if (sa == sb) {
			continue;
		}
		wm_strv_push(&lists[sa][sb], &counts[sa][sb], names[i]);
	}
	for (int x = 0; x < 3; x++) {
		for (int y = 0; y < 3; y++) {
			if (what[x][y])
				only_in(b, what[x][y], lists[x][y], NULL);
			wm_strv_free(lists[x][y]);
		}
	}
}

/* One limit; 0 is "none" (unlimited). */
static void diff_limit(struct wm_buf *b, const char *what, uint64_t x, uint64_t y,
		       char *(*fmt)(uint64_t))
{
	char *sx, *sy;

	if (x == y)
		return;
	sx = x ? (fmt ? fmt(x) : wm_xasprintf("%llu", (unsigned long long)x)) : wm_xstrdup("none");
	sy = y ? (fmt ? fmt(y) : wm_xasprintf("%llu", (unsigned long long)y)) : wm_xstrdup("none");
	wm_buf_addf(b, "%s limit: A %s, B %s (%s gets more)\n", what, sx, sy,
		    (y == 0 || (x != 0 && y > x)) ? "B" : "A");
	free(sx);
	free(sy);
}

char *wm_policy_diff(const struct wm_policy *a, const struct wm_policy *c)
{
	struct wm_buf b = WM_BUF_INIT;

	if (a->network != c->network)
		wm_buf_addf(&b, "network: A %s, B %s (B %s)\n", wm_net_mode_name(a->network),
			    wm_net_mode_name(c->network),
			    says(net_says, WM_NET_MODE_COUNT, c->network));
	diff_fs(&b, a, c);
	only_in(&b, "capabilities B keeps that A drops: ", c->capabilities, a->capabilities);
	only_in(&b, "capabilities A keeps that B drops: ", a->capabilities, c->capabilities);
	if (a->user_namespace != c->user_namespace)
		wm_buf_addf(&b, "user namespace as root: A %s, B %s\n",
			    a->user_namespace ? "yes" : "no", c->user_namespace ? "yes" : "no");
	if (a->landlock != c->landlock)
		wm_buf_addf(&b, "landlock: A %s, B %s\n", a->landlock ? "on" : "off",
			    c->landlock ? "on" : "off");
	diff_seccomp(&b, a, c);
	diff_limit(&b, "memory", a->limits.memory, c->limits.memory, wm_format_size);
	diff_limit(&b, "pids", a->limits.pids, c->limits.pids, NULL);
	if (a->limits.cpu != c->limits.cpu) {
		char *x =
			a->limits.cpu > 0 ? wm_xasprintf("%g", a->limits.cpu) : wm_xstrdup("none");
		char *y =
			c->limits.cpu > 0 ? wm_xasprintf("%g", c->limits.cpu) : wm_xstrdup("none");
		wm_buf_addf(&b, "cpu limit: A %s, B %s\n", x, y);
		free(x);
		free(y);
	}
	diff_limit(&b, "timeout", a->limits.timeout_ms, c->limits.timeout_ms, wm_format_duration);
	diff_limit(&b, "nofile", a->limits.nofile, c->limits.nofile, NULL);
	diff_limit(&b, "fsize", a->limits.fsize, c->limits.fsize, wm_format_size);
	if (a->limits.core != c->limits.core)
		wm_buf_addf(&b, "core dumps: A %llu bytes, B %llu bytes\n",
			    (unsigned long long)a->limits.core, (unsigned long long)c->limits.core);
	diff_limit(&b, "$WM_OUT size", a->limits.out, c->limits.out, wm_format_size);
	if (a->limits.strict != c->limits.strict)
		wm_buf_addf(&b, "unenforceable limits: A %s, B %s\n",
			    a->limits.strict ? "an error" : "a warning",
			    c->limits.strict ? "an error" : "a warning");
	only_in(&b, "variables B keeps that A drops: ", c->env.keep, a->env.keep);
	only_in(&b, "variables A keeps that B drops: ", a->env.keep, c->env.keep);
	only_in(&b, "variables B sets differently: ", c->env.set, a->env.set);
	only_in(&b, "variables A sets differently: ", a->env.set, c->env.set);
	return wm_buf_detach(&b, NULL);
}
