/*
 * manifest.c - the JSON documents of an image: an OCI index.json, an image
 * manifest, an image config. Parsing only; the caller has checked the
 * blob's digest.
 */
#include <jansson.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/image.h"

#define MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MANIFEST_TYPE "application/vnd.docker.distribution.manifest.v2+json"
#define MAX_LAYERS 256

static json_t *load(const char *json, const char *what, struct wm_error **err)
{
	json_error_t je;
	/* New reference, ours. */
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: malformed JSON at line %d: %s", what,
				     je.line, je.text),
		       NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: not a JSON object", what), NULL;
	}
	return root;
}

/* A descriptor's digest and size: {"digest": "sha256:..", "size": N}. */
static int descriptor(json_t *d, const char *what, const char *field,
		      char digest[WM_IMAGE_DIGEST_LEN], uint64_t *size, struct wm_error **err)
{
	/* Borrowed references. */
	const char *dg = json_string_value(json_object_get(d, "digest"));
	json_t *sz = json_object_get(d, "size");

	if (!json_is_object(d) || !wm_image_digest_ok(dg))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s has no valid sha256 digest", what,
				     field);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %s has no valid size", what, field);
	memcpy(digest, dg, WM_IMAGE_DIGEST_LEN);
	*size = (uint64_t)json_integer_value(sz);
	return 0;
}

static int pick(json_t *m, const struct wm_image_ref *ref, size_t *found, size_t i)
{
	/* Borrowed. */
	const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"),
							     "org.opencontainers.image.ref.name"));
	const char *dg = json_string_value(json_object_get(m, "digest"));

	if (ref->digest ? (dg && strcmp(dg, ref->digest) == 0)
			: (!ref->tag || (name && strcmp(name, ref->tag) == 0))) {
		if (*found == (size_t)-1)
			*found = i;
		else if (!ref->digest)
			return -1;
	}
	return 0;
}

int wm_image_parse_index(const char *json, const struct wm_image_ref *ref, const char *what,
			 char digest[WM_IMAGE_DIGEST_LEN], uint64_t *size, struct wm_error **err)
{
	json_auto_t *root = load(json, what, err);
	json_t *ms, *m;
	size_t i, found = (size_t)-1;
	const char *type;

	if (!root)
		return -1;
	ms = json_object_get(root, "manifests"); /* borrowed */
	if (!json_is_array(ms))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: no `manifests` list", what);
	json_array_foreach(ms, i, m)
	{
		if (pick(m, ref, &found, i) < 0)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "%s: several images match; name one with :TAG or "
					     "@sha256:...",
					     what);
	}
	if (found == (size_t)-1) {
		if (ref->digest)
			return wm_error_setx(err, WM_EXIT_USAGE, "%s: no manifest %s", what,
					     ref->digest);
		if (ref->tag)
			return wm_error_setx(err, WM_EXIT_USAGE, "%s: no image tagged `%s`", what,
					     ref->tag);
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: no image in it", what);
	}
	m = json_array_get(ms, found);
	type = json_string_value(json_object_get(m, "mediaType"));
	if (type && strcmp(type, MANIFEST_TYPE) != 0 && strcmp(type, DOCKER_MANIFEST_TYPE) != 0)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: the image is a `%s`; wm reads image manifests only", what,
				     type);
	return descriptor(m, what, "the manifest's descriptor", digest, size, err);
}

int wm_image_parse_manifest(const char *json, const char *what, struct wm_image *img,
			    uint64_t *config_size, struct wm_error **err)
{
	json_auto_t *root = load(json, what, err);
	json_t *layers, *l;
	size_t i;

	if (!root)
		return -1;
	if (descriptor(json_object_get(root, "config"), what, "`config`", img->config_digest,
		       config_size, err) < 0)
		return -1;
	layers = json_object_get(root, "layers"); /* borrowed */
	if (!json_is_array(layers))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: no `layers` list", what);
	if (json_array_size(layers) > MAX_LAYERS)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: more than %d layers", what,
				     MAX_LAYERS);
	img->layers = wm_xcalloc(json_array_size(layers) + 1, sizeof(*img->layers));
	json_array_foreach(layers, i, l)
	{
		char field[32];

		snprintf(field, sizeof(field), "layer %zu", i + 1);
		if (descriptor(l, what, field, img->layers[i].digest, &img->layers[i].size, err) <
		    0)
			return -1;
		img->n_layers = i + 1;
	}
	return 0;
}

static int config_strings(json_t *cfg, const char *what, struct wm_image *img,
			  struct wm_error **err)
{
	/* All borrowed. */
	json_t *env = json_object_get(cfg, "Env"), *v;
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	const char *user = json_string_value(json_object_get(cfg, "User"));
	size_t i, n = 0;

	img->env = wm_xcalloc(1, sizeof(char *));
	if (env && !json_is_array(env) && !json_is_null(env))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: `Env` is not a list", what);
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);

		if (!s || !strchr(s, '=') || !wm_env_name_ok(s, strcspn(s, "=")))
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "%s: `Env` entry %zu is not NAME=VALUE", what, i + 1);
		wm_env_set(&img->env, &n, s);
	}
	if (wd && *wd && wd[0] != '/')
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s: `WorkingDir` `%s` is not an absolute path", what, wd);
	img->workdir = wd && *wd ? wm_xstrdup(wd) : NULL;
	img->user = user && *user ? wm_xstrdup(user) : NULL;
	return 0;
}

int wm_image_parse_config(const char *json, const char *what, struct wm_image *img,
			  struct wm_error **err)
{
	json_auto_t *root = load(json, what, err);
	json_t *ids, *d, *cfg;
	size_t i;

	if (!root)
		return -1;
	ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids"); /* borrowed */
	if (!json_is_array(ids))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: no `rootfs.diff_ids` list", what);
	if (json_array_size(ids) != img->n_layers)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu diff_ids for %zu layers", what,
				     json_array_size(ids), img->n_layers);
	json_array_foreach(ids, i, d)
	{
		const char *s = json_string_value(d);

		if (!wm_image_digest_ok(s))
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "%s: diff_id %zu is not a sha256 digest", what, i + 1);
		memcpy(img->layers[i].diff_id, s, WM_IMAGE_DIGEST_LEN);
	}
	cfg = json_object_get(root, "config"); /* borrowed */
	if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: `config` is not an object", what);
	return config_strings(cfg, what, img, err);
}
