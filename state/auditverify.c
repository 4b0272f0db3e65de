/*
 * auditverify.c - `wm audit verify`: the MAC chain of audit.jsonl checked
 * line by line, in memory bounded by one line (audit.h).
 */
#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/audit.h"
#include "state/safeio.h"

/* One line, reduced to what the walk compares (copied: nothing borrowed). */
struct vline {
	bool json;     /* a JSON object */
	bool complete; /* ended with '\n' */
	bool mac_ok;   /* its MAC checks under the key */
	long long seq; /* -1: none */
	char prev[WM_AUDIT_MAC_HEX + 1], mac[WM_AUDIT_MAC_HEX + 1];
	char run[64];
	bool rekey;		    /* event audit.rekey */
	long long gap_from, gap_to; /* an audit.gap's declared range, -1: none */
	long long end;		    /* file offset just past it */
	uint64_t lineno;
};

struct walk {
	struct wm_lines lr;
	const unsigned char *key;
	struct vline cur, next;
	bool have_next;
	uint64_t expected; /* seq wanted next */
	char prev[WM_AUDIT_MAC_HEX + 1];
	char run[64];
	uint64_t rekey_line; /* the last valid audit.rekey line number, 0: none */
	struct wm_buf notes;
	struct wm_audit_result *r;
};

static void copy_hex(char dst[WM_AUDIT_MAC_HEX + 1], json_t *v)
{
	const char *s = json_string_value(v);

	dst[0] = '\0';
	if (s && strlen(s) == WM_AUDIT_MAC_HEX)
		memcpy(dst, s, WM_AUDIT_MAC_HEX + 1);
}

static long long int_or(json_t *v, long long dflt)
{
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/*
 * The MAC covers the line as wm writes it without its "mac" member (compact,
 * keys sorted). wm's own lines are exactly that with `,"mac":"HEX"` spliced
 * in, so cutting it out again gives the MAC'd bytes without a parse and a
 * dump per line; an authentic MAC over those bytes proves them. A line that
 * does not check this way is checked the long way (canonical form).
 */
static bool spliced_mac_ok(const char *text, size_t len, const char *mac_hex,
			   const unsigned char *key)
{
	char needle[sizeof(",\"mac\":\"\"") + WM_AUDIT_MAC_HEX];
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[WM_AUDIT_MAC_HEX + 1];
	crypto_auth_hmacsha256_state st;
	const char *at;
	size_t n;

	n = (size_t)snprintf(needle, sizeof(needle), ",\"mac\":\"%s\"", mac_hex);
	at = memmem(text, len, needle, n);
	if (!at)
		return false;
	crypto_auth_hmacsha256_init(&st, key, crypto_auth_hmacsha256_KEYBYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)text, (size_t)(at - text));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)at + n,
				      len - (size_t)(at - text) - n);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	return wm_audit_mac_equal(hex, mac_hex);
}

static void parse(struct vline *l, const char *text, size_t len, const unsigned char *key)
{
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL); /* new ref, ours */
	const char *run, *event;
	char mac[WM_AUDIT_MAC_HEX + 1];

	l->json = json_is_object(o);
	l->seq = l->gap_from = l->gap_to = -1;
	if (!l->json) {
		json_decref(o);
		return;
	}
	l->seq = int_or(json_object_get(o, "seq"), -1);
	copy_hex(l->prev, json_object_get(o, "prev"));
	copy_hex(l->mac, json_object_get(o, "mac"));
	run = json_string_value(json_object_get(o, "run"));
	snprintf(l->run, sizeof(l->run), "%s", run && strlen(run) < sizeof(l->run) ? run : "");
	event = json_string_value(json_object_get(o, "event"));
	l->rekey = event && strcmp(event, "audit.rekey") == 0;
	if (event && strcmp(event, "audit.gap") == 0) {
		l->gap_from = int_or(json_object_get(o, "missing_from"), -1);
		l->gap_to = int_or(json_object_get(o, "missing_to"), -1);
	}
	l->mac_ok = l->mac[0] &&
		    (spliced_mac_ok(text, len, l->mac, key) ||
		     (wm_audit_line_mac(o, key, mac) == 0 && wm_audit_mac_equal(mac, l->mac)));
	json_decref(o);
}

/* Reads the next line into *l; 1, 0 at the end, -1 on error. */
static int read_line(struct walk *w, struct vline *l, struct wm_error **err)
{
	const char *text;
	size_t len;
	bool complete;
	int rc = wm_lines_next(&w->lr, &text, &len, &complete, err);

	if (rc <= 0)
		return rc;
	memset(l, 0, sizeof(*l));
	l->complete = complete;
	l->end = (long long)w->lr.next;
	l->lineno = w->lr.lineno;
	parse(l, text, len, w->key);
	return 1;
}

