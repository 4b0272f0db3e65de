/*
 * internal.h - what the files of image/ share.
 */
#ifndef WM_IMAGE_INTERNAL_H
#define WM_IMAGE_INTERNAL_H

#include <stdbool.h>

#include "common/buf.h"
#include "image/image.h"

/* JSON documents (index, manifests, configs) are read up to this size. */
#define IMG_JSON_MAX (4u << 20)

/* A sha256 (32 bytes) as "sha256:HEX". */
void img_digest_format(const unsigned char h[32], char out[WM_IMAGE_DIGEST_LEN]);
/* sha256 of data as "sha256:HEX". */
void img_digest_of(const void *data, size_t len, char out[WM_IMAGE_DIGEST_LEN]);

/* The member `name` of the tar file `archive`, at most `limit` bytes,
 * into *out (NUL-terminated). */
int img_archive_member(const char *archive, const char *name, size_t limit, struct wm_buf *out,
		       struct wm_error **err);

/* Limits on what layers may hold, from the environment. */
struct img_limits {
	uint64_t max_entries, max_size;
	uint64_t entries, size; /* so far, over all layers */
	unsigned root_id;	/* owner in place of 0, when wm is root */
};
int img_limits_init(struct img_limits *lim, struct wm_error **err);

/* Applies layer i of img onto the directory fd `root`. */
int img_apply_layer(const struct wm_image *img, size_t i, int root, struct img_limits *lim,
		    struct wm_error **err);

#endif
