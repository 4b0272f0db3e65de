/*
 * score.c - the exposure score of a resolved policy (score.h; README.md,
 * "Exposure score", is the user's copy of the weights below).
 *
 * Each part earns points for what the policy lets a task reach, up to its
 * most; the total is their sum, 0 (nothing) to 100 (everything). Points
 * are fractional so that a policy that allows one more ordinary call than
 * its parent still scores higher.
 */
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "policies/internal.h"
#include "policies/policies.h"
#include "policies/score.h"

#define PART_MAX(e, name, max) [e] = (max),
#define CLASS_ANY(e, name, any, share) [e] = (any),
#define CLASS_SHARE(e, name, any, share) [e] = (share),
static const char *const part_names[] = { WM_SCORE_PARTS(WM_XLIST_NAME) };
static const double part_max[] = { WM_SCORE_PARTS(PART_MAX) };
static const double class_any[] = { WM_RISK_CLASSES(CLASS_ANY) };
static const double class_share[] = { WM_RISK_CLASSES(CLASS_SHARE) };

/* Points of the network mode, indexed by it. */
static const double net_points[WM_NET_MODE_COUNT] = {
	[WM_NET_NONE] = 0, [WM_NET_LOOPBACK] = 8, [WM_NET_HOST] = 25
};
/* What of the host is visible (and for host-rw, writable). */
static const double view_points[WM_FS_VIEW_COUNT] = {
	[WM_VIEW_HOST_RW] = 10, [WM_VIEW_HOST_RO] = 4, [WM_VIEW_SYSTEM] = 2, [WM_VIEW_MINIMAL] = 0
};
static const double ws_points[WM_WS_MODE_COUNT] = {
	[WM_WS_RW] = 3, [WM_WS_RO] = 1, [WM_WS_NONE] = 0
};

/* Capabilities that reach past the sandbox or other users' files. */
static const char *const strong_caps =
	" cap_sys_admin cap_sys_ptrace cap_sys_module cap_net_admin cap_sys_rawio "
	"cap_dac_override cap_dac_read_search cap_setuid cap_setgid cap_sys_chroot cap_bpf "
	"cap_perfmon cap_sys_boot cap_sys_time cap_mknod cap_chown cap_fowner cap_setfcap "
	"cap_setpcap cap_net_raw cap_syslog cap_mac_admin cap_mac_override ";

