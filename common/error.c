#include "common/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static int set(struct wm_error **err, int errnum, int exit_code, char *msg)
{
	struct wm_error *e;

	if (!err) {
		free(msg);
		return -1;
	}
	/* A second error while one is pending keeps the first: it is the cause. */
	if (*err) {
		free(msg);
		return -1;
	}
	e = wm_xcalloc(1, sizeof(*e));
	e->errnum = errnum;
	e->exit_code = exit_code;
	e->msg = msg;
	*err = e;
	return -1;
}

int wm_error_set(struct wm_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	return set(err, errnum, WM_EXIT_FAILED, msg);
}

int wm_error_setx(struct wm_error **err, int exit_code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	return set(err, 0, exit_code, msg);
}

int wm_error_make(struct wm_error **err, int exit_code, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = wm_xvasprintf(fmt, ap);
	va_end(ap);
	return set(err, errnum, exit_code, msg);
}

__attribute__((format(printf, 2, 0))) static void prefix(struct wm_error *e, const char *fmt,
							 va_list ap)
{
	char *ctx = wm_xvasprintf(fmt, ap);
	char *msg = wm_xasprintf("%s: %s", ctx, e->msg);

	free(ctx);
	free(e->msg);
	e->msg = msg;
}

int wm_error_wrap(struct wm_error **err, const char *fmt, ...)
{
	va_list ap;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	prefix(*err, fmt, ap);
	va_end(ap);
	return -1;
}

int wm_error_wrapx(struct wm_error **err, int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (!err || !*err)
		return -1;
	if (fmt) {
		va_start(ap, fmt);
		prefix(*err, fmt, ap);
		va_end(ap);
	}
	(*err)->exit_code = exit_code;
	return -1;
}

char *wm_error_text(const struct wm_error *e)
{
	if (!e)
		return wm_xstrdup("unknown error");
	if (e->errnum)
		return wm_xasprintf("%s: %s", e->msg, strerror(e->errnum));
	return wm_xstrdup(e->msg);
}

void wm_error_free(struct wm_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void wm_error_print(const struct wm_error *e, FILE *f)
{
	char *text = wm_error_text(e);
	fprintf(f, "wm: %s\n", text);
	free(text);
}
