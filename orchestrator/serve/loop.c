/*
 * loop.c - the one event loop of wm-serve (server.h): libmicrohttpd in
 * external-epoll mode, inotify, a 1 s timer, signals, and the pipes of the
 * wm commands it waits for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "orchestrator/libexec.h"
#include "orchestrator/serve/server.h"
#include "state/safeio.h"

int serve_run(struct serve *s, struct wm_error **err);

struct loop {
	struct serve_src mhd, inotify, timer, sig;
	int timer_fd, sig_fd;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("wm serve: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static int sockaddr_of(const struct serve_conf *c, struct sockaddr_storage *ss)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, c->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)c->port);
		return AF_INET;
	}
	inet_pton(AF_INET6, c->host, &v6->sin6_addr);
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons((uint16_t)c->port);
	return AF_INET6;
}

static int start_daemon(struct serve *s, struct wm_error **err)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	if (sockaddr_of(&s->conf, &ss) == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(
		flags, (uint16_t)s->conf.port, NULL, NULL, serve_access, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, serve_uri_log, s,
		MHD_OPTION_NOTIFY_COMPLETED, serve_completed, s, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(s->conf.max_clients + 192), MHD_OPTION_CONNECTION_TIMEOUT, 60U,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 << 10), MHD_OPTION_END);
	if (!s->d)
		return wm_error_setx(err, WM_EXIT_CANNOT, "cannot listen on %s port %u (in use?)",
				     s->conf.host, s->conf.port);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info)
		s->conf.port = info->port;
	return 0;
}

static int add_fd(struct serve *s, int fd, struct serve_src *src, struct wm_error **err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return wm_error_set(err, errno, "epoll_ctl");
	return 0;
}

static int setup_loop(struct serve *s, struct loop *l, struct wm_error **err)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t set;

	l->mhd.kind = SERVE_SRC_MHD;
	l->inotify.kind = SERVE_SRC_INOTIFY;
	l->timer.kind = SERVE_SRC_TIMER;
	l->sig.kind = SERVE_SRC_SIGNAL;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP); /* reload --workflows DIR */
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->epfd < 0 || l->timer_fd < 0 || l->sig_fd < 0 || !info)
		return wm_error_set(err, errno, "set up the event loop");
	if (timerfd_settime(l->timer_fd, 0, &its, NULL) < 0)
		return wm_error_set(err, errno, "timerfd");
	if (add_fd(s, info->epoll_fd, &l->mhd, err) < 0 ||
	    add_fd(s, serve_sse_fd(s), &l->inotify, err) < 0 ||
	    add_fd(s, l->timer_fd, &l->timer, err) < 0 || add_fd(s, l->sig_fd, &l->sig, err) < 0)
		return -1;
	if (serve_sched_fd(s) >= 0 &&
	    add_fd(s, serve_sched_fd(s), (struct serve_src *)(void *)s->sched, err) < 0)
		return -1;
	return 0;
}

/* SIGHUP reloads the scheduled workflows; SIGINT, SIGTERM stop: true. */
static bool on_signal(struct serve *s, struct loop *l)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(l->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && s->sched)
			serve_sched_reload(s);
		else if (si.ssi_signo != SIGHUP)
			stop = true;
	}
	return stop;
}

static void tick(struct serve *s, struct loop *l)
{
	uint64_t n;
	struct wm_error *e = NULL;

	if (read(l->timer_fd, &n, sizeof(n)) < 0)
		return;
	serve_sse_tick(s);
	serve_sched_tick(s);
	if (wm_serve_keys_flush(s->keys, &e) < 0) {
		fprintf(stderr, "wm serve: warning: cannot record API key use: %s\n", e->msg);
		wm_error_free(e);
	}
}

/* Runs until SIGINT or SIGTERM. */
static void run_loop(struct serve *s, struct loop *l)
{
	struct epoll_event evs[32];
	bool stop = false;

	while (!stop) {
		MHD_UNSIGNED_LONG_LONG to = 0;
		int timeout =
			MHD_get_timeout(s->d, &to) == MHD_YES ? (to > 1000 ? 1000 : (int)to) : 1000;
		int n = epoll_wait(s->epfd, evs, 32, timeout);

		for (int i = 0; i < n; i++) {
			struct serve_src *src = evs[i].data.ptr;

			if (src->kind == SERVE_SRC_INOTIFY)
				serve_sse_dispatch(s);
			else if (src->kind == SERVE_SRC_TIMER)
				tick(s, l);
			else if (src->kind == SERVE_SRC_SIGNAL)
				stop = on_signal(s, l) || stop;
			else if (src->kind == SERVE_SRC_SCHED)
				serve_sched_inotify(s);
			else if (src->kind == SERVE_SRC_SPAWN)
				serve_spawn_readable(s, (struct serve_spawn *)(void *)src);
		}
		MHD_run(s->d);
	}
}

static int open_workflows(struct serve *s, struct wm_error **err)
{
	char *abs;

	if (!s->conf.workflows)
		return 0;
	/* Absolute: the wm commands started with its files run elsewhere. */
	if (!(abs = realpath(s->conf.workflows, NULL)))
		return wm_error_make(err, WM_EXIT_USAGE, errno, "--workflows `%s`",
				     s->conf.workflows);
	s->workflows_abs = abs;
	s->conf.workflows = abs;
	s->workflows_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->workflows_fd < 0)
		return wm_error_make(err, WM_EXIT_USAGE, errno, "--workflows `%s`", abs);
	return 0;
}

static int find_wm(struct serve *s, struct wm_error **err)
{
	if (!s->wm_path)
		s->wm_path = wm_libexec_find("wm", err);
	return s->wm_path ? 0 : -1;
}

int serve_run(struct serve *s, struct wm_error **err)
{
	struct loop l = { .timer_fd = -1, .sig_fd = -1 };
	int rc = -1;

	s->buckets = serve_buckets_new();
	s->runs = serve_runcache_new();
	if (open_workflows(s, err) < 0 || find_wm(s, err) < 0 ||
	    !(s->keys = wm_serve_keys_open(s->conf.state_dir, err)) || serve_sse_open(s, err) < 0 ||
	    serve_sched_open(s, err) < 0 || start_daemon(s, err) < 0 || setup_loop(s, &l, err) < 0)
		goto out;
	printf("wm serve: listening on http://%s%s%s:%u/ (state %s, %zu API key%s%s)\n",
	       strchr(s->conf.host, ':') ? "[" : "", s->conf.host,
	       strchr(s->conf.host, ':') ? "]" : "", s->conf.port, s->conf.state_dir,
	       wm_serve_keys_count(s->keys), wm_serve_keys_count(s->keys) == 1 ? "" : "s",
	       s->conf.no_auth_read ? ", reads without a key" : "");
	fflush(stdout);
	run_loop(s, &l);
	printf("wm serve: stopping after %lu requests (%lu answered with an error)\n", s->requests,
	       s->errors);
	rc = 0;
out:
	if (s->d) {
		serve_sse_resume_all(s);
		serve_spawn_stop_all(s);
		MHD_run(s->d);
		MHD_stop_daemon(s->d);
	}
	if (s->keys)
		wm_serve_keys_flush(s->keys, NULL);
	serve_sse_close(s);
	serve_sched_close(s);
	wm_serve_keys_free(s->keys);
	serve_buckets_free(s->buckets);
	serve_runcache_free(s->runs);
	if (s->workflows_fd >= 0)
		close(s->workflows_fd);
	free(s->workflows_abs);
	if (l.timer_fd >= 0)
		close(l.timer_fd);
	if (l.sig_fd >= 0)
		close(l.sig_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	return rc;
}
