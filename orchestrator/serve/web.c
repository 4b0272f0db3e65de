/*
 * web.c - the dashboard's files and the run document, for `wm serve`.
 */
#include <string.h>

#include "orchestrator/serve/server.h"

int serve_get_asset(struct serve_call *c, const char *path)
{
	(void)path;
	return serve_reply_error(c, 404, "path", "no such page");
}

int serve_get_report(struct serve_call *c)
{
	if (!serve_run_id(c))
		return 0;
	return serve_reply_error(c, 501, NULL, "the run document is not built into this server");
}
