/* Unit tests for state/safeio and the task-file helpers of state/rundir:
 * links, FIFOs, devices and hard links planted in the state directory are
 * refused (never followed, never blocking), reads are bounded, removal
 * never leaves the tree. Every planted link points into the test's own
 * scratch directory, so a failure can harm nothing else. Each test runs
 * with openat2 and with the openat fallback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct fx {
	char *t;      /* scratch */
	char *run;    /* $t/run: the directory under test */
	char *victim; /* $t/victim: what a planted link points at */
	int dfd;
};

static int setup(void **state, bool openat2)
{
	struct fx *f = wm_xcalloc(1, sizeof(*f));

	wm_safeio_use_openat2(openat2);
	f->t = scratch_dir();
	f->run = wm_xasprintf("%s/run", f->t);
	f->victim = wm_xasprintf("%s/victim", f->t);
	assert_int_equal(mkdir(f->run, 0700), 0);
	write_text(f->victim, "precious\n");
	f->dfd = open(f->run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dfd >= 0);
	*state = f;
	return 0;
}

static int setup2(void **state)
{
	return setup(state, true);
}

static int setup_fallback(void **state)
{
	return setup(state, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	wm_safeio_use_openat2(true);
	close(f->dfd);
	scratch_free(f->t);
	free(f->run);
	free(f->victim);
	free(f);
	return 0;
}

static char *at(const struct fx *f, const char *rel)
{
	return wm_xasprintf("%s/%s", f->run, rel);
}

static void victim_intact(const struct fx *f)
{
	size_t len = 0;
	wm_autofree char *data = slurp(f->victim, &len);

	assert_non_null(data);
	assert_string_equal(data, "precious\n");
}

/* errp, not *errp: the call that sets it is an argument evaluated first. */
static void expect_refused(int rc, struct wm_error **errp, const char *needle)
{
	struct wm_error *err = *errp;

	assert_int_equal(rc, -1);
	assert_non_null(err);
	if (!strstr(err->msg, needle))
		fail_msg("'%s' lacks '%s'", err->msg, needle);
	wm_error_free(err);
	*errp = NULL;
}

static void test_link_never_followed(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "x.log");
	static const int modes[] = { O_RDONLY, O_WRONLY | O_CREAT | O_APPEND,
				     O_WRONLY | O_CREAT | O_TRUNC, O_RDWR | O_CREAT };

	assert_int_equal(symlink(f->victim, p), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct wm_error *err = NULL;
		int fd = wm_safe_open(f->dfd, f->run, "x.log", modes[i], 0644, &err);

		expect_refused(fd, &err, "x.log` is a symbolic link");
	}
	victim_intact(f);
}

static void test_link_on_the_way(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "logs");
	struct wm_error *err = NULL;
	int fd;

	assert_int_equal(symlink(f->t, p), 0); /* logs -> the scratch dir */
	fd = wm_safe_open(f->dfd, f->run, "logs/victim", O_WRONLY | O_TRUNC, 0, &err);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err->msg, "symbolic link"));
	wm_error_free(err);
	err = NULL;
	fd = wm_safe_opendir(f->dfd, f->run, "logs", true, 0755, &err);
	expect_refused(fd, &err, "logs` is a symbolic link");
	victim_intact(f);
}

static void test_fifo_refused_without_blocking(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "checkpoint");
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *err = NULL;

	assert_int_equal(mkfifo(p, 0600), 0);
	/* Opening a FIFO without O_NONBLOCK would wait for a writer forever. */
	expect_refused(wm_safe_read(f->dfd, f->run, "checkpoint", 100, "checkpoint", &b, &err),
		       &err, "is a FIFO, not a regular file");
	expect_refused(wm_safe_open(f->dfd, f->run, "checkpoint", O_WRONLY | O_APPEND, 0, &err),
		       &err, "FIFO");
	wm_buf_release(&b);
}

