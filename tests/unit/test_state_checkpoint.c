/* Unit tests for state/checkpoint, state/journal and state/store: round
 * trip, atomic replace, corruption fallback, torn journal tails, idempotent
 * replay, constant record cost, crash injection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zstd.h>

#include "state_helpers.h"

#include "common/cleanup.h"
#include "common/error.h"
#include "common/strutil.h"
#include "state/checkpoint.h"
#include "state/journal.h"
#include "state/rundir.h"
#include "state/runstate.h"
#include "state/store.h"

static struct wm_run_state *sample(size_t ntasks)
{
	struct wm_run_state *rs = wm_run_state_new("20261122-081503-a1b2");

	rs->name = wm_xstrdup("release");
	rs->workflow_path = wm_xstrdup("/src/release.md");
	rs->workflow_hash = wm_xstrdup("ab12");
	rs->state = WM_RUN_RUNNING;
	rs->orchestrator.pid = 4242;
	rs->orchestrator.host = wm_xstrdup("build-01");
	rs->orchestrator.boot_id = wm_xstrdup("11111111-1111-1111-1111-111111111111");
	rs->orchestrator.start_time = 987654;
	rs->created_ms = 1000;
	rs->started_ms = 2000;
	rs->audit.seq = 7;
	snprintf(rs->audit.mac, sizeof(rs->audit.mac), "%064d", 7);
	rs->audit.prefix.bytes = 1234;
	rs->audit.prefix.seq = 6;
	snprintf(rs->audit.prefix.mac, sizeof(rs->audit.prefix.mac), "%064d", 6);
	snprintf(rs->audit.prefix.hash, sizeof(rs->audit.prefix.hash), "%064d", 66);
	for (size_t i = 0; i < ntasks; i++) {
		wm_autofree char *id = wm_xasprintf("task-%zu", i);

		assert_int_equal(wm_run_state_add_task(rs, id, NULL), (long)i);
	}
	return rs;
}

static char *to_text(const struct wm_run_state *rs, uint64_t seq)
{
	json_t *j = wm_run_state_to_json(rs, seq);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static void test_streamed_text_equals_tree(void **state)
{
	struct wm_run_state *rs = sample(50);
	char *tree, *streamed;

	(void)state;
	/* An id that needs escaping, and a task with decisions. */
	assert_int_equal(wm_run_state_add_task(rs, "q\"uote\\back", NULL), 50);
	wm_task_add_decision(&rs->tasks[3], 1000, 1, "retry", "exited 1 \"x\"");
	tree = to_text(rs, 9);
	streamed = wm_run_state_dumps(rs, 9);
	assert_non_null(streamed);
	assert_string_equal(streamed, tree);
	free(tree);
	free(streamed);
	wm_run_state_free(rs);
}

static void test_runstate_index_and_dupes(void **state)
{
	struct wm_run_state *rs = sample(1000);
	struct wm_error *err = NULL;

	(void)state;
	for (size_t i = 0; i < 1000; i += 37) {
		wm_autofree char *id = wm_xasprintf("task-%zu", i);

		assert_int_equal(wm_run_state_index(rs, id), (long)i);
		assert_ptr_equal(wm_run_state_find(rs, id), &rs->tasks[i]);
	}
	assert_null(wm_run_state_find(rs, "nope"));
	assert_int_equal(wm_run_state_add_task(rs, "task-5", &err), -1);
	assert_non_null(strstr(err->msg, "duplicate"));
	wm_error_free(err);
	wm_run_state_free(rs);
}

/* Every task and run state has its name on disk, parses back, and survives
 * a checkpoint's JSON; the names are what journals and checkpoints hold. */
