#include "orchestrator/slurm_doctor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "orchestrator/subproc.h"

/* Short: a controller that does not answer must not stall doctor. */
#define PROBE_TIMEOUT_MS 5000

static const char *const no_cluster = "executor: slurm cannot submit from this machine";

static struct wm_doctor_item *next_item(struct wm_doctor *d, const char *name)
{
	struct wm_doctor_item *it = &d->items[d->n++];

	memset(it, 0, sizeof(*it));
	it->name = name;
	it->cost = no_cluster;
	return it;
}

/* The first line of a tool's complaint, for a one-line detail. */
static void first_line(char *dst, size_t len, const char *text)
{
	snprintf(dst, len, "%.*s", (int)strcspn(text, "\n"), text);
}

/* Runs argv; on success the first line of what it printed goes to the
 * item's detail after `label`, otherwise why it failed. */
/* false: the tool is missing or failed. */
static bool probe(struct wm_doctor *d, const char *name, char *const *argv, const char *label)
{
	wm_autofree char *why = NULL;
	struct wm_doctor_item *it = next_item(d, name);
	struct wm_buf out = WM_BUF_INIT;
	struct wm_error *e = NULL;
	int status = 0;

	if (wm_subproc_run(argv, PROBE_TIMEOUT_MS, &out, &status, &e) == 0) {
		const char *text = out.data ? out.data : "";

		it->ok = true;
		snprintf(it->detail, sizeof(it->detail), "%s%.*s", label, (int)strcspn(text, "\n"),
			 text);
	} else {
		why = wm_error_text(e);
		if (e->errnum == ENOENT)
			snprintf(it->detail, sizeof(it->detail), "%s is not on PATH", argv[0]);
		else
			first_line(it->detail, sizeof(it->detail), why);
	}
	wm_error_free(e);
	wm_buf_release(&out);
	return it->ok;
}

/* "PartitionName=debug ... State=UP ..." lines: "debug (UP), ...". */
static void partitions(struct wm_doctor *d)
{
	char *argv[] = { (char *)"scontrol", (char *)"-o", (char *)"show", (char *)"partition",
			 NULL };
	struct wm_doctor_item *it = next_item(d, "slurm_partitions");
	struct wm_buf out = WM_BUF_INIT, list = WM_BUF_INIT;
	struct wm_error *e = NULL;
	int status = 0;

	if (wm_subproc_run(argv, PROBE_TIMEOUT_MS, &out, &status, &e) < 0) {
		wm_autofree char *why = wm_error_text(e);

		first_line(it->detail, sizeof(it->detail), why);
		wm_error_free(e);
		wm_buf_release(&out);
		return;
	}
	for (char *l = out.data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *state = strstr(l, " State=");

		if (strncmp(l, "PartitionName=", 14) != 0)
			continue;
		wm_buf_addf(&list, "%s%.*s (%.*s)", list.len ? ", " : "",
			    (int)strcspn(l + 14, " \n"), l + 14,
			    state ? (int)strcspn(state + 7, " \n") : 1, state ? state + 7 : "?");
	}
	it->ok = list.len > 0;
	snprintf(it->detail, sizeof(it->detail), "%s",
		 list.len ? list.data : "the controller lists no partition");
	wm_buf_release(&list);
	wm_buf_release(&out);
}

void wm_slurm_doctor(struct wm_doctor *d)
{
	char *sbatch[] = { (char *)"sbatch", (char *)"--test-only", (char *)"--wrap",
			   (char *)"true", NULL };
	char *squeue[] = { (char *)"squeue", (char *)"-h",   (char *)"-o",
			   (char *)"%i",     (char *)"--me", NULL };
	char *scontrol[] = { (char *)"scontrol", (char *)"ping", NULL };
	char *sacct[] = { (char *)"sacct", (char *)"-c", (char *)"-n", (char *)"-o",
			  (char *)"jobid", (char *)"-j", (char *)"1",  NULL };

	/* Without the client tools or a controller that answers, there is
	 * no cluster to ask further: one line. */
	if (!probe(d, "slurm", scontrol, ""))
		return;
	probe(d, "slurm_squeue", squeue, "the controller answers");
	probe(d, "slurm_sbatch", sbatch, "would accept a job (--test-only)");
	probe(d, "slurm_sacct", sacct, "reads the job completion log");
	partitions(d);
}
