/* Unit tests for orchestrator/serve/route.c: request targets into path
 * segments and query parameters, and the route table they are matched
 * against (the router of `wm serve`). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "orchestrator/serve/route.h"

/* Parses raw and matches it under method; returns the route (NULL: f says why). */
static const struct wm_serve_route *route(const char *method, const char *raw,
					  struct wm_serve_target *t, const char *cap[2],
					  struct wm_serve_fail *f, const char **allow)
{
	memset(f, 0, sizeof(*f));
	if (wm_serve_parse_target(raw, t, f) < 0)
		return NULL;
	return wm_serve_route_match(method, t, cap, allow, f);
}

static void test_routes_and_captures(void **state)
{
	struct wm_serve_target t;
	struct wm_serve_fail f;
	const char *cap[2], *allow = NULL;
	const struct wm_serve_route *r;

	(void)state;
	r = route("GET", "/api/v1/runs", &t, cap, &f, &allow);
	assert_non_null(r);
	assert_int_equal(r->id, R_RUNS);
	wm_serve_target_release(&t);
	r = route("POST", "/api/v1/runs", &t, cap, &f, &allow);
	assert_int_equal(r->id, R_RUN_START);
	assert_int_equal(r->role, WM_ROLE_RUN);
	wm_serve_target_release(&t);
	r = route("GET", "/api/v1/runs/20261122-081503-a1b2/tasks/build", &t, cap, &f, &allow);
	assert_int_equal(r->id, R_RUN_TASK);
	assert_string_equal(cap[0], "20261122-081503-a1b2");
	assert_string_equal(cap[1], "build");
	wm_serve_target_release(&t);
	r = route("HEAD", "/api/v1/runs/x/audit/verify", &t, cap, &f, &allow);
	assert_int_equal(r->id, R_RUN_VERIFY);
	wm_serve_target_release(&t);
	/* A literal segment wins over a capture at the same place. */
	r = route("GET", "/api/v1/policies/diff?a=x&b=y", &t, cap, &f, &allow);
	assert_int_equal(r->id, R_POLICY_DIFF);
	wm_serve_target_release(&t);
	r = route("GET", "/api/v1/policies/standard", &t, cap, &f, &allow);
	assert_int_equal(r->id, R_POLICY);
	assert_string_equal(cap[0], "standard");
	wm_serve_target_release(&t);
}

static void test_404_405(void **state)
{
	struct wm_serve_target t;
	struct wm_serve_fail f;
	/* Not NULL: the router must clear it for a 404. */
	const char *cap[2], *allow = "unset";

	(void)state;
	assert_null(route("GET", "/api/v1/nothing", &t, cap, &f, &allow));
	assert_int_equal(f.status, 404);
	assert_null(allow);
	wm_serve_target_release(&t);
	assert_null(route("GET", "/api/v1/runs/x/tasks", &t, cap, &f, &allow));
	assert_int_equal(f.status, 404);
	wm_serve_target_release(&t);
	assert_null(route("DELETE", "/api/v1/runs", &t, cap, &f, &allow));
	assert_int_equal(f.status, 405);
	assert_string_equal(allow, "GET, HEAD, POST");
	wm_serve_target_release(&t);
	assert_null(route("GET", "/api/v1/runs/x/cancel", &t, cap, &f, &allow));
	assert_int_equal(f.status, 405);
	assert_string_equal(allow, "POST");
	wm_serve_target_release(&t);
	assert_null(route("POST", "/api/v1/stats", &t, cap, &f, &allow));
	assert_string_equal(allow, "GET, HEAD");
	wm_serve_target_release(&t);
}

static void test_decoding(void **state)
{
	struct wm_serve_target t;
	struct wm_serve_fail f = { 0 };

	(void)state;
	assert_int_equal(wm_serve_parse_target("/a%20b/c?x=1+2&y=%41&flag&x=3", &t, &f), 0);
	assert_int_equal(t.n_seg, 2);
	assert_string_equal(t.seg[0], "a b");
	assert_string_equal(wm_serve_param(&t, "x"), "3"); /* the last one */
	assert_string_equal(wm_serve_param(&t, "y"), "A");
	assert_string_equal(wm_serve_param(&t, "flag"), "");
	assert_null(wm_serve_param(&t, "z"));
	wm_serve_target_release(&t);
	assert_int_equal(wm_serve_parse_target("/runs/", &t, &f), 0);
	assert_true(t.trailing_slash);
	assert_int_equal(t.n_seg, 1);
	wm_serve_target_release(&t);
}

