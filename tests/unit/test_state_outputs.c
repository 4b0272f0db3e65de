/* Unit tests for state/outputs: walking what a task left without
 * following it, the space a tree frees, and wm cp's copy-out (links,
 * FIFOs and setuid bits never leave a run; DEST as cp takes it). Every
 * planted link points into the test's own scratch directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "state/outputs.h"

struct fx {
	char *t;   /* scratch */
	char *out; /* $t/out: what the task left */
	char *dest;
	int tfd; /* $t */
};

static char *at(const struct fx *f, const char *rel)
{
	return wm_xasprintf("%s/%s", f->t, rel);
}

/* out/ holds: a.txt (5 bytes, 0640), dir/ (2755) with b.bin (3000 bytes,
 * setuid), dir/sub/c.txt, a link to the victim, a FIFO. */
static int setup(void **state)
{
	struct fx *f = wm_xcalloc(1, sizeof(*f));
	char *p; /* each path made, used, freed */

	f->t = scratch_dir();
	f->out = at(f, "out");
	f->dest = at(f, "dest");
	assert_int_equal(mkdir(f->out, 0755), 0);
	assert_int_equal(mkdir(f->dest, 0755), 0);
	write_text(p = at(f, "victim"), "precious\n");
	free(p);
	write_text(p = at(f, "out/a.txt"), "hello");
	chmod(p, 0640);
	free(p);
	assert_int_equal(mkdir(p = at(f, "out/dir"), 0755), 0);
	chmod(p, 02755);
	free(p);
	spit(p = at(f, "out/dir/b.bin"), wm_buf_empty, 0);
	assert_int_equal(truncate(p, 3000), 0);
	chmod(p, 04755);
	free(p);
	assert_int_equal(mkdir(p = at(f, "out/dir/sub"), 0700), 0);
	free(p);
	write_text(p = at(f, "out/dir/sub/c.txt"), "deep");
	free(p);
	p = at(f, "victim");
	{
		wm_autofree char *l = at(f, "out/link");

		assert_int_equal(symlink(p, l), 0);
	}
	free(p);
	assert_int_equal(mkfifo(p = at(f, "out/fifo"), 0644), 0);
	free(p);
	f->tfd = open(f->t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->tfd);
	scratch_free(f->t);
	free(f->out);
	free(f->dest);
	free(f);
	return 0;
}

static int record(const struct wm_tree_entry *e, void *ctx, struct wm_error **err)
{
	struct wm_buf *b = ctx;

	(void)err;
	wm_buf_addf(b, "%s%s%s;", e->path, e->link ? "->" : "", e->link ? "L" : "");
	return 0;
}

