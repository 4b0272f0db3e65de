/*
 * send.c - how wm-notify sends one notification: a webhook POST (libcurl,
 * HMAC-SHA-256 signature from libsodium, timeout, retries with
 * exponential backoff) or a command run by `wm sandbox` under its policy
 * with the event JSON on stdin.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/notify/send.h"
#include "state/rundir.h"
#include "state/safeio.h"

/* Delays between webhook attempts: 1s, 2s, 4s ... at most this. */
#define MAX_BACKOFF_S 30
/* A notification command's time limit (wm sandbox --timeout). */
#define COMMAND_TIMEOUT "60s"

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* X-Wm-Signature-256: sha256=<hex HMAC of the body under the key>. */
static char *signature_header(const char *key, const char *body, size_t len)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	return wm_xasprintf("X-Wm-Signature-256: sha256=%s", hex);
}

/* One POST; the HTTP status, or 0 with *why after a transport failure. */
static long post_once(const struct wm_send *s, struct curl_slist *headers, long timeout_ms,
		      char **why)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!c) {
		*why = wm_xstrdup("cannot start libcurl");
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wm-notify/" WM_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	else
		*why = wm_xstrdup(*errbuf ? errbuf : curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	return code;
}

static struct curl_slist *headers_for(const struct wm_send *s, const char *key)
{
	struct curl_slist *h = NULL;
	wm_autofree char *ev = wm_xasprintf("X-Wm-Event: %s", s->event);
	wm_autofree char *id = wm_xasprintf("X-Wm-Delivery: %s", s->delivery);

	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, ev);
	h = curl_slist_append(h, id);
	h = curl_slist_append(h, "Expect:");
	if (key) {
		wm_autofree char *sig = signature_header(key, s->body, strlen(s->body));
		h = curl_slist_append(h, sig);
	}
	return h;
}

/* 2xx: delivered; 5xx, 429 and transport failures: worth another try. */
static bool retryable(long code)
{
	return code == 0 || code == 429 || code >= 500;
}

/* Seconds to wait after attempt n (from 1): 1, 2, 4 ... MAX_BACKOFF_S. */
static unsigned backoff_s(unsigned n)
{
	unsigned d = 1u << (n - 1 < 5 ? n - 1 : 5);

	return d > MAX_BACKOFF_S ? MAX_BACKOFF_S : d;
}

int wm_send_webhook(const struct wm_send *s, struct wm_send_result *r)
{
	const char *key = s->secret_env ? getenv(s->secret_env) : NULL;
	struct curl_slist *headers;
	long code = 0;

	if (s->secret_env && (!key || !*key)) {
		r->detail = wm_xasprintf("secret_env %s is not set in wm's environment: not sent",
					 s->secret_env);
		return -1;
	}
	headers = headers_for(s, key);
	for (r->attempts = 1;; r->attempts++) {
		wm_autofree char *why = NULL;

		code = post_once(s, headers, s->timeout_ms, &why);
		free(r->detail);
		r->detail = code ? wm_xasprintf("HTTP %ld", code) : wm_steal(&why);
		if ((code >= 200 && code < 300) || !retryable(code) || r->attempts > s->retries)
			break;
		sleep(backoff_s(r->attempts));
	}
	curl_slist_free_all(headers);
	return code >= 200 && code < 300 ? 0 : -1;
}

/* argv of `wm --state-dir S sandbox --policy P [--policies F] --timeout T
 * --workspace W -- CMD...`. */
static char **sandbox_argv(const struct wm_send *s, const char *ws)
{
	wm_autofree char *pol = wm_rundir_file(s->run_dir, WM_RUN_POLICIES);
	char **v = NULL;
	size_t n = 0;

	wm_strv_push(&v, &n, s->wm);
	wm_strv_push(&v, &n, "--state-dir");
	wm_strv_push(&v, &n, s->state_dir);
	wm_strv_push(&v, &n, "sandbox");
	wm_strv_push(&v, &n, "--policy");
	wm_strv_push(&v, &n, s->policy);
	if (access(pol, F_OK) == 0) {
		wm_strv_push(&v, &n, "--policies");
		wm_strv_push(&v, &n, pol);
	}
	wm_strv_push(&v, &n, "--timeout");
	wm_strv_push(&v, &n, COMMAND_TIMEOUT);
	wm_strv_push(&v, &n, "--workspace");
	wm_strv_push(&v, &n, ws);
	wm_strv_push(&v, &n, "--");
	for (size_t i = 0; s->command[i]; i++)
		wm_strv_push(&v, &n, s->command[i]);
	return v;
}

static int run_child(char **argv, const char *body, int *status)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return close(p[0]), close(p[1]), -1;
	if (pid == 0) {
		dup2(p[0], STDIN_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	if (wm_write_all(p[1], body, strlen(body)) < 0) {
		/* The command did not read it all: its status says the rest. */
	}
	close(p[1]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int wm_send_command(const struct wm_send *s, struct wm_send_result *r)
{
	char ws[] = "/tmp/wm-notify.XXXXXX";
	wm_autoclose int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	wm_autostrv char **argv = NULL;
	int status = 0;

	r->attempts = 1;
	if (!mkdtemp(ws)) {
		r->detail = wm_xasprintf("cannot make a workspace: %s", strerror(errno));
		return -1;
	}
	argv = sandbox_argv(s, ws);
	if (run_child(argv, s->body, &status) < 0) {
		r->detail = wm_xasprintf("cannot run wm sandbox: %s", strerror(errno));
		wm_safe_remove_tree(tmp, ws, ws + 5, NULL);
		return -1;
	}
	/* What the command left in its workspace goes with it. */
	wm_safe_remove_tree(tmp, ws, ws + 5, NULL);
	if (WIFEXITED(status))
		r->detail = wm_xasprintf("exit %d", WEXITSTATUS(status));
	else
		r->detail = wm_xasprintf("killed by signal %d", WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
