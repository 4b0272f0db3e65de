/*
 * cmd_plan.c - `wm plan FILE [--format text|dot|json]`: validate a workflow
 * and show its DAG in execution order. Runs nothing.
 *
 * Diagnostics go to stderr (exit 2 when any is an error); the plan goes to
 * stdout. The JSON shape ("format": "wm-plan", "version": 1) is documented
 * in README.md, "Workflow reference".
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/cli.h"
#include "orchestrator/floor.h"
#include "orchestrator/levels.h"
#include "orchestrator/runner.h"
#include "orchestrator/taskcache.h"
#include "policies/policies.h"
#include "policies/score.h"
#include "workflow/dag.h"
#include "workflow/workflow.h"

enum plan_format { FMT_TEXT, FMT_DOT, FMT_JSON };

/* "  label 1m30s", or "  label <unset>" when ms is 0 (NULL: print nothing). */
/* {"warn": ms, "notify": ms, "cancel": ms}, 0 for a level not set. */
static json_t *json_sla(const struct wm_sla *sla)
{
	json_t *o = json_object();

	for (int l = 0; l < WM_SLA_LEVEL_COUNT; l++)
		json_object_set_new(o, wm_sla_level_name((enum wm_sla_level)l),
				    json_integer((json_int_t)sla->ms[l]));
	return o;
}

static void print_duration(FILE *f, const char *label, uint64_t ms, const char *unset)
{
	wm_autofree char *d = NULL;

	if (!ms) {
		if (unset)
			fprintf(f, "  %s %s", label, unset);
		return;
	}
	d = wm_format_duration(ms);
	fprintf(f, "  %s %s", label, d);
}

/* The workflow's parameters, then the task's: it receives both. */
static void print_params(const struct wm_workflow *wf, const struct wm_task *t, FILE *f)
{
	const struct wm_params *all[] = { &wf->params, &t->params };

	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < all[k]->n; i++) {
			wm_autofree char *d = wm_param_describe(&all[k]->v[i]);
			fprintf(f, "     param %s\n", d);
		}
	}
}

/* Exposure scores already computed, by policy: tasks share a handful of
 * policies, and scoring one walks every system call. */
struct exposures {
	const struct wm_policy *p[16];
	double v[16];
	size_t n;
};

/* The task's exposure score (`wm policy score`). */
static double exposure(struct exposures *memo, const struct wm_policy *p)
{
	struct wm_policy_score s;

	for (size_t i = 0; i < memo->n; i++)
		if (memo->p[i] == p)
			return memo->v[i];
	wm_policy_score(p, &s, NULL);
	if (memo->n < sizeof memo->p / sizeof memo->p[0]) {
		memo->p[memo->n] = p;
		memo->v[memo->n++] = s.total;
	}
	return s.total;
}

static void print_text(const struct wm_workflow *wf, const struct wm_dag *g,
		       const struct wm_task_policies *tp, FILE *f)
{
	struct exposures memo = { .n = 0 };

	fprintf(f, "workflow %s (%s): %zu task%s, policy %s, ", wf->name, wf->path, wf->n_tasks,
		wf->n_tasks == 1 ? "" : "s", wm_task_policy(wf, NULL));
	if (wf->max_parallel)
		fprintf(f, "max_parallel %u\n", wf->max_parallel);
	else
		fputs("max_parallel = CPUs\n", f);
	for (size_t k = 0; k < g->n; k++) {
		const struct wm_task *t = &wf->tasks[g->order[k]];
		const size_t *deps = wm_dag_deps(g, g->order[k]);

		fprintf(f, "%3zu. %s", k + 1, t->id);
		if (!t->body.lang)
			fputs(" (join)", f);
		fprintf(f, "\n     policy %s (exposure %.1f)", tp->policy[g->order[k]]->name,
			exposure(&memo, tp->policy[g->order[k]]));
		print_duration(f, "timeout", t->timeout_ms, "(policy's)");
		fprintf(f, "  retries %u", t->retries);
		if (t->retries)
			print_duration(f, "backoff", t->backoff_ms, NULL);
		print_duration(f, "sla", t->sla.ms[WM_SLA_WARN], NULL);
		print_duration(f, "sla notify", t->sla.ms[WM_SLA_NOTIFY], NULL);
		print_duration(f, "sla cancel", t->sla.ms[WM_SLA_CANCEL], NULL);
		if (t->priority != WM_PRIO_MEDIUM)
			fprintf(f, "  priority %s", wm_priority_name(t->priority));
		if (t->condition != WM_COND_SUCCESS)
			fprintf(f, "  condition %s", wm_condition_name(t->condition));
		if (t->rollback.lang)
			fputs("  rollback", f);
		fputc('\n', f);
		print_params(wf, t, f);
		if (wm_dag_n_deps(g, g->order[k])) {
			fputs("     after", f);
			for (size_t e = 0; e < wm_dag_n_deps(g, g->order[k]); e++)
				fprintf(f, "%s %s", e ? "," : "", wf->tasks[deps[e]].id);
			fputc('\n', f);
		}
	}
}