static void test_device_refused(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "audit.jsonl");
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *err = NULL;

	if (mknod(p, S_IFCHR | 0600, makedev(1, 5)) < 0) {
		skip(); /* not root: cannot make a device node */
		return;
	}
	expect_refused(wm_safe_read(f->dfd, f->run, "audit.jsonl", 1 << 20, "audit log", &b, &err),
		       &err, "character device");
	assert_int_equal(b.len, 0);
	wm_buf_release(&b);
}

static void test_hard_link_not_written(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "lock");
	struct wm_error *err = NULL;
	int fd;

	assert_int_equal(link(f->victim, p), 0);
	fd = wm_safe_open(f->dfd, f->run, "lock", O_RDWR | O_CREAT | O_TRUNC, 0644, &err);
	expect_refused(fd, &err, "hard links");
	victim_intact(f); /* O_TRUNC waited for the checks */
	/* Reading through it is harmless and allowed. */
	fd = wm_safe_open(f->dfd, f->run, "lock", O_RDONLY, 0, NULL);
	assert_true(fd >= 0);
	close(fd);
}

static void test_read_limit_named(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "journal.jsonl");
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *err = NULL;

	write_text(p, "0123456789");
	assert_int_equal(wm_safe_read(f->dfd, f->run, "journal.jsonl", 10, "journal", &b, NULL), 0);
	assert_int_equal(b.len, 10);
	wm_buf_setlen(&b, 0);
	expect_refused(wm_safe_read(f->dfd, f->run, "journal.jsonl", 9, "journal", &b, &err), &err,
		       "over the limit of 9");
	wm_buf_release(&b);
}

static void test_bad_names(void **state)
{
	struct fx *f = *state;

	(void)f;
	assert_true(wm_safe_rel_ok("a"));
	assert_true(wm_safe_rel_ok("logs/a.log"));
	assert_false(wm_safe_rel_ok(".."));
	assert_false(wm_safe_rel_ok("out/../x"));
	assert_false(wm_safe_rel_ok("/etc/passwd"));
	assert_false(wm_safe_rel_ok("a//b"));
	assert_false(wm_safe_rel_ok("a/"));
	assert_false(wm_safe_rel_ok(""));
	assert_int_equal(wm_safe_open(f->dfd, f->run, "../victim", O_RDONLY, 0, NULL), -1);
}

static void test_remove_tree_stays_inside(void **state)
{
	struct fx *f = *state;
	wm_autofree char *out = at(f, "out");
	wm_autofree char *a = at(f, "out/a"), *b = at(f, "out/a/b");
	wm_autofree char *deep = at(f, "out/a/b/c");
	wm_autofree char *file = at(f, "out/a/b/c/f");
	wm_autofree char *lnk = at(f, "out/a/escape");
	wm_autofree char *dlnk = at(f, "out/a/b/dir-escape");
	struct stat st;

	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	assert_int_equal(mkdir(deep, 0755), 0);
	write_text(file, "x");
	assert_int_equal(symlink(f->victim, lnk), 0);
	assert_int_equal(symlink(f->t, dlnk), 0); /* a link to a directory above */
	assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "out", NULL), 0);
	assert_int_equal(lstat(out, &st), -1);
	victim_intact(f);
	assert_int_equal(stat(f->run, &st), 0);
	/* Missing is fine. */
	assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "out/nothing", NULL), 0);
}

/* A task can nest directories deeper than any fd stack: removal goes on
 * (moving deep ones up), and still follows no link down there. */
static void test_remove_tree_any_depth(void **state)
{
	struct fx *f = *state;
	wm_autofree char *out = at(f, "out");
	int fd, file;
	struct stat st;

	assert_int_equal(mkdir(out, 0755), 0);
	fd = open(out, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 3 * WM_TREE_MAX_DEPTH + 7; i++) {
		int next;

		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		close(fd);
		fd = next;
		if (i % 100 == 0) {
			assert_int_equal(symlinkat(f->victim, fd, "escape"), 0);
			assert_int_equal(symlinkat(f->t, fd, "dir-escape"), 0);
		}
	}
	file = openat(fd, "f", O_WRONLY | O_CREAT, 0644);
	assert_true(file >= 0);
	close(file);
	close(fd);
	assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "out", NULL), 0);
	assert_int_equal(lstat(out, &st), -1);
	victim_intact(f);
	assert_int_equal(stat(f->run, &st), 0);
}

