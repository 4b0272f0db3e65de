/* Unit tests for image/: references, index/manifest/config parsing, and
 * what a layer entry's name means (whiteouts, escapes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "image/image.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void expect_ref(const char *s, const char *base, enum wm_image_transport tr,
		       const char *path, const char *tag, const char *digest)
{
	struct wm_image_ref r;
	struct wm_error *e = NULL;
	char *back;

	assert_int_equal(wm_image_ref_parse(s, base, &r, &e), 0);
	assert_int_equal(r.transport, tr);
	assert_string_equal(r.path, path);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	back = wm_image_ref_format(&r);
	if (!base || path[0] == s[strcspn(s, ":") + 1])
		assert_string_equal(back, s);
	free(back);
	wm_image_ref_release(&r);
}

static void expect_bad_ref(const char *s, const char *why)
{
	struct wm_image_ref r;
	struct wm_error *e = NULL;

	assert_int_equal(wm_image_ref_parse(s, NULL, &r, &e), -1);
	assert_non_null(e);
	assert_int_equal(e->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(e->msg, why));
	wm_error_free(e);
}

static void test_refs(void **state)
{
	(void)state;
	expect_ref("oci:/img/alpine", NULL, WM_IMAGE_OCI, "/img/alpine", NULL, NULL);
	expect_ref("oci:/img/alpine:3.20", NULL, WM_IMAGE_OCI, "/img/alpine", "3.20", NULL);
	expect_ref("oci:alpine:3.20", "/wf", WM_IMAGE_OCI, "/wf/alpine", "3.20", NULL);
	expect_ref("oci:/a:b/layout:t", NULL, WM_IMAGE_OCI, "/a:b/layout", "t", NULL);
	expect_ref("oci:/img/alpine@" D1, NULL, WM_IMAGE_OCI, "/img/alpine", NULL, D1);
	expect_ref("docker-archive:/x/a.tar", NULL, WM_IMAGE_DOCKER_ARCHIVE, "/x/a.tar", NULL,
		   NULL);
	expect_ref("docker-archive:a.tar:reg:5000/ns/img:v1", "/wf", WM_IMAGE_DOCKER_ARCHIVE,
		   "/wf/a.tar", "reg:5000/ns/img:v1", NULL);
	expect_ref("docker-archive:/x/a.tar:img:v1@" D2, NULL, WM_IMAGE_DOCKER_ARCHIVE, "/x/a.tar",
		   "img:v1", D2);
	assert_true(wm_image_ref_is("oci:x"));
	assert_true(wm_image_ref_is("docker-archive:x"));
	assert_false(wm_image_ref_is("docker://alpine"));
	expect_bad_ref("alpine:3.20", "want oci:PATH");
	expect_bad_ref("oci:", "no path");
	expect_bad_ref("oci:/img/alpine:", "empty tag");
	expect_bad_ref("oci:/img@sha256:abc", "64 lowercase hex");
	expect_bad_ref("docker-archive:", "no file");
	expect_bad_ref("docker-archive:/x/a.tar:img", "NAME:TAG");
	expect_bad_ref("docker-archive:/x/a.tar:img:", "NAME:TAG");
}

static void test_digests(void **state)
{
	(void)state;
	assert_true(wm_image_digest_ok(D1));
	assert_false(wm_image_digest_ok("sha256:ABCD"));
	assert_false(wm_image_digest_ok(
		"sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(wm_image_digest_ok(
		"sha512:1111111111111111111111111111111111111111111111111111111111111111"));
	assert_false(wm_image_digest_ok(NULL));
}

static const char index_two[] =
	"{\"schemaVersion\":2,\"manifests\":["
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D1 "\","
	"\"size\":10,\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"}},"
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D2 "\","
	"\"size\":20,\"annotations\":{\"org.opencontainers.image.ref.name\":\"b\"}}]}";

static int index_pick(const char *json, const char *ref, char digest[WM_IMAGE_DIGEST_LEN],
		      uint64_t *size, char **why)
{
	struct wm_image_ref r;
	struct wm_error *e = NULL;
	int rc;

	assert_int_equal(wm_image_ref_parse(ref, NULL, &r, &e), 0);
	rc = wm_image_parse_index(json, &r, "index.json", digest, size, &e);
	*why = e ? strdup(e->msg) : NULL;
	wm_error_free(e);
	wm_image_ref_release(&r);
	return rc;
}

/* why holds needle; frees it. */
static void expect_why(char *why, const char *needle)
{
	if (!why || !strstr(why, needle))
		fail_msg("`%s` not in `%s`", needle, why ? why : "(no error)");
	free(why);
}