static void expect_refused(const char *raw, int status, const char *field)
{
	struct wm_serve_target t;
	struct wm_serve_fail f = { 0 };

	assert_int_equal(wm_serve_parse_target(raw, &t, &f), -1);
	assert_int_equal(f.status, status);
	assert_string_equal(f.field, field);
	assert_true(f.msg[0] != '\0');
	wm_serve_target_release(&t);
}

static void test_refused(void **state)
{
	char *long_target = malloc(WM_SERVE_TARGET_MAX + 10);

	(void)state;
	expect_refused("/api/v1/runs/..%2f..%2fetc", 400, "path");
	expect_refused("/api/v1/runs/..%2F", 400, "path");
	expect_refused("/api/v1/runs/abc%00def", 400, "path");
	expect_refused("/api/v1/runs?state=%00", 400, "query");
	expect_refused("/api/%zz", 400, "path");
	expect_refused("/api/%4", 400, "path");
	expect_refused("/api/x?a=%", 400, "query");
	expect_refused("api/v1", 400, "path");
	expect_refused("", 400, "path");
	expect_refused("/a//b", 400, "path");
	expect_refused("/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", 404, "path");
	memset(long_target, 'a', WM_SERVE_TARGET_MAX + 9);
	long_target[0] = '/';
	long_target[WM_SERVE_TARGET_MAX + 9] = '\0';
	expect_refused(long_target, 414, "path");
	free(long_target);
	{
		struct wm_buf q = WM_BUF_INIT;

		wm_buf_addstr(&q, "/x?");
		for (int i = 0; i <= WM_SERVE_MAX_PARAMS; i++)
			wm_buf_addstr(&q, "a=1&");
		expect_refused(q.data, 400, "query");
		wm_buf_release(&q);
	}
}

static void test_names(void **state)
{
	char longest[WM_SERVE_NAME_MAX + 2];

	(void)state;
	assert_true(wm_serve_name_ok("build"));
	assert_true(wm_serve_name_ok("hello.md"));
	assert_false(wm_serve_name_ok("test[os=x]"));
	assert_false(wm_serve_name_ok(".."));
	assert_false(wm_serve_name_ok(".hidden"));
	assert_false(wm_serve_name_ok("a/b"));
	assert_false(wm_serve_name_ok(""));
	assert_false(wm_serve_name_ok(NULL));
	assert_false(wm_serve_name_ok("a b"));
	memset(longest, 'a', sizeof(longest));
	longest[WM_SERVE_NAME_MAX] = '\0';
	assert_true(wm_serve_name_ok(longest));
	longest[WM_SERVE_NAME_MAX] = 'a';
	longest[WM_SERVE_NAME_MAX + 1] = '\0';
	assert_false(wm_serve_name_ok(longest));
}

static void test_params(void **state)
{
	struct wm_serve_target t;
	struct wm_serve_fail f = { 0 };
	unsigned long n = 7;
	bool b = false;

	(void)state;
	assert_int_equal(
		wm_serve_parse_target("/x?limit=25&bad=-1&big=99999&follow=1&no=maybe", &t, &f), 0);
	assert_int_equal(wm_serve_param_uint(&t, "limit", 100, &n, &f), 0);
	assert_int_equal(n, 25);
	assert_int_equal(wm_serve_param_uint(&t, "absent", 100, &n, &f), 0);
	assert_int_equal(n, 25);
	assert_int_equal(wm_serve_param_uint(&t, "bad", 100, &n, &f), -1);
	assert_string_equal(f.field, "bad");
	assert_int_equal(f.status, 400);
	assert_int_equal(wm_serve_param_uint(&t, "big", 100, &n, &f), -1);
	assert_int_equal(wm_serve_param_bool(&t, "follow", &b, &f), 0);
	assert_true(b);
	assert_int_equal(wm_serve_param_bool(&t, "no", &b, &f), -1);
	assert_string_equal(f.field, "no");
	wm_serve_target_release(&t);
}

/* The table: every pattern starts with '/', captures are whole segments,
 * no two routes share method and pattern. */
static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < WM_SERVE_ROUTE_COUNT; i++) {
		const struct wm_serve_route *r = &wm_serve_routes[i];

		assert_int_equal(r->id, (int)i);
		assert_true(r->pattern[0] == '/');
		assert_true(!strcmp(r->method, "GET") || !strcmp(r->method, "POST"));
		assert_non_null(strstr(r->summary, " ") ? r->summary : NULL);
		for (size_t k = 0; k < i; k++)
			assert_false(!strcmp(r->method, wm_serve_routes[k].method) &&
				     !strcmp(r->pattern, wm_serve_routes[k].pattern));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_and_captures),
		cmocka_unit_test(test_404_405),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
