/* Unit tests for state/audit: key handling, the MAC chain, resume, and
 * detection of every kind of tampering with the right first bad seq. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "state/audit.h"
#include "state/rundir.h"

#define NLINES 8

struct fx {
	char *dir;
	char *log;
	unsigned char key[WM_AUDIT_KEY_LEN];
	uint64_t seq;
	char mac[WM_AUDIT_MAC_HEX + 1];
	char **lines; /* the log's lines without newlines */
	size_t n;
	struct wm_audit_prefix prefix; /* of the whole log */
};

static int setup(void **state)
{
	struct fx *f = wm_xcalloc(1, sizeof(*f));
	struct wm_audit *a;
	size_t len = 0;
	wm_autofree char *data = NULL;
	char *save = NULL;

	f->dir = scratch_dir();
	f->log = wm_rundir_file(f->dir, "audit.jsonl");
	assert_int_equal(wm_audit_key_load(f->dir, true, f->key, NULL), 0);
	a = wm_audit_open(f->log, "20261122-081503-a1b2", f->key, NULL, NULL);
	assert_non_null(a);
	for (int i = 0; i < NLINES; i++) {
		json_t *fields = json_pack("{s:i, s:s}", "exit", 0, "note", "n");
		wm_autofree char *task = wm_xasprintf("t%d", i);

		assert_int_equal(wm_audit_append(a, i ? task : NULL, i ? "task.end" : "run.start",
						 fields, NULL),
				 0);
		json_decref(fields);
	}
	assert_int_equal(wm_audit_flush(a, NULL), 0);
	f->seq = wm_audit_seq(a);
	memcpy(f->mac, wm_audit_mac(a), sizeof(f->mac));
	wm_audit_prefix(a, &f->prefix);
	wm_audit_close(a);
	data = slurp(f->log, &len);
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		wm_strv_push(&f->lines, &f->n, l);
	assert_int_equal(f->n, NLINES);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	scratch_free(f->dir);
	free(f->log);
	wm_strv_free(f->lines);
	free(f);
	return 0;
}

/* Writes lines (1-based indexes into f->lines; 0 ends) to the log. */
static void rewrite(struct fx *f, const int *order, const char *extra_after, int after)
{
	struct wm_buf b = WM_BUF_INIT;

	for (const int *i = order; *i; i++) {
		wm_buf_addstr(&b, f->lines[*i - 1]);
		wm_buf_addch(&b, '\n');
		if (extra_after && *i == after) {
			wm_buf_addstr(&b, extra_after);
			wm_buf_addch(&b, '\n');
		}
	}
	spit(f->log, b.data, b.len);
	wm_buf_release(&b);
}

static void expect(struct fx *f, bool with_checkpoint, enum wm_audit_problem p, uint64_t seq)
{
	struct wm_audit_result r;

	assert_int_equal(wm_audit_verify(f->log, f->key, with_checkpoint ? f->seq : 0,
					 with_checkpoint ? f->mac : NULL, &r, NULL),
			 0);
	if (r.problem != p || r.first_bad_seq != seq)
		fail_msg("got %s at seq %llu (%s), wanted %s at seq %llu",
			 wm_audit_problem_name(r.problem), (unsigned long long)r.first_bad_seq,
			 r.message, wm_audit_problem_name(p), (unsigned long long)seq);
	assert_non_null(r.message);
	wm_audit_result_release(&r);
}

static void test_intact(void **state)
{
	struct fx *f = *state;
	json_t *o = json_loads(f->lines[0], 0, NULL);

	expect(f, true, WM_AUDIT_OK, 0);
	expect(f, false, WM_AUDIT_OK, 0);
	/* Line format: every envelope field. */
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 1);
	assert_true(json_is_null(json_object_get(o, "task")));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "run.start");
	assert_string_equal(json_string_value(json_object_get(o, "run")), "20261122-081503-a1b2");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "ts"))), 24);
	assert_string_equal(json_string_value(json_object_get(o, "prev")),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "mac"))), 64);
	json_decref(o);
}

