/*
 * checkpoint.h - whole-run snapshots: checkpoint.json.zst.
 *
 * A checkpoint is wm_run_state_to_json() (README "Checkpoint schema"),
 * compressed as ONE standard zstd frame with a content checksum, so that
 * `zstdcat checkpoint.json.zst | jq .` works. The text is compressed as it
 * is serialized, never held whole, so a large checkpoint's frame does not
 * record its size; reading bounds it instead. It is replaced atomically:
 * write checkpoint.json.zst.tmp, fsync, hard-link the current file to
 * checkpoint.json.zst.prev (the previous good generation), rename the temp
 * file over checkpoint.json.zst, fsync the directory. At every instant
 * either the old or the new file is complete under the name.
 *
 * Reading checks, in order: zstd frame (size bounds, errors, checksum),
 * JSON syntax, format "wm-checkpoint", version, field types. Any failure is
 * an error whose message says which (never a crash, never partial data).
 *
 * Test-only fault injection: with WM_TEST_CRASH_AT=checkpoint:N in the
 * environment, the N-th write of this process raise(SIGKILL)s after the
 * temporary file is written and before the rename.
 */
#ifndef WM_STATE_CHECKPOINT_H
#define WM_STATE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "state/runstate.h"

#define WM_CHECKPOINT_FILE "checkpoint.json.zst"
#define WM_CHECKPOINT_PREV "checkpoint.json.zst.prev"
/* Largest checkpoint file read back (compressed); 10,000 tasks take about
 * 200 KB, so this only stops a planted or runaway file. */
#define WM_CHECKPOINT_FILE_MAX (256UL << 20)

/* Writes rs (covering journal records up to journal_seq) atomically into
 * run_dir. Errors (ENOSPC, EACCES, ...) leave the previous checkpoint. */
int wm_checkpoint_write(const char *run_dir, const struct wm_run_state *rs, uint64_t journal_seq,
			struct wm_error **err);

/* Reads and validates one checkpoint file. */
struct wm_run_state *wm_checkpoint_read(const char *path, uint64_t *journal_seq,
					struct wm_error **err);

/* One zstd frame with checksum in, bytes out (caller frees); shared with
 * tests. Rejects anything but exactly one valid frame and outputs larger
 * than max_out (known from the frame's header, or found while decoding a
 * frame that does not say). */
void *wm_zstd_decompress(const void *src, size_t len, size_t max_out, size_t *out_len,
			 struct wm_error **err);

#endif
