/*
 * lint.c - sections that parse but most likely do not say what their author
 * meant: a heading written like a call with arguments, a body that is a
 * terminal transcript. Warnings and errors at their place; nothing else.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "workflow/internal.h"

/* "target" or "env, region": words made of letters, digits, '_', '-',
 * '.', '$', separated by commas, spaces or '|'. */
static bool looks_like_args(const char *s, size_t len)
{
	bool word = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isalnum(ch) || strchr("_-.$", ch))
			word = true;
		else if (!strchr(", |", ch))
			return false;
	}
	return word;
}

void wf_check_heading_args(struct wf_ctx *c, const struct wm_task *t)
{
	size_t len = strlen(t->title), open;
	char close;
	const char *opener;

	if (len < 3)
		return;
	close = t->title[len - 1];
	opener = close == ')' ? "(" : close == ']' ? "[" : close == '>' ? "<" : NULL;
	if (!opener)
		return;
	open = len - 1;
	while (open > 0 && t->title[open] != opener[0])
		open--;
	if (open == 0 || t->title[open] != opener[0] ||
	    !looks_like_args(t->title + open + 1, len - open - 2))
		return;
	wf_warn(c, t->loc.line, t->loc.col,
		"heading `%s` looks like it takes arguments, but a heading is only a name (this "
		"task's id is `%s`): declare them with `- params: %.*s` and read $PARAM_<NAME>",
		t->title, t->id, (int)(len - open - 2), t->title + open + 1);
}

/* True when the line (len bytes) is blank, or starts with a prompt. */
static bool prompt_or_blank(const char *s, size_t len, bool *prompt)
{
	size_t i = strspn(s, " \t");

	if (i >= len)
		return true;
	if (len - i >= 2 && (s[i] == '$' || s[i] == '>') && s[i + 1] == ' ') {
		*prompt = true;
		return true;
	}
	return len - i == 1 && s[i] == '$'; /* a bare prompt */
}

bool wf_is_transcript(const char *p)
{
	bool prompt = false;

	while (p && *p) {
		size_t len = strcspn(p, "\n");

		if (!prompt_or_blank(p, len, &prompt))
			return false;
		p += len + (p[len] == '\n');
	}
	return prompt;
}

void wf_check_transcript(struct wf_ctx *c, const struct wm_task *t)
{
	if (!t->transcript_ok && wf_is_transcript(t->body.text))
		wf_err(c, t->body.loc.line, t->body.loc.col,
		       "the body of task `%s` is a shell transcript: every line starts with a "
		       "prompt (`$ ` or `> `), which the shell would run as a command; remove the "
		       "prompts (and any output lines), or say `- transcript: ok` if it is meant",
		       t->id);
}
