/*
 * secrets.c - secret values for tasks, fetched and masked (secrets.h).
 */
#include "orchestrator/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "state/safeio.h"

static struct wm_secret *find(const struct wm_secrets *s, const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static void add(struct wm_secrets **s, const char *name, char *file)
{
	struct wm_secret *sec;

	if (!*s)
		*s = wm_xcalloc(1, sizeof(**s));
	WM_GROW((*s)->v, (*s)->alloc, (*s)->n + 1);
	sec = &(*s)->v[(*s)->n++];
	memset(sec, 0, sizeof(*sec));
	sec->name = wm_xstrdup(name);
	sec->file = file;
}

/* A name a secret may have; the reason when not, for "NAME: reason". */
static const char *name_problem(const char *name)
{
	if (!wm_env_name_ok(name, strlen(name)))
		return "not a variable name (letters, digits, _)";
	if (wm_str_has_prefix(name, "WM_"))
		return "names starting with WM_ are wm's own";
	return NULL;
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return wm_xstrdup(path);
	return wm_xasprintf("%s/%s", cwd, path);
}

int wm_secrets_add_arg(struct wm_secrets **s, const char *arg, struct wm_error **err)
{
	const char *eq = strchr(arg, '=');
	wm_autofree char *name = wm_xstrndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
	const char *why = name_problem(name);

	/* Never echo what follows '=': it may be a value typed by mistake. */
	if (why)
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "--secret wants NAME or NAME=@FILE: `%s`: %s", name, why);
	if (eq && (eq[1] != '@' || !eq[2]))
		return wm_error_setx(
			err, WM_EXIT_USAGE,
			"--secret %s: write %s=@FILE to read the value from a file, or "
			"just %s to take it from the environment (a value on the command "
			"line shows in `ps` and in shell history)",
			name, name, name);
	if (find(*s, name))
		return wm_error_setx(err, WM_EXIT_USAGE, "--secret %s is given twice", name);
	add(s, name, eq ? absolute(eq + 2) : NULL);
	return 0;
}

json_t *wm_secrets_to_json(const struct wm_secrets *s)
{
	json_t *a = json_array(); /* new ref */

	for (size_t i = 0; s && i < s->n; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:o}", "name", s->v[i].name, "file",
				     s->v[i].file ? json_string(s->v[i].file) : json_null()));
	return a;
}

int wm_secrets_from_json(json_t *array, const char *path, struct wm_secrets **out,
			 struct wm_error **err)
{
	wm_auto(wm_secrets_free) struct wm_secrets *s = NULL;
	size_t i;
	json_t *e;

	*out = NULL;
	if (!array || json_is_null(array))
		return 0;
	if (!json_is_array(array))
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: `secrets` is not a list", path);
	json_array_foreach(array, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *file = json_object_get(e, "file"); /* borrowed */
		const char *why = name ? name_problem(name) : "no name";

		if (!why && find(s, name))
			why = "listed twice";
		if (!why && file && !json_is_null(file) &&
		    (!json_is_string(file) || json_string_value(file)[0] != '/'))
			why = "its file is not an absolute path";
		if (why)
			return wm_error_setx(err, WM_EXIT_USAGE, "%s: secret %zu (%s): %s", path,
					     i + 1, name ? name : "?", why);
		add(&s, name, json_is_string(file) ? wm_xstrdup(json_string_value(file)) : NULL);
	}
	*out = wm_steal(&s);
	return 0;
}

/* Drops one trailing newline, "\n" or "\r\n", as editors and `echo` leave. */
static void strip_newline(struct wm_buf *b)
{
	size_t len = b->len;

	if (len && b->data[len - 1] == '\n' && --len && b->data[len - 1] == '\r')
		len--;
	wm_buf_setlen(b, len);
}

static int read_file(struct wm_secret *sec, struct wm_error **err)
{
	struct wm_buf b = WM_BUF_INIT;
	wm_autoclose int fd = -1;
	struct stat st;

	/* /dev/fd/N and the like name whatever is open when they are read:
	 * another file by the time `wm resume` reads it again. */
	if (wm_str_has_prefix(sec->file, "/dev/") || wm_str_has_prefix(sec->file, "/proc/"))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "secret %s: `%s` is not a file that stays (wm resume reads it "
				     "again): put the value in a file of its own",
				     sec->name, sec->file);
	fd = open(sec->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return wm_error_make(err, WM_EXIT_USAGE, errno, "secret %s: cannot read `%s`",
				     sec->name, sec->file);
	if (!S_ISREG(st.st_mode))
		return wm_error_setx(err, WM_EXIT_USAGE,
				     "secret %s: `%s` is a %s, not a regular file", sec->name,
				     sec->file, wm_file_type_name(st.st_mode));
	if (st.st_mode & S_IROTH)
		fprintf(stderr,
			"wm: warning: secret %s: `%s` is readable by every user (mode %04o): "
			"chmod o-r it\n",
			sec->name, sec->file, (unsigned)(st.st_mode & 07777));
	if (wm_safe_read_fd(fd, sec->file, WM_SECRET_FILE_MAX, "secret file", &b, err) < 0 ||
	    memchr(b.data, '\0', b.len)) {
		explicit_bzero(b.data, b.len);
		wm_buf_release(&b);
		if (!*err)
			wm_error_setx(err, WM_EXIT_USAGE,
				      "`%s` holds a NUL byte, which no environment variable can",
				      sec->file);
		return wm_error_wrapx(err, WM_EXIT_USAGE, "secret %s", sec->name);
	}
	strip_newline(&b);
	sec->len = b.len;
	sec->value = wm_buf_detach(&b, NULL);
	return 0;
}

