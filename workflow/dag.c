/*
 * dag.c - dependency resolution, cycle detection, topological order and
 * critical-path lengths. Everything is iterative (Kahn's algorithm with a
 * min-heap, explicit walks), so chain depth costs no stack.
 */
#include "workflow/dag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/idmap.h"

void wm_dag_free(struct wm_dag *g)
{
	if (!g)
		return;
	free(g->dep_off);
	free(g->dep);
	free(g->rdep_off);
	free(g->rdep);
	free(g->order);
	free(g->chain);
	free(g);
}

/* Hints cost a pass over every id; past this many unknown ids (a renamed
 * task in a huge generated workflow) they stop, so errors stay fast. */
#define MAX_HINTS 64

static void report_unknown(const struct wm_workflow *wf, struct wm_diags *d, const char *dep,
			   struct wm_loc loc, const char **ids, size_t *n_hints)
{
	const char *hint = NULL;

	if (*n_hints < MAX_HINTS) {
		hint = wm_suggest(dep, ids, wf->n_tasks);
		(*n_hints)++;
	}

	wm_diags_error(d, wf->path, loc.line, loc.col, "unknown dependency `%s`%s%s%s", dep,
		       hint ? " (did you mean `" : "", hint ? hint : "", hint ? "`?)" : "");
}

/* Fills dep_off/dep: resolved ids, unknown and self references reported. */
static void resolve(const struct wm_workflow *wf, struct wm_dag *g, struct wm_diags *d)
{
	struct wm_idmap *map = wm_idmap_new(wf->n_tasks);
	size_t *stamp = wm_xcalloc(wf->n_tasks + 1, sizeof(*stamp));
	const char **ids = wm_xcalloc(wf->n_tasks + 1, sizeof(*ids));
	size_t n_dep = 0, alloc = 0, n_hints = 0;

	for (size_t i = 0; i < wf->n_tasks; i++) {
		ids[i] = wf->tasks[i].id;
		wm_idmap_put(map, wf->tasks[i].id, i);
	}
	g->dep_off = wm_xcalloc(wf->n_tasks + 1, sizeof(*g->dep_off));
	for (size_t i = 0; i < wf->n_tasks; i++) {
		const struct wm_task *t = &wf->tasks[i];

		for (size_t k = 0; t->depends && t->depends[k]; k++) {
			long j = wm_idmap_get(map, t->depends[k]);
			struct wm_loc loc = t->depends_loc[k];

			if (j < 0) {
				report_unknown(wf, d, t->depends[k], loc, ids, &n_hints);
			} else if ((size_t)j == i) {
				wm_diags_error(d, wf->path, loc.line, loc.col,
					       "task `%s` depends on itself", t->id);
			} else if (stamp[j] == i + 1) {
				wm_diags_warn(d, wf->path, loc.line, loc.col,
					      "dependency `%s` is listed twice", t->depends[k]);
			} else {
				stamp[j] = i + 1;
				WM_GROW(g->dep, alloc, n_dep + 1);
				g->dep[n_dep++] = (size_t)j;
			}
		}
		g->dep_off[i + 1] = n_dep;
	}
	wm_idmap_free(map);
	free(stamp);
	free(ids);
}

static void build_reverse(struct wm_dag *g)
{
	size_t *fill = wm_xcalloc(g->n + 1, sizeof(*fill));

	g->rdep_off = wm_xcalloc(g->n + 1, sizeof(*g->rdep_off));
	g->rdep = wm_xcalloc(g->dep_off[g->n] + 1, sizeof(*g->rdep));
	for (size_t e = 0; e < g->dep_off[g->n]; e++)
		g->rdep_off[g->dep[e] + 1]++;
	for (size_t i = 0; i < g->n; i++)
		g->rdep_off[i + 1] += g->rdep_off[i];
	/* Visiting dependents in index order keeps each list in file order. */
	for (size_t i = 0; i < g->n; i++)
		for (size_t e = g->dep_off[i]; e < g->dep_off[i + 1]; e++) {
			size_t j = g->dep[e];
			g->rdep[g->rdep_off[j] + fill[j]++] = i;
		}
	free(fill);
}

/* A binary min-heap of task indices: ready tasks leave in file order. */
struct heap {
	size_t *v, n;
};

static void heap_push(struct heap *h, size_t x)
{
	size_t i = h->n++;

	while (i > 0 && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0], x = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= x)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
	return top;
}