static void set_problem(struct walk *w, enum wm_audit_problem p, const char *why)
{
	struct wm_audit_result *r = w->r;

	r->problem = p;
	r->first_bad_seq = w->expected;
	free(r->message);
	r->message = wm_xasprintf("line %llu (seq %llu): %s: %s", (unsigned long long)w->cur.lineno,
				  (unsigned long long)w->expected, wm_audit_problem_name(p), why);
}

/* First pass: the last audit.rekey line whose MAC checks under the key. */
static int find_rekey(struct walk *w, struct wm_error **err)
{
	const char *text;
	size_t len;
	bool complete;
	int rc;

	while ((rc = wm_lines_next(&w->lr, &text, &len, &complete, err)) > 0) {
		struct vline l;

		if (!complete || !memmem(text, len, "\"audit.rekey\"", 13))
			continue;
		memset(&l, 0, sizeof(l));
		parse(&l, text, len, w->key);
		if (l.rekey && l.mac_ok)
			w->rekey_line = w->lr.lineno;
	}
	return rc;
}

/* Does a later line carry seq `want` (and check)? Reads on to the end. */
static int seq_later(struct walk *w, uint64_t want, bool *found, struct wm_error **err)
{
	struct vline l;
	int rc = 1;

	*found = w->have_next && w->next.mac_ok && w->next.seq == (long long)want;
	while (!*found && (rc = read_line(w, &l, err)) > 0)
		*found = (l.mac_ok || l.lineno < w->rekey_line) && l.seq == (long long)want;
	return rc < 0 ? -1 : 0;
}

static void note(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->notes.len)
		wm_buf_addstr(&w->notes, "; ");
	va_start(ap, fmt);
	wm_buf_vaddf(&w->notes, fmt, ap);
	va_end(ap);
}

/* A line's seq jumps ahead: an audit.gap that declares exactly the jump
 * (and chains to the last good line) accounts for it. */
static bool declared_gap(struct walk *w, const struct vline *l, bool trusted)
{
	if (!trusted || l->gap_from != (long long)w->expected || l->gap_to != l->seq - 1 ||
	    !wm_audit_mac_equal(l->prev, w->prev))
		return false;
	w->r->n_gaps++;
	note(w, "gap: seqs %lld..%lld are missing (audit.gap at seq %lld)", l->gap_from, l->gap_to,
	     l->seq);
	w->expected = (uint64_t)l->seq;
	return true;
}

/* Checks w->cur; 1 accepted, 0 a problem was set, -1 I/O error. */
static int check_line(struct walk *w, struct wm_error **err)
{
	const struct vline *l = &w->cur;
	/* Before the last key change a line's MAC cannot be checked. */
	bool trusted = l->mac_ok || l->lineno < w->rekey_line;
	bool found;

	if (!l->complete)
		return set_problem(w, WM_AUDIT_TORN, "incomplete last line (interrupted write)"), 0;
	if (!l->json)
		return set_problem(w, WM_AUDIT_BAD_JSON, "not a JSON object"), 0;
	if (!trusted) {
		bool fits = w->have_next && w->next.mac_ok &&
			    w->next.seq == (long long)w->expected &&
			    wm_audit_mac_equal(w->next.prev, w->prev);

		set_problem(w, fits ? WM_AUDIT_INSERTED : WM_AUDIT_EDITED,
			    fits ? "a line that is not part of the chain"
				 : "content does not match its MAC");
		return 0;
	}
	if (l->seq < (long long)w->expected)
		return set_problem(w, WM_AUDIT_INSERTED, "a repeated or out-of-place earlier line"),
		       0;
	if (l->seq > (long long)w->expected && !declared_gap(w, l, trusted)) {
		if (seq_later(w, w->expected, &found, err) < 0)
			return -1;
		set_problem(w, found ? WM_AUDIT_REORDERED : WM_AUDIT_REMOVED,
			    found ? "lines out of order" : "the line with this seq is missing");
		return 0;
	}
	if (!wm_audit_mac_equal(l->prev, w->prev) || !l->run[0] ||
	    (w->run[0] && strcmp(w->run, l->run) != 0))
		return set_problem(w, WM_AUDIT_INSERTED,
				   "line from another chain (prev or run does not match)"),
		       0;
	return 1;
}

