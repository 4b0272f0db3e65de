/*
 * api_defs.c - the read-only routes of definitions: policies, workflows
 * under --workflows and their plans, the OpenAPI document and /docs.
 *
 * Plans are `wm plan --format json` (actions.c). A workflow is named by its file name in the
 * --workflows directory and opened relative to that directory's fd, confined beneath it (openat2
 * RESOLVE_BENEATH: a symbolic link leaving it, "..", an absolute name or a
 * magic link fails), after wm_serve_name_ok refused any separator.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/diag.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"
#include "policies/policies.h"
#include "state/safeio.h"

extern const unsigned char wm_serve_openapi_json[];
extern const size_t wm_serve_openapi_json_len;

static struct wm_policy_set *load_policies(struct serve_call *c)
{
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_error *e = NULL;
	struct wm_policy_set *set = wm_policy_set_load_search(NULL, NULL, &d, &e);

	if (!set && !e) {
		struct wm_buf b = WM_BUF_INIT;

		for (size_t i = 0; i < d.n; i++) {
			wm_autofree char *line = wm_diag_format(&d.v[i]);

			wm_buf_addf(&b, "%s%s", i ? "; " : "", line);
		}
		serve_reply_error(c, 500, NULL, "policy files have errors: %s", b.data);
		wm_buf_release(&b);
	} else if (!set) {
		serve_reply_wm_error(c, e);
	}
	wm_diags_release(&d);
	return set;
}

static json_t *policy_json(const struct wm_policy *p)
{
	wm_autofree char *hash = wm_policy_hash(p);

	return json_pack("{s:s, s:s?, s:s?, s:s}", "name", p->name, "source", p->source,
			 "description", p->description, "hash", hash);
}

int serve_get_policies(struct serve_call *c)
{
	struct wm_policy_set *set = load_policies(c);
	json_t *a = json_array();

	if (!set) {
		json_decref(a);
		return 0;
	}
	for (size_t i = 0; i < wm_policy_set_count(set); i++)
		json_array_append_new(a, policy_json(wm_policy_set_at(set, i)));
	wm_policy_set_free(set);
	return serve_reply_json(c, 200, json_pack("{s:o}", "policies", a));
}

/* The policy named by query parameter or capture `field`, or NULL after a
 * 400 or 404 reply. */
static const struct wm_policy *find_policy(struct serve_call *c, struct wm_policy_set *set,
					   const char *name, const char *field)
{
	struct wm_error *e = NULL;
	const struct wm_policy *p;

	if (!name)
		return serve_reply_error(c, 400, field, "%s is required", field), NULL;
	if (!wm_serve_name_ok(name))
		return serve_reply_error(c, 400, field, "not a policy name"), NULL;
	if (!(p = wm_policy_set_lookup(set, name, &e))) {
		wm_autofree char *text = wm_error_text(e);

		wm_error_free(e);
		serve_reply_error(c, 404, field, "%s", text);
	}
	return p;
}

int serve_get_policy(struct serve_call *c)
{
	struct wm_policy_set *set = load_policies(c);
	const struct wm_policy *p = set ? find_policy(c, set, c->cap[0], "name") : NULL;
	json_t *j;

	if (p) {
		wm_autofree char *yaml = wm_policy_to_yaml(p);

		j = policy_json(p);
		json_object_set_new(j, "yaml", json_string(yaml));
		serve_reply_json(c, 200, j);
	}
	wm_policy_set_free(set);
	return 0;
}

int serve_get_policy_diff(struct serve_call *c)
{
	struct wm_policy_set *set = load_policies(c);
	const struct wm_policy *a = NULL, *b = NULL;

	if (set)
		a = find_policy(c, set, wm_serve_param(&c->req->t, "a"), "a");
	if (a)
		b = find_policy(c, set, wm_serve_param(&c->req->t, "b"), "b");
	if (b) {
		wm_autofree char *text = wm_policy_diff(a, b);

		serve_reply_json(c, 200,
				 json_pack("{s:s, s:s, s:b, s:s}", "a", a->name, "b", b->name,
					   "differ", *text != '\0', "diff", text));
	}
	wm_policy_set_free(set);
	return 0;
}

static bool no_workflows(struct serve_call *c)
{
	if (c->s->workflows_fd >= 0)
		return false;
	serve_reply_error(c, 404, "path", "wm serve was started without --workflows");
	return true;
}

