/*
 * sched_clock.c - the scheduler's real clock: CLOCK_MONOTONIC for timers,
 * CLOCK_REALTIME for the record, poll(2) for waiting, getrandom(2) for the
 * backoff's jitter.
 */
#include "orchestrator/sched_clock.h"

#include <errno.h>
#include <poll.h>
#include <sys/random.h>

#include "common/clock.h"

static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	return wm_mono_ms();
}

static uint64_t wall_ms(void *ctx)
{
	(void)ctx;
	return (uint64_t)wm_wall_ms();
}

/* poll(2) until `until`: its timeout rounds up, so a timer is never served
 * early (which would cost a spin). */
static int wait_real(void *ctx, struct pollfd *pfd, size_t n, uint64_t until)
{
	int timeout = -1;
	int rc;

	(void)ctx;
	if (until) {
		uint64_t now = wm_mono_ms();

		timeout = until <= now ? 0 : until - now > 60000 ? 60000 : (int)(until - now);
	}
	rc = poll(pfd, n, timeout);
	if (rc < 0 && errno == EINTR)
		return 0;
	return rc < 0 ? -1 : 0;
}

static double draw(void *ctx)
{
	uint32_t r = 0;

	(void)ctx;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)wm_mono_ms() * 2654435761u;
	return (double)r / 4294967296.0;
}

const struct wm_sched_clock wm_sched_real_clock = {
	.mono_ms = mono_ms,
	.wall_ms = wall_ms,
	.wait = wait_real,
	.draw = draw,
	.ctx = NULL,
};
