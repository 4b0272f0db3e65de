/*
 * fuzz_image.c - libFuzzer harness for the image metadata parsers: the
 * input is read as an OCI index.json, an image manifest and an image
 * config in turn (image/manifest.c), then as an image reference and a
 * layer entry's name (image/ref.c).
 * Build and run: make fuzz (seeds: tests/fuzz/corpus/fuzz_image/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strutil.h"
#include "image/image.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void release(struct wm_image *img)
{
	free(img->layers);
	wm_strv_free(img->env);
	free(img->workdir);
	free(img->user);
	memset(img, 0, sizeof(*img));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct wm_image_ref ref = { .transport = WM_IMAGE_OCI, .path = (char *)"/l" };
	struct wm_image img = { 0 };
	struct wm_error *err = NULL;
	char digest[WM_IMAGE_DIGEST_LEN], *target = NULL;
	uint64_t n;

	wm_image_parse_index(text, &ref, "index.json", digest, &n, &err);
	wm_error_free(err);
	err = NULL;
	ref.tag = (char *)"t";
	wm_image_parse_index(text, &ref, "index.json", digest, &n, &err);
	wm_error_free(err);
	err = NULL;
	if (wm_image_parse_manifest(text, "manifest", &img, &n, &err) == 0)
		wm_image_parse_config(text, "config", &img, &err);
	wm_error_free(err);
	err = NULL;
	release(&img);
	if (wm_image_ref_parse(text, "/base", &ref, &err) == 0) {
		free(wm_image_ref_format(&ref));
		wm_image_ref_release(&ref);
	}
	wm_error_free(err);
	wm_image_entry_kind(text, &target);
	free(target);
	free(text);
	return 0;
}
