#!/usr/bin/env bash
# SLA levels (`- sla: 300ms, 600ms notify, 1s cancel`): each threshold
# recorded once; notify sends sla.breach notifications (warn does not);
# cancel fails the task, not retried, with the reason; wm stats counts the
# breaches per task and workflow.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$T"' EXIT
have_notify=
if [[ -x $(dirname "$WM")/wm-notify ]]; then
	/usr/bin/python3 "$REPO_DIR/tests/tools/receiver.py" "$T/port" "$T/hooks.log" &
	PIDS+=($!)
	for _ in $(seq 100); do [[ -s $T/port ]] && break; sleep 0.05; done
	touch "$T/hooks.log"
	have_notify=1
fi

cat >"$W/sla.md" <<MD
---
name: slaw
notify:
  - on: [sla.breach]
    webhook: http://127.0.0.1:$(cat "$T/port" 2>/dev/null || echo 9)/sla
---
## slow
- sla: 300ms, 600ms notify, 1s cancel
- retries: 2

\`\`\`sh
sleep 5
\`\`\`

## fine
- sla: 200ms

\`\`\`sh
sleep 0.4
\`\`\`
MD

start=$(date +%s%N)
expect_exit "a run whose task is cancelled by its sla fails" 1 "$WM" run "$W/sla.md"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 4000)) && pass "cancelled at 1s, not after the task's 5s (${ms}ms)" || fail "cancel time" "${ms}ms"
expect_in "the reason" "sla 1s exceeded; not retried" "$OUT"
dir=$(run_dir_of "$OUT")
id=${dir##*/}
[[ $(task_field "$dir" slow state) == failed && $(task_field "$dir" slow attempts) == 1 ]] &&
	pass "failed on its first attempt: retries do not apply" ||
	fail "slow task" "$(task_field "$dir" slow state) $(task_field "$dir" slow attempts)"
[[ $(task_field "$dir" fine state) == succeeded ]] && pass "a warn level lets the task go on" ||
	fail "fine task"
breaches=$(jq -r 'select(.event == "sla.breach") | "\(.task):\(.level):\(.sla_ms)"' "$dir/audit.jsonl" | sort | tr '\n' ' ')
[[ $breaches == "fine:warn:200 slow:cancel:1000 slow:notify:600 slow:warn:300 " ]] &&
	pass "each threshold audited once, with its level" || fail "audit" "$breaches"

# ---- stats ----
OUT=$("$WM" stats "$id" 2>&1)
expect_in "wm stats RUN lists the breaches" "sla breaches: slow (warn,notify,cancel), fine (warn)" "$OUT"
OUT=$("$WM" stats 2>&1)
expect_in "wm stats: per workflow and task" "sla breaches in slaw: 1 of 1 runs (slow in 1, fine in 1)" "$OUT"
sed -i 's/^- sla: 200ms$/- sla: 1m/' "$W/sla.md"
"$WM" run "$W/sla.md" >/dev/null 2>&1
json=$("$WM" stats --json)
[[ $(jq -c '.workflows.slaw' <<<"$json") == '{"runs":2,"sla_breaches":2}' &&
	$(jq -r '.tasks[] | select(.task == "fine") | .sla_breaches' <<<"$json") == 1 &&
	$(jq -r '.tasks[] | select(.task == "slow") | .sla_breaches' <<<"$json") == 2 ]] &&
	pass "wm stats --json: breaches in how many runs" || fail "stats json" "$json"

# ---- notifications: notify and cancel levels are sent, warn is not ----
if [[ -n $have_notify ]]; then
	for _ in $(seq 100); do (($(wc -l <"$T/hooks.log") >= 4)) && break; sleep 0.05; done
	sleep 0.3
	levels=$(jq -r '.body | fromjson | .detail' "$T/hooks.log" | sort | tr '\n' '|')
	[[ $levels == "ran past its sla of 1s (cancel)|ran past its sla of 1s (cancel)|ran past its sla of 600ms (notify)|ran past its sla of 600ms (notify)|" ]] &&
		pass "sla.breach sent for notify and cancel, not warn" || fail "sla notifications" "$levels"
else
	skip "sla notifications" "build/wm-notify not built"
fi

# ---- errors at their place ----
printf -- '## a\n- sla: 10m warn, 20m panic\n```sh\ntrue\n```\n' >"$W/bad.md"
expect_exit "an unknown level" 2 "$WM" plan "$W/bad.md"
expect_in "at its place" "bad.md:2:22: error: sla: \`panic\` is not a level" "$OUT"
