/*
 * fuzz_oci.c - libFuzzer harness for the OCI/Docker seccomp profile
 * importer: the input is a profile JSON file, checked as `wm policy
 * import-oci` does; when it is accepted the generated policy file is loaded
 * (which reads the profile again into rules) and printed back as YAML.
 * Build and run: make fuzz (seeds: tests/fuzz/corpus/fuzz_oci/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/error.h"
#include "policies/policies.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof(path));
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *err = NULL;
	char *policy = wm_policy_import_oci(path, "imported", &d, &err);

	if (policy) {
		struct wm_policy_set *set = wm_policy_set_new();

		if (wm_policy_set_load_text(set, "/fuzz/imported.yaml", policy, strlen(policy), &d,
					    &err) == 0) {
			const struct wm_policy *p = wm_policy_set_get(set, "imported");

			if (p)
				free(wm_policy_to_yaml(p));
		}
		wm_policy_set_free(set);
		free(policy);
	}
	wm_error_free(err);
	wm_diags_release(&d);
	close(fd);
	return 0;
}
