/*
 * seccomp.c - policy rules -> BPF with libseccomp, compiled once per policy
 * and cached on disk (filtercache.c), loaded in the child last.
 *
 * Denials become SCMP_ACT_NOTIFY where the kernel has user notification, so
 * the supervisor in wm can name them; a per-syscall table says what to
 * answer (errno, or kill for default-kill policies). ENOSYS answers (clone3)
 * stay plain errno: libc must see ENOSYS at once. So do the calls the
 * sandbox's helper makes between loading the filter and becoming the
 * command (execve, execveat, exit, exit_group): nobody listens yet, and a
 * denial sent to the listener then would wait forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "policies/policies.h"
#include "sandbox/internal.h"

#define CACHE_MAGIC "WMSECCOMP2\n"

bool sb_notify_supported(void)
{
	static int cached = -1;
	uint32_t act = SECCOMP_RET_USER_NOTIF;

	if (cached < 0)
		cached = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0 &&
			 seccomp_api_get() >= 5;
	return cached;
}

struct builder {
	scmp_filter_ctx ctx;
	const struct wm_policy *p;
	bool notify;
	uint32_t dflt;
	struct sb_filter *out;
	size_t rules_alloc;
	bool families; /* network none/loopback: only namespaced socket families */
};

static int errno_of(int e)
{
	return e ? e : EPERM;
}

/* The libseccomp action of a policy action; `plain`: never notify. */
static uint32_t action_of(const struct builder *b, enum wm_seccomp_action a, int err, bool plain,
			  struct sb_notify_rule *nr)
{
	nr->err = errno_of(err);
	nr->kill = false;
	switch (a) {
	case WM_SC_ALLOW:
		return SCMP_ACT_ALLOW;
	case WM_SC_ERRNO:
		if (b->notify && !plain && nr->err != ENOSYS)
			return SCMP_ACT_NOTIFY;
		return SCMP_ACT_ERRNO((uint16_t)nr->err);
	case WM_SC_KILL:
		nr->kill = true;
		nr->err = EPERM;
		return b->notify && !plain ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
	case WM_SC_TRAP:
		return SCMP_ACT_TRAP;
	case WM_SC_LOG:
		return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static struct scmp_arg_cmp cmp_of(const struct wm_seccomp_arg *a)
{
#define LSC(e, name, lsc) [e] = (lsc),
	static const enum scmp_compare ops[WM_SECCOMP_OP_COUNT] = { WM_SECCOMP_OPS(LSC) };
#undef LSC
	return (struct scmp_arg_cmp){ a->index, ops[a->op], a->value, a->value_two };
}

static int add(struct builder *b, uint32_t action, int nr, const struct scmp_arg_cmp *cmp,
	       unsigned n, const char *name, struct wm_error **err)
{
	int rc;

	if (action == b->dflt)
		return 0;
	rc = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
	if (rc < 0 && rc != -EEXIST)
		return wm_error_set(err, -rc, "seccomp rule for %s", name);
	return 0;
}

static void note(struct builder *b, int nr, const struct sb_notify_rule *r)
{
	struct sb_filter *f = b->out;

	for (size_t i = 0; i < f->n_rules; i++)
		if (f->rules[i].nr == nr)
			return;
	WM_GROW(f->rules, b->rules_alloc, f->n_rules + 1);
	f->rules[f->n_rules] = *r;
	f->rules[f->n_rules++].nr = nr;
}

/* An unconditional allow next to a conditional denial (ioctl: everything but
 * TIOCSTI): libseccomp lets the allow win, so allow the complement instead.
 * For (arg & M) == V that is "some bit of M differs from V", one rule per bit,
 * which also holds when the caller sets bits above the compared ones. */
static int add_complement(struct builder *b, int nr, const struct wm_seccomp_rule *deny,
			  struct wm_error **err)
{
	const struct wm_seccomp_arg *a = &deny->args[0];
	struct scmp_arg_cmp c;

	if (deny->n_args != 1 || (a->op != WM_SC_OP_EQ && a->op != WM_SC_OP_MASKED_EQ))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "seccomp: cannot combine allow and a multi-condition "
				     "denial of %s",
				     deny->name);
	if (a->op == WM_SC_OP_EQ) {
		c = (struct scmp_arg_cmp){ a->index, SCMP_CMP_NE, a->value, 0 };
		return add(b, SCMP_ACT_ALLOW, nr, &c, 1, deny->name, err);
	}
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t m = 1ULL << bit;

		if (!(a->value & m))
			continue;
		c = (struct scmp_arg_cmp){ a->index, SCMP_CMP_MASKED_EQ, m,
					   (a->value_two & m) ^ m };
		if (add(b, SCMP_ACT_ALLOW, nr, &c, 1, deny->name, err) < 0)
			return -1;
	}
	return 0;
}

