/*
 * internal.h - what the pieces of policies/ share; not for other modules.
 *
 * A `struct pol_spec` is one policy as written or as merged with its
 * parents: a struct wm_policy for the plain fields, the seccomp lists kept
 * apart (allow / deny / rules / profile are combined only when the final
 * policy is built, so that children can add to them), and a bit per key
 * that was given. load.c makes specs from YAML, set.c merges and resolves
 * them, oci.c reads OCI profiles into rules, emit.c writes policies out.
 * A spec owns everything it points to; pol_spec_free() accepts NULL.
 */
#ifndef WM_POLICIES_INTERNAL_H
#define WM_POLICIES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "policies/policy.h"

enum pol_field {
	PF_DESCRIPTION = 1u << 0,
	PF_NETWORK = 1u << 1,
	PF_VIEW = 1u << 2,
	PF_ROOTFS = 1u << 3,
	PF_WORKSPACE = 1u << 4,
	PF_TMP = 1u << 5,
	PF_HIDE = 1u << 6,
	PF_BIND = 1u << 7,
	PF_DEVICES = 1u << 8,
	PF_CAPS = 1u << 9,
	PF_USERNS = 1u << 10,
	PF_LANDLOCK = 1u << 11,
	PF_SECCOMP_OFF = 1u << 12, /* `seccomp: none` */
	PF_SC_DEFAULT = 1u << 13,
	PF_SC_ERRNO = 1u << 14,
	PF_SC_PROFILE = 1u << 15,
	PF_SC_ANY = 1u << 16, /* a seccomp map was given */
	PF_MEMORY = 1u << 17,
	PF_PIDS = 1u << 18,
	PF_CPU = 1u << 19,
	PF_TIMEOUT = 1u << 20,
	PF_NOFILE = 1u << 21,
	PF_FSIZE = 1u << 22,
	PF_CORE = 1u << 23,
	PF_ENV_KEEP = 1u << 24,
	PF_SHM = 1u << 25,
	PF_OUT = 1u << 26,
	PF_STRICT = 1u << 27,
};

struct pol_spec {
	struct wm_policy p; /* plain fields; p.seccomp.rules unused */
	uint32_t given;	    /* enum pol_field bits */
	unsigned line, col; /* the policy's name in its file */
	char *file;	    /* file it was read from */
	unsigned inh_line, inh_col;
	unsigned prof_line, prof_col; /* where seccomp.profile was written */
	char **allow, **deny;
	size_t n_allow, n_deny;
	struct wm_seccomp_rule *rules;
	size_t n_rules;
	unsigned depth;	    /* policies above it through `inherits` */
	bool from_workflow; /* it, or a policy it inherits, is from a workflow's own file */
};

/* The longest chain of `inherits`, across files: deep chains cost memory in
 * proportion to their length at every level. */
#define POL_MAX_INHERIT 64u

void pol_spec_free(struct pol_spec *s);
struct pol_spec *pol_spec_dup(const struct pol_spec *s);
/* Applies child's given keys over `base` (which becomes the merge). */
void pol_spec_merge(struct pol_spec *base, const struct pol_spec *child);
/* merge.c: the final policy of a merged spec (lists without duplicates,
 * the filter combined); NULL after reporting an OCI profile's problems. */
struct wm_policy *pol_spec_build(const struct pol_spec *m, struct wm_diags *diags);

/* load.c: parses a policy file's text into specs (file order). Relative
 * paths inside resolve against path's directory; diagnostics and sources
 * name `display` (NULL: path). Problems go to diags; returns the number of
 * specs (possibly 0), specs owned by caller. */
size_t pol_load_yaml(const char *path, const char *display, const char *text, size_t len,
		     struct pol_spec ***out, struct wm_diags *diags);

