/*
 * emit.c - resolved policies out: canonical YAML (show, hash), diff, and
 * the policy text `wm policy import-oci` prints.
 *
 * The canonical body lists every key in a fixed order, sets (hide,
 * devices, capabilities, env) sorted, rules in their canonical order, so
 * that equal policies print, and hash, equal. Reading the text back gives
 * the same policy: show | check | show is a fixed point.
 */
#include "policies/policies.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "policies/internal.h"

static bool plain_ok(const char *s)
{
	static const char *const reserved[] = { "true", "false", "null", "yes", "no",
						"on",	"off",	 "none", "~" };

	if (!*s || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '/' ||
		      *p == '+' || *p == '-'))
			return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return false;
	return true;
}

static void add_q(struct wm_buf *b, const char *s)
{
	if (plain_ok(s)) {
		wm_buf_addstr(b, s);
		return;
	}
	wm_buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			wm_buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			wm_buf_addstr(b, "\\n");
		else if (*p == '\t')
			wm_buf_addstr(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			wm_buf_addf(b, "\\x%02x", *p);
		else
			wm_buf_addch(b, (char)*p);
	}
	wm_buf_addch(b, '"');
}

static int str_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_copy(char *const *v, size_t *n)
{
	char **c;

	*n = wm_strv_len(v);
	c = wm_xcalloc(*n + 1, sizeof(*c));
	for (size_t i = 0; i < *n; i++)
		c[i] = v[i]; /* borrowed */
	qsort(c, *n, sizeof(*c), str_qcmp);
	return c;
}

/* "[a, b, c]" wrapped after ~88 columns with continuation lines indented. */
static void add_flow_list(struct wm_buf *b, char *const *v, size_t n, const char *indent)
{
	size_t col =
		b->len -
		(size_t)((strrchr(b->data, '\n') ? strrchr(b->data, '\n') + 1 : b->data) - b->data);

	wm_buf_addch(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i) {
			wm_buf_addch(b, ',');
			if (col > 88) {
				wm_buf_addf(b, "\n%s    ", indent);
				col = strlen(indent) + 4;
			} else {
				wm_buf_addch(b, ' ');
			}
		}
		size_t before = b->len;
		add_q(b, v[i]);
		col += b->len - before + 2;
		if (i + 1 < n && col + strlen(v[i + 1]) > 92)
			col = 1000; /* wrap before the next one */
	}
	wm_buf_addstr(b, "]\n");
}

static void add_set(struct wm_buf *b, const char *indent, const char *key, char *const *v)
{
	size_t n;
	char **s = sorted_copy(v, &n);

	wm_buf_addf(b, "%s%s: ", indent, key);
	add_flow_list(b, s, n, indent);
	free(s);
}

static void add_size_or_none(struct wm_buf *b, const char *ind, const char *key, uint64_t v)
{
	char *s = v ? wm_format_size(v) : wm_xstrdup("none");
	wm_buf_addf(b, "%s%s: %s\n", ind, key, s);
	free(s);
}

static void add_count_or_none(struct wm_buf *b, const char *ind, const char *key, uint64_t v)
{
	if (v)
		wm_buf_addf(b, "%s%s: %llu\n", ind, key, (unsigned long long)v);
	else
		wm_buf_addf(b, "%s%s: none\n", ind, key);
}

/* The shortest decimal form that reads back as the same double. */
static void add_double(struct wm_buf *b, double d)
{
	char tmp[40];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	wm_buf_addstr(b, tmp);
}

