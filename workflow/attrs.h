/*
 * attrs.h - the attributes of a task (`- key: value`, SPEC.md section 1),
 * written once.
 *
 * WM_TASK_ATTRS is the only list of them. Each entry is
 *     X(ENUM, key, tag, kind, field, repeat, example, what)
 *   ENUM     names WM_ATTR_<ENUM>
 *   key      as written in the attribute list
 *   tag      its byte in the definition hash's serialization (taskhash.c):
 *            unique, and none of 'B', 'R', 'H', 'V', 'A' (body, rollback,
 *            policy hash, matrix instance values, parameter values)
 *   kind     WM_AK_<kind>: how the value is read, checked, stored and hashed
 *   field    the member of struct wm_task that holds it; its C type must be
 *            the kind's (attrs.c checks this at compile time)
 *   repeat   true when it may be given more than once (values add up)
 *   example  a valid value unlike the default, shown in hints
 *   what     what it does, in a few words, for "did you mean" hints
 *
 * The parser (attrs.c) and the definition hash (taskhash.c) walk this list
 * and switch over the kind without a default, so a kind nobody handles is a
 * compile error; tests/unit/test_workflow_attrs.c checks every entry
 * (example parses, changes the definition hash, tags unique). The order is
 * the hash's: reordering changes every task's hash. Attributes from
 * WM_ATTR_FIRST_OPTIONAL on are hashed only when set, so appending one
 * leaves the hashes of tasks that do not use it as they were.
 */
#ifndef WM_WORKFLOW_ATTRS_H
#define WM_WORKFLOW_ATTRS_H

#include <stdbool.h>
#include <stddef.h>

/* clang-format off */
#define WM_TASK_ATTRS(X) \
	X(ID, "id", 'i', ID, id, false, "build", \
	  "the task's id (default: the heading slugged)") \
	X(DEPENDS, "depends", 'd', IDS, depends, true, "fetch, configure", \
	  "the tasks to wait for, comma-separated") \
	X(POLICY, "policy", 'p', POLICY, policy, false, "hardened", \
	  "the sandbox policy to run under") \
	X(TIMEOUT, "timeout", 'T', DURATION, timeout_ms, false, "2m", \
	  "the time limit of one attempt") \
	X(RETRIES, "retries", 'r', COUNT, retries, false, "3", \
	  "extra attempts after a failure") \
	X(BACKOFF, "backoff", 'b', DURATION, backoff_ms, false, "5s", \
	  "the first delay between attempts") \
	X(PRIORITY, "priority", 'P', PRIORITY, priority, false, "high", \
	  "the order among ready tasks") \
	X(CONDITION, "condition", 'c', CONDITION, condition, false, "always", \
	  "when to run, given how the dependencies ended") \
	X(ONLY_IF, "only_if", 'o', COMMAND, only_if, false, "test -f Makefile", \
	  "a shell command that must succeed for the task to run") \
	X(ENV, "env", 'e', ENV, env, true, "LANG=C.UTF-8", \
	  "an environment variable, NAME=VALUE") \
	X(WORKDIR, "workdir", 'w', DIR, workdir, false, "src", \
	  "the directory to start in, inside the workspace") \
	X(SLA, "sla", 'S', SLA, sla, false, "10m warn, 1h cancel", \
	  "durations past which a breach is recorded, notified or cancels the task") \
	X(OUTPUTS, "outputs", 'O', PATHS, outputs, true, "report.txt", \
	  "files under $WM_OUT that must exist after success") \
	X(EXECUTOR, "executor", 'x', EXECUTOR, executor, false, "slurm", \
	  "where it runs: local or slurm (default: the workflow's)") \
	X(CPUS, "cpus", 'C', COUNT, cpus, false, "4", \
	  "CPUs a cluster job asks for (--cpus-per-task)") \
	X(MEMORY, "memory", 'M', SIZE, memory, false, "8G", \
	  "memory a cluster job asks for (--mem)") \
	X(GPUS, "gpus", 'G', COUNT, gpus, false, "1", \
	  "GPUs a cluster job asks for (--gres=gpu:N)") \
	X(TIME, "time", 'L', DURATION, time_ms, false, "2h", \
	  "a cluster job's wall time (--time; default: from the timeout)") \
	X(MATRIX, "matrix", 'm', MATRIX, matrix_axes, true, "os=debian,alpine", \
	  "one task per combination of the axes' values") \
	X(MATRIX_EXCLUDE, "matrix_exclude", 'E', MATRIX, matrix_exclude, true, "os=alpine", \
	  "drops the matrix combinations matching all its pairs") \
	X(MATRIX_INCLUDE, "matrix_include", 'N', MATRIX, matrix_include, true, "os=fedora", \
	  "adds a combination to the matrix, one value per axis") \
	X(PARAMS, "params", 'Y', PARAMS, params, false, "target, count:int=3", \
	  "parameters given with wm run -p NAME=VALUE") \
	X(TRANSCRIPT, "transcript", 'Z', FLAG, transcript_ok, false, "ok", \
	  "the body is meant as a `$ ` transcript") \
	X(IMAGE, "image", 'I', IMAGE, image, false, "oci:images/alpine:3.20", \
	  "an OCI layout or docker-archive to use as the root filesystem") \
	X(INPUTS, "inputs", 'U', GLOBS, inputs, true, "src/**/*.c, Makefile", \
	  "workspace files whose content the cache key covers") \
	X(CACHE, "cache", 'K', SWITCH, cache, false, "true", \
	  "reuse an earlier run's outputs when nothing changed")
