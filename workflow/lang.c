/*
 * lang.c - the languages of code blocks: which ones run and with what argv
 * (the one interpreter table of wm), and what to tell the author of a block
 * that does not run.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/internal.h"
#include "workflow/workflow.h"

static const char *const sh_argv[] = { "/bin/sh", "-e", NULL };
static const char *const bash_argv[] = { "bash", "--noprofile", "--norc", "-eo", "pipefail", NULL };
static const char *const py_argv[] = { "python3", NULL };

static const struct builtin_lang {
	const char *lang;
	const char *const *argv;
} builtin_langs[] = {
	{ "sh", sh_argv },
	{ "bash", bash_argv },
	{ "python", py_argv },
	{ "python3", py_argv },
};
#define N_BUILTIN (sizeof(builtin_langs) / sizeof(builtin_langs[0]))

/* Languages that are data or transcripts, never programs: no hint for them. */
/* clang-format off */
static const char *const not_programs[] = {
	/* plain text and transcripts */
	"text", "txt", "plain", "plaintext", "console", "output", "shell-session", "sh-session",
	"shellsession", "pycon", "terminal", "log", "none",
	/* data and documents */
	"json", "jsonc", "jsonl", "ndjson", "yaml", "yml", "toml", "ini", "xml", "html", "svg",
	"csv", "tsv", "diff", "patch", "markdown", "md", "rst", "mermaid", "dot",
};
/* Names for scripts that /bin/sh or bash run as they are: the author meant
 * a body, and `sh` or `bash` is the word wm knows. */
static const char *const sh_family[] = {
	"shell", "shellscript", "shell-script", "posix", "bourne", "zsh", "ksh", "mksh", "pdksh",
	"dash", "ash", "busybox",
};
/* clang-format on */

const char *const *wm_interpreter_argv(const struct wm_workflow *wf, const char *lang)
{
	for (size_t i = 0; wf && i < wf->n_interpreters; i++)
		if (strcmp(wf->interpreters[i].lang, lang) == 0)
			return (const char *const *)wf->interpreters[i].argv;
	for (size_t i = 0; i < N_BUILTIN; i++)
		if (strcmp(builtin_langs[i].lang, lang) == 0)
			return builtin_langs[i].argv;
	return NULL;
}

static bool in_list(const char *lang, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(lang, list[i]) == 0)
			return true;
	return false;
}

/* A runnable language equal to `lang` but for case, else one a typo away;
 * NULL when none. Borrowed from the workflow or the built-ins. */
static const char *runnable_near(const struct wm_workflow *wf, const char *lang, bool *by_case)
{
	size_t n = 0;
	const char **names = wm_xcalloc(wf->n_interpreters + N_BUILTIN, sizeof(*names));
	const char *near = NULL;

	for (size_t i = 0; i < wf->n_interpreters; i++)
		names[n++] = wf->interpreters[i].lang;
	for (size_t i = 0; i < N_BUILTIN; i++)
		names[n++] = builtin_langs[i].lang;
	for (size_t i = 0; i < n && !near; i++)
		if (strcasecmp(lang, names[i]) == 0)
			near = names[i];
	*by_case = near != NULL;
	if (!near)
		near = wm_suggest(lang, names, n);
	free(names);
	return near;
}

void wf_lang_hint(struct wf_ctx *c, const char *lang, unsigned line, unsigned col)
{
	const char *near;
	bool by_case;

	if (in_list(lang, not_programs, sizeof(not_programs) / sizeof(not_programs[0])))
		return;
	if (in_list(lang, sh_family, sizeof(sh_family) / sizeof(sh_family[0]))) {
		wf_warn(c, line, col,
			"`%s` blocks are not run, so this is prose; to run it, write ```sh or "
			"```bash",
			lang);
		return;
	}
	near = runnable_near(c->wf, lang, &by_case);
	if (near && by_case)
		wf_warn(c, line, col,
			"`%s` blocks are not run, so this is prose; language names are "
			"case-sensitive: write ```%s",
			lang, near);
	else if (near)
		wf_warn(c, line, col,
			"`%s` blocks are not run, so this is prose; did you mean ```%s?", lang,
			near);
	else
		wf_warn(c, line, col,
			"`%s` blocks are not run, so this is prose; to run it, declare `%s` under "
			"`interpreters` in the front matter",
			lang, lang);
}
