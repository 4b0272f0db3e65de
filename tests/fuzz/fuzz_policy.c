/*
 * fuzz_policy.c - libFuzzer harness for the policy YAML loader: the input
 * is one policy file, loaded on top of the built-ins; every policy it adds
 * is then resolved, hashed and printed back as YAML, and the last one is
 * diffed against `standard` (what `wm policy show` and `wm policy diff` do).
 * Build and run: make fuzz (seeds: tests/fuzz/corpus/fuzz_policy/ and the
 * built-in policies).
 *
 * Limits: the loader's own (policies/load.h: size, nesting, values, no
 * aliases, policies, list entries, inheritance depth), the same a file read
 * by wm gets; `make fuzz` adds -rss_limit_mb and -malloc_limit_mb.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/error.h"
#include "policies/policies.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The built-ins take a while to load and resolve under the sanitizers, and a
 * file with errors leaves the set unchanged: keep the set until an input is
 * accepted into it. */
static struct wm_policy_set *set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char path[] = "/fuzz/policies.yaml";
	char *text = fuzz_text(data, size);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;

	if (!set)
		set = wm_policy_set_new();
	if (text && wm_policy_set_load_text(set, path, text, size, &d, &err) == 0) {
		const struct wm_policy *std = wm_policy_set_get(set, "standard");
		const struct wm_policy *last = NULL;

		for (size_t i = 0; i < wm_policy_set_count(set); i++) {
			const struct wm_policy *p = wm_policy_set_at(set, i);

			if (!p->source || strcmp(p->source, path) != 0)
				continue; /* a built-in, done before */
			free(wm_policy_hash(p));
			free(wm_policy_to_yaml(p));
			last = p;
		}
		/* A diff walks every system call number: once per input is enough. */
		if (std && last)
			free(wm_policy_diff(std, last));
		wm_policy_set_free(set);
		set = NULL;
	}
	wm_error_free(err);
	wm_diags_release(&d);
	free(text);
	return 0;
}
