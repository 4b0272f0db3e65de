/* Unit tests for state/rundir: run ids, creation, listing, prefix resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <time.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "state/rundir.h"

static void test_run_id_shape(void **state)
{
	char id[WM_RUN_ID_LEN + 1], id2[WM_RUN_ID_LEN + 1];

	(void)state;
	assert_int_equal(wm_run_id_new(id, NULL), 0);
	assert_true(wm_run_id_valid(id));
	assert_int_equal(strlen(id), 20);
	assert_int_equal(id[8], '-');
	assert_int_equal(id[15], '-');
	/* Random suffix: 20 fresh ids are not all equal. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(wm_run_id_new(id2, NULL), 0);
		if (strcmp(id + 16, id2 + 16) != 0)
			return;
	}
	fail_msg("random suffix never changed");
}

static void test_run_id_valid_rejects(void **state)
{
	(void)state;
	assert_true(wm_run_id_valid("20261122-081503-a1b2"));
	assert_false(wm_run_id_valid("20261122-081503-A1B2"));
	assert_false(wm_run_id_valid("20261122-081503-a1b"));
	assert_false(wm_run_id_valid("20261122_081503-a1b2"));
	assert_false(wm_run_id_valid("2026112x-081503-a1b2"));
	assert_false(wm_run_id_valid("../../../etc/passwd1"));
	assert_false(wm_run_id_valid(""));
	assert_false(wm_run_id_valid(NULL));
}

static void test_run_id_time(void **state)
{
	char id[WM_RUN_ID_LEN + 1];
	long long before = (long long)time(NULL) * 1000;

	(void)state;
	assert_int_equal(wm_run_id_time_ms("20261122-081503-a1b2"), 1795335303000LL);
	assert_int_equal(wm_run_id_time_ms("20261122-081503-A1B2"), 0);
	assert_int_equal(wm_run_id_time_ms(NULL), 0);
	assert_int_equal(wm_run_id_new(id, NULL), 0);
	assert_in_range(wm_run_id_time_ms(id), before, before + 2000);
}

static void make_fake_run(const char *sd, const char *id)
{
	wm_autofree char *runs = wm_rundir_runs_dir(sd);
	wm_autofree char *dir = wm_rundir_path(sd, id);

	mkdir(sd, 0700);
	mkdir(runs, 0700);
	assert_int_equal(mkdir(dir, 0700), 0);
}

static void test_create_copies_workflow(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *wf = wm_xasprintf("%s/flow.md", t);
	wm_autofree char *sd = wm_xasprintf("%s/deep/state", t);
	wm_autofree char *dir = NULL;
	wm_autofree char *copy = NULL;
	wm_autofree char *data = NULL;
	wm_autofree char *h1 = NULL, *h2 = NULL;
	char id[WM_RUN_ID_LEN + 1];
	struct stat st;
	size_t len;

	(void)state;
	write_text(wf, "# hello\n");
	dir = wm_rundir_create(sd, wf, id, NULL);
	assert_non_null(dir);
	assert_true(wm_run_id_valid(id));
	copy = wm_rundir_file(dir, WM_RUN_WORKFLOW);
	data = slurp(copy, &len);
	assert_string_equal(data, "# hello\n");
	assert_int_equal(stat(sd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	{
		wm_autofree char *logs = wm_rundir_file(dir, "logs");
		wm_autofree char *out = wm_rundir_file(dir, "out");

		assert_int_equal(stat(logs, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(stat(out, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	/* The hash of the copy is the hash of the original's bytes. */
	h1 = wm_rundir_hash_file(dir, WM_RUN_WORKFLOW, NULL);
	{
		unsigned char sum[crypto_hash_sha256_BYTES];
		char hex[crypto_hash_sha256_BYTES * 2 + 1];

		crypto_hash_sha256(sum, (const unsigned char *)"# hello\n", 8);
		sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
		h2 = wm_xstrdup(hex);
	}
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	scratch_free(t);
}

