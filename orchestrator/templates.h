/*
 * templates.h - the starting workflows of `wm init`, embedded at build time.
 *
 * tools/embed-templates turns the files templates/NAME.md into $(BUILD)/gen/templates.c
 * (see templates/templates.mk). The table ends with a NULL name; its first
 * entry is the default template. Each text is a complete workflow that
 * plans and runs as it is.
 */
#ifndef WM_ORCHESTRATOR_TEMPLATES_H
#define WM_ORCHESTRATOR_TEMPLATES_H

struct wm_template {
	const char *name;	 /* the file name without .md: "release" */
	const char *description; /* its first `# ` heading, one line */
	const char *text;
};

extern const struct wm_template wm_templates[];

#endif
