/*
 * limits.c - memory, pids and CPU through cgroups, the rest through rlimits.
 *
 * cgroup v2 when our own cgroup's directory is writable and offers the
 * controllers (a delegated subtree); v1 when the memory/pids/cpu hierarchies
 * are writable (as root on hybrid hosts); otherwise rlimits only (RLIMIT_AS
 * stands in for memory, RLIMIT_NPROC for pids). Each sandbox gets its own
 * cgroup, joined by wm before the child is released, removed on free.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"
#include "common/strutil.h"
#include "common/xalloc.h"
#include "sandbox/internal.h"

#define CG_ROOT "/sys/fs/cgroup"

static bool lists(const char *csv, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = csv; s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
		if (strncmp(s, name, n) == 0 && (s[n] == ',' || s[n] == '\0'))
			return true;
	return false;
}

/* Lines of /proc/self/cgroup are "ID:CONTROLLERS:PATH"; v2 is "0::PATH". */
char *sb_cgroup_self(const char *text, const char *controller)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		wm_autofree char *l = wm_xstrndup(line, end ? (size_t)(end - line) : strlen(line));
		char *c1 = strchr(l, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		line = end ? end + 1 : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (controller ? lists(c1 + 1, controller) : (c1 == l + 1 && l[0] == '0' && !c1[1]))
			return wm_xstrdup(strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1);
	}
	return NULL;
}

static char *self_path(const char *controller)
{
	struct wm_buf b = WM_BUF_INIT;
	char *r = NULL;

	if (wm_buf_read_file(&b, "/proc/self/cgroup") == 0)
		r = sb_cgroup_self(b.data, controller);
	wm_buf_release(&b);
	return r;
}

static int write_file(const char *dir, const char *file, const char *value, struct wm_error **err)
{
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, file);
	wm_autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		return wm_error_set(err, errno, "write `%s` to %s", value, path);
	return 0;
}

bool sb_cgroup_lists(const char *list, const char *controller)
{
	return wm_words_contain(list, controller);
}

/* Does `file` in `dir` (cgroup.controllers, cgroup.subtree_control) list
 * `controller`, or memory and pids when it is NULL? */
static bool lists_controllers(const char *dir, const char *file, const char *controller)
{
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, file);
	struct wm_buf b = WM_BUF_INIT;
	bool ok = wm_buf_read_file(&b, path) == 0;

	if (ok && controller)
		ok = sb_cgroup_lists(b.data, controller);
	else if (ok)
		ok = sb_cgroup_lists(b.data, "memory") && sb_cgroup_lists(b.data, "pids");
	wm_buf_release(&b);
	return ok;
}

static bool may_write(const char *dir, const char *file)
{
	wm_autofree char *path = wm_xasprintf("%s/%s", dir, file);

	return access(dir, W_OK) == 0 && access(path, W_OK) == 0;
}

/*
 * The cgroup v2 directory sandboxes are made in: the nearest cgroup at or
 * above our own (below `mount`) that we may write, whose children get
 * memory and pids, and whose cgroup.procs we may write (moving a process
 * needs that on the common ancestor of where it is and where it goes,
 * which is this cgroup). Rootless, that is a delegated subtree: the
 * user's systemd instance (user@UID.service) and what it starts, e.g.
 * `systemd-run --user --scope -p Delegate=yes wm run ...`. Our own cgroup
 * qualifies only once its controllers are on, which the kernel allows when
 * no process is in it but the root's.
 */
char *sb_cgroup_v2_parent(const char *mount, const char *self)
{
	static const char *const wanted[] = { "+memory", "+pids", "+cpu" };
	wm_autofree char *dir = wm_xasprintf("%s%s", mount, self);

	/* Best effort: a delegated cgroup of ours may only need them on. One
	 * at a time: the kernel refuses a whole line naming one it does not
	 * offer, and a subtree without cpu still limits memory and pids. */
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		write_file(dir, "cgroup.subtree_control", wanted[i], NULL);
	for (;;) {
		char *slash;

		if (lists_controllers(dir, "cgroup.subtree_control", NULL) &&
		    may_write(dir, "cgroup.procs"))
			return wm_steal(&dir);
		slash = strrchr(dir, '/');
		if (!slash || strlen(dir) <= strlen(mount))
			return NULL;
		*slash = '\0';
	}
}

