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
 * envelope's names seq, ts, run, task, event, prev, mac
 * (wm_audit_is_envelope_key).
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
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/xlist.h"

#define WM_AUDIT_KEY_FILE "audit.key"
#define WM_AUDIT_KEY_LEN 32
#define WM_AUDIT_MAC_HEX 64
/* Largest audit log read back, and its longest line. */
#define WM_AUDIT_FILE_MAX (1024UL << 20)
#define WM_AUDIT_LINE_MAX (1UL << 20)

/*
 * The key in memory: 32 bytes in an anonymous page of their own, marked
 * MADV_DONTFORK (a forked child, such as a sandbox helper, has no such
 * page) and MADV_DONTDUMP, locked where RLIMIT_MEMLOCK allows, zeroed on
 * wm_audit_key_free. Flags:
 *   WM_AUDIT_KEY_CREATE  make the key when it is missing, but only while no
 *                        run exists (their logs were made with the lost key:
 *                        that is an error naming `wm audit rekey`);
 *   WM_AUDIT_KEY_REKEY   with CREATE: make it even when runs exist.
 * Missing (without CREATE), a link, a FIFO, the wrong size or mode: error
 * with exit code WM_EXIT_USAGE (2).
 */
enum wm_audit_key_flags {
	WM_AUDIT_KEY_CREATE = 1 << 0,
	WM_AUDIT_KEY_REKEY = 1 << 1,
};
struct wm_audit_key;
struct wm_audit_key *wm_audit_key_open(const char *state_dir, unsigned flags,
				       struct wm_error **err);
void wm_audit_key_free(struct wm_audit_key *k);
/* The key's bytes, valid until wm_audit_key_free. */
const unsigned char *wm_audit_key_bytes(const struct wm_audit_key *k);

/* Loads the key into caller memory (tests and tools; wm itself keeps the
 * key in its page with wm_audit_key_open). create: WM_AUDIT_KEY_CREATE. */
int wm_audit_key_load(const char *state_dir, bool create, unsigned char key[WM_AUDIT_KEY_LEN],
		      struct wm_error **err);

/* A key's public name: 16 hex digits of a keyed BLAKE2b (libsodium) of it;
 * the audit.rekey event names the old and new key by it. */
#define WM_AUDIT_KEY_ID_LEN 16
void wm_audit_key_id(const unsigned char *key, char id[WM_AUDIT_KEY_ID_LEN + 1]);

/*
 * A 32-byte subkey of the audit key for another purpose, e.g. the sandbox's
 * MAC over its seccomp filter cache: libsodium's crypto_kdf_derive_from_key
 * (BLAKE2b) with subkey id 1 and `context8`, exactly 8 characters naming the
 * purpose ("seccache"). Different contexts give independent keys, none of
 * which reveals the audit key. The key is loaded (created under the rule
 * of WM_AUDIT_KEY_CREATE) and released inside the call; `out` is the
 * caller's to keep with the same care (sodium_memzero when done).
 */
#define WM_AUDIT_SUBKEY_LEN 32
int wm_audit_key_derive(const char *state_dir, const char *context8,
			unsigned char out[WM_AUDIT_SUBKEY_LEN], struct wm_error **err);
int wm_audit_key_derive_from(const struct wm_audit_key *k, const char *context8,
			     unsigned char out[WM_AUDIT_SUBKEY_LEN], struct wm_error **err);

/* For a live orchestrator: when $STATE/audit.key is now another file than
 * the one k was read from (`wm audit rekey` ran meanwhile), loads the new
 * key into k's page (writers borrowing it use it from then on), fills the
 * two key ids and returns 1; the caller then records an audit.rekey event,
 * which the new key MACs. 0: unchanged (or missing for now), -1: error. */
int wm_audit_key_refresh(struct wm_audit_key *k, char old_id[WM_AUDIT_KEY_ID_LEN + 1],
			 char new_id[WM_AUDIT_KEY_ID_LEN + 1], struct wm_error **err);

/* `wm audit rekey`: moves the current key (if any) aside as
 * audit.key.retired-<id>-<ms> and makes a new one. old_id is "" when there
 * was no readable key. Recording the change in each run's log is
 * wm_audit_record_rekey's job. */
int wm_audit_key_replace(const char *state_dir, char old_id[WM_AUDIT_KEY_ID_LEN + 1],
			 char new_id[WM_AUDIT_KEY_ID_LEN + 1], struct wm_error **err);

struct wm_audit;

/*
 * The log's bytes from its start to the end of one line, under a BLAKE2b
 * hash keyed with the audit key: the checkpoint records it, so a resume
 * checks that the log still starts with exactly those bytes (one hash, no
 * parse) and walks the MAC chain only after them. Without the key the hash
 * cannot be forged, as a line's MAC cannot; a log whose key changed since
 * falls back to the full walk.
 */