/* names.c */
bool pol_syscall_known(const char *name);
bool pol_syscall_known_arch(const char *name, uint32_t arch);
/* "cap_sys_admin" or "CAP_SYS_ADMIN" -> lower-case canonical (caller frees) or NULL. */
char *pol_cap_canonical(const char *name);
/* The capability name closest to a misspelt one, or NULL. Caller frees. */
char *pol_cap_suggest(const char *name);
/* "EPERM" or "1" -> 1; -1 when unknown. */
int pol_errno_parse(const char *s);
/* 1 -> "EPERM"; numbers without a name print as digits. Caller frees. */
char *pol_errno_name(int e);
/* The names of the lists in policy.h, indexed by value: what the loader
 * parses (pol_ld_enum) and what policies are written with. */
extern const char *const pol_net_names[WM_NET_MODE_COUNT];
extern const char *const pol_view_names[WM_FS_VIEW_COUNT];
extern const char *const pol_ws_names[WM_WS_MODE_COUNT];
extern const char *const pol_action_names[WM_SECCOMP_ACTION_COUNT];
extern const char *const pol_op_names[WM_SECCOMP_OP_COUNT];
/* Candidates for "did you mean" on syscall names. */
const char *pol_syscall_suggest(const char *name);
/* Every system call name of the native architecture (libseccomp's table),
 * computed once and kept for the process's life. */
const char *const *pol_native_syscalls(size_t *n);

/* strict_seccomp.c: does condition c hold for argument value x? */
bool pol_arg_holds(const struct wm_seccomp_arg *c, uint64_t x);
/* strict_seccomp.c: the filter part of wm_policy_at_least_as_strict(). */
int pol_seccomp_at_least_as_strict(const struct wm_policy *p, const struct wm_policy *floor,
				   struct wm_buf *why);

/* Rules: copy, compare, sort and de-duplicate, replace by name. */
void pol_rule_copy(struct wm_seccomp_rule *dst, const struct wm_seccomp_rule *src);
int pol_rule_cmp(const struct wm_seccomp_rule *a, const struct wm_seccomp_rule *b);
void pol_rules_push(struct wm_seccomp_rule **v, size_t *n, const struct wm_seccomp_rule *r);
void pol_rules_free(struct wm_seccomp_rule *v, size_t n);
void pol_rules_canonical(struct wm_seccomp_rule *v, size_t *n);

/* oci.c: reads an OCI/Docker seccomp profile into rules for a policy that
 * keeps `caps` (lower-case names). Errors go to diags at (file, line, col)
 * of the `profile:` key, or inside the JSON when it does not parse.
 * Returns 0, or -1 after reporting. */
int pol_oci_load(const char *path, char *const *caps, const char *yfile, unsigned yline,
		 unsigned ycol, struct wm_diags *diags, enum wm_seccomp_action *def_action,
		 int *def_errno, struct wm_seccomp_rule **rules, size_t *n_rules);

/* oci_pos.c: where the values of a JSON text are, for located problems.
 * pol_jpos_find() follows keys[k] (or, where keys[k] is NULL, item idx[k])
 * as deep as it can and returns the byte offset reached. */
struct pol_jpos;
struct pol_jpos *pol_jpos_index(const char *text, size_t len);
void pol_jpos_free(struct pol_jpos *p);
size_t pol_jpos_find(const struct pol_jpos *p, const char *const *keys, const long *idx, size_t n);
/* Line and column (characters, 1-based) of byte `off` of text. */
void pol_text_place(const char *text, size_t off, unsigned *line, unsigned *col);

/* emit.c: the canonical YAML body of a policy (no name or description), the
 * same text wm_policy_to_yaml() prints, used for the hash. */
void pol_emit_body(struct wm_buf *b, const struct wm_policy *p, const char *indent);
/* The part of a rule's flow mapping after its names: ", action: errno,
 * errno: ENOSYS, args: [...]}" and a newline. */
void pol_emit_rule_tail(struct wm_buf *b, const struct wm_seccomp_rule *r);

#endif
