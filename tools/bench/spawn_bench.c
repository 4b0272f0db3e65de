/*
 * spawn_bench.c - compiled by tools/bench/spawn against build/libwm.a.
 * Alternates, N times: wm_sandbox_run() of /bin/true under `standard` from
 * a running process (what the scheduler does per task), the `wm sandbox`
 * command, bwrap and unshare; prints medians and ratios.
 */
#include <spawn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "orchestrator/runner.h"
#include "policies/policies.h"
#include "sandbox/sandbox.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double run_cmd(char *const *argv)
{
	double t = now_ms();
	pid_t pid;
	int st;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		exit(1);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "%s failed\n", argv[0]);
		exit(1);
	}
	return now_ms() - t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Filter compilation (empty cache) against loading a cached one. The
 * cache's entries are MAC'd with a key derived from a state directory's
 * audit key, as `wm run` does: one of our own, in the working directory. */
static void filter_cost(const struct wm_policy *p)
{
	double cold[10], warm[10];
	char dir[64];

	wm_use_filter_cache("bench-state");

	for (int i = 0; i < 10; i++) {
		struct wm_sandbox_profile *prof = NULL;
		struct wm_error *err = NULL;
		double t;

		snprintf(dir, sizeof(dir), "/tmp/wm-bench-cache-%d-%d", (int)getpid(), i);
		setenv("XDG_CACHE_HOME", dir, 1);
		t = now_ms();
		if (wm_sandbox_profile_new(p, &prof, &err) < 0)
			exit(1);
		cold[i] = now_ms() - t;
		wm_sandbox_profile_free(prof);
		t = now_ms();
		if (wm_sandbox_profile_new(p, &prof, &err) < 0)
			exit(1);
		warm[i] = now_ms() - t;
		wm_sandbox_profile_free(prof);
	}
	unsetenv("XDG_CACHE_HOME");
	printf("filter of `%s`: compile %.2f ms, load from cache %.2f ms (median of 10)\n", p->name,
	       median(cold, 10), median(warm, 10));
}

/* Runs a and b alternately n times each, with quiet_fd (1 or 2) sent to
 * /dev/null meanwhile, their times into ta and tb. */
static void alternate(char **a, char **b, int n, int quiet_fd, double *ta, double *tb)
{
	int devnull = open("/dev/null", O_WRONLY);
	int saved = dup(quiet_fd);

	dup2(devnull, quiet_fd);
	for (int i = 0; i < n; i++) {
		ta[i] = run_cmd(a);
		tb[i] = run_cmd(b);
	}
	dup2(saved, quiet_fd);
	close(saved);
	close(devnull);
}

/* `wm --version` against a C program that does nothing: what starting wm
 * costs before any work (the dynamic loader, mostly). */
static void startup(char *wm, char *empty, int n)
{
	char *version[] = { wm, "--version", NULL };
	char *nothing[] = { empty, NULL };
	double *w = calloc(n, sizeof(double)), *e = calloc(n, sizeof(double));

	alternate(version, nothing, n, 1, w, e);
	printf("startup: wm --version %.2f ms, an empty C program %.2f ms: ratio %.2f (<= 1.5 "
	       "wanted)\n",
	       median(w, n), median(e, n), median(w, n) / median(e, n));
	free(w);
	free(e);
}

/* The command and bwrap as an unprivileged user, both started the same way
 * (setpriv, then env for a HOME of its own). */
static void rootless(char *wm, char *home, char **bwrap, int n)
{
	char env_home[4200];
	char *pre[] = { "/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
			"--clear-groups",   "/usr/bin/env",   env_home };
	char *cli[16], *bw[32];
	size_t k = 0, m = 0;
	double *c = calloc(n, sizeof(double)), *b = calloc(n, sizeof(double));

	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		cli[k++] = pre[i], bw[m++] = pre[i];
	cli[k++] = wm, cli[k++] = "sandbox", cli[k++] = "--policy", cli[k++] = "standard";
	cli[k++] = "--", cli[k++] = "/bin/true", cli[k] = NULL;
	for (size_t i = 0; bwrap[i]; i++)
		bw[m++] = bwrap[i];
	bw[m] = NULL;
	/* wm says once per run that nobody has no writable cgroup here. */
	alternate(cli, bw, n, 2, c, b);
	printf("rootless: wm sandbox %.2f ms, bwrap %.2f ms: command/bwrap %.2f\n", median(c, n),
	       median(b, n), median(c, n) / median(b, n));
	free(c);
	free(b);
}

int main(int argc, char **argv)
{
	char *wm = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 100;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: spawn_bench WM [N >= 1] [EMPTY-PROGRAM [NOBODY-HOME]]\n");
		return 2;
	}
	char *cli[] = { wm, "sandbox", "--policy", "standard", "--", "/bin/true", NULL };
	char *bwrap[] = { "/usr/bin/bwrap",
			  "--unshare-all",
			  "--die-with-parent",
			  "--new-session",
			  "--ro-bind",
			  "/",
			  "/",
			  "--dev",
			  "/dev",
			  "--proc",
			  "/proc",
			  "--tmpfs",
			  "/tmp",
			  "/bin/true",
			  NULL };
	char *unshare[] = { "/usr/bin/unshare",
			    "--user",
			    "--map-root-user",
			    "--pid",
			    "--mount",
			    "--net",
			    "--ipc",
			    "--uts",
			    "--fork",
			    "/bin/true",
			    NULL };
	char *tru[] = { "/bin/true", NULL };
	struct wm_policy_set *set = wm_policy_set_new();
	struct wm_sandbox_profile *prof = NULL;
	struct wm_error *err = NULL;
	struct wm_sandbox_spec spec = {
		.argv = tru, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1
	};
	double *lib = calloc(n, sizeof(double)), *c = calloc(n, sizeof(double));
	double *b = calloc(n, sizeof(double)), *u = calloc(n, sizeof(double));
	double mp, mc, mb, mu, t;

	filter_cost(wm_policy_set_get(set, "standard"));
	if (wm_sandbox_profile_new(wm_policy_set_get(set, "standard"), &prof, &err) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		struct wm_sandbox_result res;

		t = now_ms();
		if (wm_sandbox_run(prof, &spec, &res, &err) < 0 || res.status != 0)
			return 1;
		lib[i] = now_ms() - t;
		wm_sandbox_result_release(&res);
		c[i] = run_cmd(cli);
		b[i] = run_cmd(bwrap);
		u[i] = run_cmd(unshare);
	}
	mp = median(lib, n), mc = median(c, n), mb = median(b, n), mu = median(u, n);
	printf("median of %d, alternating\n", n);
	printf("  wm spawn (library, standard + seccomp) %7.2f ms\n", mp);
	printf("  wm sandbox (command, incl. exec of wm) %7.2f ms\n", mc);
	printf("  bwrap --unshare-all ...                %7.2f ms\n", mb);
	printf("  unshare --user --pid ... --fork        %7.2f ms\n", mu);
	printf("ratios: spawn/bwrap %.2f (< 1 wanted), spawn/unshare %.2f (<= 1.25 wanted)\n",
	       mp / mb, mp / mu);
	printf("        command/bwrap %.2f, command/unshare %.2f\n", mc / mb, mc / mu);
	fflush(stdout);
	if (argc > 3)
		startup(wm, argv[3], n);
	if (argc > 4)
		rootless(wm, argv[4], bwrap, n);
	wm_sandbox_profile_free(prof);
	wm_policy_set_free(set);
	return 0;
}
