/* Unit tests for orchestrator/secrets.c: --secret arguments, what
 * options.json keeps of them, fetching the values, masking events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/mask.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/secrets.h"
#include "workflow/workflow.h"

static char dir[] = "/tmp/wm-test-secrets.XXXXXX";
static char wf_path[] = "w.md";

/* A strv of the space-separated words of `words`. */
static char **strv(const char *words)
{
	wm_autofree char *copy = wm_xstrdup(words);
	char **v = NULL, *save = NULL;
	size_t n = 0;

	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		wm_strv_push(&v, &n, w);
	return v;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	wm_autofree char *cmd = wm_xasprintf("rm -rf '%s'", dir);

	(void)state;
	return system(cmd) == 0 ? 0 : -1;
}

static char *write_file(const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = wm_xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* The error's text, freed with the error. */
static void expect_error(struct wm_error *e, const char *text)
{
	wm_autofree char *got = NULL;

	assert_non_null(e);
	got = wm_error_text(e);
	if (!strstr(got, text))
		fail_msg("'%s' not in '%s'", text, got);
	assert_int_equal(e->exit_code, WM_EXIT_USAGE);
	wm_error_free(e);
}

static void test_arguments(void **state)
{
	struct wm_secrets *s = NULL;
	struct wm_error *e = NULL;
	char cwd[4096];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(wm_secrets_add_arg(&s, "API_TOKEN", &e), 0);
	assert_int_equal(wm_secrets_add_arg(&s, "DB=@/run/db", &e), 0);
	assert_int_equal(wm_secrets_add_arg(&s, "REL=@conf/key", &e), 0);
	assert_int_equal(s->n, 3);
	assert_null(s->v[0].file);
	assert_string_equal(s->v[1].file, "/run/db");
	{
		wm_autofree char *want = wm_xasprintf("%s/conf/key", cwd);
		assert_string_equal(s->v[2].file, want);
	}
	assert_int_equal(wm_secrets_add_arg(&s, "API_TOKEN=@x", &e), -1);
	expect_error(e, "--secret API_TOKEN is given twice");
	e = NULL;
	/* A value typed on the command line is refused and never repeated. */
	assert_int_equal(wm_secrets_add_arg(&s, "PASS=hunter2", &e), -1);
	assert_null(strstr(e->msg, "hunter2"));
	expect_error(e, "PASS=@FILE");
	e = NULL;
	assert_int_equal(wm_secrets_add_arg(&s, "PASS=@", &e), -1);
	expect_error(e, "PASS=@FILE");
	e = NULL;
	assert_int_equal(wm_secrets_add_arg(&s, "9LIVES", &e), -1);
	expect_error(e, "`9LIVES`: not a variable name");
	e = NULL;
	assert_int_equal(wm_secrets_add_arg(&s, "WM_OUT", &e), -1);
	expect_error(e, "WM_ are wm's own");
	assert_int_equal(s->n, 3);
	wm_secrets_free(s);
}

static void test_json_keeps_names_and_files(void **state)
{
	static const struct {
		const char *json, *error;
	} bad[] = {
		{ "[{\"name\": \"X\", \"file\": \"rel/path\"}]",
		  "o.json: secret 1 (X): its file is not an absolute path" },
		{ "[{\"name\": \"X\"}, {\"name\": \"X\"}]", "secret 2 (X): listed twice" },
		{ "[{\"name\": \"a-b\"}]", "not a variable name" },
		{ "[{\"file\": \"/x\"}]", "secret 1 (?): no name" },
		{ "{}", "`secrets` is not a list" },
	};
	struct wm_secrets *s = NULL, *back = NULL;
	struct wm_error *e = NULL;
	json_t *j;

	(void)state;
	wm_secrets_add_arg(&s, "A_TOKEN", NULL);
	wm_secrets_add_arg(&s, "B=@/etc/b", NULL);
	j = wm_secrets_to_json(s);
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")),
			    "A_TOKEN");
	assert_true(json_is_null(json_object_get(json_array_get(j, 0), "file")));
	assert_int_equal(wm_secrets_from_json(j, "o.json", &back, &e), 0);
	assert_int_equal(back->n, 2);
	assert_string_equal(back->v[1].name, "B");
	assert_string_equal(back->v[1].file, "/etc/b");
	assert_null(back->v[0].value);
	json_decref(j);
	wm_secrets_free(back);
	wm_secrets_free(s);

	/* Nothing recorded (runs from before secrets): none. */
	assert_int_equal(wm_secrets_from_json(NULL, "o.json", &back, &e), 0);
	assert_null(back);
	/* options.json is not trusted: a bad entry is an error naming it. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *doc = json_loads(bad[i].json, 0, NULL);

		assert_non_null(doc);
		assert_int_equal(wm_secrets_from_json(doc, "o.json", &back, &e), -1);
		expect_error(e, bad[i].error);
		e = NULL;
		json_decref(doc);
	}
}

static void test_fetch(void **state)
{
	wm_autofree char *crlf = write_file("crlf", "from-file\r\n", 11, 0600);
	wm_autofree char *two = write_file("two", "kept\n\n", 6, 0600);
	wm_autofree char *arg1 = wm_xasprintf("F=@%s", crlf);
	wm_autofree char *arg2 = wm_xasprintf("G=@%s", two);
	wm_autostrv char **declared = strv("E_TOKEN F");
	struct wm_workflow wf = { .path = wf_path, .secrets = declared };
	struct wm_secrets *s = NULL;
	struct wm_error *e = NULL;
	char *const *env;

	(void)state;
	setenv("E_TOKEN", "from-env", 1);
	wm_secrets_add_arg(&s, "E_TOKEN", NULL);
	wm_secrets_add_arg(&s, arg1, NULL);
	wm_secrets_add_arg(&s, arg2, NULL);
	assert_int_equal(wm_secrets_fetch(s, &wf, NULL, false, &e), 0);
	env = wm_secrets_env(s);
	assert_string_equal(env[0], "E_TOKEN=from-env");
	assert_string_equal(env[1], "F=from-file"); /* one \r\n dropped */
	assert_string_equal(env[2], "G=kept\n");    /* one \n only */
	assert_null(env[3]);
	assert_int_equal(wm_mask_count(wm_secrets_mask(s)), 3);
	wm_secrets_free(s);
	unsetenv("E_TOKEN");
}

