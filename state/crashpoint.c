/* crashpoint.c - see crashpoint.h (test-only). */
#include "state/crashpoint.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool wm_crashpoint_hit(const char *kind)
{
	static unsigned long counts[4];
	static pid_t owner;
	const char *v = getenv("WM_TEST_CRASH_AT");
	size_t klen = strlen(kind);
	unsigned long *count = &counts[strcmp(kind, "journal") == 0  ? 1
				       : strcmp(kind, "cache") == 0  ? 2
				       : strcmp(kind, "notify") == 0 ? 3
								     : 0];

	/* Counts are per process: a forked child starts again from zero. */
	if (owner != getpid()) {
		owner = getpid();
		counts[0] = counts[1] = counts[2] = counts[3] = 0;
	}
	++*count;
	if (!v || strncmp(v, kind, klen) != 0 || v[klen] != ':')
		return false;
	return strtoul(v + klen + 1, NULL, 10) == *count;
}
