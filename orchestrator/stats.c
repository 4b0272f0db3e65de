#include "orchestrator/stats.h"

#include <stdlib.h>

#include "common/xalloc.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint64_t wm_percentile(uint64_t *v, size_t n, unsigned pct)
{
	size_t rank;

	if (!n)
		return 0;
	if (pct < 1)
		pct = 1;
	if (pct > 100)
		pct = 100;
	qsort(v, n, sizeof(*v), cmp_u64);
	rank = (pct * n + 99) / 100; /* ceil(pct/100 * n), 1-based */
	return v[rank ? rank - 1 : 0];
}

uint64_t wm_critical_path(const struct wm_dag *g, const uint64_t *duration, size_t **path,
			  size_t *n_path)
{
	uint64_t *finish = wm_xcalloc(g->n + 1, sizeof(*finish));
	size_t *via = wm_xcalloc(g->n + 1, sizeof(*via));
	size_t end = 0, len = 0;
	uint64_t best = 0;

	*path = NULL;
	*n_path = 0;
	if (!g->n) {
		free(finish);
		free(via);
		return 0;
	}
	/* In topological order: the heaviest chain ending at each task. */
	for (size_t k = 0; k < g->n; k++) {
		size_t i = g->order[k];
		uint64_t before = 0;

		via[i] = (size_t)-1;
		for (size_t d = 0; d < wm_dag_n_deps(g, i); d++) {
			size_t dep = wm_dag_deps(g, i)[d];
			if (via[i] == (size_t)-1 || finish[dep] > before) {
				before = finish[dep];
				via[i] = dep;
			}
		}
		finish[i] = before + duration[i];
		if (finish[i] > best || k == 0) {
			best = finish[i];
			end = i;
		}
	}
	for (size_t i = end; i != (size_t)-1; i = via[i])
		len++;
	*path = wm_xcalloc(len, sizeof(**path));
	*n_path = len;
	for (size_t i = end; i != (size_t)-1; i = via[i])
		(*path)[--len] = i;
	free(finish);
	free(via);
	return best;
}
