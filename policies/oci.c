/*
 * oci.c - OCI runtime-spec / Docker seccomp profiles (JSON) into rules.
 *
 * Read the way runc reads them, so a profile behaves here as it does under
 * Docker or Podman on this machine: `includes`/`excludes` are decided now,
 * against the policy's capabilities and the native architecture
 * (`minKernel` is taken as met); a rule whose conditions name the same
 * argument more than once becomes one rule per condition (runc's "OR"
 * reading); names libseccomp does not know at all are dropped with a
 * warning, as runc skips them; names the native architecture lacks are
 * kept (the sandbox skips them). Architectures this libseccomp does not know
 * (a newer profile's SCMP_ARCH_LOONGARCH64) are skipped with a warning, as
 * runc does, and calls newer than every call the profile names fail with
 * ENOSYS (as runc makes them) so that libc falls back to older ones. Every
 * problem is reported at the place in the JSON it is about (oci_pos.c).
 */
#include "policies/internal.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"

/* At most this many problems of one profile are reported one by one. */
#define OCI_MAX_DIAGS 100
#define OCI_MAX_BYTES (4u << 20)

struct oci {
	const char *path;
	const char *yfile; /* where problems go when the JSON cannot be read */
	unsigned yline, ycol;
	struct wm_diags *diags;
	char *const *caps;
	uint32_t arches[32];
	size_t n_arches;
	bool failed;
	const char *text; /* the profile, once read */
	size_t len;
	struct pol_jpos *pos; /* built at the first problem */
	const char *keys[4];  /* the value the next problem is about: */
	long idx[4];	      /* root[keys[0] or idx[0]]... */
	size_t depth;
	size_t n_diags, n_more;
};

/* The next problems are about root[k1][i1][k2][i2]; NULL keys and negative
 * indexes end the path. */
static void at(struct oci *o, const char *k1, long i1, const char *k2, long i2)
{
	o->depth = 0;
	if (!k1)
		return;
	o->keys[o->depth] = k1, o->idx[o->depth++] = -1;
	if (i1 < 0)
		return;
	o->keys[o->depth] = NULL, o->idx[o->depth++] = i1;
	if (!k2)
		return;
	o->keys[o->depth] = k2, o->idx[o->depth++] = -1;
	if (i2 >= 0)
		o->keys[o->depth] = NULL, o->idx[o->depth++] = i2;
}

static void __attribute__((format(printf, 3, 4)))
report(struct oci *o, enum wm_diag_level lvl, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	unsigned line, col;

	if (lvl == WM_DIAG_ERROR)
		o->failed = true;
	if (o->n_diags++ >= OCI_MAX_DIAGS) {
		o->n_more++;
		return;
	}
	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	if (o->text) {
		if (!o->pos)
			o->pos = pol_jpos_index(o->text, o->len);
		pol_text_place(o->text, pol_jpos_find(o->pos, o->keys, o->idx, o->depth), &line,
			       &col);
		wm_diags_add(o->diags, lvl, o->path, line, col, "%s", msg);
	} else {
		wm_diags_add(o->diags, lvl, o->yfile, o->yline, o->ycol, "%s: %s", o->path, msg);
	}
	free(msg);
}

/* libseccomp's architecture for "SCMP_ARCH_X86_64" or "x86_64"; 0 if none. */
static uint32_t arch_from_name(const char *s)
{
	char buf[64];
	size_t i = 0;

	if (wm_str_has_prefix(s, "SCMP_ARCH_"))
		s += strlen("SCMP_ARCH_");
	for (; i < sizeof(buf) - 1 && s[i]; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return seccomp_arch_resolve_name(buf);
}

/* Go's names (runtime.GOARCH) of the native architecture, which
 * includes/excludes use; the libseccomp names are accepted too. */
static bool is_native_arch(const char *s)
{
	static const struct {
		uint32_t arch;
		const char *go;
	} go_names[] = {
		{ SCMP_ARCH_X86_64, "amd64" },	    { SCMP_ARCH_X86, "386" },
		{ SCMP_ARCH_X32, "x32" },	    { SCMP_ARCH_AARCH64, "arm64" },
		{ SCMP_ARCH_ARM, "arm" },	    { SCMP_ARCH_PPC64LE, "ppc64le" },
		{ SCMP_ARCH_PPC64, "ppc64" },	    { SCMP_ARCH_S390X, "s390x" },
		{ SCMP_ARCH_S390, "s390" },	    { SCMP_ARCH_MIPS64, "mips64" },
		{ SCMP_ARCH_MIPSEL64, "mips64le" }, { SCMP_ARCH_RISCV64, "riscv64" },
	};
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < sizeof(go_names) / sizeof(go_names[0]); i++)
		if (go_names[i].arch == native && strcmp(go_names[i].go, s) == 0)
			return true;
	return arch_from_name(s) == native;
}

