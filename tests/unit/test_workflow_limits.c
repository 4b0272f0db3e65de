/* Unit tests for what the workflow parser refuses as hostile input: NUL
 * bytes, front matter beyond its limits (size, nesting, values, aliases),
 * and files larger than WM_WORKFLOW_MAX_BYTES; each an error at its place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/diagcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/diag.h"
#include "workflow/workflow.h"

static void expect_error(const char *text, size_t len, unsigned line, unsigned col,
			 const char *needle)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;

	assert_int_equal(wm_workflow_parse_checked("t.md", text, len, &wf, &d), -1);
	assert_null(wf);
	if (!wm_test_has_diag(&d, WM_DIAG_ERROR, line, col, needle)) {
		wm_test_print_diags(&d);
		fail_msg("wanted %u:%u %s", line, col, needle);
	}
	wm_diags_release(&d);
}

static const char body[] = "## Build\n\n```sh\nmake\n```\n";

static void test_nul_bytes(void **state)
{
	static const char in_body[] = "# T\n\n## Build\n\n```sh\necho a\0b\n```\n";
	static const char in_heading[] = "## Bu\0ild\n```sh\ntrue\n```\n\0\0";
	static const char in_fm[] = "---\nname: a\0b\n---\n## A\n```sh\ntrue\n```\n";

	(void)state;
	expect_error(in_body, sizeof(in_body) - 1, 6, 7,
		     "NUL byte in the workflow: a workflow is text");
	expect_error(in_heading, sizeof(in_heading) - 1, 1, 6,
		     "NUL byte in the workflow (and 2 more)");
	expect_error(in_fm, sizeof(in_fm) - 1, 2, 8, "NUL byte in the workflow");
}

static void test_front_matter_limits(void **state)
{
	struct wm_buf b = WM_BUF_INIT;

	(void)state;
	wm_buf_addstr(&b, "---\nname: x\nenv: &e {A: b}\ninterpreters:\n  awk: *e\n---\n");
	wm_buf_addstr(&b, body);
	expect_error(b.data, b.len, 5, 8, "aliases (*e) are not allowed in the front matter");
	wm_buf_setlen(&b, 0);
	wm_buf_addstr(&b, "---\nname: x\nenv: ");
	for (int i = 0; i < 40000; i++)
		wm_buf_addch(&b, '[');
	wm_buf_addstr(&b, "\n---\n");
	wm_buf_addstr(&b, body);
	expect_error(b.data, b.len, 3, 6 + 15,
		     "nesting deeper than the limit of 16 levels in the front matter");
	wm_buf_setlen(&b, 0);
	wm_buf_addstr(&b, "---\nenv:\n");
	for (int i = 0; i < 6000; i++)
		wm_buf_addf(&b, "  V%d: x\n", i);
	wm_buf_addstr(&b, "---\n");
	wm_buf_addstr(&b, body);
	expect_error(b.data, b.len, 5001, 10,
		     "more values than the limit of 10000 in the front matter");
	wm_buf_setlen(&b, 0);
	wm_buf_addstr(&b, "---\nname: x\n# ");
	while (b.len < (1u << 20) + 10)
		wm_buf_addch(&b, 'x');
	wm_buf_addstr(&b, "\n---\n");
	wm_buf_addstr(&b, body);
	expect_error(b.data, b.len, 3, (1u << 20) - 8 + 1,
		     "the front matter is larger than the limit of 1048576 bytes");
	wm_buf_release(&b);
}

static void test_file_size(void **state)
{
	char path[] = "/tmp/wm-wf-XXXXXX";
	int fd = mkstemp(path);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	/* A sparse file far past the limit: only the limit's worth is read. */
	assert_int_equal(ftruncate(fd, (off_t)1 << 34), 0);
	close(fd);
	assert_int_equal(wm_workflow_load(path, &wf, &d, &err), -1);
	assert_null(err);
	assert_null(wf);
	assert_true(wm_test_has_diag(&d, WM_DIAG_ERROR, 6, (1u << 24) - (unsigned)strlen(body) + 1,
				     "the workflow is larger than the limit of 16777216 bytes"));
	unlink(path);
	wm_diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_front_matter_limits),
		cmocka_unit_test(test_file_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