static void dot_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A matrix's instances (next to each other in the task list) go in one
 * cluster: closes the one of the previous task's matrix, opens the next's. */
static void dot_cluster(FILE *f, const char *prev, const char *next)
{
	wm_autofree char *name = NULL;

	if (prev && next && strcmp(prev, next) == 0)
		return;
	if (prev)
		fputs("\t}\n", f);
	if (!next)
		return;
	name = wm_xasprintf("cluster_%s", next);
	fputs("\tsubgraph ", f);
	dot_quoted(f, name);
	fputs(" {\n\t\tlabel=", f);
	dot_quoted(f, next);
	fputs(";\n", f);
}

static void print_dot(const struct wm_workflow *wf, const struct wm_dag *g,
		      const struct wm_task_policies *tp, FILE *f)
{
	fputs("digraph ", f);
	dot_quoted(f, wf->name);
	fputs(" {\n\trankdir=LR;\n\tnode [shape=box];\n", f);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		const struct wm_task *t = &wf->tasks[i];
		const char *group = i ? wf->tasks[i - 1].matrix_of : NULL;
		wm_autofree char *label = NULL;

		dot_cluster(f, group, t->matrix_of);
		label = wm_xasprintf("%s\n%s", t->id, tp->policy[i]->name);
		fputs(t->matrix_of ? "\t\t" : "\t", f);
		dot_quoted(f, t->id);
		fputs(" [label=", f);
		dot_quoted(f, label);
		if (!t->body.lang)
			fputs(", shape=diamond", f);
		fputs("];\n", f);
	}
	dot_cluster(f, wf->n_tasks ? wf->tasks[wf->n_tasks - 1].matrix_of : NULL, NULL);
	for (size_t i = 0; i < wf->n_tasks; i++) {
		for (size_t e = 0; e < wm_dag_n_deps(g, i); e++) {
			fputc('\t', f);
			dot_quoted(f, wf->tasks[wm_dag_deps(g, i)[e]].id);
			fputs(" -> ", f);
			dot_quoted(f, wf->tasks[i].id);
			fputs(";\n", f);
		}
	}
	fputs("}\n", f);
}

/* A JSON string even from bytes that are not UTF-8 (headings and scripts
 * are user text): such bytes become '?'. New reference. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = wm_xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* New references throughout; json_object_set_new/json_array_append_new steal them. */
static json_t *json_strv(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

static json_t *json_env(char *const *v)
{
	json_t *o = json_object();

	for (size_t i = 0; v && v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		wm_autofree char *k = wm_xstrndup(v[i], (size_t)(eq - v[i]));
		json_object_set_new(o, k, jstr(eq + 1));
	}
	return o;
}

static json_t *json_opt_str(const char *s)
{
	return s ? jstr(s) : json_null();
}

/* [{"name", "type", "default", "required", "choices"?, "help"?}], the
 * workflow's parameters first. */
static json_t *json_params(const struct wm_workflow *wf, const struct wm_task *t)
{
	const struct wm_params *all[] = { &wf->params, &t->params };
	json_t *a = json_array();

	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < all[k]->n; i++) {
			const struct wm_param *p = &all[k]->v[i];
			json_t *o = json_pack("{s:o, s:s, s:o, s:b}", "name", jstr(p->name), "type",
					      wm_param_type_name(p->type), "default",
					      json_opt_str(p->def), "required", p->def == NULL);

			if (p->choices)
				json_object_set_new(o, "choices", json_strv(p->choices));
			if (p->help)
				json_object_set_new(o, "help", jstr(p->help));
			json_array_append_new(a, o);
		}
	}
	return a;
}

