/*
 * serve_main.c - wm-serve, the helper program behind `wm serve`: its
 * options, `wm serve token ...`, and the one place it prints an error and
 * chooses its exit code (as orchestrator/main.c does for wm).
 *
 * wm execs it as: wm-serve --wm PATH --state-dir DIR [ARGS]...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/units.h"
#include "common/xalloc.h"
#include "orchestrator/serve/server.h"
#include "orchestrator/serve/tokens.h"

#define USAGE                                                                              \
	"usage: wm serve [--listen ADDR:PORT] [--workflows DIR] [--no-auth-read] [--cors " \
	"ORIGIN]\n"                                                                        \
	"                [--rate N] [--burst N] [--body-limit SIZE] [--max-streams N]\n"   \
	"       wm serve token create --role read|run [--name NAME]\n"                     \
	"       wm serve token list [--json]\n"                                            \
	"       wm serve token revoke NAME\n"

int serve_run(struct serve *s, struct wm_error **err);

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("wm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", USAGE);
	return WM_EXIT_USAGE;
}

/* "127.0.0.1:8450", "[::1]:8450": a numeric address and a port. */
static int parse_listen(const char *arg, struct serve_conf *c)
{
	const char *colon = strrchr(arg, ':');
	unsigned char a[sizeof(struct in6_addr)];
	char *end, *host;
	unsigned long port;

	if (!colon)
		return usage_error("--listen wants ADDRESS:PORT, not '%s'", arg);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535)
		return usage_error("--listen: bad port in '%s'", arg);
	host = arg[0] == '[' && colon > arg && colon[-1] == ']'
		       ? wm_xstrndup(arg + 1, (size_t)(colon - arg - 2))
		       : wm_xstrndup(arg, (size_t)(colon - arg));
	if (inet_pton(AF_INET, host, a) == 1)
		c->loopback = a[0] == 127;
	else if (inet_pton(AF_INET6, host, a) == 1)
		c->loopback = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)(void *)a);
	else {
		free(host);
		return usage_error("--listen wants a numeric address (127.0.0.1, [::1]), not '%s'",
				   arg);
	}
	free(c->host);
	c->host = host;
	c->port = (unsigned)port;
	return 0;
}

static int parse_count(const char *opt, const char *arg, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || *out < 1 || *out > max || arg[0] == '-')
		return usage_error("%s wants a number from 1 to %lu, not '%s'", opt, max, arg);
	return 0;
}

enum {
	O_LISTEN = 256,
	O_WORKFLOWS,
	O_NOAUTH,
	O_CORS,
	O_RATE,
	O_BURST,
	O_BODY,
	O_STREAMS,
	O_HEARTBEAT
};

static int server_option(int opt, struct serve_conf *c)
{
	struct wm_error *e = NULL;
	unsigned long n = 0;
	uint64_t bytes = 0;

	switch (opt) {
	case O_LISTEN:
		return parse_listen(optarg, c);
	case O_WORKFLOWS:
		c->workflows = optarg;
		return 0;
	case O_NOAUTH:
		c->no_auth_read = true;
		return 0;
	case O_CORS:
		c->cors = optarg;
		return 0;
	case O_RATE:
	case O_BURST:
	case O_STREAMS:
	case O_HEARTBEAT:
		if (parse_count(opt == O_RATE	   ? "--rate"
				: opt == O_BURST   ? "--burst"
				: opt == O_STREAMS ? "--max-streams"
						   : "--heartbeat",
				optarg, 100000, &n))
			return WM_EXIT_USAGE;
		if (opt == O_RATE)
			c->rate = (double)n;
		else if (opt == O_BURST)
			c->burst = (unsigned)n;
		else if (opt == O_STREAMS)
			c->max_clients = n;
		else
			c->heartbeat_s = (unsigned)n;
		return 0;
	case O_BODY:
		if (wm_parse_size(optarg, &bytes, &e) < 0 || !bytes || bytes > (64UL << 20)) {
			wm_error_free(e);
			return usage_error("--body-limit wants a size up to 64M, not '%s'", optarg);
		}
		c->body_max = bytes;
		return 0;
	default:
		return usage_error("unknown option");
	}
}

static int server_options(int argc, char **argv, struct serve_conf *c)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "workflows", required_argument, NULL, O_WORKFLOWS },
		{ "no-auth-read", no_argument, NULL, O_NOAUTH },
		{ "cors", required_argument, NULL, O_CORS },
		{ "rate", required_argument, NULL, O_RATE },
		{ "burst", required_argument, NULL, O_BURST },
		{ "body-limit", required_argument, NULL, O_BODY },
		{ "max-streams", required_argument, NULL, O_STREAMS },
		{ "heartbeat", required_argument, NULL, O_HEARTBEAT },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return usage_error("%s '%s'",
					   opt == ':' ? "missing value for" : "unknown option",
					   argv[optind - 1]);
		if ((rc = server_option(opt, c)) != 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (c->no_auth_read && !c->loopback)
		return usage_error("--no-auth-read is allowed only when --listen is a loopback "
				   "address");
	return 0;
}

