/*
 * fm_cluster.c - the front matter's `executor` (where tasks run by
 * default) and `slurm` map (how they are submitted there).
 */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "workflow/fm_internal.h"

static const char *const slurm_keys[] = { "partition", "account", "qos", "extra", "max_queued" };
#define N_SLURM_KEYS (sizeof(slurm_keys) / sizeof(slurm_keys[0]))

/* sbatch options a workflow may add. Not those wm sets or watches by
 * (--output, --job-name, --parsable, --chdir, --wrap, --dependency ...),
 * nor those that run something else (--uid, --get-user-env). */
static const char *const extra_allowed[] = {
	"--constraint",	      "--exclusive",	    "--nodelist", "--exclude", "--reservation",
	"--licenses",	      "--mem-per-cpu",	    "--ntasks",	  "--nodes",   "--tmp",
	"--gpus-per-task",    "--comment",	    "--wckey",	  "--nice",    "--hint",
	"--cores-per-socket", "--threads-per-core", NULL,
};

bool wm_slurm_extra_allowed(const char *option)
{
	size_t len = strcspn(option, "=");

	for (size_t i = 0; extra_allowed[i]; i++)
		if (strlen(extra_allowed[i]) == len && strncmp(option, extra_allowed[i], len) == 0)
			return true;
	return false;
}

void wf_fm_executor(struct wf_ctx *c, yaml_node_t *v)
{
	const char *s = wf_fm_scalar(v);
	int k = s ? wf_choice_find(&wf_executors, s) : -1;
	wm_autofree char *all = NULL;

	if (k >= 0) {
		c->wf->executor = (enum wm_executor_kind)(k + 1);
		return;
	}
	all = wf_choice_list(&wf_executors);
	wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
	       "front matter `executor` must be %s, not `%s`", all, s ? s : wf_fm_kind(v));
}

static void set_text(struct wf_ctx *c, const char *key, yaml_node_t *v, char **dst)
{
	wm_autofree char *what = wm_xasprintf("slurm.%s", key);
	const char *s = wf_fm_string(c, what, v);

	if (!s)
		return;
	free(*dst);
	*dst = wm_xstrdup(s);
}

static void set_max_queued(struct wf_ctx *c, yaml_node_t *v)
{
	unsigned long n = wf_fm_whole(c, "slurm.max_queued", v, 100000);

	if (n)
		c->wf->slurm.max_queued = (unsigned)n;
}

/* `extra: [--constraint=gpu, --exclusive]`: each option on the allowlist. */
static void set_extra(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	size_t n = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "slurm.extra must be a list of sbatch options, e.g. [--exclusive]");
		return;
	}
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *o = yaml_document_get_node(doc, *i);
		const char *s = wf_fm_scalar(o);

		if (!s || strncmp(s, "--", 2) != 0) {
			wf_err(c, wf_fm_line(&o->start_mark), wf_fm_col(&o->start_mark),
			       "slurm.extra: `%s` is not a long sbatch option (--name=value)",
			       s ? s : wf_fm_kind(o));
			continue;
		}
		if (!wm_slurm_extra_allowed(s)) {
			wf_err(c, wf_fm_line(&o->start_mark), wf_fm_col(&o->start_mark),
			       "slurm.extra: `%.*s` is not allowed (wm sets the job's name, output "
			       "and directory itself); allowed: --constraint, --exclusive, "
			       "--nodelist, --exclude, --reservation, --licenses, --mem-per-cpu, "
			       "--ntasks, --nodes, --tmp, --gpus-per-task, --comment, --wckey, "
			       "--nice, --hint, --cores-per-socket, --threads-per-core",
			       (int)strcspn(s, "="), s);
			continue;
		}
		wm_strv_push(&c->wf->slurm.extra, &n, s);
	}
}

static void slurm_key(struct wf_ctx *c, yaml_document_t *doc, const char *key, yaml_node_t *v)
{
	if (strcmp(key, "partition") == 0)
		set_text(c, key, v, &c->wf->slurm.partition);
	else if (strcmp(key, "account") == 0)
		set_text(c, key, v, &c->wf->slurm.account);
	else if (strcmp(key, "qos") == 0)
		set_text(c, key, v, &c->wf->slurm.qos);
	else if (strcmp(key, "extra") == 0)
		set_extra(c, doc, v);
	else
		set_max_queued(c, v);
}

void wf_fm_slurm(struct wf_ctx *c, yaml_document_t *doc, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE) {
		wf_err(c, wf_fm_line(&v->start_mark), wf_fm_col(&v->start_mark),
		       "front matter `slurm` must be a mapping (partition, account, qos, "
		       "extra, max_queued)");
		return;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		const char *key = wf_fm_scalar(k);
		const char *hint;
		size_t i;

		for (i = 0; key && i < N_SLURM_KEYS; i++)
			if (strcmp(key, slurm_keys[i]) == 0)
				break;
		if (key && i < N_SLURM_KEYS) {
			slurm_key(c, doc, key, yaml_document_get_node(doc, p->value));
			continue;
		}
		hint = key ? wm_suggest(key, slurm_keys, N_SLURM_KEYS) : NULL;
		wf_err(c, wf_fm_line(&k->start_mark), wf_fm_col(&k->start_mark),
		       "unknown key `slurm.%s`%s%s%s", key ? key : wf_fm_kind(k),
		       hint ? " (did you mean `"
			    : " (known: partition, account, qos, extra, "
			      "max_queued)",
		       hint ? hint : "", hint ? "`?)" : "");
	}
}
