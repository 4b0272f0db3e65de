/* Unit tests for state/export: the archive's entries, read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "state/export.h"

static void list_archive(const char *path, char ***names, size_t *n, char **outside_data)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 16384), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		wm_strv_push(names, n, name);
		if (strcmp(name, "20261122-081503-a1b2/workflow.md") == 0) {
			char buf[64] = "";

			assert_int_equal(archive_read_data(a, buf, sizeof(buf) - 1), 8);
			*outside_data = wm_xstrdup(buf);
		}
		if (archive_entry_filetype(e) == AE_IFLNK)
			assert_string_equal(archive_entry_symlink(e), "/etc/passwd");
	}
	archive_read_free(a);
}

static void test_export_lists_entries(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *run = wm_xasprintf("%s/20261122-081503-a1b2", t);
	wm_autofree char *out = wm_xasprintf("%s/x.tar.zst", t);
	char **names = NULL;
	size_t n = 0;
	wm_autofree char *wf = NULL;
	static const char *const files[] = { "workflow.md",    "checkpoint.json.zst",
					     "journal.jsonl",  "audit.jsonl",
					     "logs/build.log", "out/build/result.txt" };

	(void)state;
	assert_int_equal(mkdir(run, 0700), 0);
	{
		wm_autofree char *o = wm_xasprintf("%s/out", run);

		assert_int_equal(mkdir(o, 0755), 0);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		wm_autofree char *p = wm_xasprintf("%s/%s", run, files[i]);
		wm_autofree char *d = wm_xstrdup(p);

		*strrchr(d, '/') = '\0';
		mkdir(d, 0755);
		write_text(p, "# x\nabc\n");
	}
	{
		wm_autofree char *ln = wm_xasprintf("%s/out/build/escape", run);

		assert_int_equal(symlink("/etc/passwd", ln), 0);
	}
	assert_int_equal(wm_export_run(run, "20261122-081503-a1b2", out, NULL), 0);
	list_archive(out, &names, &n, &wf);
	assert_string_equal(wf, "# x\nabc\n");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		wm_autofree char *want = wm_xasprintf("20261122-081503-a1b2/%s", files[i]);

		if (!wm_strv_contains(names, want))
			fail_msg("%s missing from the archive", want);
	}
	assert_true(wm_strv_contains(names, "20261122-081503-a1b2/out/build/escape"));
	/* Every path is under the run id; the link target was not followed. */
	for (size_t i = 0; i < n; i++)
		assert_true(wm_str_has_prefix(names[i], "20261122-081503-a1b2"));
	assert_false(wm_strv_contains(names, "etc/passwd"));
	wm_strv_free(names);
	scratch_free(t);
}

static void test_export_failure_leaves_nothing(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *out = wm_xasprintf("%s/x.tar.zst", t);
	wm_autofree char *missing = wm_xasprintf("%s/nope", t);
	struct wm_error *err = NULL;

	(void)state;
	assert_int_equal(wm_export_run(missing, "nope", out, &err), -1);
	assert_non_null(err);
	wm_error_free(err);
	assert_int_equal(access(out, F_OK), -1);
	{
		wm_autofree char *tmp = wm_xasprintf("%s.tmp.%d", out, (int)getpid());

		assert_int_equal(access(tmp, F_OK), -1);
	}
	scratch_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_lists_entries),
		cmocka_unit_test(test_export_failure_leaves_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
