#include "orchestrator/slurmcli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/subproc.h"
#include "state/rundir.h"

#define CALL_TIMEOUT_MS 30000
/* The batch script's status when the node cannot see the shared files. */
#define NODE_BLIND 86

static const char *kind_name(enum wm_attempt_kind k)
{
	return k == WM_ATTEMPT_ONLY_IF ? "only_if" : k == WM_ATTEMPT_ROLLBACK ? "rollback" : "body";
}

/* A shell word in single quotes. */
static void quote(struct wm_buf *b, const char *s)
{
	wm_buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			wm_buf_addstr(b, "'\\''");
		else
			wm_buf_addch(b, *s);
	}
	wm_buf_addch(b, '\'');
}

/* ---- submitting ---- */

static char *script_text(const struct wm_exec_slurm_config *cfg, const struct wm_exec_request *rq)
{
	const char *task = cfg->wf->tasks[rq->task].id;
	struct wm_buf b = WM_BUF_INIT;
	const char *dirs[2][2] = { { cfg->run_dir, "the run directory" },
				   { cfg->workspace, "the workspace" } };

	wm_buf_addf(&b, "#!/bin/sh\n# wm: run %s, task %s, %s attempt %u\n", cfg->run_id, task,
		    kind_name(rq->kind), rq->attempt);
	for (int i = 0; i < 2; i++) {
		wm_buf_addstr(&b, "[ -d ");
		quote(&b, dirs[i][0]);
		wm_buf_addf(&b, " ] || { echo \"wm: node $(hostname) cannot see %s ", dirs[i][1]);
		wm_buf_addstr(&b, dirs[i][0]);
		wm_buf_addf(&b,
			    ": it must be on a filesystem every node shares\" >&2; exit %d; }\n",
			    NODE_BLIND);
	}
	wm_buf_addstr(&b, "exec ");
	quote(&b, cfg->wm_path);
	wm_buf_addstr(&b, " --state-dir ");
	quote(&b, cfg->state_dir);
	wm_buf_addf(&b, " exec %s %s --attempt %u --kind %s --policy-hash %s\n", cfg->run_id, task,
		    rq->attempt, kind_name(rq->kind), cfg->policy_hash[rq->task]);
	return wm_buf_detach(&b, NULL);
}

static void push_resources(char ***v, size_t *n, const struct wm_exec_slurm_config *cfg,
			   size_t task)
{
	const struct wm_slurm_resources *r = cfg->res ? &cfg->res[task] : NULL;

	if (cfg->partition)
		wm_strv_push_owned(v, n, wm_xasprintf("--partition=%s", cfg->partition));
	if (cfg->account)
		wm_strv_push_owned(v, n, wm_xasprintf("--account=%s", cfg->account));
	if (cfg->qos)
		wm_strv_push_owned(v, n, wm_xasprintf("--qos=%s", cfg->qos));
	if (r && r->cpus)
		wm_strv_push_owned(v, n, wm_xasprintf("--cpus-per-task=%u", r->cpus));
	if (r && r->memory)
		wm_strv_push_owned(
			v, n,
			wm_xasprintf("--mem=%lluM",
				     (unsigned long long)((r->memory + (1 << 20) - 1) >> 20)));
	if (r && r->gpus)
		wm_strv_push_owned(v, n, wm_xasprintf("--gres=gpu:%u", r->gpus));
	if (r && r->time_ms)
		wm_strv_push_owned(
			v, n,
			wm_xasprintf("--time=%llu",
				     (unsigned long long)((r->time_ms + 59999) / 60000)));
	for (size_t i = 0; cfg->extra && cfg->extra[i]; i++)
		wm_strv_push(v, n, cfg->extra[i]);
}

int wm_slurm_submit(const struct wm_exec_slurm_config *cfg, const struct wm_exec_request *rq,
		    const char *name, unsigned long *id, struct wm_error **err)
{
	const char *task = cfg->wf->tasks[rq->task].id;
	wm_autofree char *text = script_text(cfg, rq);
	wm_autofree char *rel =
		wm_xasprintf("logs/%s.%s.%u.sbatch", task, kind_name(rq->kind), rq->attempt);
	wm_autofree char *script = wm_xasprintf("%s/%s", cfg->run_dir, rel);
	struct wm_buf out = WM_BUF_INIT;
	char **argv = NULL;
	size_t n = 0;
	int status, rc;
	char *end;

	if (wm_rundir_write_file(cfg->run_dir, rel, text, strlen(text), err) < 0)
		return -1;
	wm_strv_push(&argv, &n, "sbatch");
	wm_strv_push(&argv, &n, "--parsable");
	wm_strv_push_owned(&argv, &n, wm_xasprintf("--job-name=%s", name));
	wm_strv_push_owned(&argv, &n,
			   wm_xasprintf("--output=%s/logs/%s.%s.%u.slurm.out", cfg->run_dir, task,
					kind_name(rq->kind), rq->attempt));
	wm_strv_push_owned(&argv, &n, wm_xasprintf("--chdir=%s", cfg->workspace));
	push_resources(&argv, &n, cfg, rq->task);
	wm_strv_push(&argv, &n, script);
	rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, err);
	wm_strv_free(argv);
	if (rc == 0) {
		errno = 0;
		*id = strtoul(out.data ? out.data : "", &end, 10);
		if (errno || *id == 0 || (*end && *end != ';' && *end != '\n'))
			rc = wm_error_setx(err, WM_EXIT_FAILED, "sbatch printed no job id: %s",
					   out.data ? out.data : "");
	}
	wm_buf_release(&out);
	return rc < 0 ? wm_error_wrap(err, "submit task '%s' to Slurm", task) : 0;
}