static json_t *json_task(const struct wm_workflow *wf, const struct wm_dag *g,
			 const struct wm_task_policies *tp, struct exposures *memo, size_t i)
{
	const struct wm_task *t = &wf->tasks[i];
	json_t *o = json_object(), *deps = json_array();

	for (size_t e = 0; e < wm_dag_n_deps(g, i); e++)
		json_array_append_new(deps, json_string(wf->tasks[wm_dag_deps(g, i)[e]].id));
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "title", jstr(t->title));
	json_object_set_new(o, "line", json_integer(t->loc.line));
	json_object_set_new(o, "depends", deps);
	json_object_set_new(o, "policy", jstr(tp->policy[i]->name));
	json_object_set_new(o, "exposure",
			    json_real(wm_score_shown(exposure(memo, tp->policy[i]))));
	json_object_set_new(o, "timeout_ms", json_integer((json_int_t)t->timeout_ms));
	json_object_set_new(o, "retries", json_integer(t->retries));
	json_object_set_new(o, "backoff_ms", json_integer((json_int_t)t->backoff_ms));
	json_object_set_new(o, "priority", json_string(wm_priority_name(t->priority)));
	json_object_set_new(o, "condition", json_string(wm_condition_name(t->condition)));
	json_object_set_new(o, "only_if", json_opt_str(t->only_if));
	json_object_set_new(o, "env", json_env(t->env));
	json_object_set_new(o, "workdir", json_opt_str(t->workdir));
	json_object_set_new(o, "sla_ms", json_integer((json_int_t)t->sla.ms[WM_SLA_WARN]));
	json_object_set_new(o, "sla", json_sla(&t->sla));
	json_object_set_new(o, "outputs", json_strv(t->outputs));
	json_object_set_new(o, "params", json_params(wf, t));
	json_object_set_new(o, "lang", json_opt_str(t->body.lang));
	json_object_set_new(o, "argv", t->body.lang ? json_strv(t->body.argv) : json_null());
	json_object_set_new(o, "has_rollback", json_boolean(t->rollback.lang != NULL));
	json_object_set_new(o, "chain", json_integer((json_int_t)g->chain[i]));
	if (t->matrix_of) { /* axis=value pairs read as NAME=VALUE */
		json_object_set_new(o, "matrix", json_env(t->matrix));
		json_object_set_new(o, "matrix_of", json_string(t->matrix_of));
	}
	return o;
}

/* [{"file", "line", "col", "severity", "message", "level"}], in file order. */
static json_t *json_findings(const struct wm_diags *d)
{
	json_t *a = json_array();

	for (size_t k = 0; k < d->n; k++) {
		const struct wm_diag *dg = &d->v[k];

		json_array_append_new(a, json_pack("{s:o, s:i, s:i, s:s, s:o, s:s}", "file",
						   json_opt_str(dg->file), "line", dg->line, "col",
						   dg->col, "severity",
						   dg->level == WM_DIAG_ERROR ? "error" : "warning",
						   "message", jstr(dg->msg), "level",
						   wm_level_name(wm_level_of_diag(dg))));
	}
	return a;
}

