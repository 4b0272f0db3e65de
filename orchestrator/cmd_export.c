/*
 * cmd_export.c - `wm export RUN_ID -o FILE.tar.zst`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "state/export.h"
#include "state/rundir.h"

/* The bundle is a zstd-compressed tar whatever the name says, so a name
 * that says otherwise (x.tar.gz, x.tgz, x) is refused, with the name it
 * should have: the same without its archive suffix, plus .tar.zst. */
static int check_name(const char *out, struct wm_error **err)
{
	static const char *const suffixes[] = { ".tar.gz",  ".tgz",  ".tar.xz",	  ".txz",
						".tar.bz2", ".tbz2", ".tar.zstd", ".tzst",
						".tar",	    ".zst",  ".gz",	  ".zip" };
	wm_autofree char *base = wm_xstrdup(out);
	size_t len = strlen(base);

	if (wm_str_has_suffix(out, ".tar.zst"))
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);

		if (len > n && wm_str_has_suffix(base, suffixes[i])) {
			base[len - n] = '\0';
			break;
		}
	}
	return wm_error_setx(
		err, WM_EXIT_USAGE,
		"export writes a zstd-compressed tar: name the file %s.tar.zst, not %s",
		*base ? base : "run", out);
}

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
	if (check_name(out, err) < 0)
		return -1;
	id = wm_rundir_resolve(cli->state_dir, argv[optind], err);
	if (!id)
		return -1;
	dir = wm_rundir_path(cli->state_dir, id);
	if (wm_export_run(dir, id, out, err) < 0)
		return -1;
	printf("exported run %s to %s\n", id, out);
	return WM_EXIT_OK;
}
