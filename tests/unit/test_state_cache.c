/*
 * The task cache's keys, globs, tree hashes, manifests and store
 * (state/cache.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "state/cache.h"
#include "state_helpers.h"

static void key_of(const struct wm_cache_parts *p, char out[WM_CACHE_HEX])
{
	wm_cache_key(p, out);
	assert_true(wm_cache_key_valid(out));
}

/* The key covers every part, name and hash, whatever the order added. */
static void test_key_parts(void **state)
{
	struct wm_cache_parts a = { 0 }, b = { 0 };
	char ka[WM_CACHE_HEX], kb[WM_CACHE_HEX];

	(void)state;
	wm_cache_parts_set(&a, "definition", "d1");
	wm_cache_parts_set(&a, "policy", "p1");
	wm_cache_parts_set(&a, "input:src/a.c", "h1");
	wm_cache_parts_set(&b, "input:src/a.c", "h1");
	wm_cache_parts_set(&b, "policy", "p1");
	wm_cache_parts_set(&b, "definition", "d1");
	key_of(&a, ka);
	key_of(&b, kb);
	assert_string_equal(ka, kb);
	assert_null(wm_cache_parts_diff(&a, &b));
	assert_string_equal(wm_cache_parts_get(&a, "policy"), "p1");

	wm_cache_parts_set(&b, "input:src/a.c", "h2");
	key_of(&b, kb);
	assert_string_not_equal(ka, kb);
	assert_string_equal(wm_cache_parts_diff(&a, &b), "input:src/a.c");
	wm_cache_parts_set(&b, "input:src/a.c", "h1");
	wm_cache_parts_set(&b, "dep:build", "t");
	key_of(&b, kb);
	assert_string_not_equal(ka, kb);
	assert_string_equal(wm_cache_parts_diff(&a, &b), "dep:build");
	/* A name is not confused with a hash: "ab"+"c" is not "a"+"bc". */
	wm_cache_parts_release(&b);
	wm_cache_parts_set(&b, "definition", "d1");
	wm_cache_parts_set(&b, "policy", "p");
	wm_cache_parts_set(&b, "input:src/a.c", "h1");
	key_of(&b, kb);
	assert_string_not_equal(ka, kb);
	assert_string_equal(wm_cache_parts_diff(&a, &b), "policy");
	wm_cache_parts_release(&a);
	wm_cache_parts_release(&b);
}

static void test_glob_match(void **state)
{
	(void)state;
	assert_true(wm_cache_glob_match("src/**/*.c", "src/a.c"));
	assert_true(wm_cache_glob_match("src/**/*.c", "src/x/y/a.c"));
	assert_false(wm_cache_glob_match("src/**/*.c", "src/a.h"));
	assert_false(wm_cache_glob_match("src/**/*.c", "lib/a.c"));
	assert_true(wm_cache_glob_match("Makefile", "Makefile"));
	assert_false(wm_cache_glob_match("Makefile", "sub/Makefile"));
	assert_true(wm_cache_glob_match("**/Makefile", "sub/Makefile"));
	assert_true(wm_cache_glob_match("*.md", "README.md"));
	assert_false(wm_cache_glob_match("*.md", "doc/README.md"));
	assert_false(wm_cache_glob_match("*", ".hidden"));
	assert_true(wm_cache_glob_match("src/**", "src/a/b"));
}

static void put_file(const char *dir, const char *rel, const char *text)
{
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, rel);

	spit(path, text, strlen(text));
}