static const char *const helper_calls[] = { "execve", "execveat", "exit", "exit_group" };

static bool is_helper_call(const char *name)
{
	for (size_t i = 0; i < sizeof(helper_calls) / sizeof(helper_calls[0]); i++)
		if (strcmp(name, helper_calls[i]) == 0)
			return true;
	return false;
}

/* Adds one rule of a syscall with its action and argument conditions. */
static int add_rule(struct builder *b, int sys, const struct wm_seccomp_rule *r,
		    struct wm_error **err)
{
	struct scmp_arg_cmp cmp[6];
	struct sb_notify_rule nr;
	uint32_t act = action_of(b, r->action, r->errno_ret, is_helper_call(r->name), &nr);

	if (act == SCMP_ACT_NOTIFY)
		note(b, sys, &nr);
	for (size_t j = 0; j < r->n_args; j++)
		cmp[j] = cmp_of(&r->args[j]);
	return add(b, act, sys, cmp, (unsigned)r->n_args, r->name, err);
}

/*
 * All rules of one syscall. An unconditional denial takes the call whole:
 * an allow beside it (OCI profiles such as Podman's list setns both in
 * their big allow list and, for callers without CAP_SYS_ADMIN, as denied)
 * would otherwise contradict it, and refusing is the safe reading.
 */
static int add_syscall(struct builder *b, size_t first, struct wm_error **err)
{
	const struct wm_policy *p = b->p;
	const char *name = p->seccomp.rules[first].name;
	const struct wm_seccomp_rule *deny = NULL, *deny_all = NULL;
	size_t n_deny = 0;
	bool allow_all = false;
	int sys = seccomp_syscall_resolve_name(name);

	if (sys == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	for (size_t i = first; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		if (strcmp(r->name, name) != 0)
			continue;
		if (r->action == WM_SC_ALLOW && r->n_args == 0)
			allow_all = true;
		else if (r->action != WM_SC_ALLOW)
			deny = r, n_deny++;
		if (r->action != WM_SC_ALLOW && r->n_args == 0 && !deny_all)
			deny_all = r;
	}
	if (deny_all)
		return add_rule(b, sys, deny_all, err);
	if (allow_all && n_deny) {
		if (n_deny > 1)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "seccomp: cannot combine allow and %zu denials of %s",
					     n_deny, name);
		if (add_complement(b, sys, deny, err) < 0)
			return -1;
	}
	for (size_t i = first; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		if (strcmp(r->name, name) != 0 || (allow_all && n_deny && r->action == WM_SC_ALLOW))
			continue;
		if (add_rule(b, sys, r, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- socket families ---------------------------------------------------- */

/*
 * A network namespace isolates these families; the others (AF_VSOCK, whose
 * ports are the host's, Bluetooth, and the rest) reach past it, so without
 * the host's network only these may be created. The family is an int: the
 * low 32 bits are compared, as the kernel reads them.
 */
static const int namespaced_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET };
#define LAST_NAMESPACED AF_PACKET

bool sb_family_namespaced(int family)
{
	for (size_t i = 0; i < sizeof(namespaced_families) / sizeof(int); i++)
		if (namespaced_families[i] == family)
			return true;
	return false;
}

/* socket() allowed for the namespaced families only (an allowlist). */
static int allow_families(struct builder *b, struct wm_error **err)
{
	for (size_t i = 0; i < sizeof(namespaced_families) / sizeof(int); i++) {
		struct scmp_arg_cmp c =
			ARG0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)namespaced_families[i]);

		if (add(b, SCMP_ACT_ALLOW, SCMP_SYS(socket), &c, 1, "socket", err) < 0)
			return -1;
	}
	return 0;
}

/* socket() denied for every other family (under a default that allows):
 * each low value one by one, and anything above the last namespaced one. */
static int deny_families(struct builder *b, struct wm_error **err)
{
	struct sb_notify_rule nr;
	uint32_t act = action_of(b, WM_SC_ERRNO, EAFNOSUPPORT, false, &nr);
	struct scmp_arg_cmp above = ARG0(SCMP_CMP_GT, LAST_NAMESPACED, 0);

	if (act == SCMP_ACT_NOTIFY)
		note(b, SCMP_SYS(socket), &nr);
	for (int f = 0; f < LAST_NAMESPACED; f++) {
		struct scmp_arg_cmp c = ARG0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)f);

		if (!sb_family_namespaced(f) &&
		    add(b, act, SCMP_SYS(socket), &c, 1, "socket", err) < 0)
			return -1;
	}
	return add(b, act, SCMP_SYS(socket), &above, 1, "socket", err);
}

