/*
 * doctor.h - what this host offers the sandbox, for `wm doctor`.
 *
 * wm_sandbox_doctor() probes the running kernel (it forks short-lived
 * children to try user namespaces) and fills a fixed table; nothing is
 * allocated. `required` marks what the `standard` policy cannot do without.
 */
#ifndef WM_SANDBOX_DOCTOR_H
#define WM_SANDBOX_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

struct wm_doctor_item {
	const char *name; /* "user_namespaces", "seccomp", ... */
	bool ok;
	bool required;	  /* `standard` needs it here (as this user) */
	char detail[160]; /* what was found */
	const char *cost; /* what is lost when it is missing */
};

enum { WM_DOCTOR_MAX = 24 };

struct wm_doctor {
	struct wm_doctor_item items[WM_DOCTOR_MAX];
	size_t n;
	bool root;
};

void wm_sandbox_doctor(struct wm_doctor *d);

#endif