static void test_edited_field(void **state)
{
	struct fx *f = *state;
	char *p = strstr(f->lines[3], "\"exit\":0");
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };

	assert_non_null(p);
	p[7] = '1';
	rewrite(f, all, NULL, 0);
	expect(f, true, WM_AUDIT_EDITED, 4);
}

/* A line re-encoded by another JSON writer (spaces, keys reordered) says
 * the same and still checks: the MAC is over the canonical form, which
 * the fast path (the MAC'd bytes spliced out of wm's own lines) falls
 * back to. Changing a value in it is still caught. */
static void test_reencoded_line(void **state)
{
	struct fx *f = *state;
	json_t *o = json_loads(f->lines[2], 0, NULL);
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	char *text = json_dumps(o, JSON_INDENT(0)); /* ", " and ": " separators, file order */
	char *nl;

	while ((nl = strchr(text, '\n')))
		*nl = ' ';
	assert_string_not_equal(text, f->lines[2]);
	free(f->lines[2]);
	f->lines[2] = text;
	rewrite(f, all, NULL, 0);
	expect(f, true, WM_AUDIT_OK, 0);
	json_object_set_new(o, "event", json_string("task.forged"));
	text = json_dumps(o, JSON_INDENT(0));
	while ((nl = strchr(text, '\n')))
		*nl = ' ';
	free(f->lines[2]);
	f->lines[2] = text;
	rewrite(f, all, NULL, 0);
	expect(f, true, WM_AUDIT_EDITED, 3);
	json_decref(o);
}

static void test_inserted_forged_line(void **state)
{
	struct fx *f = *state;
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	wm_autofree char *forged = wm_xstrdup(f->lines[3]);

	strstr(forged, "\"exit\":0")[7] = '7';
	rewrite(f, all, forged, 3);
	expect(f, true, WM_AUDIT_INSERTED, 4);
}

static void test_inserted_copy(void **state)
{
	struct fx *f = *state;
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };

	rewrite(f, all, f->lines[1], 5);
	expect(f, true, WM_AUDIT_INSERTED, 6);
}

static void test_removed_middle(void **state)
{
	struct fx *f = *state;
	const int order[] = { 1, 2, 3, 4, 6, 7, 8, 0 };

	rewrite(f, order, NULL, 0);
	expect(f, true, WM_AUDIT_REMOVED, 5);
}

static void test_reordered(void **state)
{
	struct fx *f = *state;
	const int order[] = { 1, 2, 4, 3, 5, 6, 7, 8, 0 };

	rewrite(f, order, NULL, 0);
	expect(f, true, WM_AUDIT_REORDERED, 3);
}

static void test_cut_tail(void **state)
{
	struct fx *f = *state;
	const int order[] = { 1, 2, 3, 4, 5, 6, 0 };

	rewrite(f, order, NULL, 0);
	expect(f, true, WM_AUDIT_TRUNCATED, 7);
	/* Without the checkpoint's record a clean cut is undetectable. */
	expect(f, false, WM_AUDIT_OK, 0);
}

static void test_tail_rewritten(void **state)
{
	struct fx *f = *state;

	/* The checkpoint knows another MAC for seq 8. */
	f->mac[0] = f->mac[0] == 'a' ? 'b' : 'a';
	expect(f, true, WM_AUDIT_EDITED, 8);
}

static void test_torn_last_line(void **state)
{
	struct fx *f = *state;
	const int order[] = { 1, 2, 3, 4, 5, 6, 7, 0 };
	size_t len = 0;
	wm_autofree char *data = NULL;
	struct wm_buf b = WM_BUF_INIT;

	rewrite(f, order, NULL, 0);
	data = slurp(f->log, &len);
	wm_buf_add(&b, data, len);
	wm_buf_add(&b, f->lines[7], strlen(f->lines[7]) / 2);
	spit(f->log, b.data, b.len);
	wm_buf_release(&b);
	expect(f, true, WM_AUDIT_TORN, 8);
}

