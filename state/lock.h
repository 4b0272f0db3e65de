/*
 * lock.h - the run lock held by the live orchestrator, and orphan detection.
 *
 * The lock is an flock(LOCK_EX) on <run_dir>/lock, taken without blocking
 * and held for the orchestrator's whole life through an O_CLOEXEC fd (so
 * sandboxed children never inherit it). The kernel releases it when the
 * holder dies, so a lock never goes stale. Once taken, the file is
 * rewritten with the holder's identity, one "key value" per line:
 *     pid 1234
 *     host build-01
 *     boot_id 5f3c...-...
 *     start_time 81234567     (field 22 of /proc/<pid>/stat, clock ticks)
 * The pid with its start time and the boot id guard against pid reuse when
 * a human reads the file; liveness itself is decided by flock only.
 *
 * Lifecycle: wm_lock_acquire -> ... -> wm_lock_release (releases and frees;
 * accepts NULL). Exiting or dying releases it too.
 */
#ifndef WM_STATE_LOCK_H
#define WM_STATE_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Who holds (or held) a run: also the checkpoint's "orchestrator". */
struct wm_holder {
	pid_t pid;	     /* 0: unknown */
	char *host;	     /* NULL: unknown */
	char *boot_id;	     /* /proc/sys/kernel/random/boot_id, NULL: unknown */
	uint64_t start_time; /* /proc/<pid>/stat field 22 (clock ticks after boot) */
};

void wm_holder_release(struct wm_holder *h); /* frees the strings, zeroes h */
/* Fills h with this process's identity. */
int wm_holder_self(struct wm_holder *h, struct wm_error **err);
/* A process's start time (field 22 of /proc/<pid>/stat, clock ticks after
 * boot); pid 0 means this process. Fails when the process is gone. */
int wm_proc_start_time(pid_t pid, uint64_t *out, struct wm_error **err);
/* Is pid still the process that started at start_time, and not ended (a
 * zombie whose parent has not waited for it has)? */
bool wm_proc_is_running(pid_t pid, uint64_t start_time);
/* This boot's id (caller frees). */
char *wm_boot_id(struct wm_error **err);

struct wm_lock;

/*
 * Takes the run's lock. When a live orchestrator holds it: error with exit
 * code WM_EXIT_CANNOT (3), "run ID is locked by a live orchestrator (pid N
 * on HOST)". Of two concurrent takers exactly one succeeds.
 */
struct wm_lock *wm_lock_acquire(const char *run_dir, const char *run_id, struct wm_error **err);
void wm_lock_release(struct wm_lock *l);

/* Reads the identity written in <run_dir>/lock. A missing or empty file
 * yields a zeroed holder and returns 0. */
int wm_lock_read_holder(const char *run_dir, struct wm_holder *h, struct wm_error **err);

/* 1 when a live process holds the run's lock (a shared non-blocking flock
 * on a fresh open fails with EWOULDBLOCK), 0 when free or no lock file,
 * -1 on error. Never takes the lock for longer than the probe. */
int wm_lock_is_live(const char *run_dir, struct wm_error **err);

/*
 * The orphan rule (SPEC.md section 4), pure: a run is orphaned when its
 * recorded state is running and either no live process holds its lock, or
 * the recorded boot id is from another boot than current_boot_id.
 * run_running: the checkpoint says "running"; recorded_boot_id may be NULL.
 */
bool wm_run_is_orphan(bool run_running, bool lock_live, const char *recorded_boot_id,
		      const char *current_boot_id);

#endif
