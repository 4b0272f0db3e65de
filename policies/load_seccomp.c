/*
 * load_seccomp.c - the `seccomp:` map of a policy: default action and
 * errno, an OCI profile, allow and deny lists and rules with argument
 * conditions. Names are checked against libseccomp here; set.c combines
 * the lists when the final policy is built.
 */
#include "policies/load.h"

#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"

static int parse_errno_node(struct ld *l, const yaml_node_t *n, const char *key)
{
	const char *v = pol_ld_scalar(l, n, key);
	int e;

	if (!v)
		return -1;
	e = pol_errno_parse(v);
	if (e < 0)
		pol_ld_bad(l, n, "%s: unknown errno '%s' (write e.g. EPERM, ENOSYS or a number)",
			   key, v);
	return e;
}

static int parse_arg(struct ld *l, const yaml_node_t *n, struct wm_seccomp_arg *a)
{
	static const char *const keys[] = { "index", "op", "value", "value_two" };
	bool has_index = false, has_op = false;
	int rc = 0, e;
	uint64_t idx = 0;

	if (!pol_ld_want_map(l, n, "argument condition"))
		return -1;
	memset(a, 0, sizeof(*a));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *key;

		if (!KNOWN(l, k, keys, "argument condition")) {
			rc = -1;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "index") == 0) {
			if (pol_ld_u64(l, v, "index", &idx) < 0 || idx > 5) {
				if (idx > 5)
					pol_ld_bad(l, v, "argument index must be 0 to 5");
				rc = -1;
			}
			a->index = (unsigned)idx;
			has_index = true;
		} else if (strcmp(key, "op") == 0) {
			if ((e = pol_ld_enum(l, v, "op", pol_op_names, WM_SECCOMP_OP_COUNT)) < 0)
				rc = -1;
			else
				a->op = (enum wm_seccomp_op)e;
			has_op = true;
		} else if (strcmp(key, "value") == 0) {
			rc |= pol_ld_u64(l, v, "value", &a->value);
		} else {
			rc |= pol_ld_u64(l, v, "value_two", &a->value_two);
		}
	}
	if (!has_index || !has_op) {
		pol_ld_bad(l, n, "argument condition needs %s", !has_index ? "an index" : "an op");
		rc = -1;
	}
	return rc ? -1 : 0;
}

/* A rule's `args`: at most 6 conditions, all of which must hold. */
static int parse_args(struct ld *l, const yaml_node_t *v, struct wm_seccomp_rule *r)
{
	int rc = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		pol_ld_bad(l, v, "'args' must be a list of {index, op, value, value_two}");
		return -1;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		if (r->n_args == 6) {
			pol_ld_bad(l, pol_ld_node(l, *it),
				   "a rule takes at most 6 argument conditions");
			return -1;
		}
		if (parse_arg(l, pol_ld_node(l, *it), &r->args[r->n_args]) < 0)
			rc = -1;
		r->n_args++;
	}
	return rc;
}

static void parse_rule(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "names", "action", "errno", "args" };
	wm_autostrv char **names = NULL;
	struct wm_seccomp_rule r = { 0 };
	bool ok = true, has_action = false;
	int e;

	if (!pol_ld_want_map(l, n, "seccomp rule"))
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);
		const char *key;

		if (!KNOWN(l, k, keys, "seccomp rule")) {
			ok = false;
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "names") == 0) {
			ok = pol_ld_list(l, v, "names", pol_ld_check_syscall, &names, NULL) == 0 &&
			     ok;
		} else if (strcmp(key, "action") == 0) {
			if ((e = pol_ld_enum(l, v, "action", pol_action_names,
					     WM_SECCOMP_ACTION_COUNT)) < 0)
				ok = false;
			else
				r.action = (enum wm_seccomp_action)e;
			has_action = true;
		} else if (strcmp(key, "errno") == 0) {
			if ((e = parse_errno_node(l, v, "errno")) < 0)
				ok = false;
			else
				r.errno_ret = e;
		} else if (parse_args(l, v, &r) < 0) {
			ok = false;
		}
	}
	if (ok && (!names || !names[0])) {
		pol_ld_bad(l, n, "seccomp rule needs 'names' (a list of system calls)");
		ok = false;
	}
	if (ok && !has_action) {
		struct wm_buf all = WM_BUF_INIT;

		pol_names_join(&all, pol_action_names, WM_SECCOMP_ACTION_COUNT);
		pol_ld_bad(l, n, "seccomp rule needs an 'action' (%s)", all.data);
		wm_buf_release(&all);
		ok = false;
	}
	for (size_t i = 0; ok && names[i]; i++) {
		if (pol_ld_list_full(l, n, s->n_rules, "seccomp.rules"))
			break;
		r.name = names[i];
		pol_rules_push(&s->rules, &s->n_rules, &r);
	}
}

static void parse_seccomp_key(struct ld *l, const char *key, const yaml_node_t *v,
			      struct pol_spec *s)
{
	const char *val;
	int e;

	if (strcmp(key, "default_action") == 0) {
		if ((e = pol_ld_enum(l, v, "seccomp.default_action", pol_action_names,
				     WM_SECCOMP_ACTION_COUNT)) >= 0) {
			s->p.seccomp.default_action = (enum wm_seccomp_action)e;
			s->given |= PF_SC_DEFAULT;
		}
	} else if (strcmp(key, "default_errno") == 0) {
		if ((e = parse_errno_node(l, v, "seccomp.default_errno")) >= 0) {
			s->p.seccomp.default_errno = e;
			s->given |= PF_SC_ERRNO;
		}
	} else if (strcmp(key, "profile") == 0) {
		if ((val = pol_ld_scalar(l, v, key)) != NULL && !pol_ld_is_null(v)) {
			free(s->p.seccomp.profile);
			s->p.seccomp.profile = pol_ld_join_dir(l, val);
			s->given |= PF_SC_PROFILE;
			s->prof_line = (unsigned)v->start_mark.line + 1;
			s->prof_col = (unsigned)v->start_mark.column + 1;
		}
	} else if (strcmp(key, "allow") == 0) {
		pol_ld_list(l, v, "seccomp.allow", pol_ld_check_syscall, &s->allow, &s->n_allow);
	} else if (strcmp(key, "deny") == 0) {
		pol_ld_list(l, v, "seccomp.deny", pol_ld_check_syscall, &s->deny, &s->n_deny);
	} else if (pol_ld_is_null(v)) {
		return;
	} else if (v->type != YAML_SEQUENCE_NODE) {
		pol_ld_bad(l, v, "'rules' must be a list of {names, action, errno, args}");
	} else {
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++)
			parse_rule(l, pol_ld_node(l, *it), s);
	}
}

void pol_ld_seccomp(struct ld *l, const yaml_node_t *n, struct pol_spec *s)
{
	static const char *const keys[] = { "default_action", "default_errno", "profile",
					    "allow",	      "deny",	       "rules" };

	if (n->type == YAML_SCALAR_NODE) {
		if (strcmp((const char *)n->data.scalar.value, "none") == 0) {
			s->given |= PF_SECCOMP_OFF;
			return;
		}
		pol_ld_bad(
			l, n,
			"seccomp must be 'none' or a mapping (default_action, allow, deny, ...)");
		return;
	}
	if (!pol_ld_want_map(l, n, "seccomp"))
		return;
	s->given |= PF_SC_ANY;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = pol_ld_node(l, p->key), *v = pol_ld_node(l, p->value);

		if (KNOWN(l, k, keys, "seccomp"))
			parse_seccomp_key(l, (const char *)k->data.scalar.value, v, s);
	}
}
