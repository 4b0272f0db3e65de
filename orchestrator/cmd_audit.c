/*
 * cmd_audit.c - `wm audit show|verify [RUN_ID]` (default: the newest run).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/cleanup.h"
#include "common/when.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/runview.h"
#include "state/audit.h"
#include "common/strutil.h"
#include "state/lock.h"
#include "state/rundir.h"
#include "state/safeio.h"

struct show_opts {
	const char *task, *event;
	long long since_ms;
	bool json;
};

static bool wanted(json_t *o, const struct show_opts *so)
{
	const char *task = json_string_value(json_object_get(o, "task"));
	const char *event = json_string_value(json_object_get(o, "event"));
	const char *ts = json_string_value(json_object_get(o, "ts"));
	long long ms = 0;

	if (so->task && (!task || strcmp(task, so->task) != 0))
		return false;
	if (so->event && (!event || strcmp(event, so->event) != 0))
		return false;
	if (so->since_ms && (!ts || wm_state_parse_time(ts, &ms, NULL) < 0 || ms < so->since_ms))
		return false;
	return true;
}

/* "key=value" for every event field, values compact JSON (strings bare). */
static void details(json_t *o, struct wm_buf *b)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (wm_audit_is_envelope_key(k))
			continue;
		if (b->len)
			wm_buf_addch(b, ' ');
		if (json_is_string(v)) {
			wm_buf_addf(b, "%s=%s", k, json_string_value(v));
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			wm_buf_addf(b, "%s=%s", k, s ? s : "?");
			free(s);
		}
	}
}

static void show_line(json_t *o, const char *raw, const struct show_opts *so)
{
	struct wm_buf b = WM_BUF_INIT;
	const char *task = json_string_value(json_object_get(o, "task"));
	const char *ts = json_string_value(json_object_get(o, "ts"));
	const char *event = json_string_value(json_object_get(o, "event"));

	if (so->json) {
		puts(raw);
		return;
	}
	details(o, &b);
	printf("%-24s %-20s %-16s %s\n", ts ? ts : "-", task ? task : "-", event ? event : "-",
	       b.data);
	wm_buf_release(&b);
}

static int show(const char *path, const struct show_opts *so, struct wm_error **err)
{
	wm_autoclose int fd = wm_audit_open_read(path, err);
	struct wm_lines lr;
	const char *line;
	size_t len;
	bool complete;
	int got;

	if (fd < 0)
		return -1;
	if (!so->json)
		printf("%-24s %-20s %-16s %s\n", "TIME", "TASK", "EVENT", "DETAILS");
	wm_lines_init(&lr, fd, path, WM_AUDIT_LINE_MAX);
	while ((got = wm_lines_next(&lr, &line, &len, &complete, err)) > 0) {
		json_t *o = len ? json_loadb(line, len, 0, NULL) : NULL; /* new ref */

		if (!len)
			continue;
		if (!json_is_object(o))
			fprintf(stderr,
				"wm: warning: %s line %llu is not a JSON object (run 'wm audit "
				"verify')\n",
				path, (unsigned long long)lr.lineno);
		else if (wanted(o, so))
			show_line(o, line, so);
		json_decref(o);
	}
	wm_lines_release(&lr);
	return got < 0 ? -1 : WM_EXIT_OK;
}

static int verify(const struct wm_cli *cli, const char *id, struct wm_error **err)
{
	struct wm_audit_result res;
	struct wm_runview v;
	int rc;

	if (wm_runview_load(cli->state_dir, id, &v, err) < 0)
		return -1;
	if (!v.st.rs)
		fprintf(stderr, "wm: warning: run %s: %s; cannot check for a cut-off tail\n", id,
			v.load_error);
	wm_runview_print_warnings(&v);
	rc = wm_runview_verify_audit(&v, cli->state_dir, &res, err);
	wm_runview_release(&v);
	if (rc < 0)
		return -1;
	if (wm_audit_result_intact(&res)) {
		printf("audit log of run %s intact: %s\n", id, res.message);
		rc = WM_EXIT_OK;
	} else if (res.problem == WM_AUDIT_OK) {
		/* Nothing edited since, but the log itself records what it lacks. */
		printf("audit log of run %s is NOT intact: %s\n  %s\n", id, res.notes, res.message);
		rc = WM_EXIT_FAILED;
	} else {
		printf("audit log of run %s is NOT intact: first bad seq %llu (%s)\n  %s\n", id,
		       (unsigned long long)res.first_bad_seq, wm_audit_problem_name(res.problem),
		       res.message);
		if (res.notes)
			printf("  also: %s\n", res.notes);
		rc = WM_EXIT_FAILED;
	}
	wm_audit_result_release(&res);
	return rc;
}

