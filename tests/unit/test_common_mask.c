/* Unit tests for common/mask.c: secret values masked in text and streams. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/mask.h"
#include "common/xalloc.h"

struct sink {
	struct wm_buf got;
	size_t calls;
};

static void collect(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	wm_buf_add(&s->got, data, len);
	s->calls++;
}

static struct wm_mask *mask_of(const char *const *values)
{
	struct wm_mask *m = wm_mask_new();

	for (size_t i = 0; values[i]; i++)
		wm_mask_add(m, values[i], strlen(values[i]));
	return m;
}

static void expect_text(const struct wm_mask *m, const char *in, const char *want)
{
	char *got = wm_mask_text(m, in);

	assert_string_equal(got, want);
	free(got);
}

static void test_short_values_are_not_kept(void **state)
{
	struct wm_mask *m = wm_mask_new();

	(void)state;
	assert_false(wm_mask_add(m, "", 0));
	assert_false(wm_mask_add(m, "abc", 3));
	assert_int_equal(wm_mask_count(m), 0);
	assert_true(wm_mask_add(m, "abcd", 4));
	assert_true(wm_mask_add(m, "abcd", 4)); /* once */
	assert_int_equal(wm_mask_count(m), 1);
	assert_int_equal(wm_mask_count(NULL), 0);
	expect_text(m, "abc abcd", "abc ***");
	expect_text(NULL, "abcd", "abcd");
	wm_mask_free(m);
	wm_mask_free(NULL);
}

static void test_text(void **state)
{
	static const char *const values[] = { "s3cret", "s3cret-longer", "tok\nen", NULL };
	struct wm_mask *m = mask_of(values);

	(void)state;
	expect_text(m, "", "");
	expect_text(m, "nothing here", "nothing here");
	expect_text(m, "s3cret", "***");
	expect_text(m, "a s3cret b s3crets3cret", "a *** b ******");
	/* The longest value at a place wins; a shorter one is not left over. */
	expect_text(m, "[s3cret-longer]", "[***]");
	expect_text(m, "[s3cret-long]", "[***-long]");
	expect_text(m, "x tok\nen y", "x *** y");
	expect_text(m, "s3cre", "s3cre");
	wm_mask_free(m);
}

/* What the writer passes on, fed in the given chunk sizes (0 ends the list). */
static char *stream(const struct wm_mask *m, const char *in, const size_t *chunks)
{
	struct sink s = { .got = WM_BUF_INIT };
	struct wm_mask_writer w;
	size_t len = strlen(in), at = 0;

	wm_mask_writer_init(&w, m, collect, &s);
	for (size_t i = 0; chunks[i] && at < len; i++) {
		size_t n = chunks[i] < len - at ? chunks[i] : len - at;

		wm_mask_writer_write(&w, in + at, n);
		at += n;
	}
	wm_mask_writer_write(&w, in + at, len - at);
	wm_mask_writer_flush(&w);
	wm_mask_writer_release(&w);
	return wm_buf_detach(&s.got, NULL);
}

static void test_split_anywhere(void **state)
{
	static const char *const values[] = { "secret123", "secret123-and-more", NULL };
	static const char *const inputs[] = {
		"before secret123 after",
		"secret123secret123",
		"secret12 not it, secret123-and-mor, secret123-and-more!",
		"sssecret123",
		NULL,
	};
	struct wm_mask *m = mask_of(values);

	(void)state;
	for (size_t k = 0; inputs[k]; k++) {
		char *whole = wm_mask_text(m, inputs[k]);
		size_t len = strlen(inputs[k]);

		/* Two chunks, split at every place; and three. */
		for (size_t a = 0; a <= len; a++) {
			for (size_t b = 1; b <= len - a + 1; b += 3) {
				size_t chunks[] = { a, b, 0 };
				char *got = stream(m, inputs[k], a ? chunks : chunks + 1);

				assert_string_equal(got, whole);
				free(got);
			}
		}
		/* One byte at a time. */
		{
			size_t ones[64];
			char *got;

			for (size_t i = 0; i < 63; i++)
				ones[i] = 1;
			ones[63] = 0;
			got = stream(m, inputs[k], ones);
			assert_string_equal(got, whole);
			free(got);
		}
		free(whole);
	}
	wm_mask_free(m);
}

