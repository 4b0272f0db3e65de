#include "orchestrator/exec_result.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "state/rundir.h"

#define RESULT_MAX (256 * 1024)

void wm_exec_result_release(struct wm_exec_result *res)
{
	wm_sandbox_result_release(&res->r);
	free(res->missing_output);
	free(res->reason);
	free(res->note);
	res->missing_output = NULL;
	res->reason = NULL;
	res->note = NULL;
}

static char *result_name(const char *task, const char *kind, unsigned attempt)
{
	return wm_xasprintf("logs/%s.%s.%u.result.json", task, kind, attempt);
}

static json_t *denials_json(const struct wm_sandbox_result *r)
{
	json_t *a = json_array(); /* new ref */

	for (size_t i = 0; i < r->n_denied; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "name", r->denied[i].name, "count",
						   (json_int_t)r->denied[i].count));
	return a;
}

int wm_exec_result_save(const char *run_dir, const char *task, const char *kind, unsigned attempt,
			const struct wm_exec_result *res, struct wm_error **err)
{
	const struct wm_sandbox_result *r = &res->r;
	wm_autofree char *name = result_name(task, kind, attempt);
	json_t *o =
		json_pack("{s:i, s:i, s:i, s:s, s:o, s:I, s:I, s:I}", "status", r->status,
			  "exit_code", r->exit_code, "signal", r->signal, "limit",
			  wm_limit_name(r->limit), "denied", denials_json(r), "denied_other",
			  (json_int_t)r->denied_other, "duration_ms", (json_int_t)r->duration_ms,
			  "peak_memory", (json_int_t)r->peak_memory); /* "o" steals */
	wm_autofree char *text = NULL;
	int rc;

	if (r->setup_error)
		json_object_set_new(o, "setup_error", json_string(r->setup_error));
	if (r->out_error)
		json_object_set_new(o, "out_error", json_string(r->out_error));
	if (res->missing_output)
		json_object_set_new(o, "missing_output", json_string(res->missing_output));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	rc = wm_rundir_write_file(run_dir, name, text, strlen(text), err);
	return rc;
}

static char *opt_string(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key)); /* borrowed */

	return s ? wm_xstrdup(s) : NULL;
}

static enum wm_limit limit_of(const char *name)
{
	for (int l = WM_LIMIT_NONE; l <= WM_LIMIT_OUT; l++)
		if (name && strcmp(name, wm_limit_name((enum wm_limit)l)) == 0)
			return (enum wm_limit)l;
	return WM_LIMIT_NONE;
}

static void denials_of(json_t *a, struct wm_sandbox_result *r)
{
	size_t n = json_array_size(a), k = 0;

	r->denied = wm_xcalloc(n + 1, sizeof(*r->denied));
	for (size_t i = 0; i < n && i < 64; i++) {
		json_t *d = json_array_get(a, i); /* borrowed */
		const char *name = json_string_value(json_object_get(d, "name"));

		if (!name)
			continue;
		r->denied[k].name = wm_xstrdup(name);
		r->denied[k++].count = (uint64_t)json_integer_value(json_object_get(d, "count"));
	}
	r->n_denied = k;
}

int wm_exec_result_load(const char *run_dir, const char *task, const char *kind, unsigned attempt,
			struct wm_exec_result *res, struct wm_error **err)
{
	wm_autofree char *name = result_name(task, kind, attempt);
	struct wm_buf b = WM_BUF_INIT;
	struct wm_error *e = NULL;
	json_error_t je;
	json_t *o;

	memset(res, 0, sizeof(*res));
	if (wm_rundir_read_file(run_dir, name, RESULT_MAX, &b, &e) < 0) {
		bool absent = e && e->errnum == ENOENT;

		wm_buf_release(&b);
		if (absent) {
			wm_error_free(e);
			return 0;
		}
		*err = e;
		return -1;
	}
	o = json_loadb(b.data, b.len, 0, &je);
	wm_buf_release(&b);
	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "status"))) {
		json_decref(o);
		return wm_error_setx(err, WM_EXIT_FAILED, "`%s/%s` is not an attempt's result",
				     run_dir, name);
	}
	res->r.status = (int)json_integer_value(json_object_get(o, "status"));
	res->r.exit_code = (int)json_integer_value(json_object_get(o, "exit_code"));
	res->r.signal = (int)json_integer_value(json_object_get(o, "signal"));
	res->r.limit = limit_of(json_string_value(json_object_get(o, "limit")));
	res->r.denied_other = (uint64_t)json_integer_value(json_object_get(o, "denied_other"));
	res->r.duration_ms = (uint64_t)json_integer_value(json_object_get(o, "duration_ms"));
	res->r.peak_memory = (uint64_t)json_integer_value(json_object_get(o, "peak_memory"));
	res->r.setup_error = opt_string(o, "setup_error");
	res->r.out_error = opt_string(o, "out_error");
	res->missing_output = opt_string(o, "missing_output");
	denials_of(json_object_get(o, "denied"), &res->r);
	json_decref(o);
	return 1;
}