/* ---- the queue ---- */

static bool unknown_job(const struct wm_error *e)
{
	return e && strstr(e->msg, "Invalid job id");
}

/* One "ID|STATE|RAW|" line of squeue -O; RAW is the wait status. */
static bool parse_queue_line(const char *l, struct wm_slurm_job *j)
{
	char state[32];
	const char *bar, *bar2;
	char *end;
	long raw = 0;

	memset(j, 0, sizeof(*j));
	j->id = strtoul(l, &end, 10);
	if (end == l || *end != '|')
		return false;
	bar = end + 1;
	bar2 = strchr(bar, '|');
	if (!bar2 || bar2 == bar || (size_t)(bar2 - bar) >= sizeof(state))
		return false;
	snprintf(state, sizeof(state), "%.*s", (int)(bar2 - bar), bar);
	raw = strtol(bar2 + 1, NULL, 10);
	j->live = wm_slurm_state_live(state);
	snprintf(j->end.state, sizeof(j->end.state), "%s", state);
	j->end.exit_code = (raw >> 8) & 0xff;
	j->end.signal = raw & 0x7f;
	return true;
}

int wm_slurm_squeue(const unsigned long *ids, size_t n, struct wm_slurm_queue *q,
		    struct wm_error **err)
{
	struct wm_buf list = WM_BUF_INIT, out = WM_BUF_INIT;
	struct wm_error *e = NULL;
	char *argv[] = { (char *)"squeue", (char *)"-h", (char *)"-t",
			 (char *)"all",	   (char *)"-O", (char *)"JobID:|,State:|,exit_code:|",
			 (char *)"-j",	   NULL,	 NULL };
	int status, rc;

	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < n; i++)
		wm_buf_addf(&list, "%s%lu", i ? "," : "", ids[i]);
	argv[7] = list.data;
	rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, &e);
	wm_buf_release(&list);
	/* Every one of the ids unknown: squeue says so and fails. */
	if (rc < 0 && !unknown_job(e)) {
		wm_buf_release(&out);
		*err = e;
		return -1;
	}
	wm_error_free(e);
	q->jobs = wm_xcalloc(n + 1, sizeof(*q->jobs));
	for (char *l = out.data; l && *l && q->n < n;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (parse_queue_line(l, &q->jobs[q->n]))
			q->n++;
	wm_buf_release(&out);
	return 0;
}

const struct wm_slurm_job *wm_slurm_queue_find(const struct wm_slurm_queue *q, unsigned long id)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->jobs[i].id == id)
			return &q->jobs[i];
	return NULL;
}

void wm_slurm_queue_release(struct wm_slurm_queue *q)
{
	free(q->jobs);
	memset(q, 0, sizeof(*q));
}

/* ---- ends ---- */

static void parse_exit(const char *s, struct wm_slurm_end *end)
{
	end->exit_code = (int)strtol(s, NULL, 10);
	s = strchr(s, ':');
	end->signal = s ? (int)strtol(s + 1, NULL, 10) : 0;
}

/* "JobState=FAILED ... ExitCode=7:0" from scontrol -o. */
static int from_scontrol(unsigned long id, struct wm_slurm_end *end, struct wm_error **err)
{
	char num[32], *st, *ex;
	char *argv[] = {
		(char *)"scontrol", (char *)"-o", (char *)"show", (char *)"job", num, NULL
	};
	struct wm_buf out = WM_BUF_INIT;
	int status, rc;

	snprintf(num, sizeof(num), "%lu", id);
	rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, err);
	if (rc == 0) {
		st = strstr(out.data ? out.data : "", " JobState=");
		ex = strstr(out.data ? out.data : "", " ExitCode=");
		if (!st || !ex)
			rc = wm_error_setx(err, WM_EXIT_FAILED, "scontrol: no state for job %lu",
					   id);
		else {
			snprintf(end->state, sizeof(end->state), "%.*s",
				 (int)strcspn(st + 10, " \n"), st + 10);
			parse_exit(ex + 10, end);
		}
	}
	wm_buf_release(&out);
	return rc;
}

