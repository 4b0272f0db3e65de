/*
 * load.c - a policy file's YAML (SPEC.md section 3) into specs.
 *
 * The text is first checked against the limits of load.h while libyaml's
 * event parser reads it (wm_yaml_check), so that a hostile file is refused
 * before anything is built from it. libyaml's document loader then keeps a
 * start mark on every node, so every problem is reported at its own
 * FILE:LINE:COL, and the walk goes on after a problem so that one run
 * reports them all. Names are checked here (syscalls with libseccomp,
 * capabilities with libcap); `inherits` and `seccomp.profile` are checked
 * by set.c, which knows the other policies.
 */
#include "policies/load.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/yamlguard.h"
#include "common/xalloc.h"

static void parse_network(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	int v = pol_ld_enum(l, n, "network", pol_net_names, WM_NET_MODE_COUNT);

	if (v >= 0) {
		s->p.network = (enum wm_net_mode)v;
		s->given |= PF_NETWORK;
	}
}

static void add_bind(struct ld *l, const yaml_node_t *n, struct pol_spec *s, struct wm_bind *b)
{
	if (pol_ld_list_full(l, n, s->p.fs.n_binds, "filesystem.bind")) {
		free(b->src);
		free(b->dst);
		return;
	}
	s->p.fs.binds = wm_xrealloc(s->p.fs.binds, (s->p.fs.n_binds + 1) * sizeof(*b));
	s->p.fs.binds[s->p.fs.n_binds++] = *b;
}

static void parse_bind(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "src", "dst", "mode" };
	static const char *const modes[] = { "ro", "rw" };
	struct wm_bind b = { 0 };
	bool ok = true;

	if (!pol_ld_want_map(l, n, "bind entry"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *key, *val;
		int m;

		if (!KNOWN(l, k, keys, "bind")) {
			ok = false;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "mode") == 0) {
			m = pol_ld_enum(l, v, "bind mode", modes, 2);
			ok = ok && m >= 0;
			b.rw = m == 1;
			continue;
		}
		val = pol_ld_scalar(l, v, key);
		if (!val || !*val) {
			if (val)
				pol_ld_bad(l, v, "bind %s must not be empty", key);
			ok = false;
		} else if (strcmp(key, "src") == 0) {
			free(b.src);
			b.src = pol_ld_join_dir(l, val);
		} else if (val[0] != '/') {
			pol_ld_bad(l, v, "bind dst '%s' must be an absolute path", val);
			ok = false;
		} else {
			free(b.dst);
			b.dst = wm_xstrdup(val);
		}
	}
	if (ok && !b.src) {
		pol_ld_bad(l, n, "bind entry needs a src");
		ok = false;
	}
	if (ok && !b.dst && b.src[0] != '/') {
		pol_ld_bad(l, n, "bind entry with a relative src needs a dst");
		ok = false;
	}
	if (!ok) {
		free(b.src);
		free(b.dst);
		return;
	}
	if (!b.dst)
		b.dst = wm_xstrdup(b.src);
	add_bind(l, n, s, &b);
}

static void parse_binds(struct ld *l, const yaml_node_t *v, struct pol_spec *s)
{
	if (pol_ld_is_null(v)) {
		s->given |= PF_BIND;
	} else if (v->type != YAML_SEQUENCE_NODE) {
		pol_ld_bad(l, v, "'bind' must be a list of {src, dst, mode}");
	} else {
		s->given |= PF_BIND;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++)
			parse_bind(l, pol_ld_node(l, *it), s);
	}
}

/* An image reference's path is joined to the file's directory like a
 * plain rootfs path. */
static char *join_rootfs(struct ld *l, const char *val)
{
	static const char *const transports[] = { "oci:", "docker-archive:" };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(transports[i]);

		if (strncmp(val, transports[i], n) == 0) {
			wm_autofree char *path = pol_ld_join_dir(l, val + n);

			return wm_xasprintf("%s%s", transports[i], path);
		}
	}
	return pol_ld_join_dir(l, val);
}

/* `rootfs: PATH` (a directory or tarball) or `rootfs: {image: REF}`; a
 * scalar image reference is taken too (policies as wm writes them). */
