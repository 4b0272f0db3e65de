/*
 * select.c - part of a workflow: the tasks some tasks need (`wm run FILE
 * TASK...`) or the tasks that follow one (`--from TASK`), and the
 * workflow cut down to a set of tasks.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "workflow/dag.h"
#include "workflow/idmap.h"
#include "workflow/internal.h"
#include "workflow/workflow.h"

bool *wm_workflow_closure(const struct wm_workflow *wf, const size_t *roots, size_t n_roots,
			  bool dependents)
{
	const struct wm_dag *g = wf->dag;
	bool *in = wm_xcalloc(wf->n_tasks + 1, sizeof(*in));
	size_t *stack = wm_xcalloc(wf->n_tasks + 1, sizeof(*stack));
	size_t top = 0;

	for (size_t i = 0; i < n_roots; i++)
		if (roots[i] < wf->n_tasks && !in[roots[i]]) {
			in[roots[i]] = true;
			stack[top++] = roots[i];
		}
	while (top > 0) { /* each task is pushed once: the stack never overflows */
		size_t t = stack[--top];
		size_t n = dependents ? wm_dag_n_dependents(g, t) : wm_dag_n_deps(g, t);
		const size_t *next = dependents ? wm_dag_dependents(g, t) : wm_dag_deps(g, t);

		for (size_t k = 0; k < n; k++)
			if (!in[next[k]]) {
				in[next[k]] = true;
				stack[top++] = next[k];
			}
	}
	free(stack);
	return in;
}

int wm_workflow_keep_only(struct wm_workflow *wf, const bool *keep, struct wm_diags *diags)
{
	size_t out = 0;

	for (size_t i = 0; i < wf->n_tasks; i++) {
		if (!keep[i]) {
			wf_task_release(&wf->tasks[i]);
			continue;
		}
		if (out != i)
			wf->tasks[out] = wf->tasks[i];
		out++;
	}
	wf->n_tasks = out;
	wm_idmap_free(wf->index);
	wf->index = wm_idmap_new(out);
	for (size_t i = 0; i < out; i++)
		wm_idmap_put(wf->index, wf->tasks[i].id, i);
	wm_dag_free(wf->dag);
	wf->dag = NULL;
	/* Every task kept has all it depends on: the graph builds as before. */
	return wm_dag_build(wf, &wf->dag, diags);
}
