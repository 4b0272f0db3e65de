/*
 * summary.h - summary.json: what `wm list` shows of a run, without
 * loading its checkpoint.
 *
 * Loading a 100,000-task checkpoint takes seconds and hundreds of MB, and
 * `wm list` would do it for every run. Instead each checkpoint write also
 * writes, atomically, a small summary.json next to it:
 *     {"format":"wm-summary","version":1,"run_id","name","state","total",
 *      "counts":{"pending":..,...},"created_ms","started_ms","ended_ms",
 *      "orchestrator":{pid,host,boot_id,start_time},"journal_seq",
 *      "checkpoint":{"size","ino","mtime_ns"}}
 * Reading it costs O(1): the summary (at most WM_SUMMARY_MAX bytes), a
 * stat of the checkpoint (its size, inode and mtime must be those the
 * summary names, so a checkpoint replaced or edited since is noticed), and
 * the journal's last record, read from the file's end (its run state,
 * times and task counts are newer than the summary's when its seq is
 * higher). Anything missing, corrupt or inconsistent: the caller falls
 * back to loading the checkpoint.
 */
#ifndef WM_STATE_SUMMARY_H
#define WM_STATE_SUMMARY_H

#include <stdint.h>
#include <sys/stat.h>

#include "common/error.h"
#include "state/lock.h"
#include "state/runstate.h"

#define WM_SUMMARY_FILE "summary.json"
#define WM_SUMMARY_MAX (64UL << 10)

struct wm_run_summary {
	char *name; /* NULL: unknown */
	enum wm_run_status state;
	size_t counts[WM_TASK_STATUS_COUNT];
	size_t total;
	long long created_ms, started_ms, ended_ms;
	struct wm_holder orchestrator;
	uint64_t journal_seq; /* the last journal record it reflects */
};

/* Written by wm_checkpoint_write: dfd is the run directory, cp the stat of
 * the checkpoint file just put in place. */
int wm_summary_write(int dfd, const char *run_dir, const struct wm_run_state *rs,
		     uint64_t journal_seq, const struct stat *cp, struct wm_error **err);

/* 0 with *s filled, or -1 with *err saying why the summary cannot be used. */
int wm_summary_read(const char *run_dir, struct wm_run_summary *s, struct wm_error **err);
void wm_run_summary_release(struct wm_run_summary *s);

#endif
