/*
 * cachekey.c - task cache keys, input globs, tree hashes and manifests
 * (cache.h). Nothing here writes: the store is cache.c.
 */
#include "state/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/outputs.h"
#include "state/safeio.h"

#define HASH_BYTES crypto_generichash_BYTES /* 32 */

static void to_hex(const unsigned char *bin, char out[WM_CACHE_HEX])
{
	sodium_bin2hex(out, WM_CACHE_HEX, bin, HASH_BYTES);
}

/* ---- parts and keys ---- */

static size_t part_pos(const struct wm_cache_parts *p, const char *name, bool *found)
{
	size_t lo = 0, hi = p->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->v[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void wm_cache_parts_set(struct wm_cache_parts *p, const char *name, const char *hash)
{
	bool found;
	size_t k = part_pos(p, name, &found);

	if (found) {
		free(p->v[k].hash);
		p->v[k].hash = wm_xstrdup(hash);
		return;
	}
	WM_GROW(p->v, p->alloc, p->n + 1);
	memmove(&p->v[k + 1], &p->v[k], (p->n - k) * sizeof(*p->v));
	p->v[k].name = wm_xstrdup(name);
	p->v[k].hash = wm_xstrdup(hash);
	p->n++;
}

const char *wm_cache_parts_get(const struct wm_cache_parts *p, const char *name)
{
	bool found;
	size_t k = part_pos(p, name, &found);

	return found ? p->v[k].hash : NULL;
}

void wm_cache_parts_release(struct wm_cache_parts *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].hash);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void wm_cache_key(const struct wm_cache_parts *p, char out[WM_CACHE_HEX])
{
	crypto_generichash_state st;
	unsigned char bin[HASH_BYTES];

	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)"wm-cache-v1", 12);
	/* Names and hashes hold no NUL: each ends with one, unambiguously. */
	for (size_t i = 0; i < p->n; i++) {
		crypto_generichash_update(&st, (const unsigned char *)p->v[i].name,
					  strlen(p->v[i].name) + 1);
		crypto_generichash_update(&st, (const unsigned char *)p->v[i].hash,
					  strlen(p->v[i].hash) + 1);
	}
	crypto_generichash_final(&st, bin, HASH_BYTES);
	to_hex(bin, out);
}

const char *wm_cache_parts_diff(const struct wm_cache_parts *now, const struct wm_cache_parts *then)
{
	size_t i = 0, j = 0;

	while (i < now->n || j < then->n) {
		int c = i == now->n    ? 1
			: j == then->n ? -1
				       : strcmp(now->v[i].name, then->v[j].name);

		if (c < 0)
			return now->v[i].name;
		if (c > 0)
			return then->v[j].name;
		if (strcmp(now->v[i].hash, then->v[j].hash) != 0)
			return now->v[i].name;
		i++;
		j++;
	}
	return NULL;
}

void wm_cache_hash_bytes(const void *data, size_t len, char out[WM_CACHE_HEX])
{
	unsigned char bin[HASH_BYTES];

	crypto_generichash(bin, HASH_BYTES, data, len, NULL, 0);
	to_hex(bin, out);
}

