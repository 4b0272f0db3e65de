/*
 * fuzz_dialect_attrs.c - libFuzzer harness for the attribute parsers of
 * other tools' Markdown: xc's `Key: value` lines (dl_kv_line) and runme's
 * `{name=x cwd="a b"}` blocks (dl_brace_attrs). Every span they hand out
 * must lie inside the input.
 * Seeds: tests/fuzz/corpus/fuzz_dialect_attrs/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "workflow/dialect_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const char *start;
	size_t len;
};

static void inside(const char *k, size_t kn, const char *v, size_t vn, void *ctx)
{
	const struct span *s = ctx;

	if (k < s->start || k + kn > s->start + s->len ||
	    (vn && (v < s->start || v + vn > s->start + s->len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct dl_kv kv;
	struct span s = { text, size };

	if (!text)
		return 0;
	if (dl_kv_line(text, size, &kv) &&
	    (kv.key < text || kv.val + kv.val_len > text + size || kv.val_col > size ||
	     kv.key_len == 0 || kv.val_len == 0))
		abort();
	dl_brace_attrs(text, inside, &s);
	free(text);
	return 0;
}
