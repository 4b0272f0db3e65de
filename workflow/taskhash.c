/*
 * taskhash.c - a task definition's fingerprint, for resume.
 *
 * The serialization is unambiguous: every field is written as its tag, its
 * byte length and its bytes; lists carry their item count. So no two
 * different definitions share a byte stream, whatever their text holds.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "workflow/workflow.h"

static void put_str(struct wm_buf *b, char tag, const char *s)
{
	if (!s) {
		wm_buf_addf(b, "%c-;", tag);
		return;
	}
	wm_buf_addf(b, "%c%zu:", tag, strlen(s));
	wm_buf_addstr(b, s);
	wm_buf_addch(b, ';');
}

static void put_num(struct wm_buf *b, char tag, unsigned long long v)
{
	wm_buf_addf(b, "%c%llu;", tag, v);
}

static void put_strv(struct wm_buf *b, char tag, char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	wm_buf_addf(b, "%c[%zu;", tag, n);
	for (size_t i = 0; i < n; i++)
		put_str(b, 's', v[i]);
}

static void put_code(struct wm_buf *b, char tag, const struct wm_code *c)
{
	wm_buf_addch(b, tag);
	put_str(b, 'l', c->lang);
	put_strv(b, 'a', c->argv);
	put_str(b, 't', c->lang ? c->text : NULL);
}

char *wm_task_definition_hash(const struct wm_task *t, const char *policy_hash)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	struct wm_buf b = WM_BUF_INIT;

	if (sodium_init() < 0)
		abort(); /* libsodium cannot work at all: nothing sensible to do */
	wm_buf_addstr(&b, "wm-task-v1;");
	put_str(&b, 'i', t->id);
	put_strv(&b, 'd', t->depends);
	put_str(&b, 'p', t->policy);
	put_num(&b, 'T', t->timeout_ms);
	put_num(&b, 'r', t->retries);
	put_num(&b, 'b', t->backoff_ms);
	put_num(&b, 'P', (unsigned long long)t->priority);
	put_num(&b, 'c', (unsigned long long)t->condition);
	put_str(&b, 'o', t->only_if);
	put_strv(&b, 'e', t->env);
	put_str(&b, 'w', t->workdir);
	put_num(&b, 'S', t->sla_ms);
	put_strv(&b, 'O', t->outputs);
	put_code(&b, 'B', &t->body);
	put_code(&b, 'R', &t->rollback);
	put_str(&b, 'H', policy_hash ? policy_hash : "");
	crypto_hash_sha256(digest, (const unsigned char *)b.data, b.len);
	wm_buf_release(&b);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	return wm_xstrdup(hex);
}
