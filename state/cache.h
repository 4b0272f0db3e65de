/*
 * cache.h - the task cache: a task's outputs kept under a key that covers
 * everything the task could see, so that a later run with the same key
 * restores them instead of running it (README "Task cache").
 *
 * Keys (cachekey.c, pure but for reading the files it hashes). A key is
 * the BLAKE2b-256 (libsodium crypto_generichash) of a list of named parts,
 * each itself a hash: "definition" (the task's definition hash), "policy"
 * (the resolved policy's hash), "env" (values the run adds: front matter
 * and -e environment, secrets by the hash of their value), "dep:ID" (the
 * tree of what dependency ID left in $WM_OUT) and "input:PATH" (a
 * workspace file matched by `inputs:`; "inputs:GLOB" when a glob matches
 * nothing). Parts are kept sorted by name, so the order they are added in
 * does not matter; two lists that differ tell which part changed first
 * (wm_cache_parts_diff), which is how `wm plan --explain` says why.
 *
 * A tree's hash covers each entry's path and type, a file's content and
 * executable bit, a link's target; it is the same whether computed by
 * walking a directory or from an entry's manifest (what restoring the
 * entry would give), so a dependency restored from the cache hashes as
 * it did when it ran.
 *
 * The store (cache.c) lives in <state>/cache, which no sandbox sees:
 *   <key>/manifest.json   key, run, task, parts, files (path, size, hash,
 *                          mode or link), size, created_ms, used_ms
 *   <key>/files/...       the outputs, read-only
 *   .tmp.<key>.<pid>/     an entry being written; renamed to <key> when
 *                          complete, so a crash leaves only a temporary
 *                          directory, never looked up and removed once its
 *                          writer is gone (wm_cache_clean_temp).
 * An entry is verified (every file hashed again) before its files are
 * used; a mismatch is the caller's to report, and the entry is removed.
 * The entry's last use is the manifest's modification time, updated on
 * each hit without rewriting it; eviction removes the least recently used
 * entries until the whole is under the cap.
 *
 * Everything is opened relative to the cache directory's fd through
 * safeio.h: nothing in it is trusted. Functions return -1 with *err.
 */
#ifndef WM_STATE_CACHE_H
#define WM_STATE_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define WM_CACHE_DIR "cache"
/* A hash in hex: 32 bytes of BLAKE2b, and the NUL. */
#define WM_CACHE_HEX 65
/* The largest manifest read (a task with very many output files). */
#define WM_CACHE_MANIFEST_MAX (64UL << 20)

/* ---- keys (cachekey.c) ---- */

struct wm_cache_part {
	char *name; /* "definition", "policy", "env", "dep:ID", "input:PATH" */
	char *hash; /* hex */
};

struct wm_cache_parts {
	struct wm_cache_part *v; /* sorted by name, names unique */
	size_t n, alloc;
};

/* Adds (or replaces) a part; copies both strings. */
void wm_cache_parts_set(struct wm_cache_parts *p, const char *name, const char *hash);
const char *wm_cache_parts_get(const struct wm_cache_parts *p, const char *name);
void wm_cache_parts_release(struct wm_cache_parts *p);
/* The key of the parts, in hex. */
void wm_cache_key(const struct wm_cache_parts *p, char out[WM_CACHE_HEX]);
/* The first name (in order) whose part differs between `now` and
 * `then`, present in one only included; NULL when they are equal. */
const char *wm_cache_parts_diff(const struct wm_cache_parts *now,
				const struct wm_cache_parts *then);

/* The hash of bytes, in hex. */
void wm_cache_hash_bytes(const void *data, size_t len, char out[WM_CACHE_HEX]);
/* The hash of what fd holds from its current offset; *size its length
 * (may be NULL). */
int wm_cache_hash_fd(int fd, const char *shown, char out[WM_CACHE_HEX], uint64_t *size,
		     struct wm_error **err);

/* Does `path` (relative, '/'-separated) match `glob`? fnmatch(3) with
 * FNM_PATHNAME, where a `**` component matches any number of
 * directories (none included). */
bool wm_cache_glob_match(const char *glob, const char *path);
/* The regular files under directory fd `ws` matching any of `globs`,
 * sorted (a strv the caller frees; an empty one when none). Only the
 * directories a glob can reach are walked; links are not followed.
 * *unmatched (may be NULL) gets the globs that match nothing. */
int wm_cache_glob(int ws, const char *shown, char *const *globs, char ***files, char ***unmatched,
		  struct wm_error **err);

/* ---- entries' file lists and manifests (cachekey.c) ---- */

struct wm_cache_file {
	char *path;		 /* below the entry's files/ */
	char type;		 /* 'd' directory, 'f' regular file, 'l' link */
	mode_t mode;		 /* 'f', 'd': permission bits */
	uint64_t size;		 /* 'f' */
	char hash[WM_CACHE_HEX]; /* 'f' */
	char *link;		 /* 'l': its target */
};