static void test_states_named_and_parsed(void **state)
{
	static const char *const tasks[] = { "pending", "running",   "succeeded", "failed",
					     "skipped", "cancelled", "waiting",	  "cached" };
	static const char *const runs[] = { "pending", "running",   "succeeded",
					    "failed",  "cancelled", "interrupted" };
	struct wm_run_state *rs = sample(WM_TASK_STATUS_COUNT), *back;
	json_t *j;
	uint64_t seq = 0;

	(void)state;
	assert_int_equal(sizeof(tasks) / sizeof(tasks[0]), WM_TASK_STATUS_COUNT);
	assert_int_equal(sizeof(runs) / sizeof(runs[0]), WM_RUN_STATUS_COUNT);
	for (int i = 0; i < WM_TASK_STATUS_COUNT; i++) {
		assert_string_equal(wm_task_status_name((enum wm_task_status)i), tasks[i]);
		assert_int_equal(wm_task_status_parse(tasks[i]), i);
		rs->tasks[i].state = (enum wm_task_status)i;
	}
	for (int i = 0; i < WM_RUN_STATUS_COUNT; i++) {
		assert_string_equal(wm_run_status_name((enum wm_run_status)i), runs[i]);
		assert_int_equal(wm_run_status_parse(runs[i]), i);
	}
	assert_string_equal(wm_task_status_name(WM_TASK_STATUS_COUNT), "unknown");
	assert_string_equal(wm_run_status_name(WM_RUN_STATUS_COUNT), "unknown");
	assert_int_equal(wm_task_status_parse("unknown"), -1);
	assert_int_equal(wm_task_status_parse(NULL), -1);
	assert_int_equal(wm_run_status_parse("waiting"), -1);
	rs->state = WM_RUN_INTERRUPTED;
	j = wm_run_state_to_json(rs, 3);
	back = wm_run_state_from_json(j, &seq, NULL);
	assert_non_null(back);
	assert_int_equal(back->state, WM_RUN_INTERRUPTED);
	for (int i = 0; i < WM_TASK_STATUS_COUNT; i++)
		assert_int_equal(back->tasks[i].state, i);
	json_decref(j);
	wm_run_state_free(back);
	wm_run_state_free(rs);
}

static void test_checkpoint_round_trip(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(3), *back;
	struct wm_task_state *tk = &rs->tasks[1];
	wm_autofree char *path = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *a = NULL, *b = NULL, *raw = NULL;
	uint64_t seq = 0;
	size_t len;

	(void)state;
	tk->state = WM_TASK_FAILED;
	tk->attempts = 3;
	tk->lost = 1;
	tk->signal = 9;
	tk->started_ms = 5000;
	tk->ended_ms = 6000;
	tk->limit = wm_xstrdup("memory");
	tk->policy = wm_xstrdup("hardened");
	tk->definition_hash = wm_xstrdup("cafe");
	wm_task_add_denied(tk, "ptrace");
	wm_task_add_denied(tk, "ptrace");
	wm_task_add_decision(tk, 5500, 1, "retry", "exit 1, 2 attempts left");
	wm_task_add_decision(tk, 6000, 3, "fail", "memory limit: retrying cannot help");
	rs->tasks[0].state = WM_TASK_SUCCEEDED;
	rs->tasks[0].exit_code = 0;
	rs->tasks[2].state = WM_TASK_CACHED;
	rs->tasks[2].cache_key = wm_xstrdup("beef");
	rs->tasks[2].cache_run = wm_xstrdup("20261202-043300-dcf1");
	assert_int_equal(wm_checkpoint_write(t, rs, 42, NULL), 0);
	back = wm_checkpoint_read(path, &seq, NULL);
	assert_non_null(back);
	assert_int_equal(seq, 42);
	a = to_text(rs, 42);
	b = to_text(back, 42);
	assert_string_equal(a, b);
	assert_int_equal(back->tasks[1].lost, 1);
	/* The audit log's hashed prefix comes back whole. */
	assert_int_equal(back->audit.prefix.bytes, 1234);
	assert_int_equal(back->audit.prefix.seq, 6);
	assert_string_equal(back->audit.prefix.mac, rs->audit.prefix.mac);
	assert_string_equal(back->audit.prefix.hash, rs->audit.prefix.hash);
	assert_int_equal(back->tasks[0].lost, 0);
	assert_int_equal(back->tasks[1].n_denied, 1);
	assert_int_equal(back->tasks[1].n_decisions, 2);
	assert_string_equal(back->tasks[1].decisions[1].why, "memory limit: retrying cannot help");
	assert_int_equal(back->tasks[2].exit_code, -1);
	assert_int_equal(back->tasks[2].state, WM_TASK_CACHED);
	assert_string_equal(back->tasks[2].cache_key, "beef");
	assert_string_equal(back->tasks[2].cache_run, "20261202-043300-dcf1");
	assert_null(back->tasks[1].cache_key);
	assert_int_equal(wm_run_state_index(back, "task-2"), 2);
	/* One standard frame, with a content checksum. */
	raw = slurp(path, &len);
	/* Magic 28 B5 2F FD, then the frame header descriptor whose bit 2
	 * is Content_Checksum_flag (RFC 8878 section 3.1.1.1.1). */
	assert_true(len > 5);
	assert_memory_equal(raw, "\x28\xb5\x2f\xfd", 4);
	assert_true(raw[4] & 0x04);
	assert_int_equal(ZSTD_findFrameCompressedSize(raw, len), len);
	wm_run_state_free(rs);
	wm_run_state_free(back);
	scratch_free(t);
}