static char *v2_dir(void)
{
	wm_autofree char *self = self_path(NULL);
	const char *mounts[] = { CG_ROOT, CG_ROOT "/unified" };

	if (!self)
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		wm_autofree char *type = wm_xasprintf("%s/cgroup.controllers", mounts[i]);

		if (access(type, F_OK) != 0 ||
		    !lists_controllers(mounts[i], "cgroup.controllers", NULL))
			continue;
		return sb_cgroup_v2_parent(mounts[i], self);
	}
	return NULL;
}

static char *v1_dir(const char *controller)
{
	wm_autofree char *self = self_path(controller);
	char *dir;

	if (!self)
		return NULL;
	dir = wm_xasprintf(CG_ROOT "/%s%s", controller, self);
	if (access(dir, W_OK) == 0)
		return dir;
	free(dir);
	return NULL;
}

enum sb_cg_mode sb_cgroup_detect(void)
{
	wm_autofree char *v2 = v2_dir();
	wm_autofree char *mem = NULL;
	wm_autofree char *pids = NULL;

	if (v2)
		return SB_CG_V2;
	mem = v1_dir("memory");
	pids = v1_dir("pids");
	return mem && pids ? SB_CG_V1 : SB_CG_NONE;
}

static char *unique_name(void)
{
	static unsigned counter;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return wm_xasprintf("wm-%d-%u-%lx", (int)getpid(), ++counter, (unsigned long)ts.tv_nsec);
}

static char *make_child(const char *parent, const char *name, struct wm_error **err)
{
	char *dir = wm_xasprintf("%s/%s", parent, name);

	if (mkdir(dir, 0755) != 0) {
		wm_error_set(err, errno, "create cgroup %s", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

static int create_v2(const struct wm_policy *p, struct sb_cgroup *cg, const char *name,
		     struct wm_error **err)
{
	wm_autofree char *parent = v2_dir();
	char val[64];

	if (!parent)
		return wm_error_set(err, ENOTSUP, "no writable cgroup v2 subtree");
	cg->v2 = make_child(parent, name, err);
	if (!cg->v2)
		return -1;
	if (p->limits.memory) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)p->limits.memory);
		if (write_file(cg->v2, "memory.max", val, err) < 0)
			return -1;
		write_file(cg->v2, "memory.swap.max", "0", NULL);
	}
	if (p->limits.pids) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)p->limits.pids);
		if (write_file(cg->v2, "pids.max", val, err) < 0)
			return -1;
	}
	if (p->limits.cpu > 0) {
		snprintf(val, sizeof(val), "%llu 100000",
			 (unsigned long long)(p->limits.cpu * 100000));
		write_file(cg->v2, "cpu.max", val, NULL);
	}
	return 0;
}

static int create_v1(const struct wm_policy *p, struct sb_cgroup *cg, const char *name,
		     struct wm_error **err)
{
	wm_autofree char *mem = v1_dir("memory");
	wm_autofree char *pids = v1_dir("pids");
	wm_autofree char *cpu = v1_dir("cpu");
	char val[64];

	if (p->limits.memory && mem) {
		cg->memory = make_child(mem, name, err);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)p->limits.memory);
		if (!cg->memory || write_file(cg->memory, "memory.limit_in_bytes", val, err) < 0)
			return -1;
		write_file(cg->memory, "memory.memsw.limit_in_bytes", val, NULL);
		write_file(cg->memory, "memory.swappiness", "0", NULL);
	}
	if (p->limits.pids && pids) {
		cg->pids = make_child(pids, name, err);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)p->limits.pids);
		if (!cg->pids || write_file(cg->pids, "pids.max", val, err) < 0)
			return -1;
	}
	if (p->limits.cpu > 0 && cpu) {
		cg->cpu = make_child(cpu, name, err);
		snprintf(val, sizeof(val), "%lld", (long long)(p->limits.cpu * 100000));
		if (!cg->cpu || write_file(cg->cpu, "cpu.cfs_period_us", "100000", err) < 0 ||
		    write_file(cg->cpu, "cpu.cfs_quota_us", val, err) < 0)
			return -1;
	}
	return 0;
}

