/*
 * cmd_doctor.c - `wm doctor [--json]`: which kernel features this host
 * offers the sandbox and what each missing one costs. Exits 3 when one the
 * `standard` policy needs is missing.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "orchestrator/cli.h"
#include "orchestrator/slurm_doctor.h"
#include "sandbox/doctor.h"
#include "sandbox/sandbox.h"

static void print_json(const struct wm_doctor *d, int missing)
{
	json_t *root = json_object(), *items = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct wm_doctor_item *it = &d->items[i];
		json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "name", it->name, "ok", it->ok,
				      "required", it->required, "detail", it->detail);

		if (!it->ok)
			json_object_set_new(o, "cost", json_string(it->cost)); /* steals */
		json_array_append_new(items, o);			       /* steals o */
	}
	json_object_set_new(root, "features", items);		 /* steals */
	json_object_set_new(root, "ok", json_boolean(!missing)); /* steals */
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

int wm_cmd_doctor(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "clean", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct wm_doctor d;
	int opt, json = 0, missing = 0, clean = 0;

	(void)cli;
	(void)err;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else if (opt == 'c')
			clean = 1;
		else
			return wm_bad_option("doctor", argv, opt, opts);
	}
	if (optind < argc)
		return wm_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	if (clean) {
		size_t n = wm_sandbox_clean_leftovers();

		fprintf(json ? stderr : stdout,
			"removed %zu leftover cgroup%s of dead orchestrators\n", n,
			n == 1 ? "" : "s");
	}
	wm_sandbox_doctor(&d);
	wm_slurm_doctor(&d);
	for (size_t i = 0; i < d.n; i++)
		missing += d.items[i].required && !d.items[i].ok;
	if (json) {
		print_json(&d, missing);
	} else {
		for (size_t i = 0; i < d.n; i++) {
			const struct wm_doctor_item *it = &d.items[i];

			printf("%-16s %-4s %s\n", it->name, it->ok ? "ok" : "no", it->detail);
			if (!it->ok)
				printf("%-16s      without it: %s\n", "", it->cost);
		}
		printf(missing ? "\nThe standard policy cannot run here.\n"
			       : "\nEverything the standard policy needs is here.\n");
	}
	return missing ? WM_EXIT_CANNOT : WM_EXIT_OK;
}