static void test_atomic_replace_keeps_prev(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(2), *cur, *prev;
	wm_autofree char *pcur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *pprev = wm_rundir_file(t, WM_CHECKPOINT_PREV);
	wm_autofree char *ptmp = wm_rundir_file(t, WM_CHECKPOINT_FILE ".tmp");

	(void)state;
	assert_int_equal(wm_checkpoint_write(t, rs, 1, NULL), 0);
	rs->state = WM_RUN_SUCCEEDED;
	assert_int_equal(wm_checkpoint_write(t, rs, 2, NULL), 0);
	cur = wm_checkpoint_read(pcur, NULL, NULL);
	prev = wm_checkpoint_read(pprev, NULL, NULL);
	assert_int_equal(cur->state, WM_RUN_SUCCEEDED);
	assert_int_equal(prev->state, WM_RUN_RUNNING);
	assert_int_equal(access(ptmp, F_OK), -1);
	wm_run_state_free(cur);
	wm_run_state_free(prev);
	wm_run_state_free(rs);
	scratch_free(t);
}

/* A checkpoint is compressed as it is serialized: its frame does not say
 * its size, and reading it back bounds what it decompresses. */
static void test_checkpoint_streamed(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(3000);
	wm_autofree char *path = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *text = wm_run_state_dumps(rs, 5);
	wm_autofree char *raw = NULL, *out = NULL;
	struct wm_error *err = NULL;
	size_t len = 0, out_len = 0;

	(void)state;
	assert_int_equal(wm_checkpoint_write(t, rs, 5, NULL), 0);
	raw = slurp(path, &len);
	assert_true(ZSTD_getFrameContentSize(raw, len) == ZSTD_CONTENTSIZE_UNKNOWN);
	out = wm_zstd_decompress(raw, len, 1UL << 30, &out_len, NULL);
	assert_non_null(out);
	assert_int_equal(out_len, strlen(text));
	assert_string_equal(out, text);
	/* One byte over the bound is refused, as a sized frame would be. */
	assert_null(wm_zstd_decompress(raw, len, strlen(text) - 1, &out_len, &err));
	assert_non_null(strstr(err->msg, "excessive size"));
	wm_error_free(err);
	err = NULL;
	/* A forged header asking for a 128 MiB window is refused before any
	 * such allocation (found by fuzz_checkpoint). */
	{
		static const unsigned char forged[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x14, 0x86, 0x63,
							0x79, 0x2f, 0xfd, 0x0e, 0x8b, 0x63, 0x79 };

		assert_null(wm_zstd_decompress(forged, sizeof(forged), 1UL << 30, &out_len, &err));
		assert_non_null(err);
		wm_error_free(err);
		err = NULL;
	}
	/* A frame cut short says so. */
	assert_null(wm_zstd_decompress(raw, len - 4, 1UL << 30, &out_len, &err));
	assert_non_null(strstr(err->msg, "truncated"));
	wm_error_free(err);
	wm_run_state_free(rs);
	scratch_free(t);
}

/* text as one zstd frame that records its size and has a checksum, as
 * checkpoints were written before they were streamed (still read). */
