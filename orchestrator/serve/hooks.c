/*
 * hooks.c - POST /api/v1/hooks/{name}: a webhook (GitHub's format) starts
 * the workflow of --workflows whose front matter declares
 * `trigger: {webhook: NAME, secret_env: VAR, params: [...]}`.
 *
 * The key is the signature, not an API key: X-Hub-Signature-256 must be
 * "sha256=" and the hex HMAC-SHA-256 (libsodium) of the exact body under
 * $VAR of wm serve's environment, compared in constant time. A delivery id
 * (X-GitHub-Delivery) seen before is refused (the last MAX_DELIVERIES are
 * kept in $STATE/hooks/deliveries), so a captured request cannot be played
 * again. Only the declared params are taken from the body's top level
 * (strings, numbers, booleans), and they reach the run as environment
 * variables (`wm run -e NAME=VALUE`); everything else in it is ignored.
 * Answers: 201 with the run id, 400 (not a JSON object), 401 (signature),
 * 404 (no such hook), 409 (replay), 413 (body over --body-limit, before
 * this handler), 500 (the key's variable is not set). Every request that
 * reaches the handler is recorded in $STATE/hooks/audit.jsonl, a MAC-chained
 * audit log (state/audit.h) under the state directory's audit key.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"
#include "state/audit.h"
#include "state/safeio.h"

#define HOOKS_DIR "hooks"
#define MAX_DELIVERIES 1000
#define DELIVERY_MAX_LEN 128
#define PARAM_MAX_LEN 4096

/* The hooks directory of the state dir, made on first use. */
static int hooks_dir(const struct serve *s, struct wm_error **err)
{
	wm_autoclose int sfd = wm_safe_opendir_path(s->conf.state_dir, err);

	return sfd < 0 ? -1 : wm_safe_opendir(sfd, s->conf.state_dir, HOOKS_DIR, true, 0700, err);
}

/* One line of $STATE/hooks/audit.jsonl; a failure to record is said. */
static void audit(struct serve_call *c, const char *hook, const char *delivery, unsigned status,
		  const char *outcome)
{
	wm_autofree char *path = wm_xasprintf("%s/%s/audit.jsonl", c->s->conf.state_dir, HOOKS_DIR);
	struct wm_error *e = NULL;
	struct wm_audit_key *key = NULL;
	struct wm_audit *a = NULL;
	json_t *f = json_pack("{s:s, s:s?, s:i, s:s}", "hook", hook, "delivery", delivery, "status",
			      (int)status, "outcome", outcome);
	wm_autoclose int dfd = hooks_dir(c->s, &e);

	if (dfd >= 0 && (key = wm_audit_key_open(c->s->conf.state_dir, WM_AUDIT_KEY_CREATE, &e)))
		a = wm_audit_open(path, "hooks", wm_audit_key_bytes(key), NULL, &e);
	if (!a || wm_audit_append(a, NULL, "hook.request", f, &e) < 0 ||
	    wm_audit_flush(a, &e) < 0) {
		fprintf(stderr, "wm serve: cannot audit webhook %s: %s\n", hook, e ? e->msg : "?");
		wm_error_free(e);
	}
	wm_audit_close(a);
	wm_audit_key_free(key);
	json_decref(f);
}

static int refuse(struct serve_call *c, const char *hook, const char *delivery, unsigned status,
		  const char *why)
{
	audit(c, hook, delivery, status, why);
	return serve_reply_error(c, status, NULL, "%s", why);
}

/* The signature header against the body, in constant time. */
static bool signature_ok(struct serve_call *c, const char *key)
{
	const char *h =
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Hub-Signature-256");
	unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	size_t n = 0;

	if (!h || strncmp(h, "sha256=", 7) != 0 ||
	    sodium_hex2bin(got, sizeof(got), h + 7, strlen(h + 7), NULL, &n, NULL) != 0 ||
	    n != sizeof(got) || strlen(h + 7) != 2 * sizeof(got))
		return false;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)c->req->body.data,
				      c->req->body.len);
	crypto_auth_hmacsha256_final(&st, want);
	sodium_memzero(&st, sizeof(st));
	return sodium_memcmp(want, got, sizeof(want)) == 0;
}

/* A delivery id seen before: 1; else it is remembered (the newest
 * MAX_DELIVERIES are kept) and 0; -1 when the file cannot be used. */
