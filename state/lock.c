/*
 * lock.c - the run lock (flock) and the holder's identity.
 */
#include "state/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* A lock file holds four short lines. */
#define WM_LOCK_MAX 4096

struct wm_lock {
	int fd;
};

void wm_holder_release(struct wm_holder *h)
{
	if (!h)
		return;
	free(h->host);
	free(h->boot_id);
	memset(h, 0, sizeof(*h));
}

char *wm_boot_id(struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	char *id;

	if (wm_buf_read_file(&b, "/proc/sys/kernel/random/boot_id") < 0) {
		wm_error_set(err, errno, "read /proc/sys/kernel/random/boot_id");
		wm_buf_release(&b);
		return NULL;
	}
	id = wm_str_trim(b.data);
	wm_buf_release(&b);
	return id;
}

/* Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; pid 0: this
 * process. */
static int read_stat(pid_t pid, char *state, uint64_t *start, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	char path[64];
	const char *p;
	int field = 2, rc = -1;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/stat");
	if (wm_buf_read_file(&b, path) < 0) {
		wm_error_set(err, errno, "read %s", path);
		goto out;
	}
	/* The name (field 2) may hold spaces and parentheses: count from
	 * the last ')'. */
	p = strrchr(b.data, ')');
	if (p && p[1] == ' ' && p[2])
		*state = p[2];
	while (p && field < 22) {
		p = strchr(p + 1, ' ');
		field++;
	}
	if (!p) {
		wm_error_set(err, 0, "cannot parse %s", path);
		goto out;
	}
	*start = strtoull(p + 1, NULL, 10);
	rc = 0;
out:
	wm_buf_release(&b);
	return rc;
}

int wm_proc_start_time(pid_t pid, uint64_t *out, struct wm_error **err)
{
	char state = '?';

	return read_stat(pid, &state, out, err);
}

bool wm_proc_is_running(pid_t pid, uint64_t start_time)
{
	char state = '?';
	uint64_t t;
	int rc = read_stat(pid, &state, &t, NULL);

	/* A zombie has ended: only its parent's wait is missing. */
	return rc == 0 && t == start_time && state != 'Z' && state != 'X';
}

int wm_holder_self(struct wm_holder *h, struct wm_error **err)
{
	char host[256] = "";

	memset(h, 0, sizeof(*h));
	h->pid = getpid();
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	h->host = wm_xstrdup(host);
	h->boot_id = wm_boot_id(err);
	if (!h->boot_id || wm_proc_start_time(0, &h->start_time, err) < 0) {
		wm_holder_release(h);
		return -1;
	}
	return 0;
}

static int write_holder(int fd, const struct wm_holder *h, const char *path, struct wm_error **err)
{
	wm_autofree char *text =
		wm_xasprintf("pid %d\nhost %s\nboot_id %s\nstart_time %" PRIu64 "\n", (int)h->pid,
			     h->host, h->boot_id, h->start_time);
	size_t len = strlen(text);

	if (ftruncate(fd, 0) < 0)
		return wm_error_set(err, errno, "truncate `%s`", path);
	if (pwrite(fd, text, len, 0) != (ssize_t)len)
		return wm_error_set(err, errno ? errno : EIO, "write `%s`", path);
	if (fdatasync(fd) < 0)
		return wm_error_set(err, errno, "fsync `%s`", path);
	return 0;
}

static int parse_holder(const char *text, struct wm_holder *h)
{
	wm_autofree char *copy = wm_xstrdup(text);
	char *save = NULL;

	memset(h, 0, sizeof(*h));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, ' ');

		if (!val)
			continue;
		*val++ = '\0';
		if (strcmp(line, "pid") == 0)
			h->pid = (pid_t)strtol(val, NULL, 10);
		else if (strcmp(line, "host") == 0 && !h->host)
			h->host = wm_xstrdup(val);
		else if (strcmp(line, "boot_id") == 0 && !h->boot_id)
			h->boot_id = wm_xstrdup(val);
		else if (strcmp(line, "start_time") == 0)
			h->start_time = strtoull(val, NULL, 10);
	}
	return 0;
}

/* Opens the lock file: a regular file, never through a link (safeio.h);
 * -2 when it does not exist and !create. */
static int open_lock(const char *run_dir, int flags, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	struct wm_error *e = NULL;
	int fd;

	if (dfd < 0)
		return -1;
	fd = wm_safe_open(dfd, run_dir, WM_RUN_LOCK, flags, 0600, &e);
	if (fd < 0 && e->errnum == ENOENT && !(flags & O_CREAT)) {
		wm_error_free(e);
		return -2;
	}
	if (fd < 0)
		wm_err_pass(err, e);
	return fd;
}

int wm_lock_read_holder(const char *run_dir, struct wm_holder *h, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_LOCK);
	wm_autoclose int fd = open_lock(run_dir, O_RDONLY, err);
	struct wm_buf b = WM_BUF_INIT;

	memset(h, 0, sizeof(*h));
	if (fd == -2)
		return 0;
	if (fd < 0 || wm_safe_read_fd(fd, path, WM_LOCK_MAX, "lock", &b, err) < 0) {
		wm_buf_release(&b);
		return -1;
	}
	parse_holder(b.data, h);
	wm_buf_release(&b);
	return 0;
}

struct wm_lock *wm_lock_acquire(const char *run_dir, const char *run_id, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_LOCK);
	wm_autoclose int fd = open_lock(run_dir, O_RDWR | O_CREAT, err);
	struct wm_holder self = { 0 };
	struct wm_lock *l;

	if (fd < 0)
		return NULL;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct wm_holder other = { 0 };

		if (errno != EWOULDBLOCK) {
			wm_error_set(err, errno, "lock `%s`", path);
			return NULL;
		}
		/* The winner writes its identity right after taking the lock: give
		 * it a moment so the message can name it. */
		for (int i = 0; i < 20; i++) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			wm_holder_release(&other);
			wm_lock_read_holder(run_dir, &other, NULL);
			if (other.pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (other.pid)
			wm_error_setx(err, WM_EXIT_CANNOT,
				      "run %s is locked by a live orchestrator (pid %d on %s)",
				      run_id, (int)other.pid, other.host ? other.host : "?");
		else
			wm_error_setx(err, WM_EXIT_CANNOT,
				      "run %s is locked by a live orchestrator", run_id);
		wm_holder_release(&other);
		return NULL;
	}
	if (wm_holder_self(&self, err) < 0 || write_holder(fd, &self, path, err) < 0) {
		wm_holder_release(&self);
		return NULL;
	}
	wm_holder_release(&self);
	l = wm_xcalloc(1, sizeof(*l));
	l->fd = wm_steal_fd(&fd);
	return l;
}

void wm_lock_release(struct wm_lock *l)
{
	if (!l)
		return;
	/* Closing the only fd of the open file description drops the flock. */
	close(l->fd);
	free(l);
}

int wm_lock_is_live(const char *run_dir, struct wm_error **err)
{
	wm_autofree char *path = wm_rundir_file(run_dir, WM_RUN_LOCK);
	wm_autoclose int fd = open_lock(run_dir, O_RDONLY, err);

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 1;
		return wm_error_set(err, errno, "probe lock `%s`", path);
	}
	/* Our probe lock is dropped by the close. */
	return 0;
}

bool wm_run_is_orphan(bool run_running, bool lock_live, const char *recorded_boot_id,
		      const char *current_boot_id)
{
	if (!run_running)
		return false;
	if (!lock_live)
		return true;
	return recorded_boot_id && *recorded_boot_id && current_boot_id &&
	       strcmp(recorded_boot_id, current_boot_id) != 0;
}
