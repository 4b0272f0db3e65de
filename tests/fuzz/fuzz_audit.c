/*
 * fuzz_audit.c - libFuzzer harness for audit log verification: the input
 * is an audit.jsonl file, verified under a fixed key (32 bytes of 0x42),
 * once with no expectation and once with a checkpoint's claim about the
 * tail. The seeds in tests/fuzz/corpus/fuzz_audit/ are real logs signed
 * with that key, so mutations reach the MAC chain checks. The verifier
 * opens with O_NOFOLLOW, so the input goes to a real temporary file (one
 * per process, rewritten for each input) rather than a /proc/self/fd link.
 * Build and run: make fuzz.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "state/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify(const char *file, const unsigned char *key, uint64_t seq, const char *mac)
{
	struct wm_audit_result res = { 0 };
	struct wm_error *err = NULL;

	if (wm_audit_verify(file, key, seq, mac, &res, &err) == 0)
		wm_audit_result_release(&res);
	wm_error_free(err);
}

static char dir[] = "/tmp/wm-fuzz-audit-XXXXXX";
static char path[sizeof(dir) + 16];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[WM_AUDIT_KEY_LEN];
	int fd;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
		atexit(cleanup);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	memset(key, 0x42, sizeof(key));
	verify(path, key, 0, NULL);
	/* A checkpoint's claim about the tail: seq 2 with an arbitrary MAC. */
	verify(path, key, 2, "0000000000000000000000000000000000000000000000000000000000000000");
	return 0;
}
