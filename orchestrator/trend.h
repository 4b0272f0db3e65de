/*
 * trend.h - `wm stats --trend NAME [--by day|week] [--json]`: one
 * workflow's success rate and duration over its history, per UTC day or
 * week (weeks start on Monday), with terminal sparklines and the change
 * point of its durations and of its outcomes when one stands out
 * (common/stattest.h: the split maximising the difference of means
 * relative to the pooled standard deviation, reported from
 * WM_STAT_CHANGE_SCORE on). Runs that succeeded or failed count; the
 * duration is a successful run's, start to end.
 */
#ifndef WM_ORCHESTRATOR_TREND_H
#define WM_ORCHESTRATOR_TREND_H

#include <stdbool.h>

#include "common/error.h"
#include "orchestrator/cli.h"

enum wm_trend_by { WM_TREND_DAY, WM_TREND_WEEK };

/* 0, or -1 with *err (no finished run of `name`: exit 2). */
int wm_stats_trend(const struct wm_cli *cli, const char *name, enum wm_trend_by by, bool json,
		   struct wm_error **err);

#endif
