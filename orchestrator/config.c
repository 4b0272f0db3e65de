/*
 * config.c - ~/.config/wm/config.yaml (config.h).
 */
#include "orchestrator/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "common/yamlguard.h"

static const struct wm_yaml_limits cfg_limits = {
	.max_bytes = 64u << 10,
	.max_depth = 8,
	.max_nodes = 1000,
	.what = "config file",
};

static char *config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg && *xdg)
		return wm_xasprintf("%s/wm/config.yaml", xdg);
	if (home && *home)
		return wm_xasprintf("%s/.config/wm/config.yaml", home);
	return NULL;
}

static void node_error(struct wm_config *cfg, struct wm_diags *d, const yaml_node_t *n,
		       const char *msg)
{
	wm_diags_error(d, cfg->path, (unsigned)n->start_mark.line + 1,
		       (unsigned)n->start_mark.column + 1, "%s", msg);
}

/* cache: {max_size: SIZE} */
static void walk_cache(struct wm_config *cfg, yaml_document_t *doc, yaml_node_t *v,
		       struct wm_diags *d)
{
	if (v->type != YAML_MAPPING_NODE) {
		node_error(cfg, d, v, "'cache' must be a mapping (max_size: 5G)");
		return;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *s = yaml_document_get_node(doc, p->value);
		struct wm_error *e = NULL;
		wm_autofree char *msg = NULL;

		if (k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, "max_size") != 0) {
			node_error(cfg, d, k, "unknown key in 'cache' (it has max_size)");
			continue;
		}
		if (s->type == YAML_SCALAR_NODE && wm_parse_size((const char *)s->data.scalar.value,
								 &cfg->cache_max_size, &e) == 0)
			continue;
		msg = wm_xasprintf("cache.max_size: %s", e ? e->msg : "must be a size such as 5G");
		wm_error_free(e);
		node_error(cfg, d, s, msg);
	}
}

static void walk(struct wm_config *cfg, yaml_document_t *doc, struct wm_diags *d)
{
	static const char *const keys[] = { "policy_floor", "cache" };
	yaml_node_t *root = yaml_document_get_root_node(doc);

	if (!root || (root->type == YAML_SCALAR_NODE && !*root->data.scalar.value))
		return;
	if (root->type != YAML_MAPPING_NODE) {
		wm_diags_error(d, cfg->path, (unsigned)root->start_mark.line + 1,
			       (unsigned)root->start_mark.column + 1,
			       "the config file must be a mapping of key: value");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key =
			k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
		const char *hint;

		if (strcmp(key, keys[1]) == 0) {
			walk_cache(cfg, doc, v, d);
			continue;
		}
		if (strcmp(key, keys[0]) != 0) {
			hint = wm_suggest(key, keys, 2);
			wm_diags_error(d, cfg->path, (unsigned)k->start_mark.line + 1,
				       (unsigned)k->start_mark.column + 1,
				       "unknown key '%s' in the config file%s%s%s", key,
				       hint ? " (did you mean '" : "", hint ? hint : "",
				       hint ? "'?)" : "");
			continue;
		}
		if (v->type != YAML_SCALAR_NODE || !*v->data.scalar.value) {
			wm_diags_error(d, cfg->path, (unsigned)v->start_mark.line + 1,
				       (unsigned)v->start_mark.column + 1,
				       "'%s' must be a policy name", key);
			continue;
		}
		free(cfg->policy_floor);
		cfg->policy_floor = wm_xstrdup((const char *)v->data.scalar.value);
		cfg->floor_line = (unsigned)v->start_mark.line + 1;
		cfg->floor_col = (unsigned)v->start_mark.column + 1;
	}
}

static void parse(struct wm_config *cfg, const char *text, size_t len, struct wm_diags *d)
{
	struct wm_yaml_problem pb;
	yaml_parser_t parser;
	yaml_document_t doc;

	if (wm_yaml_check(text, len, &cfg_limits, &pb) < 0) {
		wm_diags_error(d, cfg->path, pb.line, pb.col, "%s%s", pb.syntax ? "YAML: " : "",
			       pb.msg);
		free(pb.msg);
		return;
	}
	if (!yaml_parser_initialize(&parser)) {
		wm_diags_error(d, cfg->path, 1, 1, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (yaml_parser_load(&parser, &doc)) {
		walk(cfg, &doc, d);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
}

int wm_config_load(struct wm_config *cfg, struct wm_diags *diags, struct wm_error **err)
{
	char *path = config_path();
	struct wm_buf b = WM_BUF_INIT;
	size_t before = diags->n_errors;

	memset(cfg, 0, sizeof(*cfg));
	if (!path)
		return 0;
	if (wm_buf_read_file_max(&b, path, cfg_limits.max_bytes) < 0) {
		int e = errno;

		wm_buf_release(&b);
		/* Unreadable (HOME is not ours, as under sudo): skipped with a
		 * warning, as git skips its config; the floors of the command
		 * line and $WM_POLICY_FLOOR still apply. */
		if (e == EACCES || e == EPERM) {
			wm_diags_warn(diags, NULL, 0, 0, "cannot read `%s`: %s; ignored", path,
				      strerror(e));
		} else if (e != ENOENT && e != ENOTDIR) {
			wm_error_make(err, WM_EXIT_USAGE, e, "read `%s`", path);
			free(path);
			return -1;
		}
		free(path);
		return 0;
	}
	cfg->path = path;
	parse(cfg, b.data, b.len, diags);
	wm_buf_release(&b);
	return diags->n_errors > before ? -1 : 0;
}

void wm_config_release(struct wm_config *cfg)
{
	free(cfg->path);
	free(cfg->policy_floor);
	memset(cfg, 0, sizeof(*cfg));
}
