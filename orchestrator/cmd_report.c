/*
 * cmd_report.c - `wm report RUN_ID -o FILE.html | -o - | --json`: one run as
 * a self-contained HTML page to attach to a ticket (rundoc.h), or its run
 * document as JSON.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/rundoc.h"
#include "state/rundir.h"

/* FILE replaced atomically, 0600 like `wm export`'s bundle: the report
 * holds the run's logs, its owner decides whom to show it. */
static int write_out(const char *out, const struct wm_buf *b, struct wm_error **err)
{
	wm_autofree char *d = wm_xstrdup(out), *f = wm_xstrdup(out);
	const char *name = basename(f);

	if (strcmp(out, "-") == 0) {
		if (fwrite(b->data, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
			return wm_error_set(err, 0, "report: cannot write to standard output");
		return 0;
	}
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    out[strlen(out) - 1] == '/')
		return wm_error_setx(err, WM_EXIT_USAGE, "report: '%s' names no file", out);
	if (wm_rundir_write_file(dirname(d), name, b->data, b->len, err) < 0)
		return wm_error_wrap(err, "report: write `%s`", out);
	return 0;
}

int wm_cmd_report(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	struct wm_buf b = WM_BUF_INIT;
	const char *out = NULL;
	bool as_json = false;
	json_t *doc;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 'J')
			as_json = true;
		else
			return wm_bad_option("report", argv, opt, opts);
	}
	if (argc - optind != 1)
		return wm_usage_error("report", "expected one RUN_ID");
	if (!out && !as_json)
		return wm_usage_error("report", "-o FILE.html (or -o - for standard output) is "
						"required, or --json");
	doc = wm_rundoc_build(cli->state_dir, argv[optind], WM_RUNDOC_ALL, err);
	if (!doc)
		return -1;
	if (as_json) {
		char *text = json_dumps(doc, JSON_INDENT(2));

		wm_buf_addstr(&b, text ? text : "null");
		wm_buf_addch(&b, '\n');
		free(text);
	} else {
		wm_rundoc_html(doc, &b);
	}
	rc = write_out(out ? out : "-", &b, err);
	if (rc == 0 && out && strcmp(out, "-") != 0)
		printf("wrote the report of run %s to %s\n",
		       json_string_value(json_object_get(doc, "run_id")), out);
	json_decref(doc);
	wm_buf_release(&b);
	return rc < 0 ? -1 : WM_EXIT_OK;
}
