#include "orchestrator/decide.h"

#include <stdio.h>
#include <string.h>

uint64_t wm_backoff_delay(uint64_t first_ms, unsigned attempt, double jitter)
{
	uint64_t d = first_ms;
	double spread;

	for (unsigned i = 1; i < attempt && d < WM_BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > WM_BACKOFF_CAP_MS)
		d = WM_BACKOFF_CAP_MS;
	/* +-20%: retries of tasks that failed together do not stampede together. */
	if (jitter < 0)
		jitter = 0;
	if (jitter >= 1)
		jitter = 0.999999;
	spread = 0.8 + 0.4 * jitter;
	d = (uint64_t)((double)d * spread);
	return d > WM_BACKOFF_CAP_MS ? WM_BACKOFF_CAP_MS : d;
}

static void verdict(struct wm_action *d, enum wm_verdict v)
{
	static const char *const names[] = { "succeed", "retry", "fail", "cancel" };

	d->verdict = v;
	d->what = names[v];
}

/* Why the attempt failed, in words; returns whether retrying may help. */
static bool describe(const struct wm_outcome *o, char *buf, size_t len)
{
	if (o->setup_error) {
		snprintf(buf, len, "the task could not start: %s", o->setup_error);
		return false;
	}
	if (o->denied) {
		snprintf(buf, len, "seccomp denied %s; the same call would be denied again",
			 o->denied);
		return false;
	}
	switch (o->limit) {
	case WM_LIMIT_MEMORY:
		snprintf(buf, len, "killed by the memory limit; rerunning cannot fit it");
		return false;
	case WM_LIMIT_PIDS:
		snprintf(buf, len, "hit the pids limit; rerunning cannot fit it");
		return false;
	case WM_LIMIT_OUT:
		snprintf(buf, len,
			 "$WM_OUT is full (the policy's limits.out); rerunning cannot fit it");
		return false;
	case WM_LIMIT_TIMEOUT:
		snprintf(buf, len, "timed out");
		return true;
	case WM_LIMIT_NONE:
		break;
	}
	if (o->ended_by) {
		snprintf(buf, len, "%s", o->ended_by);
		return false;
	}
	if (o->out_error) {
		snprintf(buf, len, "its outputs could not be kept: %s", o->out_error);
		return false;
	}
	if (o->missing_output) {
		snprintf(buf, len, "exited 0 but declared output '%s' is missing",
			 o->missing_output);
		return true;
	}
	if (o->signal)
		snprintf(buf, len, "killed by signal %d (%s)", o->signal, strsignal(o->signal));
	else
		snprintf(buf, len, "exited with status %d", o->exit_code);
	if (o->note) { /* what the executor saw that explains it */
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, " (%s)", o->note);
	}
	return true;
}

void wm_decide(const struct wm_outcome *o, struct wm_action *d)
{
	char cause[224];
	unsigned counted = o->attempt > o->lost_before ? o->attempt - o->lost_before : 1;

	memset(d, 0, sizeof(*d));
	if (o->cancelled) {
		verdict(d, WM_VERDICT_CANCEL);
		snprintf(d->why, sizeof(d->why), "cancelled by the user");
		return;
	}
	/* A denial the task survived (it probed a call and fell back) is in
	 * the audit log; only a failed attempt is judged by it. */
	if (!o->setup_error && o->limit == WM_LIMIT_NONE && !o->signal && o->exit_code == 0 &&
	    !o->missing_output && !o->out_error) {
		verdict(d, WM_VERDICT_SUCCEED);
		snprintf(d->why, sizeof(d->why), "exited 0 on attempt %u", o->base + o->attempt);
		return;
	}
	if (o->lost && o->lost_before < WM_LOST_RETRY_CAP) {
		verdict(d, WM_VERDICT_RETRY);
		d->lost = true;
		d->delay_ms = wm_backoff_delay(o->backoff_ms ? o->backoff_ms : 1000,
					       o->lost_before + 1, o->jitter);
		snprintf(d->why, sizeof(d->why),
			 "%s; retried after %llums, not counted against retries (%u of %u)",
			 o->lost, (unsigned long long)d->delay_ms, o->lost_before + 1,
			 WM_LOST_RETRY_CAP);
		return;
	}
	if (o->lost) {
		snprintf(cause, sizeof(cause), "%s, %u times", o->lost, o->lost_before + 1);
	} else if (!describe(o, cause, sizeof(cause))) {
		verdict(d, WM_VERDICT_FAIL);
		snprintf(d->why, sizeof(d->why), "%s; not retried", cause);
		return;
	}
	if (counted <= o->retries) {
		verdict(d, WM_VERDICT_RETRY);
		d->delay_ms = wm_backoff_delay(o->backoff_ms, counted, o->jitter);
		snprintf(d->why, sizeof(d->why), "%s; attempt %u follows after %llums", cause,
			 o->base + o->attempt + 1, (unsigned long long)d->delay_ms);
		return;
	}
	verdict(d, WM_VERDICT_FAIL);
	if (o->retries)
		snprintf(d->why, sizeof(d->why), "%s; all %u attempts used", cause, o->retries + 1);
	else
		snprintf(d->why, sizeof(d->why), "%s; no retries configured", cause);
}

bool wm_breaker_record(struct wm_breaker *b, bool failed)
{
	if (!failed) {
		b->consecutive = 0;
		return false;
	}
	b->consecutive++;
	if (!b->tripped && b->consecutive >= WM_BREAKER_THRESHOLD) {
		b->tripped = true;
		return true;
	}
	return false;
}
