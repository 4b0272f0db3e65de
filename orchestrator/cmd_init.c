/*
 * cmd_init.c - `wm init [--template NAME] [--force] [FILE]` writes a
 * starting workflow from one of the templates embedded at build time
 * (templates.h); `wm init --list` names them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/templates.h"
#include "state/safeio.h"

#define DEFAULT_FILE "workflow.md"

static const struct wm_template *find_template(const char *name, struct wm_error **err)
{
	const char *names[64];
	size_t n = 0;
	const char *hint;

	for (const struct wm_template *t = wm_templates; t->name; t++) {
		if (strcmp(t->name, name) == 0)
			return t;
		if (n < sizeof(names) / sizeof(names[0]))
			names[n++] = t->name;
	}
	hint = wm_suggest(name, names, n);
	if (hint)
		wm_error_setx(err, WM_EXIT_USAGE, "unknown template '%s' (did you mean '%s'?)",
			      name, hint);
	else
		wm_error_setx(err, WM_EXIT_USAGE, "unknown template '%s' (see 'wm init --list')",
			      name);
	return NULL;
}

static int list_templates(void)
{
	for (const struct wm_template *t = wm_templates; t->name; t++)
		printf("%-14s %s%s\n", t->name, t->description,
		       t == wm_templates ? " (default)" : "");
	return WM_EXIT_OK;
}

/* Creates dir/base, which must not exist yet: O_EXCL, so that nothing is
 * ever overwritten, not even a file made meanwhile. */
static int create_new(int dirfd, const char *dir, const char *base, const char *text,
		      struct wm_error **err)
{
	wm_autoclose int fd =
		wm_safe_open(dirfd, dir, base, O_WRONLY | O_CREAT | O_EXCL, 0666, err);

	if (fd < 0)
		return -1;
	if (wm_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;

		unlinkat(dirfd, base, 0);
		return wm_error_set(err, e, "write `%s/%s`", dir, base);
	}
	return 0;
}

/* Writes text to path; an existing file only with `force`, replaced
 * atomically. */
static int write_workflow(const char *path, const char *text, bool force, struct wm_error **err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	wm_autofree char *dir = !slash		? wm_xstrdup(".")
				: slash == path ? wm_xstrdup("/")
						: wm_xstrndup(path, (size_t)(slash - path));
	wm_autoclose int dirfd = -1;
	struct stat st;

	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return wm_error_setx(
			err, WM_EXIT_USAGE,
			"`%s` names a directory: give a file name, e.g. %s%s" DEFAULT_FILE, path,
			path, slash && !slash[1] ? "" : "/");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return wm_error_make(err, WM_EXIT_USAGE, errno, "cannot write `%s`: directory `%s`",
				     path, dir);
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "`%s` is a directory: give a file name, e.g. "
					     "%s/" DEFAULT_FILE,
					     path, path);
		if (!force)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "`%s` already exists; 'wm init --force' replaces it",
					     path);
		return wm_safe_write_atomic(dirfd, dir, base, text, strlen(text), 0666, err);
	}
	return create_new(dirfd, dir, base, text, err);
}

int wm_cmd_init(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *file = DEFAULT_FILE;
	const struct wm_template *t = wm_templates;
	bool force = false, list = false;
	int opt;

	(void)cli;
	while ((opt = getopt_long(argc, argv, ":t:f", opts, NULL)) != -1) {
		if (opt == 't')
			name = optarg;
		else if (opt == 'f')
			force = true;
		else if (opt == 'l')
			list = true;
		else
			return wm_bad_option("init", argv, opt, opts);
	}
	if (list)
		return optind < argc || name || force
			       ? wm_usage_error("init", "--list takes no other argument")
			       : list_templates();
	if (argc - optind > 1)
		return wm_usage_error("init", "expected at most one FILE");
	if (optind < argc)
		file = argv[optind];
	if (name && !(t = find_template(name, err)))
		return -1;
	if (write_workflow(file, t->text, force, err) < 0)
		return -1;
	printf("wrote %s from the template '%s': %s\n"
	       "next: wm plan %s (check it), then wm run %s\n",
	       file, t->name, t->description, file, file);
	return WM_EXIT_OK;
}