static int print_json(const struct wm_workflow *wf, const struct wm_dag *g,
		      const struct wm_task_policies *tp, enum wm_level level,
		      const struct wm_diags *d, FILE *f)
{
	json_t *root = json_object(), *w = json_object(), *tasks = json_array(),
	       *order = json_array();
	struct exposures memo = { .n = 0 };
	int rc;

	json_object_set_new(w, "name", jstr(wf->name));
	json_object_set_new(w, "path", jstr(wf->path));
	json_object_set_new(w, "policy", jstr(wm_task_policy(wf, NULL)));
	json_object_set_new(w, "policies", json_opt_str(wf->policies_file));
	json_object_set_new(w, "max_parallel", json_integer(wf->max_parallel));
	json_object_set_new(w, "keep_going", json_boolean(wf->keep_going));
	json_object_set_new(w, "rollback", json_string(wm_rollback_name(wf->rollback)));
	json_object_set_new(w, "env", json_env(wf->env));
	json_object_set_new(w, "secrets", json_strv(wf->secrets)); /* names: values never */
	for (size_t i = 0; i < wf->n_tasks; i++)
		json_array_append_new(tasks, json_task(wf, g, tp, &memo, i));
	for (size_t k = 0; k < g->n; k++)
		json_array_append_new(order, json_string(wf->tasks[g->order[k]].id));
	json_object_set_new(root, "format", json_string("wm-plan"));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "workflow", w);
	json_object_set_new(root, "tasks", tasks);
	json_object_set_new(root, "order", order);
	json_object_set_new(root, "level", json_string(wm_level_name(level)));
	json_object_set_new(root, "findings", json_findings(d));
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	fputc('\n', f);
	json_decref(root);
	return rc;
}

static int parse_format(const char *s, enum plan_format *fmt)
{
	if (strcmp(s, "text") == 0)
		*fmt = FMT_TEXT;
	else if (strcmp(s, "dot") == 0)
		*fmt = FMT_DOT;
	else if (strcmp(s, "json") == 0)
		*fmt = FMT_JSON;
	else
		return -1;
	return 0;
}

/* Every task's policy, resolved as `wm run` does it (the workflow's policy
 * search order, the user's floor and --policy). */
static int resolve_policies(const struct wm_workflow *wf, const char *cli_policy,
			    struct wm_policy_set **set, struct wm_task_policies *tp,
			    struct wm_diags *d, struct wm_error **err)
{
	*set = wm_policy_set_load_search(NULL, wf->policies_file, d, err);
	if (!*set)
		return *err ? -1 : 0;
	if (wm_floor_resolve(wf, *set, cli_policy, tp, d, err) < 0 && *err)
		return -1;
	return 0;
}

/* The checks of the level asked for, raised to the workflow's own; returns
 * the level checked. */
static enum wm_level check_level(const struct wm_workflow *wf, const struct wm_policy_set *set,
				 const struct wm_task_policies *tp, enum wm_level asked,
				 struct wm_diags *d)
{
	struct wm_level_input in = { .wf = wf, .policy = tp->policy, .set = set };
	enum wm_level l = wm_level_effective(asked, wf);

	wm_levels_check(&in, l, d);
	return l;
}

/* --explain: for each task, whether the next `wm run FILE` would reuse its
 * cached result, and why it would run otherwise. */
static int explain(const char *file, const char *cli_policy, const struct wm_cli *cli, bool json,
		   struct wm_error **err)
{
	struct wm_run_options o = { .policy = cli_policy };
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_prepared p;
	struct wm_taskcache_config c = { .state_dir = cli->state_dir, .p = &p };
	struct wm_taskcache *tc = NULL;
	wm_autostrv char **why = NULL;
	wm_autofree bool *hit = NULL;
	json_t *a = json ? json_array() : NULL;
	int rc = -1;

	if (wm_prepare(file, &o, &p, &d, err) < 0) {
		wm_diags_sort(&d);
		wm_diags_print(&d, stderr);
		wm_diags_release(&d);
		json_decref(a);
		return *err ? -1 : WM_EXIT_USAGE;
	}
	wm_diags_release(&d);
	/* No task caching: no cache to read. */
	tc = wm_taskcache_new(&c, err);
	if ((!tc && *err) || (tc && wm_taskcache_explain(tc, &why, &hit, err) < 0))
		goto out;
	for (size_t k = 0; k < p.wf->n_tasks; k++) {
		size_t i = p.wf->dag->order[k];
		const char *w = why ? why[i] : "caching off";

		if (a)
			json_array_append_new(a, json_pack("{s:s, s:b, s:s}", "task",
							   p.wf->tasks[i].id, "cached",
							   hit && hit[i], "why", w));
		else
			printf("%-24s %-7s %s\n", p.wf->tasks[i].id,
			       hit && hit[i] ? "cached" : "runs", w);
	}
	rc = WM_EXIT_OK;
	if (a && json_dumpf(a, stdout, JSON_INDENT(2)) < 0)
		rc = wm_error_set(err, 0, "cannot write the plan");
	if (a)
		putchar('\n');
out:
	json_decref(a);
	wm_taskcache_free(tc);
	wm_prepared_release(&p);
	return rc;
}

