/*
 * rundoc_html.c - a run document as one self-contained HTML page: what
 * `wm report` writes. The page is the dashboard's run view (draw.js) fed
 * from the document it carries, so a report and the dashboard show a run
 * the same way.
 */
#include <string.h>

#include "orchestrator/rundoc.h"
#include "orchestrator/serve/assets.h"

/* The text of an embedded file; every file named here is in the table
 * (orchestrator/serve/web.mk), which test_rundoc checks. */
static const char *asset(const char *path)
{
	const struct wm_web_asset *a = wm_web_asset_find(path);

	return a ? a->data : "";
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* What a reader without JavaScript still gets: the run and its tasks. */
static void add_noscript(json_t *doc, struct wm_buf *out)
{
	json_t *t;
	size_t i;

	wm_buf_addstr(out, "<noscript><p class=\"notice\">The graph and the timeline need "
			   "JavaScript; the whole run is in this file as JSON (element "
			   "<code>wm-run</code>).</p><p>Run ");
	wm_buf_add_html(out, str(doc, "run_id"));
	wm_buf_addstr(out, ": ");
	wm_buf_add_html(out, str(doc, "state"));
	wm_buf_addstr(out, "</p><table><thead><tr><th>task</th><th>state</th><th>attempts</th>"
			   "</tr></thead><tbody>");
	json_array_foreach(json_object_get(json_object_get(doc, "plan"), "tasks"), i, t)
	{
		wm_buf_addstr(out, "<tr><td>");
		wm_buf_add_html(out, str(t, "id"));
		wm_buf_addstr(out, "</td><td>");
		wm_buf_add_html(out, str(t, "state"));
		wm_buf_addf(out, "</td><td>%lld</td></tr>",
			    (long long)json_integer_value(json_object_get(t, "attempts")));
	}
	wm_buf_addstr(out, "</tbody></table></noscript>\n");
}

void wm_rundoc_html(json_t *doc, struct wm_buf *out)
{
	wm_buf_addstr(
		out, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
		     "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
		     "<meta name=\"generator\" content=\"wm " WM_VERSION "\">\n<title>wm report: ");
	wm_buf_add_html(out, str(doc, "name"));
	wm_buf_addch(out, ' ');
	wm_buf_add_html(out, str(doc, "run_id"));
	wm_buf_addstr(out, "</title>\n<style>\n");
	wm_buf_addstr(out, asset("app.css"));
	wm_buf_addstr(out, "</style>\n</head>\n<body>\n<header class=\"top\"><h1>wm report</h1>"
			   "<span id=\"generated\" class=\"muted\"></span></header>\n"
			   "<main id=\"app\">\n");
	add_noscript(doc, out);
	wm_buf_addstr(out, "</main>\n<script type=\"application/json\" id=\"wm-run\">");
	wm_rundoc_dump_for_html(doc, out);
	wm_buf_addstr(out, "</script>\n<script>\n");
	wm_buf_addstr(out, asset("draw.js"));
	wm_buf_addstr(out, "</script>\n<script>\n");
	wm_buf_addstr(out, asset("report.js"));
	wm_buf_addstr(out, "</script>\n</body>\n</html>\n");
}
