/*
 * load.c - a policy file's YAML (SPEC.md section 3) into specs.
 *
 * libyaml's document loader keeps a start mark on every node, so every
 * problem is reported at its own FILE:LINE:COL, and the walk goes on after
 * a problem so that one run reports them all. Names are checked here
 * (syscalls with libseccomp, capabilities with libcap); `inherits` and
 * `seccomp.profile` are checked by set.c, which knows the other policies.
 */
#include "policies/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"

struct ld {
	const char *file;
	char *dir; /* directory of file, for relative paths; NULL: current */
	yaml_document_t *doc;
	struct wm_diags *diags;
};

static yaml_node_t *node_at(struct ld *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

static void __attribute__((format(printf, 3, 4)))
bad(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	wm_diags_error(l->diags, l->file, n ? (unsigned)n->start_mark.line + 1 : 1,
		       n ? (unsigned)n->start_mark.column + 1 : 1, "%s", msg);
	free(msg);
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

static const char *scalar(struct ld *l, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		bad(l, n, "'%s' must be a single value, not a %s", key,
		    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool want_map(struct ld *l, const yaml_node_t *n, const char *key)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	bad(l, n, "'%s' must be a mapping (key: value lines)", key);
	return false;
}

/* Checks a key against the known ones; reports an unknown one with a hint. */
static bool known_key(struct ld *l, const yaml_node_t *k, const char *const *known, size_t n,
		      const char *where)
{
	const char *name = scalar(l, k, where);
	const char *hint;

	if (!name)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	hint = wm_suggest(name, known, n);
	if (hint)
		bad(l, k, "unknown key '%s' in %s (did you mean '%s'?)", name, where, hint);
	else
		bad(l, k, "unknown key '%s' in %s", name, where);
	return false;
}

#define KNOWN(l, k, arr, where) known_key((l), (k), (arr), sizeof(arr) / sizeof((arr)[0]), (where))

static int parse_enum(struct ld *l, const yaml_node_t *n, const char *key, const char *const *names,
		      size_t count)
{
	const char *v = scalar(l, n, key);
	struct wm_buf all = WM_BUF_INIT;
	const char *hint;

	if (!v)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < count; i++)
		wm_buf_addf(&all, "%s%s", i ? (i + 1 == count ? " or " : ", ") : "", names[i]);
	hint = wm_suggest(v, names, count);
	if (hint)
		bad(l, n, "%s must be %s, not '%s' (did you mean '%s'?)", key, all.data, v, hint);
	else
		bad(l, n, "%s must be %s, not '%s'", key, all.data, v);
	wm_buf_release(&all);
	return -1;
}

static int parse_bool(struct ld *l, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const names[] = { "false", "true" };
	int v = parse_enum(l, n, key, names, 2);

	if (v < 0)
		return -1;
	*out = v == 1;
	return 0;
}

static char *join_dir(struct ld *l, const char *path)
{
	if (path[0] == '/' || !l->dir)
		return wm_xstrdup(path);
	if (strcmp(l->dir, "/") == 0)
		return wm_xasprintf("/%s", path);
	return wm_xasprintf("%s/%s", l->dir, path);
}

/* A list of strings; each checked by `check` (may be NULL) which returns a
 * canonical copy or NULL after reporting. */
typedef char *(*item_check)(struct ld *l, const yaml_node_t *n, const char *v, const char *key);

static int parse_list(struct ld *l, const yaml_node_t *n, const char *key, item_check check,
		      char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t count = 0;
	int rc = 0;

	if (is_null(n))
		goto done;
	if (n->type != YAML_SEQUENCE_NODE) {
		bad(l, n, "'%s' must be a list, e.g. [a, b]", key);
		return -1;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = node_at(l, *it);
		const char *s = scalar(l, item, key);
		char *c;

		if (!s) {
			rc = -1;
			continue;
		}
		c = check ? check(l, item, s, key) : wm_xstrdup(s);
		if (!c) {
			rc = -1;
			continue;
		}
		if (wm_strv_contains(v, c))
			free(c);
		else
			wm_strv_push_owned(&v, &count, c);
	}
done:
	if (!v)
		v = wm_xcalloc(1, sizeof(*v)); /* an empty list is a value, unlike NULL */
	wm_strv_free(*out);
	*out = v;
	if (n_out)
		*n_out = count;
	return rc;
}

static char *check_syscall(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	const char *hint;

	(void)key;
	if (pol_syscall_known(v))
		return wm_xstrdup(v);
	hint = pol_syscall_suggest(v);
	if (hint)
		bad(l, n, "unknown system call '%s' (did you mean '%s'?)", v, hint);
	else
		bad(l, n, "unknown system call '%s'", v);
	return NULL;
}

static char *check_cap(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	char *c = pol_cap_canonical(v);

	(void)key;
	if (!c)
		bad(l, n, "unknown capability '%s' (write e.g. cap_net_bind_service)", v);
	return c;
}

static char *check_abs_path(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (v[0] != '/') {
		bad(l, n, "%s: '%s' must be an absolute path", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

static bool env_name_ok(const char *s)
{
	if (!*s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

static char *check_env_name(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (!env_name_ok(v)) {
		bad(l, n, "%s: '%s' is not a variable name", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

static char *check_device(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (!*v || v[0] == '/' || strstr(v, "..")) {
		bad(l, n, "%s: '%s' must be a name under /dev, e.g. tty or pts", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

static int parse_size_node(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = scalar(l, n, key);
	struct wm_error *e = NULL;

	if (!v)
		return -1;
	if (strcmp(v, "none") == 0 || strcmp(v, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (wm_parse_size(v, out, &e) < 0) {
		bad(l, n, "%s: %s", key, e->msg);
		wm_error_free(e);
		return -1;
	}
	return 0;
}

static int parse_count(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = scalar(l, n, key);
	char *end;

	if (!v)
		return -1;
	if (strcmp(v, "none") == 0 || strcmp(v, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-') {
		bad(l, n, "%s must be a whole number, not '%s'", key, v);
		return -1;
	}
	return 0;
}

static int parse_u64(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = scalar(l, n, key);
	char *end;

	if (!v)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (!*v || *end || errno || v[0] == '-') {
		bad(l, n, "%s must be a number (decimal or 0x hex), not '%s'", key, v);
		return -1;
	}
	return 0;
}

static void parse_network(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const names[] = { "none", "loopback", "host" };
	int v = parse_enum(l, n, "network", names, 3);

	if (v >= 0) {
		s->p.network = (enum wm_net_mode)v;
		s->given |= PF_NETWORK;
	}
}

static void parse_bind(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "src", "dst", "mode" };
	static const char *const modes[] = { "ro", "rw" };
	struct wm_bind b = { 0 };
	bool ok = true;

	if (!want_map(l, n, "bind entry"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *key, *val;
		int m;

		if (!KNOWN(l, k, keys, "bind")) {
			ok = false;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "mode") == 0) {
			m = parse_enum(l, v, "bind mode", modes, 2);
			ok = ok && m >= 0;
			b.rw = m == 1;
			continue;
		}
		val = scalar(l, v, key);
		if (!val || !*val) {
			if (val)
				bad(l, v, "bind %s must not be empty", key);
			ok = false;
		} else if (strcmp(key, "src") == 0) {
			free(b.src);
			b.src = join_dir(l, val);
		} else if (val[0] != '/') {
			bad(l, v, "bind dst '%s' must be an absolute path", val);
			ok = false;
		} else {
			free(b.dst);
			b.dst = wm_xstrdup(val);
		}
	}
	if (ok && !b.src) {
		bad(l, n, "bind entry needs a src");
		ok = false;
	}
	if (ok && !b.dst && b.src[0] != '/') {
		bad(l, n, "bind entry with a relative src needs a dst");
		ok = false;
	}
	if (!ok) {
		free(b.src);
		free(b.dst);
		return;
	}
	if (!b.dst)
		b.dst = wm_xstrdup(b.src);
	s->p.fs.binds = wm_xrealloc(s->p.fs.binds, (s->p.fs.n_binds + 1) * sizeof(b));
	s->p.fs.binds[s->p.fs.n_binds++] = b;
}

static void parse_filesystem(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "view", "rootfs", "workspace", "tmp",
					    "hide", "bind",   "devices" };
	static const char *const views[] = { "host-rw", "host-ro", "system", "minimal" };
	static const char *const ws[] = { "rw", "ro", "none" };

	if (!want_map(l, n, "filesystem"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *key, *val;
		int e;

		if (!KNOWN(l, k, keys, "filesystem"))
			continue;
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "view") == 0) {
			if ((e = parse_enum(l, v, "filesystem.view", views, 4)) >= 0) {
				s->p.fs.view = (enum wm_fs_view)e;
				s->given |= PF_VIEW;
			}
		} else if (strcmp(key, "workspace") == 0) {
			if ((e = parse_enum(l, v, "filesystem.workspace", ws, 3)) >= 0) {
				s->p.fs.workspace = (enum wm_ws_mode)e;
				s->given |= PF_WORKSPACE;
			}
		} else if (strcmp(key, "rootfs") == 0) {
			if ((val = scalar(l, v, key)) != NULL) {
				free(s->p.fs.rootfs);
				s->p.fs.rootfs = is_null(v) || strcmp(val, "none") == 0
							 ? NULL
							 : join_dir(l, val);
				s->given |= PF_ROOTFS;
			}
		} else if (strcmp(key, "tmp") == 0) {
			if (parse_size_node(l, v, "filesystem.tmp", &s->p.fs.tmp_size) == 0)
				s->given |= PF_TMP;
		} else if (strcmp(key, "hide") == 0) {
			if (parse_list(l, v, "filesystem.hide", check_abs_path, &s->p.fs.hide,
				       NULL) == 0)
				s->given |= PF_HIDE;
		} else if (strcmp(key, "devices") == 0) {
			if (parse_list(l, v, "filesystem.devices", check_device, &s->p.fs.devices,
				       NULL) == 0)
				s->given |= PF_DEVICES;
		} else if (is_null(v)) {
			s->given |= PF_BIND;
		} else if (v->type != YAML_SEQUENCE_NODE) {
			bad(l, v, "'bind' must be a list of {src, dst, mode}");
		} else {
			s->given |= PF_BIND;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				parse_bind(l, node_at(l, *it), s);
		}
	}
}

static int parse_errno_node(struct ld *l, const yaml_node_t *n, const char *key)
{
	const char *v = scalar(l, n, key);
	int e;

	if (!v)
		return -1;
	e = pol_errno_parse(v);
	if (e < 0)
		bad(l, n, "%s: unknown errno '%s' (write e.g. EPERM, ENOSYS or a number)", key, v);
	return e;
}

static int parse_arg(struct ld *l, const yaml_node_t *n, struct wm_seccomp_arg *a)
{
	static const char *const keys[] = { "index", "op", "value", "value_two" };
	static const char *const ops[] = { "eq", "ne", "lt", "le", "gt", "ge", "masked_eq" };
	bool has_index = false, has_op = false;
	int rc = 0, e;
	uint64_t idx = 0;

	if (!want_map(l, n, "argument condition"))
		return -1;
	memset(a, 0, sizeof(*a));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *key;

		if (!KNOWN(l, k, keys, "argument condition")) {
			rc = -1;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "index") == 0) {
			if (parse_u64(l, v, "index", &idx) < 0 || idx > 5) {
				if (idx > 5)
					bad(l, v, "argument index must be 0 to 5");
				rc = -1;
			}
			a->index = (unsigned)idx;
			has_index = true;
		} else if (strcmp(key, "op") == 0) {
			if ((e = parse_enum(l, v, "op", ops, 7)) < 0)
				rc = -1;
			else
				a->op = (enum wm_seccomp_op)e;
			has_op = true;
		} else if (strcmp(key, "value") == 0) {
			rc |= parse_u64(l, v, "value", &a->value);
		} else {
			rc |= parse_u64(l, v, "value_two", &a->value_two);
		}
	}
	if (!has_index || !has_op) {
		bad(l, n, "argument condition needs %s", !has_index ? "an index" : "an op");
		rc = -1;
	}
	return rc ? -1 : 0;
}

static void parse_rule(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "names", "action", "errno", "args" };
	static const char *const acts[] = { "allow", "errno", "kill", "trap", "log" };
	char **names = NULL;
	struct wm_seccomp_rule r = { 0 };
	bool ok = true, has_action = false;
	int e;

	if (!want_map(l, n, "seccomp rule"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *key;

		if (!KNOWN(l, k, keys, "seccomp rule")) {
			ok = false;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "names") == 0) {
			ok = parse_list(l, v, "names", check_syscall, &names, NULL) == 0 && ok;
		} else if (strcmp(key, "action") == 0) {
			if ((e = parse_enum(l, v, "action", acts, 5)) < 0)
				ok = false;
			else
				r.action = (enum wm_seccomp_action)e;
			has_action = true;
		} else if (strcmp(key, "errno") == 0) {
			if ((e = parse_errno_node(l, v, "errno")) < 0)
				ok = false;
			else
				r.errno_ret = e;
		} else if (v->type != YAML_SEQUENCE_NODE) {
			bad(l, v, "'args' must be a list of {index, op, value, value_two}");
			ok = false;
		} else {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				if (r.n_args == 6) {
					bad(l, node_at(l, *it),
					    "a rule takes at most 6 argument conditions");
					ok = false;
					break;
				}
				if (parse_arg(l, node_at(l, *it), &r.args[r.n_args]) < 0)
					ok = false;
				r.n_args++;
			}
		}
	}
	if (ok && (!names || !names[0])) {
		bad(l, n, "seccomp rule needs 'names' (a list of system calls)");
		ok = false;
	}
	if (ok && !has_action) {
		bad(l, n, "seccomp rule needs an 'action' (allow, errno, kill, trap or log)");
		ok = false;
	}
	for (size_t i = 0; ok && names[i]; i++) {
		r.name = names[i];
		pol_rules_push(&s->rules, &s->n_rules, &r);
	}
	wm_strv_free(names);
}

static void parse_seccomp_key(struct ld *l, const char *key, const yaml_node_t *v,
			      struct pol_spec *s)
{
	static const char *const acts[] = { "allow", "errno", "kill", "trap", "log" };
	const char *val;
	int e;

	if (strcmp(key, "default_action") == 0) {
		if ((e = parse_enum(l, v, "seccomp.default_action", acts, 5)) >= 0) {
			s->p.seccomp.default_action = (enum wm_seccomp_action)e;
			s->given |= PF_SC_DEFAULT;
		}
	} else if (strcmp(key, "default_errno") == 0) {
		if ((e = parse_errno_node(l, v, "seccomp.default_errno")) >= 0) {
			s->p.seccomp.default_errno = e;
			s->given |= PF_SC_ERRNO;
		}
	} else if (strcmp(key, "profile") == 0) {
		if ((val = scalar(l, v, key)) != NULL && !is_null(v)) {
			free(s->p.seccomp.profile);
			s->p.seccomp.profile = join_dir(l, val);
			s->given |= PF_SC_PROFILE;
			s->prof_line = (unsigned)v->start_mark.line + 1;
			s->prof_col = (unsigned)v->start_mark.column + 1;
		}
	} else if (strcmp(key, "allow") == 0) {
		parse_list(l, v, "seccomp.allow", check_syscall, &s->allow, &s->n_allow);
	} else if (strcmp(key, "deny") == 0) {
		parse_list(l, v, "seccomp.deny", check_syscall, &s->deny, &s->n_deny);
	} else if (is_null(v)) {
		return;
	} else if (v->type != YAML_SEQUENCE_NODE) {
		bad(l, v, "'rules' must be a list of {names, action, errno, args}");
	} else {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++)
			parse_rule(l, node_at(l, *it), s);
	}
}

static void parse_seccomp(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "default_action", "default_errno", "profile",
					    "allow",	      "deny",	       "rules" };

	if (n->type == YAML_SCALAR_NODE) {
		if (strcmp((const char *)n->data.scalar.value, "none") == 0) {
			s->given |= PF_SECCOMP_OFF;
			return;
		}
		bad(l, n, "seccomp must be 'none' or a mapping (default_action, allow, deny, ...)");
		return;
	}
	if (!want_map(l, n, "seccomp"))
		return;
	s->given |= PF_SC_ANY;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);

		if (KNOWN(l, k, keys, "seccomp"))
			parse_seccomp_key(l, (const char *)k->data.scalar.value, v, s);
	}
}

static void parse_limits(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "memory", "pids",  "cpu", "timeout",
					    "nofile", "fsize", "core" };
	const char *key, *val;
	char *end;

	if (!want_map(l, n, "limits"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		struct wm_error *e = NULL;

		if (!KNOWN(l, k, keys, "limits"))
			continue;
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "memory") == 0) {
			if (parse_size_node(l, v, "limits.memory", &s->p.limits.memory) == 0)
				s->given |= PF_MEMORY;
		} else if (strcmp(key, "fsize") == 0) {
			if (parse_size_node(l, v, "limits.fsize", &s->p.limits.fsize) == 0)
				s->given |= PF_FSIZE;
		} else if (strcmp(key, "core") == 0) {
			if (parse_size_node(l, v, "limits.core", &s->p.limits.core) == 0)
				s->given |= PF_CORE;
		} else if (strcmp(key, "pids") == 0) {
			if (parse_count(l, v, "limits.pids", &s->p.limits.pids) == 0)
				s->given |= PF_PIDS;
		} else if (strcmp(key, "nofile") == 0) {
			if (parse_count(l, v, "limits.nofile", &s->p.limits.nofile) == 0)
				s->given |= PF_NOFILE;
		} else if (strcmp(key, "timeout") == 0) {
			if (!(val = scalar(l, v, key)))
				continue;
			if (strcmp(val, "none") == 0) {
				s->p.limits.timeout_ms = 0;
				s->given |= PF_TIMEOUT;
			} else if (wm_parse_duration(val, &s->p.limits.timeout_ms, &e) < 0) {
				bad(l, v, "limits.timeout: %s", e->msg);
				wm_error_free(e);
			} else {
				s->given |= PF_TIMEOUT;
			}
		} else {
			if (!(val = scalar(l, v, key)))
				continue;
			if (strcmp(val, "none") == 0) {
				s->p.limits.cpu = 0;
				s->given |= PF_CPU;
				continue;
			}
			errno = 0;
			s->p.limits.cpu = strtod(val, &end);
			if (!*val || *end || errno || s->p.limits.cpu < 0 || s->p.limits.cpu > 4096)
				bad(l, v,
				    "limits.cpu must be a number of CPUs such as 2 or 0.5, not "
				    "'%s'",
				    val);
			else
				s->given |= PF_CPU;
		}
	}
}

static void env_set_put(char ***set, const char *key, const char *val)
{
	size_t n = wm_strv_len(*set), klen = strlen(key);

	for (size_t i = 0; i < n; i++) {
		if (strncmp((*set)[i], key, klen) == 0 && (*set)[i][klen] == '=') {
			free((*set)[i]);
			(*set)[i] = wm_xasprintf("%s=%s", key, val);
			return;
		}
	}
	wm_strv_push_owned(set, &n, wm_xasprintf("%s=%s", key, val));
}

static void parse_env(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "keep", "set" };

	if (!want_map(l, n, "env"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);

		if (!KNOWN(l, k, keys, "env"))
			continue;
		if (strcmp((const char *)k->data.scalar.value, "keep") == 0) {
			if (parse_list(l, v, "env.keep", check_env_name, &s->p.env.keep, NULL) == 0)
				s->given |= PF_ENV_KEEP;
			continue;
		}
		if (is_null(v) || !want_map(l, v, "env.set"))
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *ek = node_at(l, q->key), *ev = node_at(l, q->value);
			const char *name = scalar(l, ek, "env.set"),
				   *val = scalar(l, ev, "env.set");

			if (!name || !val)
				continue;
			if (!env_name_ok(name))
				bad(l, ek, "env.set: '%s' is not a variable name", name);
			else
				env_set_put(&s->p.env.set, name, val);
		}
	}
}

static void parse_policy_key(struct ld *l, const char *key, yaml_node_t *v, struct pol_spec *s)
{
	const char *val;

	if (strcmp(key, "inherits") == 0) {
		if ((val = scalar(l, v, key)) != NULL) {
			free(s->p.inherits);
			s->p.inherits = wm_xstrdup(val);
			s->inh_line = (unsigned)v->start_mark.line + 1;
			s->inh_col = (unsigned)v->start_mark.column + 1;
		}
	} else if (strcmp(key, "description") == 0) {
		if ((val = scalar(l, v, key)) != NULL) {
			free(s->p.description);
			s->p.description = wm_xstrdup(val);
			s->given |= PF_DESCRIPTION;
		}
	} else if (strcmp(key, "network") == 0) {
		parse_network(l, v, s);
	} else if (strcmp(key, "filesystem") == 0) {
		parse_filesystem(l, v, s);
	} else if (strcmp(key, "capabilities") == 0) {
		if (parse_list(l, v, "capabilities", check_cap, &s->p.capabilities, NULL) == 0)
			s->given |= PF_CAPS;
	} else if (strcmp(key, "user_namespace") == 0) {
		if (parse_bool(l, v, key, &s->p.user_namespace) == 0)
			s->given |= PF_USERNS;
	} else if (strcmp(key, "landlock") == 0) {
		if (parse_bool(l, v, key, &s->p.landlock) == 0)
			s->given |= PF_LANDLOCK;
	} else if (strcmp(key, "seccomp") == 0) {
		parse_seccomp(l, v, s);
	} else if (strcmp(key, "limits") == 0) {
		parse_limits(l, v, s);
	} else {
		parse_env(l, v, s);
	}
}

static struct pol_spec *parse_policy(struct ld *l, const yaml_node_t *k, const yaml_node_t *n)
{
	static const char *const keys[] = { "inherits",	  "description",  "network",
					    "filesystem", "capabilities", "user_namespace",
					    "landlock",	  "seccomp",	  "limits",
					    "env" };
	struct pol_spec *s = wm_xcalloc(1, sizeof(*s));

	s->p.name = wm_xstrdup((const char *)k->data.scalar.value);
	s->p.source = wm_xstrdup(l->file);
	s->file = wm_xstrdup(l->file);
	s->line = (unsigned)k->start_mark.line + 1;
	s->col = (unsigned)k->start_mark.column + 1;
	/* Defaults of a policy that inherits nothing (policies.example.yaml). */
	s->p.fs.view = WM_VIEW_HOST_RO;
	s->p.seccomp.default_action = WM_SC_ERRNO;
	if (is_null(n))
		return s;
	if (!want_map(l, n, s->p.name))
		return s;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *pk = node_at(l, p->key), *pv = node_at(l, p->value);

		if (KNOWN(l, pk, keys, "a policy"))
			parse_policy_key(l, (const char *)pk->data.scalar.value, pv, s);
	}
	return s;
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static size_t parse_policies(struct ld *l, const yaml_node_t *n, struct pol_spec ***out)
{
	size_t count = 0;

	if (!want_map(l, n, "policies"))
		return 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *name = scalar(l, k, "policy name");
		bool dup = false;

		if (!name)
			continue;
		if (!name_ok(name)) {
			bad(l, k,
			    "policy name '%s' may hold only letters, digits, '-', '_' and '.'",
			    name);
			continue;
		}
		for (size_t i = 0; i < count; i++) {
			if (strcmp((*out)[i]->p.name, name) == 0) {
				bad(l, k, "policy '%s' is defined twice (first at line %u)", name,
				    (*out)[i]->line);
				dup = true;
			}
		}
		if (dup)
			continue;
		*out = wm_xrealloc(*out, (count + 1) * sizeof(**out));
		(*out)[count++] = parse_policy(l, k, v);
	}
	return count;
}

