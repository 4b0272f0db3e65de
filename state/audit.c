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
#include "common/clock.h"
#include "common/xalloc.h"
#include "common/xlist.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct wm_audit {
	int fd;
	char *path;
	char *run_id;
	const unsigned char *key; /* borrowed */
	uint64_t seq;
	char mac[WM_AUDIT_MAC_HEX + 1];
	/* The keyed hash of every byte of the log so far (wm_audit_prefix);
	 * kept only once the whole file has been hashed at open. */
	bool hashing;
	uint64_t bytes;
	crypto_generichash_state hs;
};

/* ---- MAC ---- */

/* mac of obj without its "mac" member, over JSON_COMPACT|JSON_SORT_KEYS. */
int wm_audit_line_mac(json_t *obj, const unsigned char *key, char hex[WM_AUDIT_MAC_HEX + 1])
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

bool wm_audit_mac_equal(const char *a, const char *b)
{
	return strlen(a) == WM_AUDIT_MAC_HEX && strlen(b) == WM_AUDIT_MAC_HEX &&
	       sodium_memcmp(a, b, WM_AUDIT_MAC_HEX) == 0;
}

void wm_audit_prefix_init(crypto_generichash_state *st, const unsigned char *key)
{
	crypto_generichash_init(st, key, WM_AUDIT_KEY_LEN, WM_AUDIT_PREFIX_HEX / 2);
}

/* ---- writer ---- */

/* Carries the running hash from byte `at` to the log's end. */
static int hash_from(struct wm_audit *a, off_t at, struct wm_error **err)
{
	unsigned char chunk[1 << 16];
	ssize_t n;

	while ((n = pread(a->fd, chunk, sizeof(chunk), at)) > 0) {
		crypto_generichash_update(&a->hs, chunk, (unsigned long long)n);
		at += n;
	}
	if (n < 0)
		return wm_error_set(err, errno, "read audit log `%s`", a->path);
	a->bytes = (uint64_t)at;
	a->hashing = true;
	return 0;
}

/* Starts the running hash over the log as it now is (its whole content:
 * the torn tail, if any, is already cut). */
static int hash_log(struct wm_audit *a, struct wm_error **err)
{
	wm_audit_prefix_init(&a->hs, a->key);
	return hash_from(a, 0, err);
}

void wm_audit_prefix(const struct wm_audit *a, struct wm_audit_prefix *p)
{
	/* A copy: finishing consumes the state, and the log goes on. */
	crypto_generichash_state st = a->hs;
	unsigned char h[WM_AUDIT_PREFIX_HEX / 2];

	memset(p, 0, sizeof(*p));
	if (!a->hashing)
		return;
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(p->hash, sizeof(p->hash), h, sizeof(h));
	p->bytes = a->bytes;
	p->seq = a->seq;
	if (a->seq)
		memcpy(p->mac, a->mac, sizeof(p->mac));
}

/* The log at path: its directory as given, the file itself opened with the
 * rules of safeio.h (no link, regular file only). */
static int open_log(const char *path, int flags, struct wm_error **err)
{
	const char *slash = strrchr(path, '/');
	wm_autofree char *dir = slash ? wm_xstrndup(path, (size_t)(slash - path)) : wm_xstrdup(".");
	wm_autoclose int dfd = wm_rundir_open_fd(*dir ? dir : "/", err);
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
	a->key = key;
	if (resume_chain(a, warning, err) < 0 || hash_log(a, err) < 0) {
		wm_audit_close(a);
		return NULL;
	}
	return a;
}

bool wm_audit_is_envelope_key(const char *key)
{
	static const char *const names[] = { "seq", "ts", "run", "task", "event", "prev", "mac" };

	return wm_xlist_index(names, WM_ARRAY_LEN(names), key) >= 0;
}

