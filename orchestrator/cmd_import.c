/*
 * cmd_import.c - `wm import [--dialect D] FILE [-o OUT]`: another tool's
 * Markdown (mask, xc, runme) written as the equivalent native workflow,
 * for a user who switches for good. `wm plan OUT` plans the same tasks as
 * `wm plan FILE`; as a native file OUT runs whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"

int wm_parse_dialect(const char *cmd, const char *name, enum wm_dialect *d)
{
	int k = wm_dialect_find(name);

	if (k < 0)
		return wm_usage_error(cmd, "--dialect is mask, xc, runme, wm or auto, not '%s'",
				      name);
	*d = (enum wm_dialect)k;
	return 0;
}

/* The note a native file starts with (after its front matter). */
static char *with_note(const char *native, const char *file, enum wm_dialect d)
{
	const char *body = native;
	struct wm_buf b = WM_BUF_INIT;

	if (strncmp(native, "---\n", 4) == 0 && strstr(native + 4, "\n---\n"))
		body = strstr(native + 4, "\n---\n") + 5;
	wm_buf_add(&b, native, (size_t)(body - native));
	wm_buf_addf(&b,
		    "<!-- Imported by `wm import` from %s (%s dialect). As a native workflow it "
		    "runs whole: `wm run` starts every task; name tasks to run only those. -->\n",
		    file, wm_dialect_name(d));
	wm_buf_addstr(&b, body);
	return wm_buf_detach(&b, NULL);
}

static int write_out(const char *out, const char *text, struct wm_error **err)
{
	size_t len = strlen(text);
	int fd;

	if (!out || strcmp(out, "-") == 0)
		return fwrite(text, 1, len, stdout) == len
			       ? 0
			       : wm_error_set(err, errno, "write stdout");
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return wm_error_set(err, errno, "open `%s`", out);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			return wm_error_set(err, e, "write `%s`", out);
		}
		off += (size_t)w;
	}
	return close(fd) < 0 ? wm_error_set(err, errno, "close `%s`", out) : 0;
}

static int import_file(const char *file, const char *out, enum wm_dialect d, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	struct wm_diags diags = WM_DIAGS_INIT;
	wm_autofree char *native = NULL, *text = NULL;
	int rc = wm_buf_read_file_max(&b, file, WM_WORKFLOW_MAX_BYTES);

	if (rc != 0) {
		int e = errno;
		wm_buf_release(&b);
		return rc < 0 ? wm_error_make(err, WM_EXIT_USAGE, e, "cannot read `%s`", file)
			      : wm_error_setx(err, WM_EXIT_USAGE, "`%s` is larger than %u bytes",
					      file, WM_WORKFLOW_MAX_BYTES);
	}
	if (d == WM_DIALECT_AUTO)
		d = wm_dialect_detect(file, b.data, b.len);
	if (d == WM_DIALECT_WM) {
		wm_buf_release(&b);
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "%s is a wm workflow already (name its dialect with --dialect "
				     "mask|xc|runme if it is not)",
				     file);
	}
	native = wm_dialect_translate(d, file, b.data, b.len, &diags);
	wm_buf_release(&b);
	wm_diags_print(&diags, stderr);
	rc = diags.n_errors;
	wm_diags_release(&diags);
	if (!native)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %d error%s", file, rc,
				     rc == 1 ? "" : "s");
	text = with_note(native, file, d);
	return write_out(out, text, err);
}

int wm_cmd_import(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "dialect", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	enum wm_dialect d = WM_DIALECT_AUTO;
	const char *out = NULL;
	int opt;

	(void)cli;
	while ((opt = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 'D' && wm_parse_dialect("import", optarg, &d) != 0)
			return WM_EXIT_USAGE;
		else if (opt != 'D')
			return wm_bad_option("import", argv, opt, opts);
	}
	if (optind + 1 != argc)
		return wm_usage_error("import",
				      optind >= argc ? "missing FILE" : "too many arguments");
	return import_file(argv[optind], out, d, err);
}