static void parse_rootfs(struct ld *l, const yaml_node_t *v, struct pol_spec *s)
{
	static const char *const keys[] = { "image" };
	const char *val = NULL;

	if (v->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
		     p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *k = pol_ld_node(l, p->key), *iv = pol_ld_node(l, p->value);

			if (!KNOWN(l, k, keys, "filesystem.rootfs"))
				return;
			val = pol_ld_scalar(l, iv, "filesystem.rootfs.image");
			if (val && strncmp(val, "oci:", 4) != 0 &&
			    strncmp(val, "docker-archive:", 15) != 0) {
				pol_ld_bad(l, iv,
					   "'filesystem.rootfs.image' must be oci:PATH[:TAG], "
					   "oci:PATH@sha256:HEX or docker-archive:FILE[:NAME:TAG]");
				return;
			}
		}
		if (!val)
			return;
	} else if ((val = pol_ld_scalar(l, v, "rootfs")) == NULL) {
		return;
	}
	free(s->p.fs.rootfs);
	s->p.fs.rootfs = pol_ld_is_null(v) || strcmp(val, "none") == 0 ? NULL : join_rootfs(l, val);
	s->given |= PF_ROOTFS;
}

static void parse_filesystem(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "view", "rootfs", "workspace", "tmp",
					    "hide", "bind",   "devices",   "shm" };

	if (!pol_ld_want_map(l, n, "filesystem"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *key;
		int e;

		if (!KNOWN(l, k, keys, "filesystem"))
			continue;
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "view") == 0) {
			if ((e = pol_ld_enum(l, v, "filesystem.view", pol_view_names,
					     WM_FS_VIEW_COUNT)) >= 0) {
				s->p.fs.view = (enum wm_fs_view)e;
				s->given |= PF_VIEW;
			}
		} else if (strcmp(key, "workspace") == 0) {
			if ((e = pol_ld_enum(l, v, "filesystem.workspace", pol_ws_names,
					     WM_WS_MODE_COUNT)) >= 0) {
				s->p.fs.workspace = (enum wm_ws_mode)e;
				s->given |= PF_WORKSPACE;
			}
		} else if (strcmp(key, "rootfs") == 0) {
			parse_rootfs(l, v, s);
		} else if (strcmp(key, "tmp") == 0) {
			if (pol_ld_size(l, v, "filesystem.tmp", &s->p.fs.tmp_size) == 0)
				s->given |= PF_TMP;
		} else if (strcmp(key, "shm") == 0) {
			if (pol_ld_size(l, v, "filesystem.shm", &s->p.fs.shm_size) == 0)
				s->given |= PF_SHM;
		} else if (strcmp(key, "hide") == 0) {
			if (pol_ld_list(l, v, "filesystem.hide", pol_ld_check_abs_path,
					&s->p.fs.hide, NULL) == 0)
				s->given |= PF_HIDE;
		} else if (strcmp(key, "devices") == 0) {
			if (pol_ld_list(l, v, "filesystem.devices", pol_ld_check_device,
					&s->p.fs.devices, NULL) == 0)
				s->given |= PF_DEVICES;
		} else {
			parse_binds(l, v, s);
		}
	}
}

static void parse_timeout(struct ld *l, const yaml_node_t *v, struct pol_spec *s)
{
	const char *val = pol_ld_scalar(l, v, "timeout");
	struct wm_error *e = NULL;

	if (!val)
		return;
	if (strcmp(val, "none") == 0) {
		s->p.limits.timeout_ms = 0;
		s->given |= PF_TIMEOUT;
	} else if (wm_parse_duration(val, &s->p.limits.timeout_ms, &e) < 0) {
		pol_ld_bad(l, v, "limits.timeout: %s", e->msg);
		wm_error_free(e);
	} else {
		s->given |= PF_TIMEOUT;
	}
}

static void parse_cpu(struct ld *l, const yaml_node_t *v, struct pol_spec *s)
{
	const char *val = pol_ld_scalar(l, v, "cpu");
	char *end;

	if (!val)
		return;
	if (strcmp(val, "none") == 0) {
		s->p.limits.cpu = 0;
		s->given |= PF_CPU;
		return;
	}
	errno = 0;
	s->p.limits.cpu = strtod(val, &end);
	if (!*val || *end || errno || s->p.limits.cpu < 0 || s->p.limits.cpu > 4096)
		pol_ld_bad(l, v, "limits.cpu must be a number of CPUs such as 2 or 0.5, not '%s'",
			   val);
	else
		s->given |= PF_CPU;
}