static void test_walk(void **state)
{
	struct fx *f = *state;
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *err = NULL;

	assert_int_equal(wm_tree_walk(f->tfd, f->t, "out", record, &b, &err), 0);
	/* Sorted, parents first, the link reported with its target. */
	assert_string_equal(b.data, "a.txt;dir;dir/b.bin;dir/sub;dir/sub/c.txt;fifo;link->L;");
	wm_buf_release(&b);
	/* A link in the way is never walked through. */
	assert_int_equal(wm_tree_walk(f->tfd, f->t, "out/link", record, &b, &err), -1);
	assert_non_null(strstr(err->msg, "symbolic link"));
	wm_error_free(err);
	err = NULL;
	assert_int_equal(wm_tree_walk(f->tfd, f->t, "nope", record, &b, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	wm_error_free(err);
	wm_buf_release(&b);
}

static void test_usage(void **state)
{
	struct fx *f = *state;
	struct wm_error *err = NULL;
	wm_autofree char *a = at(f, "out/a.txt");
	wm_autofree char *inside = at(f, "out/dir/a-again");
	wm_autofree char *outside = at(f, "a-outside");
	uint64_t before, inner, after;
	struct stat st;

	assert_int_equal(wm_tree_usage(f->tfd, f->t, "out", &before, &err), 0);
	assert_int_equal(wm_tree_usage(f->tfd, f->t, "out/dir/sub", &inner, &err), 0);
	assert_true(before > inner && inner > 0);
	/* A second link inside: still counted once. */
	assert_int_equal(link(a, inside), 0);
	assert_int_equal(wm_tree_usage(f->tfd, f->t, "out", &after, &err), 0);
	assert_int_equal(after, before);
	/* A link from outside keeps the file: it frees nothing. */
	assert_int_equal(link(a, outside), 0);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(wm_tree_usage(f->tfd, f->t, "out", &after, &err), 0);
	assert_int_equal(after, before - (uint64_t)st.st_blocks * 512);
}

static void test_copy_file(void **state)
{
	struct fx *f = *state;
	struct wm_copy_report r;
	struct wm_error *err = NULL;
	wm_autofree char *d = at(f, "dest/a.txt");
	wm_autofree char *named = at(f, "dest/renamed");
	wm_autofree char *got = NULL;
	struct stat st;

	/* Into a directory... */
	assert_int_equal(wm_copy_out(f->tfd, f->t, "out/a.txt", f->dest, &r, &err), 0);
	assert_string_equal(r.dest, d);
	assert_int_equal(r.files, 1);
	assert_int_equal(r.bytes, 5);
	assert_string_equal(got = slurp(d, NULL), "hello");
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	wm_copy_report_release(&r);
	/* ... or as a new name; setuid does not come along. */
	assert_int_equal(wm_copy_out(f->tfd, f->t, "out/dir/b.bin", named, &r, &err), 0);
	assert_int_equal(stat(named, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_size, 3000);
	wm_copy_report_release(&r);
	/* Onto itself: refused, the file intact. */
	free(d);
	d = at(f, "out/a.txt");
	assert_int_equal(wm_copy_out(f->tfd, f->t, "out/a.txt", d, &r, &err), -1);
	assert_non_null(strstr(err->msg, "is the file being copied"));
	wm_error_free(err);
	wm_copy_report_release(&r);
	free(got);
	assert_string_equal(got = slurp(d, NULL), "hello");
}

static void test_copy_refusals(void **state)
{
	struct fx *f = *state;
	struct wm_copy_report r;
	struct wm_error *err = NULL;
	static const struct {
		const char *rel, *msg;
		int exit_code;
	} cases[] = {
		{ "out/link", "is a symbolic link (to `", WM_EXIT_FAILED },
		{ "out/link/x", "is a symbolic link", WM_EXIT_FAILED },
		{ "out/fifo", "is a FIFO: only regular files and directories", WM_EXIT_FAILED },
		{ "out/none", "out/none`", WM_EXIT_USAGE },
		{ "out/../victim", "bad path", WM_EXIT_USAGE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(wm_copy_out(f->tfd, f->t, cases[i].rel, f->dest, &r, &err), -1);
		if (!strstr(err->msg, cases[i].msg))
			fail_msg("%s: %s", cases[i].rel, err->msg);
		assert_int_equal(err->exit_code, cases[i].exit_code);
		wm_error_free(err);
		err = NULL;
		wm_copy_report_release(&r);
	}
	{
		wm_autofree char *ls = at(f, "dest");
		wm_autofree char *missing = at(f, "no/such/dir");
		DIR *d = opendir(ls);
		int n = 0;

		while (readdir(d))
			n++;
		closedir(d);
		assert_int_equal(n, 2); /* "." and ".." */
		assert_int_equal(wm_copy_out(f->tfd, f->t, "out/a.txt", missing, &r, &err), -1);
		wm_error_free(err);
		wm_copy_report_release(&r);
	}
}

static void test_copy_tree(void **state)
{
	struct fx *f = *state;
	struct wm_copy_report r;
	struct wm_error *err = NULL;
	wm_autofree char *c = at(f, "dest/out/dir/sub/c.txt");
	wm_autofree char *dir = at(f, "dest/out/dir");
	wm_autofree char *link = at(f, "dest/out/link");
	wm_autofree char *fifo = at(f, "dest/out/fifo");
	wm_autofree char *got = NULL;
	struct stat st;

	assert_int_equal(wm_copy_out(f->tfd, f->t, "out", f->dest, &r, &err), 0);
	assert_int_equal(r.files, 3);
	assert_int_equal(r.dirs, 3);
	assert_int_equal(r.bytes, 5 + 3000 + 4);
	assert_int_equal(r.n_skipped, 2);
	assert_non_null(strstr(r.skipped[0], "fifo` is a FIFO"));
	assert_non_null(strstr(r.skipped[1], "link` is a symbolic link (to `"));
	assert_string_equal(got = slurp(c, NULL), "deep");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* setgid dropped */
	assert_int_equal(lstat(link, &st), -1);
	assert_int_equal(lstat(fifo, &st), -1);
	wm_copy_report_release(&r);
	/* Again: merged into what is there, as cp -R does. */
	assert_int_equal(wm_copy_out(f->tfd, f->t, "out", f->dest, &r, &err), 0);
	assert_int_equal(r.files, 3);
	wm_copy_report_release(&r);
	/* Into itself: the copy is not copied again. */
	free(dir);
	dir = at(f, "out/dir/sub");
	assert_int_equal(wm_copy_out(f->tfd, f->t, "out/dir", dir, &r, &err), 0);
	assert_int_equal(r.files, 2);
	assert_non_null(strstr(r.skipped[r.n_skipped - 1], "is the destination"));
	wm_copy_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_tree, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
