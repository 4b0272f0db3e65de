/*
 * yamlguard.h - limits on untrusted YAML, checked while libyaml parses it.
 *
 * Policy files and workflow front matter come from people wm does not
 * trust. Before a document is built from such text, wm_yaml_check() runs
 * libyaml's event parser over it and stops at the first of: the text
 * larger than max_bytes, collections nested deeper than max_depth, more
 * than max_nodes scalars and collections, an alias (`*name`: neither format
 * needs them, and refusing them makes "billion laughs" impossible), or a
 * syntax error. Everything it does is bounded by the limits, so a hostile
 * input costs little time and memory however it is built.
 */
#ifndef WM_COMMON_YAMLGUARD_H
#define WM_COMMON_YAMLGUARD_H

#include <stdbool.h>
#include <stddef.h>

struct wm_yaml_limits {
	size_t max_bytes;
	unsigned max_depth;
	size_t max_nodes;
	const char *what; /* "policy file", "front matter": named in messages */
};

struct wm_yaml_problem {
	unsigned line, col; /* 1-based, in the text given */
	bool syntax;	    /* libyaml's own error (msg is its problem and context) */
	char *msg;	    /* caller frees */
};

/* 0 when the text is within the limits and parses; -1 with *pb filled. */
int wm_yaml_check(const char *text, size_t len, const struct wm_yaml_limits *lim,
		  struct wm_yaml_problem *pb);

#endif
