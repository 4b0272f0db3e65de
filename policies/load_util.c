/*
 * load_util.c - the small readers the policy loader is built from: nodes
 * to strings, enums, sizes, counts and checked lists, each reporting its
 * problem at the node's FILE:LINE:COL (load.h).
 */
#include "policies/load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "common/xlist.h"

yaml_node_t *pol_ld_node(struct ld *l, int id)
{
	return yaml_document_get_node(l->doc, id);
}

void pol_ld_bad(struct ld *l, const yaml_node_t *n, const char *fmt, ...)
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

bool pol_ld_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

const char *pol_ld_scalar(struct ld *l, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		pol_ld_bad(l, n, "'%s' must be a single value, not a %s", key,
			   n->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

bool pol_ld_want_map(struct ld *l, const yaml_node_t *n, const char *key)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	pol_ld_bad(l, n, "'%s' must be a mapping (key: value lines)", key);
	return false;
}

/* Checks a key against the known ones; reports an unknown one with a hint. */
bool pol_ld_known_key(struct ld *l, const yaml_node_t *k, const char *const *known, size_t n,
		      const char *where)
{
	const char *name = pol_ld_scalar(l, k, where);
	const char *hint;

	if (!name)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	hint = wm_suggest(name, known, n);
	if (hint)
		pol_ld_bad(l, k, "unknown key '%s' in %s (did you mean '%s'?)", name, where, hint);
	else
		pol_ld_bad(l, k, "unknown key '%s' in %s", name, where);
	return false;
}

void pol_names_join(struct wm_buf *b, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wm_buf_addf(b, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
}

int pol_ld_enum(struct ld *l, const yaml_node_t *n, const char *key, const char *const *names,
		size_t count)
{
	const char *v = pol_ld_scalar(l, n, key);
	struct wm_buf all = WM_BUF_INIT;
	const char *hint;

	int i;

	if (!v)
		return -1;
	i = wm_xlist_index(names, count, v);
	if (i >= 0)
		return i;
	pol_names_join(&all, names, count);
	hint = wm_suggest(v, names, count);
	if (hint)
		pol_ld_bad(l, n, "%s must be %s, not '%s' (did you mean '%s'?)", key, all.data, v,
			   hint);
	else
		pol_ld_bad(l, n, "%s must be %s, not '%s'", key, all.data, v);
	wm_buf_release(&all);
	return -1;
}

int pol_ld_bool(struct ld *l, const yaml_node_t *n, const char *key, bool *out)
{
	static const char *const names[] = { "false", "true" };
	int v = pol_ld_enum(l, n, key, names, 2);

	if (v < 0)
		return -1;
	*out = v == 1;
	return 0;
}

char *pol_ld_join_dir(struct ld *l, const char *path)
{
	if (path[0] == '/' || !l->dir)
		return wm_xstrdup(path);
	if (strcmp(l->dir, "/") == 0)
		return wm_xasprintf("/%s", path);
	return wm_xasprintf("%s/%s", l->dir, path);
}

static int ptr_strcmp(const void *a, const void *b)
{
	int c = strcmp(**(char *const *const *)a, **(char *const *const *)b);

	/* Equal strings keep their order: the first one is kept. */
	if (c)
		return c;
	return *(char *const *const *)a < *(char *const *const *)b ? -1 : 1;
}

/* Drops later duplicates, keeping the order of first appearance, in
 * O(n log n): lists may hold thousands of names. */
static void dedupe(char **v, size_t *n)
{
	char ***order;
	size_t j = 0;

	if (*n < 2)
		return;
	order = wm_xcalloc(*n, sizeof(*order));
	for (size_t i = 0; i < *n; i++)
		order[i] = &v[i];
	qsort(order, *n, sizeof(*order), ptr_strcmp);
	for (size_t i = 1, first = 0; i < *n; i++) {
		/* Equal strings sort together, the earliest first: it stays. */
		if (strcmp(*order[i], *order[first]) == 0) {
			free(*order[i]);
			*order[i] = NULL;
		} else {
			first = i;
		}
	}
	free(order);
	for (size_t i = 0; i < *n; i++)
		if (v[i])
			v[j++] = v[i];
	v[j] = NULL;
	*n = j;
}

bool pol_ld_list_full(struct ld *l, const yaml_node_t *n, size_t count, const char *key)
{
	if (count < POL_MAX_LIST)
		return false;
	pol_ld_bad(l, n, "'%s' has more than %u entries (the limit of one list)", key,
		   POL_MAX_LIST);
	return true;
}

int pol_ld_list(struct ld *l, const yaml_node_t *n, const char *key, pol_ld_check check,
		char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t count = 0;
	int rc = 0;

	if (pol_ld_is_null(n))
		goto done;
	if (n->type != YAML_SEQUENCE_NODE) {
		pol_ld_bad(l, n, "'%s' must be a list, e.g. [a, b]", key);
		return -1;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = pol_ld_node(l, *it);
		const char *s = pol_ld_scalar(l, item, key);
		char *c;

		if (!s || pol_ld_list_full(l, item, count, key)) {
			rc = -1;
			if (s)
				break;
			continue;
		}
		c = check ? check(l, item, s, key) : wm_xstrdup(s);
		if (!c) {
			rc = -1;
			continue;
		}
		wm_strv_push_owned(&v, &count, c);
	}
	if (v)
		dedupe(v, &count);
done:
	if (!v)
		v = wm_xcalloc(1, sizeof(*v)); /* an empty list is a value, unlike NULL */
	wm_strv_free(*out);
	*out = v;
	if (n_out)
		*n_out = count;
	return rc;
}

char *pol_ld_check_syscall(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	const char *hint;

	(void)key;
	if (pol_syscall_known(v))
		return wm_xstrdup(v);
	hint = pol_syscall_suggest(v);
	if (hint)
		pol_ld_bad(l, n, "unknown system call '%s' (did you mean '%s'?)", v, hint);
	else
		pol_ld_bad(l, n, "unknown system call '%s'", v);
	return NULL;
}

char *pol_ld_check_cap(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	char *c = pol_cap_canonical(v);

	(void)key;
	if (!c) {
		wm_autofree char *hint = pol_cap_suggest(v);

		if (hint)
			pol_ld_bad(l, n, "unknown capability '%s' (did you mean '%s'?)", v, hint);
		else
			pol_ld_bad(l, n,
				   "unknown capability '%s' (write e.g. cap_net_bind_service)", v);
	}
	return c;
}

char *pol_ld_check_abs_path(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (v[0] != '/') {
		pol_ld_bad(l, n, "%s: '%s' must be an absolute path", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

bool pol_ld_env_name_ok(const char *s)
{
	if (!*s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

char *pol_ld_check_env_name(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (!pol_ld_env_name_ok(v)) {
		pol_ld_bad(l, n, "%s: '%s' is not a variable name", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

char *pol_ld_check_device(struct ld *l, const yaml_node_t *n, const char *v, const char *key)
{
	if (!*v || v[0] == '/' || strstr(v, "..")) {
		pol_ld_bad(l, n, "%s: '%s' must be a name under /dev, e.g. tty or pts", key, v);
		return NULL;
	}
	return wm_xstrdup(v);
}

int pol_ld_size(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = pol_ld_scalar(l, n, key);
	struct wm_error *e = NULL;

	if (!v)
		return -1;
	if (strcmp(v, "none") == 0 || strcmp(v, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (wm_parse_size(v, out, &e) < 0) {
		pol_ld_bad(l, n, "%s: %s", key, e->msg);
		wm_error_free(e);
		return -1;
	}
	return 0;
}

int pol_ld_count(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = pol_ld_scalar(l, n, key);
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
		pol_ld_bad(l, n, "%s must be a whole number, not '%s'", key, v);
		return -1;
	}
	return 0;
}

int pol_ld_u64(struct ld *l, const yaml_node_t *n, const char *key, uint64_t *out)
{
	const char *v = pol_ld_scalar(l, n, key);
	char *end;

	if (!v)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (!*v || *end || errno || v[0] == '-') {
		pol_ld_bad(l, n, "%s must be a number (decimal or 0x hex), not '%s'", key, v);
		return -1;
	}
	return 0;
}
