/*
 * idmap.h - task id -> task index, an open-addressing hash table.
 *
 * Lifecycle: wm_idmap_new(expected) -> wm_idmap_put/get -> wm_idmap_free
 * (accepts NULL). Keys are borrowed: they must outlive the map (the
 * workflow's task ids do). Lookups and inserts are O(1) on average, so
 * planning 10,000 tasks stays linear.
 */
#ifndef WM_WORKFLOW_IDMAP_H
#define WM_WORKFLOW_IDMAP_H

#include <stddef.h>

struct wm_idmap;

struct wm_idmap *wm_idmap_new(size_t expected);
void wm_idmap_free(struct wm_idmap *m);
/* Adds key -> index; returns -1 when added, else the index already there. */
long wm_idmap_put(struct wm_idmap *m, const char *key, size_t index);
/* The index of key, or -1. */
long wm_idmap_get(const struct wm_idmap *m, const char *key);

#endif
