/*
 * runopts.c - <run>/options.json: how a run was started, for `wm resume`.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runner.h"
#include "state/rundir.h"
#include "state/safeio.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A new JSON array of the strings. */
static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i])); /* steals */
	return a;
}

int wm_run_options_save(const char *run_dir, const struct wm_run_options *o, const char *workspace,
			const char *workflow, struct wm_error **err)
{
	json_t *env = json_array(), *obj;
	char abs[PATH_MAX], wabs[PATH_MAX];
	const char *policies = o->policies_file;
	char *text;
	int rc;

	/* Resume may run from another directory. */
	if (policies && realpath(policies, abs))
		policies = abs;

	for (size_t i = 0; o->cli_env && o->cli_env[i]; i++)
		json_array_append_new(env, json_string(o->cli_env[i]));
	/* json_pack's "o" steals env. */
	if (realpath(workflow, wabs))
		workflow = wabs;
	/* Secrets: their names and files only, never a value. */
	obj = json_pack("{s:s, s:s, s:o, s:o, s:o, s:i, s:b, s:o, s:o}", "workflow", workflow,
			"workspace", workspace, "policy", str_or_null(o->policy), "policies",
			str_or_null(policies), "env", env, "jobs", (int)o->jobs, "keep_going",
			(int)o->keep_going, "executor", str_or_null(o->executor), "secrets",
			wm_secrets_to_json(o->secrets));
	if (!obj)
		return wm_error_set(err, 0, "build %s/" WM_RUN_OPTIONS, run_dir);
	if (o->from)
		json_object_set_new(obj, "from", json_string(o->from));
	if (o->cache != WM_CACHE_AS_WRITTEN) /* --cache, --no-cache: resume does the same */
		json_object_set_new(obj, "cache", json_boolean(o->cache == WM_CACHE_ALL));
	if (o->params) /* -p: resume gives the same values */
		json_object_set_new(obj, "params", strv_json(o->params));
	if (o->only) /* wm run FILE TASK...: resume runs the same part */
		json_object_set_new(obj, "tasks", strv_json(o->only));
	if (o->dialect) /* resume reads the file the same way */
		json_object_set_new(obj, "dialect", json_string(o->dialect));
	if (o->all)
		json_object_set_new(obj, "all", json_true());
	text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(obj);
	rc = wm_rundir_write_file(run_dir, WM_RUN_OPTIONS, text, strlen(text), err);
	free(text);
	return rc;
}

static char *dup_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key); /* borrowed */
	return json_is_string(v) ? wm_xstrdup(json_string_value(v)) : NULL;
}

int wm_run_options_load(const char *run_dir, struct wm_run_options *o, struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/" WM_RUN_OPTIONS, run_dir);
	struct wm_buf text = WM_BUF_INIT;
	json_error_t jerr;
	json_t *obj = NULL, *env;
	size_t n = 0, i;
	json_t *v;

	memset(o, 0, sizeof(*o));
	if (wm_rundir_read_file(run_dir, WM_RUN_OPTIONS, WM_RUN_OPTIONS_MAX, &text, err) < 0) {
		wm_buf_release(&text);
		return wm_error_wrapx(err, WM_EXIT_USAGE, NULL); /* the run is unusable */
	}
	obj = json_loadb(text.data, text.len, 0, &jerr); /* new ref */
	wm_buf_release(&text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return wm_error_setx(err, WM_EXIT_USAGE, "%s:%d:%d: %s", path, jerr.line,
				     jerr.column, obj ? "not a JSON object" : jerr.text);
	}
	o->workflow = dup_string(obj, "workflow");
	o->workspace = dup_string(obj, "workspace");
	o->policy = dup_string(obj, "policy");
	o->policies_file = dup_string(obj, "policies");
	o->jobs = (unsigned)json_integer_value(json_object_get(obj, "jobs"));
	o->keep_going = json_is_true(json_object_get(obj, "keep_going"));
	if (json_is_boolean(json_object_get(obj, "cache")))
		o->cache =
			json_is_true(json_object_get(obj, "cache")) ? WM_CACHE_ALL : WM_CACHE_NONE;
	o->executor = dup_string(obj, "executor");
	if (o->executor && strcmp(o->executor, "local") != 0 && strcmp(o->executor, "slurm") != 0) {
		json_decref(obj);
		wm_run_options_release(o);
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: unknown executor", path);
	}
	if (wm_secrets_from_json(json_object_get(obj, "secrets"), path, &o->secrets, err) < 0) {
		json_decref(obj);
		wm_run_options_release(o);
		return -1;
	}
	env = json_object_get(obj, "env");
	json_array_foreach(env, i, v) if (json_is_string(v))
		wm_strv_push(&o->cli_env, &n, json_string_value(v));
	o->from = dup_string(obj, "from");
	o->dialect = dup_string(obj, "dialect");
	o->all = json_is_true(json_object_get(obj, "all"));
	n = 0;
	json_array_foreach(json_object_get(obj, "tasks"), i, v) if (json_is_string(v))
		wm_strv_push(&o->only, &n, json_string_value(v));
	n = 0;
	json_array_foreach(json_object_get(obj, "params"), i, v) if (json_is_string(v))
		wm_strv_push(&o->params, &n, json_string_value(v));
	json_decref(obj);
	return 0;
}

void wm_run_options_release(struct wm_run_options *o)
{
	wm_strv_free(o->only);
	free((char *)o->from);
	free((char *)o->dialect);
	free((char *)o->workflow);
	free((char *)o->workspace);
	free((char *)o->policy);
	free((char *)o->policies_file);
	free((char *)o->executor);
	wm_strv_free(o->cli_env);
	wm_strv_free(o->params);
	wm_secrets_free(o->secrets);
	memset(o, 0, sizeof(*o));
}

int wm_display_option(const char *cmd, int opt, const char *arg, struct wm_display *d)
{
	char *end;
	unsigned long n;

	switch (opt) {
	case 'v':
		d->verbose = true;
		return 1;
	case 'O':
		if (strcmp(arg, "stream") != 0 && strcmp(arg, "compact") != 0)
			return wm_usage_error(cmd, "--output is compact or stream, not '%s'", arg);
		d->stream = strcmp(arg, "stream") == 0;
		return 1;
	case 'T':
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (!isdigit((unsigned char)*arg) || *end || errno || n > 100000)
			return wm_usage_error(cmd,
					      "--tail wants a number of lines (0 to 100000), "
					      "not '%s'",
					      arg);
		d->tail = (unsigned)n;
		d->tail_set = true;
		return 1;
	default:
		return 0;
	}
}

int wm_param_arg_ok(const char *cmd, const char *arg)
{
	size_t n = strcspn(arg, "=");

	if (!arg[n] || n == 0)
		return wm_usage_error(cmd, "-p wants NAME=VALUE, not '%s'", arg);
	return 0;
}