static void test_index(void **state)
{
	char d[WM_IMAGE_DIGEST_LEN], *why;
	uint64_t size;

	(void)state;
	assert_int_equal(index_pick(index_two, "oci:/l:b", d, &size, &why), 0);
	assert_null(why);
	free(why);
	assert_string_equal(d, D2);
	assert_int_equal(size, 20);
	assert_int_equal(index_pick(index_two, "oci:/l@" D1, d, &size, &why), 0);
	assert_null(why);
	free(why);
	assert_string_equal(d, D1);
	assert_int_equal(index_pick(index_two, "oci:/l", d, &size, &why), -1);
	expect_why(why, "several images match");
	assert_int_equal(index_pick(index_two, "oci:/l:c", d, &size, &why), -1);
	expect_why(why, "no image tagged `c`");
	assert_int_equal(index_pick("{\"manifests\": 3}", "oci:/l", d, &size, &why), -1);
	expect_why(why, "no `manifests` list");
	assert_int_equal(index_pick("{\"manifests\": [", "oci:/l", d, &size, &why), -1);
	expect_why(why, "malformed JSON");
	assert_int_equal(index_pick("{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image."
				    "index.v1+json\",\"digest\":\"" D1 "\",\"size\":1}]}",
				    "oci:/l", d, &size, &why),
			 -1);
	expect_why(why, "image manifests only");
	assert_int_equal(index_pick("{\"manifests\":[{\"digest\":\"sha256:12\",\"size\":1}]}",
				    "oci:/l", d, &size, &why),
			 -1);
	expect_why(why, "no valid sha256 digest");
}

static void test_manifest_and_config(void **state)
{
	struct wm_image img = { 0 };
	struct wm_error *e = NULL;
	uint64_t csize;

	(void)state;
	assert_int_equal(wm_image_parse_manifest("{\"config\":{\"digest\":\"" D1 "\",\"size\":7},"
						 "\"layers\":[{\"digest\":\"" D2 "\",\"size\":9},"
						 "{\"digest\":\"" D3 "\",\"size\":11}]}",
						 "m", &img, &csize, &e),
			 0);
	assert_int_equal(csize, 7);
	assert_string_equal(img.config_digest, D1);
	assert_int_equal(img.n_layers, 2);
	assert_string_equal(img.layers[1].digest, D3);
	assert_int_equal(img.layers[1].size, 11);
	assert_int_equal(
		wm_image_parse_config("{\"rootfs\":{\"diff_ids\":[\"" D3 "\"]}}", "c", &img, &e),
		-1);
	assert_non_null(strstr(e->msg, "1 diff_ids for 2 layers"));
	wm_error_free(e);
	e = NULL;
	assert_int_equal(wm_image_parse_config("{\"rootfs\":{\"diff_ids\":[\"" D3 "\",\"" D2
					       "\"]},\"config\":{\"Env\":[\"A=1\",\"PATH=/bin\"],"
					       "\"WorkingDir\":\"/src\",\"User\":\"1000:100\"}}",
					       "c", &img, &e),
			 0);
	assert_string_equal(img.layers[0].diff_id, D3);
	assert_string_equal(img.env[1], "PATH=/bin");
	assert_null(img.env[2]);
	assert_string_equal(img.workdir, "/src");
	assert_string_equal(img.user, "1000:100");
	img.ref.path = strdup("/x");
	img.name = strdup("oci:/x");
	img.config = NULL;
	{
		struct wm_image *heap = malloc(sizeof(*heap));

		*heap = img;
		wm_image_free(heap);
	}
}

static void test_config_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"Env\":[\"NOEQUALS\"]}}",
		  "`Env` entry 1 is not NAME=VALUE" },
		{ "{\"rootfs\":{\"diff_ids\":[]},\"config\":{\"WorkingDir\":\"rel\"}}",
		  "not an absolute path" },
		{ "{\"rootfs\":{\"diff_ids\":[\"sha256:x\"]}}", "1 diff_ids for 0 layers" },
		{ "{\"config\":{}}", "no `rootfs.diff_ids` list" },
		{ "[]", "not a JSON object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wm_image img = { 0 };
		struct wm_error *e = NULL;

		assert_int_equal(wm_image_parse_config(bad[i][0], "cfg", &img, &e), -1);
		if (!strstr(e->msg, bad[i][1]))
			fail_msg("%s: got `%s`", bad[i][0], e->msg);
		wm_error_free(e);
		free(img.layers);
		for (size_t k = 0; img.env && img.env[k]; k++)
			free(img.env[k]);
		free(img.env);
	}
}

static void expect_kind(const char *path, int kind, const char *target)
{
	char *t = NULL;

	assert_int_equal(wm_image_entry_kind(path, &t), kind);
	if (target)
		assert_string_equal(t, target);
	else
		assert_null(t);
	free(t);
}

static void test_entry_kinds(void **state)
{
	(void)state;
	expect_kind("etc/passwd", 0, NULL);
	expect_kind("./etc/passwd", 0, NULL);
	expect_kind("./", 0, NULL);
	expect_kind("a..b/c", 0, NULL);
	expect_kind("etc/.wh.passwd", 1, "etc/passwd");
	expect_kind("./.wh.tmp", 1, "tmp");
	expect_kind("usr/lib/.wh..wh..opq", 2, "usr/lib");
	expect_kind(".wh..wh..opq", 2, "");
	expect_kind("../etc/passwd", -1, NULL);
	expect_kind("a/../../b", -1, NULL);
	expect_kind("a/..", -1, NULL);
	expect_kind("/etc/passwd", -1, NULL);
	expect_kind("", -1, NULL);
	expect_kind("etc/.wh.", -1, NULL);
	expect_kind("etc/.wh...", -1, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),	      cmocka_unit_test(test_digests),
		cmocka_unit_test(test_index),	      cmocka_unit_test(test_manifest_and_config),
		cmocka_unit_test(test_config_errors), cmocka_unit_test(test_entry_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