static void test_atomic_write_replaces_link(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "options.json");
	wm_autofree char *tmp = at(f, "options.json.tmp");
	size_t len = 0;
	wm_autofree char *data = NULL;
	struct stat st;

	/* Links planted at both the file and its temporary name. */
	assert_int_equal(symlink(f->victim, p), 0);
	assert_int_equal(symlink(f->victim, tmp), 0);
	assert_int_equal(wm_safe_write_atomic(f->dfd, f->run, "options.json", "{}", 2, 0644, NULL),
			 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	data = slurp(p, &len);
	assert_string_equal(data, "{}");
	victim_intact(f);
}

static void test_lines_bounded(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "j");
	wm_autoclose int fd = -1;
	struct wm_lines lr;
	struct wm_error *err = NULL;
	const char *line;
	size_t len;
	bool complete;

	write_text(p, "one\ntwo\n0123456789abcdef\ntorn");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	wm_lines_init(&lr, fd, p, 8);
	assert_int_equal(wm_lines_next(&lr, &line, &len, &complete, NULL), 1);
	assert_string_equal(line, "one");
	assert_true(complete);
	assert_int_equal(wm_lines_next(&lr, &line, &len, &complete, NULL), 1);
	assert_string_equal(line, "two");
	assert_int_equal(lr.offset, 4);
	expect_refused(wm_lines_next(&lr, &line, &len, &complete, &err), &err,
		       "longer than the limit of 8");
	wm_lines_release(&lr);
	/* A torn last line is returned as incomplete. */
	write_text(p, "a\ntorn");
	lseek(fd, 0, SEEK_SET);
	wm_lines_init(&lr, fd, p, 8);
	assert_int_equal(wm_lines_next(&lr, &line, &len, &complete, NULL), 1);
	assert_int_equal(wm_lines_next(&lr, &line, &len, &complete, NULL), 1);
	assert_string_equal(line, "torn");
	assert_false(complete);
	assert_int_equal(wm_lines_next(&lr, &line, &len, &complete, NULL), 0);
	wm_lines_release(&lr);
}

static void test_last_line(void **state)
{
	struct fx *f = *state;
	wm_autofree char *p = at(f, "a");
	wm_autoclose int fd = -1;
	struct wm_buf b = WM_BUF_INIT;
	off_t start, tail;

	write_text(p, "first\nsecond\nto");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_int_equal(wm_safe_last_line(fd, p, 64, &b, &start, &tail, NULL), 1);
	assert_string_equal(b.data, "second");
	assert_int_equal(start, 6);
	assert_int_equal(tail, 13);
	wm_buf_release(&b);
}