static void test_bad_json_line(void **state)
{
	struct fx *f = *state;
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };

	free(f->lines[1]);
	f->lines[1] = wm_xstrdup("{\"seq\": 2, oops");
	rewrite(f, all, NULL, 0);
	expect(f, true, WM_AUDIT_BAD_JSON, 2);
}

static void test_wrong_key(void **state)
{
	struct fx *f = *state;

	f->key[0] ^= 1;
	expect(f, true, WM_AUDIT_EDITED, 1);
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	struct wm_audit_result r;
	struct wm_error *err = NULL;

	unlink(f->log);
	assert_int_equal(wm_audit_verify(f->log, f->key, 0, NULL, &r, &err), -1);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	wm_error_free(err);
}

static void test_resume_continues_chain(void **state)
{
	struct fx *f = *state;
	struct wm_audit *a;
	char *warning = NULL;
	const int order[] = { 1, 2, 3, 4, 5, 6, 7, 0 };
	size_t len = 0;
	wm_autofree char *data = NULL;
	struct wm_buf b = WM_BUF_INIT;

	/* A crash left a torn line 8. */
	rewrite(f, order, NULL, 0);
	data = slurp(f->log, &len);
	wm_buf_add(&b, data, len);
	wm_buf_add(&b, f->lines[7], 10);
	spit(f->log, b.data, b.len);
	wm_buf_release(&b);
	a = wm_audit_open(f->log, "20261122-081503-a1b2", f->key, &warning, NULL);
	assert_non_null(a);
	assert_non_null(warning);
	assert_non_null(strstr(warning, "torn"));
	free(warning);
	assert_int_equal(wm_audit_seq(a), 7);
	assert_int_equal(wm_audit_append(a, NULL, "run.resume", NULL, NULL), 0);
	assert_int_equal(wm_audit_seq(a), 8);
	f->seq = 8;
	memcpy(f->mac, wm_audit_mac(a), sizeof(f->mac));
	wm_audit_close(a);
	expect(f, true, WM_AUDIT_OK, 0);
}

static void test_reserved_fields_not_overridden(void **state)
{
	struct fx *f = *state;
	struct wm_audit *a = wm_audit_open(f->log, "r", f->key, NULL, NULL);
	json_t *fields = json_pack("{s:i, s:s}", "seq", 999, "mac", "x");

	assert_int_equal(wm_audit_append(a, NULL, "x", fields, NULL), 0);
	json_decref(fields);
	assert_int_equal(wm_audit_seq(a), NLINES + 1);
	wm_audit_close(a);
	expect(f, false, WM_AUDIT_INSERTED, NLINES + 1); /* run id "r" differs from the chain's */
}

static void test_key_rules(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *sd = wm_xasprintf("%s/state", t);
	wm_autofree char *path = wm_xasprintf("%s/audit.key", sd);
	unsigned char k1[WM_AUDIT_KEY_LEN], k2[WM_AUDIT_KEY_LEN];
	struct wm_error *err = NULL;
	struct stat st;

	(void)state;
	/* Missing, not allowed to create: exit-2 class. */
	assert_int_equal(wm_audit_key_load(sd, false, k1, &err), -1);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "missing"));
	wm_error_free(err);
	err = NULL;
	assert_int_equal(wm_audit_key_load(sd, true, k1, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, WM_AUDIT_KEY_LEN);
	assert_int_equal(wm_audit_key_load(sd, false, k2, NULL), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
	/* Wrong mode. */
	chmod(path, 0644);
	assert_int_equal(wm_audit_key_load(sd, true, k2, &err), -1);
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "0600"));
	wm_error_free(err);
	err = NULL;
	/* Wrong size. */
	chmod(path, 0600);
	spit(path, "short", 5);
	assert_int_equal(wm_audit_key_load(sd, true, k2, &err), -1);
	assert_non_null(strstr(err->msg, "32 bytes"));
	wm_error_free(err);
	scratch_free(t);
}

