/*
 * schedule.c - the scheduler of `wm serve --workflows DIR`: every workflow
 * of DIR with a `schedule:` runs at its fire times, each run an ordinary
 * `wm run FILE` (its own id, state, audit log) started detached.
 *
 * Loading: each *.md of DIR is parsed and planned whole; one that does
 * not plan (or whose zone is unknown, or whose name another file took) is
 * reported on stderr and in its schedule record, and is not scheduled:
 * never half-loaded. DIR is read again on SIGHUP and, debounced to the
 * next tick, when inotify sees a file of it change.
 *
 * Firing (once a second, on the loop's timer): a fire time that came is
 * run when it is at most LATE_MS old; an older one (the server was down
 * or stopped) follows `catchup:`. While the workflow's previous run still
 * goes, `concurrency:` decides: skip (the fire is dropped), queue (it runs
 * when the previous one ends; one waits at most), replace (the previous
 * run gets SIGTERM, is interrupted and stays resumable, then it runs).
 * The fire time is recorded (schedstate.h) before its run starts, so a
 * restart never fires it twice. So are a queued fire and the run going on
 * (its pid, start time and boot): a restarted server takes that run back
 * while it lives (it is not our child: it is polled, not waited for), so
 * `concurrency:` holds across a restart and the queued fire still runs
 * once it ends. `wm schedule pause NAME` drops fires until `resume`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/runner.h"
#include "orchestrator/schedstate.h"
#include "orchestrator/serve/server.h"
#include "orchestrator/wallclock.h"
#include "state/cache.h"
#include "state/lock.h"
#include "state/safeio.h"
#include "workflow/workflow.h"

/* A fire time at most this old is on time (the loop ticks each second). */
#define LATE_MS 30000
/* Quiet needed after a change matching trigger.paths before its run. */
#define DEBOUNCE_MS 2000

struct entry {
	char *name, *file, *expr, *tz;
	struct wm_schedule when;
	uint64_t jitter_ms;
	enum wm_catchup catchup;
	enum wm_concurrency concurrency;
	long long last_fire, next_fire, last_started, queued;
	int last_exit;
	unsigned long skipped;
	pid_t pid;	      /* its run going on, 0: none */
	uint64_t run_start;   /* that process's start time (wm_proc_start_time) */
	bool adopted;	      /* started before a restart: not our child */
	bool seen;	      /* found by the last reload */
	char **paths;	      /* trigger.paths, or NULL */
	long long changed_at; /* a matching file changed then (debounced); 0: none */
};

struct serve_sched {
	struct serve_src src; /* SERVE_SRC_SCHED: ifd */
	int ifd;
	struct entry *v;
	size_t n;
	struct serve_hook *hooks; /* `trigger: {webhook: ...}` of DIR's workflows */
	size_t n_hooks;
	bool dirty;    /* DIR changed: read it again at the next tick */
	char *boot_id; /* this boot's: a recorded run of another boot is gone */
};

static void entry_release(struct entry *e)
{
	wm_strv_free(e->paths);
	free(e->name);
	free(e->file);
	free(e->expr);
	free(e->tz);
}

static void save(struct serve *s, const struct entry *e, const char *error)
{
	struct wm_error *err = NULL;
	json_t *run = e->pid && s->sched->boot_id
			      ? json_pack("{s:i, s:I, s:s}", "pid", (int)e->pid, "start_time",
					  (json_int_t)e->run_start, "boot_id", s->sched->boot_id)
			      : json_null();
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:i, s:I, s:s?, s:I, s:o}",
				"name", e->name, "file", e->file, "schedule", e->expr, "timezone",
				e->tz, "last_fire", (json_int_t)e->last_fire, "next_fire",
				(json_int_t)(error ? 0 : e->next_fire), "last_started",
				(json_int_t)e->last_started, "last_exit", e->last_exit, "skipped",
				(json_int_t)e->skipped, "error", error, "queued",
				(json_int_t)e->queued, "run", run);

	if (wm_schedstate_save(s->conf.state_dir, e->name, rec, &err) < 0) {
		fprintf(stderr, "wm serve: schedule %s: cannot record its state: %s\n", e->name,
			err->msg);
		wm_error_free(err);
	}
	json_decref(rec);
}

