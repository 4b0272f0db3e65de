/*
 * send.h - wm-notify's two ways of sending a notification.
 *
 * A webhook is POSTed as JSON (Content-Type: application/json) with the
 * headers X-Wm-Event (the event's name), X-Wm-Delivery (run id and
 * notification id: the same on every retry, so receivers can drop
 * duplicates) and, when secret_env names a variable set in wm's
 * environment, X-Wm-Signature-256: sha256=HEX, the HMAC-SHA-256 of the
 * exact body under that value. Success is a 2xx answer; a 5xx, a 429 or
 * a transport failure is tried again, up to `retries` more times, after
 * 1s, 2s, 4s ... (at most 30s); redirects are not followed; http and
 * https only.
 *
 * A command runs as `wm sandbox --policy P -- CMD...` (the run's own
 * policy file, if it had one, searched too; a fresh empty workspace;
 * 60s at most), the body on its stdin; success is exit status 0.
 */
#ifndef WM_ORCHESTRATOR_NOTIFY_SEND_H
#define WM_ORCHESTRATOR_NOTIFY_SEND_H

#include <stdint.h>

struct wm_send {
	const char *event, *delivery, *body;
	/* webhook */
	const char *url, *secret_env;
	long timeout_ms;
	unsigned retries;
	/* command */
	char *const *command;
	const char *policy;
	const char *wm, *state_dir, *run_dir;
};

struct wm_send_result {
	unsigned attempts;
	char *detail; /* "HTTP 200", "exit 0", or what failed; caller frees */
};

/* 0 when delivered, -1 when not (r says why). */
int wm_send_webhook(const struct wm_send *s, struct wm_send_result *r);
int wm_send_command(const struct wm_send *s, struct wm_send_result *r);

#endif