static void test_glob_files(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *src = wm_xasprintf("%s/src", t);
	wm_autofree char *sub = wm_xasprintf("%s/src/sub", t);
	char g1[] = "src/**/*.c", g2[] = "Makefile", g3[] = "none/*.x";
	char *globs[] = { g1, g2, g3, NULL };
	wm_autostrv char **files = NULL;
	wm_autostrv char **unmatched = NULL;
	wm_autoclose int fd = -1;

	(void)state;
	assert_int_equal(mkdir(src, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	put_file(t, "src/a.c", "a");
	put_file(t, "src/b.h", "b");
	put_file(t, "src/sub/c.c", "c");
	put_file(t, "Makefile", "all:");
	put_file(t, "other.c", "o");
	fd = open(t, O_RDONLY | O_DIRECTORY);
	assert_int_equal(wm_cache_glob(fd, t, globs, &files, &unmatched, NULL), 0);
	assert_int_equal(wm_strv_len(files), 3);
	assert_string_equal(files[0], "Makefile");
	assert_string_equal(files[1], "src/a.c");
	assert_string_equal(files[2], "src/sub/c.c");
	assert_int_equal(wm_strv_len(unmatched), 1);
	assert_string_equal(unmatched[0], "none/*.x");
	scratch_free(t);
}

/* A tree hashes the same walked or from its file list, and changes with
 * content, names and the executable bit, not with mtimes. */
static void test_tree_hash(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *out = wm_xasprintf("%s/out", t);
	wm_autofree char *a = wm_xasprintf("%s/out/a", t);
	struct wm_cache_manifest m = { 0 };
	char h1[WM_CACHE_HEX], h2[WM_CACHE_HEX];
	wm_autoclose int fd = open(t, O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_int_equal(mkdir(out, 0700), 0);
	put_file(t, "out/a", "one");
	assert_int_equal(wm_cache_list_tree(fd, t, "out", &m, NULL), 0);
	assert_int_equal(m.n_files, 1);
	assert_int_equal(m.size, 3);
	wm_cache_tree_hash(m.files, m.n_files, h1);
	wm_cache_manifest_release(&m);
	put_file(t, "out/a", "one"); /* rewritten: a new mtime, same content */
	assert_int_equal(wm_cache_list_tree(fd, t, "out", &m, NULL), 0);
	wm_cache_tree_hash(m.files, m.n_files, h2);
	assert_string_equal(h1, h2);
	wm_cache_manifest_release(&m);
	put_file(t, "out/a", "two");
	assert_int_equal(wm_cache_list_tree(fd, t, "out", &m, NULL), 0);
	wm_cache_tree_hash(m.files, m.n_files, h2);
	assert_string_not_equal(h1, h2);
	wm_cache_manifest_release(&m);
	put_file(t, "out/a", "one");
	assert_int_equal(chmod(a, 0755), 0);
	assert_int_equal(wm_cache_list_tree(fd, t, "out", &m, NULL), 0);
	wm_cache_tree_hash(m.files, m.n_files, h2);
	assert_string_not_equal(h1, h2);
	wm_cache_manifest_release(&m);
	scratch_free(t);
}

static void test_manifest_round_trip(void **state)
{
	struct wm_cache_manifest m = { 0 }, back = { 0 };
	struct wm_cache_file *f;
	struct wm_error *e = NULL;
	json_t *j;

	(void)state;
	m.key = wm_xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	m.run_id = wm_xstrdup("20261202-043300-dcf1");
	m.task_id = wm_xstrdup("build");
	wm_cache_parts_set(&m.parts, "definition", "d");
	m.files = wm_xcalloc(2, sizeof(*m.files));
	m.n_files = m.alloc_files = 2;
	f = &m.files[0];
	f->path = wm_xstrdup("bin");
	f->type = 'f';
	f->mode = 0755;
	f->size = 3;
	memcpy(f->hash, m.key, WM_CACHE_HEX);
	m.files[1].path = wm_xstrdup("link");
	m.files[1].type = 'l';
	m.files[1].link = wm_xstrdup("bin");
	m.size = 3;
	m.created_ms = 5;
	m.used_ms = 6;
	j = wm_cache_manifest_to_json(&m);
	assert_int_equal(wm_cache_manifest_from_json(j, &back, NULL), 0);
	assert_string_equal(back.key, m.key);
	assert_string_equal(back.task_id, "build");
	assert_string_equal(wm_cache_parts_get(&back.parts, "definition"), "d");
	assert_int_equal(back.n_files, 2);
	assert_int_equal(back.files[0].mode, 0755);
	assert_string_equal(back.files[0].hash, m.key);
	assert_string_equal(back.files[1].link, "bin");
	assert_int_equal(back.used_ms, 6);
	/* A path leaving the entry is refused. */
	json_object_set_new(json_array_get(json_object_get(j, "files"), 0), "path",
			    json_string("../x"));
	assert_int_equal(wm_cache_manifest_from_json(j, &back, &e), -1);
	assert_non_null(strstr(e->msg, "bad entry"));
	wm_error_free(e);
	json_decref(j);
	wm_cache_manifest_release(&back);
	wm_cache_manifest_release(&m);
}

/* put -> get -> verify -> restore; a changed file fails verification;
 * eviction keeps the cap; a crashed store's temporary dir is cleaned. */
static void test_store(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *out = wm_xasprintf("%s/out", t);
	wm_autofree char *back = wm_xasprintf("%s/back", t);
	wm_autofree char *stored = NULL;
	wm_autofree char *restored = NULL;
	wm_autofree char *back_a = wm_xasprintf("%s/back/a", t);
	wm_autofree char *why = NULL;
	wm_autofree char *tmp = wm_xasprintf("%s/cache/.tmp.x.999999999", t);
	struct wm_cache_manifest m = { 0 }, got = { 0 };
	wm_autoclose int fd = open(t, O_RDONLY | O_DIRECTORY);
	wm_autoclose int bfd = -1;
	int cfd;
	size_t n = 0;

	(void)state;
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(mkdir(back, 0700), 0);
	put_file(t, "out/a", "hello");
	cfd = wm_cache_open(t, true, NULL);
	assert_true(cfd >= 0);
	m.key = wm_xstrdup("aa23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	m.run_id = wm_xstrdup("r1");
	m.task_id = wm_xstrdup("t");
	assert_int_equal(wm_cache_put(cfd, fd, t, "out", &m, NULL), 0);
	assert_int_equal(wm_cache_get(cfd, m.key, &got, NULL), 1);
	assert_int_equal(got.n_files, 1);
	assert_int_equal(wm_cache_verify(cfd, &got, &why, NULL), 0);
	bfd = open(back, O_RDONLY | O_DIRECTORY);
	assert_int_equal(wm_cache_restore(cfd, &got, bfd, NULL), 0);
	restored = slurp(back_a, NULL);
	assert_string_equal(restored, "hello");
	/* The stored copy is read-only; tamper with it anyway. */
	stored = wm_xasprintf("%s/cache/%s/files/a", t, m.key);
	assert_int_equal(unlink(stored), 0);
	spit(stored, "HELLO", 5);
	assert_int_equal(wm_cache_verify(cfd, &got, &why, NULL), 1);
	assert_non_null(strstr(why, "does not match"));
	/* Unknown keys: none; a leftover temporary dir of a dead writer goes. */
	assert_int_equal(
		wm_cache_get(cfd,
			     "bb23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			     &got, NULL),
		0);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(wm_cache_clean_temp(cfd, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(access(tmp, F_OK), -1);
	/* A cap below the entry's size removes it. */
	assert_int_equal(wm_cache_evict(cfd, 1, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(wm_cache_get(cfd, m.key, &got, NULL), 0);
	wm_cache_manifest_release(&m);
	wm_cache_manifest_release(&got);
	close(cfd);
	scratch_free(t);
}

/* Inputs' hashes by file identity: reused while the file is as it was,
 * read again after any change, also one that puts the mtime back. */
static void test_stat_index(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *in = wm_xasprintf("%s/in", t);
	wm_autoclose int ws = open(t, O_RDONLY | O_DIRECTORY);
	struct wm_cache_stats *s;
	char h1[WM_CACHE_HEX], h2[WM_CACHE_HEX];
	struct stat st;
	struct timespec times[2];
	bool read = false;
	int cfd;

	(void)state;
	cfd = wm_cache_open(t, true, NULL);
	put_file(t, "in", "alpha");
	usleep(1100 * 1000); /* past the racy second */
	s = wm_cache_stats_load(cfd, t);
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h1, &read, NULL), 0);
	assert_true(read);
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h2, &read, NULL), 0);
	assert_false(read);
	assert_string_equal(h1, h2);
	wm_cache_stats_save(s, cfd);
	wm_cache_stats_free(s);
	/* From the saved index: still not read. */
	s = wm_cache_stats_load(cfd, t);
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h2, &read, NULL), 0);
	assert_false(read);
	/* Same size, mtime put back: the ctime moved, so it is read again. */
	assert_int_equal(stat(in, &st), 0);
	put_file(t, "in", "omega");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, in, times, 0), 0);
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h2, &read, NULL), 0);
	assert_true(read);
	assert_string_not_equal(h1, h2);
	/* Just written: racy, read every time. */
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h2, &read, NULL), 0);
	assert_true(read);
	wm_cache_stats_save(s, cfd);
	wm_cache_stats_free(s);
	/* A damaged index is an empty one. */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "for f in %s/cache/stat-*.json; do echo '{' > $f; done",
			 t);
		assert_int_equal(system(cmd), 0);
	}
	s = wm_cache_stats_load(cfd, t);
	assert_int_equal(wm_cache_stats_hash(s, ws, t, "in", h1, &read, NULL), 0);
	assert_true(read);
	assert_string_equal(h1, h2);
	wm_cache_stats_free(s);
	close(cfd);
	scratch_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_parts),	    cmocka_unit_test(test_glob_match),
		cmocka_unit_test(test_glob_files),	    cmocka_unit_test(test_tree_hash),
		cmocka_unit_test(test_manifest_round_trip), cmocka_unit_test(test_store),
		cmocka_unit_test(test_stat_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
