/*
 * mkrun.c - TEST-ONLY: makes a run through the state API, so the state
 * commands can be tested end to end without the scheduler.
 *
 * usage: mkrun --state-dir DIR [--tasks N] [--states S1,S2,...] [--run-state S]
 *              [--name NAME] [--journal K] [--hold SECONDS] [--boot-id ID]
 *   --tasks N       tasks t1..tN (default 3)
 *   --states LIST   task states, cycled over the tasks (default succeeded)
 *   --run-state S   the run's state (default: running)
 *   --journal K     record the last K task changes in the journal after the
 *                   checkpoint instead of in it (default 1)
 *   --hold SECS     keep holding the run lock for SECS seconds (live run)
 *   --boot-id ID    record ID as the orchestrator's boot id
 *   --ago SECS      date the run (its times, its tasks' times) SECS seconds
 *                   back (the run id keeps today's time)
 *   --duration MS   the run and each of its finished tasks last MS ms
 *                   (default: the run 2 s, each task 500 ms)
 * Prints the run id on stdout (flushed before any --hold sleep). The audit
 * log gets run.start, a task.start/task.end pair per task, and a
 * checkpoint that records its last seq and mac.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "state/audit.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/rundir.h"
#include "state/runstate.h"

struct opts {
	const char *state_dir, *states, *name, *boot_id;
	int run_state;
	long tasks, journal, hold, ago, duration;
};

static int audit_all(const char *dir, struct opts *o, struct wm_run_state *rs,
		     struct wm_error **err)
{
	unsigned char key[WM_AUDIT_KEY_LEN];
	wm_autofree char *path = wm_rundir_file(dir, WM_RUN_AUDIT);
	struct wm_audit *a;
	int rc = 0;

	if (wm_audit_key_load(o->state_dir, false, key, err) < 0)
		return -1;
	a = wm_audit_open(path, rs->run_id, key, NULL, err);
	if (!a)
		return -1;
	{
		json_t *f = json_pack("{s:s, s:I}", "workflow", rs->name, "tasks",
				      (json_int_t)rs->n_tasks);

		rc = wm_audit_append(a, NULL, "run.start", f, err);
		json_decref(f);
	}
	for (size_t i = 0; rc == 0 && i < rs->n_tasks; i++) {
		struct wm_task_state *t = &rs->tasks[i];
		json_t *f = json_pack("{s:s, s:s}", "policy", "standard", "policy_hash", "abc123");

		rc = wm_audit_append(a, t->id, "task.start", f, err);
		json_decref(f);
		if (rc == 0 && t->state != WM_TASK_PENDING && t->state != WM_TASK_RUNNING) {
			f = json_pack("{s:i, s:I}", "exit", t->exit_code, "duration_ms",
				      (json_int_t)5);
			rc = wm_audit_append(a, t->id, "task.end", f, err);
			json_decref(f);
		}
	}
	if (rc == 0)
		rc = wm_audit_flush(a, err);
	rs->audit.seq = wm_audit_seq(a);
	snprintf(rs->audit.mac, sizeof(rs->audit.mac), "%s", wm_audit_mac(a));
	wm_audit_close(a);
	return rc;
}

static void fill_tasks(struct wm_run_state *rs, const struct opts *o, long long now)
{
	wm_autofree char *copy = wm_xstrdup(o->states);
	char *states[64];
	size_t ns = 0;
	char *save = NULL;

	for (char *s = strtok_r(copy, ",", &save); s && ns < 64; s = strtok_r(NULL, ",", &save))
		states[ns++] = s;
	for (long i = 0; i < o->tasks; i++) {
		wm_autofree char *id = wm_xasprintf("t%ld", i + 1);
		long idx = wm_run_state_add_task(rs, id, NULL);
		struct wm_task_state *t = &rs->tasks[idx];
		int st = wm_task_status_parse(ns ? states[i % (long)ns] : "succeeded");

		t->state = st < 0 ? WM_TASK_PENDING : (enum wm_task_status)st;
		if (t->state == WM_TASK_PENDING || t->state == WM_TASK_SKIPPED)
			continue;
		t->attempts = 1;
		t->started_ms = o->duration ? now - o->duration : now - 1000;
		t->policy = wm_xstrdup("standard");
		if (t->state != WM_TASK_RUNNING) {
			t->ended_ms = o->duration ? now : now - 500;
			t->exit_code = t->state == WM_TASK_SUCCEEDED ? 0 : 1;
		}
		if (t->state == WM_TASK_FAILED)
			wm_task_add_decision(t, now - 400, 1, "fail",
					     "exit status 1, no retries left");
	}
}

static int make(struct opts *o, struct wm_error **err)
{
	char id[WM_RUN_ID_LEN + 1];
	wm_autofree char *wf = wm_xasprintf("%s/.mkrun-workflow.md", o->state_dir);
	wm_autofree char *dir = NULL;
	struct wm_run_state *rs = NULL;
	struct wm_lock *lock = NULL;
	struct wm_journal *j = NULL;
	long long now = wm_wall_ms() - o->ago * 1000;
	FILE *f;
	int rc = -1;

	mkdir(o->state_dir, 0700);
	/* As `wm run` does: the key exists before the run (audit.h). */
	{
		struct wm_audit_key *k = wm_audit_key_open(o->state_dir, WM_AUDIT_KEY_CREATE, err);

		if (!k)
			return -1;
		wm_audit_key_free(k);
	}
	f = fopen(wf, "w");
	if (!f)
		return wm_error_set(err, errno, "create `%s`", wf);
	fprintf(f, "---\nname: %s\n---\n\n## t1\n\n```sh\ntrue\n```\n", o->name);
	fclose(f);
	dir = wm_rundir_create(o->state_dir, wf, id, err);
	unlink(wf);
	if (!dir || !(lock = wm_lock_acquire(dir, id, err)))
		goto out;
	rs = wm_run_state_new(id);
	rs->name = wm_xstrdup(o->name);
	rs->workflow_path = wm_xstrdup("/tmp/workflow.md");
	rs->workflow_hash = wm_rundir_hash_file(dir, WM_RUN_WORKFLOW, err);
	if (wm_holder_self(&rs->orchestrator, err) < 0)
		goto out;
	if (o->boot_id) {
		free(rs->orchestrator.boot_id);
		rs->orchestrator.boot_id = wm_xstrdup(o->boot_id);
	}
	rs->state = (enum wm_run_status)o->run_state;
	rs->created_ms = rs->started_ms = now - (o->duration ? o->duration : 2000);
	if (rs->state != WM_RUN_RUNNING && rs->state != WM_RUN_PENDING)
		rs->ended_ms = now;
	fill_tasks(rs, o, now);
	if (audit_all(dir, o, rs, err) < 0)
		goto out;
	/* The last `journal` task states reach disk through the journal only. */
	{
		struct wm_run_state *old = wm_run_state_new(id);
		long first_j = o->tasks - o->journal < 0 ? 0 : o->tasks - o->journal;
		json_t *js = wm_run_state_to_json(rs, 0); /* new ref */

		wm_run_state_free(old);
		old = wm_run_state_from_json(js, NULL, err);
		json_decref(js);
		for (long i = first_j; old && i < o->tasks; i++) {
			char *tid = wm_steal(&old->tasks[i].id);

			wm_task_state_release(&old->tasks[i]);
			old->tasks[i].id = tid;
			old->tasks[i].exit_code = -1;
		}
		/* Twice, so a previous generation exists as after any real run. */
		if (!old || wm_checkpoint_write(dir, old, 0, err) < 0 ||
		    wm_checkpoint_write(dir, old, 0, err) < 0) {
			wm_run_state_free(old);
			goto out;
		}
		wm_run_state_free(old);
		if (!(j = wm_journal_open(dir, 0, err)))
			goto out;
		for (long i = first_j; i < o->tasks; i++)
			if (wm_journal_append(j, rs, i, "task.end", err) < 0)
				goto out;
	}
	printf("%s\n", id);
	fflush(stdout);
	if (o->hold > 0)
		sleep((unsigned)o->hold);
	rc = 0;
