/*
 * tasklog.c - reading a task's log while a run shows its progress: the
 * last lines of its newest attempt (shown when it fails), and the bytes
 * added since the last look (--output stream).
 *
 * The log is <run>/logs/<task>.log, each attempt after a header line
 * "=== TASK KIND, attempt N, TIME ===" (state/rundir_task.c).
 */
#include "orchestrator/tasklog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"

/* A failed task's tail is read from at most this much of the log's end. */
#define TAIL_WINDOW (64 * 1024)
#define HEADER "=== "

static int open_log(const char *run_dir, const char *task)
{
	wm_autofree char *path = wm_xasprintf("%s/logs/%s.log", run_dir, task);

	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

/* Reads [from, to) of fd into b; returns bytes read, or -1. */
static ssize_t read_range(int fd, off_t from, off_t to, struct wm_buf *b)
{
	size_t want = (size_t)(to - from);
	ssize_t got;

	wm_buf_grow(b, want);
	got = pread(fd, b->data + b->len, want, from);
	if (got > 0) { /* wm_buf_grow left room for the bytes and a NUL */
		b->len += (size_t)got;
		b->data[b->len] = '\0';
	}
	return got;
}

const char *wm_last_lines(const char *text, size_t len, unsigned n)
{
	const char *p = text + len;
	unsigned lines = 0;

	if (p > text && p[-1] == '\n') /* a last line without '\n' counts too */
		p--;
	while (p > text && lines < n) {
		p--;
		if (*p == '\n' && ++lines == n)
			return p + 1;
	}
	return p;
}

char *wm_tasklog_tail(const char *run_dir, const char *task, unsigned n, bool *cut)
{
	wm_autoclose int fd = open_log(run_dir, task);
	struct wm_buf b = WM_BUF_INIT;
	struct stat st;
	const char *start, *p;
	off_t from;

	*cut = false;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || n == 0)
		return NULL;
	from = st.st_size > TAIL_WINDOW ? st.st_size - TAIL_WINDOW : 0;
	if (read_range(fd, from, st.st_size, &b) < 0 || b.len == 0) {
		wm_buf_release(&b);
		return NULL;
	}
	/* The newest attempt only: what follows its header line. */
	start = b.data;
	for (p = b.data; (p = strstr(p, HEADER)) != NULL; p++)
		if (p == b.data || p[-1] == '\n')
			start = strchr(p, '\n') ? strchr(p, '\n') + 1 : b.data + b.len;
	p = wm_last_lines(start, (size_t)(b.data + b.len - start), n);
	*cut = p > start;
	{
		char *out = wm_xstrndup(p, (size_t)(b.data + b.len - p));

		wm_buf_release(&b);
		return out;
	}
}

void wm_tasklog_follow_init(struct wm_tasklog_follow *f, size_t n_tasks)
{
	f->off = wm_xcalloc(n_tasks ? n_tasks : 1, sizeof(*f->off));
	f->partial = wm_xcalloc(n_tasks ? n_tasks : 1, sizeof(*f->partial));
	f->n = n_tasks;
	for (size_t i = 0; i < n_tasks; i++)
		wm_buf_init(&f->partial[i]);
}

void wm_tasklog_follow_release(struct wm_tasklog_follow *f)
{
	for (size_t i = 0; i < f->n; i++)
		wm_buf_release(&f->partial[i]);
	free(f->off);
	free(f->partial);
	memset(f, 0, sizeof(*f));
}

/* Hands each whole line of `b` to emit; keeps what follows the last one. */
static void emit_lines(struct wm_buf *b, bool all, void (*emit)(void *, const char *, size_t),
		       void *ctx)
{
	size_t start = 0;

	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n') {
			emit(ctx, b->data + start, i - start);
			start = i + 1;
		}
	if (all && start < b->len) {
		emit(ctx, b->data + start, b->len - start);
		start = b->len;
	}
	memmove(b->data, b->data + start, b->len - start);
	wm_buf_setlen(b, b->len - start);
}

void wm_tasklog_follow(struct wm_tasklog_follow *f, const char *run_dir, size_t i, const char *task,
		       bool final, void (*emit)(void *ctx, const char *line, size_t len), void *ctx)
{
	wm_autoclose int fd = open_log(run_dir, task);
	struct stat st;

	if (i >= f->n || fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (st.st_size < f->off[i]) /* not ours to shrink; start again */
		f->off[i] = 0;
	while (f->off[i] < st.st_size) {
		off_t to =
			st.st_size - f->off[i] > TAIL_WINDOW ? f->off[i] + TAIL_WINDOW : st.st_size;
		ssize_t got = read_range(fd, f->off[i], to, &f->partial[i]);

		if (got <= 0)
			break;
		f->off[i] += got;
		emit_lines(&f->partial[i], false, emit, ctx);
	}
	if (final)
		emit_lines(&f->partial[i], true, emit, ctx);
}

/* What programs print when the network is not there: resolvers, connect()
 * and the tools users call (curl, wget, pip, git, apt). */
static const char *const no_network[] = {
	"Network is unreachable",
	"Temporary failure in name resolution",
	"Could not resolve host",
	"Name or service not known",
	"No address associated with hostname",
	"Failed to establish a new connection",
	"unable to resolve host",
	"Could not resolve hostname",
	"getaddrinfo",
	"Cannot assign requested address",
};

bool wm_tasklog_says_network(const char *run_dir, const char *task)
{
	bool cut;
	wm_autofree char *tail = wm_tasklog_tail(run_dir, task, 50, &cut);

	for (size_t i = 0; tail && i < sizeof(no_network) / sizeof(no_network[0]); i++)
		if (strcasestr(tail, no_network[i]))
			return true;
	return false;
}