/* Accepts w->cur as the chain's next line. */
static void accept_line(struct walk *w, uint64_t anchor_seq, char *mac_at_anchor)
{
	const struct vline *l = &w->cur;
	struct wm_audit_result *r = w->r;

	memcpy(w->run, l->run, sizeof(w->run));
	memcpy(w->prev, l->mac, sizeof(w->prev));
	if ((uint64_t)l->seq == anchor_seq)
		memcpy(mac_at_anchor, l->mac, WM_AUDIT_MAC_HEX + 1);
	if (l->rekey && l->lineno == w->rekey_line)
		r->key_changed_at = (uint64_t)l->seq;
	r->last_seq = (uint64_t)l->seq;
	memcpy(r->last_mac, l->mac, sizeof(r->last_mac));
	r->good_end = l->end;
	r->lines++;
	w->expected = (uint64_t)l->seq + 1;
}

static int walk_lines(struct walk *w, uint64_t anchor_seq, char *mac_at_anchor,
		      struct wm_error **err)
{
	int rc = read_line(w, &w->next, err);

	w->have_next = rc > 0;
	while (rc >= 0 && w->have_next) {
		w->cur = w->next;
		rc = read_line(w, &w->next, err);
		w->have_next = rc > 0;
		if (rc < 0)
			break;
		if (w->cur.mac_ok && w->cur.seq > (long long)w->r->max_seq)
			w->r->max_seq = (uint64_t)w->cur.seq;
		rc = check_line(w, err);
		if (rc <= 0)
			break;
		accept_line(w, anchor_seq, mac_at_anchor);
	}
	return rc < 0 ? -1 : 0;
}

static void finish(struct walk *w, uint64_t anchor_seq, const char *anchor_mac,
		   const char *mac_at_anchor)
{
	struct wm_audit_result *r = w->r;

	if (r->problem != WM_AUDIT_OK)
		return;
	if (anchor_seq && w->expected - 1 < anchor_seq) {
		r->problem = WM_AUDIT_TRUNCATED;
		r->first_bad_seq = w->expected;
		r->message = wm_xasprintf(
			"log ends at seq %llu but the checkpoint recorded seq %llu: "
			"the tail was cut off (first missing seq %llu)",
			(unsigned long long)(w->expected - 1), (unsigned long long)anchor_seq,
			(unsigned long long)w->expected);
	} else if (anchor_seq && anchor_mac && *anchor_mac &&
		   !wm_audit_mac_equal(mac_at_anchor, anchor_mac)) {
		r->problem = WM_AUDIT_EDITED;
		r->first_bad_seq = anchor_seq;
		r->message = wm_xasprintf(
			"line %llu (seq %llu): edited: MAC differs from the one the "
			"checkpoint recorded (tail rewritten)",
			(unsigned long long)anchor_seq, (unsigned long long)anchor_seq);
	} else {
		r->message = wm_xasprintf("%llu lines, chain intact", (unsigned long long)r->lines);
	}
	if (r->key_changed_at)
		note(w,
		     "key changed at seq %llu: the %llu lines before it were made with an earlier "
		     "key and cannot be checked with the current one",
		     (unsigned long long)r->key_changed_at,
		     (unsigned long long)(r->key_changed_at - 1));
}

/* Reads from byte `base` on (the start of a line). */
static int lines_from(struct walk *w, int fd, const char *path, off_t base, struct wm_error **err)
{
	wm_lines_init(&w->lr, fd, path, WM_AUDIT_LINE_MAX);
	w->lr.next = base;
	if (lseek(fd, base, SEEK_SET) < 0)
		return wm_error_set(err, errno, "seek `%s`", path);
	return 0;
}

/* Both passes over the lines from base on, w set up for the line before. */
static int verify_from(struct walk *w, int fd, const char *path, off_t base, uint64_t expected_seq,
		       const char *expected_mac, char *mac_at, struct wm_error **err)
{
	struct wm_audit_result *res = w->r;
	int rc = lines_from(w, fd, path, base, err);

	if (rc == 0)
		rc = find_rekey(w, err);
	wm_lines_release(&w->lr);
	if (rc == 0)
		rc = lines_from(w, fd, path, base, err);
	if (rc == 0)
		rc = walk_lines(w, expected_seq, mac_at, err);
	wm_lines_release(&w->lr);
	if (rc == 0)
		finish(w, expected_seq, expected_mac, mac_at);
	res->notes = w->notes.len ? wm_buf_detach(&w->notes, NULL) : NULL;
	wm_buf_release(&w->notes);
	if (rc < 0) {
		wm_audit_result_release(res);
		return wm_error_wrapx(err, WM_EXIT_USAGE, NULL); /* a log that cannot be read */
	}
	return 0;
}

int wm_audit_verify_fd(int fd, const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		       uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		       struct wm_error **err)
{
	struct walk w = { .key = key, .expected = 1, .r = res };
	char mac_at[WM_AUDIT_MAC_HEX + 1] = "";

	memset(res, 0, sizeof(*res));
	memcpy(w.prev, WM_AUDIT_ZERO_MAC, sizeof(w.prev));
	wm_buf_init(&w.notes);
	return verify_from(&w, fd, path, 0, expected_seq, expected_mac, mac_at, err);
}

