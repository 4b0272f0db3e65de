/*
 * groups.c - the risk groups of system calls (score.h): one table, read by
 * the exposure score and by `wm policy learn`.
 */
#include <string.h>

#include "common/strutil.h"
#include "policies/score.h"

#define GRP_CLASS(e, name, cls, why, calls) [e] = (cls),
#define GRP_WHY(e, name, cls, why, calls) [e] = (why),
#define GRP_CALLS(e, name, cls, why, calls) [e] = (calls),
static const char *const group_names[] = { WM_RISK_GROUPS(WM_XLIST_NAME) };
static const enum wm_risk_class group_class[] = { WM_RISK_GROUPS(GRP_CLASS) };
static const char *const group_why[] = { WM_RISK_GROUPS(GRP_WHY) };
static const char *const group_calls[] = { WM_RISK_GROUPS(GRP_CALLS) };
static const char *const class_names[] = { WM_RISK_CLASSES(WM_XLIST_NAME) };

const char *wm_risk_class_name(enum wm_risk_class c)
{
	return (unsigned)c < WM_RISK_CLASS_COUNT ? class_names[c] : "?";
}

const char *wm_risk_group_name(enum wm_risk_group g)
{
	return (unsigned)g < WM_RISK_GROUP_COUNT ? group_names[g] : "?";
}

enum wm_risk_class wm_risk_group_class(enum wm_risk_group g)
{
	return (unsigned)g < WM_RISK_GROUP_COUNT ? group_class[g] : WM_RISK_ORDINARY;
}

const char *wm_risk_group_reason(enum wm_risk_group g)
{
	return (unsigned)g < WM_RISK_GROUP_COUNT ? group_why[g] : "";
}

int wm_risk_group_of(const char *syscall)
{
	for (size_t g = 0; g < WM_RISK_GROUP_COUNT; g++)
		if (wm_words_contain(group_calls[g], syscall))
			return (int)g;
	return -1;
}

int wm_risk_group_find(const char *name)
{
	return wm_xlist_index(group_names, WM_RISK_GROUP_COUNT, name);
}

void wm_risk_group_calls(enum wm_risk_group g, struct wm_buf *out)
{
	const char *w = (unsigned)g < WM_RISK_GROUP_COUNT ? group_calls[g] : "";
	bool first = true;

	while (*w) {
		size_t n = strcspn(w, " ");

		wm_buf_addf(out, "%s%.*s", first ? "" : ", ", (int)n, w);
		first = false;
		w += n;
		w += strspn(w, " ");
	}
}
