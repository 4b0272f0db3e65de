/*
 * taskhash.c - a task definition's fingerprint, for resume.
 *
 * The serialization is unambiguous: every field is written as its tag, its
 * byte length and its bytes; lists carry their item count. So no two
 * different definitions share a byte stream, whatever their text holds.
 * The attributes come from attrs.h's list, in its order and with its tags:
 * the bytes are those of the hand-written list this replaced, so hashes
 * recorded by earlier versions still match.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xalloc.h"
#include "workflow/attrs.h"
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

/* Each declaration: name, type, default (or none), choices. */
static void put_params(struct wm_buf *b, char tag, const struct wm_params *ps)
{
	wm_buf_addf(b, "%c[%zu;", tag, ps->n);
	for (size_t i = 0; i < ps->n; i++) {
		put_str(b, 'n', ps->v[i].name);
		put_num(b, 't', (unsigned long long)ps->v[i].type);
		put_str(b, 'd', ps->v[i].def);
		put_strv(b, 'c', ps->v[i].choices);
	}
}

/* The warn threshold as a duration was hashed before levels existed, so a
 * plain `sla: 10m` keeps its hash; the other levels follow when set. */
static void put_sla(struct wm_buf *b, char tag, const struct wm_sla *sla)
{
	put_num(b, tag, sla->ms[WM_SLA_WARN]);
	if (sla->ms[WM_SLA_NOTIFY] || sla->ms[WM_SLA_CANCEL]) {
		put_num(b, tag, sla->ms[WM_SLA_NOTIFY]);
		put_num(b, tag, sla->ms[WM_SLA_CANCEL]);
	}
}

/* One attribute, read as its kind says (attrs.h) from its field. */
static void put_attr(struct wm_buf *b, const struct wm_task *t, const struct wm_attr_info *a)
{
	const void *field = (const char *)t + a->offset;

	switch (a->kind) {
	case WM_AK_ID:
	case WM_AK_POLICY:
	case WM_AK_COMMAND:
	case WM_AK_DIR:
	case WM_AK_IMAGE:
		put_str(b, a->tag, *(char *const *)field);
		break;
	case WM_AK_IDS:
	case WM_AK_ENV:
	case WM_AK_PATHS:
	case WM_AK_GLOBS:
		put_strv(b, a->tag, *(char **const *)field);
		break;
	case WM_AK_DURATION:
		put_num(b, a->tag, *(const uint64_t *)field);
		break;
	case WM_AK_COUNT:
		put_num(b, a->tag, *(const unsigned *)field);
		break;
	case WM_AK_PRIORITY:
		put_num(b, a->tag, (unsigned long long)*(const enum wm_priority *)field);
		break;
	case WM_AK_CONDITION:
		put_num(b, a->tag, (unsigned long long)*(const enum wm_condition *)field);
		break;
	case WM_AK_EXECUTOR:
		put_num(b, a->tag, (unsigned long long)*(const enum wm_executor_kind *)field);
		break;
	case WM_AK_SIZE:
		put_num(b, a->tag, *(const uint64_t *)field);
		break;
	case WM_AK_MATRIX:
		put_strv(b, a->tag, ((const struct wm_placed *)field)->vals);
		break;
	case WM_AK_PARAMS:
		put_params(b, a->tag, field);
		break;
	case WM_AK_FLAG:
		put_num(b, a->tag, *(const bool *)field);
		break;
	case WM_AK_SWITCH:
		put_num(b, a->tag, (unsigned long long)*(const enum wm_switch *)field);
		break;
	case WM_AK_SLA:
		put_sla(b, a->tag, field);
		break;
	}
}

/* Is the attribute unset (zero, NULL)? */
static bool unset(const struct wm_task *t, const struct wm_attr_info *a)
{
	const void *field = (const char *)t + a->offset;

	switch (a->kind) {
	case WM_AK_ID:
	case WM_AK_POLICY:
	case WM_AK_COMMAND:
	case WM_AK_DIR:
	case WM_AK_IMAGE:
		return *(char *const *)field == NULL;
	case WM_AK_IDS:
	case WM_AK_ENV:
	case WM_AK_PATHS:
	case WM_AK_GLOBS:
		return *(char **const *)field == NULL;
	case WM_AK_DURATION:
	case WM_AK_SIZE:
		return *(const uint64_t *)field == 0;
	case WM_AK_COUNT:
		return *(const unsigned *)field == 0;
	case WM_AK_PRIORITY:
		return *(const enum wm_priority *)field == 0;
	case WM_AK_CONDITION:
		return *(const enum wm_condition *)field == 0;
	case WM_AK_EXECUTOR:
		return *(const enum wm_executor_kind *)field == WM_EXECUTOR_INHERIT;
	case WM_AK_MATRIX:
		return ((const struct wm_placed *)field)->vals == NULL;
	case WM_AK_PARAMS:
		return ((const struct wm_params *)field)->n == 0;
	case WM_AK_FLAG:
		return !*(const bool *)field;
	case WM_AK_SWITCH:
		return *(const enum wm_switch *)field == WM_SWITCH_UNSET;
	case WM_AK_SLA:
		for (int l = 0; l < WM_SLA_LEVEL_COUNT; l++)
			if (((const struct wm_sla *)field)->ms[l])
				return false;
		return true;
	}
	return false;
}

char *wm_task_definition_hash(const struct wm_task *t, const char *policy_hash)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	struct wm_buf b = WM_BUF_INIT;

	if (sodium_init() < 0)
		abort(); /* libsodium cannot work at all: nothing sensible to do */
	wm_buf_addstr(&b, "wm-task-v1;");
	for (size_t i = 0; i < WM_ATTR_COUNT; i++)
		if (i < WM_ATTR_FIRST_OPTIONAL || !unset(t, &wm_attrs[i]))
			put_attr(&b, t, &wm_attrs[i]);
	if (t->matrix) /* only instances: other tasks hash as before */
		put_strv(&b, 'V', t->matrix);
	/* The values a run gives its parameters: other values, another task. */
	if (t->param_env)
		put_strv(&b, 'A', t->param_env);
	put_code(&b, 'B', &t->body);
	put_code(&b, 'R', &t->rollback);
	put_str(&b, 'H', policy_hash ? policy_hash : "");
	crypto_hash_sha256(digest, (const unsigned char *)b.data, b.len);
	wm_buf_release(&b);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	return wm_xstrdup(hex);
}
