/*
 * watch.c - inotify over `wm serve --workflows DIR` (server.h): DIR itself,
 * whose *.md changing reloads the scheduled workflows (schedule.c), and,
 * once a workflow has `trigger: {paths: [...]}`, DIR's subdirectories,
 * whose files changing may start it. Hidden directories (.git) are not
 * watched; a directory made later is watched when it appears; at most
 * WATCH_MAX directories, WATCH_DEPTH deep.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE)
#define WATCH_MAX 4096
#define WATCH_DEPTH 16

struct serve_watches {
	struct watch {
		int wd;
		char *rel; /* relative to DIR; "" for DIR */
	} * v;
	size_t n;
	bool tree; /* subdirectories watched */
	bool full; /* WATCH_MAX reached: said once */
};

static const char *rel_of(const struct serve *s, int wd)
{
	for (size_t i = 0; s->watches && i < s->watches->n; i++)
		if (s->watches->v[i].wd == wd)
			return s->watches->v[i].rel;
	return NULL;
}

int serve_watch_dir(struct serve *s, int ifd, const char *rel)
{
	wm_autofree char *path = rel[0] ? wm_xasprintf("%s/%s", s->workflows_abs, rel)
					: wm_xstrdup(s->workflows_abs);
	struct serve_watches *w;
	int wd;

	if (!s->watches)
		s->watches = wm_xcalloc(1, sizeof(*s->watches));
	w = s->watches;
	if (w->n >= WATCH_MAX) {
		if (!w->full)
			fprintf(stderr,
				"wm serve: more than %d directories under %s: the rest "
				"is not watched\n",
				WATCH_MAX, s->workflows_abs);
		w->full = true;
		return 0;
	}
	wd = inotify_add_watch(ifd, path, WATCH_MASK | IN_ONLYDIR | IN_DONT_FOLLOW);
	if (wd < 0)
		return -1;
	if (rel_of(s, wd))
		return 0; /* the same directory again */
	w->v = wm_xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n].wd = wd;
	w->v[w->n++].rel = wm_xstrdup(rel);
	return 0;
}

/* rel's subdirectories, depth levels down. */
static void watch_below(struct serve *s, int ifd, const char *rel, unsigned depth)
{
	wm_autofree char *path = rel[0] ? wm_xasprintf("%s/%s", s->workflows_abs, rel)
					: wm_xstrdup(s->workflows_abs);
	DIR *d = depth < WATCH_DEPTH ? opendir(path) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		wm_autofree char *child = NULL;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		child = rel[0] ? wm_xasprintf("%s/%s", rel, de->d_name) : wm_xstrdup(de->d_name);
		if (serve_watch_dir(s, ifd, child) == 0)
			watch_below(s, ifd, child, depth + 1);
	}
	if (d)
		closedir(d);
}

void serve_watch_tree(struct serve *s, int ifd)
{
	if (s->watches && s->watches->tree)
		return;
	watch_below(s, ifd, "", 0);
	if (s->watches)
		s->watches->tree = true;
}

void serve_watch_release(struct serve *s)
{
	if (!s->watches)
		return;
	for (size_t i = 0; i < s->watches->n; i++)
		free(s->watches->v[i].rel);
	free(s->watches->v);
	free(s->watches);
	s->watches = NULL;
}

static void on_event(struct serve *s, int ifd, const struct inotify_event *ev)
{
	const char *dir = rel_of(s, ev->wd);
	wm_autofree char *rel = NULL;

	if (ev->mask & IN_Q_OVERFLOW) {
		serve_sched_mark_dirty(s); /* events lost: read DIR again */
		return;
	}
	if (!dir || !ev->len || ev->name[0] == '.')
		return;
	rel = dir[0] ? wm_xasprintf("%s/%s", dir, ev->name) : wm_xstrdup(ev->name);
	if (!dir[0] && wm_str_has_suffix(ev->name, ".md"))
		serve_sched_mark_dirty(s);
	if (ev->mask & IN_ISDIR) {
		if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && s->watches->tree &&
		    serve_watch_dir(s, ifd, rel) == 0)
			watch_below(s, ifd, rel, 1);
		return;
	}
	if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM))
		serve_sched_changed(s, rel);
}

void serve_sched_inotify(struct serve *s)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int ifd = serve_sched_fd(s);
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			on_event(s, ifd, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}
