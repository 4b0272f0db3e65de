/*
 * open.c - reading an image's metadata: index.json, manifest and config of
 * an OCI layout, or manifest.json and config of a docker-archive; every
 * blob checked against its digest before it is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/internal.h"

void img_digest_format(const unsigned char h[32], char out[WM_IMAGE_DIGEST_LEN])
{
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), h, 32);
	snprintf(out, WM_IMAGE_DIGEST_LEN, "sha256:%s", hex);
}

void img_digest_of(const void *data, size_t len, char out[WM_IMAGE_DIGEST_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	img_digest_format(h, out);
}

/* A blob of an OCI layout, checked against its digest and size. */
static int read_blob(const struct wm_image *img, const char *digest, uint64_t size,
		     const char *what, struct wm_buf *out, struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/blobs/sha256/%s", img->ref.path, digest + 7);
	char got[WM_IMAGE_DIGEST_LEN];

	if (size > IMG_JSON_MAX)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image %s: %s blob %s: %llu bytes, more "
				     "than the %u a JSON document may have",
				     img->name, what, digest, (unsigned long long)size,
				     IMG_JSON_MAX);
	if (wm_buf_read_file_max(out, path, IMG_JSON_MAX) < 0)
		return wm_error_make(err, WM_EXIT_USAGE, errno, "image %s: %s blob %s", img->name,
				     what, digest);
	if (out->len != size)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image %s: %s blob %s is %zu bytes, its descriptor says %llu",
				     img->name, what, digest, out->len, (unsigned long long)size);
	img_digest_of(out->data, out->len, got);
	if (strcmp(got, digest) != 0)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image %s: %s blob %s does not match its digest (its content "
				     "hashes to %s)",
				     img->name, what, digest, got);
	return 0;
}

/* The config (checked against its digest) parsed into img, which keeps its
 * text (b's) for `wm image inspect`. */
static int take_config(struct wm_image *img, struct wm_buf *b, const char *what,
		       struct wm_error **err)
{
	if (wm_image_parse_config(b->data, what, img, err) < 0)
		return -1;
	img->config = wm_buf_detach(b, NULL);
	return 0;
}

static int open_oci(struct wm_image *img, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autofree char *index = wm_xasprintf("%s/index.json", img->ref.path);
	wm_autofree char *what = wm_xasprintf("image %s: index.json", img->name);
	uint64_t size;
	int rc = -1;

	switch (wm_buf_read_file_max(&b, index, IMG_JSON_MAX)) {
	case 0:
		break;
	case 1:
		wm_error_setx(err, WM_EXIT_USAGE, "image %s: %s is larger than %u bytes", img->name,
			      index, IMG_JSON_MAX);
		goto out;
	default:
		wm_error_make(err, WM_EXIT_USAGE, errno, "image %s: read %s", img->name, index);
		goto out;
	}
	if (wm_image_parse_index(b.data, &img->ref, what, img->digest, &size, err) < 0)
		goto out;
	wm_buf_setlen(&b, 0);
	free(what);
	what = wm_xasprintf("image %s: manifest %s", img->name, img->digest);
	if (read_blob(img, img->digest, size, "manifest", &b, err) < 0 ||
	    wm_image_parse_manifest(b.data, what, img, &size, err) < 0)
		goto out;
	wm_buf_setlen(&b, 0);
	free(what);
	what = wm_xasprintf("image %s: config %s", img->name, img->config_digest);
	if (read_blob(img, img->config_digest, size, "config", &b, err) < 0 ||
	    take_config(img, &b, what, err) < 0)
		goto out;
	rc = 0;
out:
	wm_buf_release(&b);
	return rc;
}

/* The entry of manifest.json for img->ref.tag (or the only one). Borrowed. */
static json_t *docker_entry(json_t *list, const struct wm_image *img, struct wm_error **err)
{
	json_t *e, *t, *found = NULL;
	size_t i, k;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "image %s: manifest.json lists no image",
				     img->name),
		       NULL;
	if (!img->ref.tag) {
		if (json_array_size(list) > 1)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "image %s: the archive holds several images; name "
					     "one with :NAME:TAG",
					     img->name),
			       NULL;
		return json_array_get(list, 0);
	}
	json_array_foreach(list, i, e)
	{
		json_array_foreach(json_object_get(e, "RepoTags"), k, t)
		{
			const char *s = json_string_value(t);

			if (s && (strcmp(s, img->ref.tag) == 0 ||
				  (wm_str_has_suffix(s, img->ref.tag) &&
				   s[strlen(s) - strlen(img->ref.tag) - 1] == '/')))
				found = found ? found : e;
		}
	}
	if (!found)
		wm_error_setx(err, WM_EXIT_USAGE, "image %s: no image tagged `%s` in the archive",
			      img->name, img->ref.tag);
	return found;
}

