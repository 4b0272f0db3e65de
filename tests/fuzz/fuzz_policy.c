/*
 * fuzz_policy.c - libFuzzer harness for the policy YAML loader: the input
 * is one policy file, loaded on top of the built-ins; every policy it adds
 * is then resolved, hashed, printed back as YAML and diffed against
 * `standard`, as `wm policy show` and `wm policy diff` do.
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
	const struct wm_policy *std = wm_policy_set_get(set, "standard");
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;

	if (text && wm_policy_set_load_text(set, "/fuzz/policies.yaml", text, size, &d, &err) == 0) {
		std = wm_policy_set_get(set, "standard");
		for (size_t i = 0; i < wm_policy_set_count(set); i++) {
			const struct wm_policy *p = wm_policy_set_at(set, i);

			free(wm_policy_hash(p));
			free(wm_policy_to_yaml(p));
			if (std)
				free(wm_policy_diff(std, p));
		}
	}
	wm_error_free(err);
	wm_diags_release(&d);
	wm_policy_set_free(set);
	free(text);
	return 0;
}
