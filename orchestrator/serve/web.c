/*
 * web.c - the dashboard's files and the run document, for `wm serve`.
 *
 * The files are the ones embedded in libwm.a (assets.h), served from
 * memory; the run document is `wm report ID --json`, run as a command like
 * the other readers so that building it (the audit log verified, the logs
 * read) never holds up the event loop.
 */
#include <string.h>

#include "orchestrator/serve/assets.h"
#include "orchestrator/serve/server.h"

/* The dashboard talks to this server only: no other origin for anything,
 * no framing. Inline style attributes draw the progress bars. */
#define DASHBOARD_CSP                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "       \
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " \
	"frame-ancestors 'none'"

int serve_get_asset(struct serve_call *c, const char *path)
{
	const struct wm_serve_target *t = &c->req->t;
	const struct wm_web_asset *a;
	struct MHD_Response *r;

	(void)path; /* the raw target: its parsed segments are what count */
	if (t->n_seg > 1 || t->trailing_slash)
		return serve_reply_error(c, 404, "path", "no such page");
	a = wm_web_asset_find(t->n_seg ? t->seg[0] : "");
	if (!a)
		return serve_reply_error(c, 404, "path", "no such page");
	r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", a->content_type);
	MHD_add_response_header(r, "Content-Security-Policy", DASHBOARD_CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return serve_reply(c, 200, r);
}

int serve_get_report(struct serve_call *c)
{
	const char *id = serve_run_id(c);
	char *args[] = { (char *)"report", (char *)id, (char *)"--json", NULL };

	return id ? serve_spawn_wm(c, SERVE_ACT_JSON, args) : 0;
}