static void test_create_errors(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *sd = wm_xasprintf("%s/state", t);
	wm_autofree char *missing = wm_xasprintf("%s/nope.md", t);
	wm_autofree char *runs = wm_rundir_runs_dir(sd);
	struct wm_error *err = NULL;
	char id[WM_RUN_ID_LEN + 1];
	char **ids = NULL;
	size_t n = 9;

	(void)state;
	assert_null(wm_rundir_create(sd, missing, id, &err));
	assert_non_null(strstr(err->msg, "nope.md"));
	wm_error_free(err);
	err = NULL;
	/* Nothing half-made is left behind. */
	assert_int_equal(wm_rundir_list(sd, &ids, &n, NULL), 0);
	assert_int_equal(n, 0);
	wm_strv_free(ids);
	/* Unwritable state directory: clear error (root ignores modes, so
	 * use a file where a directory should be). */
	{
		wm_autofree char *file = wm_xasprintf("%s/afile", t);
		wm_autofree char *bad = wm_xasprintf("%s/afile/state", t);
		wm_autofree char *wf = wm_xasprintf("%s/f.md", t);

		write_text(file, "x");
		write_text(wf, "x");
		assert_null(wm_rundir_create(bad, wf, id, &err));
		assert_non_null(strstr(err->msg, "state directory"));
		wm_error_free(err);
	}
	scratch_free(t);
}

static void test_list_newest_first_and_resolve(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *sd = wm_xasprintf("%s/state", t);
	struct wm_error *err = NULL;
	char **ids = NULL;
	size_t n = 0;
	char *r;

	(void)state;
	/* No runs at all: resolve fails with exit 2. */
	assert_null(wm_rundir_resolve(sd, NULL, &err));
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	wm_error_free(err);
	err = NULL;
	make_fake_run(sd, "20261122-081503-a1b2");
	make_fake_run(sd, "20261122-081503-a1c3");
	make_fake_run(sd, "20261123-000000-0000");
	make_fake_run(sd, "20251231-235959-ffff");
	{
		wm_autofree char *junk = wm_xasprintf("%s/runs/not-a-run", sd);

		mkdir(junk, 0700);
	}
	assert_int_equal(wm_rundir_list(sd, &ids, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_string_equal(ids[0], "20261123-000000-0000");
	assert_string_equal(ids[3], "20251231-235959-ffff");
	assert_null(ids[4]);
	wm_strv_free(ids);

	r = wm_rundir_resolve(sd, NULL, NULL);
	assert_string_equal(r, "20261123-000000-0000");
	free(r);
	r = wm_rundir_resolve(sd, "2025", NULL);
	assert_string_equal(r, "20251231-235959-ffff");
	free(r);
	r = wm_rundir_resolve(sd, "20261122-081503-a1c", NULL);
	assert_string_equal(r, "20261122-081503-a1c3");
	free(r);
	r = wm_rundir_resolve(sd, "20261122-081503-a1b2", NULL);
	assert_string_equal(r, "20261122-081503-a1b2");
	free(r);
	/* Ambiguous: exit 2, candidates listed. */
	assert_null(wm_rundir_resolve(sd, "20261122", &err));
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "ambiguous"));
	assert_non_null(strstr(err->msg, "20261122-081503-a1b2"));
	assert_non_null(strstr(err->msg, "20261122-081503-a1c3"));
	wm_error_free(err);
	err = NULL;
	/* Unknown: exit 2. */
	assert_null(wm_rundir_resolve(sd, "1999", &err));
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "unknown run id '1999'"));
	wm_error_free(err);
	scratch_free(t);
}

static void test_time_format_parse(void **state)
{
	wm_autofree char *s = wm_state_format_time(1795335303120LL);
	long long ms = 0;
	struct wm_error *err = NULL;

	(void)state;
	assert_string_equal(s, "2026-11-22T08:15:03.120Z");
	assert_int_equal(wm_state_parse_time(s, &ms, NULL), 0);
	assert_int_equal(ms, 1795335303120LL);
	assert_int_equal(wm_state_parse_time("2026-11-22", &ms, NULL), 0);
	assert_int_equal(ms, 1795305600000LL);
	assert_int_equal(wm_state_parse_time("2026-11-22T08:15:03Z", &ms, NULL), 0);
	assert_int_equal(ms, 1795335303000LL);
	assert_int_equal(wm_state_parse_time("yesterday", &ms, &err), -1);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	wm_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_id_shape),
		cmocka_unit_test(test_run_id_valid_rejects),
		cmocka_unit_test(test_run_id_time),
		cmocka_unit_test(test_create_copies_workflow),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_list_newest_first_and_resolve),
		cmocka_unit_test(test_time_format_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