/* Records the key change in one run's log under the run's lock. A run a
 * live orchestrator holds is left to it: it notices the new key file before
 * its next audit line and records the change itself. 1: left to it. */
static int rekey_run(const struct wm_cli *cli, const char *id, const struct wm_audit_key *key,
		     const char *old_id, const char *new_id, const char *reason,
		     struct wm_error **err)
{
	wm_autofree char *dir = wm_rundir_path(cli->state_dir, id);
	wm_autofree char *path = wm_rundir_file(dir, WM_RUN_AUDIT);
	struct wm_error *e = NULL;
	struct wm_lock *lock = wm_lock_acquire(dir, id, &e);
	int rc;

	if (!lock) {
		bool live = e->exit_code == WM_EXIT_CANNOT;

		if (live)
			wm_error_free(e);
		else
			*err = e;
		return live ? 1 : -1;
	}
	rc = wm_audit_record_rekey(path, id, wm_audit_key_bytes(key), old_id, new_id, reason, err);
	wm_lock_release(lock);
	return rc;
}

/* `wm audit rekey`: a new key, and every run's log told so (live runs by
 * their own orchestrator). */
static int rekey(const struct wm_cli *cli, struct wm_error **err)
{
	char old_id[WM_AUDIT_KEY_ID_LEN + 1], new_id[WM_AUDIT_KEY_ID_LEN + 1];
	struct wm_audit_key *key = NULL;
	wm_autostrv char **ids = NULL;
	size_t n = 0, done = 0, live = 0;
	int rc = -1;

	if (wm_rundir_list(cli->state_dir, &ids, &n, err) < 0)
		return -1;
	if (wm_audit_key_replace(cli->state_dir, old_id, new_id, err) < 0 ||
	    !(key = wm_audit_key_open(cli->state_dir, 0, err)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		int r = rekey_run(cli, ids[i], key, old_id, new_id,
				  old_id[0] ? "key replaced by wm audit rekey"
					    : "the audit key was missing or unreadable",
				  err);

		if (r < 0) {
			wm_error_wrap(err, "run %s", ids[i]);
			goto out;
		}
		if (r > 0)
			printf("run %s is live: its orchestrator records the change before its "
			       "next audit line\n",
			       ids[i]);
		live += r > 0;
		done += r == 0;
	}
	printf("new audit key %s%s%s; the change is recorded in %zu run%s%s\n", new_id,
	       old_id[0] ? " replaces " : "", old_id, done, done == 1 ? "" : "s",
	       live ? " (the live ones record it themselves)" : "");
	rc = WM_EXIT_OK;
out:
	wm_audit_key_free(key);
	return rc;
}

int wm_cmd_audit(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	static const struct option opts[] = {
		{ "task", required_argument, NULL, 't' },
		{ "event", required_argument, NULL, 'e' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts so = { 0 };
	wm_autofree char *id = NULL;
	wm_autofree char *dir = NULL;
	wm_autofree char *path = NULL;
	bool is_show;
	int opt;

	if (argc == 2 && strcmp(argv[1], "rekey") == 0)
		return rekey(cli, err);
	if (argc < 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "verify") != 0))
		return wm_usage_error("audit", "expected 'show', 'verify' or 'rekey'");
	is_show = strcmp(argv[1], "show") == 0;
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return wm_bad_option("audit", argv, opt, opts);
		if (!is_show)
			return wm_usage_error("audit", "audit verify takes no options");
		if (opt == 't')
			so.task = optarg;
		else if (opt == 'e')
			so.event = optarg;
		else if (opt == 'j')
			so.json = true;
		else if (wm_parse_since(optarg, wm_wall_ms(), &so.since_ms, err) < 0)
			return -1;
	}
	if (argc - optind > 1)
		return wm_usage_error("audit", "too many arguments");
	id = wm_rundir_resolve(cli->state_dir, optind < argc ? argv[optind] : NULL, err);
	if (!id)
		return -1;
	dir = wm_rundir_path(cli->state_dir, id);
	path = wm_rundir_file(dir, WM_RUN_AUDIT);
	return is_show ? show(path, &so, err) : verify(cli, id, err);
}