static void test_key_creation_race(void **state)
{
	char *t = scratch_dir();
	unsigned char k[4][WM_AUDIT_KEY_LEN];
	int p[2], go[2];
	pid_t pids[4];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			unsigned char key[WM_AUDIT_KEY_LEN];
			char c;

			if (read(go[0], &c, 1) != 1 || wm_audit_key_load(t, true, key, NULL) < 0)
				_exit(1);
			if (write(p[1], key, sizeof(key)) != (ssize_t)sizeof(key))
				_exit(1);
			_exit(0);
		}
	}
	assert_int_equal(write(go[1], "xxxx", 4), 4);
	for (int i = 0; i < 4; i++) {
		int st;

		assert_int_equal(read(p[0], k[i], WM_AUDIT_KEY_LEN), WM_AUDIT_KEY_LEN);
		waitpid(pids[i], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Every racer ended up with the one key on disk. */
	for (int i = 1; i < 4; i++)
		assert_memory_equal(k[0], k[i], WM_AUDIT_KEY_LEN);
	close(p[0]);
	close(p[1]);
	close(go[0]);
	close(go[1]);
	scratch_free(t);
}

/* The key's page is not copied into a forked child: touching it there
 * faults, so a sandbox helper forked from wm never carries the key. */
static void test_key_page_not_inherited(void **state)
{
	char *t = scratch_dir();
	struct wm_audit_key *k = wm_audit_key_open(t, WM_AUDIT_KEY_CREATE, NULL);
	const volatile unsigned char *p;
	wm_autofree char *smaps = NULL;
	wm_autofree char *needle = NULL;
	char *line;
	size_t len = 0;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(k);
	p = wm_audit_key_bytes(k);
	pid = fork();
	if (pid == 0) {
		unsigned char c;

		signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch it */
		c = p[0];		  /* SIGSEGV: the page is not there */

		_exit(c == 0x5a ? 3 : 4);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	/* And the kernel marks it: dc (do not copy), dd (do not dump). */
	smaps = slurp("/proc/self/smaps", &len);
	needle = wm_xasprintf("%lx-", (unsigned long)(uintptr_t)p);
	line = strstr(smaps, needle);
	assert_non_null(line);
	line = strstr(line, "VmFlags:");
	assert_non_null(line);
	*strchrnul(line, '\n') = '\0';
	assert_non_null(strstr(line, " dc"));
	assert_non_null(strstr(line, " dd"));
	wm_audit_key_free(k);
	scratch_free(t);
}

static void test_key_not_replaced_while_runs_exist(void **state)
{
	char *t = scratch_dir();
	wm_autofree char *runs = wm_xasprintf("%s/runs", t);
	wm_autofree char *run = wm_xasprintf("%s/runs/20261122-081503-a1b2", t);
	wm_autofree char *key = wm_xasprintf("%s/audit.key", t);
	struct wm_audit_key *k;
	struct wm_error *err = NULL;

	(void)state;
	k = wm_audit_key_open(t, WM_AUDIT_KEY_CREATE, NULL);
	assert_non_null(k);
	wm_audit_key_free(k);
	assert_int_equal(mkdir(runs, 0700), 0);
	assert_int_equal(mkdir(run, 0700), 0);
	assert_int_equal(unlink(key), 0);
	assert_null(wm_audit_key_open(t, WM_AUDIT_KEY_CREATE, &err));
	assert_int_equal(err->exit_code, WM_EXIT_USAGE);
	assert_non_null(strstr(err->msg, "wm audit rekey"));
	wm_error_free(err);
	assert_int_equal(access(key, F_OK), -1);
	k = wm_audit_key_open(t, WM_AUDIT_KEY_CREATE | WM_AUDIT_KEY_REKEY, NULL);
	assert_non_null(k);
	wm_audit_key_free(k);
	scratch_free(t);
}

static void test_key_derive(void **state)
{
	char *t = scratch_dir();
	unsigned char a[WM_AUDIT_SUBKEY_LEN], b[WM_AUDIT_SUBKEY_LEN], c[WM_AUDIT_SUBKEY_LEN];
	unsigned char key[WM_AUDIT_KEY_LEN];
	struct wm_error *err = NULL;

	(void)state;
	assert_int_equal(wm_audit_key_derive(t, "seccache", a, NULL), 0);
	assert_int_equal(wm_audit_key_derive(t, "seccache", b, NULL), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(wm_audit_key_derive(t, "othercxt", c, NULL), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(wm_audit_key_load(t, false, key, NULL), 0);
	assert_memory_not_equal(a, key, sizeof(a));
	assert_int_equal(wm_audit_key_derive(t, "short", a, &err), -1);
	assert_non_null(strstr(err->msg, "8 characters"));
	wm_error_free(err);
	scratch_free(t);
}

/* Resuming a cut-off log: refused, or with the flag an audit.gap line that
 * verify reports from then on. */
static void test_gap_on_resume(void **state)
{
	struct fx *f = *state;
	const int order[] = { 1, 2, 3, 4, 5, 6, 0 };
	struct wm_audit_result r;
	struct wm_error *err = NULL;
	char *warning = NULL;
	struct wm_audit *a;

	rewrite(f, order, NULL, 0);
	assert_null(wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac,
					  NULL, 0, NULL, &err));
	assert_int_equal(err->exit_code, WM_EXIT_CANNOT);
	assert_non_null(strstr(err->msg, "truncated"));
	wm_error_free(err);
	a = wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac, NULL,
				  WM_AUDIT_ACCEPT_GAP, &warning, NULL);
	assert_non_null(a);
	assert_non_null(warning);
	assert_non_null(strstr(warning, "seqs 7..8"));
	free(warning);
	assert_int_equal(wm_audit_seq(a), 9); /* the audit.gap line */
	assert_int_equal(wm_audit_append(a, NULL, "run.resume", NULL, NULL), 0);
	f->seq = wm_audit_seq(a);
	memcpy(f->mac, wm_audit_mac(a), sizeof(f->mac));
	wm_audit_close(a);
	assert_int_equal(wm_audit_verify(f->log, f->key, f->seq, f->mac, &r, NULL), 0);
	assert_int_equal(r.problem, WM_AUDIT_OK);
	assert_int_equal(r.n_gaps, 1);
	assert_false(wm_audit_result_intact(&r));
	assert_non_null(strstr(r.notes, "seqs 7..8 are missing"));
	wm_audit_result_release(&r);
	/* An intact log continues without a word. */
	a = wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac, NULL, 0,
				  &warning, NULL);
	assert_non_null(a);
	assert_null(warning);
	assert_int_equal(wm_audit_seq(a), f->seq);
	wm_audit_close(a);
}

/* wm_audit_verify_after on the fixture's log: 1 fast path, 0 full walk. */
static int verify_after(struct fx *f, const struct wm_audit_prefix *p, uint64_t seq,
			const char *mac, struct wm_audit_result *r)
{
	wm_autoclose int fd = wm_audit_open_read(f->log, NULL);

	assert_true(fd >= 0);
	return wm_audit_verify_after(fd, f->log, f->key, "20261122-081503-a1b2", p, seq, mac, r,
				     NULL, NULL);
}

/* A resume checks the checkpoint's prefix with one hash and walks only the
 * lines after it; any change to those bytes sends it the whole way. */
static void test_prefix_fast_path(void **state)
{
	struct fx *f = *state;
	struct wm_audit_result r;
	struct wm_audit *a;
	struct wm_audit_prefix other;
	size_t len = 0;

	free(slurp(f->log, &len));
	assert_int_equal(f->prefix.bytes, len);
	assert_int_equal(f->prefix.seq, NLINES);
	assert_int_equal(verify_after(f, &f->prefix, f->seq, f->mac, &r), 1);
	assert_int_equal(r.last_seq, NLINES);
	assert_int_equal(r.lines, 0);
	wm_audit_result_release(&r);
	/* Two more lines after the prefix: walked, and the anchor found. */
	a = wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac,
				  &f->prefix, 0, NULL, NULL);
	assert_non_null(a);
	assert_int_equal(wm_audit_append(a, "t9", "task.start", NULL, NULL), 0);
	assert_int_equal(wm_audit_append(a, "t9", "task.end", NULL, NULL), 0);
	wm_audit_prefix(a, &other);
	f->seq = wm_audit_seq(a);
	memcpy(f->mac, wm_audit_mac(a), sizeof(f->mac));
	wm_audit_close(a);
	assert_int_equal(other.seq, NLINES + 2);
	assert_int_equal(verify_after(f, &f->prefix, f->seq, f->mac, &r), 1);
	assert_int_equal(r.last_seq, NLINES + 2);
	assert_int_equal(r.lines, 2);
	wm_audit_result_release(&r);
	/* The running hash the writer kept equals one over the file. */
	assert_int_equal(verify_after(f, &other, f->seq, f->mac, &r), 1);
	wm_audit_result_release(&r);
}