/* The policy's socket rules, narrowed to the namespaced families: an
 * unconditional allow becomes an allow per family; no rule at all under a
 * default that allows becomes a denial of the others. */
static int add_socket(struct builder *b, struct wm_error **err)
{
	const struct wm_policy *p = b->p;
	bool listed = false, allow_all = false;

	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

		if (strcmp(r->name, "socket") != 0)
			continue;
		listed = true;
		if (r->action != WM_SC_ALLOW && r->n_args == 0)
			return add_rule(b, SCMP_SYS(socket), r, err); /* denied outright */
		allow_all |= r->action == WM_SC_ALLOW && r->n_args == 0;
	}
	if (allow_all)
		return b->dflt == SCMP_ACT_ALLOW ? deny_families(b, err) : allow_families(b, err);
	for (size_t i = 0; i < p->seccomp.n_rules; i++) /* conditional rules as written */
		if (strcmp(p->seccomp.rules[i].name, "socket") == 0 &&
		    add_rule(b, SCMP_SYS(socket), &p->seccomp.rules[i], err) < 0)
			return -1;
	if (!listed && b->dflt == SCMP_ACT_ALLOW)
		return deny_families(b, err);
	return 0;
}

static bool seen_before(const struct wm_policy *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(p->seccomp.rules[j].name, p->seccomp.rules[i].name) == 0)
			return true;
	return false;
}

int sb_filter_export(scmp_filter_ctx ctx, struct sb_filter *out, struct wm_error **err)
{
	wm_autoclose int fd = memfd_create("wm-seccomp", MFD_CLOEXEC);
	struct wm_buf b = WM_BUF_INIT;
	int rc;

	if (fd < 0)
		return wm_error_set(err, errno, "memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return wm_error_set(err, -rc, "export seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0 || wm_buf_read_fd(&b, fd) < 0) {
		wm_buf_release(&b);
		return wm_error_set(err, errno, "read seccomp filter");
	}
	out->n_insns = b.len / sizeof(struct sock_filter);
	out->insns = (struct sock_filter *)wm_buf_detach(&b, NULL);
	return 0;
}

static int add_helper_defaults(struct builder *b, struct wm_error **err)
{
	const struct wm_policy *p = b->p;
	struct sb_notify_rule nr;

	for (size_t i = 0; i < sizeof(helper_calls) / sizeof(helper_calls[0]); i++) {
		const char *name = helper_calls[i];
		bool listed = false;
		int sys = seccomp_syscall_resolve_name(name);

		for (size_t j = 0; j < p->seccomp.n_rules; j++)
			listed |= strcmp(p->seccomp.rules[j].name, name) == 0;
		if (listed || sys == __NR_SCMP_ERROR)
			continue;
		action_of(b, p->seccomp.default_action, p->seccomp.default_errno, true, &nr);
		if (add(b, nr.kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO((uint16_t)nr.err), sys,
			NULL, 0, name, err) < 0)
			return -1;
	}
	return 0;
}

