/* Unit tests for the journal's checksums and recovery (state/journal,
 * state/store): no single bit flip changes the loaded state silently,
 * format-1 records are refused by name, a run whose checkpoints are gone
 * is rebuilt from journals that start at record 1, a missing journal is
 * reported loudly, and records carry the run's task counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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
	rs->state = WM_RUN_RUNNING;
	for (size_t i = 0; i < ntasks; i++) {
		wm_autofree char *id = wm_xasprintf("task-%zu", i);

		assert_int_equal(wm_run_state_add_task(rs, id, NULL), (long)i);
	}
	return rs;
}

/* A store with `records` task records; every `every` a checkpoint. */
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
		tk->exit_code = tk->attempts > 1 ? 0 : -1;
		assert_int_equal(wm_store_record(s, (long)(i % 4), "task.update", NULL), 0);
	}
	wm_store_close(s);
	return rs;
}

static char *text_of(const struct wm_run_state *rs)
{
	json_t *j = wm_run_state_to_json(rs, 0);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static bool has_warning(const struct wm_state_loaded *l, const char *needle)
{
	for (size_t i = 0; i < l->n_warnings; i++)
		if (strstr(l->warnings[i], needle))
			return true;
	return false;
}

/* Every bit of every byte of a journal's last record, flipped one at a
 * time: the load either reports a problem or yields exactly the true state
 * (the last record, so that no later record can mask a change). */
static void test_every_bit_flip_is_caught(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 3, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	wm_autofree char *truth = text_of(rs);
	size_t len = 0, silent = 0, flips = 0;
	wm_autofree char *orig = slurp(pj, &len);

	char *nl;

	(void)state;
	orig[len - 1] = '\0';
	nl = strrchr(orig, '\n');
	orig[len - 1] = '\n';
	for (size_t i = nl ? (size_t)(nl - orig) + 1 : 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct wm_state_loaded l;
			wm_autofree char *got = NULL;

			orig[i] ^= (char)(1 << bit);
			spit(pj, orig, len);
			orig[i] ^= (char)(1 << bit);
			flips++;
			if (wm_store_load(t, &l, NULL) < 0)
				continue;
			got = text_of(l.rs);
			if (l.n_warnings == 0 && strcmp(got, truth) != 0)
				silent++;
			wm_state_loaded_release(&l);
		}
	}
	if (silent)
		fail_msg("%zu of %zu single-bit flips changed the state silently", silent, flips);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_format_one_refused_by_name(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 0, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	struct wm_state_loaded l;

	(void)state;
	/* A record as wm wrote it before checksums. */
	write_text(pj, "{\"seq\":1,\"event\":\"task.end\",\"task\":\"task-0\",\"t\":{\"state\":"
		       "\"succeeded\"},\"run\":{\"state\":\"running\",\"started_ms\":0,"
		       "\"ended_ms\":0,\"audit\":{\"last_seq\":0,\"last_mac\":\"\"}}}\n");
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_int_equal(l.journal_seq, 0);
	assert_int_equal(l.rs->tasks[0].state, WM_TASK_PENDING);
	assert_true(has_warning(&l, "journal format 1"));
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_rebuild_without_checkpoints(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 10, 1000);
	wm_autofree char *cur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *prev = wm_rundir_file(t, WM_CHECKPOINT_PREV);
	struct wm_state_loaded l;

	(void)state;
	unlink(cur);
	unlink(prev);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_true(l.rebuilt);
	assert_int_equal(l.journal_seq, 10);
	assert_true(has_warning(&l, "rebuilt from its journals (records 1..10)"));
	for (size_t i = 0; i < 4; i++) {
		const struct wm_task_state *got = wm_run_state_find(l.rs, rs->tasks[i].id);

		assert_non_null(got);
		assert_int_equal(got->state, rs->tasks[i].state);
		assert_int_equal(got->attempts, rs->tasks[i].attempts);
	}
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_no_rebuild_when_records_are_gone(void **state)
{
	char *t = scratch_dir();
	/* Checkpoints after records 4 and 8: the journals hold 5..10 only. */
	struct wm_run_state *rs = journaled(t, 10, 4);
	wm_autofree char *cur = wm_rundir_file(t, WM_CHECKPOINT_FILE);
	wm_autofree char *prev = wm_rundir_file(t, WM_CHECKPOINT_PREV);
	struct wm_state_loaded l;
	struct wm_error *err = NULL;

	(void)state;
	unlink(cur);
	unlink(prev);
	assert_int_equal(wm_store_load(t, &l, &err), -1);
	assert_non_null(strstr(err->msg, "not 1"));
	wm_error_free(err);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_missing_journal_is_loud(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 3, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	struct wm_state_loaded l;

	(void)state;
	unlink(pj);
	assert_int_equal(wm_store_load(t, &l, NULL), 0);
	assert_true(has_warning(&l, "journal.jsonl` is missing"));
	wm_state_loaded_release(&l);
	wm_run_state_free(rs);
	scratch_free(t);
}

static void test_records_carry_counts(void **state)
{
	char *t = scratch_dir();
	struct wm_run_state *rs = journaled(t, 6, 1000);
	wm_autofree char *pj = wm_rundir_file(t, WM_JOURNAL_FILE);
	size_t len = 0;
	wm_autofree char *data = slurp(pj, &len);
	char *last;
	json_t *o, *c;

	(void)state;
	data[len - 1] = '\0';
	last = strrchr(data, '\n');
	o = json_loads(last ? last + 1 : data, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), WM_JOURNAL_FORMAT);
	assert_int_equal(strlen(json_string_value(json_object_get(o, "sum"))), 32);
	c = json_object_get(json_object_get(o, "run"), "counts");
	/* After 6 records: tasks 0 and 1 succeeded, 2 and 3 running. */
	assert_int_equal(json_integer_value(json_object_get(c, "succeeded")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "running")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "pending")), 0);
	json_decref(o);
	wm_run_state_free(rs);
	scratch_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_bit_flip_is_caught),
		cmocka_unit_test(test_format_one_refused_by_name),
		cmocka_unit_test(test_rebuild_without_checkpoints),
		cmocka_unit_test(test_no_rebuild_when_records_are_gone),
		cmocka_unit_test(test_missing_journal_is_loud),
		cmocka_unit_test(test_records_carry_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
