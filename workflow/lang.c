/*
 * lang.c - the languages of code blocks: which ones run and with what argv
 * (the one interpreter table of wm), and what to tell the author of a block
 * that does not run.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

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

void wf_lang_hint(struct wf_ctx *c, const char *lang, unsigned line, unsigned col)
{
	if (in_list(lang, not_programs, sizeof(not_programs) / sizeof(not_programs[0])))
		return;
	wf_warn(c, line, col,
		"`%s` blocks are not run, so this is prose; to run it, declare `%s` under "
		"`interpreters` in the front matter",
		lang, lang);
}
