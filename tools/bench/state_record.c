/*
 * state_record.c - what recording one task event costs: a journal append
 * (what wm does) against rewriting the whole checkpoint (what it avoids),
 * at 10 and at 10,000 tasks. Prints times and ratios measured in this run;
 * asserts nothing.
 *
 * usage: build/bench/state_record [DIR]   (default: a fresh dir in /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/runstate.h"

#define ROUNDS 20

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct wm_run_state *make(size_t n)
{
	struct wm_run_state *rs = wm_run_state_new("20261122-081503-a1b2");

	for (size_t i = 0; i < n; i++) {
		char *id = wm_xasprintf("task-%05zu", i);

		wm_run_state_add_task(rs, id, NULL);
		rs->tasks[i].state = WM_TASK_SUCCEEDED;
		rs->tasks[i].exit_code = 0;
		rs->tasks[i].policy = wm_xstrdup("standard");
		free(id);
	}
	return rs;
}

static void measure(const char *dir, size_t n, double *append, double *rewrite)
{
	struct wm_run_state *rs = make(n);
	struct wm_journal *j = wm_journal_open(dir, 0, NULL);
	double t0;

	t0 = now_ms();
	for (int i = 0; i < ROUNDS; i++)
		wm_journal_append(j, rs, (long)(i % (int)n), "task.end", NULL);
	*append = (now_ms() - t0) / ROUNDS;
	t0 = now_ms();
	for (int i = 0; i < ROUNDS; i++)
		wm_checkpoint_write(dir, rs, 0, NULL);
	*rewrite = (now_ms() - t0) / ROUNDS;
	wm_journal_close(j);
	wm_run_state_free(rs);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/wm-bench-state.XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	double a10, r10, a10k, r10k;

	if (!dir)
		return 1;
	measure(dir, 10, &a10, &r10);
	measure(dir, 10000, &a10k, &r10k);
	printf("record one event     10 tasks    10000 tasks   ratio\n");
	printf("journal append    %8.3f ms   %8.3f ms   %5.2fx\n", a10, a10k, a10k / a10);
	printf("checkpoint write  %8.3f ms   %8.3f ms   %5.2fx\n", r10, r10k, r10k / r10);
	printf("at 10000 tasks a checkpoint costs %.1f appends\n", r10k / a10k);
	if (argc <= 1) {
		char *cmd = wm_xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
		free(cmd);
	}
	return 0;
}