/* Bytes that cannot begin a value go out at once; only a possible start of
 * one (at most its length - 1 bytes) waits for the next chunk. */
static void test_holds_only_a_possible_start(void **state)
{
	static const char *const values[] = { "secret123", NULL };
	struct wm_mask *m = mask_of(values);
	struct sink s = { .got = WM_BUF_INIT };
	struct wm_mask_writer w;

	(void)state;
	wm_mask_writer_init(&w, m, collect, &s);
	wm_mask_writer_write(&w, "line one\n", 9);
	assert_string_equal(s.got.data, "line one\n");
	wm_mask_writer_write(&w, "go: sec", 7);
	assert_string_equal(s.got.data, "line one\ngo: ");
	assert_int_equal(w.held.len, 3);
	wm_mask_writer_write(&w, "ret12", 5);
	assert_string_equal(s.got.data, "line one\ngo: ");
	assert_int_equal(w.held.len, 8);
	wm_mask_writer_write(&w, "3 done\n", 7);
	assert_string_equal(s.got.data, "line one\ngo: *** done\n");
	assert_int_equal(w.held.len, 0);
	/* Not the value after all: the held bytes go out as they were. */
	wm_mask_writer_write(&w, "secre", 5);
	wm_mask_writer_write(&w, "t!", 2);
	assert_string_equal(s.got.data, "line one\ngo: *** done\nsecret!");
	/* The stream ends on a possible start: flush lets it out. */
	wm_mask_writer_write(&w, " secret12", 9);
	assert_string_equal(s.got.data, "line one\ngo: *** done\nsecret! ");
	wm_mask_writer_flush(&w);
	assert_string_equal(s.got.data, "line one\ngo: *** done\nsecret! secret12");
	wm_mask_writer_release(&w);
	wm_buf_release(&s.got);
	wm_mask_free(m);
}

static void test_no_values_pass_through(void **state)
{
	struct wm_mask *m = wm_mask_new();
	struct sink s = { .got = WM_BUF_INIT };
	struct wm_mask_writer w;

	(void)state;
	wm_mask_add(m, "pin", 3); /* too short: not kept */
	wm_mask_writer_init(&w, m, collect, &s);
	wm_mask_writer_write(&w, "pin 1234", 8);
	wm_mask_writer_write(&w, "", 0);
	wm_mask_writer_flush(&w);
	assert_string_equal(s.got.data, "pin 1234");
	assert_int_equal(s.calls, 1);
	wm_mask_writer_release(&w);
	wm_mask_writer_init(&w, NULL, collect, &s);
	wm_mask_writer_write(&w, "!", 1);
	assert_string_equal(s.got.data, "pin 1234!");
	wm_mask_writer_release(&w);
	wm_buf_release(&s.got);
	wm_mask_free(m);
}

/* Random text over a small alphabet, random chunks: the stream always
 * equals the whole text masked at once. */
static void test_random_streams(void **state)
{
	static const char *const values[] = { "abab", "abba", "aabab", "bbbbbbb", NULL };
	struct wm_mask *m = mask_of(values);
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		char in[97];
		size_t len = (size_t)(rand_r(&seed) % 96), chunks[16];
		char *whole, *got;

		for (size_t i = 0; i < len; i++)
			in[i] = "ab\n"[rand_r(&seed) % (round % 3 ? 2 : 3)];
		in[len] = '\0';
		for (size_t i = 0; i < 15; i++)
			chunks[i] = 1 + (size_t)(rand_r(&seed) % 9);
		chunks[15] = 0;
		whole = wm_mask_text(m, in);
		got = stream(m, in, chunks);
		assert_string_equal(got, whole);
		/* No value is left whole in the output. */
		for (size_t v = 0; values[v]; v++)
			assert_null(strstr(got, values[v]));
		free(whole);
		free(got);
	}
	wm_mask_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_values_are_not_kept),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_split_anywhere),
		cmocka_unit_test(test_holds_only_a_possible_start),
		cmocka_unit_test(test_no_values_pass_through),
		cmocka_unit_test(test_random_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