int serve_get_workflows(struct serve_call *c)
{
	struct wm_error *e = NULL;
	wm_autostrv char **names = NULL;
	json_t *a;

	if (no_workflows(c))
		return 0;
	if (!(names = wm_safe_list_dir(c->s->workflows_fd, c->s->conf.workflows, &e)))
		return serve_reply_wm_error(c, e);
	a = json_array();
	for (size_t i = 0; names[i]; i++) {
		struct stat st;

		if (!wm_str_has_suffix(names[i], ".md") || !wm_serve_name_ok(names[i]) ||
		    fstatat(c->s->workflows_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:I}", "name", names[i], "size",
						   (json_int_t)st.st_size));
	}
	return serve_reply_json(c, 200, json_pack("{s:o}", "workflows", a));
}

int serve_open_workflow(struct serve *s, const char *name, struct wm_serve_fail *f)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	struct stat st;
	int fd;

	if (!wm_serve_name_ok(name))
		return wm_serve_failf(f, 400, "workflow",
				      "a workflow is named by its file name under the workflows "
				      "directory");
	fd = (int)syscall(SYS_openat2, s->workflows_fd, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(s->workflows_fd, name, how.flags | O_NOFOLLOW);
	if (fd < 0 && (errno == ENOENT || errno == EXDEV || errno == ELOOP))
		return wm_serve_failf(f, 404, "workflow", "no workflow '%s'%s", name,
				      errno == ENOENT ? "" : " (it leads outside the directory)");
	if (fd < 0)
		return wm_serve_failf(f, 500, "workflow", "open %s: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wm_serve_failf(f, 404, "workflow", "'%s' is not a regular file", name);
	}
	return fd;
}

int serve_get_plan(struct serve_call *c)
{
	struct wm_serve_fail f = { 0 };
	wm_autofree char *path = NULL;
	char *args[] = { (char *)"plan", NULL, (char *)"--format", (char *)"json", NULL };
	int fd;

	if (no_workflows(c))
		return 0;
	if ((fd = serve_open_workflow(c->s, c->cap[0], &f)) < 0)
		return serve_reply_fail(c, &f);
	close(fd);
	path = wm_xasprintf("%s/%s", c->s->conf.workflows, c->cap[0]);
	args[1] = path;
	return serve_spawn_wm(c, SERVE_ACT_JSON, args);
}

int serve_get_openapi(struct serve_call *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		wm_serve_openapi_json_len, (void *)wm_serve_openapi_json, MHD_RESPMEM_PERSISTENT);

	MHD_add_response_header(r, "Content-Type", "application/json");
	return serve_reply(c, 200, r);
}

/* /docs: every route from the router's table, and where the full document is. */
int serve_get_docs(struct serve_call *c)
{
	struct wm_buf b = WM_BUF_INIT;
	struct MHD_Response *r;
	size_t len;
	char *text;

	wm_buf_addstr(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<title>wm API</title><meta name=\"color-scheme\" content=\"light "
			  "dark\"></head>\n<body><main><h1>wm serve API (v1)</h1>\n<p>Every "
			  "request under <code>/api/v1</code> needs <code>Authorization: Bearer "
			  "TOKEN</code> (<code>wm serve token create</code>); routes of role "
			  "<em>run</em> need a key of role run. The machine-readable document is "
			  "<a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI "
			  "3).</p>\n<table><thead><tr><th scope=\"col\">Method</th><th "
			  "scope=\"col\">Path</th><th scope=\"col\">Role</th><th "
			  "scope=\"col\">What</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < WM_SERVE_ROUTE_COUNT; i++) {
		const struct wm_serve_route *rt = &wm_serve_routes[i];

		wm_buf_addf(&b, "<tr><td>%s</td><td><code>", rt->method);
		wm_buf_add_html(&b, rt->pattern);
		wm_buf_addf(&b, "</code></td><td>%s</td><td>", wm_serve_role_name(rt->role));
		wm_buf_add_html(&b, rt->summary);
		wm_buf_addstr(&b, "</td></tr>\n");
	}
	wm_buf_addstr(&b, "</tbody></table></main></body></html>\n");
	text = wm_buf_detach(&b, &len);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	return serve_reply(c, 200, r);
}