static void write_zst(const char *path, const char *text)
{
	size_t len = strlen(text), cap = ZSTD_compressBound(len), n;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	void *z = malloc(cap);

	assert_non_null(cctx);
	assert_non_null(z);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	n = ZSTD_compress2(cctx, z, cap, text, len);
	assert_false(ZSTD_isError(n));
	assert_true(ZSTD_getFrameContentSize(z, n) == len);
	spit(path, z, n);
	ZSTD_freeCCtx(cctx);
	free(z);
}

enum corruption { TRUNCATE, BITFLIP, EMPTY, GARBAGE, BAD_VERSION, BAD_JSON, BAD_FORMAT, TRAILING };

static void corrupt(const char *path, enum corruption how)
{
	size_t len = 0;
	wm_autofree char *d = slurp(path, &len);

	switch (how) {
	case TRUNCATE:
		spit(path, d, len / 2);
		break;
	case BITFLIP:
		d[len / 2] ^= 0x10;
		spit(path, d, len);
		break;
	case EMPTY:
		spit(path, "", 0);
		break;
	case GARBAGE:
		write_text(path, "this is not a checkpoint at all\n");
		break;
	case BAD_VERSION: {
		wm_autofree char *s = wm_xasprintf("{\"format\":\"wm-checkpoint\",\"version\":99,"
						   "\"run_id\":\"x\",\"tasks\":{}}");
		write_zst(path, s);
		break;
	}
	case BAD_JSON:
		write_zst(path, "{\"format\":\"wm-checkpoint\",\"version\":1,");
		break;
	case BAD_FORMAT:
		write_zst(path, "{\"format\":\"something-else\",\"version\":1}");
		break;
	case TRAILING: {
		struct wm_buf b = WM_BUF_INIT;

		wm_buf_add(&b, d, len);
		wm_buf_add(&b, d, len); /* two frames: not "one standard frame" */
		spit(path, b.data, b.len);
		wm_buf_release(&b);
		break;
	}
	}
}

static void check_fallback(enum corruption how, const char *needle)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(2);
	wm_autofree char *pcur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	struct wm_state_loaded l;

	assert_int_equal(wm_checkpoint_write(t, rs, 0, NULL), 0);
	rs->tasks[0].state = WM_TASK_SUCCEEDED;
	assert_int_equal(wm_checkpoint_write(t, rs, 0, NULL), 0);
	corrupt(pcur, how);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_true(l.used_prev);
	/* The previous generation, not the corrupt one, and never silently. */
	assert_int_equal(l.rs->tasks[0].state, WM_TASK_PENDING);
	assert_int_equal(l.n_warnings, 1);
	if (!strstr(l.warnings[0], needle) || !strstr(l.warnings[0], "previous checkpoint"))
		fail_msg("warning '%s' lacks '%s'", l.warnings[0], needle);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_fallback_truncated(void **s)
{
	(void)s;
	check_fallback(TRUNCATE, "truncated");
}
static void test_fallback_bitflip(void **s)
{
	(void)s;
	check_fallback(BITFLIP, "checkpoint");
}
static void test_fallback_empty(void **s)
{
	(void)s;
	check_fallback(EMPTY, "empty");
}
static void test_fallback_garbage(void **s)
{
	(void)s;
	check_fallback(GARBAGE, "not a zstd frame");
}
static void test_fallback_version(void **s)
{
	(void)s;
	check_fallback(BAD_VERSION, "version 99");
}
static void test_fallback_bad_json(void **s)
{
	(void)s;
	check_fallback(BAD_JSON, "bad JSON");
}
static void test_fallback_format(void **s)
{
	(void)s;
	check_fallback(BAD_FORMAT, "not a wm checkpoint");
}
static void test_fallback_two_frames(void **s)
{
	(void)s;
	check_fallback(TRAILING, "trailing");
}