static int token_create(int argc, char **argv, const char *state_dir, struct wm_error **err)
{
	const char *name = NULL, *role = NULL;
	wm_autofree char *token = NULL, *made = NULL;
	int r;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else
			return usage_error("token create: unexpected '%s'", argv[i]);
	}
	if (!role || (r = wm_serve_role_parse(role)) < 0)
		return usage_error("token create needs --role read or --role run");
	if (wm_serve_token_create(state_dir, name, (enum wm_serve_role)r, &token, &made, err) < 0)
		return -1;
	fprintf(stderr, "API key '%s' (role %s) made; its token is shown this once:\n", made, role);
	printf("%s\n", token);
	return 0;
}

static int token_list(int argc, char **argv, const char *state_dir, struct wm_error **err)
{
	bool json = argc == 1 && strcmp(argv[0], "--json") == 0;
	json_t *list, *k;
	size_t i;

	if (argc && !json)
		return usage_error("token list: unexpected '%s'", argv[0]);
	if (!(list = wm_serve_token_list(state_dir, err)))
		return -1;
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
	} else {
		printf("%-20s %-5s %-24s %s\n", "NAME", "ROLE", "CREATED", "LAST USED");
		json_array_foreach(list, i, k)
		{
			const char *used = json_string_value(json_object_get(k, "last_used"));

			printf("%-20s %-5s %-24s %s\n",
			       json_string_value(json_object_get(k, "name")),
			       json_string_value(json_object_get(k, "role")),
			       json_string_value(json_object_get(k, "created")),
			       used ? used : "never");
		}
	}
	json_decref(list);
	return 0;
}

static int token_cmd(int argc, char **argv, const char *state_dir, struct wm_error **err)
{
	if (argc < 1)
		return usage_error("token wants create, list or revoke");
	if (strcmp(argv[0], "create") == 0)
		return token_create(argc - 1, argv + 1, state_dir, err);
	if (strcmp(argv[0], "list") == 0)
		return token_list(argc - 1, argv + 1, state_dir, err);
	if (strcmp(argv[0], "revoke") == 0) {
		if (argc != 2)
			return usage_error("token revoke takes one key name");
		if (wm_serve_token_revoke(state_dir, argv[1], err) < 0)
			return -1;
		printf("API key '%s' revoked\n", argv[1]);
		return 0;
	}
	return usage_error("token wants create, list or revoke, not '%s'", argv[0]);
}

/* --wm PATH --state-dir DIR, put first by wm; else found beside us. */
static int plumbing(int *argc, char ***argv, struct serve *s)
{
	while (*argc >= 3 &&
	       (strcmp((*argv)[1], "--wm") == 0 || strcmp((*argv)[1], "--state-dir") == 0)) {
		if (strcmp((*argv)[1], "--wm") == 0)
			s->wm_path = wm_xstrdup((*argv)[2]);
		else
			s->conf.state_dir = (*argv)[2];
		(*argv)[2] = (*argv)[0];
		*argc -= 2;
		*argv += 2;
	}
	if (!s->conf.state_dir)
		return usage_error("wm-serve is started by `wm serve`");
	return 0;
}

int main(int argc, char **argv)
{
	struct serve s = { .workflows_fd = -1, .epfd = -1 };
	struct wm_error *err = NULL;
	int rc;

	s.conf = (struct serve_conf){ .rate = 20,
				      .burst = 40,
				      .body_max = 64 << 10,
				      .max_clients = 64,
				      .client_buf_max = 1 << 20,
				      .heartbeat_s = 15 };
	if ((rc = plumbing(&argc, &argv, &s)) != 0)
		return rc;
	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		rc = token_cmd(argc - 2, argv + 2, s.conf.state_dir, &err);
	else if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		rc = printf("%s", USAGE) < 0;
	else if ((rc = parse_listen("127.0.0.1:8450", &s.conf)) == 0 &&
		 (rc = server_options(argc, argv, &s.conf)) == 0)
		rc = serve_run(&s, &err);
	if (rc < 0) {
		wm_error_print(err, stderr);
		rc = err ? err->exit_code : WM_EXIT_FAILED;
		wm_error_free(err);
	}
	free(s.conf.host);
	free(s.wm_path);
	return rc;
}