struct wm_cache_manifest {
	char *key, *run_id, *task_id;
	struct wm_cache_parts parts;
	struct wm_cache_file *files; /* parents before children */
	size_t n_files, alloc_files;
	uint64_t size; /* of the files, in bytes */
	long long created_ms, used_ms;
};

void wm_cache_manifest_release(struct wm_cache_manifest *m);
/* A NEW reference. */
json_t *wm_cache_manifest_to_json(const struct wm_cache_manifest *m);
/* Borrows j; m is released first. Checks every field: paths plain and
 * relative, hashes hex, types known. */
int wm_cache_manifest_from_json(json_t *j, struct wm_cache_manifest *m, struct wm_error **err);
/* Lists directory `rel` under dirfd into m->files (hashing every regular
 * file) and m->size. Anything but files, directories and links is an
 * error: such outputs cannot be kept. */
int wm_cache_list_tree(int dirfd, const char *shown, const char *rel, struct wm_cache_manifest *m,
		       struct wm_error **err);
/* The tree hash of a file list (see above). */
void wm_cache_tree_hash(const struct wm_cache_file *files, size_t n, char out[WM_CACHE_HEX]);

/* ---- the store (cache.c) ---- */

/* <state_dir>/cache, created (private) when `create`; with !create a
 * missing one fails with errnum ENOENT. */
int wm_cache_open(const char *state_dir, bool create, struct wm_error **err);
/* The entry `key`: 1 and *m filled, 0 when there is none, -1 when its
 * manifest cannot be read or is not valid (the entry is then unusable). */
int wm_cache_get(int cfd, const char *key, struct wm_cache_manifest *m, struct wm_error **err);
/* Hashes every file of the entry again: 0 when all match, 1 when one does
 * not (*why, caller frees, says which), -1 when it cannot be read. */
int wm_cache_verify(int cfd, const struct wm_cache_manifest *m, char **why, struct wm_error **err);
/* Recreates the entry's files in directory fd `out` (expected empty):
 * hard links where the file system allows, else copies. */
int wm_cache_restore(int cfd, const struct wm_cache_manifest *m, int out, struct wm_error **err);
/* Marks the entry used now (its manifest's mtime). Best effort. */
void wm_cache_touch(int cfd, const char *key);
/* Stores directory `rel` under dirfd as entry m->key (m->key, run_id,
 * task_id, parts set by the caller; files, size and times filled here).
 * An entry already there (another run stored it first) is kept: 0. */
int wm_cache_put(int cfd, int dirfd, const char *shown, const char *rel,
		 struct wm_cache_manifest *m, struct wm_error **err);
/* Removes the entry (0 when there was none). */
int wm_cache_remove(int cfd, const char *key, struct wm_error **err);
/* Every entry's manifest, newest use first (*v, caller releases each and
 * frees). Entries whose manifest cannot be read go to *bad (a strv of
 * keys, may be NULL) and are otherwise left out. */
int wm_cache_list(int cfd, struct wm_cache_manifest **v, size_t *n, char ***bad,
		  struct wm_error **err);
/* Removes the least recently used entries until the rest take at most
 * max_bytes (0: no cap); *removed (may be NULL) counts them. */
int wm_cache_evict(int cfd, uint64_t max_bytes, size_t *removed, struct wm_error **err);
/* Removes temporary directories whose writer is gone (a crashed store),
 * and those of entries that failed half-way. *removed may be NULL. */
int wm_cache_clean_temp(int cfd, size_t *removed, struct wm_error **err);
/* Is `key` a key's shape (64 lower-case hex digits)? */
bool wm_cache_key_valid(const char *key);

/* ---- input files' hashes, remembered (cachestat.c) ----
 *
 * Hashing every input of every task on every run reads them all; a file
 * whose identity (device, inode, size, mtime and ctime, which no user can
 * set back) is as it was when it was hashed keeps that hash, unless it
 * was modified within a second of being hashed (it may have changed again
 * in the same clock tick): then, as for any difference, it is read and
 * hashed again. One index per workspace in the cache directory
 * (stat-<hash of the workspace's path>.json); a missing or damaged index
 * is an empty one. */
struct wm_cache_stats;

struct wm_cache_stats *wm_cache_stats_load(int cfd, const char *workspace);
/* The content hash of `rel` (a regular file) under directory fd `ws`.
 * *read (may be NULL) says whether the file had to be read. */
int wm_cache_stats_hash(struct wm_cache_stats *s, int ws, const char *shown, const char *rel,
			char out[WM_CACHE_HEX], bool *read, struct wm_error **err);
/* Writes the index back when it changed (atomically; best effort). */
void wm_cache_stats_save(struct wm_cache_stats *s, int cfd);
void wm_cache_stats_free(struct wm_cache_stats *s);

#endif