/* Kahn's algorithm; returns how many tasks got an order (n when acyclic). */
static size_t topo_sort(struct wm_dag *g, bool *done)
{
	size_t *indeg = wm_xcalloc(g->n + 1, sizeof(*indeg));
	struct heap h = { wm_xcalloc(g->n + 1, sizeof(size_t)), 0 };
	size_t k = 0;

	g->order = wm_xcalloc(g->n + 1, sizeof(*g->order));
	for (size_t i = 0; i < g->n; i++) {
		indeg[i] = wm_dag_n_deps(g, i);
		if (indeg[i] == 0)
			heap_push(&h, i);
	}
	while (h.n) {
		size_t v = heap_pop(&h);
		const size_t *r = wm_dag_dependents(g, v);

		done[v] = true;
		g->order[k++] = v;
		for (size_t e = 0; e < wm_dag_n_dependents(g, v); e++)
			if (--indeg[r[e]] == 0)
				heap_push(&h, r[e]);
	}
	free(indeg);
	free(h.v);
	return k;
}

/* The place where task `from` names task `to` in its depends. */
static struct wm_loc edge_loc(const struct wm_workflow *wf, size_t from, size_t to)
{
	const struct wm_task *t = &wf->tasks[from];

	for (size_t k = 0; t->depends && t->depends[k]; k++)
		if (strcmp(t->depends[k], wf->tasks[to].id) == 0)
			return t->depends_loc[k];
	return t->loc;
}

static void report_cycle(const struct wm_workflow *wf, struct wm_diags *d, const size_t *cyc,
			 size_t len)
{
	struct wm_buf b = WM_BUF_INIT;
	size_t first = 0;
	struct wm_loc loc;

	if (len == 0)
		return; /* a cycle has at least one task; nothing to report */
	/* Start at the task that comes first in the file, for stable output. */
	for (size_t k = 1; k < len; k++)
		if (cyc[k] < cyc[first])
			first = k;
	for (size_t k = 0; k <= len; k++)
		wm_buf_addf(&b, "%s%s", k ? " -> " : "", wf->tasks[cyc[(first + k) % len]].id);
	loc = edge_loc(wf, cyc[first], cyc[(first + 1) % len]);
	wm_diags_error(d, wf->path, loc.line, loc.col, "dependency cycle: %s", b.data);
	wm_buf_release(&b);
}

/* Every task left out of the order waits on another one left out: walking
 * such waits from each task must come back on itself, and each walk that
 * closes on its own path names one cycle. */
static void find_cycles(const struct wm_workflow *wf, const struct wm_dag *g, const bool *done,
			struct wm_diags *d)
{
	size_t *walk = wm_xcalloc(g->n + 1, sizeof(*walk));
	size_t *path = wm_xcalloc(g->n + 1, sizeof(*path));

	for (size_t s = 0; s < g->n; s++) {
		size_t v = s, len = 0;

		if (done[s] || walk[s])
			continue;
		while (!walk[v]) {
			const size_t *dp = wm_dag_deps(g, v);
			size_t e = 0;

			walk[v] = s + 1;
			path[len++] = v;
			while (done[dp[e]])
				e++; /* v is not done, so some dependency is not */
			v = dp[e];
		}
		if (walk[v] == s + 1) {
			size_t at = 0;
			while (path[at] != v)
				at++;
			report_cycle(wf, d, path + at, len - at);
		}
	}
	free(walk);
	free(path);
}

static void compute_chains(struct wm_dag *g)
{
	g->chain = wm_xcalloc(g->n + 1, sizeof(*g->chain));
	for (size_t k = g->n; k-- > 0;) {
		size_t v = g->order[k], best = 0;
		const size_t *r = wm_dag_dependents(g, v);

		for (size_t e = 0; e < wm_dag_n_dependents(g, v); e++)
			if (g->chain[r[e]] > best)
				best = g->chain[r[e]];
		g->chain[v] = best + 1;
	}
}

int wm_dag_build(const struct wm_workflow *wf, struct wm_dag **out, struct wm_diags *diags)
{
	struct wm_dag *g = wm_xcalloc(1, sizeof(*g));
	size_t errors = diags->n_errors;
	bool *done;

	*out = NULL;
	g->n = wf->n_tasks;
	resolve(wf, g, diags);
	build_reverse(g);
	done = wm_xcalloc(g->n + 1, sizeof(*done));
	if (topo_sort(g, done) < g->n)
		find_cycles(wf, g, done, diags);
	free(done);
	if (diags->n_errors > errors) {
		wm_dag_free(g);
		return -1;
	}
	compute_chains(g);
	*out = g;
	return 0;
}