static int parse_action(struct oci *o, const char *s, enum wm_seccomp_action *a, const char *where)
{
	/* The other names of a kill, then each action's own (policy.h). */
#define OCI_NAME(e, name, oci, rank, passes) { (oci), (e) },
	static const struct {
		const char *name;
		enum wm_seccomp_action a;
	} acts[] = { { "SCMP_ACT_KILL_THREAD", WM_SC_KILL },
		     { "SCMP_ACT_KILL_PROCESS", WM_SC_KILL },
		     WM_SECCOMP_ACTIONS(OCI_NAME) };
#undef OCI_NAME

	for (size_t i = 0; s && i < sizeof(acts) / sizeof(acts[0]); i++) {
		if (strcmp(s, acts[i].name) == 0) {
			*a = acts[i].a;
			return 0;
		}
	}
	if (s && (strcmp(s, "SCMP_ACT_TRACE") == 0 || strcmp(s, "SCMP_ACT_NOTIFY") == 0))
		report(o, WM_DIAG_ERROR,
		       "%s: action %s is not supported (no tracer or listener here)", where, s);
	else
		report(o, WM_DIAG_ERROR, "%s: unknown action '%s'", where, s ? s : "(missing)");
	return -1;
}

static int parse_op(struct oci *o, const char *s, enum wm_seccomp_op *op, const char *where)
{
	/* OCI profiles name the operators as libseccomp does (policy.h). */
#define OCI_NAME(e, name, lsc) [e] = #lsc,
	static const char *const ops[WM_SECCOMP_OP_COUNT] = { WM_SECCOMP_OPS(OCI_NAME) };
#undef OCI_NAME
	int i = wm_xlist_index(ops, WM_SECCOMP_OP_COUNT, s);

	if (i >= 0) {
		*op = (enum wm_seccomp_op)i;
		return 0;
	}
	report(o, WM_DIAG_ERROR, "%s: unknown operator '%s'", where, s ? s : "(missing)");
	return -1;
}

static bool has_cap(struct oci *o, const char *name)
{
	char *c = pol_cap_canonical(name);
	bool r = c && wm_strv_contains(o->caps, c);

	if (!c)
		report(o, WM_DIAG_ERROR, "unknown capability '%s'", name);
	free(c);
	return r;
}

/* Does the entry apply to this policy on this machine? (runc's reading) */
static bool applies(struct oci *o, json_t *call)
{
	json_t *inc = json_object_get(call, "includes"); /* borrowed */
	json_t *exc = json_object_get(call, "excludes");
	json_t *v;
	size_t i;
	bool found;

	json_array_foreach(
		json_object_get(inc, "caps"), i,
		v) if (!has_cap(o, json_string_value(v) ? json_string_value(v) : "")) return false;
	json_array_foreach(
		json_object_get(exc, "caps"), i,
		v) if (has_cap(o, json_string_value(v) ? json_string_value(v) : "")) return false;
	if (json_array_size(json_object_get(inc, "arches"))) {
		found = false;
		json_array_foreach(json_object_get(inc, "arches"), i, v) found =
			found || (json_string_value(v) && is_native_arch(json_string_value(v)));
		if (!found)
			return false;
	}
	json_array_foreach(json_object_get(exc, "arches"), i,
			   v) if (json_string_value(v) &&
				  is_native_arch(json_string_value(v))) return false;
	return true;
}

static bool name_known(struct oci *o, const char *name)
{
	if (pol_syscall_known(name))
		return true;
	for (size_t i = 0; i < o->n_arches; i++)
		if (pol_syscall_known_arch(name, o->arches[i]))
			return true;
	return false;
}

static int parse_args(struct oci *o, json_t *args, struct wm_seccomp_rule *r, const char *where)
{
	json_t *a;
	size_t i;

	if (args && !json_is_array(args) && !json_is_null(args)) {
		report(o, WM_DIAG_ERROR, "%s: args must be a list", where);
		return -1;
	}
	json_array_foreach(args, i, a)
	{
		struct wm_seccomp_arg *x;
		json_t *idx = json_object_get(a, "index");

		if (r->n_args == 6 || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
		    json_integer_value(idx) > 5) {
			report(o, WM_DIAG_ERROR,
			       "%s: args[%zu]: index must be 0 to 5 (at most 6 args)", where, i);
			return -1;
		}
		x = &r->args[r->n_args++];
		x->index = (unsigned)json_integer_value(idx);
		/* jansson reads integers as signed 64-bit: keep the bits. */
		x->value = (uint64_t)json_integer_value(json_object_get(a, "value"));
		x->value_two = (uint64_t)json_integer_value(json_object_get(a, "valueTwo"));
		if (parse_op(o, json_string_value(json_object_get(a, "op")), &x->op, where) < 0)
			return -1;
	}
	return 0;
}

