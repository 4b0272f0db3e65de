/*
 * image.h - OCI image layouts and docker-archive files as root filesystems.
 *
 * A reference names an image:
 *     oci:PATH[:TAG]  oci:PATH@sha256:HEX  docker-archive:FILE[:NAME:TAG]
 * wm_image_open() reads its index, manifest and config (each blob's sha256
 * checked against its digest before it is parsed) and returns what a task
 * needs; nothing is extracted. wm_image_prepare() builds the root
 * filesystem once into a content-addressed cache, CACHE/<hex of the
 * image's digest>/rootfs, verifying every layer's digest on the compressed
 * stream and its diff_id on the uncompressed one, in a temporary directory
 * renamed into place: a tree under its final name is always whole and
 * verified; a failed or killed preparation leaves only a `.tmp-*`
 * directory nobody reads (wm_image_prune() removes it).
 *
 * Layers are hostile input: a path that is absolute or holds `..`, a write
 * through a symbolic link, a hard link out of the tree, more than
 * WM_IMAGE_MAX_ENTRIES entries or WM_IMAGE_MAX_SIZE bytes (environment,
 * defaults below) are each an error naming the image and the blob. Device
 * nodes are skipped; setuid and setgid bits are dropped unless wm is root.
 * Errors about the image carry exit code 2.
 *
 * The image's digest is the manifest's for oci:, the config's (the image
 * id) for docker-archive:. Libarchive is used by layer.c alone.
 */
#ifndef WM_IMAGE_IMAGE_H
#define WM_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define WM_IMAGE_DEFAULT_MAX_ENTRIES 1000000
#define WM_IMAGE_DEFAULT_MAX_SIZE (8ULL << 30)
/* "sha256:" and 64 hex digits, NUL. */
#define WM_IMAGE_DIGEST_LEN 72

enum wm_image_transport { WM_IMAGE_OCI, WM_IMAGE_DOCKER_ARCHIVE };

struct wm_image_ref {
	enum wm_image_transport transport;
	char *path;   /* the layout directory or the archive file */
	char *tag;    /* oci: the ref.name; docker-archive: NAME:TAG; NULL: the only one */
	char *digest; /* oci: a manifest digest pin, "sha256:HEX", or NULL */
};

struct wm_image_layer {
	char digest[WM_IMAGE_DIGEST_LEN];  /* of the blob as stored */
	char diff_id[WM_IMAGE_DIGEST_LEN]; /* of its uncompressed tar */
	uint64_t size;			   /* bytes of the blob */
	char *member;			   /* docker-archive: its name in the archive */
};

struct wm_image {
	struct wm_image_ref ref;
	char *name;			  /* the reference, canonical (absolute path) */
	char digest[WM_IMAGE_DIGEST_LEN]; /* what the cache and hashes use */
	char config_digest[WM_IMAGE_DIGEST_LEN];
	struct wm_image_layer *layers;
	size_t n_layers;
	char **env;    /* config Env, NULL-terminated (maybe empty) */
	char *workdir; /* config WorkingDir, or NULL */
	char *user;    /* config User, or NULL */
	char *config;  /* the config blob as read (JSON text) */
};

/* Parses a reference; a relative path is taken relative to base_dir (when
 * not NULL). Errors are usage errors. */
int wm_image_ref_parse(const char *s, const char *base_dir, struct wm_image_ref *ref,
		       struct wm_error **err);
void wm_image_ref_release(struct wm_image_ref *ref);
/* "oci:PATH:TAG", "oci:PATH@sha256:..", "docker-archive:FILE:NAME:TAG". */
char *wm_image_ref_format(const struct wm_image_ref *ref);
/* Does s start like a reference ("oci:" or "docker-archive:")? */
int wm_image_ref_is(const char *s);
/* "sha256:" and 64 lowercase hex digits? */
int wm_image_digest_ok(const char *s);

int wm_image_open(const char *ref, const char *base_dir, struct wm_image **out,
		  struct wm_error **err);
void wm_image_free(struct wm_image *img);
/* The image pinned by digest: "oci:PATH@sha256:..", or for docker-archive
 * its reference followed by "@" and its config digest. For hashes. */
char *wm_image_pinned_name(const struct wm_image *img);

/* Parsers of the JSON documents (text, NUL-terminated; `what` names the
 * blob in messages). Exposed for tests. */
int wm_image_parse_index(const char *json, const struct wm_image_ref *ref, const char *what,
			 char digest[WM_IMAGE_DIGEST_LEN], uint64_t *size, struct wm_error **err);
int wm_image_parse_manifest(const char *json, const char *what, struct wm_image *img,
			    uint64_t *config_size, struct wm_error **err);
int wm_image_parse_config(const char *json, const char *what, struct wm_image *img,
			  struct wm_error **err);

/* What a layer entry named `path` (as in the tar, already checked) means:
 * an ordinary entry (0), a whiteout of the sibling *target (1) or an opaque
 * directory marker for the directory *target ("" for the root) (2); -1
 * when its name is not a path wm extracts (absolute, `..`, empty). *target
 * is allocated for 1 and 2. */
int wm_image_entry_kind(const char *path, char **target);

/* The cached root filesystem of img under cache_dir (created if needed):
 * its path, "CACHE/HEX/rootfs"; the caller frees. When wm is root, files
 * the image gives to uid or gid 0 are given to `root_id` instead (the id
 * sandboxes map root to), so that root in a task's user namespace owns
 * them; the cache directory is private, so no one else can reach them. */
char *wm_image_prepare(const struct wm_image *img, const char *cache_dir, unsigned root_id,
		       struct wm_error **err);

/* The ids of an image config's `User` ("uid", "uid:gid", "name",
 * "name:group"; a name looked up in the tree's /etc/passwd or /etc/group,
 * opened inside the tree, `root` its directory fd); a uid alone gets its
 * passwd entry's group, else 0. `image` names the image in messages. */
int wm_image_user_ids(const char *user, const char *image, int root, unsigned *uid, unsigned *gid,
		      struct wm_error **err);

/* Cached images, for `wm image`: each entry's digest and its record. */
struct wm_image_cached {
	char digest[WM_IMAGE_DIGEST_LEN];
	char *name;	  /* the reference it was prepared from */
	uint64_t size;	  /* bytes of its layers' blobs */
	int64_t prepared; /* Unix seconds */
};
/* The cached images, sorted by digest; *n set. NULL with *err on failure
 * (an empty cache is a zero-length array). */
struct wm_image_cached *wm_image_cache_list(const char *cache_dir, size_t *n,
					    struct wm_error **err);
void wm_image_cache_list_free(struct wm_image_cached *v, size_t n);
/* Removes the cached image with this digest ("sha256:HEX" or a unique
 * prefix of HEX of at least 6 digits): 1 removed, 0 none. */
int wm_image_cache_remove(const char *cache_dir, const char *digest, struct wm_error **err);
/* Removes what interrupted preparations left and images whose source is
 * gone; returns how many entries were removed. */
int wm_image_cache_prune(const char *cache_dir, struct wm_error **err);

#endif
