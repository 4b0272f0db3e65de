/*
 * strict.c - "at least as strict as": the partial order behind the
 * --policy floor (README.md, "At least as strict").
 *
 * A policy P is at least as strict as a floor F when, on every axis, P
 * allows no more than F: network, filesystem view, root filesystem,
 * workspace, /tmp, hidden paths, binds, devices, /dev/shm, capabilities,
 * user namespace, Landlock, the system call filter, every limit and the
 * variables kept. Axes are compared one by one, so a policy stricter on one
 * and weaker on another is not at least as strict. Where an exact answer
 * would need more than the policy says (symbolic links on the host,
 * overlapping argument conditions), the answer is "no": the relation may
 * refuse a policy that is in fact strict enough, never the reverse.
 */
#include "policies/policies.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "policies/internal.h"

/* What the sandbox mounts on /tmp when a tmpfs root has no tmp size of its
 * own (sandbox/mounts.c, sb_plan_mounts). */
#define POL_IMPLICIT_TMP (16u << 20)

static int why(struct wm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why(struct wm_buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b) {
		va_start(ap, fmt);
		wm_buf_vaddf(b, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static char *size_text(uint64_t v)
{
	return v ? wm_format_size(v) : wm_xstrdup("none");
}

/* ---- network and filesystem ---- */

/* Permissiveness, from the lists in policy.h. A value outside its list
 * counts as the most permissive one: it never passes for stricter. */
#define RANK(e, name, rank, says) [e] = (rank),
#define WS_RANK(e, name, rank) [e] = (rank),
static const int net_ranks[WM_NET_MODE_COUNT] = { WM_NET_MODES(RANK) };
static const int view_ranks[WM_FS_VIEW_COUNT] = { WM_FS_VIEWS(RANK) };
static const int ws_ranks[WM_WS_MODE_COUNT] = { WM_WS_MODES(WS_RANK) };
#undef RANK
#undef WS_RANK

static int rank_of(const int *ranks, size_t n, unsigned v)
{
	int max = 0;

	for (size_t i = 0; i < n; i++)
		max = ranks[i] > max ? ranks[i] : max;
	return v < n ? ranks[v] : max;
}

static int net_rank(enum wm_net_mode m)
{
	return rank_of(net_ranks, WM_NET_MODE_COUNT, m);
}

static int view_rank(enum wm_fs_view v)
{
	return rank_of(view_ranks, WM_FS_VIEW_COUNT, v);
}

static int ws_rank(enum wm_ws_mode m)
{
	return rank_of(ws_ranks, WM_WS_MODE_COUNT, m);
}

enum tmp_kind {
	TMP_PRIVATE, /* a private tmpfs of `size` bytes */
	TMP_ROOT_RO, /* the root's own /tmp, read-only: host data visible, nothing writable */
	TMP_ROOT_RW, /* the root's own /tmp, writable (minimal): the weakest */
};

static enum tmp_kind tmp_of(const struct wm_policy *p, uint64_t *size)
{
	*size = p->fs.tmp_size;
	if (p->fs.tmp_size)
		return TMP_PRIVATE;
	if (!p->fs.rootfs && (p->fs.view == WM_VIEW_SYSTEM || p->fs.view == WM_VIEW_MINIMAL)) {
		*size = POL_IMPLICIT_TMP;
		return TMP_PRIVATE;
	}
	return p->fs.view == WM_VIEW_HOST_RW ? TMP_ROOT_RW : TMP_ROOT_RO;
}

static char *tmp_text(enum tmp_kind k, uint64_t size)
{
	char *s, *out;

	if (k == TMP_ROOT_RW)
		return wm_xstrdup("the root's own /tmp, writable");
	if (k == TMP_ROOT_RO)
		return wm_xstrdup("the root's own /tmp, read-only");
	s = wm_format_size(size);
	out = wm_xasprintf("a private %s /tmp", s);
	free(s);
	return out;
}

static int tmp_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	uint64_t ps, fs;
	enum tmp_kind pk = tmp_of(p, &ps), fk = tmp_of(f, &fs);
	bool ok = fk == TMP_ROOT_RW || (pk == fk && (pk != TMP_PRIVATE || ps <= fs));
	char *x, *y;

	if (ok)
		return 1;
	x = tmp_text(pk, ps);
	y = tmp_text(fk, fs);
	why(b, "/tmp: %s is weaker than %s", x, y);
	free(x);
	free(y);
	return 0;
}

static bool has_bind(const struct wm_policy *f, const struct wm_bind *x)
{
	for (size_t i = 0; i < f->fs.n_binds; i++) {
		const struct wm_bind *y = &f->fs.binds[i];

		if (strcmp(x->src, y->src) == 0 && strcmp(x->dst, y->dst) == 0 && (y->rw || !x->rw))
			return true;
	}
	return false;
}

/* Hidden paths are compared as written: hiding a parent directory does not
 * hide a path that reaches elsewhere through a symbolic link. */
static int paths_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	for (size_t i = 0; f->fs.hide && f->fs.hide[i]; i++)
		if (!wm_strv_contains(p->fs.hide, f->fs.hide[i]))
			return why(b, "%s is visible, the floor hides it", f->fs.hide[i]);
	for (size_t i = 0; i < p->fs.n_binds; i++)
		if (!has_bind(f, &p->fs.binds[i]))
			return why(b, "bind %s -> %s (%s) is not one the floor has",
				   p->fs.binds[i].src, p->fs.binds[i].dst,
				   p->fs.binds[i].rw ? "rw" : "ro");
	for (size_t i = 0; p->fs.devices && p->fs.devices[i]; i++)
		if (!wm_strv_contains(f->fs.devices, p->fs.devices[i]))
			return why(b, "device /dev/%s is offered, the floor does not offer it",
				   p->fs.devices[i]);
	return 1;
}

static int fs_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	if (view_rank(p->fs.view) > view_rank(f->fs.view))
		return why(b, "filesystem view %s is weaker than %s", wm_fs_view_name(p->fs.view),
			   wm_fs_view_name(f->fs.view));
	if ((p->fs.rootfs == NULL) != (f->fs.rootfs == NULL) ||
	    (p->fs.rootfs && strcmp(p->fs.rootfs, f->fs.rootfs) != 0))
		return why(b, "root filesystem %s is not the floor's %s",
			   p->fs.rootfs ? p->fs.rootfs : "(the host's)",
			   f->fs.rootfs ? f->fs.rootfs : "(the host's)");
	if (ws_rank(p->fs.workspace) > ws_rank(f->fs.workspace))
		return why(b, "workspace %s is weaker than %s", wm_ws_mode_name(p->fs.workspace),
			   wm_ws_mode_name(f->fs.workspace));
	if (!tmp_ok(p, f, b))
		return 0;
	if (p->fs.shm_size > f->fs.shm_size) {
		char *x = size_text(p->fs.shm_size), *y = size_text(f->fs.shm_size);

		why(b, "/dev/shm %s is weaker than %s", x, y);
		free(x);
		free(y);
		return 0;
	}
	return paths_ok(p, f, b);
}