int wm_audit_append(struct wm_audit *a, const char *task, const char *event, json_t *fields,
		    struct wm_error **err)
{
	json_t *o = json_object();
	wm_autofree char *ts = wm_state_format_time(wm_wall_ms());
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
			if (!wm_audit_is_envelope_key(k))
				json_object_set(o, k, v); /* does not steal: fields is borrowed */
		}
	}
	json_object_set_new(o, "seq", json_integer((json_int_t)a->seq + 1)); /* steals */
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "run", json_string(a->run_id));
	json_object_set_new(o, "task", task ? json_string(task) : json_null());
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "prev", json_string(a->seq ? a->mac : WM_AUDIT_ZERO_MAC));
	if (wm_audit_line_mac(o, a->key, mac) < 0) {
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
	if (a->hashing) {
		crypto_generichash_update(&a->hs, (const unsigned char *)line.data, line.len);
		a->bytes += line.len;
	}
	rc = 0;
out:
	free(text);
	wm_buf_release(&line);
	json_decref(o);
	return rc;
}

int wm_audit_flush(struct wm_audit *a, struct wm_error **err)
{
	struct stat st;

	if (fdatasync(a->fd) < 0)
		return wm_error_set(err, errno, "cannot sync audit log `%s`", a->path);
	/* Deleted under us (the state directory removed mid-run): what follows
	 * would be written to a file nobody can find. */
	if (fstat(a->fd, &st) == 0 && st.st_nlink == 0)
		return wm_error_set(err, ENOENT,
				    "audit log `%s` was deleted while the run was going on: "
				    "stopping, since nothing more could be recorded",
				    a->path);
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
	sodium_memzero(&a->hs, sizeof(a->hs)); /* keyed */
	free(a->path);
	free(a->run_id);
	free(a);
}

int wm_audit_open_read(const char *path, struct wm_error **err)
{
	int fd = open_log(path, O_RDONLY, err);
	struct stat st;

	/* Readers are commands about a run the user named: a log they cannot
	 * read makes that run a bad argument. */
	if (fd < 0)
		return wm_error_wrapx(err, WM_EXIT_USAGE, NULL);
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > WM_AUDIT_FILE_MAX) {
		close(fd);
		return wm_error_make(err, WM_EXIT_USAGE, EFBIG,
				     "audit log `%s` is %lld bytes, over the limit of %lu", path,
				     (long long)st.st_size, WM_AUDIT_FILE_MAX);
	}
	return fd;
}

/* ---- resuming a log: verified against the checkpoint's anchor ---- */

/* Moves the bytes from `from` to the end into a file of their own next to
 * the log, so that accepting a gap never destroys evidence. */
static char *keep_damaged(struct wm_audit *a, off_t from, uint64_t seq, struct wm_error **err)
{
	const char *slash = strrchr(a->path, '/');
	wm_autofree char *dir =
		slash ? wm_xstrndup(a->path, (size_t)(slash - a->path)) : wm_xstrdup(".");
	wm_autofree char *name = wm_xasprintf("%s.damaged-%llu-%lld", slash ? slash + 1 : a->path,
					      (unsigned long long)seq, wm_wall_ms());
	wm_autoclose int dfd = wm_rundir_open_fd(*dir ? dir : "/", err);
	wm_autoclose int out = -1;
	char buf[65536];
	ssize_t n;

	if (dfd < 0 ||
	    (out = wm_safe_open(dfd, dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600, err)) < 0)
		return NULL;
	while ((n = pread(a->fd, buf, sizeof(buf), from)) > 0) {
		if (wm_write_all(out, buf, (size_t)n) < 0) {
			wm_error_set(err, errno, "write `%s/%s`", dir, name);
			return NULL;
		}
		from += n;
	}
	if (n < 0 || fsync(out) < 0) {
		wm_error_set(err, errno, "copy the damaged part of `%s`", a->path);
		return NULL;
	}
	return wm_steal(&name);
}

