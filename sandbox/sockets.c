/*
 * sockets.c - finding the host's Unix sockets a task could connect to.
 *
 * A network namespace does not isolate Unix sockets bound to a path: a task
 * that can see /run/docker.sock through a read-only view of the host can
 * connect to it (connecting needs no write access to the filesystem, and
 * Landlock up to ABI 7 cannot restrict it). Without the host's network the
 * sandbox hides /run and masks every socket found here with /dev/null.
 *
 * The source is the kernel's own list of bound sockets, /proc/PID/net/unix,
 * read once for every network namespace a process in /proc is in (the
 * file's inode names the namespace, for root and users alike): every live
 * socket bound to an absolute path, at any depth, in a few milliseconds.
 * A socket bound by a relative path is listed without the directory it is
 * in; when there is one, the old search is added: the directories below
 * are walked, SCAN_DEPTH levels and SCAN_BUDGET entries deep per root,
 * links never followed. Both are done once per process (the first sandbox
 * pays, later ones reuse the list). What neither can promise is in the
 * README's threat model.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

#define SCAN_DEPTH 6
#define SCAN_BUDGET 50000
#define MAX_NETNS 1024

struct found {
	char **v;
	size_t n;
	bool relative; /* a socket bound by a relative path was listed */
};

static void add_unique(struct found *f, const char *path)
{
	if (!wm_strv_contains(f->v, path))
		wm_strv_push(&f->v, &f->n, path);
}

/* ---- the kernel's list ------------------------------------------------------- */

/* One line of /proc/net/unix: "Num RefCount Protocol Flags Type St Inode
 * Path"; the path, when there is one, is the rest of the line. Abstract
 * names start with '@' and have no file to mask. */
static void read_unix_list(FILE *f, struct found *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool header = true;

	while ((len = getline(&line, &cap, f)) > 0) {
		char *p = line;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (header) {
			header = false;
			continue;
		}
		for (int field = 0; field < 7 && *p; field++) {
			while (*p && !isspace((unsigned char)*p))
				p++;
			while (*p && isspace((unsigned char)*p))
				p++;
		}
		if (*p == '/')
			add_unique(out, p);
		else if (*p && *p != '@')
			out->relative = true;
	}
	free(line);
}

static void read_netns_list(const char *file, struct found *out)
{
	FILE *f = fopen(file, "re");

	if (!f)
		return;
	read_unix_list(f, out);
	fclose(f);
}

static bool seen_before(const ino_t *seen, size_t n, ino_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i] == ino)
			return true;
	return false;
}

/* Reads a namespace's list unless its inode is among the n seen. */
static void read_once(const char *path, ino_t *seen, size_t *n, struct found *out)
{
	struct stat st;

	if (stat(path, &st) != 0 || seen_before(seen, *n, st.st_ino))
		return;
	seen[(*n)++] = st.st_ino;
	read_netns_list(path, out);
}

/* wm's own network namespace first, then every other one some process in
 * /proc is in, each once. */
static void kernel_sockets(struct found *out)
{
	ino_t seen[MAX_NETNS];
	size_t n_seen = 0;
	DIR *d;
	struct dirent *e;

	read_once("/proc/self/net/unix", seen, &n_seen, out);
	d = opendir("/proc");
	if (!d)
		return;
	while (n_seen < MAX_NETNS && (e = readdir(d))) {
		char path[300];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/net/unix", e->d_name);
		read_once(path, seen, &n_seen, out);
	}
	closedir(d);
}

/* ---- the walk ------------------------------------------------------------ */

static void scan_dir(int dfd, const char *path, int depth, size_t *budget, struct found *out)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while (*budget > 0 && (e = readdir(d))) {
		unsigned char type = e->d_type;
		wm_autofree char *child = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(*budget)--;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			type = S_ISSOCK(st.st_mode)  ? DT_SOCK
			       : S_ISDIR(st.st_mode) ? DT_DIR
						     : DT_REG;
		}
		if (type != DT_SOCK && (type != DT_DIR || depth == 0))
			continue;
		child = wm_xasprintf("%s/%s", strcmp(path, "/") == 0 ? "" : path, e->d_name);
		if (type == DT_SOCK) {
			add_unique(out, child);
		} else {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				scan_dir(sub, child, depth - 1, budget, out);
		}
	}
	closedir(d);
}

static void walk_sockets(const char *root, struct found *out)
{
	size_t budget = SCAN_BUDGET;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		scan_dir(fd, root, SCAN_DEPTH, &budget, out);
}

/* ---- the list kept for the process ------------------------------------------- */

static const char *const walk_roots[] = { "/var", "/srv",   "/opt", "/home", "/root",
					  "/mnt", "/media", "/etc", "/tmp",  NULL };

char *const *sb_host_sockets(const char *workspace)
{
	static struct found kernel;
	static bool kernel_read;
	static struct {
		char *workspace;
		char **all;
	} done[16];
	static size_t n_done;
	struct found all = { 0 };

	if (!kernel_read) {
		kernel.v = wm_xcalloc(1, sizeof(char *));
		kernel_sockets(&kernel);
		if (kernel.relative)
			for (size_t i = 0; walk_roots[i]; i++)
				walk_sockets(walk_roots[i], &kernel);
		kernel_read = true;
	}
	if (!workspace || !kernel.relative)
		return kernel.v;
	for (size_t i = 0; i < n_done; i++)
		if (strcmp(done[i].workspace, workspace) == 0)
			return done[i].all;
	all.v = wm_strv_dup(kernel.v);
	all.n = kernel.n;
	walk_sockets(workspace, &all);
	if (n_done == sizeof(done) / sizeof(done[0])) {
		/* Not kept: only many workspaces in one process get here. */
		static char **last;

		wm_strv_free(last);
		last = all.v;
		return last;
	}
	done[n_done].workspace = wm_xstrdup(workspace);
	done[n_done].all = all.v;
	return done[n_done++].all;
}
