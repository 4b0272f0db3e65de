/*
 * ref.c - image references: oci:PATH[:TAG], oci:PATH@sha256:HEX,
 * docker-archive:FILE[:NAME:TAG]. Pure string work.
 */
#include <string.h>

#include "common/cleanup.h"
#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "image/image.h"

int wm_image_digest_ok(const char *s)
{
	if (!s || !wm_str_has_prefix(s, "sha256:") || strlen(s) != 71)
		return 0;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int wm_image_ref_is(const char *s)
{
	return wm_str_has_prefix(s, "oci:") || wm_str_has_prefix(s, "docker-archive:");
}

static char *join(const char *base, const char *path, size_t len)
{
	if (path[0] == '/' || !base)
		return wm_xstrndup(path, len);
	return wm_xasprintf("%s/%.*s", base, (int)len, path);
}

/* The length of s without its "@sha256:HEX" pin, which goes to ref. */
static int split_pin(const char *s, struct wm_image_ref *ref, size_t *len, struct wm_error **err)
{
	const char *at = strrchr(s, '@');

	*len = strlen(s);
	if (!at)
		return 0;
	if (!wm_image_digest_ok(at + 1))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image `%s`: the pin after `@` must be sha256: and 64 "
				     "lowercase hex digits",
				     s);
	ref->digest = wm_xstrdup(at + 1);
	*len = (size_t)(at - s);
	return 0;
}

static int parse_oci(const char *s, const char *base, struct wm_image_ref *ref,
		     struct wm_error **err)
{
	const char *slash, *colon;
	size_t len;

	if (split_pin(s, ref, &len, err) < 0)
		return -1;
	slash = memrchr(s, '/', len);
	colon = memrchr(slash ? slash : s, ':', len - (size_t)(slash ? slash - s : 0));
	if (colon && !ref->digest) {
		if (colon[1] == '\0')
			return wm_error_setx(err, WM_EXIT_USAGE, "image `oci:%s`: empty tag", s);
		ref->tag = wm_xstrndup(colon + 1, len - (size_t)(colon + 1 - s));
		len = (size_t)(colon - s);
	}
	if (len == 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "image `oci:%s`: no path", s);
	ref->path = join(base, s, len);
	return 0;
}

static int parse_docker(const char *s, const char *base, struct wm_image_ref *ref,
			struct wm_error **err)
{
	wm_autofree char *t = NULL;
	const char *colon;
	size_t len;

	if (split_pin(s, ref, &len, err) < 0)
		return -1;
	t = wm_xstrndup(s, len);
	s = t;
	colon = strchr(s, ':');
	len = colon ? (size_t)(colon - s) : strlen(s);
	if (len == 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "image `docker-archive:%s`: no file", s);
	if (colon &&
	    (!strchr(colon + 1, ':') || colon[1] == ':' || wm_str_has_suffix(colon + 1, ":")))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image `docker-archive:%s`: the name after the file "
				     "must be NAME:TAG",
				     s);
	if (colon)
		ref->tag = wm_xstrdup(colon + 1);
	ref->path = join(base, s, len);
	return 0;
}

int wm_image_ref_parse(const char *s, const char *base_dir, struct wm_image_ref *ref,
		       struct wm_error **err)
{
	int rc;

	memset(ref, 0, sizeof(*ref));
	if (wm_str_has_prefix(s, "oci:")) {
		ref->transport = WM_IMAGE_OCI;
		rc = parse_oci(s + 4, base_dir, ref, err);
	} else if (wm_str_has_prefix(s, "docker-archive:")) {
		ref->transport = WM_IMAGE_DOCKER_ARCHIVE;
		rc = parse_docker(s + 15, base_dir, ref, err);
	} else {
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "image `%s`: want oci:PATH[:TAG], oci:PATH@sha256:HEX "
				     "or docker-archive:FILE[:NAME:TAG]",
				     s);
	}
	if (rc < 0)
		wm_image_ref_release(ref);
	return rc;
}

void wm_image_ref_release(struct wm_image_ref *ref)
{
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

char *wm_image_ref_format(const struct wm_image_ref *ref)
{
	struct wm_buf b = WM_BUF_INIT;

	wm_buf_addstr(&b, ref->transport == WM_IMAGE_OCI ? "oci:" : "docker-archive:");
	wm_buf_addstr(&b, ref->path);
	if (ref->tag)
		wm_buf_addf(&b, ":%s", ref->tag);
	if (ref->digest)
		wm_buf_addf(&b, "@%s", ref->digest);
	return wm_buf_detach(&b, NULL);
}

int wm_image_entry_kind(const char *path, char **target)
{
	const char *p = path, *base, *q;
	size_t dlen;

	*target = NULL;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '/' || (p[0] == '.' && p[1] == '\0'))
		return p[0] == '/' ? -1 : 0;
	for (q = p; *q;) {
		size_t n = strcspn(q, "/");

		if (n == 2 && q[0] == '.' && q[1] == '.')
			return -1;
		q += n;
		q += *q == '/';
	}
	if (*p == '\0')
		return path[0] ? 0 : -1;
	base = strrchr(p, '/');
	base = base ? base + 1 : p;
	if (!wm_str_has_prefix(base, ".wh."))
		return 0;
	dlen = (size_t)(base - p);
	while (dlen && p[dlen - 1] == '/')
		dlen--;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		*target = wm_xstrndup(p, dlen);
		return 2;
	}
	if (base[4] == '\0' || strcmp(base + 4, ".") == 0 || strcmp(base + 4, "..") == 0)
		return -1;
	*target = wm_xasprintf("%.*s%s%s", (int)dlen, p, dlen ? "/" : "", base + 4);
	return 1;
}
