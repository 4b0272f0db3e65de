/*
 * load.h - what the pieces of the policy loader share (load.c,
 * load_util.c, load_seccomp.c); not for other files.
 *
 * A `struct ld` lives for one file: it borrows the libyaml document built
 * from it and the diagnostics list. Every pol_ld_* helper reports its
 * problem at the node's own FILE:LINE:COL and returns a failure value; the
 * walk goes on so that one run reports every problem.
 */
#ifndef WM_POLICIES_LOAD_H
#define WM_POLICIES_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "policies/internal.h"

/* Limits of one policy file, checked while libyaml parses it (input size,
 * nesting, nodes; aliases are refused) and while it is walked (the rest):
 * hostile files fail fast and small, whatever they hold. */
#define POL_MAX_FILE_BYTES (1u << 20)
#define POL_MAX_DEPTH 32u
#define POL_MAX_NODES 100000u
#define POL_MAX_POLICIES 1024u
#define POL_MAX_LIST 4096u /* entries of one list: allow, deny, rules, hide, bind, ... */

struct ld {
	const char *file;
	char *dir; /* directory of file, for relative paths; NULL: current */
	yaml_document_t *doc;
	struct wm_diags *diags;
};

yaml_node_t *pol_ld_node(struct ld *l, int id);
void pol_ld_bad(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool pol_ld_is_null(const yaml_node_t *n);
/* The node's text, or NULL after "'key' must be a single value". */
const char *pol_ld_scalar(struct ld *l, const yaml_node_t *n, const char *key);
bool pol_ld_want_map(struct ld *l, const yaml_node_t *n, const char *key);
/* Checks a key against the known ones; reports an unknown one with a hint. */
bool pol_ld_known_key(struct ld *l, const yaml_node_t *k, const char *const *known, size_t n,
		      const char *where);
#define KNOWN(l, k, arr, where) \
	pol_ld_known_key((l), (k), (arr), sizeof(arr) / sizeof((arr)[0]), (where))
/* "a, b or c": the names a value may take, for messages. */
void pol_names_join(struct wm_buf *b, const char *const *names, size_t n);
/* Index of the node's value in names, or -1 after "KEY must be a, b or c". */
int pol_ld_enum(struct ld *l, const yaml_node_t *n, const char *key, const char *const *names,
		size_t count);
int pol_ld_bool(struct ld *l, const yaml_node_t *n, const char *key, bool *out);
/* path joined to the file's directory unless absolute. Caller frees. */
char *pol_ld_join_dir(struct ld *l, const char *path);

/* Checks one list item; returns a canonical copy or NULL after reporting. */
typedef char *(*pol_ld_check)(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
/* A list of strings (null: empty) into *out (replaced), duplicates dropped,
 * at most POL_MAX_LIST entries. 0, or -1 when an item was bad. */
int pol_ld_list(struct ld *l, const yaml_node_t *n, const char *key, pol_ld_check check,
		char ***out, size_t *n_out);
char *pol_ld_check_syscall(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
char *pol_ld_check_cap(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
char *pol_ld_check_abs_path(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
bool pol_ld_env_name_ok(const char *s);
char *pol_ld_check_env_name(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
char *pol_ld_check_device(struct ld *l, const yaml_node_t *n, const char *v, const char *key);
/* Sizes ("64M"), counts and numbers (decimal or 0x hex); "none" and
 * "unlimited" are 0 for sizes and counts. 0, or -1 after reporting. */
int pol_ld_size(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out);
int pol_ld_count(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out);
int pol_ld_u64(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out);
/* True (after reporting at n) when a list already holds POL_MAX_LIST entries. */
bool pol_ld_list_full(struct ld *l, const yaml_node_t *n, size_t count, const char *key);

/* load_seccomp.c: the `seccomp:` key of a policy. */
void pol_ld_seccomp(struct ld *l, const yaml_node_t *n, struct pol_spec *s);

#endif
