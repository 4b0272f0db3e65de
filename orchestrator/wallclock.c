/*
 * wallclock.c - the scheduling code's wall clock and its WM_TEST_NOW hook
 * (wallclock.h).
 */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/when.h"
#include "orchestrator/wallclock.h"

/* Never longer in one wait: a clock set meanwhile is seen within this. */
#define MAX_WAIT_MS 60000

static struct {
	bool fake;
	long long base;	   /* WM_TEST_NOW */
	uint64_t mono0;	   /* wm_mono_ms() when it was read */
	long long skipped; /* waits jumped over */
} fc;

int wm_wallclock_init(struct wm_error **err)
{
	const char *s = getenv("WM_TEST_NOW");

	if (!s || !*s)
		return 0;
	if (wm_parse_utc_time(s, &fc.base, err) < 0)
		return wm_error_wrap(err, "WM_TEST_NOW");
	fc.mono0 = wm_mono_ms();
	fc.skipped = 0;
	fc.fake = true;
	return 0;
}

long long wm_wallclock_now(void)
{
	if (fc.fake)
		return fc.base + (long long)(wm_mono_ms() - fc.mono0) + fc.skipped;
	return wm_wall_ms();
}

int wm_wallclock_sleep_until(long long t, const sigset_t *stop)
{
	for (;;) {
		long long now = wm_wallclock_now(), wait = t - now;
		struct timespec ts;
		int sig;

		if (fc.fake && wait > 0) {
			fc.skipped += wait;
			wait = 0;
		}
		if (wait > MAX_WAIT_MS)
			wait = MAX_WAIT_MS;
		ts.tv_sec = wait > 0 ? wait / 1000 : 0;
		ts.tv_nsec = wait > 0 ? (wait % 1000) * 1000000L : 0;
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig > 0)
			return sig;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return 0; /* cannot wait: go on rather than spin */
		if (wm_wallclock_now() >= t)
			return 0;
	}
}

uint64_t wm_wallclock_jitter(const char *name, long long fire, uint64_t jitter_ms)
{
	unsigned char h[8];
	crypto_generichash_state st;
	uint64_t v = 0;

	if (!jitter_ms)
		return 0;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
	crypto_generichash_update(&st, (const unsigned char *)&fire, sizeof(fire));
	crypto_generichash_final(&st, h, sizeof(h));
	for (size_t i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return v % jitter_ms;
}