int wm_cache_hash_fd(int fd, const char *shown, char out[WM_CACHE_HEX], uint64_t *size,
		     struct wm_error **err)
{
	crypto_generichash_state st;
	unsigned char bin[HASH_BYTES];
	unsigned char buf[65536];
	uint64_t total = 0;

	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wm_error_set(err, errno, "read `%s`", shown);
		if (n == 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	crypto_generichash_final(&st, bin, HASH_BYTES);
	to_hex(bin, out);
	if (size)
		*size = total;
	return 0;
}

/* ---- globs ---- */

static bool match_from(const char *glob, const char *path)
{
	const char *gs = strchr(glob, '/'), *ps;
	size_t gl = gs ? (size_t)(gs - glob) : strlen(glob);
	char comp[256];

	if (gl == 2 && strncmp(glob, "**", 2) == 0) {
		const char *rest = gs ? gs + 1 : "";

		if (!*rest)
			return true;
		/* None, one, or more directories. */
		for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
			if (match_from(rest, p))
				return true;
		return false;
	}
	ps = strchr(path, '/');
	if (gl >= sizeof(comp) || !*path)
		return false;
	memcpy(comp, glob, gl);
	comp[gl] = '\0';
	{
		size_t pl = ps ? (size_t)(ps - path) : strlen(path);
		wm_autofree char *pc = wm_xstrndup(path, pl);

		if (fnmatch(comp, pc, FNM_PERIOD) != 0)
			return false;
	}
	if (!gs || !ps)
		return !gs && !ps;
	return match_from(gs + 1, ps + 1);
}

bool wm_cache_glob_match(const char *glob, const char *path)
{
	return match_from(glob, path);
}

/* The directory the literal leading components of a glob name ("src" for
 * `src/ ** / *.c`, spaces aside), or "." when its first one has a wildcard. */
static char *glob_root(const char *glob)
{
	size_t end = 0; /* the length of the literal directory prefix */

	for (const char *p = glob, *slash; (slash = strchr(p, '/')); p = slash + 1) {
		if (strcspn(p, "*?[") < (size_t)(slash - p))
			break;
		end = (size_t)(slash - glob);
	}
	return end ? wm_xstrndup(glob, end) : wm_xstrdup(".");
}

struct globbing {
	char *const *globs;
	const char *root; /* what the walked paths are below ("." none) */
	bool *hit;
	char **files;
	size_t n;
};

static int glob_one(const struct wm_tree_entry *e, void *ctx, struct wm_error **err)
{
	struct globbing *g = ctx;
	wm_autofree char *path = NULL;

	(void)err;
	if (!S_ISREG(e->st.st_mode))
		return 0;
	path = strcmp(g->root, ".") == 0 ? wm_xstrdup(e->path)
					 : wm_xasprintf("%s/%s", g->root, e->path);
	for (size_t i = 0; g->globs[i]; i++)
		if (wm_cache_glob_match(g->globs[i], path)) {
			g->hit[i] = true;
			if (!wm_strv_contains(g->files, path))
				wm_strv_push(&g->files, &g->n, path);
		}
	return 0;
}

/* A glob without wildcards: the regular file it names, if there is one
 * (reached without following a link, as a walk would). */
static void literal(int ws, const char *path, struct globbing *g, size_t i)
{
	struct wm_error *e = NULL;
	int fd = wm_safe_open(ws, ".", path, O_RDONLY, 0, &e);

	wm_error_free(e);
	if (fd < 0)
		return;
	close(fd);
	g->hit[i] = true;
	if (!wm_strv_contains(g->files, path))
		wm_strv_push(&g->files, &g->n, path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wm_cache_glob(int ws, const char *shown, char *const *globs, char ***files, char ***unmatched,
		  struct wm_error **err)
{
	size_t n = wm_strv_len(globs), n_un = 0;
	wm_autofree bool *hit = wm_xcalloc(n + 1, sizeof(*hit));
	struct globbing g = { .globs = globs, .hit = hit };
	wm_autostrv char **roots = NULL;
	size_t n_roots = 0;

	*files = NULL;
	for (size_t i = 0; i < n; i++) {
		wm_autofree char *r = NULL;

		/* A plain path is looked at, not searched for. */
		if (!strpbrk(globs[i], "*?[")) {
			literal(ws, globs[i], &g, i);
			continue;
		}
		r = glob_root(globs[i]);
		if (!wm_strv_contains(roots, r))
			wm_strv_push(&roots, &n_roots, r);
	}
	for (size_t i = 0; i < n_roots; i++) {
		struct wm_error *e = NULL;

		g.root = roots[i];
		if (wm_tree_walk(ws, shown, roots[i], glob_one, &g, &e) < 0) {
			if (e->errnum != ENOENT && e->errnum != ENOTDIR) {
				wm_strv_free(g.files);
				wm_err_pass(err, e);
				return -1;
			}
			wm_error_free(e);
		}
	}
	if (g.n)
		qsort(g.files, g.n, sizeof(*g.files), cmp_str);
	*files = g.files ? g.files : wm_xcalloc(1, sizeof(char *));
	if (unmatched) {
		*unmatched = NULL;
		for (size_t i = 0; i < n; i++)
			if (!hit[i])
				wm_strv_push(unmatched, &n_un, globs[i]);
	}
	return 0;
}

/* ---- file lists, tree hashes, manifests ---- */

void wm_cache_manifest_release(struct wm_cache_manifest *m)
{
	free(m->key);
	free(m->run_id);
	free(m->task_id);
	wm_cache_parts_release(&m->parts);
	for (size_t i = 0; i < m->n_files; i++) {
		free(m->files[i].path);
		free(m->files[i].link);
	}
	free(m->files);
	memset(m, 0, sizeof(*m));
}

static struct wm_cache_file *add_file(struct wm_cache_manifest *m, const char *path, char type)
{
	struct wm_cache_file *f;

	WM_GROW(m->files, m->alloc_files, m->n_files + 1);
	f = &m->files[m->n_files++];
	memset(f, 0, sizeof(*f));
	f->path = wm_xstrdup(path);
	f->type = type;
	return f;
}

struct listing {
	struct wm_cache_manifest *m;
	int dirfd;
	const char *shown, *rel;
};

static int list_one(const struct wm_tree_entry *e, void *ctx, struct wm_error **err)
{
	struct listing *l = ctx;
	struct wm_cache_file *f;
	wm_autofree char *rel = NULL;
	wm_autoclose int fd = -1;

	if (e->error)
		return wm_error_set(err, e->error, "`%s/%s/%s` cannot be read", l->shown, l->rel,
				    e->path);
	if (S_ISLNK(e->st.st_mode)) {
		add_file(l->m, e->path, 'l')->link = wm_xstrdup(e->link ? e->link : "");
		return 0;
	}
	if (S_ISDIR(e->st.st_mode)) {
		add_file(l->m, e->path, 'd')->mode = e->st.st_mode & 0777;
		return 0;
	}
	if (!S_ISREG(e->st.st_mode))
		return wm_error_setx(err, WM_EXIT_FAILED, "`%s/%s/%s` is a %s: it cannot be cached",
				     l->shown, l->rel, e->path, wm_file_type_name(e->st.st_mode));
	rel = strcmp(l->rel, ".") == 0 ? wm_xstrdup(e->path)
				       : wm_xasprintf("%s/%s", l->rel, e->path);
	fd = wm_safe_open(l->dirfd, l->shown, rel, O_RDONLY, 0, err);
	if (fd < 0)
		return -1;
	f = add_file(l->m, e->path, 'f');
	f->mode = e->st.st_mode & 0777;
	if (wm_cache_hash_fd(fd, rel, f->hash, &f->size, err) < 0)
		return -1;
	l->m->size += f->size;
	return 0;
}

int wm_cache_list_tree(int dirfd, const char *shown, const char *rel, struct wm_cache_manifest *m,
		       struct wm_error **err)
{
	struct listing l = { m, dirfd, shown, rel };

	return wm_tree_walk(dirfd, shown, rel, list_one, &l, err);
}

void wm_cache_tree_hash(const struct wm_cache_file *files, size_t n, char out[WM_CACHE_HEX])
{
	crypto_generichash_state st;
	unsigned char bin[HASH_BYTES];
	struct wm_buf b = WM_BUF_INIT;

	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	for (size_t i = 0; i < n; i++) {
		const struct wm_cache_file *f = &files[i];

		wm_buf_setlen(&b, 0);
		/* Paths hold no NUL; a line ends with one. Only the executable
		 * bit counts: entries are kept read-only. */
		if (f->type == 'f')
			wm_buf_addf(&b, "f %s%c%c%s", f->path, 0, f->mode & 0100 ? 'x' : '-',
				    f->hash);
		else if (f->type == 'l')
			wm_buf_addf(&b, "l %s%c%s", f->path, 0, f->link);
		else
			wm_buf_addf(&b, "d %s", f->path);
		crypto_generichash_update(&st, (const unsigned char *)b.data, b.len + 1);
	}
	wm_buf_release(&b);
	crypto_generichash_final(&st, bin, HASH_BYTES);
	to_hex(bin, out);
}

static bool hex_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n == WM_CACHE_HEX - 1 && strspn(s, "0123456789abcdef") == n;
}

bool wm_cache_key_valid(const char *key)
{
	return hex_ok(key);
}

json_t *wm_cache_manifest_to_json(const struct wm_cache_manifest *m)
{
	json_t *parts = json_object(), *files = json_array();

	for (size_t i = 0; i < m->parts.n; i++)
		json_object_set_new(parts, m->parts.v[i].name, json_string(m->parts.v[i].hash));
	for (size_t i = 0; i < m->n_files; i++) {
		const struct wm_cache_file *f = &m->files[i];
		json_t *o = json_pack("{s:s, s:s#}", "path", f->path, "type", &f->type, 1);

		if (f->type == 'l')
			json_object_set_new(o, "link", json_string(f->link));
		else
			json_object_set_new(o, "mode", json_integer(f->mode));
		if (f->type == 'f') {
			json_object_set_new(o, "size", json_integer((json_int_t)f->size));
			json_object_set_new(o, "hash", json_string(f->hash));
		}
		json_array_append_new(files, o); /* steals */
	}
	/* "o" steals parts and files. */
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I}", "format", "wm-cache",
			 "key", m->key, "run", m->run_id, "task", m->task_id, "parts", parts,
			 "files", files, "size", (json_int_t)m->size, "created_ms",
			 (json_int_t)m->created_ms, "used_ms", (json_int_t)m->used_ms);
}

