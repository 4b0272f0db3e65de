#!/usr/bin/env bash
# Partial runs: `wm run FILE TASK...` runs those tasks and what they need;
# `--from TASK` runs TASK and what follows it, taking what it needs from
# the newest earlier run in which that succeeded.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
cat >"$W/p.md" <<'MD'
---
policy: minimal
---
## a
- outputs: a.txt
```sh
echo "a of run $WM_RUN_ID" > "$WM_OUT/a.txt"; echo a >> runs.log
```
## b
- depends: a
```sh
cp "$WM_IN/a/a.txt" "$WM_OUT/b.txt"; echo b >> runs.log
```
## c
- depends: b
```sh
echo c >> runs.log
```
## other
```sh
echo other >> runs.log
```
MD
run() { "$WM" run --yes --workspace "$W" "$@"; }
ran() { sort "$W/runs.log" | tr '\n' ' '; rm -f "$W/runs.log"; }

# ---- TASK...: those and what they need ----
expect_exit "run b alone" 0 run "$W/p.md" b
expect_in "b and what it needs ran, nothing else" "a b " "$(ran)"
rid=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
expect_not_in "c is not part of it" $'\nc ' "$OUT"
expect_in "the selection is kept for resume" '"b"' "$(jq -c .tasks "$WM_STATE_DIR/runs/$rid/options.json")"
expect_exit "resume of a partial run has nothing to do" 0 "$WM" resume "$rid"
expect_in "resume keeps to the part" "nothing to do" "$OUT"
expect_exit "two tasks" 0 run "$W/p.md" other a
expect_in "both, and what they need" "a other " "$(ran)"
expect_exit "an unknown task" 2 run "$W/p.md" bb
expect_in "did you mean" "has no task 'bb' (did you mean 'b'?)" "$OUT"

# ---- --from TASK ----
expect_exit "a whole run" 0 run "$W/p.md"
whole=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
ran >/dev/null
expect_exit "--from b" 0 run --from b "$W/p.md"
expect_in "b and what follows ran; a and other did not" "b c " "$(ran)"
expect_in "says where a came from" "reusing a from run $whole" "$OUT"
from=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
expect_in "a's output was taken from that run" "a of run $whole" \
	"$(cat "$WM_STATE_DIR/runs/$from/out/b/b.txt")"
expect_in "a is marked kept" "kept" "$(grep '^a ' <<<"$OUT")"
expect_exit "--from an unknown task" 2 run --from cc "$W/p.md"
expect_in "--from: did you mean" "did you mean 'c'?" "$OUT"
expect_exit "--from with TASK..." 2 run --from b "$W/p.md" c
# With no earlier run that has what it needs, nothing runs.
expect_exit "--from with no earlier run" 2 "$WM" --state-dir "$T/fresh" run --yes \
	--workspace "$W" --from b "$W/p.md"
expect_in "says so" "no earlier run of p in which every task it needs succeeded" "$OUT"
check "and ran nothing" test ! -e "$W/runs.log"
# A planted link in the earlier run's outputs is copied as a link, never followed.
ln -s /etc/shadow "$WM_STATE_DIR/runs/$from/out/a/shadow" # the newest with a
expect_exit "--from with a link in the outputs" 0 run --from b "$W/p.md"
from=$(grep -m1 '^run ' <<<"$OUT" | awk '{print $2}')
check "the link stays a link" test -L "$WM_STATE_DIR/runs/$from/out/a/shadow"