/* Is the schedule's recorded run still that process, and going? */
static bool run_lives(const struct entry *e)
{
	return wm_proc_is_running(e->pid, e->run_start);
}

/* SIGTERM to the schedule's run. A run taken back is not our child: its
 * pid could name another process by now, so the signal goes through a
 * pidfd, sent only once that pidfd is known to be the recorded process. */
static void stop_run(const struct entry *e)
{
	int pidfd;

	if (!e->adopted) {
		kill(e->pid, SIGTERM);
		return;
	}
	pidfd = (int)syscall(SYS_pidfd_open, e->pid, 0);
	if (pidfd < 0)
		return; /* gone: reap() finds it so */
	if (run_lives(e))
		syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
	close(pidfd);
}

/* The run a server that stopped had going, when it still goes (same
 * boot, same process): taken back. */
static void adopt(struct serve *s, struct entry *e, const json_t *run)
{
	const char *boot = json_string_value(json_object_get(run, "boot_id"));

	e->pid = (pid_t)json_integer_value(json_object_get(run, "pid"));
	e->run_start = (uint64_t)json_integer_value(json_object_get(run, "start_time"));
	e->adopted = e->pid > 0 && boot && s->sched->boot_id &&
		     strcmp(boot, s->sched->boot_id) == 0 && run_lives(e);
	if (!e->adopted)
		e->pid = 0;
}

/* What the state directory remembers of a schedule: its last fire, a
 * fire queued, the run going on. */
static void remember(struct serve *s, struct entry *e)
{
	json_t *rec = wm_schedstate_load(s->conf.state_dir, e->name, NULL);

	e->last_fire = (long long)json_integer_value(json_object_get(rec, "last_fire"));
	e->last_started = (long long)json_integer_value(json_object_get(rec, "last_started"));
	e->skipped = (unsigned long)json_integer_value(json_object_get(rec, "skipped"));
	e->last_exit = rec ? (int)json_integer_value(json_object_get(rec, "last_exit")) : -1;
	e->queued = (long long)json_integer_value(json_object_get(rec, "queued"));
	adopt(s, e, json_object_get(rec, "run"));
	json_decref(rec);
}

static struct entry *find(struct serve_sched *sc, const char *name)
{
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->v[i].name, name) == 0)
			return &sc->v[i];
	return NULL;
}

/* A file that is not scheduled now: said, and kept in its record. */
static void refuse(struct serve *s, const char *name, const char *file, const char *why)
{
	struct entry e = { .name = (char *)name, .file = (char *)file, .expr = (char *)"-" };

	fprintf(stderr, "wm serve: %s: not scheduled: %s\n", file, why);
	if (!wm_schedstate_name_ok(name))
		return;
	remember(s, &e);
	save(s, &e, why);
}

/* Takes the schedule of a workflow that planned. */
static void take(struct serve *s, const struct wm_workflow *wf, const char *file)
{
	struct serve_sched *sc = s->sched;
	struct entry *e = find(sc, wf->name);
	const struct wm_sched_spec *sp = &wf->sched;

	if (e && e->seen) {
		refuse(s, wf->name, file, "another file of DIR has this workflow name");
		return;
	}
	if (!e) {
		sc->v = wm_xrealloc(sc->v, (sc->n + 1) * sizeof(*sc->v));
		e = &sc->v[sc->n++];
		*e = (struct entry){ .name = wm_xstrdup(wf->name), .file = wm_xstrdup(file) };
		remember(s, e);
	}
	if (strcmp(e->expr ? e->expr : "", sp->expr ? sp->expr : "") != 0 ||
	    strcmp(e->tz ? e->tz : "", sp->timezone ? sp->timezone : "") != 0)
		e->next_fire = 0; /* computed again at the next tick */
	free(e->expr);
	free(e->tz);
	free(e->file);
	wm_strv_free(e->paths);
	e->paths = wm_strv_dup(wf->trigger.paths);
	e->file = wm_xstrdup(file);
	e->expr = sp->expr ? wm_xstrdup(sp->expr) : NULL;
	e->tz = sp->timezone ? wm_xstrdup(sp->timezone) : NULL;
	e->when = sp->when;
	e->jitter_ms = sp->jitter_ms;
	e->catchup = sp->catchup;
	e->concurrency = sp->concurrency;
	e->seen = true;
	save(s, e, NULL);
}