static int replayed(struct serve *s, const char *hook, const char *id, struct wm_error **err)
{
	wm_autoclose int dfd = hooks_dir(s, err);
	wm_autofree char *entry = wm_xasprintf("%s %s", hook, id);
	struct wm_buf b = WM_BUF_INIT, kept = WM_BUF_INIT;
	size_t lines = 0;
	int rc = 0;

	if (dfd < 0)
		return -1;
	if (wm_safe_read(dfd, HOOKS_DIR, "deliveries", 1 << 20, "webhook deliveries", &b, err) <
	    0) {
		if (wm_err_errnum(err) != ENOENT)
			return wm_buf_release(&b), -1;
		wm_error_free(*err);
		*err = NULL;
	}
	for (const char *p = b.data, *nl; p && p < b.data + b.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
		if (!nl)
			break;
		if ((size_t)(nl - p) == strlen(entry) && memcmp(p, entry, (size_t)(nl - p)) == 0)
			rc = 1;
		lines++;
	}
	if (rc == 0) {
		/* Past the bound, the older half goes. */
		const char *from = b.data, *nl;
		for (size_t drop = lines >= MAX_DELIVERIES ? lines / 2 : 0; drop; drop--) {
			nl = memchr(from, '\n', (size_t)(b.data + b.len - from));
			from = nl ? nl + 1 : b.data + b.len;
		}
		if (b.len)
			wm_buf_add(&kept, from, (size_t)(b.data + b.len - from));
		wm_buf_addf(&kept, "%s\n", entry);
		if (wm_safe_write_atomic(dfd, HOOKS_DIR, "deliveries", kept.data, kept.len, 0600,
					 err) < 0)
			rc = -1;
	}
	wm_buf_release(&b);
	wm_buf_release(&kept);
	return rc;
}

/* `-e NAME=VALUE` for each declared param present in the body. */
static void param_args(const struct serve_hook *h, json_t *body, char ***args, size_t *n)
{
	for (size_t i = 0; h->params && h->params[i]; i++) {
		json_t *v = json_object_get(body, h->params[i]);
		wm_autofree char *text = NULL;

		if (json_is_string(v) && !memchr(json_string_value(v), '\0', json_string_length(v)))
			text = wm_xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			text = wm_xasprintf("%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			text = wm_xstrdup(json_is_true(v) ? "true" : "false");
		if (!text || strlen(text) > PARAM_MAX_LEN)
			continue;
		wm_strv_push(args, n, "-e");
		wm_strv_push_owned(args, n, wm_xasprintf("%s=%s", h->params[i], text));
	}
}

static bool delivery_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > DELIVERY_MAX_LEN)
		return false;
	for (; *id; id++)
		if (*id <= ' ' || *id > '~')
			return false;
	return true;
}

int serve_post_hook(struct serve_call *c)
{
	const char *name = c->cap[0];
	const struct serve_hook *h = serve_sched_hook(c->s, name);
	const char *delivery =
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-GitHub-Delivery");
	const char *key = h ? getenv(h->secret_env) : NULL;
	wm_autostrv char **args = NULL;
	struct wm_error *e = NULL;
	size_t n = 0;
	json_t *body;
	int seen;

	if (delivery && !delivery_ok(delivery))
		delivery = NULL;
	if (!h)
		return refuse(c, name, delivery, 404,
			      "no workflow of --workflows has this webhook");
	if (!key || !*key)
		return refuse(c, name, delivery, 500, "the webhook's secret_env is not set");
	if (!signature_ok(c, key))
		return refuse(c, name, delivery, 401, "missing or bad X-Hub-Signature-256");
	body = json_loadb(c->req->body.data, c->req->body.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return refuse(c, name, delivery, 400, "the body must be a JSON object");
	}
	seen = delivery ? replayed(c->s, name, delivery, &e) : 0;
	if (seen != 0) {
		json_decref(body);
		if (seen < 0)
			return audit(c, name, delivery, 500, "deliveries not recorded"),
			       serve_reply_wm_error(c, e);
		return refuse(c, name, delivery, 409, "this delivery was seen before");
	}
	wm_strv_push(&args, &n, "run");
	wm_strv_push(&args, &n, "--detach");
	wm_strv_push(&args, &n, h->file);
	param_args(h, body, &args, &n);
	json_decref(body);
	snprintf(c->req->actor, sizeof(c->req->actor), "hook:%s", name);
	c->actor = c->req->actor;
	audit(c, name, delivery, 201, "run requested");
	return serve_spawn_wm(c, SERVE_ACT_RUN, args);
}