static size_t parse_root(struct ld *l, struct pol_spec ***out)
{
	static const char *const keys[] = { "version", "policies" };
	yaml_node_t *root = yaml_document_get_root_node(l->doc);
	bool has_version = false, has_policies = false;
	size_t count = 0;

	if (!root || is_null(root)) {
		wm_diags_error(l->diags, l->file, 1, 1,
			       "empty policy file (expected version: 1 and policies:)");
		return 0;
	}
	if (!want_map(l, root, "the policy file"))
		return 0;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
		const char *val;

		if (!KNOWN(l, k, keys, "the policy file"))
			continue;
		if (strcmp((const char *)k->data.scalar.value, "version") == 0) {
			has_version = true;
			val = scalar(l, v, "version");
			if (val && strcmp(val, "1") != 0)
				bad(l, v, "unsupported version '%s' (this wm reads version: 1)",
				    val);
		} else if (has_policies) {
			/* A second batch would overwrite (and leak) the first. */
			bad(l, k, "'policies' is given twice");
		} else if (!is_null(v)) {
			has_policies = true;
			count = parse_policies(l, v, out);
		}
	}
	if (!has_version)
		bad(l, root, "missing 'version: 1'");
	return count;
}

size_t pol_load_yaml(const char *path, const char *display, const char *text, size_t len,
		     struct pol_spec ***out, struct wm_diags *diags)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ld l = { .file = display ? display : path, .diags = diags, .doc = &doc };
	const char *slash = strrchr(path, '/');
	size_t count = 0;

	*out = NULL;
	if (slash)
		l.dir = slash == path ? wm_xstrdup("/") : wm_xstrndup(path, (size_t)(slash - path));
	if (!yaml_parser_initialize(&parser)) {
		wm_diags_error(diags, l.file, 1, 1, "cannot initialise the YAML parser");
		free(l.dir);
		return 0;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		wm_diags_error(diags, l.file, (unsigned)parser.problem_mark.line + 1,
			       (unsigned)parser.problem_mark.column + 1, "YAML: %s%s%s",
			       parser.problem ? parser.problem : "syntax error",
			       parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		free(l.dir);
		return 0;
	}
	count = parse_root(&l, out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(l.dir);
	return count;
}