/* clang-format on */

/* clang-format off */
enum wm_attr {
#define WM_ATTR_ENUM(E, ...) WM_ATTR_##E,
	WM_TASK_ATTRS(WM_ATTR_ENUM)
#undef WM_ATTR_ENUM
	WM_ATTR_COUNT
};
/* clang-format on */

/* The first attribute added after definition hashes were first recorded. */
#define WM_ATTR_FIRST_OPTIONAL WM_ATTR_EXECUTOR

/* Value kinds; the C type of the field follows each. */
enum wm_attr_kind {
	WM_AK_ID,	 /* char *: a task id (letters, digits, '.', '_', '-') */
	WM_AK_IDS,	 /* char **: task ids, comma-separated; each one's place goes
			  * to depends_loc (one attribute has this kind) */
	WM_AK_POLICY,	 /* char *: a policy name, resolved later, so its place is
			  * kept in policy_loc (one attribute has this kind) */
	WM_AK_DURATION,	 /* uint64_t: milliseconds, from `500ms`, `90s`, `1h30m` */
	WM_AK_COUNT,	 /* unsigned: a whole number 0..1000 */
	WM_AK_PRIORITY,	 /* enum wm_priority */
	WM_AK_CONDITION, /* enum wm_condition */
	WM_AK_COMMAND,	 /* char *: a shell command */
	WM_AK_ENV,	 /* char **: NAME=VALUE, each name once */
	WM_AK_DIR,	 /* char *: a relative path that stays in the workspace */
	WM_AK_PATHS,	 /* char **: relative paths inside $WM_OUT, comma-separated */
	WM_AK_EXECUTOR,	 /* enum wm_executor_kind */
	WM_AK_SIZE,	 /* uint64_t: bytes, from `512M`, `8G` */
	WM_AK_MATRIX,	 /* struct wm_placed: kept as written, read by matrix.c */
	WM_AK_PARAMS,	 /* struct wm_params: `name[:type][=default]`, comma-separated */
	WM_AK_FLAG,	 /* bool: the value `ok` */
	WM_AK_IMAGE,	 /* char *: oci:PATH[:TAG][@sha256:HEX] or docker-archive:FILE[:NAME:TAG] */
	WM_AK_GLOBS,	 /* char **: globs relative to the workspace, comma-separated */
	WM_AK_SWITCH,	 /* enum wm_switch: `true` or `false` */
	WM_AK_SLA,	 /* struct wm_sla: `10m`, or `10m warn, 30m notify, 1h cancel`;
			  * hashed as a DURATION when only warn is set */
};

struct wm_attr_info {
	const char *key;
	char tag;
	enum wm_attr_kind kind;
	size_t offset; /* of the field in struct wm_task */
	bool repeat;
	const char *example;
	const char *what;
};

/* Indexed by enum wm_attr. */
extern const struct wm_attr_info wm_attrs[WM_ATTR_COUNT];

/* The attribute named `key`, or -1. */
int wm_attr_find(const char *key);

#endif