static int record_gap(struct wm_audit *a, const struct wm_audit_result *res, uint64_t anchor_seq,
		      char **warning, struct wm_error **err)
{
	uint64_t from = res->last_seq + 1, to = anchor_seq;
	wm_autofree char *kept = NULL;
	wm_autofree char *reason =
		wm_xasprintf("%s: %s", wm_audit_problem_name(res->problem), res->message);
	struct stat st;
	json_t *f;
	int rc;

	if (res->max_seq > to)
		to = res->max_seq;
	if (to < from)
		to = from;
	if (fstat(a->fd, &st) == 0 && st.st_size > res->good_end) {
		kept = keep_damaged(a, (off_t)res->good_end, from, err);
		if (!kept)
			return -1;
	}
	if (ftruncate(a->fd, (off_t)res->good_end) < 0)
		return wm_error_set(err, errno, "truncate audit log `%s`", a->path);
	a->seq = to;
	memcpy(a->mac, res->last_seq ? res->last_mac : WM_AUDIT_ZERO_MAC, WM_AUDIT_MAC_HEX + 1);
	f = json_pack("{s:I, s:I, s:s, s:o}", "missing_from", (json_int_t)from, "missing_to",
		      (json_int_t)to, "reason", reason, "damaged_lines",
		      kept ? json_string(kept) : json_null()); /* "o" steals */
	rc = wm_audit_append(a, NULL, "audit.gap", f, err);
	json_decref(f);
	if (rc < 0 || wm_audit_flush(a, err) < 0)
		return -1;
	if (warning) {
		free(*warning);
		*warning = wm_xasprintf(
			"audit log `%s` was not intact (%s); resumed with --accept-audit-gap: seqs "
			"%llu..%llu are recorded as missing (audit.gap at seq %llu)%s%s",
			a->path, reason, (unsigned long long)from, (unsigned long long)to,
			(unsigned long long)a->seq, kept ? "; the damaged lines are kept in " : "",
			kept ? kept : "");
	}
	return 0;
}

/* Opens the existing log, or creates it where that is allowed: a log the
 * run's state says exists is not started afresh silently, and a refusal
 * creates nothing (the run directory stays as found). */
static int open_existing(const char *path, uint64_t anchor_seq, unsigned flags, bool *existed,
			 struct wm_error **err)
{
	struct wm_error *e = NULL;
	int fd = open_log(path, O_RDWR | O_APPEND, &e);

	*existed = fd >= 0;
	if (fd >= 0 || e->errnum != ENOENT) {
		if (fd < 0)
			wm_err_pass(err, e);
		return fd;
	}
	wm_error_free(e);
	if (anchor_seq && !(flags & WM_AUDIT_ACCEPT_GAP))
		return wm_error_setx(
			err, WM_EXIT_CANNOT,
			"audit log `%s` is missing, though the run's state records %llu "
			"lines of it: it is not started afresh. `wm resume "
			"--accept-audit-gap` resumes anyway and records the gap in the "
			"log for good",
			path, (unsigned long long)anchor_seq);
	return open_log(path, O_RDWR | O_APPEND | O_CREAT, err);
}

/* The whole walk, unless the checkpoint's prefix shows it is not needed. */
static int verify_for_resume(struct wm_audit *a, uint64_t anchor_seq, const char *anchor_mac,
			     const struct wm_audit_prefix *prefix, struct wm_audit_result *res,
			     struct wm_error **err)
{
	int rc = 0;

	if (prefix && prefix->bytes)
		rc = wm_audit_verify_after(a->fd, a->path, a->key, a->run_id, prefix, anchor_seq,
					   anchor_mac, res, &a->hs, err);
	/* The prefix's bytes are hashed already: the running hash goes on
	 * from their end. */
	if (rc == 1)
		return hash_from(a, (off_t)prefix->bytes, err);
	if (rc == 0)
		rc = wm_audit_verify_fd(a->fd, a->path, a->key, anchor_seq, anchor_mac, res, err);
	return rc < 0 ? -1 : 0;
}

