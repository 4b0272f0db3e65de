/*
 * prompt.c - one-key questions on the terminal for --interactive.
 */
#include "orchestrator/prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/xalloc.h"

struct wm_prompt {
	int fd;
	struct termios saved;
	bool raw;
};

struct wm_prompt *wm_prompt_open(void)
{
	struct wm_prompt *p;
	struct termios t;
	int fd = open("/dev/tty", O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NULL;
	p = wm_xcalloc(1, sizeof(*p));
	p->fd = fd;
	if (tcgetattr(fd, &p->saved) == 0) {
		t = p->saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C is SIGINT */
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		p->raw = tcsetattr(fd, TCSANOW, &t) == 0;
	}
	return p;
}

void wm_prompt_close(struct wm_prompt *p)
{
	if (!p)
		return;
	if (p->raw)
		tcsetattr(p->fd, TCSANOW, &p->saved);
	close(p->fd);
	free(p);
}

int wm_prompt_fd(const struct wm_prompt *p)
{
	return p->fd;
}

static void say(const struct wm_prompt *p, const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t w = write(p->fd, text, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a terminal that will not take it: the key still answers */
		text += w;
		len -= (size_t)w;
	}
}

void wm_prompt_ask(struct wm_prompt *p, const char *task)
{
	char *q = wm_xasprintf("\r\033[Kwm: run task '%s'? r: run, s: skip, a: abort (one key)\n",
			       task);

	say(p, q);
	free(q);
}

char wm_prompt_answer(struct wm_prompt *p, const char *task)
{
	unsigned char key;
	const char *what;
	char *line;
	char c;

	if (read(p->fd, &key, 1) != 1)
		return 0;
	if (key == '\n' || key == '\r') /* the Enter after a key answered before */
		return 0;
	c = (char)key;
	if (c == 'R' || c == 'S' || c == 'A')
		c = (char)(c - 'A' + 'a');
	if (c != 'r' && c != 's' && c != 'a') {
		wm_prompt_ask(p, task);
		return 0;
	}
	what = c == 'r' ? "run" : c == 's' ? "skipped" : "abort";
	line = wm_xasprintf("\r\033[Kwm: '%s': %s\n", task, what);
	say(p, line);
	free(line);
	return c;
}