static void test_fetch_names_what_is_missing(void **state)
{
	wm_autostrv char **declared = strv("A B C");
	wm_autostrv char **cli_env = strv("X=1 B=2");
	struct wm_workflow wf = { .path = wf_path, .secrets = declared };
	struct wm_secrets *s = NULL;
	struct wm_error *e = NULL;

	(void)state;
	unsetenv("A");
	unsetenv("B");
	/* Nothing given: every declared name, at once. */
	assert_int_equal(wm_secrets_fetch(NULL, &wf, NULL, false, &e), -1);
	expect_error(e, "w.md declares secrets A, B, C: give each with --secret NAME");
	e = NULL;
	wm_secrets_add_arg(&s, "B", NULL);
	assert_int_equal(wm_secrets_fetch(s, &wf, NULL, false, &e), -1);
	expect_error(e, "w.md declares secrets A, C:");
	e = NULL;
	assert_int_equal(wm_secrets_fetch(s, &wf, NULL, true, &e), -1);
	expect_error(e, "which the run was not started with");
	e = NULL;
	wm_secrets_add_arg(&s, "A", NULL);
	wm_secrets_add_arg(&s, "C", NULL);
	/* -e and --secret for one name: which would win is not obvious. */
	assert_int_equal(wm_secrets_fetch(s, &wf, cli_env, false, &e), -1);
	expect_error(e, "B is given both with -e and with --secret");
	e = NULL;
	setenv("C", "c-value", 1);
	assert_int_equal(wm_secrets_fetch(s, &wf, NULL, true, &e), -1);
	expect_error(e, "secrets B, A are not set in the environment: wm resume asks");
	unsetenv("C");
	wm_secrets_free(s);
}

static void test_fetch_file_problems(void **state)
{
	wm_autofree char *nul = write_file("nul", "a\0b", 3, 0600);
	wm_autofree char *shared = write_file("shared", "shared-value\n", 13, 0644);
	wm_autofree char *sub = wm_xasprintf("%s/sub", dir);
	const char *args[] = { NULL, "X=@/dev/stdin", NULL, NULL };
	const char *want[] = { "holds a NUL byte", "is not a file that stays", "is a directory",
			       "cannot read" };
	struct wm_workflow wf = { .path = wf_path };

	(void)state;
	assert_int_equal(mkdir(sub, 0700), 0);
	args[0] = wm_xasprintf("X=@%s", nul);
	args[2] = wm_xasprintf("X=@%s", sub);
	args[3] = wm_xasprintf("X=@%s/missing", dir);
	for (size_t i = 0; i < 4; i++) {
		struct wm_secrets *s = NULL;
		struct wm_error *e = NULL;

		assert_int_equal(wm_secrets_add_arg(&s, args[i], NULL), 0);
		assert_int_equal(wm_secrets_fetch(s, &wf, NULL, false, &e), -1);
		expect_error(e, want[i]);
		wm_secrets_free(s);
		if (i != 1)
			free((char *)args[i]);
	}
	/* Readable by others: a warning, not a refusal. */
	{
		wm_autofree char *arg = wm_xasprintf("S=@%s", shared);
		struct wm_secrets *s = NULL;

		wm_secrets_add_arg(&s, arg, NULL);
		assert_int_equal(wm_secrets_fetch(s, &wf, NULL, false, NULL), 0);
		assert_string_equal(wm_secrets_env(s)[0], "S=shared-value");
		wm_secrets_free(s);
	}
}

static void test_mask_json_and_short_values(void **state)
{
	struct wm_workflow wf = { .path = wf_path };
	struct wm_secrets *s = NULL;
	json_t *ev = json_pack("{s:s, s:[s, {s:s}], s:i}", "why", "token tok-9999 refused", "list",
			       "tok-9999", "deep", "x tok-9999 y", "n", 7);

	(void)state;
	setenv("T1", "tok-9999", 1);
	setenv("T2", "abc", 1);
	wm_secrets_add_arg(&s, "T1", NULL);
	wm_secrets_add_arg(&s, "T2", NULL);
	assert_int_equal(wm_secrets_fetch(s, &wf, NULL, false, NULL), 0);
	/* "abc" is too short to mask: tasks get it all the same. */
	assert_int_equal(wm_mask_count(wm_secrets_mask(s)), 1);
	assert_string_equal(wm_secrets_env(s)[1], "T2=abc");
	wm_secrets_mask_json(s, ev);
	assert_string_equal(json_string_value(json_object_get(ev, "why")), "token *** refused");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "list"), 0)),
			    "***");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(ev, "list"), 1), "deep")),
			    "x *** y");
	assert_int_equal(json_integer_value(json_object_get(ev, "n")), 7);
	/* No secrets: nothing changes. */
	wm_secrets_mask_json(NULL, ev);
	json_decref(ev);
	wm_secrets_free(s);
	unsetenv("T1");
	unsetenv("T2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_json_keeps_names_and_files),
		cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_fetch_names_what_is_missing),
		cmocka_unit_test(test_fetch_file_problems),
		cmocka_unit_test(test_mask_json_and_short_values),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