/* Does the file start with exactly the prefix's bytes? 1 yes, 0 no, -1
 * error. *hs: the hash state over them, before it was finished. */
static int prefix_matches(int fd, const char *path, const unsigned char *key,
			  const struct wm_audit_prefix *p, crypto_generichash_state *hs,
			  struct wm_error **err)
{
	unsigned char chunk[1 << 16], h[WM_AUDIT_PREFIX_HEX / 2];
	char hex[WM_AUDIT_PREFIX_HEX + 1];
	crypto_generichash_state st;
	uint64_t at = 0;

	wm_audit_prefix_init(&st, key);
	while (at < p->bytes) {
		size_t want =
			p->bytes - at < sizeof(chunk) ? (size_t)(p->bytes - at) : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, (off_t)at);

		if (n < 0)
			return wm_error_set(err, errno, "read audit log `%s`", path);
		if (n == 0)
			break; /* shorter than recorded: not the same log */
		crypto_generichash_update(&st, chunk, (unsigned long long)n);
		at += (uint64_t)n;
	}
	*hs = st; /* finishing consumes st */
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_memzero(&st, sizeof(st));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return at == p->bytes && strlen(p->hash) == WM_AUDIT_PREFIX_HEX &&
	       sodium_memcmp(hex, p->hash, WM_AUDIT_PREFIX_HEX) == 0;
}

int wm_audit_verify_after(int fd, const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
			  const char *run_id, const struct wm_audit_prefix *prefix,
			  uint64_t anchor_seq, const char *anchor_mac, struct wm_audit_result *res,
			  crypto_generichash_state *hs, struct wm_error **err)
{
	struct walk w = { .key = key, .expected = prefix->seq + 1, .r = res };
	char mac_at[WM_AUDIT_MAC_HEX + 1] = "";
	crypto_generichash_state st;
	int rc;

	memset(res, 0, sizeof(*res));
	/* The anchor before the prefix's end would be a checkpoint older than
	 * its own prefix: not what wm writes. */
	if (!prefix->bytes || anchor_seq < prefix->seq || prefix->bytes > WM_AUDIT_FILE_MAX ||
	    (prefix->seq && strlen(prefix->mac) != WM_AUDIT_MAC_HEX))
		return 0;
	rc = prefix_matches(fd, path, key, prefix, &st, err);
	if (rc <= 0) {
		sodium_memzero(&st, sizeof(st));
		return rc;
	}
	memcpy(w.prev, prefix->seq ? prefix->mac : WM_AUDIT_ZERO_MAC, sizeof(w.prev));
	snprintf(w.run, sizeof(w.run), "%s", run_id);
	if (prefix->seq && anchor_seq == prefix->seq)
		memcpy(mac_at, prefix->mac, sizeof(mac_at));
	res->last_seq = prefix->seq;
	snprintf(res->last_mac, sizeof(res->last_mac), "%s", prefix->mac);
	res->good_end = (long long)prefix->bytes;
	wm_buf_init(&w.notes);
	if (verify_from(&w, fd, path, (off_t)prefix->bytes, anchor_seq, anchor_mac, mac_at, err) <
	    0)
		return -1;
	if (res->problem == WM_AUDIT_OK) {
		if (hs)
			*hs = st;
		sodium_memzero(&st, sizeof(st));
		return 1;
	}
	sodium_memzero(&st, sizeof(st));
	wm_audit_result_release(res); /* the full walk says what is wrong */
	return 0;
}

int wm_audit_verify(const char *path, const unsigned char key[WM_AUDIT_KEY_LEN],
		    uint64_t expected_seq, const char *expected_mac, struct wm_audit_result *res,
		    struct wm_error **err)
{
	wm_autoclose int fd = wm_audit_open_read(path, err);

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return -1;
	return wm_audit_verify_fd(fd, path, key, expected_seq, expected_mac, res, err);
}

const char *wm_audit_problem_name(enum wm_audit_problem p)
{
	static const char *const names[WM_AUDIT_PROBLEM_COUNT] = { WM_AUDIT_PROBLEMS(
		WM_XLIST_NAME) };

	return (unsigned)p < WM_AUDIT_PROBLEM_COUNT ? names[p] : "unknown";
}

void wm_audit_result_release(struct wm_audit_result *r)
{
	if (!r)
		return;
	free(r->message);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}

bool wm_audit_result_intact(const struct wm_audit_result *r)
{
	return r->problem == WM_AUDIT_OK && !r->n_gaps && !r->key_changed_at;
}
