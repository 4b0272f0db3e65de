#include "orchestrator/readyq.h"

#include <stdlib.h>

#include "common/xalloc.h"

void wm_readyq_init(struct wm_readyq *q, const struct wm_workflow *wf, const struct wm_dag *dag)
{
	q->wf = wf;
	q->dag = dag;
	q->v = wm_xcalloc(dag->n ? dag->n : 1, sizeof(*q->v));
	q->n = 0;
}

void wm_readyq_release(struct wm_readyq *q)
{
	free(q->v);
	q->v = NULL;
	q->n = 0;
}

static bool before(const struct wm_readyq *q, size_t a, size_t b)
{
	const struct wm_task *ta = &q->wf->tasks[a], *tb = &q->wf->tasks[b];
	size_t ra = q->dag->chain[a], rb = q->dag->chain[b];

	if (ta->priority != tb->priority)
		return ta->priority > tb->priority;
	if (ra != rb)
		return ra > rb;
	return a < b;
}

static void swap(size_t *v, size_t i, size_t j)
{
	size_t tmp = v[i];

	v[i] = v[j];
	v[j] = tmp;
}

void wm_readyq_push(struct wm_readyq *q, size_t task)
{
	size_t i = q->n++;

	q->v[i] = task;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(q, q->v[i], q->v[parent]))
			break;
		swap(q->v, i, parent);
		i = parent;
	}
}

size_t wm_readyq_pop(struct wm_readyq *q)
{
	size_t top = q->v[0], i = 0;

	q->v[0] = q->v[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best = i;

		if (l < q->n && before(q, q->v[l], q->v[best]))
			best = l;
		if (r < q->n && before(q, q->v[r], q->v[best]))
			best = r;
		if (best == i)
			break;
		swap(q->v, i, best);
		i = best;
	}
	return top;
}