/* The helpers attempt.c uses for a task's log, script and directories. */
static void test_task_files_refuse_links(void **state)
{
	struct fx *f = *state;
	wm_autofree char *logs = at(f, "logs");
	wm_autofree char *log = at(f, "logs/t.log");
	wm_autofree char *scripts = at(f, "scripts");
	wm_autofree char *script = at(f, "scripts/t.body");
	wm_autofree char *out = at(f, "out");
	wm_autofree char *outt = at(f, "out/t");
	struct wm_error *err = NULL;

	mkdir(logs, 0755);
	mkdir(scripts, 0755);
	mkdir(out, 0755);
	assert_int_equal(symlink(f->victim, log), 0);
	expect_refused(wm_rundir_open_log(f->run, "t", &err), &err, "t.log` is a symbolic link");
	assert_int_equal(symlink(f->victim, script), 0);
	assert_null(wm_rundir_write_script(f->run, "t", "body", "rm -rf /", &err));
	expect_refused(-1, &err, "t.body` is a symbolic link");
	assert_int_equal(symlink(f->t, outt), 0);
	assert_null(wm_rundir_make_out(f->run, "t", false, &err));
	expect_refused(-1, &err, "symbolic link");
	/* Emptying $WM_OUT removes the planted link itself, not its target. */
	{
		wm_autofree char *made = wm_rundir_make_out(f->run, "t", true, NULL);
		struct stat st;

		assert_non_null(made);
		assert_int_equal(lstat(outt, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	assert_null(wm_rundir_make_in(f->run, "t", "../x", &err));
	expect_refused(-1, &err, "cannot be a file name");
	victim_intact(f);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

/* What wm makes in a run directory has the mode it asks for, whatever the
 * umask: 022 would leave others read access, 0277 would take the owner's
 * write access away. */
static void test_modes_whatever_the_umask(void **state)
{
	static const mode_t umasks[] = { 022, 0277, 0 };
	struct fx *f = *state;
	wm_autofree char *log = at(f, "logs/t.log");
	wm_autofree char *script = at(f, "scripts/t.body");
	wm_autofree char *opts = at(f, "options.json");
	wm_autofree char *outt = at(f, "out/t");
	wm_autofree char *in = at(f, "in/t/dep");
	wm_autofree char *old = at(f, "old.log");

	for (size_t i = 0; i < sizeof(umasks) / sizeof(umasks[0]); i++) {
		mode_t was = umask(umasks[i]);
		wm_autofree char *s = wm_rundir_write_script(f->run, "t", "body", "true", NULL);
		wm_autofree char *o = wm_rundir_make_out(f->run, "t", true, NULL);
		wm_autofree char *d = wm_rundir_make_in(f->run, "t", "dep", NULL);
		int fd = wm_rundir_open_log(f->run, "t", NULL);

		umask(was);
		assert_true(fd >= 0);
		close(fd);
		assert_non_null(s);
		assert_non_null(o);
		assert_non_null(d);
		assert_int_equal(wm_rundir_write_file(f->run, "options.json", "{}", 2, NULL), 0);
		assert_int_equal(mode_of(log), 0600);
		/* scripts: readable by a task of another uid, as the umask allows */
		assert_int_equal(mode_of(script), 0644 & ~umasks[i]);
		assert_int_equal(mode_of(opts), 0600);
		assert_int_equal(mode_of(outt), 0700);
		assert_int_equal(mode_of(in), 0700);
		assert_int_equal(mode_of(f->run), 0700);
		{
			wm_autofree char *logs = at(f, "logs");
			assert_int_equal(mode_of(logs), 0700);
		}
		/* Made afresh for the next umask. */
		assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "logs", NULL), 0);
		assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "scripts", NULL), 0);
		assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "in", NULL), 0);
		assert_int_equal(wm_safe_remove_tree(f->dfd, f->run, "out", NULL), 0);
		unlink(opts);
	}
	/* A file of ours that an older wm made 0644 is brought to 0600. */
	write_text(old, "x\n");
	assert_int_equal(chmod(old, 0644), 0);
	{
		int fd = wm_safe_open(f->dfd, f->run, "old.log", O_WRONLY | O_CREAT | O_APPEND,
				      0600, NULL);

		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(mode_of(old), 0600);
	/* A mode that is not private (a file for the user, `wm init`) goes
	 * through the umask as open(2) has it. */
	{
		wm_autofree char *user = at(f, "user.md");
		mode_t was = umask(022);
		int fd = wm_safe_open(f->dfd, f->run, "user.md", O_WRONLY | O_CREAT | O_EXCL, 0666,
				      NULL);

		umask(was);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(mode_of(user), 0644);
	}
}

#define T(fn)                                                  \
	cmocka_unit_test_setup_teardown(fn, setup2, teardown), \
		cmocka_unit_test_setup_teardown(fn, setup_fallback, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_link_never_followed),
		T(test_link_on_the_way),
		T(test_fifo_refused_without_blocking),
		T(test_device_refused),
		T(test_hard_link_not_written),
		T(test_read_limit_named),
		T(test_bad_names),
		T(test_remove_tree_stays_inside),
		T(test_remove_tree_any_depth),
		T(test_atomic_write_replaces_link),
		T(test_lines_bounded),
		T(test_last_line),
		T(test_task_files_refuse_links),
		T(test_modes_whatever_the_umask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
