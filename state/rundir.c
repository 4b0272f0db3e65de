/*
 * rundir.c - state directory layout, run ids, listing and resolving runs.
 */
#include "state/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "state/outputs.h"
#include "state/safeio.h"

bool wm_run_id_valid(const char *id)
{
	static const char shape[] = "dddddddd-dddddd-xxxx";

	if (!id || strlen(id) != WM_RUN_ID_LEN)
		return false;
	for (size_t i = 0; i < WM_RUN_ID_LEN; i++) {
		char c = id[i];

		if (shape[i] == '-' && c != '-')
			return false;
		if (shape[i] == 'd' && !(c >= '0' && c <= '9'))
			return false;
		if (shape[i] == 'x' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

long long wm_run_id_time_ms(const char *id)
{
	struct tm tm = { 0 };

	if (!wm_run_id_valid(id) || !strptime(id, "%Y%m%d-%H%M%S", &tm))
		return 0;
	return (long long)timegm(&tm) * 1000;
}

int wm_run_id_new(char out[WM_RUN_ID_LEN + 1], struct wm_error **err)
{
	unsigned char rnd[2];
	struct tm tm;
	time_t now = time(NULL);
	char buf[64];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return wm_error_set(err, errno, "getrandom");
	if (!gmtime_r(&now, &tm))
		return wm_error_set(err, errno, "gmtime");
	snprintf(buf, sizeof(buf), "%04d%02d%02d-%02d%02d%02d-%02x%02x",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, rnd[0], rnd[1]);
	if (!wm_run_id_valid(buf))
		return wm_error_set(err, 0, "bad clock: run id `%s`", buf);
	memcpy(out, buf, WM_RUN_ID_LEN + 1);
	return 0;
}

char *wm_rundir_runs_dir(const char *state_dir)
{
	return wm_xasprintf("%s/runs", state_dir);
}

char *wm_rundir_path(const char *state_dir, const char *run_id)
{
	return wm_xasprintf("%s/runs/%s", state_dir, run_id);
}

char *wm_rundir_file(const char *run_dir, const char *name)
{
	return wm_xasprintf("%s/%s", run_dir, name);
}

char *wm_rundir_out_path(const char *run_dir, const char *task_id)
{
	return wm_xasprintf("%s/" WM_RUN_OUT "/%s", run_dir, task_id);
}

/* The state directory is the user's choice (it may itself be a link, to
 * another disk say): it is opened as given. What lies below it is not. */
static int open_state_dir(const char *state_dir, struct wm_error **err)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? wm_error_set(err, errno, "open state directory `%s`", state_dir) : fd;
}

int wm_rundir_open_fd(const char *run_dir, struct wm_error **err)
{
	size_t len = strlen(run_dir), tail = strlen("/runs/") + WM_RUN_ID_LEN;
	wm_autofree char *state = NULL;
	wm_autoclose int sfd = -1;

	/* <state>/runs/<id>: runs/ and <id> are opened without following
	 * links, relative to the state directory. Any other directory (tests,
	 * tools) is taken as given, but its last component must be no link. */
	if (len <= tail || strncmp(run_dir + len - tail, "/runs/", 6) != 0 ||
	    !wm_run_id_valid(run_dir + len - WM_RUN_ID_LEN))
		return wm_safe_opendir_path(run_dir, err);
	state = wm_xstrndup(run_dir, len - tail);
	sfd = open_state_dir(*state ? state : "/", err);
	if (sfd < 0)
		return -1;
	return wm_safe_opendir(sfd, state, run_dir + len - tail + 1, false, 0, err);
}

int wm_state_dir_make(const char *path, struct wm_error **err)
{
	wm_autofree char *copy = wm_xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			return wm_error_set(err, errno, "cannot create state directory `%s`", copy);
		*p = '/';
	}
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
		return wm_error_set(err, errno, "cannot create state directory `%s`", copy);
	return 0;
}

static int copy_file(const char *src, int dfd, const char *dir, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autoclose int fd = -1;
	int rc = -1;

	if (wm_buf_read_file(&b, src) < 0) {
		wm_error_set(err, errno, "read workflow `%s`", src);
		goto out;
	}
	fd = wm_safe_open(dfd, dir, WM_RUN_WORKFLOW, O_WRONLY | O_CREAT | O_EXCL, 0600, err);
	if (fd < 0)
		goto out;
	if (wm_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
		wm_error_set(err, errno, "write `%s/" WM_RUN_WORKFLOW "`", dir);
		goto out;
	}
	rc = 0;
out:
	wm_buf_release(&b);
	return rc;
}

static int populate(int dfd, const char *dir, const char *workflow_file, struct wm_error **err)
{
	static const char *const subdirs[] = { WM_RUN_LOGS, WM_RUN_OUT };

	for (size_t i = 0; i < 2; i++) {
		int fd = wm_safe_opendir(dfd, dir, subdirs[i], true, 0700, err);

		if (fd < 0)
			return -1;
		close(fd);
	}
	if (copy_file(workflow_file, dfd, dir, err) < 0)
		return -1;
	if (fsync(dfd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", dir);
	return 0;
}

/* The run directory just made, 0700 whatever the umask: the run is its
 * owner's alone. */
static int open_new_run(int runsfd, const char *runs, const char *id, struct wm_error **err)
{
	int dfd = wm_safe_opendir(runsfd, runs, id, false, 0, err);

	if (dfd >= 0 && fchmod(dfd, 0700) < 0) {
		wm_error_set(err, errno, "chmod `%s/%s`", runs, id);
		close(dfd);
		return -1;
	}
	return dfd;
}

/* One attempt at a fresh id: 1 made, 0 the id was taken, -1 error. */
static int create_one(int runsfd, const char *runs, const char *id, const char *workflow_file,
		      struct wm_error **err)
{
	wm_autoclose int dfd = -1;
	wm_autofree char *dir = wm_xasprintf("%s/%s", runs, id);

	if (mkdirat(runsfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		return wm_error_set(err, errno, "cannot create run directory `%s`", dir);
	}
	dfd = open_new_run(runsfd, runs, id, err);
	if (dfd < 0 || populate(dfd, dir, workflow_file, err) < 0) {
		wm_safe_remove_tree(runsfd, runs, id, NULL);
		return -1;
	}
	if (fsync(runsfd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", runs);
	return 1;
}

char *wm_rundir_create(const char *state_dir, const char *workflow_file,
		       char run_id[WM_RUN_ID_LEN + 1], struct wm_error **err)
{
	wm_autofree char *runs = wm_rundir_runs_dir(state_dir);
	wm_autoclose int sfd = -1;
	wm_autoclose int runsfd = -1;

	if (wm_state_dir_make(state_dir, err) < 0 || (sfd = open_state_dir(state_dir, err)) < 0)
		return NULL;
	runsfd = wm_safe_opendir(sfd, state_dir, "runs", true, 0700, err);
	if (runsfd < 0)
		return NULL;
	for (int tries = 0; tries < 64; tries++) {
		int rc;

		if (wm_run_id_new(run_id, err) < 0)
			return NULL;
		rc = create_one(runsfd, runs, run_id, workflow_file, err);
		if (rc < 0)
			return NULL;
		if (rc > 0)
			return wm_rundir_path(state_dir, run_id);
	}
	wm_error_set(err, EEXIST, "cannot find a free run id in `%s`", runs);
	return NULL;
}

static int cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The runs directory, or -1 with *missing when there is none yet. */
static int open_runs(const char *state_dir, bool *missing, struct wm_error **err)
{
	wm_autoclose int sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd;

	*missing = false;
	if (sfd < 0) {
		*missing = errno == ENOENT;
		return *missing ? -1 : wm_error_set(err, errno, "open `%s`", state_dir);
	}
	if (faccessat(sfd, "runs", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		*missing = true;
		return -1;
	}
	fd = wm_safe_opendir(sfd, state_dir, "runs", false, 0, err);
	return fd;
}

int wm_rundir_list(const char *state_dir, char ***ids, size_t *n, struct wm_error **err)
{
	bool missing;
	int fd = open_runs(state_dir, &missing, err);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **v = NULL;
	size_t nv = 0;

	*ids = NULL;
	*n = 0;
	if (!d) {
		if (fd >= 0) {
			close(fd);
			return wm_error_set(err, errno, "read `%s/runs`", state_dir);
		}
		if (!missing)
			return -1;
		*ids = wm_xcalloc(1, sizeof(char *));
		return 0;
	}
	while ((e = readdir(d)))
		if (wm_run_id_valid(e->d_name))
			wm_strv_push(&v, &nv, e->d_name);
	closedir(d);
	if (!v) {
		v = wm_xcalloc(1, sizeof(*v));
	} else {
		qsort(v, nv, sizeof(*v), cmp_desc);
	}
	*ids = v;
	*n = nv;
	return 0;
}

/* The run id a mistyped one (a swapped or wrong character, a prefix with
 * one) was meant to be: its index, or n. */
static size_t suggest_run(char **ids, size_t n, const char *prefix)
{
	size_t len = strlen(prefix), best = n, best_d = 3;

	for (size_t i = 0; i < n; i++) {
		/* a prefix is compared with as much of the id */
		wm_autofree char *head = wm_xstrndup(ids[i], len);
		size_t d = wm_edit_distance(prefix, head, 2);

		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	return len >= 8 ? best : n;
}

char *wm_rundir_resolve(const char *state_dir, const char *prefix, struct wm_error **err)
{
	wm_autostrv char **ids = NULL;
	size_t n = 0, hits = 0, first = 0;
	struct wm_buf cand = WM_BUF_INIT;
	char *res = NULL;

	if (wm_rundir_list(state_dir, &ids, &n, err) < 0)
		return NULL;
	if (n == 0) {
		if (prefix && *prefix)
			wm_error_setx(err, WM_EXIT_USAGE,
				      "unknown run id '%s' (no runs in `%s/runs`)", prefix,
				      state_dir);
		else
			wm_error_setx(err, WM_EXIT_USAGE, "no runs in `%s/runs`", state_dir);
		goto out;
	}
	if (!prefix || !*prefix) {
		res = wm_xstrdup(ids[0]);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!wm_str_has_prefix(ids[i], prefix))
			continue;
		if (strcmp(ids[i], prefix) == 0) {
			res = wm_xstrdup(ids[i]);
			goto out;
		}
		if (hits++ == 0)
			first = i;
		if (hits <= 10)
			wm_buf_addf(&cand, "%s%s", hits > 1 ? ", " : "", ids[i]);
	}
	if (hits == 1)
		res = wm_xstrdup(ids[first]);
	else if (hits == 0 && (first = suggest_run(ids, n, prefix)) < n)
		wm_error_setx(err, WM_EXIT_USAGE, "unknown run id '%s' (did you mean %s?)", prefix,
			      ids[first]);
	else if (hits == 0)
		wm_error_setx(err, WM_EXIT_USAGE, "unknown run id '%s' (see 'wm list')", prefix);
	else
		wm_error_setx(err, WM_EXIT_USAGE, "run id prefix '%s' is ambiguous: %s%s", prefix,
			      cand.data, hits > 10 ? ", ..." : "");
out:
	wm_buf_release(&cand);
	return res;
}

#define REMOVING ".removing-"

/* The runs directory, opened without following a link; missing: error. */
static int runs_fd(const char *state_dir, struct wm_error **err)
{
	bool missing;
	int fd = open_runs(state_dir, &missing, err);

	if (fd < 0 && missing)
		return wm_error_set(err, ENOENT, "no runs in `%s/runs`", state_dir);
	return fd;
}

int wm_rundir_remove(const char *state_dir, const char *run_id, struct wm_error **err)
{
	wm_autofree char *runs = wm_rundir_runs_dir(state_dir);
	wm_autofree char *hidden = wm_xasprintf(REMOVING "%s", run_id);
	wm_autoclose int fd = -1;

	if (!wm_run_id_valid(run_id))
		return wm_error_setx(err, WM_EXIT_USAGE, "bad run id '%s'", run_id);
	if ((fd = runs_fd(state_dir, err)) < 0)
		return -1;
	if (renameat(fd, run_id, fd, hidden) < 0)
		return wm_error_set(err, errno, "move `%s/%s` out of the way", runs, run_id);
	if (fsync(fd) < 0 && errno != EINVAL)
		return wm_error_set(err, errno, "fsync directory `%s`", runs);
	return wm_safe_remove_tree(fd, runs, hidden, err);
}

int wm_rundir_remove_leftovers(const char *state_dir, size_t *n, struct wm_error **err)
{
	wm_autofree char *runs = wm_rundir_runs_dir(state_dir);
	wm_autostrv char **names = NULL;
	wm_autoclose int fd = -1;
	bool missing;

	*n = 0;
	fd = open_runs(state_dir, &missing, err);
	if (fd < 0)
		return missing ? 0 : -1;
	if (!(names = wm_safe_list_dir(fd, runs, err)))
		return -1;
	for (size_t i = 0; names[i]; i++) {
		if (!wm_str_has_prefix(names[i], REMOVING) ||
		    !wm_run_id_valid(names[i] + strlen(REMOVING)))
			continue;
		if (wm_safe_remove_tree(fd, runs, names[i], err) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

int wm_rundir_usage(const char *state_dir, const char *run_id, uint64_t *bytes,
		    struct wm_error **err)
{
	wm_autofree char *runs = wm_rundir_runs_dir(state_dir);
	wm_autoclose int fd = -1;

	if (!wm_run_id_valid(run_id))
		return wm_error_setx(err, WM_EXIT_USAGE, "bad run id '%s'", run_id);
	if ((fd = runs_fd(state_dir, err)) < 0)
		return -1;
	return wm_tree_usage(fd, runs, run_id, bytes, err);
}

static char *sha256_hex(const struct wm_buf *b)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];

	crypto_hash_sha256(h, (const unsigned char *)b->data, b->len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return wm_xstrdup(hex);
}

char *wm_rundir_hash_file(const char *run_dir, const char *name, struct wm_error **err)
{
	wm_autoclose int dfd = wm_rundir_open_fd(run_dir, err);
	struct wm_buf b = WM_BUF_INIT;
	char *hex = NULL;

	if (dfd >= 0 && wm_safe_read(dfd, run_dir, name, WM_RUN_WORKFLOW_MAX, "file", &b, err) == 0)
		hex = sha256_hex(&b);
	wm_buf_release(&b);
	return hex;
}

char *wm_state_format_time(long long ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (ms < 0 || !gmtime_r(&secs, &tm))
		return wm_xstrdup("-");
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return wm_xasprintf("%s.%03dZ", buf, (int)(ms % 1000));
}

int wm_state_parse_time(const char *s, long long *ms, struct wm_error **err)
{
	return wm_parse_utc_time(s, ms, err);
}
