/*
 * cmd_status.c - `wm status [RUN_ID] [--json]`: one run, explained.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/rundir.h"

static void print_time(const char *label, long long ms)
{
	wm_autofree char *t = NULL;

	if (!ms)
		return;
	t = wm_state_format_time(ms);
	printf("%-13s %s\n", label, t);
}

static void explain_orphan(const struct wm_runview *v)
{
	const struct wm_run_state *rs = v->st.rs;
	const struct wm_holder *h = &rs->orchestrator;
	wm_autofree char *last = wm_state_format_time(wm_run_state_last_event_ms(rs));
	long jobs = wm_runview_cluster_jobs(v);

	if (v->live)
		printf("\nThe lock is held by pid %d from another boot.\n", (int)v->holder.pid);
	else
		printf("\nOrphaned: orchestrator pid %d on %s died (lock free) at about %s.\n",
		       (int)h->pid, h->host ? h->host : "?", last);
	if (v->other_boot)
		printf("It ran during an earlier boot (boot id %s): the machine restarted.\n",
		       h->boot_id);
	if (jobs > 0)
		printf("%ld cluster job%s of this run %s still queued or running: `wm resume %s` "
		       "adopts %s instead of running %s again.\n",
		       jobs, jobs == 1 ? "" : "s", jobs == 1 ? "is" : "are", v->id,
		       jobs == 1 ? "it" : "them", jobs == 1 ? "it" : "them");
	else
		printf("Tasks that were running are stopped (sandboxes die with their "
		       "orchestrator).\nResume with `wm resume %s`.\n",
		       v->id);
}

static void print_task(const struct wm_task_state *t)
{
	wm_autofree char *dur = NULL;
	wm_autofree char *how = NULL;

	if (t->started_ms && t->ended_ms >= t->started_ms)
		dur = wm_format_duration((uint64_t)(t->ended_ms - t->started_ms));
	if (t->signal)
		how = wm_xasprintf("signal %d", t->signal);
	else if (t->exit_code >= 0)
		how = wm_xasprintf("exit %d", t->exit_code);
	printf("  %-24s %-10s attempts %-3u %-10s %-8s%s%s\n", t->id,
	       t->kept && t->state == WM_TASK_SUCCEEDED ? "kept" : wm_task_status_name(t->state),
	       t->attempts, how ? how : "", dur ? dur : "", t->limit ? " limit: " : "",
	       t->limit ? t->limit : "");
	for (size_t i = 0; i < t->n_denied; i++)
		printf("      denied syscall: %s\n", t->denied[i]);
	for (size_t i = 0; i < t->n_decisions; i++)
		printf("      decision (attempt %u): %s: %s\n", t->decisions[i].attempt,
		       t->decisions[i].what, t->decisions[i].why);
}

static void print_text(const struct wm_runview *v)
{
	const struct wm_run_state *rs = v->st.rs;
	size_t c[WM_TASK_STATUS_COUNT];
	bool first = true;

	printf("%-13s %s\n", "run", v->id);
	printf("%-13s %s\n", "workflow", rs->name ? rs->name : "-");
	if (rs->workflow_path)
		printf("%-13s %s\n", "file", rs->workflow_path);
	printf("%-13s %s%s\n", "state", wm_runview_state(v), v->live ? " (orchestrator live)" : "");
	if (rs->orchestrator.pid)
		printf("%-13s pid %d on %s\n", "orchestrator", (int)rs->orchestrator.pid,
		       rs->orchestrator.host ? rs->orchestrator.host : "?");
	print_time("created", rs->created_ms);
	print_time("started", rs->started_ms);
	print_time("ended", rs->ended_ms);
	wm_run_state_count(rs, c);
	printf("%-13s %zu:", "tasks", rs->n_tasks);
	for (int s = 0; s < WM_TASK_STATUS_COUNT; s++) {
		if (!c[s])
			continue;
		printf("%s %zu %s", first ? "" : ",", c[s], wm_task_status_name(s));
		first = false;
	}
	putchar('\n');
	for (size_t i = 0; i < rs->n_tasks; i++)
		print_task(&rs->tasks[i]);
	if (v->orphan)
		explain_orphan(v);
}

int wm_cmd_status(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	wm_autofree char *id = NULL;
	struct wm_runview v;
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt != 'j')
			return wm_bad_option("status", argv, opt, opts);
		json = true;
	}
	if (argc - optind > 1)
		return wm_usage_error("status", "too many arguments");
	id = wm_rundir_resolve(cli->state_dir, optind < argc ? argv[optind] : NULL, err);
	if (!id || wm_runview_load(cli->state_dir, id, &v, err) < 0)
		return -1;
	wm_runview_print_warnings(&v);
	if (!v.st.rs) {
		wm_error_set(err, 0, "run %s: %s", id, v.load_error);
		wm_runview_release(&v);
		return -1;
	}
	if (json) {
		json_t *j = wm_runview_status_json(&v); /* new ref */

		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		print_text(&v);
	}
	wm_runview_release(&v);
	return WM_EXIT_OK;
}
