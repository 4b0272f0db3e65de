/*
 * cmd_serve.c - `wm serve ...`: execs the helper wm-serve (libexec.h),
 * which alone links the HTTP server library, with wm's own path and the
 * state directory put first:  wm-serve --wm PATH --state-dir DIR ARGS...
 */
#include <errno.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "orchestrator/cli.h"
#include "orchestrator/libexec.h"

int wm_cmd_serve(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	wm_autofree char *helper = wm_libexec_find("wm-serve", err);
	wm_autofree char *self = helper ? wm_self_path(err) : NULL;
	wm_autostrv char **args = NULL;
	size_t n = 0;

	if (!self)
		return -1;
	wm_strv_push(&args, &n, helper);
	wm_strv_push(&args, &n, "--wm");
	wm_strv_push(&args, &n, self);
	wm_strv_push(&args, &n, "--state-dir");
	wm_strv_push(&args, &n, cli->state_dir);
	for (int i = 1; i < argc; i++)
		wm_strv_push(&args, &n, argv[i]);
	fflush(stdout);
	execv(helper, args);
	return wm_error_set(err, errno, "run `%s`", helper);
}