static void hooks_release(struct serve_sched *sc)
{
	for (size_t i = 0; i < sc->n_hooks; i++) {
		free(sc->hooks[i].name);
		free(sc->hooks[i].file);
		free(sc->hooks[i].secret_env);
		wm_strv_free(sc->hooks[i].params);
	}
	free(sc->hooks);
	sc->hooks = NULL;
	sc->n_hooks = 0;
}

/* A workflow's webhook trigger; a name another file took is refused. */
static void take_hook(struct serve *s, const struct wm_workflow *wf, const char *file)
{
	struct serve_sched *sc = s->sched;
	const struct wm_trigger *t = &wf->trigger;
	struct serve_hook *h;

	if (serve_sched_hook(s, t->webhook)) {
		fprintf(stderr,
			"wm serve: %s: webhook `%s` not taken: another file of DIR has it\n", file,
			t->webhook);
		return;
	}
	sc->hooks = wm_xrealloc(sc->hooks, (sc->n_hooks + 1) * sizeof(*sc->hooks));
	h = &sc->hooks[sc->n_hooks++];
	h->name = wm_xstrdup(t->webhook);
	h->file = wm_xstrdup(file);
	h->secret_env = wm_xstrdup(t->secret_env);
	h->params = wm_strv_dup(t->params);
}

const struct serve_hook *serve_sched_hook(const struct serve *s, const char *name)
{
	for (size_t i = 0; s->sched && i < s->sched->n_hooks; i++)
		if (strcmp(s->sched->hooks[i].name, name) == 0)
			return &s->sched->hooks[i];
	return NULL;
}

/* One file of DIR: scheduled, refused, or not scheduled at all. */
static void load_one(struct serve *s, const char *base)
{
	wm_autofree char *file = wm_xasprintf("%s/%s", s->workflows_abs, base);
	wm_autofree char *name = wm_xstrndup(base, strlen(base) - 3);
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_error *err = NULL;
	int rc = wm_workflow_load(file, &wf, &d, &err);

	if (rc == 0)
		rc = wm_check_zone(wf, &d);
	if (rc < 0) {
		wm_autofree char *why = err ? wm_error_text(err)
					    : wm_xasprintf("%zu error%s (wm plan %s)", d.n_errors,
							   d.n_errors == 1 ? "" : "s", file);
		wm_diags_print(&d, stderr);
		refuse(s, wf ? wf->name : name, file, why);
	} else if ((wf->sched.expr || wf->trigger.paths) && !wm_schedstate_name_ok(wf->name)) {
		refuse(s, name, file, "its name cannot name a schedule (letters, digits, . _ -)");
	} else if (wf->sched.expr || wf->trigger.paths) {
		take(s, wf, file);
	}
	if (rc == 0 && wf->trigger.webhook)
		take_hook(s, wf, file);
	wm_error_free(err);
	wm_workflow_free(wf);
	wm_diags_release(&d);
}

