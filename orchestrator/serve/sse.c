/*
 * sse.c - Server-Sent Events: every run's audit records as they are
 * written, and a task's log as it grows.
 *
 * inotify follows $STATE/runs (runs made and removed) and each run
 * directory (audit.jsonl appended); nothing polls. Each audit line is one
 * event, "id: RUN/SEQ" and "data: LINE": the id is the record's own, so it
 * is the same for every client and every server. A client that comes back
 * with Last-Event-ID RUN/SEQ gets, on /runs/{id}/events, exactly the
 * records after SEQ (read again from the file); on /events, every event
 * the server sent after that one (a ring of the last RING_MAX events),
 * or, when the server no longer has it (restarted), every record of each
 * run written at or after that record's time.
 *
 * A stream's bytes wait in its own buffer, bounded by
 * conf.client_buf_max: a client that does not read is dropped (it comes
 * back with Last-Event-ID), and a replay that does not fit ends the
 * stream after what fit, for the client to continue. The number of
 * streams is bounded by conf.max_clients (503 beyond). A stream with
 * nothing to send suspends its connection (MHD_suspend_connection) and
 * is resumed when data comes; once a second the sockets of suspended
 * streams are looked at (poll, POLLRDHUP) to drop the clients that went
 * away, and heartbeats (": ping") go out every conf.heartbeat_s.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"
#include "state/audit.h"
#include "state/rundir.h"

#define RING_MAX 4096
#define CHUNK 65536
#define RUN_MASK (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define RUNS_MASK (IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)

struct stream {
	struct stream *next, *prev;
	struct serve *s;
	struct MHD_Connection *conn;
	char run[WM_RUN_ID_LEN + 1]; /* "" for every run */
	int log_fd;		     /* a followed log, else -1 */
	int log_wd;
	struct wm_buf out;
	size_t off; /* bytes of out already sent */
	bool suspended, dead, ended;
};

struct watched {
	char id[WM_RUN_ID_LEN + 1];
	int wd;
	off_t off;	   /* audit.jsonl read up to here (whole lines) */
	uint64_t last_seq; /* last record handed out */
};

struct ring_ev {
	char run[WM_RUN_ID_LEN + 1];
	uint64_t seq;
	char *frame;
};

struct sse_state {
	int ifd, runs_wd;
	struct watched *w;
	size_t n_w, alloc_w;
	struct stream *head;
	size_t n_streams;
	unsigned ticks;
	struct ring_ev ring[RING_MAX];
	size_t ring_start, ring_n;
};

/* ---- streams ---- */

static void wake(struct stream *st)
{
	if (st->suspended) {
		st->suspended = false;
		MHD_resume_connection(st->conn);
	}
}