/* Adds the rule for each name; conditions on a repeated index are OR-ed. */
static void add_rules(struct oci *o, const struct wm_seccomp_rule *r, json_t *names, size_t call,
		      bool old_format, struct wm_seccomp_rule **rules, size_t *n, const char *where)
{
	bool split = false;
	json_t *v;
	size_t i;

	for (size_t a = 0; a < r->n_args; a++)
		for (size_t b = a + 1; b < r->n_args; b++)
			split = split || r->args[a].index == r->args[b].index;
	json_array_foreach(names, i, v)
	{
		struct wm_seccomp_rule x = *r;
		const char *name = json_string_value(v);

		at(o, "syscalls", (long)call, old_format ? "name" : "names",
		   old_format ? -1 : (long)i);
		if (!name) {
			report(o, WM_DIAG_ERROR, "%s: names must be strings", where);
			continue;
		}
		if (!name_known(o, name)) {
			report(o, WM_DIAG_WARNING, "%s: unknown system call '%s' skipped", where,
			       name);
			continue;
		}
		x.name = (char *)name;
		if (!split) {
			pol_rules_push(rules, n, &x);
			continue;
		}
		for (size_t a = 0; a < r->n_args; a++) {
			x.args[0] = r->args[a];
			x.n_args = 1;
			pol_rules_push(rules, n, &x);
		}
	}
}

static void parse_call(struct oci *o, json_t *call, size_t i, struct wm_seccomp_rule **rules,
		       size_t *n)
{
	struct wm_seccomp_rule r = { 0 };
	char where[48];
	json_t *names = json_object_get(call, "names"), *one = NULL, *e;

	snprintf(where, sizeof(where), "syscalls[%zu]", i);
	at(o, "syscalls", (long)i, NULL, -1);
	if (!json_is_object(call)) {
		report(o, WM_DIAG_ERROR, "%s must be an object", where);
		return;
	}
	if (!names && json_is_string(json_object_get(call, "name"))) {
		/* The old Docker format: one "name" per entry. */
		one = json_array();
		json_array_append(one, json_object_get(call, "name")); /* does not steal */
		names = one;
	}
	if (!json_is_array(names)) {
		report(o, WM_DIAG_ERROR, "%s: needs 'names', a list of system calls", where);
		goto out;
	}
	at(o, "syscalls", (long)i, "action", -1);
	if (parse_action(o, json_string_value(json_object_get(call, "action")), &r.action, where) <
	    0)
		goto out;
	at(o, "syscalls", (long)i, "args", -1);
	e = json_object_get(call, "errnoRet");
	if (r.action == WM_SC_ERRNO && json_is_integer(e))
		r.errno_ret = (int)json_integer_value(e);
	if (parse_args(o, json_object_get(call, "args"), &r, where) < 0)
		goto out;
	at(o, "syscalls", (long)i, NULL, -1);
	if (!applies(o, call))
		goto out;
	add_rules(o, &r, names, i, one != NULL, rules, n, where);
out:
	json_decref(one);
}

/* An architecture by name, or 0 after a warning: one this libseccomp does
 * not know cannot be on this machine, so its rules are not needed here. */
static uint32_t known_arch(struct oci *o, json_t *v)
{
	const char *name = json_string_value(v);
	uint32_t a = name ? arch_from_name(name) : 0;
	const struct scmp_version *ver = seccomp_version();

	if (!name)
		report(o, WM_DIAG_ERROR, "an architecture must be a string");
	else if (!a)
		report(o, WM_DIAG_WARNING,
		       "unknown architecture '%s' skipped (libseccomp %u.%u.%u does not know it)",
		       name, ver->major, ver->minor, ver->micro);
	return a;
}

static void add_arch(struct oci *o, uint32_t a)
{
	if (a && o->n_arches < 32)
		o->arches[o->n_arches++] = a;
}

static void parse_arches(struct oci *o, json_t *root)
{
	json_t *v, *m, *sub;
	size_t i, j;

	json_array_foreach(json_object_get(root, "architectures"), i, v)
	{
		at(o, "architectures", (long)i, NULL, -1);
		add_arch(o, known_arch(o, v));
	}
	json_array_foreach(json_object_get(root, "archMap"), i, m)
	{
		at(o, "archMap", (long)i, "architecture", -1);
		add_arch(o, known_arch(o, json_object_get(m, "architecture")));
		json_array_foreach(json_object_get(m, "subArchitectures"), j, sub)
		{
			at(o, "archMap", (long)i, "subArchitectures", (long)j);
			add_arch(o, known_arch(o, sub));
		}
	}
}