static void add_fs(struct wm_buf *b, const struct wm_policy *p, const char *ind)
{
	wm_buf_addf(b, "%sfilesystem:\n%s  view: %s\n", ind, ind, wm_fs_view_name(p->fs.view));
	if (p->fs.rootfs && (strncmp(p->fs.rootfs, "oci:", 4) == 0 ||
			     strncmp(p->fs.rootfs, "docker-archive:", 15) == 0)) {
		wm_buf_addf(b, "%s  rootfs:\n%s    image: ", ind, ind);
		add_q(b, p->fs.rootfs);
		wm_buf_addch(b, '\n');
	} else if (p->fs.rootfs) {
		wm_buf_addf(b, "%s  rootfs: ", ind);
		add_q(b, p->fs.rootfs);
		wm_buf_addch(b, '\n');
	}
	wm_buf_addf(b, "%s  workspace: %s\n", ind, wm_ws_mode_name(p->fs.workspace));
	add_size_or_none(b, ind, "  tmp", p->fs.tmp_size);
	add_size_or_none(b, ind, "  shm", p->fs.shm_size);
	{
		char *sub = wm_xasprintf("%s  ", ind);
		add_set(b, sub, "hide", p->fs.hide);
		if (!p->fs.n_binds)
			wm_buf_addf(b, "%sbind: []\n", sub);
		else
			wm_buf_addf(b, "%sbind:\n", sub);
		for (size_t i = 0; i < p->fs.n_binds; i++) {
			wm_buf_addf(b, "%s  - {src: ", sub);
			add_q(b, p->fs.binds[i].src);
			wm_buf_addstr(b, ", dst: ");
			add_q(b, p->fs.binds[i].dst);
			wm_buf_addf(b, ", mode: %s}\n", p->fs.binds[i].rw ? "rw" : "ro");
		}
		add_set(b, sub, "devices", p->fs.devices);
		free(sub);
	}
}

static bool same_conditions(const struct wm_seccomp_rule *a, const struct wm_seccomp_rule *b)
{
	if (a->action != b->action || a->errno_ret != b->errno_ret || a->n_args != b->n_args)
		return false;
	return memcmp(a->args, b->args, a->n_args * sizeof(a->args[0])) == 0;
}

/* Which rules name a system call no other rule names: one sort instead of
 * comparing every pair (a policy has hundreds of rules, and its hash is
 * this text, computed at every sandbox start). Free the result. */
struct named_rule {
	const char *name;
	size_t i;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named_rule *)a)->name, ((const struct named_rule *)b)->name);
}

static bool *unique_names(const struct wm_policy *p)
{
	size_t n = p->seccomp.n_rules;
	struct named_rule *v = wm_xcalloc(n + 1, sizeof(*v));
	bool *unique = wm_xcalloc(n + 1, sizeof(*unique));

	for (size_t i = 0; i < n; i++)
		v[i] = (struct named_rule){ p->seccomp.rules[i].name, i };
	qsort(v, n, sizeof(*v), by_name);
	for (size_t k = 0; k < n; k++)
		unique[v[k].i] = (k == 0 || strcmp(v[k - 1].name, v[k].name) != 0) &&
				 (k + 1 == n || strcmp(v[k + 1].name, v[k].name) != 0);
	free(v);
	return unique;
}

/* A name whose only rule is unconditional `action` (ERRNO with EPERM):
 * written in the plain allow/deny lists, its name alone says it. */
static bool lone_rule(const struct wm_policy *p, const bool *unique, size_t i,
		      enum wm_seccomp_action action)
{
	const struct wm_seccomp_rule *r = &p->seccomp.rules[i];

	return r->action == action && !r->n_args && !r->errno_ret && unique[i];
}

static void add_names(struct wm_buf *b, const struct wm_policy *p, const bool *unique,
		      const char *ind, const char *key, enum wm_seccomp_action action)
{
	wm_autostrv char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < p->seccomp.n_rules; i++)
		if (lone_rule(p, unique, i, action))
			wm_strv_push(&v, &n, p->seccomp.rules[i].name);
	wm_buf_addf(b, "%s%s: ", ind, key);
	add_flow_list(b, v, n, ind);
}

