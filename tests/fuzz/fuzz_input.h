/*
 * fuzz_input.h - shared by the libFuzzer harnesses: the input as a
 * NUL-terminated heap copy, or as a file (a memfd reached through
 * /proc/self/fd/N) for parsers that only take a path.
 *
 * fuzz_text() returns a buffer the caller frees. fuzz_file() returns an fd
 * whose path fuzz_file_path() writes into `path`; close it when done.
 */
#ifndef WM_TESTS_FUZZ_INPUT_H
#define WM_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
	}
	return text;
}

static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t path_len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		abort(); /* the harness cannot work at all: say so loudly */
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, path_len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