static int file_from_json(json_t *o, struct wm_cache_manifest *m, struct wm_error **err)
{
	const char *path = NULL, *type = NULL, *hash = NULL, *link = NULL;
	json_int_t mode = 0, size = 0;
	struct wm_cache_file *f;

	if (json_unpack(o, "{s:s, s:s, s?s, s?I, s?I, s?s}", "path", &path, "type", &type, "hash",
			&hash, "mode", &mode, "size", &size, "link", &link) < 0 ||
	    !wm_safe_rel_ok(path) || strlen(type) != 1 || !strchr("dfl", *type) || mode < 0 ||
	    mode > 0777 || size < 0 || (*type == 'f' && !hex_ok(hash)) || (*type == 'l' && !link))
		return wm_error_setx(err, WM_EXIT_FAILED, "manifest: a bad entry in \"files\"");
	f = add_file(m, path, *type);
	f->mode = (mode_t)mode;
	f->size = (uint64_t)size;
	if (hash)
		memcpy(f->hash, hash, WM_CACHE_HEX);
	if (link)
		f->link = wm_xstrdup(link);
	return 0;
}

int wm_cache_manifest_from_json(json_t *j, struct wm_cache_manifest *m, struct wm_error **err)
{
	const char *key, *run, *task, *name;
	json_t *parts, *files, *v;
	json_int_t size, created, used;
	size_t i;

	wm_cache_manifest_release(m);
	if (json_unpack(j, "{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I}", "key", &key, "run", &run,
			"task", &task, "parts", &parts, "files", &files, "size", &size,
			"created_ms", &created, "used_ms", &used) < 0 ||
	    !hex_ok(key) || !json_is_object(parts) || !json_is_array(files) || size < 0)
		return wm_error_setx(err, WM_EXIT_FAILED, "manifest: missing or bad fields");
	m->key = wm_xstrdup(key);
	m->run_id = wm_xstrdup(run);
	m->task_id = wm_xstrdup(task);
	m->size = (uint64_t)size;
	m->created_ms = created;
	m->used_ms = used;
	json_object_foreach(parts, name, v)
	{
		if (!json_is_string(v))
			return wm_error_setx(err, WM_EXIT_FAILED,
					     "manifest: part `%s` is not a string", name);
		wm_cache_parts_set(&m->parts, name, json_string_value(v));
	}
	json_array_foreach(files, i, v) if (file_from_json(v, m, err) < 0) return -1;
	return 0;
}
