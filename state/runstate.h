/*
 * runstate.h - the in-memory model of one run, and its JSON form.
 *
 * A struct wm_run_state is plain data: the scheduler fills and updates it,
 * checkpoint.h/journal.h persist it, the status commands read it. It owns
 * every string and array inside it.
 *
 * Lifecycle: wm_run_state_new(run_id) -> wm_run_state_add_task() for every
 * task in workflow order -> mutate fields directly -> wm_run_state_free().
 * Invariants: tasks[i] keeps index i for the state's life (tasks are never
 * removed or reordered), so the scheduler may use its workflow indexes;
 * task ids are unique; wm_run_state_find() is O(1) (hash index).
 * Pointers into tasks[] are invalidated by wm_run_state_add_task (the array
 * may move): hold indexes, not pointers, while adding.
 *
 * Times are milliseconds since the epoch, 0 meaning "not yet".
 * exit_code is -1 when none (never ran, or killed by a signal); signal 0
 * when none.
 *
 * JSON (jansson): to_json functions return a NEW reference the caller owns
 * (json_decref); from_json functions BORROW their json_t argument and copy
 * what they keep. The format is README.md's "Checkpoint schema".
 */
#ifndef WM_STATE_RUNSTATE_H
#define WM_STATE_RUNSTATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xlist.h"
#include "state/audit.h"
#include "state/lock.h"

/*
 * One list per enum (common/xlist.h): X(enumerator, name in JSON). Journals,
 * checkpoints, summaries and --json output carry the names; the numbers
 * are kept stable anyway (runstate.c checks them): add at the end.
 */
#define WM_RUN_STATUSES(X)               \
	X(WM_RUN_PENDING, "pending")     \
	X(WM_RUN_RUNNING, "running")     \
	X(WM_RUN_SUCCEEDED, "succeeded") \
	X(WM_RUN_FAILED, "failed")       \
	X(WM_RUN_CANCELLED, "cancelled") \
	X(WM_RUN_INTERRUPTED, "interrupted")

#define WM_TASK_STATUSES(X)                             \
	X(WM_TASK_PENDING, "pending")                   \
	X(WM_TASK_RUNNING, "running")                   \
	X(WM_TASK_SUCCEEDED, "succeeded")               \
	X(WM_TASK_FAILED, "failed")                     \
	X(WM_TASK_SKIPPED, "skipped")                   \
	X(WM_TASK_CANCELLED, "cancelled")               \
	/* between attempts, waiting out its backoff */ \
	X(WM_TASK_WAITING, "waiting")                   \
	/* its outputs restored from the task cache */  \
	X(WM_TASK_CACHED, "cached")

enum wm_run_status { WM_RUN_STATUSES(WM_XLIST_ENUM) };
enum wm_task_status { WM_TASK_STATUSES(WM_XLIST_ENUM) };
#define WM_RUN_STATUS_COUNT (0 WM_RUN_STATUSES(WM_XLIST_COUNT))
#define WM_TASK_STATUS_COUNT (0 WM_TASK_STATUSES(WM_XLIST_COUNT))

/* Did the task end well: succeeded, or cached (its outputs are there as
 * if it had run)? What depends on it may run. */
static inline bool wm_task_status_ok(enum wm_task_status s)
{
	return s == WM_TASK_SUCCEEDED || s == WM_TASK_CACHED;
}

/* Names as they appear in JSON ("pending", ...); "unknown" for a value
 * outside the list; parse returns -1 if unknown. */
const char *wm_run_status_name(enum wm_run_status s);
int wm_run_status_parse(const char *name);
const char *wm_task_status_name(enum wm_task_status s);
int wm_task_status_parse(const char *name);

struct wm_decision {
	long long at_ms;
	unsigned attempt; /* the attempt it concerns (1-based) */
	char *what;	  /* "retry", "fail", "skip", "circuit-break", "rollback", ... */
	char *why;	  /* human reason */
};

struct wm_task_state {
	char *id;
	enum wm_task_status state;
	unsigned attempts;     /* attempts started so far */
	unsigned lost;	       /* of those, lost to the infrastructure (a cluster node
				* failed): they do not count against retries */
	bool kept;	       /* its success is from before this run was resumed (or
				* from an earlier run: --from); it did not run here */
	int exit_code;	       /* -1: none */
	int signal;	       /* 0: none */
	long long started_ms;  /* last attempt's start */
	long long ended_ms;    /* last attempt's end */
	char *definition_hash; /* body+attributes+resolved policy, for resume; NULL unknown */
	char *policy;	       /* resolved policy name, NULL unknown */
	char *limit;   /* limit hit by the last attempt ("timeout", "memory", "pids"), or NULL */
	char **denied; /* syscalls denied by seccomp (strv, NULL-terminated or NULL) */
	size_t n_denied;
	struct wm_decision *decisions;
	size_t n_decisions, alloc_decisions;
	char *out_dir;	 /* relative to the run dir ("out/<id>"), NULL none */
	char *cache_key; /* cached: the task cache's key, else NULL */
	char *cache_run; /* cached: the run that made the entry, else NULL */
};