static void test_both_corrupt_is_an_error(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(1);
	wm_autofree char *pcur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *pprev = wm_rundir_file(t, WM_CHECKPOINT_PREV);
	struct wm_error *err = NULL;
	struct wm_state_loaded l;

	(void)state;
	assert_int_equal(wm_checkpoint_write(t, rs, 0, NULL), 0);
	assert_int_equal(wm_checkpoint_write(t, rs, 0, NULL), 0);
	corrupt(pcur, BITFLIP);
	corrupt(pprev, EMPTY);
	assert_int_equal(wm_store_load(t, &l, &err), -1);
	assert_non_null(strstr(err->msg, "no usable checkpoint"));
	assert_null(l.rs);
	wm_error_free(err);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_unwritable_keeps_previous(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = sample(1), *back;
	wm_autofree char *pcur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *ptmp = wm_rundir_file(t, WM_CHECKPOINT_FILE ".tmp");
	struct wm_error *err = NULL;

	(void)state;
	assert_int_equal(wm_checkpoint_write(t, rs, 0, NULL), 0);
	/* A directory where the temporary file goes: the write fails (as on
	 * a full disk) and the previous checkpoint stays whole. */
	assert_int_equal(mkdir(ptmp, 0700), 0);
	rs->state = WM_RUN_FAILED;
	assert_int_equal(wm_checkpoint_write(t, rs, 0, &err), -1);
	assert_non_null(strstr(err->msg, "cannot write checkpoint"));
	wm_error_free(err);
	back = wm_checkpoint_read(pcur, NULL, NULL);
	assert_int_equal(back->state, WM_RUN_RUNNING);
	wm_run_state_free(back);
	wm_run_state_free(rs);
	scratch_free(t);
}

/* A store with records after its opening checkpoint. */
static struct wm_run_state *journaled(const char *t, unsigned records, unsigned every)
{
	struct wm_run_state *rs = sample(4);
	struct wm_store_options o = { .every_events = every };
	struct wm_store *s = wm_store_open(t, rs, 0, &o, NULL);

	assert_non_null(s);
	for (unsigned i = 0; i < records; i++) {
		struct wm_task_state *tk = &rs->tasks[i % 4];

		tk->attempts++;
		tk->state = tk->attempts > 1 ? WM_TASK_SUCCEEDED : WM_TASK_RUNNING;
		assert_int_equal(wm_store_record(s, (long)(i % 4), "task.update", NULL), 0);
	}
	wm_store_close(s);
	return rs;
}

static void test_journal_replay_matches(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 6, 1000);
	struct wm_state_loaded l;
	wm_autofree char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.n_warnings, 0);
	assert_false(l.used_prev);
	assert_int_equal(l.journal_seq, 6);
	a = to_text(rs, 0);
	b = to_text(l.rs, 0);
	assert_string_equal(a, b);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_journal_replay_idempotent(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 5, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	wm_autofree char *a = NULL, *b = NULL, *data = NULL;
	char **w = NULL;
	size_t nw = 0, len = 0;
	struct wm_state_loaded l;
	uint64_t last = 0;

	(void)state;
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	a = to_text(l.rs, 0);
	/* Replaying the same records again changes nothing. */
	assert_int_equal(wm_journal_replay(t, l.rs, 0, &last, &w, &nw, NULL), 0);
	assert_int_equal(last, 5);
	assert_int_equal(nw, 0);
	b = to_text(l.rs, 0);
	assert_string_equal(a, b);
	wm_state_loaded_release(&l);
	/* A duplicated record (same seq) is skipped. */
	data = slurp(pj, &len);
	{
		struct wm_buf dup = WM_BUF_INIT;
		char *nl = memchr(data, '\n', len);

		wm_buf_add(&dup, data, (size_t)(nl - data) + 1);
		wm_buf_add(&dup, data, len);
		spit(pj, dup.data, dup.len);
		wm_buf_release(&dup);
	}
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	free(b);
	b = to_text(l.rs, 0);
	assert_string_equal(a, b);
	assert_int_equal(l.n_warnings, 0);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_journal_torn_tail_skipped(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 3, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	wm_autofree char *data = NULL;
	struct wm_state_loaded l;
	struct wm_journal *j;
	size_t len = 0;

	(void)state;
	data = slurp(pj, &len);
	/* Cut the last record in half: a crash mid-write. */
	{
		char *prev_nl = memrchr(data, '\n', len - 1);
		size_t keep =
			(size_t)(prev_nl - data) + 1 + (len - (size_t)(prev_nl - data) - 1) / 2;

		spit(pj, data, keep);
	}
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.journal_seq, 2);
	assert_int_equal(l.n_warnings, 1);
	assert_non_null(strstr(l.warnings[0], "torn last record"));
	/* Task 2's third record is lost, tasks 0 and 1 kept. */
	assert_int_equal(l.rs->tasks[0].attempts, 1);
	assert_int_equal(l.rs->tasks[2].attempts, 0);
	/* Reopening for append cuts the torn tail. */
	j = wm_journal_open(t, l.journal_seq, NULL);
	assert_non_null(j);
	assert_int_equal(wm_journal_append(j, l.rs, 3, "x", NULL), 0);
	wm_journal_close(j);
	wm_state_loaded_release(&l);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.n_warnings, 0);
	assert_int_equal(l.journal_seq, 3);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_journal_corrupt_middle_and_empty(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 3, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	wm_autofree char *data = NULL;
	struct wm_state_loaded l;
	size_t len = 0;

	(void)state;
	data = slurp(pj, &len);
	/* Flip a byte inside the second record. */
	{
		char *nl = memchr(data, '\n', len);

		nl[5] = '#';
		spit(pj, data, len);
	}
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.journal_seq, 1);
	assert_int_equal(l.n_warnings, 1);
	assert_non_null(strstr(l.warnings[0], "corrupt record"));
	wm_state_loaded_release(&l);
	/* An emptied journal: the checkpoint alone, no warning. */
	spit(pj, "", 0);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.journal_seq, 0);
	assert_int_equal(l.n_warnings, 0);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_prev_checkpoint_uses_prev_journal(void **state)
{
	char *t = scratch_dir();
	/* every_events 4: checkpoints after records 4 and 8; 10 records. */
	struct wm_run_state *rs = journaled(t, 10, 4);
	wm_autofree char *pcur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *a = to_text(rs, 0), *b = NULL;
	struct wm_state_loaded l;

	(void)state;
	corrupt(pcur, BITFLIP);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_true(l.used_prev);
	/* Nothing lost: the previous journal bridges the gap. */
	assert_int_equal(l.journal_seq, 10);
	b = to_text(l.rs, 0);
	assert_string_equal(a, b);
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_record_cost_independent_of_task_count(void **state)
{
	size_t sizes[2];
	size_t counts[2] = { 10, 10000 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		char *t = scratch_dir();
		struct wm_run_state *rs = sample(counts[k]);
		struct wm_journal *j = wm_journal_open(t, 0, NULL);
		wm_autofree char *path = wm_rundir_file(t, WM_JOURNAL_FILE);
		struct stat before, after;

		rs->tasks[3].state = WM_TASK_SUCCEEDED;
		rs->tasks[3].exit_code = 0;
		assert_int_equal(stat(path, &before), 0);
		assert_int_equal(wm_journal_append(j, rs, 3, "task.end", NULL), 0);
		assert_int_equal(stat(path, &after), 0);
		sizes[k] = (size_t)(after.st_size - before.st_size);
		wm_journal_close(j);
		wm_run_state_free(rs);
		scratch_free(t);
	}
	assert_true(sizes[0] > 0);
	assert_int_equal(sizes[0], sizes[1]);
}

static int child_status(void (*fn)(const char *), const char *t, const char *env)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		setenv("WM_TEST_CRASH_AT", env, 1);
		fn(t);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return st;
}

