/*
 * fuzz_dialect.c - libFuzzer harness for other tools' Markdown: dialect
 * detection, each dialect's translation, and the parse of that translation
 * with its places moved back (workflow/dialect*.c).
 * Seeds: tests/fuzz/corpus/fuzz_dialect/ and the .md files of tests/data/dialects.
 *
 * The first byte picks the file name the input is detected under (a
 * maskfile.md, a README.md or another name); the rest is the file, read
 * in every dialect. A file that parses is a menu in that dialect with its
 * DAG.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "tests/fuzz/fuzz_input.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "maskfile.md", "README.md", "x.md" };
	const char *path;
	char *text;
	enum wm_dialect d;

	if (size < 1 || size > WM_WORKFLOW_MAX_BYTES)
		return 0;
	path = names[data[0] % 3];
	text = fuzz_text(data + 1, size - 1);
	if (!text)
		return 0;
	d = wm_dialect_detect(path, text, size - 1);
	if (d == WM_DIALECT_AUTO)
		abort(); /* detection always decides */
	for (int k = WM_DIALECT_MASK; k <= WM_DIALECT_RUNME; k++) {
		struct wm_diags diags = WM_DIAGS_INIT;
		struct wm_workflow *wf = NULL;
		char *native =
			wm_dialect_translate((enum wm_dialect)k, path, text, size - 1, &diags);

		free(native);
		if (wm_workflow_parse_dialect(path, text, size - 1, (enum wm_dialect)k, &wf,
					      &diags) == 0 &&
		    (!wf->dag || wf->dag->n != wf->n_tasks || wf->dialect != (enum wm_dialect)k ||
		     !wf->menu))
			abort();
		wm_workflow_free(wf);
		wm_diags_release(&diags);
	}
	free(text);
	return 0;
}
