/*
 * secrets.h - values a run hands its tasks but never writes down.
 *
 * A secret is an environment variable's name and where its value comes
 * from: the caller's environment (`wm run --secret NAME`) or a file
 * (`--secret NAME=@FILE`, one trailing newline dropped). A workflow may
 * declare the names it needs (front matter `secrets`); it can never take a
 * value itself: each one is named on the command line, so a workflow file
 * cannot lift a variable out of its user's environment.
 *
 * Only names and paths are recorded (options.json, for `wm resume`, which
 * fetches the values again). The values stay in memory: tasks get them in
 * their environment, and every value of at least WM_MASK_MIN bytes is
 * masked (***) in what wm writes of a task's output and in every event
 * (audit log, --json). Nothing derived from a value is stored.
 *
 * Lifecycle: wm_secrets_add_arg (the command line) or wm_secrets_from_json
 * (options.json) -> wm_secrets_fetch (the values; every declared name must
 * be given) -> wm_secrets_env / wm_secrets_mask while tasks run ->
 * wm_secrets_free (values zeroed). A NULL struct wm_secrets * is a valid
 * empty set everywhere.
 */
#ifndef WM_ORCHESTRATOR_SECRETS_H
#define WM_ORCHESTRATOR_SECRETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/mask.h"
#include "workflow/workflow.h"

/* The largest secret file read. */
#define WM_SECRET_FILE_MAX (64UL << 10)

struct wm_secret {
	char *name;
	char *file;  /* absolute path; NULL: the caller's environment */
	char *value; /* NULL until fetched */
	size_t len;
};

struct wm_secrets {
	struct wm_secret *v;
	size_t n, alloc;
	char **env;	      /* NAME=VALUE of each, once fetched */
	struct wm_mask *mask; /* the values to hide, once fetched */
};

/* One --secret argument, NAME or NAME=@FILE (a relative FILE is made
 * absolute here). A bad or repeated one: exit 2. *s is made on first use. */
int wm_secrets_add_arg(struct wm_secrets **s, const char *arg, struct wm_error **err);

/* The names and files as options.json keeps them: [{"name", "file"}].
 * New reference. */
json_t *wm_secrets_to_json(const struct wm_secrets *s);
/* The reverse; `path` names the file in messages. NULL array: *out NULL.
 * A malformed entry: exit 2. */
int wm_secrets_from_json(json_t *array, const char *path, struct wm_secrets **out,
			 struct wm_error **err);

/*
 * Reads every value: from the environment, or the file (a regular file
 * of at most WM_SECRET_FILE_MAX bytes, without NUL; readable by others is
 * a warning). Every name wf declares (front matter `secrets`) must be
 * among them; a name that -e (cli_env) sets too is an error. `resume`
 * words the messages for `wm resume`. Every problem (missing names
 * listed together) is an error with exit 2. Warns about values too short
 * to mask.
 */
int wm_secrets_fetch(struct wm_secrets *s, const struct wm_workflow *wf, char *const *cli_env,
		     bool resume, struct wm_error **err);

char *const *wm_secrets_env(const struct wm_secrets *s);	   /* NULL: none */
const struct wm_mask *wm_secrets_mask(const struct wm_secrets *s); /* NULL: none */

/* Masks every string in v (objects and arrays, in place). */
void wm_secrets_mask_json(const struct wm_secrets *s, json_t *v);

void wm_secrets_free(struct wm_secrets *s);
WM_DEFINE_CLEANUP(struct wm_secrets, wm_secrets_free)

#endif