void pol_emit_rule_tail(struct wm_buf *b, const struct wm_seccomp_rule *r)
{
	wm_buf_addf(b, ", action: %s", wm_seccomp_action_name(r->action));
	if (r->action == WM_SC_ERRNO && r->errno_ret) {
		char *e = pol_errno_name(r->errno_ret);
		wm_buf_addf(b, ", errno: %s", e);
		free(e);
	}
	if (r->n_args) {
		wm_buf_addstr(b, ", args: [");
		for (size_t k = 0; k < r->n_args; k++) {
			const struct wm_seccomp_arg *a = &r->args[k];
			wm_buf_addf(b, "%s{index: %u, op: %s, value: 0x%llx", k ? ", " : "",
				    a->index, wm_seccomp_op_name(a->op),
				    (unsigned long long)a->value);
			if (a->op == WM_SC_OP_MASKED_EQ || a->value_two)
				wm_buf_addf(b, ", value_two: 0x%llx",
					    (unsigned long long)a->value_two);
			wm_buf_addch(b, '}');
		}
		wm_buf_addch(b, ']');
	}
	wm_buf_addstr(b, "}\n");
}

static void add_rule(struct wm_buf *b, const struct wm_policy *p, size_t i, bool *done,
		     const char *ind)
{
	const struct wm_seccomp_rule *r = &p->seccomp.rules[i];
	wm_autostrv char **names = NULL;
	size_t n = 0;

	for (size_t j = i; j < p->seccomp.n_rules; j++) {
		if (!done[j] && same_conditions(r, &p->seccomp.rules[j])) {
			done[j] = true;
			wm_strv_push(&names, &n, p->seccomp.rules[j].name);
		}
	}
	wm_buf_addf(b, "%s  - {names: ", ind);
	for (size_t k = 0; k < n; k++)
		wm_buf_addf(b, "%s%s", k ? ", " : "[", names[k]);
	wm_buf_addch(b, ']');
	pol_emit_rule_tail(b, r);
}

static void add_seccomp(struct wm_buf *b, const struct wm_policy *p, const char *ind)
{
	bool *done;
	bool any = false;

	if (!p->seccomp.enabled) {
		wm_buf_addf(b, "%sseccomp: none\n", ind);
		return;
	}
	wm_buf_addf(b, "%sseccomp:\n%s  default_action: %s\n", ind, ind,
		    wm_seccomp_action_name(p->seccomp.default_action));
	if (p->seccomp.default_action == WM_SC_ERRNO && p->seccomp.default_errno) {
		char *e = pol_errno_name(p->seccomp.default_errno);
		wm_buf_addf(b, "%s  default_errno: %s\n", ind, e);
		free(e);
	}
	{
		char *sub = wm_xasprintf("%s  ", ind);
		bool *unique = unique_names(p);

		add_names(b, p, unique, sub, "allow", WM_SC_ALLOW);
		add_names(b, p, unique, sub, "deny", WM_SC_ERRNO);
		done = wm_xcalloc(p->seccomp.n_rules + 1, sizeof(*done));
		for (size_t i = 0; i < p->seccomp.n_rules; i++)
			if (lone_rule(p, unique, i, WM_SC_ALLOW) ||
			    lone_rule(p, unique, i, WM_SC_ERRNO))
				done[i] = true;
		for (size_t i = 0; i < p->seccomp.n_rules; i++)
			any = any || !done[i];
		wm_buf_addf(b, "%srules:%s\n", sub, any ? "" : " []");
		for (size_t i = 0; i < p->seccomp.n_rules; i++)
			if (!done[i])
				add_rule(b, p, i, done, sub);
		free(done);
		free(unique);
		free(sub);
	}
}

