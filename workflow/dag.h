/*
 * dag.h - the task graph of a workflow: validation, order, critical path.
 *
 * wm_dag_build() resolves every task's `depends` against the task ids and
 * reports, into `diags` at the place of the offending id: unknown
 * dependencies (with a "did you mean"), a task depending on itself, and
 * every dependency cycle found (as "dependency cycle: a -> b -> a", where
 * "x -> y" reads "x depends on y"). A dependency listed twice is a warning.
 * It returns 0 and a new graph, or -1 (NULL *out) when any of these errors
 * exist. Nothing here recurses: 10,000-deep chains plan in linear time.
 *
 * Loading a workflow builds its graph once (wf->dag, owned by the workflow):
 * callers use that one. wm_dag_build() is public for workflows built by
 * hand and for tests. Tasks are named by their index in wf->tasks. The
 * graph borrows nothing: it may outlive the workflow. wm_dag_free() accepts
 * NULL.
 */
#ifndef WM_WORKFLOW_DAG_H
#define WM_WORKFLOW_DAG_H

#include <stddef.h>

#include "common/diag.h"
#include "workflow/workflow.h"

struct wm_dag {
	size_t n; /* number of tasks */
	/* Dependencies of task i: dep[dep_off[i] .. dep_off[i + 1]), in the
	 * order written, duplicates removed. */
	size_t *dep_off, *dep;
	/* Dependents of task i (tasks that list i): rdep[rdep_off[i] .. rdep_off[i + 1]),
	 * in file order. */
	size_t *rdep_off, *rdep;
	/* A topological order: every task after all its dependencies; among
	 * tasks ready at the same time, file order first. */
	size_t *order;
	/* Number of tasks on the longest chain from i to a task nothing depends
	 * on, counting i itself (>= 1): the scheduler starts long chains first. */
	size_t *chain;
};

int wm_dag_build(const struct wm_workflow *wf, struct wm_dag **out, struct wm_diags *diags);
void wm_dag_free(struct wm_dag *g);

static inline size_t wm_dag_n_deps(const struct wm_dag *g, size_t i)
{
	return g->dep_off[i + 1] - g->dep_off[i];
}

static inline const size_t *wm_dag_deps(const struct wm_dag *g, size_t i)
{
	return g->dep + g->dep_off[i];
}

static inline size_t wm_dag_n_dependents(const struct wm_dag *g, size_t i)
{
	return g->rdep_off[i + 1] - g->rdep_off[i];
}

static inline const size_t *wm_dag_dependents(const struct wm_dag *g, size_t i)
{
	return g->rdep + g->rdep_off[i];
}

#endif
