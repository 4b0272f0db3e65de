/*
 * sockets.c - finding the host's Unix sockets a task could connect to.
 *
 * A network namespace does not isolate Unix sockets bound to a path: a task
 * that can see /run/docker.sock through a read-only view of the host can
 * connect to it (connecting needs no write access to the filesystem, and
 * Landlock up to ABI 7 cannot restrict it). Without the host's network the
 * sandbox hides /run and masks every socket found here with /dev/null.
 *
 * The search is bounded: SCAN_DEPTH levels and SCAN_BUDGET entries below
 * each root, and each root is searched once per process (the first
 * sandbox pays, later ones reuse the list). Links are never followed.
 * What it cannot promise (a socket made after the search, or beyond its
 * bounds) is in the README's threat model.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

#define SCAN_DEPTH 6
#define SCAN_BUDGET 50000

struct scan {
	char **found;
	size_t n;
	size_t budget;
};

static void scan_dir(int dfd, const char *path, int depth, struct scan *sc)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while (sc->budget > 0 && (e = readdir(d))) {
		struct stat st;
		wm_autofree char *child = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		sc->budget--;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		child = wm_xasprintf("%s/%s", strcmp(path, "/") == 0 ? "" : path, e->d_name);
		if (S_ISSOCK(st.st_mode)) {
			wm_strv_push(&sc->found, &sc->n, child);
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				scan_dir(sub, child, depth - 1, sc);
		}
	}
	closedir(d);
}

char *const *sb_host_sockets(const char *root)
{
	static struct {
		char *root;
		char **found;
	} done[16];
	static size_t n_done;
	struct scan sc = { .budget = SCAN_BUDGET };
	int fd;

	for (size_t i = 0; i < n_done; i++)
		if (strcmp(done[i].root, root) == 0)
			return done[i].found;
	sc.found = wm_xcalloc(1, sizeof(char *));
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		scan_dir(fd, root, SCAN_DEPTH, &sc);
	if (n_done == sizeof(done) / sizeof(done[0])) {
		/* Not kept: only many workspaces in one process get here. */
		static char **last;

		wm_strv_free(last);
		last = sc.found;
		return last;
	}
	done[n_done].root = wm_xstrdup(root);
	done[n_done].found = sc.found;
	return done[n_done++].found;
}
