/*
 * cmd_policy.c - `wm policy list | show NAME | check FILE | diff A B |
 * import-oci FILE.json --name N`.
 *
 * Policies come from the search order of SPEC.md section 2 (built-ins,
 * the user's config, --policies). Problems in a file print as
 * FILE:LINE:COL and the command exits 2.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/diag.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "policies/policies.h"
#include "policies/score.h"

struct popts {
	const char *policies;
	const char *name;
	bool json;
	char **args;
	int n_args;
};

static int parse_opts(int argc, char **argv, struct popts *o)
{
	static const struct option opts[] = {
		{ "policies", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->policies = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return -2;
		default:
			return wm_bad_option("policy", argv, c, opts);
		}
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return 0;
}

/* Loads the search order; prints the files' problems. NULL: exit 2 or *err.
 * The --policies file is read by its absolute path (so relative paths in it
 * come out absolute) and named as the user wrote it. */
static struct wm_policy_set *load_set(const char *flag_path, struct wm_error **err)
{
	struct wm_diags d = WM_DIAGS_INIT;
	wm_autofree char *abs = flag_path ? realpath(flag_path, NULL) : NULL;
	struct wm_policy_set *set = wm_policy_set_load_search(NULL, NULL, &d, err);

	if (set && flag_path &&
	    wm_policy_set_load_file_as(set, abs ? abs : flag_path, flag_path, &d, err) < 0) {
		wm_policy_set_free(set);
		set = NULL;
	}
	wm_diags_print(&d, stderr);
	if (!set) /* kept only when the loader said nothing itself (error.h) */
		wm_error_setx(err, WM_EXIT_USAGE, "policy file has errors");
	wm_diags_release(&d);
	return set;
}

static int do_list(const struct popts *o, struct wm_error **err)
{
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;

	if (o->n_args != 0)
		return wm_usage_error("policy", "'policy list' takes no arguments");
	if (!(set = load_set(o->policies, err)))
		return -1;
	for (size_t i = 0; i < wm_policy_set_count(set); i++) {
		const struct wm_policy *p = wm_policy_set_at(set, i);
		const char *desc = p->description ? p->description : "";

		printf("%-14s %-28s %.*s\n", p->name, p->source ? p->source : "-",
		       (int)strcspn(desc, "\n"), desc);
	}
	return WM_EXIT_OK;
}

static int do_show(const struct popts *o, struct wm_error **err)
{
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	wm_autofree char *yaml = NULL, *hash = NULL;
	const struct wm_policy *p;

	if (o->n_args != 1)
		return wm_usage_error("policy", "'policy show' takes one policy name");
	if (!(set = load_set(o->policies, err)))
		return -1;
	if (!(p = wm_policy_set_lookup(set, o->args[0], err)))
		return -1;
	yaml = wm_policy_to_yaml(p);
	hash = wm_policy_hash(p);
	printf("# policy %s, resolved; sha256 %s\n%s", p->name, hash, yaml);
	return WM_EXIT_OK;
}

/* A policy under which no program can start is valid, but surely a
 * mistake: say so for each of the file's policies. */
static void warn_startup(const struct wm_policy_set *set, const char *file)
{
	for (size_t i = 0; i < wm_policy_set_count(set); i++) {
		const struct wm_policy *p = wm_policy_set_at(set, i);
		struct wm_buf calls = WM_BUF_INIT;

		if (p->source && strcmp(p->source, file) == 0 &&
		    wm_policy_startup_denials(p, &calls))
			fprintf(stderr,
				"%s: warning: policy `%s` denies %s: no program can start or end "
				"under it\n",
				file, p->name, calls.data);
		wm_buf_release(&calls);
	}
}

static int do_check(const struct popts *o, struct wm_error **err)
{
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	struct wm_diags d = WM_DIAGS_INIT;
	wm_autofree char *abs = NULL;
	size_t n;
	int rc;

	if (o->n_args != 1)
		return wm_usage_error("policy", "'policy check' takes one file");
	set = wm_policy_set_new();
	abs = realpath(o->args[0], NULL);
	rc = wm_policy_set_load_file_as(set, abs ? abs : o->args[0], o->args[0], &d, err);
	wm_diags_print(&d, stderr);
	n = d.n_errors;
	wm_diags_release(&d);
	if (rc < 0)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: %zu error%s", o->args[0], n,
				     n == 1 ? "" : "s");
	printf("%s: ok", o->args[0]);
	for (size_t i = 0; i < wm_policy_set_count(set); i++) {
		const struct wm_policy *p = wm_policy_set_at(set, i);
		if (p->source && strcmp(p->source, o->args[0]) == 0)
			printf(" %s", p->name);
	}
	printf("\n");
	warn_startup(set, o->args[0]);
	return WM_EXIT_OK;
}

