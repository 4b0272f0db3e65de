/*
 * cmd_image.c - `wm image ls | inspect REF|DIGEST | rm DIGEST|REF... |
 * prune`: the images tasks use and the cache of their prepared trees
 * (image/image.h). References are read relative to the current directory.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "image/image.h"
#include "orchestrator/cli.h"
#include "sandbox/sandbox.h"

struct iopts {
	bool json;
	char **args;
	int n_args;
};

static int parse_opts(int argc, char **argv, struct iopts *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'h':
			return -2;
		default:
			return wm_bad_option("image", argv, c, opts);
		}
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return 0;
}

static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2));

	puts(s);
	free(s);
}

static int do_ls(const struct iopts *o, struct wm_error **err)
{
	wm_autofree char *cache = wm_sandbox_image_cache(err);
	struct wm_image_cached *v;
	json_auto_t *arr = json_array();
	size_t n;

	if (!cache || !(v = wm_image_cache_list(cache, &n, err)))
		return -1;
	if (!o->json)
		printf("%-19s  %10s  %-20s  %s\n", "DIGEST", "SIZE", "PREPARED", "IMAGE");
	for (size_t i = 0; i < n; i++) {
		char when[32];
		time_t t = (time_t)v[i].prepared;
		wm_autofree char *size = wm_format_size_human(v[i].size);

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		if (o->json)
			json_array_append_new(arr,
					      json_pack("{s:s, s:s, s:I, s:s}", "digest",
							v[i].digest, "name", v[i].name, "size",
							(json_int_t)v[i].size, "prepared", when));
		else
			printf("%.19s  %10s  %-20s  %s\n", v[i].digest, size, when, v[i].name);
	}
	if (o->json)
		print_json(arr);
	wm_image_cache_list_free(v, n);
	return WM_EXIT_OK;
}

/* New reference: what inspect shows of an image. */
static json_t *describe(const struct wm_image *img, bool cached)
{
	json_t *layers = json_array(), *env = json_array();
	json_t *cfg = json_loads(img->config, 0, NULL);

	for (size_t i = 0; i < img->n_layers; i++) {
		const struct wm_image_layer *l = &img->layers[i];

		json_array_append_new(layers,
				      json_pack("{s:s, s:s, s:I}", "digest",
						l->member ? l->member : l->digest, "diff_id",
						l->diff_id, "size", (json_int_t)l->size));
	}
	for (size_t i = 0; img->env[i]; i++)
		json_array_append_new(env, json_string(img->env[i]));
	/* "o" steals each reference. */
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:s?, s:s?, s:o}", "name", img->name,
			 "digest", img->digest, "config_digest", img->config_digest, "cached",
			 cached, "layers", layers, "env", env, "working_dir", img->workdir, "user",
			 img->user, "config", cfg ? cfg : json_null());
}

static void print_text(const struct wm_image *img, bool cached)
{
	printf("image    %s\ndigest   %s\nconfig   %s\ncached   %s\n", img->name, img->digest,
	       img->config_digest, cached ? "yes" : "no");
	printf("workdir  %s\nuser     %s\nlayers   %zu\n", img->workdir ? img->workdir : "/",
	       img->user ? img->user : "(none)", img->n_layers);
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct wm_image_layer *l = &img->layers[i];
		wm_autofree char *size = wm_format_size_human(l->size);

		printf("  %2zu  %s  %10s  diff_id %s\n", i + 1, l->member ? l->member : l->digest,
		       l->member ? "" : size, l->diff_id);
	}
	for (size_t i = 0; img->env[i]; i++)
		printf("env      %s\n", img->env[i]);
}

/* The reference a cached image (DIGEST, or a prefix of its hex of at
 * least 6 digits) was prepared from; NULL with *err. */