static void add_limits(struct wm_buf *b, const struct wm_policy *p, const char *ind)
{
	char *sub = wm_xasprintf("%s  ", ind), *s;

	wm_buf_addf(b, "%slimits:\n", ind);
	add_size_or_none(b, sub, "memory", p->limits.memory);
	add_count_or_none(b, sub, "pids", p->limits.pids);
	wm_buf_addf(b, "%scpu: ", sub);
	if (p->limits.cpu > 0)
		add_double(b, p->limits.cpu);
	else
		wm_buf_addstr(b, "none");
	wm_buf_addch(b, '\n');
	s = p->limits.timeout_ms ? wm_format_duration(p->limits.timeout_ms) : wm_xstrdup("none");
	wm_buf_addf(b, "%stimeout: %s\n", sub, s);
	free(s);
	add_count_or_none(b, sub, "nofile", p->limits.nofile);
	add_size_or_none(b, sub, "fsize", p->limits.fsize);
	s = wm_format_size(p->limits.core);
	wm_buf_addf(b, "%score: %s\n", sub, s);
	free(s);
	add_size_or_none(b, sub, "out", p->limits.out);
	wm_buf_addf(b, "%sstrict: %s\n", sub, p->limits.strict ? "true" : "false");
	free(sub);
}

static void add_env(struct wm_buf *b, const struct wm_policy *p, const char *ind)
{
	size_t n;
	char **set = sorted_copy(p->env.set, &n);

	wm_buf_addf(b, "%senv:\n", ind);
	{
		char *sub = wm_xasprintf("%s  ", ind);
		add_set(b, sub, "keep", p->env.keep);
		free(sub);
	}
	wm_buf_addf(b, "%s  set:%s\n", ind, n ? "" : " {}");
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(set[i], '=');
		char *key = wm_xstrndup(set[i], (size_t)(eq - set[i]));
		wm_buf_addf(b, "%s    %s: ", ind, key);
		add_q(b, eq + 1);
		wm_buf_addch(b, '\n');
		free(key);
	}
	free(set);
}

void pol_emit_body(struct wm_buf *b, const struct wm_policy *p, const char *ind)
{
	wm_buf_addf(b, "%snetwork: %s\n", ind, wm_net_mode_name(p->network));
	add_fs(b, p, ind);
	add_set(b, ind, "capabilities", p->capabilities);
	wm_buf_addf(b, "%suser_namespace: %s\n", ind, p->user_namespace ? "true" : "false");
	wm_buf_addf(b, "%slandlock: %s\n", ind, p->landlock ? "true" : "false");
	add_seccomp(b, p, ind);
	add_limits(b, p, ind);
	add_env(b, p, ind);
}

char *wm_policy_to_yaml(const struct wm_policy *p)
{
	struct wm_buf b = WM_BUF_INIT;

	wm_buf_addstr(&b, "version: 1\npolicies:\n  ");
	add_q(&b, p->name);
	wm_buf_addstr(&b, ":\n");
	if (p->description && *p->description) {
		wm_buf_addstr(&b, "    description: ");
		add_q(&b, p->description);
		wm_buf_addch(&b, '\n');
	}
	pol_emit_body(&b, p, "    ");
	return wm_buf_detach(&b, NULL);
}

char *wm_policy_import_oci(const char *profile_path, const char *name, struct wm_diags *diags,
			   struct wm_error **err)
{
	struct wm_seccomp_rule *rules = NULL;
	enum wm_seccomp_action act;
	size_t n = 0;
	int e;
	struct wm_buf b = WM_BUF_INIT;
	char *caps[] = { NULL };

	(void)err;
	if (pol_oci_load(profile_path, caps, NULL, 0, 0, diags, &act, &e, &rules, &n) < 0)
		return NULL;
	pol_rules_free(rules, n);
	wm_buf_addstr(&b,
		      "# Generated by `wm policy import-oci`: the filesystem, network and limits\n"
		      "# come from `inherits`; the system call filter is the profile's.\n"
		      "version: 1\npolicies:\n  ");
	add_q(&b, name);
	wm_buf_addstr(&b, ":\n    inherits: standard\n    description: ");
	{
		char *d = wm_xasprintf("seccomp profile %s", profile_path);
		add_q(&b, d);
		free(d);
	}
	wm_buf_addstr(&b, "\n    seccomp:\n      profile: ");
	add_q(&b, profile_path);
	wm_buf_addch(&b, '\n');
	return wm_buf_detach(&b, NULL);
}