/* Calls newer than every call the profile names fail with ENOSYS rather
 * than the default action, as runc makes them: a profile written before a
 * call existed cannot have meant to deny it, and ENOSYS makes libc fall
 * back to the older call it replaces (statx to fstatat, clone3 to clone). */
static void newer_calls_enosys(struct wm_seccomp_rule **rules, size_t *n,
			       enum wm_seccomp_action def)
{
	size_t n_native, named = *n;
	const char *const *native = pol_native_syscalls(&n_native);
	int newest = -1;

	if (def == WM_SC_ALLOW || def == WM_SC_LOG)
		return;
	for (size_t i = 0; i < named; i++) {
		int nr = seccomp_syscall_resolve_name((*rules)[i].name);

		if (nr > newest)
			newest = nr;
	}
	for (size_t i = 0; i < n_native; i++) {
		struct wm_seccomp_rule r = { .name = (char *)native[i],
					     .action = WM_SC_ERRNO,
					     .errno_ret = ENOSYS };

		if (seccomp_syscall_resolve_name(native[i]) > newest)
			pol_rules_push(rules, n, &r);
	}
}

/* The profile's text, at most OCI_MAX_BYTES of it; NULL after reporting. */
static json_t *read_profile(struct oci *o, struct wm_buf *b)
{
	json_error_t jerr;
	json_t *root;
	int r = wm_buf_read_file_max(b, o->path, OCI_MAX_BYTES);

	if (r < 0) {
		report(o, WM_DIAG_ERROR, "cannot read the seccomp profile: %s", strerror(errno));
		return NULL;
	}
	if (r > 0) {
		report(o, WM_DIAG_ERROR, "the seccomp profile is larger than the limit of %u bytes",
		       OCI_MAX_BYTES);
		return NULL;
	}
	root = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &jerr); /* new reference */
	if (!root)
		wm_diags_error(o->diags, o->path, (unsigned)jerr.line, (unsigned)jerr.column,
			       "JSON: %s", jerr.text);
	o->text = b->data;
	o->len = b->len;
	return root;
}

int pol_oci_load(const char *path, char *const *caps, const char *yfile, unsigned yline,
		 unsigned ycol, struct wm_diags *diags, enum wm_seccomp_action *def_action,
		 int *def_errno, struct wm_seccomp_rule **rules, size_t *n_rules)
{
	struct oci o = { .path = path,
			 .yfile = yfile ? yfile : path,
			 .yline = yfile ? yline : 1,
			 .ycol = yfile ? ycol : 1,
			 .diags = diags,
			 .caps = caps };
	struct wm_buf text = WM_BUF_INIT;
	json_t *root, *call, *e;
	size_t i;

	*rules = NULL;
	*n_rules = 0;
	root = read_profile(&o, &text);
	if (!root) {
		wm_buf_release(&text);
		return -1;
	}
	if (!json_is_object(root)) {
		report(&o, WM_DIAG_ERROR, "a seccomp profile must be a JSON object");
		goto out;
	}
	parse_arches(&o, root);
	at(&o, "defaultAction", -1, NULL, -1);
	if (parse_action(&o, json_string_value(json_object_get(root, "defaultAction")), def_action,
			 "defaultAction") < 0)
		goto out;
	e = json_object_get(root, "defaultErrnoRet");
	*def_errno =
		*def_action == WM_SC_ERRNO && json_is_integer(e) ? (int)json_integer_value(e) : 0;
	at(&o, "syscalls", -1, NULL, -1);
	if (json_object_get(root, "syscalls") && !json_is_array(json_object_get(root, "syscalls")))
		report(&o, WM_DIAG_ERROR, "'syscalls' must be a list");
	json_array_foreach(json_object_get(root, "syscalls"), i, call)
		parse_call(&o, call, i, rules, n_rules);
	newer_calls_enosys(rules, n_rules, *def_action);
out:
	if (o.n_more)
		wm_diags_add(diags, o.failed ? WM_DIAG_ERROR : WM_DIAG_WARNING, path, 1, 1,
			     "... and %zu more problems in this profile", o.n_more);
	json_decref(root);
	pol_jpos_free(o.pos);
	wm_buf_release(&text);
	if (o.failed) {
		pol_rules_free(*rules, *n_rules);
		*rules = NULL;
		*n_rules = 0;
		return -1;
	}
	return 0;
}