static char *cached_name(const char *cache, const char *digest, struct wm_error **err)
{
	const char *hex = strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
	struct wm_image_cached *v;
	char *name = NULL;
	size_t n, hits = 0;

	if (strlen(hex) < 6 || strspn(hex, "0123456789abcdef") != strlen(hex))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "`%s`: want an image reference (oci:..., docker-archive:...) "
				     "or the digest of a cached image",
				     digest),
		       NULL;
	if (!(v = wm_image_cache_list(cache, &n, err)))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].digest + 7, hex, strlen(hex)) == 0 && hits++ == 0)
			name = wm_xstrdup(v[i].name);
	wm_image_cache_list_free(v, n);
	if (hits != 1) {
		free(name);
		return wm_error_setx(err, WM_EXIT_USAGE, "`%s` names %s cached image", digest,
				     hits ? "more than one" : "no"),
		       NULL;
	}
	return name;
}

/* The image REF names, or the cached image DIGEST names (read again from
 * where it was prepared from). */
static struct wm_image *open_arg(const char *cache, const char *arg, struct wm_error **err)
{
	wm_autofree char *name = wm_image_ref_is(arg) ? NULL : cached_name(cache, arg, err);
	struct wm_image *img = NULL;

	if (!wm_image_ref_is(arg) && !name)
		return NULL;
	if (wm_image_open(name ? name : arg, NULL, &img, err) < 0)
		return NULL;
	return img;
}

static int do_inspect(const struct iopts *o, struct wm_error **err)
{
	wm_autofree char *cache = NULL, *dir = NULL;
	struct wm_image *img = NULL;
	bool cached;

	if (o->n_args != 1)
		return wm_usage_error("image", "'image inspect' takes one image");
	cache = wm_sandbox_image_cache(err);
	if (!cache || !(img = open_arg(cache, o->args[0], err)))
		return -1;
	dir = wm_xasprintf("%s/%s", cache, img->digest + 7);
	cached = access(dir, F_OK) == 0;
	if (o->json) {
		json_auto_t *d = describe(img, cached);

		print_json(d);
	} else {
		print_text(img, cached);
	}
	wm_image_free(img);
	return WM_EXIT_OK;
}

static int do_rm(const struct iopts *o, struct wm_error **err)
{
	wm_autofree char *cache = wm_sandbox_image_cache(err);

	if (o->n_args < 1)
		return wm_usage_error("image", "'image rm' takes DIGEST or REF...");
	if (!cache)
		return -1;
	for (int i = 0; i < o->n_args; i++) {
		const char *arg = o->args[i];
		struct wm_image *img = NULL;
		int rc;

		if (wm_image_ref_is(arg) && wm_image_open(arg, NULL, &img, err) < 0)
			return -1;
		rc = wm_image_cache_remove(cache, img ? img->digest : arg, err);
		wm_image_free(img);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return wm_error_setx(err, WM_EXIT_USAGE, "`%s`: no such cached image", arg);
		printf("removed %s\n", arg);
	}
	return WM_EXIT_OK;
}

static int do_prune(const struct iopts *o, struct wm_error **err)
{
	wm_autofree char *cache = wm_sandbox_image_cache(err);
	int n;

	if (o->n_args)
		return wm_usage_error("image", "'image prune' takes no arguments");
	if (!cache || (n = wm_image_cache_prune(cache, err)) < 0)
		return -1;
	if (o->json)
		printf("{\"removed\": %d}\n", n);
	else
		printf("removed %d cache entr%s\n", n, n == 1 ? "y" : "ies");
	return WM_EXIT_OK;
}

int wm_cmd_image(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct iopts o = { 0 };
	const char *sub;
	int rc;

	(void)cli;
	if (argc < 2)
		return wm_usage_error("image", "missing subcommand");
	sub = argv[1];
	rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc == -2) {
		wm_command_help(wm_command_find("image"), stdout);
		return WM_EXIT_OK;
	}
	if (rc > 0)
		return rc;
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		return do_ls(&o, err);
	if (strcmp(sub, "inspect") == 0)
		return do_inspect(&o, err);
	if (strcmp(sub, "rm") == 0)
		return do_rm(&o, err);
	if (strcmp(sub, "prune") == 0)
		return do_prune(&o, err);
	return wm_usage_error("image", "unknown subcommand '%s'", sub);
}