static void test_prefix_tampered(void **state)
{
	struct fx *f = *state;
	struct wm_audit_prefix forged = f->prefix;
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	struct wm_audit_result r;
	struct wm_error *err = NULL;
	char *p = strstr(f->lines[3], "\"exit\":0");

	/* A hash under another key is not the writer's. */
	memset(forged.hash, '0', WM_AUDIT_PREFIX_HEX);
	assert_int_equal(verify_after(f, &forged, f->seq, f->mac, &r), 0);
	/* Longer than the file: cut off. */
	forged = f->prefix;
	forged.bytes += 10;
	assert_int_equal(verify_after(f, &forged, f->seq, f->mac, &r), 0);
	/* An anchor older than the prefix is not what wm writes. */
	assert_int_equal(verify_after(f, &f->prefix, f->seq - 1, f->mac, &r), 0);
	/* One byte changed inside the prefix: the full walk names the line. */
	assert_non_null(p);
	p[7] = '1';
	rewrite(f, all, NULL, 0);
	assert_int_equal(verify_after(f, &f->prefix, f->seq, f->mac, &r), 0);
	assert_null(wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac,
					  &f->prefix, 0, NULL, &err));
	assert_int_equal(err->exit_code, WM_EXIT_CANNOT);
	assert_non_null(strstr(err->msg, "seq 4"));
	wm_error_free(err);
}

