/*
 * fuzz_serve_route.c - libFuzzer harness for the router of `wm serve`
 * (orchestrator/serve/route.c): the input's first byte picks a method,
 * the rest is a raw request target, parsed into segments and query
 * parameters, matched against the route table, and read back through the
 * query helpers and the name check, as a request's handler would.
 * Build and run: make fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/serve/route.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = { "GET", "POST", "HEAD", "DELETE" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_serve_target t;
	struct wm_serve_fail f = { 0 };
	const char *cap[2], *allow;
	const struct wm_serve_route *r;
	unsigned long n;
	bool b;
	char *raw;

	if (size < 1)
		return 0;
	raw = fuzz_text(data + 1, size - 1);
	if (!raw)
		return 0;
	if (wm_serve_parse_target(raw, &t, &f) == 0) {
		r = wm_serve_route_match(methods[data[0] % 4], &t, cap, &allow, &f);
		for (int i = 0; r && i < 2 && cap[i]; i++)
			(void)wm_serve_name_ok(cap[i]);
		(void)wm_serve_param_uint(&t, "limit", 1000, &n, &f);
		(void)wm_serve_param_bool(&t, "follow", &b, &f);
		for (size_t i = 0; i < t.n_params; i++)
			if (strlen(t.params[i].key) > WM_SERVE_TARGET_MAX)
				abort(); /* decoding never grows a string */
	}
	wm_serve_target_release(&t);
	free(raw);
	return 0;
}