/* Config names like "HEX.json" or "blobs/sha256/HEX" promise a digest. */
static int check_named_digest(const struct wm_image *img, const char *member, struct wm_error **err)
{
	const char *base = strrchr(member, '/');
	char want[WM_IMAGE_DIGEST_LEN];

	base = base ? base + 1 : member;
	snprintf(want, sizeof(want), "sha256:%.64s", base);
	if (!wm_image_digest_ok(want) || strcmp(want, img->config_digest) == 0)
		return 0;
	return wm_error_setx(err, WM_EXIT_USAGE,
			     "image %s: config blob %s does not match its digest (its content "
			     "hashes to %s)",
			     img->name, member, img->config_digest);
}

static int docker_layers(struct wm_image *img, json_t *layers, struct wm_error **err)
{
	json_t *l;
	size_t i;

	if (!json_is_array(layers) || json_array_size(layers) > 256)
		return wm_error_setx(err, WM_EXIT_USAGE, "image %s: manifest.json: bad `Layers`",
				     img->name);
	img->layers = wm_xcalloc(json_array_size(layers) + 1, sizeof(*img->layers));
	json_array_foreach(layers, i, l)
	{
		const char *s = json_string_value(l);

		if (!s || !*s)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "image %s: manifest.json: layer %zu has no file",
					     img->name, i + 1);
		img->layers[i].member = wm_xstrdup(s);
		img->n_layers = i + 1;
	}
	return 0;
}

static int open_docker(struct wm_image *img, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	json_auto_t *list = NULL;
	wm_autofree char *what = NULL;
	json_t *e;
	const char *cfg;
	json_error_t je;
	int rc = -1;

	if (img_archive_member(img->ref.path, "manifest.json", IMG_JSON_MAX, &b, err) < 0)
		goto out;
	list = json_loads(b.data, JSON_REJECT_DUPLICATES, &je); /* new reference */
	if (!list) {
		wm_error_setx(err, WM_EXIT_USAGE,
			      "image %s: manifest.json: malformed JSON at line "
			      "%d: %s",
			      img->name, je.line, je.text);
		goto out;
	}
	if (!(e = docker_entry(list, img, err)))
		goto out;
	cfg = json_string_value(json_object_get(e, "Config"));
	if (!cfg || docker_layers(img, json_object_get(e, "Layers"), err) < 0) {
		if (err && !*err)
			wm_error_setx(err, WM_EXIT_USAGE, "image %s: manifest.json: no `Config`",
				      img->name);
		goto out;
	}
	wm_buf_setlen(&b, 0);
	if (img_archive_member(img->ref.path, cfg, IMG_JSON_MAX, &b, err) < 0)
		goto out;
	img_digest_of(b.data, b.len, img->config_digest);
	memcpy(img->digest, img->config_digest, WM_IMAGE_DIGEST_LEN);
	what = wm_xasprintf("image %s: config %s", img->name, cfg);
	if (check_named_digest(img, cfg, err) < 0 || take_config(img, &b, what, err) < 0)
		goto out;
	rc = 0;
out:
	wm_buf_release(&b);
	return rc;
}

int wm_image_open(const char *ref, const char *base_dir, struct wm_image **out,
		  struct wm_error **err)
{
	struct wm_image *img = wm_xcalloc(1, sizeof(*img));
	char *real;

	if (wm_image_ref_parse(ref, base_dir, &img->ref, err) < 0)
		goto fail;
	real = realpath(img->ref.path, NULL);
	if (!real) {
		wm_error_make(err, WM_EXIT_USAGE, errno, "image %s", ref);
		goto fail;
	}
	free(img->ref.path);
	img->ref.path = real;
	img->name = wm_image_ref_format(&img->ref);
	if ((img->ref.transport == WM_IMAGE_OCI ? open_oci(img, err) : open_docker(img, err)) < 0)
		goto fail;
	if (img->ref.digest && strcmp(img->ref.digest, img->digest) != 0) {
		wm_error_setx(err, WM_EXIT_USAGE, "image %s: its digest is %s, not the pinned one",
			      img->name, img->digest);
		goto fail;
	}
	*out = img;
	return 0;
fail:
	wm_image_free(img);
	return -1;
}

char *wm_image_pinned_name(const struct wm_image *img)
{
	struct wm_image_ref r = img->ref;

	/* An OCI layout finds the manifest by its digest alone. */
	if (r.transport == WM_IMAGE_OCI)
		r.tag = NULL;
	r.digest = (char *)img->digest;
	return wm_image_ref_format(&r);
}

void wm_image_free(struct wm_image *img)
{
	if (!img)
		return;
	wm_image_ref_release(&img->ref);
	free(img->name);
	for (size_t i = 0; i < img->n_layers; i++)
		free(img->layers[i].member);
	free(img->layers);
	wm_strv_free(img->env);
	free(img->workdir);
	free(img->user);
	free(img->config);
	free(img);
}
