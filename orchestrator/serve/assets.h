/*
 * assets.h - the dashboard's static files, embedded at build time.
 *
 * tools/embed-web turns every file of orchestrator/serve/web/ named in
 * orchestrator/serve/web.mk into a C string literal of the table below, so
 * that neither `wm serve` nor `wm report` reads anything from disk or the
 * network to show a page. The table is constant and lives as long as the
 * program: every pointer handed out is borrowed, never freed.
 *
 * Files (see the README's "Dashboard" section):
 *   index.html  the dashboard's one page (runs, run, history: hash routes)
 *   app.css     the style of the dashboard and of reports (dark mode too)
 *   draw.js     draws one run document (rundoc.h): DAG, timeline, logs...
 *   app.js      the dashboard: API calls, live updates over SSE, routes
 *   report.js   starts draw.js on the run document a report embeds
 */
#ifndef WM_ORCHESTRATOR_SERVE_ASSETS_H
#define WM_ORCHESTRATOR_SERVE_ASSETS_H

#include <stddef.h>

struct wm_web_asset {
	const char *path; /* under web/, no leading '/': "app.css" */
	const char *data; /* len bytes, NUL-terminated too */
	size_t len;
	const char *content_type; /* "text/css; charset=utf-8" */
};

/* Every asset, ended by an entry whose path is NULL. */
extern const struct wm_web_asset wm_web_assets[];

/* The asset served at an URL path: "/app.css" or "app.css"; "/" and ""
 * give index.html. A query string or fragment is not part of path. NULL
 * for anything else ("..", unknown names). */
const struct wm_web_asset *wm_web_asset_find(const char *path);

#endif
