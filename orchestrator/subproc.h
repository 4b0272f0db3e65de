/*
 * subproc.h - running a short helper command (the cluster's client tools)
 * and reading its output: argv[0] looked up in PATH, no shell, stdin from
 * /dev/null, stdout into `out` (bounded at 4 MiB), the last line of stderr
 * quoted in the error, SIGKILL after timeout_ms. 0 when it exited 0; else -1 with *err,
 * *status holding its exit status (128+N for signal N).
 */
#ifndef WM_ORCHESTRATOR_SUBPROC_H
#define WM_ORCHESTRATOR_SUBPROC_H

#include "common/buf.h"
#include "common/error.h"

int wm_subproc_run(char *const *argv, unsigned timeout_ms, struct wm_buf *out, int *status,
		   struct wm_error **err);

#endif
