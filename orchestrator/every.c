/*
 * every.c - `wm run --every SPEC FILE`: the foreground loop.
 *
 * Each fire time runs wm_run_file(), an ordinary run with its own id,
 * state and audit log, read from FILE afresh. The loop is one process, so
 * runs never overlap: a fire time that comes while a run still goes is
 * skipped (concurrency skip), or with front matter `catchup: latest` the
 * latest such time is run as soon as the run ends. SIGINT or SIGTERM stops
 * the loop: during a run, the run is interrupted the usual way (resumable,
 * exit 130); between runs, the wait ends.
 *
 * SPEC: a duration (`1h`, `15m`: first run at once, then every so long
 * from the start) or any `schedule:` form (`0 3 * * *`, `@daily`,
 * `every 6h`: first run at the first fire time). Time zone, jitter and
 * catch-up come from the workflow's front matter.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/runner.h"
#include "orchestrator/wallclock.h"

struct every {
	struct wm_schedule when;
	long long anchor; /* an interval's start */
	bool at_once;	  /* an interval: the first run starts at once */
	char *tz;	  /* front matter `timezone`, or NULL */
	uint64_t jitter_ms;
	enum wm_catchup catchup;
	char *name; /* the workflow's, for jitter */
};

static int parse_spec(const char *spec, struct every *ev, struct wm_error **err)
{
	struct wm_error *e = NULL;
	uint64_t ms = 0;
	size_t at = 0;

	if (wm_parse_age(spec, &ms, &e) == 0) {
		if (ms < 1000)
			return wm_error_setx(err, WM_EXIT_USAGE,
					     "--every %s: the interval must be 1s or more", spec);
		ev->when = (struct wm_schedule){ .kind = WM_SCHEDULE_EVERY, .every_ms = ms };
		ev->at_once = true;
		return 0;
	}
	wm_error_free(e);
	if (!strchr(spec, ' ') && spec[0] != '@')
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "--every wants an interval (15m, 1h, 1d) or a schedule "
				     "(\"0 3 * * *\", @daily, \"every 6h\"), not '%s'",
				     spec);
	if (wm_schedule_parse(spec, &ev->when, &at, err) < 0)
		return wm_error_wrapx(err, WM_EXIT_USAGE, "--every");
	return 0;
}

/* Time zone, jitter and catch-up from the front matter. */
static int read_settings(const char *file, const struct wm_run_options *o, struct every *ev,
			 struct wm_error **err)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	enum wm_dialect dialect =
		o->dialect ? (enum wm_dialect)wm_dialect_find(o->dialect) : WM_DIALECT_AUTO;
	int rc = wm_workflow_load_in(file, file, dialect, &wf, &d, err);

	if (rc == 0)
		rc = wm_check_zone(wf, &d);
	wm_diags_sort(&d);
	wm_diags_print(&d, stderr);
	if (rc < 0) {
		wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu error%s", file, d.n_errors,
			      d.n_errors == 1 ? "" : "s");
	} else {
		ev->tz = wf->sched.timezone ? wm_xstrdup(wf->sched.timezone) : NULL;
		ev->jitter_ms = wf->sched.jitter_ms;
		ev->catchup = wf->sched.catchup;
		ev->name = wm_xstrdup(wf->name);
	}
	wm_workflow_free(wf);
	wm_diags_release(&d);
	return rc;
}

/* The fire time to run next, after waiting for it: 0 with *fire, or the
 * signal that stopped the wait, or -1 with *err. */
static int next_fire(struct every *ev, long long last, const sigset_t *stop, long long *fire,
		     struct wm_error **err)
{
	long long now = wm_wallclock_now();
	struct wm_fire f;
	char when[64];
	int sig;

	if (ev->at_once && !last) {
		ev->anchor = *fire = now;
		return 0;
	}
	if (wm_schedule_step(&ev->when, last, now, ev->anchor, ev->catchup, ev->tz, &f, err) < 0)
		return -1;
	if (f.missed)
		fprintf(stderr,
			"wm: every: %u fire time%s passed while the previous run went on: "
			"skipped\n",
			f.missed, f.missed == 1 ? "" : "s");
	if (f.due) {
		*fire = f.due;
		return 0;
	}
	wm_schedule_format(f.next, ev->tz, when, sizeof(when));
	fprintf(stderr, "wm: every: next run at %s\n", when);
	sig = wm_wallclock_sleep_until(
		f.next + (long long)wm_wallclock_jitter(ev->name, f.next, ev->jitter_ms), stop);
	if (sig)
		return sig;
	*fire = f.next;
	return 0;
}

/* One run; its exit code (an error is printed, the loop goes on). */
static int one_run(const struct wm_cli *cli, const char *file, struct wm_run_options *o)
{
	struct wm_error *e = NULL;
	int rc;

	free(o->untrusted);
	o->untrusted = NULL;
	rc = wm_run_file(cli, file, o, &e);
	if (rc < 0) {
		wm_error_print(e, stderr);
		rc = e->exit_code;
		wm_error_free(e);
	}
	fflush(stdout);
	return rc;
}

static int loop(const struct wm_cli *cli, const char *file, struct wm_run_options *o,
		struct every *ev, const sigset_t *stop, struct wm_error **err)
{
	long long last = 0, fire = 0;
	unsigned runs = 0;
	char when[64];
	int rc = WM_EXIT_OK;

	for (;;) {
		int sig = next_fire(ev, last, stop, &fire, err);

		if (sig < 0)
			return -1;
		if (sig > 0) {
			fprintf(stderr, "wm: every: stopped by %s after %u run%s\n",
				sig == SIGINT ? "SIGINT" : "SIGTERM", runs, runs == 1 ? "" : "s");
			return WM_EXIT_INTERRUPTED;
		}
		wm_schedule_format(fire, ev->tz, when, sizeof(when));
		fprintf(stderr, "wm: every: run %u for %s\n", runs + 1, when);
		rc = one_run(cli, file, o);
		last = fire;
		runs++;
		if (rc == WM_EXIT_INTERRUPTED || (o->count && runs >= o->count))
			return rc;
	}
}

int wm_run_every(const struct wm_cli *cli, const char *file, struct wm_run_options *o,
		 struct wm_error **err)
{
	struct every ev = { 0 };
	sigset_t stop, old;
	int rc;

	if (wm_wallclock_init(err) < 0 || parse_spec(o->every, &ev, err) < 0 ||
	    read_settings(file, o, &ev, err) < 0) {
		rc = -1;
		goto out;
	}
	/* Blocked for the whole loop: a run's scheduler takes them from its
	 * signalfd, the wait between runs from sigtimedwait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	rc = loop(cli, file, o, &ev, &stop, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	free(ev.tz);
	free(ev.name);
	return rc;
}
