#include "orchestrator/runexec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/exec_mux.h"
#include "orchestrator/libexec.h"

const char *wm_task_executor(const struct wm_prepared *p, const struct wm_run_options *o,
			     size_t task)
{
	enum wm_executor_kind k = p->wf->tasks[task].executor;

	if (k == WM_EXECUTOR_INHERIT && o->executor)
		return o->executor;
	if (k == WM_EXECUTOR_INHERIT)
		k = p->wf->executor;
	return k == WM_EXECUTOR_SLURM ? "slurm" : "local";
}

/* What each task asks of the cluster. Its wall time defaults to its
 * timeout (the node's wm enforces that) plus the kill grace and a minute
 * of margin: Slurm's own limit is only the backstop. */
static struct wm_slurm_resources *resources(const struct wm_prepared *p)
{
	struct wm_slurm_resources *res = wm_xcalloc(p->wf->n_tasks + 1, sizeof(*res));

	for (size_t i = 0; i < p->wf->n_tasks; i++) {
		const struct wm_task *wt = &p->wf->tasks[i];
		uint64_t timeout =
			wt->timeout_ms ? wt->timeout_ms : p->policy[i]->limits.timeout_ms;

		res[i].cpus = wt->cpus;
		res[i].gpus = wt->gpus;
		res[i].memory = wt->memory;
		if (wt->time_ms)
			res[i].time_ms = wt->time_ms;
		else if (timeout)
			res[i].time_ms = timeout + WM_EXEC_KILL_GRACE_MS + 60000;
	}
	return res;
}

static int build_slurm(struct wm_runexec *re, const struct wm_prepared *p,
		       const struct wm_run_target *t, struct wm_error **err)
{
	struct wm_exec_slurm_config *c = &re->slurm;

	re->wm_path = wm_self_path(err);
	if (!re->wm_path)
		return -1;
	c->wf = p->wf;
	c->wm_path = re->wm_path;
	c->state_dir = t->state_dir;
	c->run_id = t->run_id;
	c->run_dir = t->run_dir;
	c->workspace = p->workspace;
	c->policy_hash = p->policy_hash;
	re->res = resources(p);
	c->res = re->res;
	c->partition = p->wf->slurm.partition;
	c->account = p->wf->slurm.account;
	c->qos = p->wf->slurm.qos;
	c->extra = p->wf->slurm.extra;
	c->max_queued = p->wf->slurm.max_queued;
	re->slurm_exec = wm_exec_slurm_new(c);
	return 0;
}

int wm_runexec_build(struct wm_runexec *re, const struct wm_prepared *p,
		     const struct wm_run_options *o, const struct wm_run_target *t,
		     char *const *mask, struct wm_error **err)
{
	size_t n = p->wf->n_tasks, n_slurm = 0;
	wm_autofree struct wm_executor **by_task = wm_xcalloc(n + 1, sizeof(*by_task));
	struct wm_executor *local = NULL;

	memset(re, 0, sizeof(*re));
	re->local.wf = p->wf;
	re->local.dag = p->wf->dag;
	re->local.profiles = p->profile;
	re->local.paths.run_id = t->run_id;
	re->local.paths.run_dir = t->run_dir;
	re->local.paths.workspace = p->workspace;
	re->local.paths.cli_env = o->cli_env;
	re->local.paths.secrets = o->secrets;
	re->local.paths.mask = mask;
	for (size_t i = 0; i < n; i++)
		n_slurm += strcmp(wm_task_executor(p, o, i), "slurm") == 0;
	if (n_slurm && build_slurm(re, p, t, err) < 0)
		return -1;
	if (n_slurm < n || n == 0)
		local = wm_exec_local_new(&re->local);
	if (!n_slurm || n_slurm == n) {
		re->exec = local ? local : re->slurm_exec;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		by_task[i] =
			strcmp(wm_task_executor(p, o, i), "slurm") == 0 ? re->slurm_exec : local;
	re->exec = wm_exec_mux_new(by_task, n);
	return 0;
}

void wm_runexec_release(struct wm_runexec *re)
{
	if (re->exec)
		re->exec->ops->free(re->exec);
	free(re->wm_path);
	free(re->res);
	memset(re, 0, sizeof(*re));
}