static void parse_limit_key(struct ld *l, const char *key, const yaml_node_t *v, struct pol_spec *s)
{
	static const struct {
		const char *key;
		size_t off; /* of the field in struct wm_policy's limits */
		bool size;  /* a size ("64M"), else a count */
		uint32_t bit;
	} table[] = {
		{ "memory", offsetof(struct wm_policy, limits.memory), true, PF_MEMORY },
		{ "fsize", offsetof(struct wm_policy, limits.fsize), true, PF_FSIZE },
		{ "core", offsetof(struct wm_policy, limits.core), true, PF_CORE },
		{ "out", offsetof(struct wm_policy, limits.out), true, PF_OUT },
		{ "pids", offsetof(struct wm_policy, limits.pids), false, PF_PIDS },
		{ "nofile", offsetof(struct wm_policy, limits.nofile), false, PF_NOFILE },
	};
	char what[32];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t *dst = (uint64_t *)(void *)((char *)&s->p + table[i].off);

		if (strcmp(key, table[i].key) != 0)
			continue;
		snprintf(what, sizeof(what), "limits.%s", key);
		if (table[i].size ? pol_ld_size(l, v, what, dst) == 0
				  : pol_ld_count(l, v, what, dst) == 0)
			s->given |= table[i].bit;
		return;
	}
	if (strcmp(key, "timeout") == 0)
		parse_timeout(l, v, s);
	else if (strcmp(key, "cpu") == 0)
		parse_cpu(l, v, s);
	else if (pol_ld_bool(l, v, "limits.strict", &s->p.limits.strict) == 0)
		s->given |= PF_STRICT;
}

static void parse_limits(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "memory", "pids", "cpu", "timeout", "nofile",
					    "fsize",  "core", "out", "strict" };

	if (!pol_ld_want_map(l, n, "limits"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);

		if (KNOWN(l, k, keys, "limits"))
			parse_limit_key(l, (const char *)k->data.scalar.value, v, s);
	}
}

/* A later KEY replaces an earlier one (key is a checked variable name). */
static void env_set_put(char ***set, const char *key, const char *val)
{
	wm_autofree char *kv = wm_xasprintf("%s=%s", key, val);
	size_t n = wm_strv_len(*set);

	wm_env_set(set, &n, kv);
}

static void parse_env(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "keep", "set" };

	if (!pol_ld_want_map(l, n, "env"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);

		if (!KNOWN(l, k, keys, "env"))
			continue;
		if (strcmp((const char *)k->data.scalar.value, "keep") == 0) {
			if (pol_ld_list(l, v, "env.keep", pol_ld_check_env_name, &s->p.env.keep,
					NULL) == 0)
				s->given |= PF_ENV_KEEP;
			continue;
		}
		if (pol_ld_is_null(v) || !pol_ld_want_map(l, v, "env.set"))
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *ek = pol_ld_node(l, q->key), *ev = pol_ld_node(l, q->value);
			const char *name = pol_ld_scalar(l, ek, "env.set"),
				   *val = pol_ld_scalar(l, ev, "env.set");

			if (!name || !val)
				continue;
			if (pol_ld_list_full(l, ek, wm_strv_len(s->p.env.set), "env.set"))
				break;
			if (!pol_ld_env_name_ok(name))
				pol_ld_bad(l, ek, "env.set: '%s' is not a variable name", name);
			else
				env_set_put(&s->p.env.set, name, val);
		}
	}
}