struct wm_run_state {
	char *run_id;
	char *workflow_path; /* as given to `wm run` (absolute) */
	char *workflow_hash; /* SHA-256 hex of workflow.md */
	char *name;	     /* workflow name */
	enum wm_run_status state;
	struct wm_holder orchestrator;
	long long created_ms, started_ms, ended_ms;
	struct {
		uint64_t seq; /* last audit line written, 0: none */
		char mac[65]; /* its MAC in hex, "" when seq == 0 */
		/* The log up to the last snapshot, hashed (checkpoints only:
		 * journal records move seq/mac on and leave it). */
		struct wm_audit_prefix prefix;
	} audit;
	struct wm_task_state *tasks;
	size_t n_tasks, alloc_tasks;
	/* private: open-addressing index id -> task index + 1 */
	size_t *index_;
	size_t index_cap_;
};

struct wm_run_state *wm_run_state_new(const char *run_id);
void wm_run_state_free(struct wm_run_state *rs);
WM_DEFINE_CLEANUP(struct wm_run_state, wm_run_state_free)

/* Appends a pending task (copying id); returns its index, or -1 with *err
 * for a duplicate id. */
long wm_run_state_add_task(struct wm_run_state *rs, const char *id, struct wm_error **err);
/* O(1) lookup; NULL / -1 when unknown. */
struct wm_task_state *wm_run_state_find(const struct wm_run_state *rs, const char *id);
long wm_run_state_index(const struct wm_run_state *rs, const char *id);

/* Frees a task's strings and arrays (id included) and zeroes it. */
void wm_task_state_release(struct wm_task_state *t);
/* Appends a decision to a task (copies the strings). */
void wm_task_add_decision(struct wm_task_state *t, long long at_ms, unsigned attempt,
			  const char *what, const char *why);
/* Adds a denied syscall name once (copied). */
void wm_task_add_denied(struct wm_task_state *t, const char *syscall);
/* Counts tasks by state: counts[WM_TASK_*]. */
/* Records where the audit log a ends (its last seq and mac, and its hashed
 * prefix: wm_audit_prefix) so the next journal record or checkpoint
 * carries it; call before wm_store_record. */
void wm_run_state_set_audit(struct wm_run_state *rs, const struct wm_audit *a);
void wm_run_state_count(const struct wm_run_state *rs, size_t counts[WM_TASK_STATUS_COUNT]);
/* The latest time recorded anywhere in the run (for "died at about"). */
long long wm_run_state_last_event_ms(const struct wm_run_state *rs);

/* JSON of one task (without its id, which is the key in "tasks"). New ref. */
json_t *wm_task_state_to_json(const struct wm_task_state *t);
/* Replaces task t's fields by those of obj (borrowed); validates types. */
int wm_task_state_from_json(struct wm_task_state *t, json_t *obj, struct wm_error **err);

/*
 * The whole checkpoint object: {format, version, run_id, ..., tasks{...}}
 * with "journal_seq": journal_seq (the journal records it covers). New ref.
 */
json_t *wm_run_state_to_json(const struct wm_run_state *rs, uint64_t journal_seq);
/* The same object as compact JSON text, built one task at a time so a large
 * run never holds its whole tree in memory, and handed to emit (which
 * returns -1 to stop) in pieces of at least one task: a checkpoint write
 * compresses them as they come. -1 when emit failed or a string cannot be
 * encoded. */
typedef int (*wm_text_sink)(const char *text, size_t len, void *ctx);
int wm_run_state_dump(const struct wm_run_state *rs, uint64_t journal_seq, wm_text_sink emit,
		      void *ctx);
/* The whole text at once (caller frees); NULL only if a string cannot be
 * encoded. */
char *wm_run_state_dumps(const struct wm_run_state *rs, uint64_t journal_seq);
/* Parses a checkpoint object (borrowed). Checks format and version (an
 * unknown version is an error naming it) and every field's type. */
struct wm_run_state *wm_run_state_from_json(json_t *obj, uint64_t *journal_seq,
					    struct wm_error **err);

/* The run's small mutable part, as carried by every journal record:
 * {"state", "started_ms", "ended_ms", "audit": {"last_seq", "last_mac"}}.
 * run_json returns a new ref; apply borrows obj. */
json_t *wm_run_state_run_json(const struct wm_run_state *rs);
int wm_run_state_apply_run_json(struct wm_run_state *rs, json_t *obj, struct wm_error **err);

#define WM_CHECKPOINT_FORMAT "wm-checkpoint"
#define WM_CHECKPOINT_VERSION 1

#endif
