/*
 * schedstate.c - the scheduler's files in the state directory
 * (schedstate.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/schedstate.h"
#include "state/rundir.h"
#include "state/safeio.h"

#define REC_MAX (64UL << 10)

bool wm_schedstate_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 100 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("._-", *p))
			return false;
	return true;
}

/* $STATE/schedule opened (made when `create`), or -1 (errno ENOENT: none). */
static int open_dir(const char *state_dir, bool create, struct wm_error **err)
{
	wm_autoclose int sfd = wm_safe_opendir_path(state_dir, err);

	if (sfd < 0)
		return -1;
	return wm_safe_opendir(sfd, state_dir, WM_SCHED_DIR, create, 0700, err);
}

json_t *wm_schedstate_load(const char *state_dir, const char *name, struct wm_error **err)
{
	struct wm_error *e = NULL;
	wm_autoclose int dfd = open_dir(state_dir, false, &e);
	wm_autofree char *rel = wm_xasprintf("%s.json", name);
	struct wm_buf b = WM_BUF_INIT;
	json_t *j = NULL;

	if (dfd >= 0 &&
	    wm_safe_read(dfd, WM_SCHED_DIR, rel, REC_MAX, "schedule state", &b, &e) == 0)
		j = json_loadb(b.data, b.len, 0, NULL);
	wm_buf_release(&b);
	if (e && e->errnum != ENOENT) {
		wm_err_pass(err, e);
		return NULL;
	}
	wm_error_free(e);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

int wm_schedstate_save(const char *state_dir, const char *name, json_t *rec, struct wm_error **err)
{
	wm_autoclose int dfd = open_dir(state_dir, true, err);
	wm_autofree char *rel = wm_xasprintf("%s.json", name);
	wm_autofree char *text = NULL;

	if (dfd < 0)
		return -1;
	text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return wm_error_set(err, EINVAL, "schedule state of `%s`", name);
	return wm_safe_write_atomic(dfd, WM_SCHED_DIR, rel, text, strlen(text), 0600, err);
}

bool wm_schedstate_paused(const char *state_dir, const char *name)
{
	wm_autoclose int dfd = open_dir(state_dir, false, NULL);
	wm_autofree char *rel = wm_xasprintf("%s.paused", name);

	return dfd >= 0 && faccessat(dfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

json_t *wm_schedstate_list(const char *state_dir, struct wm_error **err)
{
	struct wm_error *e = NULL;
	wm_autoclose int dfd = open_dir(state_dir, false, &e);
	wm_autostrv char **names = NULL;
	json_t *out = json_array();

	if (dfd < 0) {
		if (e->errnum == ENOENT) {
			wm_error_free(e);
			return out; /* no server ever scheduled anything */
		}
		json_decref(out);
		wm_err_pass(err, e);
		return NULL;
	}
	names = wm_safe_list_dir(dfd, WM_SCHED_DIR, err);
	if (!names) {
		json_decref(out);
		return NULL;
	}
	for (size_t i = 0; names[i]; i++) {
		wm_autofree char *name = NULL;
		json_t *rec;

		if (!wm_str_has_suffix(names[i], ".json"))
			continue;
		name = wm_xstrndup(names[i], strlen(names[i]) - 5);
		if (!wm_schedstate_name_ok(name) ||
		    !(rec = wm_schedstate_load(state_dir, name, NULL)))
			continue;
		json_object_set_new(rec, "paused",
				    json_boolean(wm_schedstate_paused(state_dir, name)));
		json_array_append_new(out, rec);
	}
	return out;
}

int wm_schedstate_pause(const char *state_dir, const char *name, bool pause, struct wm_error **err)
{
	wm_autofree char *rel = wm_xasprintf("%s.paused", name);
	wm_autoclose int dfd = -1;
	json_t *rec;

	if (!wm_schedstate_name_ok(name) || !(rec = wm_schedstate_load(state_dir, name, err)))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "no scheduled workflow `%s` (see `wm schedule list`)", name);
	json_decref(rec);
	dfd = open_dir(state_dir, true, err);
	if (dfd < 0)
		return -1;
	if (!pause) {
		if (unlinkat(dfd, rel, 0) < 0 && errno != ENOENT)
			return wm_error_set(err, errno, "resume `%s`", name);
		return 0;
	}
	return wm_safe_write_atomic(dfd, WM_SCHED_DIR, rel, "", 0, 0600, err);
}
