/*
 * cmd_export.c - `wm export RUN_ID -o FILE.tar.zst`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "orchestrator/cli.h"
#include "state/export.h"
#include "state/rundir.h"

int wm_cmd_export(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	wm_autofree char *id = NULL;
	wm_autofree char *dir = NULL;
	const char *out = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		if (opt != 'o')
			return wm_bad_option("export", argv, opt, opts);
		out = optarg;
	}
	if (argc - optind != 1)
		return wm_usage_error("export", "expected one RUN_ID");
	if (!out)
		return wm_usage_error("export", "missing -o FILE.tar.zst");
	id = wm_rundir_resolve(cli->state_dir, argv[optind], err);
	if (!id)
		return -1;
	dir = wm_rundir_path(cli->state_dir, id);
	if (wm_export_run(dir, id, out, err) < 0)
		return -1;
	printf("exported run %s to %s\n", id, out);
	return WM_EXIT_OK;
}