struct wm_audit *wm_audit_open_checked(const char *path, const char *run_id,
				       const unsigned char key[WM_AUDIT_KEY_LEN],
				       uint64_t anchor_seq, const char *anchor_mac,
				       const struct wm_audit_prefix *prefix, unsigned flags,
				       char **warning, struct wm_error **err)
{
	struct wm_audit_result res = { 0 };
	struct wm_audit *a = NULL;
	bool existed;
	int fd;

	if (warning)
		*warning = NULL;
	fd = open_existing(path, anchor_seq, flags, &existed, err);
	if (fd < 0)
		return NULL;
	a = wm_xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->path = wm_xstrdup(path);
	a->run_id = wm_xstrdup(run_id);
	a->key = key;
	if (resume_chain(a, warning, err) < 0)
		goto fail;
	if (!existed && anchor_seq) {
		res.problem = WM_AUDIT_MISSING;
		res.message = wm_xasprintf("the log is gone, though the run's state records %llu "
					   "lines of it",
					   (unsigned long long)anchor_seq);
	} else if (verify_for_resume(a, anchor_seq, anchor_mac, prefix, &res, err) < 0) {
		goto fail;
	}
	if (res.problem == WM_AUDIT_OK) {
		a->seq = res.last_seq;
		memcpy(a->mac, res.last_mac, sizeof(a->mac));
	} else if (!(flags & WM_AUDIT_ACCEPT_GAP)) {
		wm_error_setx(
			err, WM_EXIT_CANNOT,
			"audit log `%s` is not intact (%s: %s): it is not continued. `wm audit "
			"verify` shows what is wrong; `wm resume --accept-audit-gap` resumes "
			"anyway and records the gap in the log for good",
			path, wm_audit_problem_name(res.problem), res.message);
		goto fail;
	} else if (record_gap(a, &res, anchor_seq, warning, err) < 0) {
		goto fail;
	}
	if (!a->hashing && hash_log(a, err) < 0)
		goto fail;
	wm_audit_result_release(&res);
	return a;
fail:
	wm_audit_result_release(&res);
	wm_audit_close(a);
	return NULL;
}

int wm_audit_record_rekey(const char *path, const char *run_id,
			  const unsigned char new_key[WM_AUDIT_KEY_LEN], const char *old_id,
			  const char *new_id, const char *reason, struct wm_error **err)
{
	struct wm_error *e = NULL;
	int fd = open_log(path, O_RDWR | O_APPEND, &e);
	struct wm_audit a = { .fd = fd, .key = new_key };
	json_t *f;
	int rc;

	if (fd < 0) {
		bool missing = e->errnum == ENOENT;

		if (missing)
			wm_error_free(e);
		else
			wm_err_pass(err, e);
		return missing ? 0 : -1;
	}
	a.path = wm_xstrdup(path);
	a.run_id = wm_xstrdup(run_id);
	rc = resume_chain(&a, NULL, err);
	if (rc == 0 && a.seq) {
		f = json_pack("{s:o, s:s, s:s}", "old_key",
			      old_id && *old_id ? json_string(old_id) : json_null(), "new_key",
			      new_id, "reason", reason); /* "o" steals */
		rc = wm_audit_append(&a, NULL, "audit.rekey", f, err);
		json_decref(f);
		if (rc == 0)
			rc = wm_audit_flush(&a, err);
	}
	close(fd);
	free(a.path);
	free(a.run_id);
	return rc;
}

/* Reads at most the log's last 4 MiB: what happened after the run's state
 * was last recorded is at its end. */
#define TAIL_MAX (4UL << 20)

int wm_audit_task_ends_after(const char *path, uint64_t after_seq, struct wm_buf *tasks, size_t *n,
			     struct wm_error **err)
{
	wm_autoclose int fd = wm_audit_open_read(path, err);
	struct stat st;
	size_t len;
	off_t from;
	char *buf, *p, *nl;

	*n = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	len = (uint64_t)st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
	from = st.st_size - (off_t)len;
	buf = wm_xmalloc(len + 1);
	if (pread(fd, buf, len, from) != (ssize_t)len) {
		free(buf);
		return wm_error_set(err, errno ? errno : EIO, "read audit log `%s`", path);
	}
	buf[len] = '\0';
	/* Skip a partial first line when the read began mid-file. */
	p = from ? memchr(buf, '\n', len) : buf;
	for (p = p && from ? p + 1 : p; p && (nl = strchr(p, '\n')); p = nl + 1) {
		json_t *o = json_loadb(p, (size_t)(nl - p), 0, NULL); /* new ref */
		json_int_t seq = json_integer_value(json_object_get(o, "seq"));
		const char *ev = json_string_value(json_object_get(o, "event"));
		const char *task = json_string_value(json_object_get(o, "task"));

		if (seq > 0 && (uint64_t)seq > after_seq && ev && task &&
		    strcmp(ev, "task.end") == 0) {
			if (++*n <= 10)
				wm_buf_addf(tasks, "%s%s", tasks->len ? ", " : "", task);
			else if (*n == 11)
				wm_buf_addstr(tasks, ", ...");
		}
		json_decref(o);
	}
	free(buf);
	return 0;
}