out:
	wm_journal_close(j);
	wm_run_state_free(rs);
	wm_lock_release(lock);
	return rc;
}

/* One option into o: 0, or -1 for an unknown one. */
static int take_option(int opt, const char *arg, struct opts *o)
{
	switch (opt) {
	case 'd':
		o->state_dir = arg;
		break;
	case 'n':
		o->tasks = strtol(arg, NULL, 10);
		break;
	case 's':
		o->states = arg;
		break;
	case 'r':
		o->run_state = wm_run_status_parse(arg);
		break;
	case 'N':
		o->name = arg;
		break;
	case 'j':
		o->journal = strtol(arg, NULL, 10);
		break;
	case 'h':
		o->hold = strtol(arg, NULL, 10);
		break;
	case 'b':
		o->boot_id = arg;
		break;
	case 'a':
		o->ago = strtol(arg, NULL, 10);
		break;
	case 'D':
		o->duration = strtol(arg, NULL, 10);
		break;
	default:
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "tasks", required_argument, NULL, 'n' },
		{ "states", required_argument, NULL, 's' },
		{ "run-state", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'N' },
		{ "journal", required_argument, NULL, 'j' },
		{ "hold", required_argument, NULL, 'h' },
		{ "boot-id", required_argument, NULL, 'b' },
		{ "ago", required_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .state_dir = getenv("WM_STATE_DIR"),
			  .states = "succeeded",
			  .name = "demo",
			  .run_state = WM_RUN_RUNNING,
			  .tasks = 3,
			  .journal = 1 };
	struct wm_error *err = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (take_option(opt, optarg, &o) < 0)
			return 2;
	if (!o.state_dir || o.run_state < 0 || o.tasks < 0 || o.journal < 0 || o.ago < 0 ||
	    o.duration < 0) {
		fprintf(stderr, "mkrun: need --state-dir (or WM_STATE_DIR) and valid values\n");
		return 2;
	}
	if (make(&o, &err) < 0) {
		wm_error_print(err, stderr);
		wm_error_free(err);
		return 1;
	}
	return 0;
}