static int compile(const struct wm_policy *p, struct sb_filter *out, struct wm_error **err)
{
	struct builder b = {
		.p = p, .notify = out->notify, .out = out, .families = p->network != WM_NET_HOST
	};
	/* A policy without a filter of its own still gets the family rules. */
	uint32_t dflt = action_of(&b, p->seccomp.enabled ? p->seccomp.default_action : WM_SC_ALLOW,
				  p->seccomp.default_errno, false, &out->dflt);
	int rc = -1;

	b.dflt = dflt;
	b.ctx = seccomp_init(dflt);
	if (!b.ctx)
		return wm_error_set(err, EINVAL, "seccomp_init");
	/* Foreign architectures and x32 (its calls carry the x86_64 audit arch
	 * with bit 30 set): a native-only filter kills them. */
	if (seccomp_attr_set(b.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		wm_error_set(err, EINVAL, "seccomp attributes");
		goto out;
	}
	for (size_t i = 0; i < p->seccomp.n_rules; i++) {
		if (seen_before(p, i) ||
		    (b.families && strcmp(p->seccomp.rules[i].name, "socket") == 0))
			continue;
		if (add_syscall(&b, i, err) < 0)
			goto out;
	}
	if (b.families && add_socket(&b, err) < 0)
		goto out;
	/* The helper's calls under a notifying default: answer plainly (see top). */
	if (dflt == SCMP_ACT_NOTIFY && add_helper_defaults(&b, err) < 0)
		goto out;
	rc = sb_filter_export(b.ctx, out, err);
out:
	seccomp_release(b.ctx);
	return rc;
}

static int by_nr(const void *a, const void *b)
{
	const struct sb_notify_rule *x = a, *y = b;

	return (x->nr > y->nr) - (x->nr < y->nr);
}

/* The first system call number libseccomp cannot name on this machine. */
static unsigned first_unknown_nr(void)
{
	static unsigned first;

	if (!first) {
		for (int nr = 0; nr < 4096; nr++) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

			if (name)
				first = (unsigned)nr + 1;
			free(name);
		}
	}
	return first;
}

/* See struct sb_filter: six instructions, the same for every policy. */
static void unknown_filter(struct sb_filter *f)
{
	static struct sock_filter prog[6];

	if (!prog[0].code) {
		const struct sock_filter p[6] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, first_unknown_nr(), 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};

		memcpy(prog, p, sizeof(p));
	}
	f->unknown = prog;
	f->n_unknown = 6;
}

int sb_filter_build(const struct wm_policy *p, bool want_notify, struct sb_filter *out, char **note,
		    struct wm_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!p->seccomp.enabled && p->network == WM_NET_HOST)
		return 0;
	out->notify = want_notify && sb_notify_supported();
	if (!p->seccomp.enabled || p->seccomp.default_action == WM_SC_ALLOW)
		unknown_filter(out);
	if (sb_filter_cache_load(p, out, note))
		return 0;
	if (compile(p, out, err) < 0) {
		sb_filter_release(out);
		return wm_error_wrap(err, "policy `%s`", p->name);
	}
	if (out->n_rules)
		qsort(out->rules, out->n_rules, sizeof(*out->rules), by_nr);
	sb_filter_cache_store(p, out);
	return 0;
}

void sb_filter_release(struct sb_filter *f)
{
	free(f->insns);
	free(f->rules);
	memset(f, 0, sizeof(*f)); /* f->unknown is static */
}

const struct sb_notify_rule *sb_filter_lookup(const struct sb_filter *f, int nr)
{
	struct sb_notify_rule key = { .nr = nr };
	const struct sb_notify_rule *r =
		f->n_rules ? bsearch(&key, f->rules, f->n_rules, sizeof(key), by_nr) : NULL;

	return r ? r : &f->dflt;
}

int sb_filter_load(const struct sb_filter *f, struct sb_fail *fail)
{
	struct sock_fprog prog = { .len = (unsigned short)f->n_insns, .filter = f->insns };
	struct sock_fprog unknown = { .len = (unsigned short)f->n_unknown,
				      .filter = (struct sock_filter *)f->unknown };
	long rc;

	if (!f->insns)
		return 0;
	/* First: the main filter may deny seccomp() itself. */
	if (f->unknown && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &unknown) != 0)
		return sb_failf(fail, errno, "load seccomp filter");
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     f->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
	if (rc < 0)
		return sb_failf(fail, errno, "load seccomp filter");
	return (int)rc;
}
