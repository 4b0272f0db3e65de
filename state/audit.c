/*
 * audit.c - the keyed MAC chain of audit.jsonl (see audit.h).
 */
#include "state/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define ZERO_MAC "0000000000000000000000000000000000000000000000000000000000000000"

struct wm_audit {
	int fd;
	char *path;
	char *run_id;
	unsigned char key[WM_AUDIT_KEY_LEN];
	uint64_t seq;
	char mac[WM_AUDIT_MAC_HEX + 1];
};

/* ---- key ---- */

/* A key that is no regular file of mode 0600 and 32 bytes is refused with
 * exit code 2, as a missing one is: the log cannot be verified with it. */
static int read_key(int sfd, const char *state_dir, unsigned char key[WM_AUDIT_KEY_LEN],
		    struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/" WM_AUDIT_KEY_FILE, state_dir);
	wm_autoclose int fd = wm_safe_open(sfd, state_dir, WM_AUDIT_KEY_FILE, O_RDONLY, 0, err);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		if (wm_err_errnum(err) != ENOENT)
			wm_err_exit(err, WM_EXIT_USAGE);
		return -1;
	}
	if (fstat(fd, &st) < 0)
		return wm_error_set(err, errno, "stat audit key `%s`", path);
	if (st.st_mode & 077)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` must be a regular file of mode 0600 (is %04o)",
				     path, (unsigned)(st.st_mode & 07777));
	if (st.st_size != WM_AUDIT_KEY_LEN)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` must be %d bytes (is %lld)", path,
				     WM_AUDIT_KEY_LEN, (long long)st.st_size);
	n = read(fd, key, WM_AUDIT_KEY_LEN);
	if (n != WM_AUDIT_KEY_LEN)
		return wm_error_set(err, n < 0 ? errno : EIO, "read audit key `%s`", path);
	return 0;
}

/* Writes a new key under a temporary name, then links it into place: a
 * concurrent reader sees either no key or a complete one, and of two racing
 * creators the link of only one succeeds (the other reads the winner's). */
static int create_key(int sfd, const char *state_dir, struct wm_error **err)
{
	unsigned char key[WM_AUDIT_KEY_LEN];
	wm_autofree char *tmp = wm_xasprintf(".audit.key.%d", (int)getpid());
	wm_autoclose int fd = -1;
	int rc = -1;

	unlinkat(sfd, tmp, 0);
	fd = wm_safe_open(sfd, state_dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600, err);
	if (fd < 0)
		return wm_error_wrap(err, "create audit key");
	randombytes_buf(key, sizeof(key));
	if (wm_write_all(fd, key, sizeof(key)) < 0 || fsync(fd) < 0) {
		wm_error_set(err, errno ? errno : EIO, "write audit key `%s/%s`", state_dir, tmp);
		goto out;
	}
	if (linkat(sfd, tmp, sfd, WM_AUDIT_KEY_FILE, 0) < 0 && errno != EEXIST) {
		wm_error_set(err, errno, "create audit key `%s/" WM_AUDIT_KEY_FILE "`", state_dir);
		goto out;
	}
	rc = fsync(sfd) < 0 && errno != EINVAL
		     ? wm_error_set(err, errno, "fsync directory `%s`", state_dir)
		     : 0;
out:
	sodium_memzero(key, sizeof(key));
	unlinkat(sfd, tmp, 0);
	return rc;
}