static void crash_in_checkpoint(const char *t)
{
	struct wm_run_state *rs = sample(2);
	struct wm_store *s = wm_store_open(t, rs, 0, NULL, NULL); /* checkpoint 1 */

	rs->state = WM_RUN_FAILED;
	wm_store_checkpoint(s, NULL); /* checkpoint 2: killed before the rename */
	_exit(3);
}

static void crash_in_journal(const char *t)
{
	struct wm_run_state *rs = sample(2);
	struct wm_store *s = wm_store_open(t, rs, 0, NULL, NULL);

	for (int i = 0; i < 3; i++) {
		rs->tasks[0].attempts = (unsigned)i + 1;
		wm_store_record(s, 0, "task.retry", NULL); /* the third is torn */
	}
	_exit(3);
}

static void test_crash_injection(void **state)
{
	char *t = scratch_dir();
	struct wm_state_loaded l;
	int st;

	(void)state;
	st = child_status(crash_in_checkpoint, t, "checkpoint:2");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.rs->state, WM_RUN_RUNNING); /* the old checkpoint, whole */
	assert_int_equal(l.n_warnings, 0);
	wm_state_loaded_release(&l);
	scratch_free(t);

	t = scratch_dir();
	st = child_status(crash_in_journal, t, "journal:3");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.journal_seq, 2);
	assert_int_equal(l.rs->tasks[0].attempts, 2);
	assert_int_equal(l.n_warnings, 1);
	assert_non_null(strstr(l.warnings[0], "torn"));
	wm_state_loaded_release(&l);
	scratch_free(t);
}