/* ---- limits and environment ---- */

/* 0 is unlimited, the weakest; otherwise larger is weaker. */
static bool limit_le(uint64_t p, uint64_t f)
{
	return f == 0 || (p != 0 && p <= f);
}

static int limit_ok(struct wm_buf *b, const char *what, uint64_t p, uint64_t f,
		    char *(*fmt)(uint64_t))
{
	char *x, *y;

	if (limit_le(p, f))
		return 1;
	x = p ? (fmt ? fmt(p) : wm_xasprintf("%llu", (unsigned long long)p)) : wm_xstrdup("none");
	y = fmt ? fmt(f) : wm_xasprintf("%llu", (unsigned long long)f);
	why(b, "%s limit %s is weaker than %s", what, x, y);
	free(x);
	free(y);
	return 0;
}

static int limits_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	const double pc = p->limits.cpu, fc = f->limits.cpu;

	if (!limit_ok(b, "memory", p->limits.memory, f->limits.memory, wm_format_size) ||
	    !limit_ok(b, "pids", p->limits.pids, f->limits.pids, NULL))
		return 0;
	if (fc > 0 && !(pc > 0 && pc <= fc))
		return why(b, "cpu limit %s%g is weaker than %g", pc > 0 ? "" : "none ", pc, fc);
	if (!limit_ok(b, "timeout", p->limits.timeout_ms, f->limits.timeout_ms,
		      wm_format_duration) ||
	    !limit_ok(b, "nofile", p->limits.nofile, f->limits.nofile, NULL) ||
	    !limit_ok(b, "fsize", p->limits.fsize, f->limits.fsize, wm_format_size) ||
	    !limit_ok(b, "$WM_OUT size", p->limits.out, f->limits.out, wm_format_size))
		return 0;
	/* Core dumps are off at 0: here a larger value is weaker and 0 the strictest. */
	if (p->limits.core > f->limits.core)
		return why(b, "core dumps of %llu bytes are weaker than %llu",
			   (unsigned long long)p->limits.core, (unsigned long long)f->limits.core);
	if (f->limits.strict && !p->limits.strict)
		return why(b, "limits.strict false is weaker than true");
	return 1;
}

static int env_ok(const struct wm_policy *p, const struct wm_policy *f, struct wm_buf *b)
{
	for (size_t i = 0; p->env.keep && p->env.keep[i]; i++)
		if (!wm_strv_contains(f->env.keep, p->env.keep[i]))
			return why(b, "keeps variable %s, which the floor drops", p->env.keep[i]);
	return 1;
}

/* ---- the whole relation ---- */

int wm_policy_at_least_as_strict(const struct wm_policy *p, const struct wm_policy *f,
				 struct wm_buf *b)
{
	if (p == f)
		return 1;
	if (net_rank(p->network) > net_rank(f->network))
		return why(b, "network %s is weaker than %s", wm_net_mode_name(p->network),
			   wm_net_mode_name(f->network));
	if (!fs_ok(p, f, b))
		return 0;
	for (size_t i = 0; p->capabilities && p->capabilities[i]; i++)
		if (!wm_strv_contains(f->capabilities, p->capabilities[i]))
			return why(b, "keeps capability %s, which the floor drops",
				   p->capabilities[i]);
	if (f->user_namespace && !p->user_namespace)
		return why(b, "no user namespace as root is weaker than one");
	if (f->landlock && !p->landlock)
		return why(b, "no Landlock is weaker than Landlock");
	if (!pol_seccomp_at_least_as_strict(p, f, b))
		return 0;
	return limits_ok(p, f, b) && env_ok(p, f, b);
}
