/*
 * fuzz_policy.c - libFuzzer harness for the policy YAML loader: the input
 * is one policy file, loaded on top of the built-ins; every policy it adds
 * is then resolved, hashed and printed back as YAML, and the last one is
 * diffed against `standard`, as `wm policy show` and `wm policy diff` do.
 * Build and run: make fuzz (seeds: tests/fuzz/corpus/fuzz_policy/ and the
 * built-in policies).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/diag.h"
#include "common/error.h"
#include "policies/policies.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;

	if (text && wm_policy_set_load_text(set, "/fuzz/policies.yaml", text, size, &d, &err) == 0) {
		const struct wm_policy *std = wm_policy_set_get(set, "standard");
		size_t n = wm_policy_set_count(set);

		for (size_t i = 0; i < n; i++) {
			const struct wm_policy *p = wm_policy_set_at(set, i);

			free(wm_policy_hash(p));
			free(wm_policy_to_yaml(p));
		}
		/* A diff walks every system call number: once per input is enough. */
		if (std && n > 0)
			free(wm_policy_diff(std, wm_policy_set_at(set, n - 1)));
	}
	wm_error_free(err);
	wm_diags_release(&d);
	wm_policy_set_free(set);
	free(text);
	return 0;
}
