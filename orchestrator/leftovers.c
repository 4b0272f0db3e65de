#include "orchestrator/leftovers.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"

static int environ_has(pid_t pid, const char *needle, size_t len)
{
	wm_autofree char *path = wm_xasprintf("/proc/%d/environ", (int)pid);
	struct wm_buf b = WM_BUF_INIT;
	int found = 0;

	if (wm_buf_read_file(&b, path) == 0) {
		/* NUL-separated KEY=VALUE entries. */
		for (size_t off = 0; off < b.len; off += strlen(b.data + off) + 1) {
			if (strlen(b.data + off) == len && memcmp(b.data + off, needle, len) == 0) {
				found = 1;
				break;
			}
		}
	}
	wm_buf_release(&b);
	return found;
}

size_t wm_kill_leftovers(const char *run_id)
{
	wm_autofree char *needle = wm_xasprintf("WM_RUN_ID=%s", run_id);
	size_t len = strlen(needle), killed = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
			continue;
		if ((pid_t)pid == getpid() || !environ_has((pid_t)pid, needle, len))
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0)
			killed++;
	}
	closedir(d);
	return killed;
}
