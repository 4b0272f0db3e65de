#include "orchestrator/leftovers.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
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

/* The parent of pid from /proc/<pid>/stat ("pid (comm) S ppid ..."; comm
 * may hold spaces and parentheses: the last ')' ends it); 0 unknown. */
static pid_t parent_of(pid_t pid, char *comm, size_t len)
{
	wm_autofree char *path = wm_xasprintf("/proc/%d/stat", (int)pid);
	struct wm_buf b = WM_BUF_INIT;
	char *open, *close;
	long ppid = 0;

	if (wm_buf_read_file(&b, path) == 0 && (open = strchr(b.data, '(')) &&
	    (close = strrchr(b.data, ')')) && close > open) {
		snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
		/* ") S PPID ...": the state letter, then the parent. */
		const char *p = close + 1;
		char *end;

		while (*p == ' ')
			p++;
		if (*p && p[1] == ' ') {
			ppid = strtol(p + 2, &end, 10);
			if (end == p + 2)
				ppid = 0;
		}
	}
	wm_buf_release(&b);
	return (pid_t)ppid;
}

/* A process of a cluster job (slurmstepd runs it): the cluster owns its
 * life, and resume adopts the job rather than killing it. */
static bool under_cluster_job(pid_t pid)
{
	char comm[64] = "";

	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		pid = parent_of(pid, comm, sizeof(comm));
		if (strcmp(comm, "slurmstepd") == 0)
			return true;
	}
	return false;
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
		if ((pid_t)pid == getpid() || !environ_has((pid_t)pid, needle, len) ||
		    under_cluster_job((pid_t)pid))
			continue;
		if (kill((pid_t)pid, SIGKILL) == 0)
			killed++;
	}
	closedir(d);
	return killed;
}
