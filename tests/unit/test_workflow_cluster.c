/* Unit tests for where tasks run: the front matter's `executor` and
 * `slurm` map (workflow/fm_cluster.c) and the task attributes executor,
 * cpus, memory, gpus and time; errors at their FILE:LINE:COL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "tests/unit/support/diagcheck.h"
#include "workflow/workflow.h"

static struct wm_workflow *parse(const char *text, struct wm_diags *d)
{
	struct wm_workflow *wf = NULL;

	wm_workflow_parse_checked("t.md", text, strlen(text), &wf, d);
	return wf;
}

static void test_front_matter_and_attributes(void **state)
{
	const char *text = "---\n"
			   "executor: slurm\n"
			   "slurm:\n"
			   "  partition: debug\n"
			   "  account: physics\n"
			   "  qos: short\n"
			   "  extra: [--constraint=avx2, --exclusive]\n"
			   "  max_queued: 50\n"
			   "---\n"
			   "## sim\n- cpus: 8\n- memory: 16G\n- gpus: 2\n- time: 90m\n"
			   "```sh\ntrue\n```\n"
			   "## upload\n- depends: sim\n- executor: local\n```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	wm_test_print_diags(&d);
	assert_non_null(wf);
	assert_int_equal(wf->executor, WM_EXECUTOR_SLURM);
	assert_string_equal(wf->slurm.partition, "debug");
	assert_string_equal(wf->slurm.account, "physics");
	assert_string_equal(wf->slurm.qos, "short");
	assert_string_equal(wf->slurm.extra[0], "--constraint=avx2");
	assert_string_equal(wf->slurm.extra[1], "--exclusive");
	assert_null(wf->slurm.extra[2]);
	assert_int_equal(wf->slurm.max_queued, 50);
	assert_int_equal(wf->tasks[0].executor, WM_EXECUTOR_INHERIT);
	assert_int_equal(wf->tasks[0].cpus, 8);
	assert_int_equal(wf->tasks[0].memory, 16ULL << 30);
	assert_int_equal(wf->tasks[0].gpus, 2);
	assert_int_equal(wf->tasks[0].time_ms, 90ULL * 60 * 1000);
	assert_int_equal(wf->tasks[1].executor, WM_EXECUTOR_LOCAL);
	assert_string_equal(wm_executor_name(wf->tasks[1].executor), "local");
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

/* Each mistake is reported where it is, and all of them at once. */
static void test_errors_at_their_place(void **state)
{
	const char *text = "---\n"
			   "executor: kubernetes\n"
			   "slurm:\n"
			   "  partion: debug\n"
			   "  extra: [--output=/tmp/x, --exclusive, nodes=2]\n"
			   "  max_queued: 0\n"
			   "---\n"
			   "## a\n- executor: slrum\n- memory: lots\n- cpus: -1\n"
			   "```sh\ntrue\n```\n";
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = parse(text, &d);

	(void)state;
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, 2, 11, "`executor` must be local or slurm") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 3, "unknown key `slurm.partion`") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 4, 3, "did you mean `partition`") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 5, 11, "`--output` is not allowed") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 5, 41, "`nodes=2` is not a long sbatch option") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 6, 15,
			      "`slurm.max_queued` must be a whole number") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 9, 13, "expected local or slurm") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 9, 13, "did you mean `slurm`") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 10, 11, "memory") ||
	    !wm_test_has_diag(&d, WM_DIAG_ERROR, 11, 9, "cpus: expected a whole number")) {
		wm_test_print_diags(&d);
		fail_msg("a diagnostic is missing or misplaced");
	}
	/* The allowed option in the same list is not reported. */
	assert_false(wm_test_has_diag(&d, WM_DIAG_ANY, 5, 28, ""));
	wm_diags_release(&d);
}

static void test_extra_allowlist(void **state)
{
	(void)state;
	assert_true(wm_slurm_extra_allowed("--constraint=gpu"));
	assert_true(wm_slurm_extra_allowed("--exclusive"));
	assert_false(wm_slurm_extra_allowed("--output=x"));
	assert_false(wm_slurm_extra_allowed("--job-name=x"));
	assert_false(wm_slurm_extra_allowed("--wrap=id"));
	assert_false(wm_slurm_extra_allowed("--uid=0"));
	assert_false(wm_slurm_extra_allowed("--constraintx"));
	assert_false(wm_slurm_extra_allowed("--"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_matter_and_attributes),
		cmocka_unit_test(test_errors_at_their_place),
		cmocka_unit_test(test_extra_allowlist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
