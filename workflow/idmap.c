#include "workflow/idmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct slot {
	const char *key; /* NULL: empty */
	size_t index;
};

struct wm_idmap {
	struct slot *slots;
	size_t cap; /* a power of two, at least twice the number of keys */
	size_t n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct wm_idmap *wm_idmap_new(size_t expected)
{
	struct wm_idmap *m = wm_xcalloc(1, sizeof(*m));

	m->cap = 16;
	while (m->cap < expected * 2)
		m->cap *= 2;
	m->slots = wm_xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

void wm_idmap_free(struct wm_idmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *find(const struct wm_idmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void grow(struct wm_idmap *m)
{
	struct slot *old = m->slots;
	size_t old_cap = m->cap;

	m->cap *= 2;
	m->slots = wm_xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*find(m, old[i].key) = old[i];
	free(old);
}

long wm_idmap_put(struct wm_idmap *m, const char *key, size_t index)
{
	struct slot *s;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, key);
	if (s->key)
		return (long)s->index;
	s->key = key;
	s->index = index;
	m->n++;
	return -1;
}

long wm_idmap_get(const struct wm_idmap *m, const char *key)
{
	const struct slot *s = find(m, key);

	return s->key ? (long)s->index : -1;
}
