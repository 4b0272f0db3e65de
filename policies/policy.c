#include "policies/policy.h"

#include <stdlib.h>

#include "common/strutil.h"

void wm_policy_free(struct wm_policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->description);
	free(p->inherits);
	free(p->source);
	free(p->fs.rootfs);
	wm_strv_free(p->fs.hide);
	for (size_t i = 0; i < p->fs.n_binds; i++) {
		free(p->fs.binds[i].src);
		free(p->fs.binds[i].dst);
	}
	free(p->fs.binds);
	wm_strv_free(p->fs.devices);
	wm_strv_free(p->capabilities);
	free(p->seccomp.profile);
	for (size_t i = 0; i < p->seccomp.n_rules; i++)
		free(p->seccomp.rules[i].name);
	free(p->seccomp.rules);
	wm_strv_free(p->env.keep);
	wm_strv_free(p->env.set);
	free(p);
}