int wm_audit_key_load(const char *state_dir, bool create, unsigned char key[WM_AUDIT_KEY_LEN],
		      struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/" WM_AUDIT_KEY_FILE, state_dir);
	wm_autoclose int sfd = -1;
	struct wm_error *e = NULL;

	if (sodium_init() < 0)
		return wm_error_set(err, 0, "libsodium cannot initialise");
	if (create && mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return wm_error_set(err, errno, "cannot create state directory `%s`", state_dir);
	sfd = wm_safe_opendir_path(state_dir, &e);
	if (sfd < 0) {
		if (e->errnum != ENOENT) {
			wm_err_pass(err, e);
			return -1;
		}
		wm_error_free(e);
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` is missing: the log cannot be verified", path);
	}
	if (read_key(sfd, state_dir, key, &e) == 0)
		return 0;
	if (e->errnum != ENOENT) {
		wm_err_pass(err, e);
		return -1;
	}
	wm_error_free(e);
	if (!create)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "audit key `%s` is missing: the log cannot be verified", path);
	if (create_key(sfd, state_dir, err) < 0)
		return -1;
	return read_key(sfd, state_dir, key, err);
}

/* ---- MAC ---- */

/* mac of obj without its "mac" member, over JSON_COMPACT|JSON_SORT_KEYS. */
static int line_mac(json_t *obj, const unsigned char *key, char hex[WM_AUDIT_MAC_HEX + 1])
{
	json_t *copy = json_copy(obj); /* new ref, shallow */
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char *text;

	if (!copy)
		return -1;
	json_object_del(copy, "mac");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!text)
		return -1;
	crypto_auth_hmacsha256(mac, (const unsigned char *)text, strlen(text), key);
	free(text);
	sodium_bin2hex(hex, WM_AUDIT_MAC_HEX + 1, mac, sizeof(mac));
	return 0;
}

static bool mac_equal(const char *a, const char *b)
{
	return strlen(a) == WM_AUDIT_MAC_HEX && strlen(b) == WM_AUDIT_MAC_HEX &&
	       sodium_memcmp(a, b, WM_AUDIT_MAC_HEX) == 0;
}

/* ---- writer ---- */

/* The log at path: its directory as given, the file itself opened with the
 * rules of safeio.h (no link, regular file only). */
static int open_log(const char *path, int flags, struct wm_error **err)
{
	const char *slash = strrchr(path, '/');
	wm_autofree char *dir = slash ? wm_xstrndup(path, (size_t)(slash - path)) : wm_xstrdup(".");
	wm_autoclose int dfd = wm_safe_opendir_path(*dir ? dir : "/", err);
	int fd;

	if (dfd < 0)
		return -1;
	fd = wm_safe_open(dfd, dir, slash ? slash + 1 : path, flags, 0600, err);
	return fd < 0 ? wm_error_wrap(err, "cannot open audit log") : fd;
}

/* Finds the chain's end: the last complete line's seq and mac. A torn
 * last line (no newline) is cut. Lines are trusted here (the writer's own
 * file); verification is wm_audit_verify's job. */
/* Finds the chain's end: the last complete line's seq and mac, read from
 * the file's end. A torn last line (no newline) is cut. */
static int resume_chain(struct wm_audit *a, char **warning, struct wm_error **err)
{
	struct wm_buf last = WM_BUF_INIT;
	struct stat st;
	off_t start, tail;
	int rc = wm_safe_last_line(a->fd, a->path, WM_AUDIT_LINE_MAX, &last, &start, &tail, err);

	if (rc < 0 || fstat(a->fd, &st) < 0)
		goto out;
	if (tail < st.st_size) {
		if (ftruncate(a->fd, tail) < 0) {
			rc = wm_error_set(err, errno, "truncate audit log `%s`", a->path);
			goto out;
		}
		if (warning)
			*warning = wm_xasprintf(
				"audit log `%s`: torn last line (interrupted write) removed",
				a->path);
	}
	if (rc == 1) {
		json_t *o = json_loadb(last.data, last.len, 0, NULL); /* new ref */
		json_t *seq = json_object_get(o, "seq");
		const char *mac = json_string_value(json_object_get(o, "mac"));

		rc = 0;
		if (json_is_integer(seq) && mac && strlen(mac) == WM_AUDIT_MAC_HEX) {
			a->seq = (uint64_t)json_integer_value(seq);
			memcpy(a->mac, mac, WM_AUDIT_MAC_HEX + 1);
		} else {
			rc = wm_error_set(err, 0,
					  "audit log `%s`: last line is not an audit record",
					  a->path);
		}
		json_decref(o);
	}
out:
	wm_buf_release(&last);
	return rc < 0 ? -1 : 0;
}

struct wm_audit *wm_audit_open(const char *path, const char *run_id,
			       const unsigned char key[WM_AUDIT_KEY_LEN], char **warning,
			       struct wm_error **err)
{
	struct wm_audit *a;
	int fd;

	if (warning)
		*warning = NULL;
	fd = open_log(path, O_RDWR | O_APPEND | O_CREAT, err);
	if (fd < 0)
		return NULL;
	a = wm_xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->path = wm_xstrdup(path);
	a->run_id = wm_xstrdup(run_id);
	memcpy(a->key, key, WM_AUDIT_KEY_LEN);
	if (resume_chain(a, warning, err) < 0) {
		wm_audit_close(a);
		return NULL;
	}
	return a;
}

static bool reserved(const char *k)
{
	static const char *const names[] = { "seq", "ts", "run", "task", "event", "prev", "mac" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return true;
	return false;
}

int wm_audit_append(struct wm_audit *a, const char *task, const char *event, json_t *fields,
		    struct wm_error **err)
{
	json_t *o = json_object();
	wm_autofree char *ts = wm_state_format_time(wm_state_now_ms());
	char mac[WM_AUDIT_MAC_HEX + 1];
	struct wm_buf line = WM_BUF_INIT;
	const char *k;
	json_t *v;
	char *text = NULL;
	off_t size_before;
	int rc = -1;

	if (fields && json_is_object(fields)) {
		json_object_foreach(fields, k, v)
		{
			if (!reserved(k))
				json_object_set(o, k, v); /* does not steal: fields is borrowed */
		}
	}
	json_object_set_new(o, "seq", json_integer((json_int_t)a->seq + 1)); /* steals */
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "run", json_string(a->run_id));
	json_object_set_new(o, "task", task ? json_string(task) : json_null());
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "prev", json_string(a->seq ? a->mac : ZERO_MAC));
	if (line_mac(o, a->key, mac) < 0) {
		wm_error_set(err, EINVAL, "audit: cannot serialize event %s", event);
		goto out;
	}
	json_object_set_new(o, "mac", json_string(mac));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	wm_buf_addstr(&line, text);
	wm_buf_addch(&line, '\n');
	size_before = lseek(a->fd, 0, SEEK_END);
	errno = 0;
	if (write(a->fd, line.data, line.len) != (ssize_t)line.len) {
		int e = errno ? errno : ENOSPC;

		/* Do not leave a partial line for the next one to glue onto. */
		if (size_before >= 0 && ftruncate(a->fd, size_before) < 0)
			e = e ? e : errno; /* the write's errno stays the cause */
		wm_error_set(err, e, "cannot append to audit log `%s`", a->path);
		goto out;
	}
	a->seq++;
	memcpy(a->mac, mac, sizeof(mac));
	rc = 0;
out:
	free(text);
	wm_buf_release(&line);
	json_decref(o);
	return rc;
}

int wm_audit_flush(struct wm_audit *a, struct wm_error **err)
{
	if (fdatasync(a->fd) < 0)
		return wm_error_set(err, errno, "cannot sync audit log `%s`", a->path);
	return 0;
}

uint64_t wm_audit_seq(const struct wm_audit *a)
{
	return a->seq;
}

const char *wm_audit_mac(const struct wm_audit *a)
{
	return a->seq ? a->mac : "";
}

void wm_audit_close(struct wm_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	sodium_memzero(a->key, sizeof(a->key));
	free(a->path);
	free(a->run_id);
	free(a);
}

int wm_audit_open_read(const char *path, struct wm_error **err)
{
	int fd = open_log(path, O_RDONLY, err);
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size > WM_AUDIT_FILE_MAX) {
		close(fd);
		fd = wm_error_set(err, EFBIG, "audit log `%s` is %lld bytes, over the limit of %lu",
				  path, (long long)st.st_size, WM_AUDIT_FILE_MAX);
	}
	if (fd < 0)
		wm_err_exit(err, WM_EXIT_USAGE);
	return fd;
}

/* ---- verification ---- */

static const char *const problem_names[] = {
	"ok",	     "edited",	  "inserted",	    "removed",
	"reordered", "truncated", "torn-last-line", "bad-json"
};

const char *wm_audit_problem_name(enum wm_audit_problem p)
{
	return (unsigned)p < sizeof(problem_names) / sizeof(problem_names[0]) ? problem_names[p]
									      : "unknown";
}

void wm_audit_result_release(struct wm_audit_result *r)
{
	if (!r)
		return;
	free(r->message);
	memset(r, 0, sizeof(*r));
}

struct vline {
	json_t *obj;   /* NULL: not a JSON object */
	long long seq; /* -1: none */
	bool mac_ok;
	const char *prev, *mac, *run;
};

struct vctx {
	struct vline *v;
	size_t n;
	bool torn; /* the last line has no newline */
};

static void vline_parse(struct vline *l, const char *text, size_t len, const unsigned char *key)
{
	char mac[WM_AUDIT_MAC_HEX + 1];
	json_t *seq;

	memset(l, 0, sizeof(*l));
	l->seq = -1;
	l->obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL); /* new ref, ours */
	if (l->obj && !json_is_object(l->obj)) {
		json_decref(l->obj);
		l->obj = NULL;
	}
	if (!l->obj)
		return;
	seq = json_object_get(l->obj, "seq");
	l->seq = json_is_integer(seq) ? json_integer_value(seq) : -1;
	l->prev = json_string_value(json_object_get(l->obj, "prev"));
	l->mac = json_string_value(json_object_get(l->obj, "mac"));
	l->run = json_string_value(json_object_get(l->obj, "run"));
	l->mac_ok = l->mac && line_mac(l->obj, key, mac) == 0 && mac_equal(mac, l->mac);
}

static int split_lines(struct vctx *c, struct wm_buf *b, const unsigned char *key)
{
	size_t pos = 0, alloc = 0;

	while (pos < b->len) {
		char *nl = memchr(b->data + pos, '\n', b->len - pos);
		size_t len = nl ? (size_t)(nl - (b->data + pos)) : b->len - pos;

		WM_GROW(c->v, alloc, c->n + 1);
		vline_parse(&c->v[c->n++], b->data + pos, len, key);
		if (!nl)
			c->torn = true;
		pos += len + 1;
	}
	return 0;
}

static void result_set(struct wm_audit_result *r, enum wm_audit_problem p, uint64_t seq,
		       size_t lineno, const char *why)
{
	r->problem = p;
	r->first_bad_seq = seq;
	free(r->message);
	r->message = wm_xasprintf("line %zu (seq %llu): %s: %s", lineno, (unsigned long long)seq,
				  wm_audit_problem_name(p), why);
}

/* Does a line at or after `from` carry seq `want` with a valid MAC? */
static bool seq_later(const struct vctx *c, size_t from, uint64_t want)
{
	for (size_t i = from; i < c->n; i++)
		if (c->v[i].mac_ok && c->v[i].seq == (long long)want)
			return true;
	return false;
}

/* Walks the chain; returns the index of the first bad line or c->n. */
static size_t walk(const struct vctx *c, struct wm_audit_result *r, uint64_t *expected,
		   uint64_t expected_seq, char *mac_at_expected)
{
	const char *prev = ZERO_MAC, *run = NULL;
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct vline *l = &c->v[i];

		if (c->torn && i == c->n - 1) {
			result_set(r, WM_AUDIT_TORN, *expected, i + 1,
				   "incomplete last line (interrupted write)");
			break;
		}
		if (!l->obj) {
			result_set(r, WM_AUDIT_BAD_JSON, *expected, i + 1, "not a JSON object");
			break;
		}
		if (!l->mac_ok) {
			const struct vline *nx = i + 1 < c->n ? &c->v[i + 1] : NULL;
			bool fits = nx && nx->mac_ok && nx->seq == (long long)*expected &&
				    nx->prev && mac_equal(nx->prev, prev);

			result_set(r, fits ? WM_AUDIT_INSERTED : WM_AUDIT_EDITED, *expected, i + 1,
				   fits ? "a line that is not part of the chain"
					: "content does not match its MAC");
			break;
		}
		if (l->seq < (long long)*expected) {
			result_set(r, WM_AUDIT_INSERTED, *expected, i + 1,
				   "a repeated or out-of-place earlier line");
			break;
		}
		if (l->seq > (long long)*expected) {
			bool later = seq_later(c, i + 1, *expected);

			result_set(
				r, later ? WM_AUDIT_REORDERED : WM_AUDIT_REMOVED, *expected, i + 1,
				later ? "lines out of order" : "the line with this seq is missing");
			break;
		}
		if (!l->prev || !mac_equal(l->prev, prev) || !l->run ||
		    (run && strcmp(run, l->run) != 0)) {
			result_set(r, WM_AUDIT_INSERTED, *expected, i + 1,
				   "line from another chain (prev or run does not match)");
			break;
		}
		run = l->run;
		prev = l->mac;
		if (*expected == expected_seq)
			memcpy(mac_at_expected, l->mac, WM_AUDIT_MAC_HEX + 1);
		(*expected)++;
	}
	return i;
}

int wm_audit_verify(const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		    uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		    struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	struct vctx c = { 0 };
	char mac_at[WM_AUDIT_MAC_HEX + 1] = "";
	uint64_t expected = 1;
	size_t bad;
	int fd;

	memset(res, 0, sizeof(*res));
	fd = open_log(path, O_RDONLY, err);
	if (fd < 0 || wm_safe_read_fd(fd, path, WM_AUDIT_FILE_MAX, "audit log", &b, err) < 0) {
		wm_buf_release(&b);
		if (fd >= 0)
			close(fd);
		wm_err_exit(err, WM_EXIT_USAGE);
		return -1;
	}
	close(fd);
	split_lines(&c, &b, key);
	wm_buf_release(&b);
	bad = walk(&c, res, &expected, expected_seq, mac_at);
	res->lines = expected - 1;
	if (bad == c.n && expected_seq && expected - 1 < expected_seq) {
		result_set(res, WM_AUDIT_TRUNCATED, expected, c.n + 1, "");
		free(res->message);
		res->message = wm_xasprintf(
			"log ends at seq %llu but the checkpoint recorded seq %llu: "
			"the tail was cut off (first missing seq %llu)",
			(unsigned long long)(expected - 1), (unsigned long long)expected_seq,
			(unsigned long long)expected);
	} else if (bad == c.n && expected_seq && expected_mac && *expected_mac &&
		   !mac_equal(mac_at, expected_mac)) {
		result_set(res, WM_AUDIT_EDITED, expected_seq, (size_t)expected_seq,
			   "MAC differs from the one the checkpoint recorded (tail rewritten)");
	} else if (bad == c.n) {
		res->problem = WM_AUDIT_OK;
		res->message =
			wm_xasprintf("%llu lines, chain intact", (unsigned long long)res->lines);
	}
	for (size_t i = 0; i < c.n; i++)
		json_decref(c.v[i].obj);
	free(c.v);
	return 0;
}