static int do_diff(const struct popts *o, struct wm_error **err)
{
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	wm_autofree char *text = NULL;
	const struct wm_policy *a, *b;
	struct wm_policy_score sa, sb;

	if (o->n_args != 2)
		return wm_usage_error("policy", "'policy diff' takes two policy names");
	if (!(set = load_set(o->policies, err)))
		return -1;
	if (!(a = wm_policy_set_lookup(set, o->args[0], err)) ||
	    !(b = wm_policy_set_lookup(set, o->args[1], err)))
		return -1;
	text = wm_policy_diff(a, b);
	wm_policy_score(a, &sa, NULL);
	wm_policy_score(b, &sb, NULL);
	printf("A = %s (exposure %.1f), B = %s (exposure %.1f)\n", a->name, sa.total, b->name,
	       sb.total);
	if (!*text) {
		printf("no difference in effect\n");
		return WM_EXIT_OK;
	}
	fputs(text, stdout);
	return 1; /* as diff(1): the policies differ */
}

static json_t *score_json(const struct wm_policy *p, const struct wm_policy_score *s)
{
	json_t *o = json_object(), *parts = json_object(), *cls = json_object();

	/* json_object_set_new steals each new value. */
	json_object_set_new(o, "policy", json_string(p->name));
	json_object_set_new(o, "score", json_real(wm_score_shown(s->total)));
	for (size_t i = 0; i < WM_SCORE_PART_COUNT; i++)
		json_object_set_new(parts, wm_score_part_name(i),
				    json_pack("{s:f,s:f}", "points", wm_score_shown(s->part[i]),
					      "max", s->max[i]));
	for (size_t c = 0; c < WM_RISK_CLASS_COUNT; c++)
		json_object_set_new(cls, wm_risk_class_name(c),
				    json_pack("{s:f,s:I,s:I}", "points", wm_score_shown(s->cls[c]),
					      "passing", (json_int_t)s->cls_passing[c], "known",
					      (json_int_t)s->cls_known[c]));
	json_object_set_new(o, "parts", parts);
	json_object_set_new(o, "syscall_classes", cls);
	return o;
}

static int do_score(const struct popts *o, struct wm_error **err)
{
	wm_auto(wm_policy_set_free) struct wm_policy_set *set = NULL;
	struct wm_buf why = WM_BUF_INIT;
	struct wm_policy_score s;
	const struct wm_policy *p;

	if (o->n_args != 1)
		return wm_usage_error("policy", "'policy score' takes one policy name");
	if (!(set = load_set(o->policies, err)))
		return -1;
	if (!(p = wm_policy_set_lookup(set, o->args[0], err)))
		return -1;
	wm_policy_score(p, &s, o->json ? NULL : &why);
	if (o->json) {
		json_t *j = score_json(p, &s);

		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(4));
		putchar('\n');
		json_decref(j);
	} else {
		printf("policy %s: exposure %.1f/100\n%s", p->name, s.total, why.data);
	}
	wm_buf_release(&why);
	return WM_EXIT_OK;
}

static int do_import(const struct popts *o, struct wm_error **err)
{
	struct wm_diags d = WM_DIAGS_INIT;
	wm_autofree char *abs = NULL, *text = NULL;

	if (o->n_args != 1 || !o->name)
		return wm_usage_error("policy", "'policy import-oci' takes FILE.json and --name N");
	abs = realpath(o->args[0], NULL);
	if (!abs)
		return wm_error_setx(err, WM_EXIT_USAGE, "cannot read seccomp profile `%s`",
				     o->args[0]);
	text = wm_policy_import_oci(abs, o->name, &d, err);
	wm_diags_print(&d, stderr);
	wm_diags_release(&d);
	if (!text)
		return wm_error_setx(err, WM_EXIT_USAGE, "%s: not a usable seccomp profile",
				     o->args[0]);
	fputs(text, stdout);
	return WM_EXIT_OK;
}

int wm_cmd_policy(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct popts o = { 0 };
	const char *sub;
	int rc;

	if (argc < 2)
		return wm_usage_error("policy", "missing subcommand");
	sub = argv[1];
	if (strcmp(sub, "learn") == 0)
		return wm_cmd_policy_learn(argc - 1, argv + 1, cli, err);
	rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc == -2) {
		wm_command_help(wm_command_find("policy"), stdout);
		return WM_EXIT_OK;
	}
	if (rc > 0)
		return rc;
	if (strcmp(sub, "list") == 0)
		return do_list(&o, err);
	if (strcmp(sub, "show") == 0)
		return do_show(&o, err);
	if (strcmp(sub, "check") == 0)
		return do_check(&o, err);
	if (strcmp(sub, "diff") == 0)
		return do_diff(&o, err);
	if (strcmp(sub, "score") == 0)
		return do_score(&o, err);
	if (strcmp(sub, "import-oci") == 0)
		return do_import(&o, err);
	return wm_usage_error("policy", "unknown subcommand '%s'", sub);
}