#define WM_AUDIT_PREFIX_HEX 64
struct wm_audit_prefix {
	uint64_t bytes;			    /* length covered; 0: none recorded */
	uint64_t seq;			    /* the last covered line's seq, 0: none */
	char mac[WM_AUDIT_MAC_HEX + 1];	    /* and its mac, "" when seq is 0 */
	char hash[WM_AUDIT_PREFIX_HEX + 1]; /* hex */
};

/* Opens (creating, 0600) path for run_id under key (BORROWED: it must
 * outlive the writer), continuing the chain from the file's last complete
 * line without checking it. *warning, if not NULL, receives a message when
 * a torn tail was cut (caller frees), else NULL. */
struct wm_audit *wm_audit_open(const char *path, const char *run_id,
			       const unsigned char key[WM_AUDIT_KEY_LEN], char **warning,
			       struct wm_error **err);

/*
 * The same for a run being resumed: the existing log is verified first
 * against key and the checkpoint's anchor (anchor_seq/anchor_mac: the last
 * line the run's state recorded; 0/NULL for a new run). A torn last line
 * (a crash mid-write) is cut, as always. A log that is not intact (lines
 * edited, removed, cut off, or the whole file gone while the anchor names
 * lines) is never continued silently: without WM_AUDIT_ACCEPT_GAP it is an
 * error with exit code WM_EXIT_CANNOT (3) saying what is wrong. With it,
 * the damaged part (from the first bad line on) is moved to
 * audit.jsonl.damaged-<seq> next to the log, and an `audit.gap` event is
 * appended, MAC'd like every line, naming the missing seqs (missing_from,
 * missing_to), the reason and where the damaged lines went; its seq is
 * missing_to + 1 and its prev the last good line's mac, so the chain stays
 * whole and `wm audit verify` reports the gap forever after. A log whose
 * key was replaced (audit.rekey) continues normally.
 */
enum wm_audit_open_flags {
	WM_AUDIT_ACCEPT_GAP = 1 << 0,
};
struct wm_audit *wm_audit_open_checked(const char *path, const char *run_id,
				       const unsigned char key[WM_AUDIT_KEY_LEN],
				       uint64_t anchor_seq, const char *anchor_mac,
				       const struct wm_audit_prefix *prefix, unsigned flags,
				       char **warning, struct wm_error **err);

/* True for a key of the envelope every line has (seq, ts, run, task, event,
 * prev, mac), false for an event's own field. */
bool wm_audit_is_envelope_key(const char *key);

/* Appends one line. task may be NULL; fields (borrowed, may be NULL) is an
 * object of event fields, whose envelope keys are dropped. Not flushed to
 * disk until wm_audit_flush. */
int wm_audit_append(struct wm_audit *a, const char *task, const char *event, json_t *fields,
		    struct wm_error **err);
/* fdatasync; fails when the log was deleted under the writer (its last
 * link gone), since what follows would go nowhere. */
int wm_audit_flush(struct wm_audit *a, struct wm_error **err);
/* The log as written so far, for the checkpoint (bytes 0: unknown, e.g.
 * a writer of wm_audit_record_rekey). */
void wm_audit_prefix(const struct wm_audit *a, struct wm_audit_prefix *p);
uint64_t wm_audit_seq(const struct wm_audit *a);    /* last seq, 0: none */
const char *wm_audit_mac(const struct wm_audit *a); /* last mac hex, "" when none */
void wm_audit_close(struct wm_audit *a);

/*
 * `wm audit rekey`, for one run that no live orchestrator holds (a live
 * one records the change itself, see wm_audit_key_refresh): appends
 * an `audit.rekey` line (fields old_key, new_key: key ids; reason) MAC'd
 * with the NEW key, chained to the log's last complete line (its seq + 1,
 * its mac as prev). Lines before it were made with the old key: verify
 * reports "key changed at seq N" for them instead of calling them edited.
 * A missing or empty log gets nothing (there is nothing to re-anchor).
 */
int wm_audit_record_rekey(const char *path, const char *run_id,
			  const unsigned char new_key[WM_AUDIT_KEY_LEN], const char *old_id,
			  const char *new_id, const char *reason, struct wm_error **err);

/* Task ends (task.end events) with a seq above after_seq among the log's
 * last 4 MiB: their count in *n and the first ten task ids, comma
 * separated, appended to tasks. Evidence of journal records that were lost
 * (store.c). */
int wm_audit_task_ends_after(const char *path, uint64_t after_seq, struct wm_buf *tasks, size_t *n,
			     struct wm_error **err);

/* Opens the log at path for reading (a regular file, no link, at most
 * WM_AUDIT_FILE_MAX bytes): read it with wm_lines (safeio.h) and lines of
 * at most WM_AUDIT_LINE_MAX. Errors have exit code 2. */
int wm_audit_open_read(const char *path, struct wm_error **err);

/* What verification found, one list (common/xlist.h): X(enumerator, name
 * as `wm audit verify` prints it). */
