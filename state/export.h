/*
 * export.h - `wm export`: one run directory as a .tar.zst (libarchive).
 *
 * The archive (pax restricted format, zstd filter) holds, under "<run id>/":
 * workflow.md, checkpoint.json.zst(.prev), journal.jsonl(.prev),
 * audit.jsonl, lock, logs/ and out/ recursively. Symbolic links are stored
 * as links, never followed, so nothing outside the run dir is read; other
 * special files are skipped. The output is written to a temporary file and
 * renamed, so a failed export leaves no partial archive; it is 0600, as
 * private as the run directory it holds.
 */
#ifndef WM_STATE_EXPORT_H
#define WM_STATE_EXPORT_H

#include "common/error.h"

int wm_export_run(const char *run_dir, const char *run_id, const char *out_path,
		  struct wm_error **err);

#endif
