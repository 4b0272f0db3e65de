/*
 * leftovers.h - finding processes a dead run left behind.
 *
 * Sandboxes die with their orchestrator (PR_SET_PDEATHSIG on the pid
 * namespace's init), so normally nothing is left. Resume checks anyway
 * before rerunning anything: every task process carries WM_RUN_ID in its
 * environment, so /proc/<pid>/environ names the run it belongs to. Only
 * processes this user may read are seen (and could be signalled).
 */
#ifndef WM_ORCHESTRATOR_LEFTOVERS_H
#define WM_ORCHESTRATOR_LEFTOVERS_H

#include <stddef.h>

/* SIGKILLs every process whose environment holds WM_RUN_ID=<run_id>, and
 * returns how many there were. Processes of cluster jobs (a slurmstepd
 * among their ancestors) are the cluster's: resume adopts those jobs. */
size_t wm_kill_leftovers(const char *run_id);

#endif