/* One "ID|NAME|STATE|A:B" line of sacct -c -P: does it name the job? */
static bool sacct_line_is(const char *l, unsigned long id, const char *name)
{
	const char *f1 = strchr(l, '|');

	if (!f1)
		return false;
	if (id)
		return strtoul(l, NULL, 10) == id;
	if (!name)
		return false;
	return strncmp(f1 + 1, name, strlen(name)) == 0 && f1[1 + strlen(name)] == '|';
}

/* The job's line in the job completion log (the last, if it ran twice),
 * by id, or else by name: sacct -c filters by id but not by name (with
 * jobcomp/filetxt it prints every job whatever --name says), so the lines
 * are matched here. 0 found, 1 not (yet) there, -1 with *err. */
static int from_sacct(unsigned long want_id, const char *name, unsigned long *id,
		      struct wm_slurm_end *end, struct wm_error **err)
{
	char num[32];
	char *argv[] = { (char *)"sacct",
			 (char *)"-c",
			 (char *)"-n",
			 (char *)"-P",
			 (char *)"-o",
			 (char *)"jobid,jobname,state,exitcode",
			 want_id ? (char *)"-j" : NULL,
			 num,
			 NULL };
	struct wm_buf out = WM_BUF_INIT;
	const char *last = NULL, *f2, *f3;
	int status, rc;

	snprintf(num, sizeof(num), "%lu", want_id);
	rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, err);
	for (char *l = out.data; rc == 0 && l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (sacct_line_is(l, want_id, name))
			last = l;
	if (rc == 0 &&
	    (!last || !(f2 = strchr(strchr(last, '|') + 1, '|')) || !(f3 = strchr(f2 + 1, '|'))))
		rc = 1; /* not in the completion log (yet) */
	else if (rc == 0) {
		if (id)
			*id = strtoul(last, NULL, 10);
		snprintf(end->state, sizeof(end->state), "%.*s", (int)(f3 - f2 - 1), f2 + 1);
		/* "CANCELLED by 0": the first word */
		end->state[strcspn(end->state, " ")] = '\0';
		parse_exit(f3 + 1, end);
	}
	wm_buf_release(&out);
	return rc;
}

int wm_slurm_ended(unsigned long id, struct wm_slurm_end *end, struct wm_error **err)
{
	struct wm_error *e = NULL;
	int rc;

	memset(end, 0, sizeof(*end));
	if (from_scontrol(id, end, &e) == 0)
		return 0;
	wm_error_free(e);
	rc = from_sacct(id, NULL, NULL, end, err);
	if (rc > 0)
		return wm_error_setx(err, WM_EXIT_FAILED, "Slurm has no record of job %lu yet", id);
	return rc;
}

/* States of a job that has not ended (squeue's long names). */
bool wm_slurm_state_live(const char *s)
{
	static const char *const live[] = { "PENDING",	  "RUNNING",	 "SUSPENDED",
					    "COMPLETING", "CONFIGURING", "REQUEUED",
					    "RESIZING",	  "SIGNALING",	 "STAGE_OUT" };

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (strcmp(s, live[i]) == 0)
			return true;
	return false;
}

/* One "ID STATE" line of squeue -o "%i %T". */
static bool parse_id_state(const char *l, unsigned long *id, char *state, size_t len)
{
	char *end;
	size_t n;

	*id = strtoul(l, &end, 10);
	if (end == l || *end != ' ')
		return false;
	n = strcspn(end + 1, " \n");
	if (n == 0 || n >= len)
		return false;
	snprintf(state, len, "%.*s", (int)n, end + 1);
	return true;
}

int wm_slurm_find(const char *name, unsigned long *id, struct wm_slurm_end *end,
		  struct wm_error **err)
{
	/* Every state: a job that ended moments ago is still in the
	 * controller's memory before it reaches the completion log. */
	char *argv[] = { (char *)"squeue", (char *)"-h", (char *)"-t",
			 (char *)"all",	   (char *)"-o", (char *)"%i %T",
			 (char *)"--name", (char *)name, NULL };
	struct wm_buf out = WM_BUF_INIT;
	char state[32] = "";
	char *last = NULL;
	int status, rc;

