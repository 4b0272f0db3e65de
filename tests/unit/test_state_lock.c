/* Unit tests for state/lock: exclusivity across processes, release on
 * death, holder identity, the orphan rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "state/lock.h"
#include "state/rundir.h"

/* Child: waits for the go byte, tries the lock, reports 'W' (won) or 'L'
 * (lost with exit code 3 and the holder named), then holds until killed. */
static pid_t taker(const char *dir, int go_fd, int report_fd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct wm_error *err = NULL;
		struct wm_lock *l;
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		if (read(go_fd, &c, 1) != 1)
			_exit(1);
		l = wm_lock_acquire(dir, "20261122-081503-a1b2", &err);
		if (l)
			c = 'W';
		else if (err && err->exit_code == WM_EXIT_CANNOT &&
			 strstr(err->msg, "locked by a live orchestrator"))
			c = 'L';
		else
			c = '?';
		if (err && c != 'L')
			fprintf(stderr, "taker: %s (errno %d)\n", err->msg, err->errnum);
		if (write(report_fd, &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	return pid;
}

static void test_two_takers_exactly_one_wins(void **state)
{
	char *t = scratch_dir();
	int go[2], rep[2];
	pid_t a, b;
	char r[2];
	int wins = 0, losses = 0;

	(void)state;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(rep), 0);
	a = taker(t, go[0], rep[1]);
	b = taker(t, go[0], rep[1]);
	/* Release both at once. */
	assert_int_equal(write(go[1], "xx", 2), 2);
	assert_int_equal(read(rep[0], &r[0], 1), 1);
	assert_int_equal(read(rep[0], &r[1], 1), 1);
	for (int i = 0; i < 2; i++) {
		wins += r[i] == 'W';
		losses += r[i] == 'L';
	}
	assert_int_equal(wins, 1);
	assert_int_equal(losses, 1);
	assert_int_equal(wm_lock_is_live(t, NULL), 1);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	/* The kernel released it with its holder. */
	assert_int_equal(wm_lock_is_live(t, NULL), 0);
	close(go[0]);
	close(go[1]);
	close(rep[0]);
	close(rep[1]);
	scratch_free(t);
}

static void test_holder_death_frees_lock(void **state)
{
	char *t = scratch_dir();
	struct wm_holder h = { 0 };
	struct wm_lock *l;
	int go[2], rep[2];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(wm_lock_is_live(t, NULL), 0); /* no lock file yet */
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(rep), 0);
	pid = taker(t, go[0], rep[1]);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(read(rep[0], &c, 1), 1);
	assert_int_equal(c, 'W');
	assert_int_equal(wm_lock_is_live(t, NULL), 1);
	/* The holder's identity is in the file. */
	assert_int_equal(wm_lock_read_holder(t, &h, NULL), 0);
	assert_int_equal(h.pid, pid);
	assert_non_null(h.host);
	assert_non_null(h.boot_id);
	assert_true(h.start_time > 0);
	wm_holder_release(&h);
	/* Probing does not take it: the holder still has it. */
	assert_int_equal(wm_lock_is_live(t, NULL), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(wm_lock_is_live(t, NULL), 0);
	l = wm_lock_acquire(t, "x", NULL);
	assert_non_null(l);
	assert_int_equal(wm_lock_read_holder(t, &h, NULL), 0);
	assert_int_equal(h.pid, getpid());
	wm_holder_release(&h);
	wm_lock_release(l);
	close(go[0]);
	close(go[1]);
	close(rep[0]);
	close(rep[1]);
	scratch_free(t);
}

static void test_lock_fd_is_cloexec(void **state)
{
	char *t = scratch_dir();
	struct wm_lock *l = wm_lock_acquire(t, "x", NULL);
	wm_autofree char *path = wm_rundir_file(t, WM_RUN_LOCK);
	int status, p[2];
	pid_t pid;
	char c;

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	/* A child that execs must not keep the lock alive. */
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/sh", "sh", "-c", "echo r; exec sleep 30", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1); /* exec has happened */
	close(p[0]);
	wm_lock_release(l);
	assert_int_equal(wm_lock_is_live(t, NULL), 0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	scratch_free(t);
}

static void test_self_identity(void **state)
{
	struct wm_holder h = { 0 };
	wm_autofree char *boot = wm_boot_id(NULL);

	(void)state;
	assert_int_equal(wm_holder_self(&h, NULL), 0);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.boot_id, boot);
	assert_int_equal(strlen(boot), 36);
	assert_true(h.start_time > 0);
	wm_holder_release(&h);
	assert_null(h.host);
}

static void test_orphan_rule(void **state)
{
	const char *now = "11111111-1111-1111-1111-111111111111";
	const char *old = "22222222-2222-2222-2222-222222222222";

	(void)state;
	/* Not running: never an orphan. */
	assert_false(wm_run_is_orphan(false, false, now, now));
	assert_false(wm_run_is_orphan(false, false, old, now));
	/* Running with a live holder from this boot: alive. */
	assert_false(wm_run_is_orphan(true, true, now, now));
	assert_false(wm_run_is_orphan(true, true, NULL, now));
	/* Running, lock free: orphan. */
	assert_true(wm_run_is_orphan(true, false, now, now));
	assert_true(wm_run_is_orphan(true, false, NULL, now));
	/* Running, boot id from an earlier boot: orphan even if "held". */
	assert_true(wm_run_is_orphan(true, true, old, now));
}

static void test_proc_start_time(void **state)
{
	uint64_t self = 0, byid = 0, dead = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(wm_proc_start_time(0, &self, NULL), 0);
	assert_int_equal(wm_proc_start_time(getpid(), &byid, NULL), 0);
	assert_true(self > 0);
	assert_int_equal(self, byid);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* A reaped process is gone: nothing to read. */
	assert_int_equal(wm_proc_start_time(pid, &dead, NULL), -1);
}

/* Running: the same process (start time), not ended; a zombie has ended. */
static void test_proc_is_running(void **state)
{
	uint64_t self = 0, child = 0;
	siginfo_t si;
	pid_t pid;

	(void)state;
	assert_int_equal(wm_proc_start_time(0, &self, NULL), 0);
	assert_true(wm_proc_is_running(getpid(), self));
	assert_false(wm_proc_is_running(getpid(), self + 1)); /* a reused pid */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* Ended but not waited for: a zombie, still in /proc. */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(wm_proc_start_time(pid, &child, NULL), 0);
	assert_false(wm_proc_is_running(pid, child));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_false(wm_proc_is_running(pid, child));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_start_time),
		cmocka_unit_test(test_proc_is_running),
		cmocka_unit_test(test_two_takers_exactly_one_wins),
		cmocka_unit_test(test_holder_death_frees_lock),
		cmocka_unit_test(test_lock_fd_is_cloexec),
		cmocka_unit_test(test_self_identity),
		cmocka_unit_test(test_orphan_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