/* Queues bytes; false (and the stream is dropped) when they do not fit. */
static bool push(struct stream *st, const char *data, size_t len)
{
	if (st->dead || st->ended)
		return false;
	if (st->out.len - st->off + len > st->s->conf.client_buf_max) {
		st->dead = true;
		wake(st);
		return false;
	}
	wm_buf_add(&st->out, data, len);
	wake(st);
	return true;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	size_t avail = st->out.len - st->off, n;

	(void)pos;
	if (st->dead)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (!avail) {
		if (st->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		st->suspended = true;
		MHD_suspend_connection(st->conn);
		return 0;
	}
	n = avail < max ? avail : max;
	memcpy(buf, st->out.data + st->off, n);
	st->off += n;
	if (st->off == st->out.len) {
		wm_buf_setlen(&st->out, 0);
		st->off = 0;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;
	struct sse_state *x = st->s->sse;
	bool wd_shared = false;

	if (st->prev)
		st->prev->next = st->next;
	else
		x->head = st->next;
	if (st->next)
		st->next->prev = st->prev;
	x->n_streams--;
	for (struct stream *o = x->head; o; o = o->next)
		wd_shared |= st->log_wd >= 0 && o->log_wd == st->log_wd;
	if (st->log_wd >= 0 && !wd_shared)
		inotify_rm_watch(x->ifd, st->log_wd);
	if (st->log_fd >= 0)
		close(st->log_fd);
	wm_buf_release(&st->out);
	free(st);
}

static struct stream *stream_new(struct serve_call *c, const char *run)
{
	struct sse_state *x = c->s->sse;
	struct stream *st = wm_xcalloc(1, sizeof(*st));

	st->s = c->s;
	st->conn = c->conn;
	st->log_fd = st->log_wd = -1;
	snprintf(st->run, sizeof(st->run), "%s", run ? run : "");
	wm_buf_init(&st->out);
	st->next = x->head;
	if (x->head)
		x->head->prev = st;
	x->head = st;
	x->n_streams++;
	return st;
}

/* Sends the stream's response; on failure the stream is gone. */
static int stream_reply(struct serve_call *c, struct stream *st, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, st, stream_free);

	if (!r) {
		stream_free(st);
		return serve_reply_error(c, 500, NULL, "cannot make a stream");
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return serve_reply(c, 200, r);
}

/* ---- reading audit logs ---- */

typedef void (*line_fn)(void *ctx, const char *line, size_t len);

/* Hands every whole line of fd in [from, to) to fn; returns the offset
 * after the last whole line. A line longer than WM_AUDIT_LINE_MAX is
 * skipped. */
static off_t scan_lines(int fd, off_t from, off_t to, line_fn fn, void *ctx)
{
	struct wm_buf b = WM_BUF_INIT;
	off_t pos = from, done = from;
	char *chunk = wm_xmalloc(CHUNK);

	while (pos < to) {
		size_t want = (size_t)(to - pos) < CHUNK ? (size_t)(to - pos) : CHUNK, start = 0;
		ssize_t n = pread(fd, chunk, want, pos);
		char *nl;

		if (n <= 0)
			break;
		pos += n;
		wm_buf_add(&b, chunk, (size_t)n);
		while ((nl = memchr(b.data + start, '\n', b.len - start))) {
			fn(ctx, b.data + start, (size_t)(nl - (b.data + start)));
			start = (size_t)(nl - b.data) + 1;
		}
		done += (off_t)start;
		memmove(b.data, b.data + start, b.len - start);
		wm_buf_setlen(&b, b.len - start);
		if (b.len > WM_AUDIT_LINE_MAX) {
			done += (off_t)b.len;
			wm_buf_setlen(&b, 0);
		}
	}
	free(chunk);
	wm_buf_release(&b);
	return done;
}

static int open_audit(const struct serve *s, const char *id)
{
	wm_autofree char *dir = wm_rundir_path(s->conf.state_dir, id);
	wm_autofree char *path = wm_rundir_file(dir, WM_RUN_AUDIT);

	return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

/* seq and ts of an audit line; false when it is not one. */
static bool line_meta(const char *line, size_t len, uint64_t *seq, char ts[32])
{
	json_t *o = json_loadb(line, len, 0, NULL); /* new ref */
	json_t *jseq = json_object_get(o, "seq");
	const char *t = json_string_value(json_object_get(o, "ts"));
	bool ok = json_is_integer(jseq) && json_integer_value(jseq) > 0;

	if (ok) {
		*seq = (uint64_t)json_integer_value(jseq);
		snprintf(ts, 32, "%s", t ? t : "");
	}
	json_decref(o);
	return ok;
}

static char *frame(const char *run, uint64_t seq, const char *line, size_t len, size_t *flen)
{
	char *f = wm_xasprintf("id: %s/%llu\ndata: %.*s\n\n", run, (unsigned long long)seq,
			       (int)len, line);

	*flen = strlen(f);
	return f;
}

/* ---- live records ---- */

static void ring_add(struct sse_state *x, const char *run, uint64_t seq, char *f)
{
	struct ring_ev *e;

	if (x->ring_n == RING_MAX) {
		free(x->ring[x->ring_start].frame);
		x->ring_start = (x->ring_start + 1) % RING_MAX;
		x->ring_n--;
	}
	e = &x->ring[(x->ring_start + x->ring_n++) % RING_MAX];
	snprintf(e->run, sizeof(e->run), "%s", run);
	e->seq = seq;
	e->frame = f;
}

struct live_ctx {
	struct serve *s;
	struct watched *w;
};

static void live_line(void *ctx, const char *line, size_t len)
{
	struct live_ctx *lc = ctx;
	struct sse_state *x = lc->s->sse;
	uint64_t seq;
	size_t flen;
	char ts[32];
	char *f;

	if (!line_meta(line, len, &seq, ts) || seq <= lc->w->last_seq)
		return;
	lc->w->last_seq = seq;
	f = frame(lc->w->id, seq, line, len, &flen);
	for (struct stream *st = x->head; st; st = st->next)
		if (st->log_fd < 0 && (!st->run[0] || strcmp(st->run, lc->w->id) == 0))
			push(st, f, flen);
	ring_add(x, lc->w->id, seq, f);
}

static void read_new(struct serve *s, struct watched *w)
{
	struct live_ctx lc = { s, w };
	wm_autoclose int fd = open_audit(s, w->id);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (st.st_size < w->off)
		w->off = 0; /* replaced: records already sent are skipped by seq */
	w->off = scan_lines(fd, w->off, st.st_size, live_line, &lc);
}

static struct watched *find_watched(struct sse_state *x, const char *id, int wd)
{
	for (size_t i = 0; i < x->n_w; i++)
		if ((id && strcmp(x->w[i].id, id) == 0) || (!id && x->w[i].wd == wd))
			return &x->w[i];
	return NULL;
}

static void skip_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
}

/* Starts following run id: from its log's current end (a run that was
 * there before the server), or from its start (a run just made, which may
 * have written before the watch began). */
static struct watched *watch_run(struct serve *s, const char *id, bool from_end)
{
	struct sse_state *x = s->sse;
	wm_autofree char *dir = wm_rundir_path(s->conf.state_dir, id);
	struct watched *w = find_watched(x, id, -1);
	wm_autoclose int fd = -1;
	struct stat st;
	int wd;

	if (w)
		return w;
	if ((wd = inotify_add_watch(x->ifd, dir, RUN_MASK)) < 0)
		return NULL;
	WM_GROW(x->w, x->alloc_w, x->n_w + 1);
	w = &x->w[x->n_w++];
	memset(w, 0, sizeof(*w));
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->wd = wd;
	fd = from_end ? open_audit(s, id) : -1;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		w->off = scan_lines(fd, 0, st.st_size, skip_line, NULL); /* its last whole line */
	return w;
}

static void unwatch(struct sse_state *x, struct watched *w)
{
	inotify_rm_watch(x->ifd, w->wd);
	*w = x->w[--x->n_w];
}

static void log_grew(struct serve *s, int wd)
{
	char buf[CHUNK];

	for (struct stream *st = s->sse->head; st; st = st->next) {
		ssize_t n;

		if (st->log_wd != wd || st->dead)
			continue;
		while ((n = read(st->log_fd, buf, sizeof(buf))) > 0)
			if (!push(st, buf, (size_t)n))
				break;
	}
}

/* inotify's queue overflowed: events were lost. Every run is read to its
 * end and runs made meanwhile are followed from their start. */
static void catch_up(struct serve *s)
{
	wm_autostrv char **ids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->sse->n_w; i++)
		read_new(s, &s->sse->w[i]);
	if (wm_rundir_list(s->conf.state_dir, &ids, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct watched *w = find_watched(s->sse, ids[i], -1);

		if (!w && (w = watch_run(s, ids[i], false)))
			read_new(s, w);
	}
}

static void on_event(struct serve *s, const struct inotify_event *ev)
{
	struct sse_state *x = s->sse;
	struct watched *w;

	if (ev->mask & IN_Q_OVERFLOW) {
		catch_up(s);
		return;
	}
	if (ev->wd == x->runs_wd) {
		if (!ev->len || !wm_run_id_valid(ev->name))
			return;
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			if ((w = watch_run(s, ev->name, false)))
				read_new(s, w);
		} else if ((w = find_watched(x, ev->name, -1)))
			unwatch(x, w);
		return;
	}
	if ((w = find_watched(x, NULL, ev->wd))) {
		if (ev->mask & IN_IGNORED)
			*w = x->w[--x->n_w]; /* the directory is gone */
		else if (ev->len && strcmp(ev->name, WM_RUN_AUDIT) == 0)
			read_new(s, w);
		return;
	}
	log_grew(s, ev->wd);
}

void serve_sse_dispatch(struct serve *s)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(s->sse->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			on_event(s, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

int serve_sse_open(struct serve *s, struct wm_error **err)
{
	struct sse_state *x = wm_xcalloc(1, sizeof(*x));
	wm_autofree char *runs = wm_rundir_runs_dir(s->conf.state_dir);
	wm_autostrv char **ids = NULL;
	size_t n = 0;

	s->sse = x;
	x->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (x->ifd < 0)
		return wm_error_set(err, errno, "inotify");
	if (mkdir(runs, 0700) < 0 && errno != EEXIST)
		return wm_error_set(err, errno, "mkdir %s", runs);
	if ((x->runs_wd = inotify_add_watch(x->ifd, runs, RUNS_MASK)) < 0)
		return wm_error_set(err, errno, "watch %s", runs);
	if (wm_rundir_list(s->conf.state_dir, &ids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!watch_run(s, ids[i], true) && errno == ENOSPC)
			return wm_error_set(err, errno,
					    "cannot follow %zu runs (fs.inotify.max_user_watches)",
					    n);
	return 0;
}

void serve_sse_resume_all(struct serve *s)
{
	for (struct stream *st = s->sse ? s->sse->head : NULL; st; st = st->next) {
		st->dead = true;
		wake(st);
	}
}

void serve_sse_close(struct serve *s)
{
	struct sse_state *x = s->sse;

	if (!x)
		return;
	for (size_t i = 0; i < x->ring_n; i++)
		free(x->ring[(x->ring_start + i) % RING_MAX].frame);
	if (x->ifd >= 0)
		close(x->ifd);
	free(x->w);
	free(x);
	s->sse = NULL;
}

int serve_sse_fd(const struct serve *s)
{
	return s->sse->ifd;
}

size_t serve_sse_clients(const struct serve *s)
{
	return s->sse ? s->sse->n_streams : 0;
}

/* Has the client of a suspended stream gone? libmicrohttpd does not watch
 * a suspended connection, so the tick looks at its socket. */
static bool client_gone(struct stream *st)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd p = { .fd = ci ? ci->connect_fd : -1, .events = POLLRDHUP };

	return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void serve_sse_tick(struct serve *s)
{
	struct sse_state *x = s->sse;

	for (struct stream *st = x->head; st; st = st->next) {
		if (st->suspended && client_gone(st)) {
			st->dead = true;
			wake(st);
		}
	}
	if (++x->ticks < s->conf.heartbeat_s)
		return;
	x->ticks = 0;
	for (struct stream *st = x->head; st; st = st->next)
		if (st->log_fd < 0)
			push(st, ": ping\n\n", 8);
}

/* ---- replays ---- */

struct replay_ctx {
	struct stream *st;
	const char *run;
	uint64_t after;	    /* records with a greater seq */
	const char *ts_min; /* or, when set, written at or after this time */
	uint64_t find_seq;  /* find mode: the ts of this seq goes to found_ts */
	char found_ts[32];
};

static void replay_line(void *ctx, const char *line, size_t len)
{
	struct replay_ctx *rc = ctx;
	uint64_t seq;
	size_t flen;
	char ts[32];
	wm_autofree char *f = NULL;

	if (!line_meta(line, len, &seq, ts))
		return;
	if (rc->find_seq) {
		if (seq == rc->find_seq)
			snprintf(rc->found_ts, sizeof(rc->found_ts), "%s", ts);
		return;
	}
	if (seq <= rc->after || (rc->ts_min && strcmp(ts, rc->ts_min) < 0))
		return;
	if (rc->st->ended)
		return;
	f = frame(rc->run, seq, line, len, &flen);
	if (rc->st->out.len + flen > rc->st->s->conf.client_buf_max)
		rc->st->ended = true; /* what fit goes; the client continues from it */
	else
		wm_buf_add(&rc->st->out, f, flen);
}

static void replay_run(struct serve *s, struct replay_ctx *rc, const struct watched *w)
{
	wm_autoclose int fd = open_audit(s, w->id);

	rc->run = w->id;
	if (fd >= 0)
		scan_lines(fd, 0, w->off, replay_line, rc);
}

/* "RUN/SEQ" into its parts; false when it is not that. */
static bool parse_event_id(const char *s, char run[WM_RUN_ID_LEN + 1], uint64_t *seq)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;

	if (!slash || slash - s != WM_RUN_ID_LEN)
		return false;
	memcpy(run, s, WM_RUN_ID_LEN);
	run[WM_RUN_ID_LEN] = '\0';
	errno = 0;
	*seq = strtoull(slash + 1, &end, 10);
	return wm_run_id_valid(run) && !*end && !errno && slash[1] != '\0';
}

static void replay_all(struct serve *s, struct stream *st, const char *run, uint64_t seq)
{
	struct sse_state *x = s->sse;
	struct replay_ctx rc = { .st = st };
	struct watched *w = find_watched(x, run, -1);

	for (size_t i = 0; i < x->ring_n; i++) {
		struct ring_ev *e = &x->ring[(x->ring_start + i) % RING_MAX];

		if (e->seq != seq || strcmp(e->run, run) != 0)
			continue;
		for (size_t k = i + 1; k < x->ring_n && !st->ended; k++) {
			const char *f = x->ring[(x->ring_start + k) % RING_MAX].frame;

			if (st->out.len + strlen(f) > s->conf.client_buf_max)
				st->ended = true;
			else
				wm_buf_addstr(&st->out, f);
		}
		return;
	}
	if (!w)
		return;
	rc.find_seq = seq;
	replay_run(s, &rc, w);
	rc.find_seq = 0;
	if (!rc.found_ts[0])
		return;
	for (size_t i = 0; i < x->n_w && !st->ended; i++) {
		rc.after = strcmp(x->w[i].id, run) == 0 ? seq : 0;
		rc.ts_min = rc.found_ts;
		replay_run(s, &rc, &x->w[i]);
	}
}

int serve_get_events(struct serve_call *c)
{
	struct serve *s = c->s;
	const char *run = NULL, *last;
	char lrun[WM_RUN_ID_LEN + 1];
	struct stream *st;
	uint64_t lseq = 0;
	bool has_last;

	if (c->route->id == R_RUN_EVENTS && !(run = serve_run_id(c)))
		return 0;
	if (s->sse->n_streams >= s->conf.max_clients)
		return serve_reply_error(c, 503, NULL, "too many event streams (at most %zu)",
					 s->conf.max_clients);
	last = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Last-Event-ID");
	if (!last)
		last = wm_serve_param(&c->req->t, "last_event_id");
	has_last = last && *last;
	if (has_last && !parse_event_id(last, lrun, &lseq))
		return serve_reply_error(c, 400, "Last-Event-ID", "not an event id (RUN/SEQ)");
	serve_sse_dispatch(s); /* every watched log read to its end: no gap, no repeat */
	st = stream_new(c, run);
	wm_buf_addstr(&st->out, "retry: 2000\n\n");
	if (run) {
		struct watched *w = watch_run(s, run, true);
		struct replay_ctx rc = { .st = st,
					 .after = has_last && !strcmp(lrun, run) ? lseq : 0 };

		if (w)
			replay_run(s, &rc, w);
	} else if (has_last) {
		replay_all(s, st, lrun, lseq);
	}
	return stream_reply(c, st, "text/event-stream");
}

int serve_sse_follow_log(struct serve_call *c, const char *id, const char *task, int fd)
{
	struct serve *s = c->s;
	wm_autofree char *dir = wm_rundir_path(s->conf.state_dir, id);
	wm_autofree char *path = wm_xasprintf("%s/" WM_RUN_LOGS "/%s.log", dir, task);
	struct stream *st;
	int wd;

	if (s->sse->n_streams >= s->conf.max_clients) {
		close(fd);
		return serve_reply_error(c, 503, NULL, "too many streams (at most %zu)",
					 s->conf.max_clients);
	}
	wd = inotify_add_watch(s->sse->ifd, path, IN_MODIFY | IN_DONT_FOLLOW);
	if (wd < 0) {
		close(fd);
		return serve_reply_error(c, 500, NULL, "follow the log: %s", strerror(errno));
	}
	st = stream_new(c, id);
	st->log_fd = fd;
	st->log_wd = wd;
	log_grew(s, wd);
	return stream_reply(c, st, "text/plain; charset=utf-8");
}