static void parse_policy_key(struct ld *l, const char *key, yaml_node_t *v, struct pol_spec *s)
{
	const char *val;

	if (strcmp(key, "inherits") == 0) {
		if ((val = pol_ld_scalar(l, v, key)) != NULL) {
			free(s->p.inherits);
			s->p.inherits = wm_xstrdup(val);
			s->inh_line = (unsigned)v->start_mark.line + 1;
			s->inh_col = (unsigned)v->start_mark.column + 1;
		}
	} else if (strcmp(key, "description") == 0) {
		if ((val = pol_ld_scalar(l, v, key)) != NULL) {
			free(s->p.description);
			s->p.description = wm_xstrdup(val);
			s->given |= PF_DESCRIPTION;
		}
	} else if (strcmp(key, "network") == 0) {
		parse_network(l, v, s);
	} else if (strcmp(key, "filesystem") == 0) {
		parse_filesystem(l, v, s);
	} else if (strcmp(key, "capabilities") == 0) {
		if (pol_ld_list(l, v, "capabilities", pol_ld_check_cap, &s->p.capabilities, NULL) ==
		    0)
			s->given |= PF_CAPS;
	} else if (strcmp(key, "user_namespace") == 0) {
		if (pol_ld_bool(l, v, key, &s->p.user_namespace) == 0)
			s->given |= PF_USERNS;
	} else if (strcmp(key, "landlock") == 0) {
		if (pol_ld_bool(l, v, key, &s->p.landlock) == 0)
			s->given |= PF_LANDLOCK;
	} else if (strcmp(key, "seccomp") == 0) {
		pol_ld_seccomp(l, v, s);
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
	if (pol_ld_is_null(n))
		return s;
	if (!pol_ld_want_map(l, n, s->p.name))
		return s;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *pk = pol_ld_node(l, p->key), *pv = pol_ld_node(l, p->value);

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

	if (!pol_ld_want_map(l, n, "policies"))
		return 0;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *name = pol_ld_scalar(l, k, "policy name");
		bool dup = false;

		if (!name)
			continue;
		if (!name_ok(name)) {
			pol_ld_bad(
				l, k,
				"policy name '%s' may hold only letters, digits, '-', '_' and '.'",
				name);
			continue;
		}
		for (size_t i = 0; i < count; i++) {
			if (strcmp((*out)[i]->p.name, name) == 0) {
				pol_ld_bad(l, k, "policy '%s' is defined twice (first at line %u)",
					   name, (*out)[i]->line);
				dup = true;
			}
		}
		if (dup)
			continue;
		if (count == POL_MAX_POLICIES) {
			pol_ld_bad(l, k, "more policies than the limit of %u in one file",
				   POL_MAX_POLICIES);
			break;
		}
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

	if (!root || pol_ld_is_null(root)) {
		wm_diags_error(l->diags, l->file, 1, 1,
			       "empty policy file (expected version: 1 and policies:)");
		return 0;
	}
	if (!pol_ld_want_map(l, root, "the policy file"))
		return 0;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *val;

		if (!KNOWN(l, k, keys, "the policy file"))
			continue;
		if (strcmp((const char *)k->data.scalar.value, "version") == 0) {
			has_version = true;
			val = pol_ld_scalar(l, v, "version");
			if (val && strcmp(val, "1") != 0)
				pol_ld_bad(l, v,
					   "unsupported version '%s' (this wm reads version: 1)",
					   val);
		} else if (has_policies) {
			/* A second batch would overwrite (and leak) the first. */
			pol_ld_bad(l, k, "'policies' is given twice");
		} else if (!pol_ld_is_null(v)) {
			has_policies = true;
			count = parse_policies(l, v, out);
		}
	}
	if (!has_version)
		pol_ld_bad(l, root, "missing 'version: 1'");
	return count;
}

size_t pol_load_yaml(const char *path, const char *display, const char *text, size_t len,
		     struct pol_spec ***out, struct wm_diags *diags)
{
	static const struct wm_yaml_limits limits = { POL_MAX_FILE_BYTES, POL_MAX_DEPTH,
						      POL_MAX_NODES, "policy file" };
	struct wm_yaml_problem pb;
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ld l = { .file = display ? display : path, .diags = diags, .doc = &doc };
	const char *slash = strrchr(path, '/');
	size_t count = 0;

	*out = NULL;
	if (wm_yaml_check(text, len, &limits, &pb) < 0) {
		wm_diags_error(diags, l.file, pb.line, pb.col, "%s%s", pb.syntax ? "YAML: " : "",
			       pb.msg);
		free(pb.msg);
		return 0;
	}
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
