/*
 * fuzz_workflow.c - libFuzzer harness for the workflow parser and planner.
 * Build (clang): clang -g -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I. \
 *     tests/fuzz/fuzz_workflow.c common/[a-z]*.c workflow/[a-z]*.c \
 *     $(pkg-config --cflags --libs libcmark yaml-0.1 libsodium) -o fuzz_workflow
 * Seeds: the .md files of tests/data/valid and tests/data/invalid (and of
 * ../shared/fixtures/workflows when it sits beside the checkout).
 *
 * Limits: inputs larger than WM_WORKFLOW_MAX_BYTES are skipped, as
 * wm_workflow_load() refuses them before parsing; the front matter's limits
 * (size, nesting, values, no aliases) are the parser's own. `make fuzz` runs
 * it under -rss_limit_mb and -malloc_limit_mb (Makefile, FUZZ_RSS_MB).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	if (!text || size > WM_WORKFLOW_MAX_BYTES) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (wm_workflow_parse_checked("fuzz.md", text, size, &wf, &d) == 0) {
		if (!wf->dag || wf->dag->n != wf->n_tasks)
			abort(); /* a checked workflow always carries its DAG */
		for (size_t i = 0; i < wf->n_tasks; i++)
			free(wm_task_definition_hash(&wf->tasks[i], "p"));
	}
	wm_workflow_free(wf);
	wm_diags_release(&d);
	free(text);
	return 0;
}