static bool v1_has(const char *controller)
{
	wm_autofree char *dir = v1_dir(controller);

	return dir != NULL;
}

bool sb_cgroup_cpu_ok(enum sb_cg_mode mode)
{
	wm_autofree char *dir = NULL;

	if (mode == SB_CG_V1)
		return v1_has("cpu");
	if (mode != SB_CG_V2)
		return false;
	/* The children of the v2 directory get cpu too? */
	dir = v2_dir();
	return dir && lists_controllers(dir, "cgroup.subtree_control", "cpu");
}

char *sb_limits_unenforced(const struct wm_policy *p)
{
	enum sb_cg_mode mode;
	struct wm_buf b = WM_BUF_INIT;
	bool mem = false, pids = false, cpu = false;

	if (!p->limits.memory && !p->limits.pids && p->limits.cpu <= 0)
		return NULL;
	mode = sb_cgroup_detect();
	if (mode != SB_CG_NONE) {
		/* v1 mode means both memory and pids are writable. */
		mem = pids = true;
		cpu = p->limits.cpu > 0 && sb_cgroup_cpu_ok(mode);
	}
	if (p->limits.memory && !mem)
		wm_buf_addf(&b,
			    "%smemory holds per process only (RLIMIT_AS, memfd pages not counted)",
			    b.len ? ", " : "");
	if (p->limits.pids && !pids)
		wm_buf_addf(&b, "%spids are counted per user, not per task (RLIMIT_NPROC)",
			    b.len ? ", " : "");
	if (p->limits.cpu > 0 && !cpu)
		wm_buf_addf(&b, "%slimits.cpu (%g) is not enforced, cpu time is not limited",
			    b.len ? ", " : "", p->limits.cpu);
	if (!b.len) {
		wm_buf_release(&b);
		return NULL;
	}
	wm_buf_addstr(&b,
		      mode == SB_CG_NONE
			      ? ": no writable cgroup for them here (see wm doctor)"
			      : ": the cgroup wm may write has no cpu controller (see wm doctor)");
	return wm_buf_detach(&b, NULL);
}

int sb_cgroup_create(const struct wm_policy *p, struct sb_cgroup *cg, struct wm_error **err)
{
	wm_autofree char *name = NULL;
	int rc;

	memset(cg, 0, sizeof(*cg));
	if (!p->limits.memory && !p->limits.pids && p->limits.cpu <= 0)
		return 0;
	cg->mode = sb_cgroup_detect();
	if (cg->mode == SB_CG_NONE)
		return 0;
	name = unique_name();
	rc = cg->mode == SB_CG_V2 ? create_v2(p, cg, name, err) : create_v1(p, cg, name, err);
	if (rc < 0) {
		sb_cgroup_destroy(cg);
		return wm_error_wrap(err, "cgroup");
	}
	return 0;
}

/* ---- leftovers of dead orchestrators ---------------------------------------- */

/* Is pid a live wm? A cgroup named after a dead one (or a pid now reused by
 * another program) is a leftover: a SIGKILLed wm never removes its own. */
static bool live_wm(long pid)
{
	char path[64];
	struct wm_buf b = WM_BUF_INIT;
	bool live;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	live = wm_buf_read_file(&b, path) == 0 && strncmp(b.data, "wm\n", 3) == 0;
	wm_buf_release(&b);
	return live;
}

static size_t clean_dir(const char *parent)
{
	DIR *d = parent ? opendir(parent) : NULL;
	struct dirent *e;
	size_t removed = 0;

	while (d && (e = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(e->d_name, "wm-", 3) != 0)
			continue;
		pid = strtol(e->d_name + 3, &end, 10);
		if (pid <= 0 || *end != '-' || (pid == (long)getpid()) || live_wm(pid))
			continue;
		/* rmdir removes only an empty cgroup: nothing running is touched. */
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	return removed;
}

size_t sb_cgroup_clean_leftovers(void)
{
	const char *controllers[] = { "memory", "pids", "cpu" };
	wm_autofree char *v2 = v2_dir();
	size_t removed = clean_dir(v2);

	for (size_t i = 0; i < 3; i++) {
		wm_autofree char *dir = v1_dir(controllers[i]);

		removed += clean_dir(dir);
	}
	return removed;
}

int sb_cgroup_join(const struct sb_cgroup *cg, pid_t pid, struct wm_error **err)
{
	const char *dirs[] = { cg->v2, cg->memory, cg->pids, cg->cpu };
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < 4; i++)
		if (dirs[i] && write_file(dirs[i], "cgroup.procs", val, err) < 0)
			return -1;
	return 0;
}

