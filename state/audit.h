/*
 * audit.h - the per-run audit log: audit.jsonl, a keyed MAC chain.
 *
 * Line format (one compact JSON object per line, keys sorted):
 *     {"event":"task.end","exit":0,...fields...,"mac":"<64 hex>",
 *      "prev":"<64 hex>","run":"<run id>","seq":7,"task":"build",
 *      "ts":"2026-11-22T08:15:03.120Z"}
 * seq starts at 1 and grows by one; task is null for run-level events;
 * prev is the previous line's mac (64 zeros for seq 1); mac is
 * HMAC-SHA-256 (libsodium crypto_auth_hmacsha256) under the key in
 * $STATE/audit.key over the line's object WITHOUT "mac", serialized by
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS). Event fields may not use the
 * reserved names seq, ts, run, task, event, prev, mac.
 *
 * Key: 32 random bytes in $STATE/audit.key, mode 0600, created with O_EXCL
 * on first use (two racing creators: one writes, the other reads its key).
 * A key of the wrong size or readable by group/others is an error.
 *
 * Writer lifecycle: wm_audit_open (new or existing log: the chain continues
 * from its last valid line; a torn last line from a crash is cut off and
 * reported in *warning) -> wm_audit_append()... -> wm_audit_flush() at
 * each task boundary (fdatasync) -> wm_audit_close(). Lines are written
 * with one write() each on an O_APPEND|O_CLOEXEC fd, so a crash leaves at
 * most a torn last line.
 *
 * Verification never trusts the log: see wm_audit_verify.
 */
#ifndef WM_STATE_AUDIT_H
#define WM_STATE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define WM_AUDIT_KEY_FILE "audit.key"
#define WM_AUDIT_KEY_LEN 32
#define WM_AUDIT_MAC_HEX 64
/* Largest audit log read back, and its longest line. */
#define WM_AUDIT_FILE_MAX (1024UL << 20)
#define WM_AUDIT_LINE_MAX (1UL << 20)

/* Loads $STATE/audit.key, creating it (and $STATE) when `create` and
 * missing. Missing with !create, wrong size or wrong mode: error with exit
 * code WM_EXIT_USAGE (2). */
int wm_audit_key_load(const char *state_dir, bool create, unsigned char key[WM_AUDIT_KEY_LEN],
		      struct wm_error **err);

struct wm_audit;

/* Opens (creating, 0600) path for run_id under key (copied). *warning, if
 * not NULL, receives a message when a torn or bad tail was cut (caller
 * frees), else NULL. */
struct wm_audit *wm_audit_open(const char *path, const char *run_id,
			       const unsigned char key[WM_AUDIT_KEY_LEN], char **warning,
			       struct wm_error **err);
/* Appends one line. task may be NULL; fields (borrowed, may be NULL) is an
 * object of event fields. Not flushed to disk until wm_audit_flush. */
int wm_audit_append(struct wm_audit *a, const char *task, const char *event, json_t *fields,
		    struct wm_error **err);
int wm_audit_flush(struct wm_audit *a, struct wm_error **err);
uint64_t wm_audit_seq(const struct wm_audit *a);    /* last seq, 0: none */
const char *wm_audit_mac(const struct wm_audit *a); /* last mac hex, "" when none */
void wm_audit_close(struct wm_audit *a);

/* Opens the log at path for reading (a regular file, no link, at most
 * WM_AUDIT_FILE_MAX bytes): read it with wm_lines (safeio.h) and lines of
 * at most WM_AUDIT_LINE_MAX. Errors have exit code 2. */
int wm_audit_open_read(const char *path, struct wm_error **err);

enum wm_audit_problem {
	WM_AUDIT_OK,
	WM_AUDIT_EDITED,    /* a line's MAC does not match its content */
	WM_AUDIT_INSERTED,  /* a line that does not belong (bad MAC with the next line fitting,
			       duplicate seq, foreign chain) */
	WM_AUDIT_REMOVED,   /* a seq is missing in the middle */
	WM_AUDIT_REORDERED, /* a seq appears later than it should */
	WM_AUDIT_TRUNCATED, /* the tail the checkpoint knows of is gone */
	WM_AUDIT_TORN,	    /* the last line is incomplete (crash mid-write) */
	WM_AUDIT_BAD_JSON,  /* a line that is not a JSON object */
};
const char *wm_audit_problem_name(enum wm_audit_problem p); /* "edited", ... */

struct wm_audit_result {
	enum wm_audit_problem problem;
	uint64_t first_bad_seq; /* seq where the chain first breaks (0 when ok) */
	uint64_t lines;		/* valid lines before the break (all when ok) */
	char *message;		/* human sentence (caller frees via release) */
};
void wm_audit_result_release(struct wm_audit_result *r);

/*
 * Verifies the log at path against key. expected_seq/expected_mac come from
 * the checkpoint (0/NULL when unknown): the line with that seq must exist
 * and carry that mac, else the tail was cut (TRUNCATED) or rewritten
 * (EDITED). Returns 0 with *res filled (ok or the first problem), or -1
 * with exit code WM_EXIT_USAGE when the file cannot be read (missing).
 */
int wm_audit_verify(const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		    uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		    struct wm_error **err);

#endif