	memset(end, 0, sizeof(*end));
	rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, err);
	for (char *l = out.data; rc == 0 && l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		last = l; /* the newest job of that name */
	if (last && parse_id_state(last, id, state, sizeof(state))) {
		wm_buf_release(&out);
		if (wm_slurm_state_live(state))
			return 1;
		return wm_slurm_ended(*id, end, err) < 0 ? -1 : 2;
	}
	wm_buf_release(&out);
	if (rc < 0)
		return -1;
	rc = from_sacct(0, name, id, end, err);
	if (rc < 0)
		return -1;
	return rc == 0 ? 2 : 0;
}

int wm_slurm_run_jobs(const char *run_id, size_t *live, struct wm_error **err)
{
	char *argv[] = { (char *)"squeue", (char *)"-h", (char *)"--me",
			 (char *)"-o",	   (char *)"%j", NULL };
	wm_autofree char *prefix = wm_xasprintf("wm-%s-", run_id);
	struct wm_buf out = WM_BUF_INIT;
	int status, rc = wm_subproc_run(argv, CALL_TIMEOUT_MS, &out, &status, err);

	*live = 0;
	for (char *l = out.data; rc == 0 && l && *l;
	     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		*live += strncmp(l, prefix, strlen(prefix)) == 0;
	wm_buf_release(&out);
	return rc;
}

int wm_slurm_cancel(unsigned long id, int sig, struct wm_error **err)
{
	char num[32];
	char *term[] = { (char *)"scancel", (char *)"--full", (char *)"--signal=TERM", num, NULL };
	char *kill9[] = { (char *)"scancel", num, NULL };
	struct wm_buf out = WM_BUF_INIT;
	int status, rc;

	snprintf(num, sizeof(num), "%lu", id);
	rc = wm_subproc_run(sig == SIGKILL ? kill9 : term, CALL_TIMEOUT_MS, &out, &status, err);
	wm_buf_release(&out);
	return rc;
}

/* ---- what an ending means ---- */

bool wm_slurm_log_says_oom(const char *log_path)
{
	char buf[65536 + 1];
	int fd = open(log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return false;
	size = lseek(fd, 0, SEEK_END);
	if (size > 65536)
		lseek(fd, size - 65536, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, "Exceeded job memory limit") || strstr(buf, "oom-kill event");
}

void wm_slurm_map_end(const struct wm_slurm_end *end, bool ours, enum wm_limit why,
		      struct wm_exec_result *res)
{
	struct wm_sandbox_result *r = &res->r;
	const char *s = end->state;

	r->denied = wm_xcalloc(1, sizeof(*r->denied));
	r->exit_code = end->exit_code;
	r->status = end->exit_code;
	if (strcmp(s, "TIMEOUT") == 0 || strcmp(s, "DEADLINE") == 0) {
		r->limit = WM_LIMIT_TIMEOUT;
		r->exit_code = -1, r->signal = SIGKILL, r->status = 128 + SIGKILL;
		res->reason = wm_xasprintf("Slurm ended it: %s (the job's time limit)", s);
	} else if (strcmp(s, "OUT_OF_MEMORY") == 0) {
		r->limit = WM_LIMIT_MEMORY;
		r->exit_code = -1, r->signal = SIGKILL, r->status = 128 + SIGKILL;
		res->reason = wm_xstrdup("Slurm ended it: OUT_OF_MEMORY (the job's memory)");
	} else if (strcmp(s, "NODE_FAIL") == 0 || strcmp(s, "BOOT_FAIL") == 0 ||
		   strcmp(s, "PREEMPTED") == 0) {
		res->free_retry = true;
		r->exit_code = -1, r->signal = SIGKILL, r->status = 128 + SIGKILL;
		res->reason = wm_xasprintf("Slurm lost it: %s", s);
	} else if (strcmp(s, "CANCELLED") == 0) {
		r->exit_code = -1, r->signal = ours ? SIGTERM : SIGKILL;
		r->status = 128 + r->signal;
		r->limit = ours ? why : WM_LIMIT_NONE;
		if (!ours)
			res->reason = wm_xstrdup("cancelled in Slurm, not by wm");
	} else if (end->exit_code == NODE_BLIND) {
		r->status = WM_SANDBOX_SETUP_FAILED;
		r->exit_code = -1;
		r->setup_error = wm_xstrdup("the node cannot see the run directory or the "
					    "workspace: both must be on a filesystem every node "
					    "shares (the job's .slurm.out log says which)");
	} else if (strcmp(s, "COMPLETED") != 0 && strcmp(s, "FAILED") != 0) {
		r->exit_code = -1, r->status = WM_SANDBOX_SETUP_FAILED;
		res->reason = wm_xasprintf("Slurm ended it: %s", s);
	} else if (end->signal) {
		r->exit_code = -1, r->signal = end->signal, r->status = 128 + end->signal;
	}
}