void serve_sched_reload(struct serve *s)
{
	struct serve_sched *sc = s->sched;
	int fd = dup(s->workflows_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t kept = 0;

	if (!dir) {
		fprintf(stderr, "wm serve: cannot read --workflows %s: %s\n", s->workflows_abs,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	for (size_t i = 0; i < sc->n; i++)
		sc->v[i].seen = false;
	hooks_release(sc);
	rewinddir(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && wm_str_has_suffix(de->d_name, ".md") &&
		    (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
			load_one(s, de->d_name);
	closedir(dir);
	for (size_t i = 0; i < sc->n; i++) {
		if (sc->v[i].seen) {
			sc->v[kept++] = sc->v[i];
			continue;
		}
		/* Gone, or no longer plans: no more fires (a run going on goes on). */
		entry_release(&sc->v[i]);
	}
	sc->n = kept;
	if (serve_sched_wants_tree(s))
		serve_watch_tree(s, sc->ifd);
	fprintf(stderr, "wm serve: %zu scheduled workflow%s and %zu webhook%s in %s\n", sc->n,
		sc->n == 1 ? "" : "s", sc->n_hooks, sc->n_hooks == 1 ? "" : "s", s->workflows_abs);
}

/* `wm --state-dir S run FILE`, in its own session, output appended to
 * $STATE/schedule/NAME.log. */
static pid_t spawn_run(struct serve *s, const struct entry *e)
{
	wm_autofree char *log =
		wm_xasprintf("%s/%s/%s.log", s->conf.state_dir, WM_SCHED_DIR, e->name);
	wm_autofree char *actor = wm_xasprintf("schedule:%s", e->name);
	pid_t pid = fork();
	sigset_t none;
	int fd, null;

	if (pid != 0)
		return pid;
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || null < 0)
		_exit(127);
	dup2(null, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	closefrom(3);
	setenv("WM_ACTOR", actor, 1);
	execl(s->wm_path, "wm", "--state-dir", s->conf.state_dir, "run", e->file, (char *)NULL);
	_exit(127);
}

static void start(struct serve *s, struct entry *e, long long fire)
{
	e->last_fire = fire;
	if (e->pid) {
		if (e->concurrency == WM_CONCURRENCY_SKIP) {
			e->skipped++;
			fprintf(stderr, "wm serve: %s: fire skipped, its previous run goes on\n",
				e->name);
		} else {
			e->queued = fire;
			if (e->concurrency == WM_CONCURRENCY_REPLACE)
				stop_run(e);
		}
		save(s, e, NULL);
		return;
	}
	e->last_started = wm_wallclock_now();
	e->last_exit = -1;
	save(s, e, NULL); /* durable before the run: a restart never fires it again */
	e->pid = spawn_run(s, e);
	e->adopted = false;
	if (e->pid < 0) {
		fprintf(stderr, "wm serve: %s: cannot start its run: %s\n", e->name,
			strerror(errno));
		e->pid = 0;
		return;
	}
	/* Our child stays in /proc until we wait for it: its start time is
	 * there to read, recorded with its pid for a restarted server (0, never
	 * a process's, when it cannot be read: nothing is taken back then). */
	if (wm_proc_start_time(e->pid, &e->run_start, NULL) < 0)
		e->run_start = 0;
	save(s, e, NULL);
}

/* Due fires of one schedule, at `now`. */
static void consider(struct serve *s, struct entry *e, long long now)
{
	struct wm_error *err = NULL;
	struct wm_fire f;
	long long fire;

	if (!e->next_fire || now - e->next_fire > LATE_MS) {
		if (wm_schedule_step(&e->when, e->last_fire, now, 0, WM_CATCHUP_LATEST, e->tz, &f,
				     &err) < 0) {
			fprintf(stderr, "wm serve: %s: %s\n", e->name, err->msg);
			wm_error_free(err);
			return;
		}
		/* Without catch-up only a fire that is just due still runs. */
		if (f.due && e->catchup == WM_CATCHUP_NONE && now - f.due > LATE_MS) {
			f.due = 0;
			f.missed++;
		}
		e->skipped += f.missed;
		e->next_fire = f.next;
		if (f.due)
			start(s, e, f.due);
		else if (f.missed)
			save(s, e, NULL);
		return;
	}
	if (now <
	    e->next_fire + (long long)wm_wallclock_jitter(e->name, e->next_fire, e->jitter_ms))
		return;
	fire = e->next_fire;
	e->next_fire = wm_schedule_next(&e->when, fire, 0, e->tz, NULL);
	start(s, e, fire);
}

/* Runs that ended: their status kept (unknown for a run taken back after
 * a restart, whose parent we are not); a queued fire starts. */
static void reap(struct serve *s, struct entry *e)
{
	int status;

	if (e->pid) {
		if (e->adopted ? run_lives(e) : waitpid(e->pid, &status, WNOHANG) != e->pid)
			return;
		e->last_exit = e->adopted	   ? -1
			       : WIFEXITED(status) ? WEXITSTATUS(status)
						   : 128 + WTERMSIG(status);
		e->pid = 0;
		e->adopted = false;
		save(s, e, NULL);
	}
	if (e->queued) {
		long long fire = e->queued;

		e->queued = 0;
		start(s, e, fire);
	}
}

void serve_sched_tick(struct serve *s)
{
	struct serve_sched *sc = s->sched;
	long long now;

	if (!sc)
		return;
	if (sc->dirty) {
		sc->dirty = false;
		serve_sched_reload(s);
	}
	now = wm_wallclock_now();
	for (size_t i = 0; i < sc->n; i++) {
		struct entry *e = &sc->v[i];

		reap(s, e);
		if (e->changed_at && now - e->changed_at >= DEBOUNCE_MS) {
			e->changed_at = 0;
			if (!wm_schedstate_paused(s->conf.state_dir, e->name))
				start(s, e, now);
		}
		if (!e->expr)
			continue;
		if (!wm_schedstate_paused(s->conf.state_dir, e->name)) {
			consider(s, e, now);
		} else if (e->next_fire && now >= e->next_fire) {
			e->next_fire = 0; /* dropped while paused */
			e->last_fire = now;
			save(s, e, NULL);
		}
	}
}

/* A file of the workspace changed: the workflows whose trigger.paths match
 * it start after DEBOUNCE_MS of quiet; a change made while a workflow's
 * own run goes does not trigger it again (its run may write there). */
void serve_sched_changed(struct serve *s, const char *rel)
{
	struct serve_sched *sc = s->sched;
	long long now = wm_wallclock_now();

	for (size_t i = 0; i < sc->n; i++) {
		struct entry *e = &sc->v[i];

		for (size_t k = 0; e->paths && !e->pid && e->paths[k]; k++) {
			if (wm_cache_glob_match(e->paths[k], rel)) {
				e->changed_at = now;
				break;
			}
		}
	}
}

bool serve_sched_wants_tree(const struct serve *s)
{
	for (size_t i = 0; s->sched && i < s->sched->n; i++)
		if (s->sched->v[i].paths)
			return true;
	return false;
}

void serve_sched_mark_dirty(struct serve *s)
{
	s->sched->dirty = true;
}

int serve_sched_open(struct serve *s, struct wm_error **err)
{
	struct serve_sched *sc;

	if (s->workflows_fd < 0)
		return 0;
	if (wm_wallclock_init(err) < 0)
		return -1;
	sc = wm_xcalloc(1, sizeof(*sc));
	sc->src.kind = SERVE_SRC_SCHED;
	s->sched = sc;
	/* Without it no run is recorded, so none is taken back. */
	sc->boot_id = wm_boot_id(NULL);
	sc->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sc->ifd < 0 || serve_watch_dir(s, sc->ifd, "") < 0)
		return wm_error_set(err, errno, "watch --workflows %s", s->workflows_abs);
	serve_sched_reload(s);
	return 0;
}

int serve_sched_fd(const struct serve *s)
{
	return s->sched ? s->sched->ifd : -1;
}

void serve_sched_close(struct serve *s)
{
	struct serve_sched *sc = s->sched;

	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++)
		entry_release(&sc->v[i]);
	free(sc->v);
	hooks_release(sc);
	serve_watch_release(s);
	if (sc->ifd >= 0)
		close(sc->ifd);
	free(sc->boot_id);
	free(sc);
	s->sched = NULL;
}