const char *wm_score_part_name(enum wm_score_part s)
{
	return (unsigned)s < WM_SCORE_PART_COUNT ? part_names[s] : "?";
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

static double fs_points(const struct wm_policy *p, struct wm_buf *why)
{
	size_t rw_binds = 0, n_dev = wm_strv_len(p->fs.devices);
	double binds, dev, pts;

	for (size_t i = 0; i < p->fs.n_binds; i++)
		rw_binds += p->fs.binds[i].rw;
	binds = min_d(2.0 * (double)rw_binds, 4);
	dev = min_d(0.5 * (double)n_dev, 1);
	pts = view_points[p->fs.view] + ws_points[p->fs.workspace] + (p->fs.tmp_size ? 1 : 0) +
	      (p->fs.shm_size ? 1 : 0) + binds + dev;
	if (why)
		wm_buf_addf(why,
			    "view %s %g, workspace %s %g, /tmp %d, /dev/shm %d, rw binds %g, "
			    "devices %g",
			    wm_fs_view_name(p->fs.view), view_points[p->fs.view],
			    wm_ws_mode_name(p->fs.workspace), ws_points[p->fs.workspace],
			    p->fs.tmp_size ? 1 : 0, p->fs.shm_size ? 1 : 0, binds, dev);
	return pts;
}

/* 1 when the call passes, 0.5 when only some arguments pass, 0 when not. */
static double passing(const struct wm_policy *p, const char *name)
{
	int err = 0, cond = 0;
	enum wm_seccomp_action a = wm_policy_syscall_action(p, name, &err, &cond);

	if (wm_seccomp_action_passes(a))
		return 1;
	return cond ? 0.5 : 0;
}

static double syscall_points(const struct wm_policy *p, struct wm_policy_score *s,
			     struct wm_buf *why)
{
	size_t n = 0;
	const char *const *all = pol_native_syscalls(&n);
	double pass[WM_RISK_CLASS_COUNT] = { 0 }, pts = 0;

	for (size_t i = 0; i < n; i++) {
		int g = wm_risk_group_of(all[i]);
		enum wm_risk_class c = g < 0 ? WM_RISK_ORDINARY : wm_risk_group_class(g);
		double v = passing(p, all[i]);

		s->cls_known[c]++;
		s->cls_passing[c] += v > 0;
		pass[c] += v;
	}
	for (size_t c = 0; c < WM_RISK_CLASS_COUNT; c++) {
		s->cls[c] =
			(pass[c] > 0 ? class_any[c] : 0) +
			(s->cls_known[c] ? class_share[c] * pass[c] / (double)s->cls_known[c] : 0);
		pts += s->cls[c];
		if (why)
			wm_buf_addf(why, "%s%s %.1f (%zu/%zu pass)", c ? ", " : "",
				    wm_risk_class_name(c), s->cls[c], s->cls_passing[c],
				    s->cls_known[c]);
	}
	return pts;
}

static double cap_points(const struct wm_policy *p, struct wm_buf *why)
{
	double pts = p->user_namespace ? 0 : 3;

	if (why)
		wm_buf_addf(why, "%s",
			    p->user_namespace ? "user namespace" : "no user namespace 3");
	for (size_t i = 0; p->capabilities[i]; i++) {
		char key[64];
		bool strong;

		snprintf(key, sizeof(key), " %s ", p->capabilities[i]);
		strong = strstr(strong_caps, key) != NULL;
		pts += strong ? 6 : 2;
		if (why)
			wm_buf_addf(why, ", %s %d", p->capabilities[i], strong ? 6 : 2);
	}
	return min_d(pts, part_max[WM_SCORE_CAPS]);
}

static double limit_points(const struct wm_policy *p, struct wm_buf *why)
{
	const struct {
		const char *name;
		bool missing;
		double pts;
	} lim[] = {
		{ "memory", !p->limits.memory, 3 },	 { "pids", !p->limits.pids, 3 },
		{ "timeout", !p->limits.timeout_ms, 2 }, { "cpu", p->limits.cpu <= 0, 1 },
		{ "nofile", !p->limits.nofile, 0.5 },	 { "fsize", !p->limits.fsize, 0.5 },
	};
	double pts = 0;
	bool any = false;

	for (size_t i = 0; i < WM_ARRAY_LEN(lim); i++) {
		if (!lim[i].missing)
			continue;
		pts += lim[i].pts;
		if (why)
			wm_buf_addf(why, "%s%s %g", any ? ", " : "missing: ", lim[i].name,
				    lim[i].pts);
		any = true;
	}
	if (why && !any)
		wm_buf_addstr(why, "every limit set");
	return pts;
}

static void line(struct wm_buf *why, struct wm_policy_score *s, enum wm_score_part part, double pts,
		 const char *detail)
{
	s->part[part] = pts;
	s->max[part] = part_max[part];
	s->total += pts;
	if (why)
		wm_buf_addf(why, "%-13s %5.1f/%-3g %s\n", part_names[part], pts, part_max[part],
			    detail);
}

void wm_policy_score(const struct wm_policy *p, struct wm_policy_score *out, struct wm_buf *why)
{
	struct wm_buf d = WM_BUF_INIT;
	struct wm_buf *dp = why ? &d : NULL;
	double pts;

	memset(out, 0, sizeof(*out));
	static const char *const net_why[WM_NET_MODE_COUNT] = {
		[WM_NET_NONE] = "no network",
		[WM_NET_LOOPBACK] = "loopback only",
		[WM_NET_HOST] = "the host's network",
	};

	if (dp)
		wm_buf_addf(dp, "%s: %s", wm_net_mode_name(p->network), net_why[p->network]);
	line(why, out, WM_SCORE_NETWORK, net_points[p->network], d.data);
	wm_buf_setlen(&d, 0);
	pts = fs_points(p, dp);
	line(why, out, WM_SCORE_FILESYSTEM, pts, d.data);
	wm_buf_setlen(&d, 0);
	pts = syscall_points(p, out, dp);
	line(why, out, WM_SCORE_SYSCALLS, pts, d.data);
	wm_buf_setlen(&d, 0);
	pts = cap_points(p, dp);
	line(why, out, WM_SCORE_CAPS, pts, d.data);
	wm_buf_setlen(&d, 0);
	pts = limit_points(p, dp);
	line(why, out, WM_SCORE_LIMITS, pts, d.data);
	wm_buf_release(&d);
}