/* Child: a journal that hits a file size limit (as a full disk would). */
static void fill_journal(const char *t)
{
	struct wm_run_state *rs = sample(2);
	struct wm_store *s = wm_store_open(t, rs, 0, NULL, NULL);
	struct rlimit rl = { .rlim_cur = 1000, .rlim_max = 1000 };

	signal(SIGXFSZ, SIG_IGN);
	if (!s || setrlimit(RLIMIT_FSIZE, &rl) < 0)
		_exit(1);
	for (unsigned i = 0; i < 100; i++) {
		struct wm_error *err = NULL;

		rs->tasks[0].attempts = i + 1;
		if (wm_store_record(s, 0, "task.retry", &err) < 0) {
			bool clear = strstr(err->msg, "cannot append to journal") != NULL;

			wm_error_free(err);
			wm_store_close(s);
			wm_run_state_free(rs);
			_exit(clear ? 10 : 2);
		}
	}
	_exit(3);
}

static void test_disk_full_leaves_resumable_state(void **state)
{
	char *t = scratch_dir();
	struct wm_state_loaded l;
	int st;

	(void)state;
	st = child_status(fill_journal, t, "");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 10);
	/* Whatever fitted is loaded; the cut-off record is reported, not used. */
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_true(l.journal_seq >= 1);
	assert_int_equal(l.rs->tasks[0].attempts, l.journal_seq);
	assert_int_equal(l.n_warnings, 1);
	assert_non_null(strstr(l.warnings[0], "torn"));
	wm_state_loaded_release(&l);
	scratch_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runstate_index_and_dupes),
		cmocka_unit_test(test_streamed_text_equals_tree),
		cmocka_unit_test(test_checkpoint_streamed),
		cmocka_unit_test(test_states_named_and_parsed),
		cmocka_unit_test(test_checkpoint_round_trip),
		cmocka_unit_test(test_atomic_replace_keeps_prev),
		cmocka_unit_test(test_fallback_truncated),
		cmocka_unit_test(test_fallback_bitflip),
		cmocka_unit_test(test_fallback_empty),
		cmocka_unit_test(test_fallback_garbage),
		cmocka_unit_test(test_fallback_version),
		cmocka_unit_test(test_fallback_bad_json),
		cmocka_unit_test(test_fallback_format),
		cmocka_unit_test(test_fallback_two_frames),
		cmocka_unit_test(test_both_corrupt_is_an_error),
		cmocka_unit_test(test_unwritable_keeps_previous),
		cmocka_unit_test(test_journal_replay_matches),
		cmocka_unit_test(test_journal_replay_idempotent),
		cmocka_unit_test(test_journal_torn_tail_skipped),
		cmocka_unit_test(test_journal_corrupt_middle_and_empty),
		cmocka_unit_test(test_prev_checkpoint_uses_prev_journal),
		cmocka_unit_test(test_record_cost_independent_of_task_count),
		cmocka_unit_test(test_crash_injection),
		cmocka_unit_test(test_disk_full_leaves_resumable_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
