/*
 * yamlguard.c - see yamlguard.h. The event parser is used instead of the
 * document loader because it hands out one event at a time: nothing is
 * built, and parsing stops at the event that crosses a limit (libyaml's
 * own cost grows with nesting depth, so depth must be cut short early).
 */
#include "common/yamlguard.h"

#include <string.h>
#include <yaml.h>

#include "common/xalloc.h"

static int fail(struct wm_yaml_problem *pb, const yaml_mark_t *m, bool syntax, char *msg)
{
	pb->line = (unsigned)m->line + 1;
	pb->col = (unsigned)m->column + 1;
	pb->syntax = syntax;
	pb->msg = msg;
	return -1;
}

/* Where byte `off` is, as libyaml counts: lines by '\n', columns in
 * characters (UTF-8 continuation bytes do not count). */
static yaml_mark_t mark_at(const char *text, size_t off)
{
	yaml_mark_t m = { off, 0, 0 };

	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

/* Checks one event; -1 with *pb on a crossed limit or an alias. */
static int on_event(const yaml_event_t *ev, const struct wm_yaml_limits *lim, unsigned *depth,
		    size_t *nodes, struct wm_yaml_problem *pb)
{
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(pb, &ev->start_mark, false,
			    wm_xasprintf("aliases (*%s) are not allowed in the %s",
					 (const char *)ev->data.alias.anchor, lim->what));
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > lim->max_depth)
			return fail(pb, &ev->start_mark, false,
				    wm_xasprintf("nesting deeper than the limit of %u levels "
						 "in the %s",
						 lim->max_depth, lim->what));
		/* A collection is a node too. */
		__attribute__((fallthrough));
	case YAML_SCALAR_EVENT:
		if (++*nodes > lim->max_nodes)
			return fail(pb, &ev->start_mark, false,
				    wm_xasprintf("more values than the limit of %zu in the %s",
						 lim->max_nodes, lim->what));
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		return 0;
	default:
		return 0;
	}
}

int wm_yaml_check(const char *text, size_t len, const struct wm_yaml_limits *lim,
		  struct wm_yaml_problem *pb)
{
	yaml_parser_t parser;
	unsigned depth = 0;
	size_t nodes = 0;
	int rc = 0;

	memset(pb, 0, sizeof(*pb));
	if (len > lim->max_bytes) {
		yaml_mark_t m = mark_at(text, lim->max_bytes);
		return fail(pb, &m, false,
			    wm_xasprintf("the %s is larger than the limit of %zu bytes", lim->what,
					 lim->max_bytes));
	}
	if (!yaml_parser_initialize(&parser)) {
		yaml_mark_t m = { 0, 0, 0 };
		return fail(pb, &m, true, wm_xstrdup("cannot initialise the YAML parser"));
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (bool done = false; !done && rc == 0;) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = fail(pb, &parser.problem_mark, true,
				  wm_xasprintf("%s%s%s",
					       parser.problem ? parser.problem : "syntax error",
					       parser.context ? " " : "",
					       parser.context ? parser.context : ""));
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&ev, lim, &depth, &nodes, pb);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}
