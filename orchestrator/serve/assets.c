/*
 * assets.c - finding an embedded dashboard file by its URL path.
 */
#include <string.h>

#include "orchestrator/serve/assets.h"

const struct wm_web_asset *wm_web_asset_find(const char *path)
{
	if (!path)
		return NULL;
	if (*path == '/')
		path++;
	if (!*path)
		path = "index.html";
	/* A handful of files: a linear scan costs less than anything cleverer. */
	for (const struct wm_web_asset *a = wm_web_assets; a->path; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}