#define WM_AUDIT_PROBLEMS(X)                                                                   \
	X(WM_AUDIT_OK, "ok")                                                                   \
	X(WM_AUDIT_EDITED, "edited") /* a line's MAC does not match its content */             \
	/* a line that does not belong (bad MAC with the next line fitting, duplicate seq,     \
	   foreign chain) */                                                                   \
	X(WM_AUDIT_INSERTED, "inserted")                                                       \
	X(WM_AUDIT_REMOVED, "removed")	   /* a seq is missing in the middle */                \
	X(WM_AUDIT_REORDERED, "reordered") /* a seq appears later than it should */            \
	X(WM_AUDIT_TRUNCATED, "truncated") /* the tail the checkpoint knows of is gone */      \
	X(WM_AUDIT_TORN, "torn-last-line") /* the last line is incomplete (crash mid-write) */ \
	X(WM_AUDIT_BAD_JSON, "bad-json")   /* a line that is not a JSON object */              \
	X(WM_AUDIT_MISSING, "missing")	   /* no log at all, though the checkpoint names lines */
enum wm_audit_problem { WM_AUDIT_PROBLEMS(WM_XLIST_ENUM) };
#define WM_AUDIT_PROBLEM_COUNT (0 WM_AUDIT_PROBLEMS(WM_XLIST_COUNT))
/* "edited", ...; "unknown" for a value outside the list. */
const char *wm_audit_problem_name(enum wm_audit_problem p);

struct wm_audit_result {
	enum wm_audit_problem problem;
	uint64_t first_bad_seq; /* seq where the chain first breaks (0 when ok) */
	uint64_t lines;		/* valid lines before the break (all when ok) */
	char *message;		/* human sentence (caller frees via release) */
	/* Recorded, MAC'd events that leave a log short of intact even when
	 * nothing was tampered with since: */
	uint64_t n_gaps;	 /* audit.gap events */
	uint64_t key_changed_at; /* seq of the last audit.rekey line, 0: none */
	char *notes;		 /* "gap: seqs 4..9 missing (truncated ...); ..." or NULL */
	/* Where the good part ends (for resuming with a gap). */
	long long good_end; /* byte offset just past the last good line */
	uint64_t last_seq;  /* the last good line's seq (0: none) */
	char last_mac[WM_AUDIT_MAC_HEX + 1];
	uint64_t max_seq; /* highest seq of any line whose MAC checks */
};
void wm_audit_result_release(struct wm_audit_result *r);
/* OK with no gap and no key change: what `wm audit verify` calls intact. */
bool wm_audit_result_intact(const struct wm_audit_result *r);

/*
 * Verifies the log at path against key, reading it line by line (memory
 * bounded by WM_AUDIT_LINE_MAX whatever the file's size, at most
 * WM_AUDIT_FILE_MAX). expected_seq/expected_mac come from the checkpoint
 * (0/NULL when unknown): the line with that seq must exist and carry that
 * mac, else the tail was cut (TRUNCATED) or rewritten (EDITED). An
 * audit.gap line accounts for the seqs it names; lines before the last
 * audit.rekey line (valid under key) were made with an earlier key and are
 * checked for order and chaining only. Returns 0 with *res filled (ok or
 * the first problem), or -1 with exit code WM_EXIT_USAGE when the file
 * cannot be read (missing, a link, not a regular file, too large).
 */
int wm_audit_verify(const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		    uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		    struct wm_error **err);
/* The same over an open file, from its start. */
int wm_audit_verify_fd(int fd, const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		       uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		       struct wm_error **err);

/* wm_audit_open_checked's fast path: 1 when the log starts with prefix's
 * bytes and the chain after them is whole up to the anchor (*res filled:
 * last_seq, last_mac, good_end as by wm_audit_verify_fd; lines counts only
 * those after the prefix; *hs, if not NULL, the keyed hash state over the
 * prefix's bytes, not finished); 0 when that cannot be shown (walk it
 * all); -1 on a read error. */
int wm_audit_verify_after(int fd, const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
			  const char *run_id, const struct wm_audit_prefix *prefix,
			  uint64_t anchor_seq, const char *anchor_mac, struct wm_audit_result *res,
			  crypto_generichash_state *hs, struct wm_error **err);
/* The keyed hash of a prefix, shared by the writer and the verifier. */
void wm_audit_prefix_init(crypto_generichash_state *st, const unsigned char *key);

/* Shared by the writer and the verifier: the MAC of a line object without
 * its "mac" member (JSON_COMPACT|JSON_SORT_KEYS), as hex. */
int wm_audit_line_mac(json_t *obj, const unsigned char *key, char hex[WM_AUDIT_MAC_HEX + 1]);
bool wm_audit_mac_equal(const char *a, const char *b);
#define WM_AUDIT_ZERO_MAC "0000000000000000000000000000000000000000000000000000000000000000"

#endif