struct plan_opts {
	enum plan_format fmt;
	const char *policy;
	bool explain;
	enum wm_level level; /* --level, before the workflow's `level:` raises it */
	enum wm_dialect dialect;
};

/* 0, or the usage exit code after saying what was wrong. */
static int parse_opts(int argc, char **argv, struct plan_opts *o)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "explain", no_argument, NULL, 'x' },
		{ "level", required_argument, NULL, 'l' },
		{ "dialect", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		if (opt == 'f' && parse_format(optarg, &o->fmt) == 0)
			continue;
		if (opt == 'p')
			o->policy = optarg;
		else if (opt == 'x')
			o->explain = true;
		else if (opt == 'l' && wm_level_find(optarg) >= 0)
			o->level = (enum wm_level)wm_level_find(optarg);
		else if (opt == 'l')
			return wm_usage_error(
				"plan", "--level is basic, standard, strict or paranoid, not '%s'",
				optarg);
		else if (opt == 'D' && wm_parse_dialect("plan", optarg, &o->dialect) != 0)
			return WM_EXIT_USAGE;
		else if (opt != 'D')
			return opt == 'f' ? wm_usage_error("plan", "unknown format '%s'", optarg)
					  : wm_bad_option("plan", argv, opt, opts);
	}
	if (optind + 1 != argc)
		return wm_usage_error("plan",
				      optind >= argc ? "missing FILE" : "too many arguments");
	if (o->explain && o->fmt == FMT_DOT)
		return wm_usage_error("plan", "--explain is shown as text or json");
	return 0;
}

int wm_cmd_plan(int argc, char **argv, const struct wm_cli *cli, struct wm_error **err)
{
	struct plan_opts o = { .fmt = FMT_TEXT,
			       .level = WM_LEVEL_STANDARD,
			       .dialect = WM_DIALECT_AUTO };
	struct wm_diags d = WM_DIAGS_INIT;
	struct wm_workflow *wf = NULL;
	struct wm_policy_set *set = NULL;
	struct wm_task_policies tp = { 0 };
	int rc = parse_opts(argc, argv, &o);

	if (rc != 0)
		return rc;
	if (o.explain)
		return explain(argv[optind], o.policy, cli, o.fmt == FMT_JSON, err);
	if (wm_workflow_load_in(argv[optind], argv[optind], o.dialect, &wf, &d, err) < 0 && *err) {
		wm_diags_release(&d);
		return -1;
	}
	if (wf)
		wm_check_zone(wf, &d);
	if (wf && resolve_policies(wf, o.policy, &set, &tp, &d, err) < 0) {
		rc = -1;
		goto out;
	}
	if (!wf || !tp.policy || d.n_errors) {
		rc = WM_EXIT_USAGE;
		wm_diags_sort(&d);
		wm_diags_print(&d, stderr);
		goto out;
	}
	o.level = check_level(wf, set, &tp, o.level, &d);
	wm_diags_sort(&d);
	wm_diags_print(&d, stderr);
	wm_floor_print_weak(wf, &tp, stderr);
	if (d.n_errors)
		rc = WM_EXIT_USAGE; /* refused at the level: json still lists the findings */
	if (o.fmt == FMT_TEXT && !d.n_errors)
		print_text(wf, wf->dag, &tp, stdout);
	else if (o.fmt == FMT_DOT && !d.n_errors)
		print_dot(wf, wf->dag, &tp, stdout);
	else if (o.fmt == FMT_JSON && print_json(wf, wf->dag, &tp, o.level, &d, stdout) < 0)
		rc = wm_error_set(err, 0, "cannot write the plan");
out:
	wm_task_policies_release(&tp);
	wm_policy_set_free(set);
	wm_workflow_free(wf);
	wm_diags_release(&d);
	return rc;
}
