/*
 * fuzz_checkpoint.c - libFuzzer harness for checkpoint reading: the input
 * is either a zstd frame (checkpoint.json.zst as written) or the JSON inside
 * it. The bytes go through the same steps as wm_checkpoint_read(): one
 * bounded zstd frame, JSON syntax, then wm_run_state_from_json's checks of
 * format, version and every field; an accepted state is written back to
 * JSON, as the next checkpoint would be.
 * Build and run: make fuzz (seeds: tests/fuzz/corpus/fuzz_checkpoint/).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "state/checkpoint.h"
#include "state/runstate.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_json(const char *text, size_t len)
{
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL); /* new ref, ours */
	struct wm_error *err = NULL;
	struct wm_run_state *rs;
	uint64_t seq = 0;

	if (!j)
		return;
	rs = wm_run_state_from_json(j, &seq, &err);
	if (rs) {
		json_t *back = wm_run_state_to_json(rs, seq); /* new ref */

		free(json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS));
		json_decref(back);
		wm_run_state_free(rs);
	}
	wm_error_free(err);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct wm_error *err = NULL;

	if (size >= 4 && memcmp(data, zstd_magic, 4) == 0) {
		size_t out_len = 0;
		char *out = wm_zstd_decompress(data, size, 1 << 20, &out_len, &err);

		if (out)
			parse_json(out, out_len);
		free(out);
		wm_error_free(err);
	} else {
		char *text = fuzz_text(data, size);

		if (text)
			parse_json(text, size);
		free(text);
	}
	return 0;
}