/* Appends ", NAME" for each name for which missing(name) holds; returns
 * how many. */
static size_t list_names(struct wm_buf *b, char *const *names, size_t n_names,
			 bool (*missing)(const char *name, const void *ctx), const void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < n_names; i++) {
		if (!missing(names[i], ctx))
			continue;
		wm_buf_addf(b, "%s%s", n++ ? ", " : "", names[i]);
	}
	return n;
}

static bool not_given(const char *name, const void *ctx)
{
	return !find(ctx, name);
}

static bool not_in_environment(const char *name, const void *ctx)
{
	const struct wm_secrets *s = ctx;

	return !find(s, name)->file && !getenv(name);
}

/* Every name the workflow declares is among the secrets given. */
static int check_declared(const struct wm_secrets *s, const struct wm_workflow *wf, bool resume,
			  struct wm_error **err)
{
	struct wm_buf names = WM_BUF_INIT;
	size_t n = list_names(&names, wf->secrets, wm_strv_len(wf->secrets), not_given, s);
	const char *one = n == 1 ? names.data : "NAME";
	int rc = 0;

	if (n && resume)
		rc = wm_error_setx(err, WM_EXIT_USAGE,
				   "%s declares secret%s %s, which the run was not started with: "
				   "start a new run with --secret %s",
				   wf->path, n == 1 ? "" : "s", names.data, one);
	else if (n)
		rc = wm_error_setx(err, WM_EXIT_USAGE,
				   "%s declares secret%s %s: give %s with --secret %s (the value "
				   "from your environment) or --secret %s=@FILE",
				   wf->path, n == 1 ? "" : "s", names.data, n == 1 ? "it" : "each",
				   one, one);
	wm_buf_release(&names);
	return rc;
}

static int check_environment(const struct wm_secrets *s, bool resume, struct wm_error **err)
{
	struct wm_buf names = WM_BUF_INIT;
	char **all = NULL;
	size_t k = 0, n;
	int rc = 0;

	for (size_t i = 0; s && i < s->n; i++)
		wm_strv_push(&all, &k, s->v[i].name);
	n = list_names(&names, all, k, not_in_environment, s);
	if (n)
		rc = wm_error_setx(err, WM_EXIT_USAGE,
				   "secret%s %s %s not set in the environment%s", n == 1 ? "" : "s",
				   names.data, n == 1 ? "is" : "are",
				   resume ? ": wm resume asks the environment again, as no value "
					    "was written down"
					  : "");
	wm_strv_free(all);
	wm_buf_release(&names);
	return rc;
}

static int check_cli_env(const struct wm_secrets *s, char *const *cli_env, struct wm_error **err)
{
	for (size_t i = 0; cli_env && cli_env[i]; i++) {
		size_t len = strcspn(cli_env[i], "=");

		for (size_t k = 0; s && k < s->n; k++)
			if (strlen(s->v[k].name) == len &&
			    strncmp(cli_env[i], s->v[k].name, len) == 0)
				return wm_error_setx(err, WM_EXIT_USAGE,
						     "%s is given both with -e and with --secret",
						     s->v[k].name);
	}
	return 0;
}

int wm_secrets_fetch(struct wm_secrets *s, const struct wm_workflow *wf, char *const *cli_env,
		     bool resume, struct wm_error **err)
{
	size_t n_env = 0;

	if (check_declared(s, wf, resume, err) < 0 || check_cli_env(s, cli_env, err) < 0 ||
	    check_environment(s, resume, err) < 0)
		return -1;
	for (size_t i = 0; s && i < s->n; i++) {
		struct wm_secret *sec = &s->v[i];

		if (sec->file && read_file(sec, err) < 0)
			return -1;
		if (!sec->file) {
			sec->value = wm_xstrdup(getenv(sec->name));
			sec->len = strlen(sec->value);
		}
	}
	for (size_t i = 0; s && i < s->n; i++) {
		struct wm_secret *sec = &s->v[i];
		wm_autofree char *kv = wm_xasprintf("%s=%s", sec->name, sec->value);

		if (!s->mask)
			s->mask = wm_mask_new();
		if (!wm_mask_add(s->mask, sec->value, sec->len))
			fprintf(stderr,
				"wm: warning: secret %s is shorter than %d bytes: tasks get it, "
				"but "
				"it is not masked in what wm writes\n",
				sec->name, WM_MASK_MIN);
		wm_strv_push(&s->env, &n_env, kv);
		explicit_bzero(kv, strlen(kv));
	}
	return 0;
}

char *const *wm_secrets_env(const struct wm_secrets *s)
{
	return s ? s->env : NULL;
}

const struct wm_mask *wm_secrets_mask(const struct wm_secrets *s)
{
	return s ? s->mask : NULL;
}

void wm_secrets_mask_json(const struct wm_secrets *s, json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (!wm_mask_count(wm_secrets_mask(s)))
		return;
	if (json_is_string(v)) {
		wm_autofree char *masked = wm_mask_text(s->mask, json_string_value(v));

		if (strcmp(masked, json_string_value(v)) != 0)
			json_string_set(v, masked);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item) wm_secrets_mask_json(s, item);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item) wm_secrets_mask_json(s, item);
	}
}

void wm_secrets_free(struct wm_secrets *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].file);
		if (s->v[i].value)
			explicit_bzero(s->v[i].value, s->v[i].len);
		free(s->v[i].value);
	}
	for (size_t i = 0; s->env && s->env[i]; i++)
		explicit_bzero(s->env[i], strlen(s->env[i]));
	wm_strv_free(s->env);
	wm_mask_free(s->mask);
	free(s->v);
	free(s);
}
