/*
 * libexec.h - where wm finds itself and its helper programs.
 *
 * Parts of wm that need a heavy library (an HTTP server, an HTTP client)
 * live in helper executables, so that the `wm` binary every task start
 * pays for links only what it needs. A helper is looked up beside the
 * running wm first (the build tree: build/wm next to build/wm-NAME), then
 * in WM_LIBEXECDIR, set at build time to $(PREFIX)/libexec/wm.
 * Returned strings belong to the caller.
 */
#ifndef WM_ORCHESTRATOR_LIBEXEC_H
#define WM_ORCHESTRATOR_LIBEXEC_H

#include "common/error.h"

/* The absolute path of the running wm binary. */
char *wm_self_path(struct wm_error **err);

/* The absolute path of helper NAME (e.g. "wm-serve"), or NULL with an
 * error naming both places looked at. */
char *wm_libexec_find(const char *name, struct wm_error **err);

#endif