/* The number after `key` in a "key value" file, 0 when absent. */
static uint64_t read_key(const char *dir, const char *file, const char *key)
{
	wm_autofree char *path = NULL;
	struct wm_buf b = WM_BUF_INIT;
	uint64_t v = 0;

	if (!dir)
		return 0;
	path = wm_xasprintf("%s/%s", dir, file);
	if (wm_buf_read_file(&b, path) == 0) {
		size_t klen = strlen(key);

		for (char *l = b.data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			if (klen == 0) {
				v = strtoull(l, NULL, 10);
				break;
			}
			if (strncmp(l, key, klen) == 0 && l[klen] == ' ') {
				v = strtoull(l + klen + 1, NULL, 10);
				break;
			}
		}
	}
	wm_buf_release(&b);
	return v;
}

enum wm_limit sb_cgroup_limit_hit(const struct sb_cgroup *cg)
{
	if (cg->mode == SB_CG_V2) {
		if (read_key(cg->v2, "memory.events", "oom_kill"))
			return WM_LIMIT_MEMORY;
		if (read_key(cg->v2, "pids.events", "max"))
			return WM_LIMIT_PIDS;
	} else if (cg->mode == SB_CG_V1) {
		if (read_key(cg->memory, "memory.oom_control", "oom_kill"))
			return WM_LIMIT_MEMORY;
		if (read_key(cg->pids, "pids.events", "max"))
			return WM_LIMIT_PIDS;
	}
	return WM_LIMIT_NONE;
}

uint64_t sb_cgroup_peak(const struct sb_cgroup *cg)
{
	if (cg->mode == SB_CG_V2)
		return read_key(cg->v2, "memory.peak", "");
	return read_key(cg->memory, "memory.max_usage_in_bytes", "");
}

/* The tree is gone when this runs, but the kernel may still be tearing the
 * last tasks down: retry briefly before leaving an empty cgroup behind. */
static void remove_dir(char **dir)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	if (!*dir)
		return;
	for (int i = 0; i < 250 && rmdir(*dir) != 0 && errno == EBUSY; i++)
		nanosleep(&ts, NULL);
	free(*dir);
	*dir = NULL;
}

void sb_cgroup_destroy(struct sb_cgroup *cg)
{
	remove_dir(&cg->v2);
	remove_dir(&cg->memory);
	remove_dir(&cg->pids);
	remove_dir(&cg->cpu);
	cg->mode = SB_CG_NONE;
}

static int set_rlimit(int res, uint64_t v, const char *name, struct sb_fail *f)
{
	struct rlimit rl = { (rlim_t)v, (rlim_t)v };
	struct rlimit cur;

	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max > cur.rlim_max)
		rl.rlim_cur = rl.rlim_max = cur.rlim_max;
	if (setrlimit(res, &rl) != 0)
		return sb_failf(f, errno, "set %s limit", name);
	return 0;
}

int sb_rlimits_apply(const struct wm_policy *p, bool have_cgroup, struct sb_fail *f)
{
	const __typeof__(p->limits) *l = &p->limits;

	if (l->nofile && set_rlimit(RLIMIT_NOFILE, l->nofile, "nofile", f) < 0)
		return -1;
	if (l->fsize && set_rlimit(RLIMIT_FSIZE, l->fsize, "fsize", f) < 0)
		return -1;
	if (set_rlimit(RLIMIT_CORE, l->core, "core", f) < 0)
		return -1;
	if (have_cgroup)
		return 0;
	if (l->memory && set_rlimit(RLIMIT_AS, l->memory, "memory (address space)", f) < 0)
		return -1;
	if (l->pids && set_rlimit(RLIMIT_NPROC, l->pids, "pids (nproc)", f) < 0)
		return -1;
	return 0;
}