/* A line after the prefix that does not chain: the full walk decides. */
static void test_prefix_bad_tail(void **state)
{
	struct fx *f = *state;
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0 };
	struct wm_audit_prefix head;
	struct wm_audit_result r;
	struct wm_error *err = NULL;
	struct wm_audit *a;

	/* The prefix of the first 6 lines, as a checkpoint taken then. */
	rewrite(f, (const int[]){ 1, 2, 3, 4, 5, 6, 0 }, NULL, 0);
	a = wm_audit_open(f->log, "20261122-081503-a1b2", f->key, NULL, NULL);
	assert_non_null(a);
	wm_audit_prefix(a, &head);
	wm_audit_close(a);
	assert_int_equal(head.seq, 6);
	/* Line 7 edited after it. */
	strstr(f->lines[6], "\"exit\":0")[7] = '1';
	rewrite(f, all, NULL, 0);
	assert_int_equal(verify_after(f, &head, f->seq, f->mac, &r), 0);
	assert_null(wm_audit_open_checked(f->log, "20261122-081503-a1b2", f->key, f->seq, f->mac,
					  &head, 0, NULL, &err));
	assert_non_null(strstr(err->msg, "seq 7"));
	wm_error_free(err);
}

static void test_rekey_recorded(void **state)
{
	struct fx *f = *state;
	unsigned char nk[WM_AUDIT_KEY_LEN];
	char old_id[WM_AUDIT_KEY_ID_LEN + 1], new_id[WM_AUDIT_KEY_ID_LEN + 1];
	struct wm_audit_result r;

	memset(nk, 0x33, sizeof(nk));
	wm_audit_key_id(f->key, old_id);
	wm_audit_key_id(nk, new_id);
	assert_string_not_equal(old_id, new_id);
	assert_int_equal(wm_audit_record_rekey(f->log, "20261122-081503-a1b2", nk, old_id, new_id,
					       "test", NULL),
			 0);
	assert_int_equal(wm_audit_verify(f->log, nk, f->seq, f->mac, &r, NULL), 0);
	assert_int_equal(r.problem, WM_AUDIT_OK);
	assert_int_equal(r.key_changed_at, NLINES + 1);
	assert_non_null(strstr(r.notes, "key changed at seq 9"));
	wm_audit_result_release(&r);
	/* Removing a line before the change still breaks the chain's order. */
	{
		size_t len = 0;
		wm_autofree char *data = slurp(f->log, &len);
		char *l3 = strchr(strchr(data, '\n') + 1, '\n') + 1;
		char *l4 = strchr(l3, '\n') + 1;

		memmove(l3, l4, len - (size_t)(l4 - data));
		spit(f->log, data, len - (size_t)(l4 - l3));
	}
	assert_int_equal(wm_audit_verify(f->log, nk, 0, NULL, &r, NULL), 0);
	assert_int_equal(r.problem, WM_AUDIT_REMOVED);
	assert_int_equal(r.first_bad_seq, 3);
	wm_audit_result_release(&r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* `wm audit verify` names each problem; no two alike. */
static void test_problem_names(void **state)
{
	static const char *const names[] = { "ok",	  "edited",    "inserted",	 "removed",
					     "reordered", "truncated", "torn-last-line", "bad-json",
					     "missing" };

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), WM_AUDIT_PROBLEM_COUNT);
	for (int i = 0; i < WM_AUDIT_PROBLEM_COUNT; i++)
		assert_string_equal(wm_audit_problem_name((enum wm_audit_problem)i), names[i]);
	assert_string_equal(wm_audit_problem_name(WM_AUDIT_PROBLEM_COUNT), "unknown");
	/* The envelope `wm audit show` leaves out of an event's fields. */
	assert_true(wm_audit_is_envelope_key("seq"));
	assert_true(wm_audit_is_envelope_key("mac"));
	assert_true(wm_audit_is_envelope_key("task"));
	assert_false(wm_audit_is_envelope_key("exit"));
	assert_false(wm_audit_is_envelope_key("sequence"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_intact),
		T(test_edited_field),
		T(test_prefix_fast_path),
		T(test_prefix_tampered),
		T(test_prefix_bad_tail),
		T(test_reencoded_line),
		T(test_inserted_forged_line),
		T(test_inserted_copy),
		T(test_removed_middle),
		T(test_reordered),
		T(test_cut_tail),
		T(test_tail_rewritten),
		T(test_torn_last_line),
		T(test_bad_json_line),
		T(test_wrong_key),
		T(test_missing_file),
		T(test_resume_continues_chain),
		T(test_reserved_fields_not_overridden),
		cmocka_unit_test(test_problem_names),
		cmocka_unit_test(test_key_rules),
		cmocka_unit_test(test_key_creation_race),
		cmocka_unit_test(test_key_page_not_inherited),
		cmocka_unit_test(test_key_not_replaced_while_runs_exist),
		cmocka_unit_test(test_key_derive),
		T(test_gap_on_resume),
		T(test_rekey_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
