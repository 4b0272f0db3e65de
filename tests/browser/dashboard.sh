#!/usr/bin/env bash
# The dashboard of a real `wm serve` in headless Chromium: a run started
# through the API during the test appears in the runs list and a task turns
# done on its page live (no reload), the timeline shows its attempts, a run
# is cancelled from its page with a `run` key, the history page shows the
# numbers; screenshots of each page go to build/screenshots/.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/serve_lib.sh"

need_serve "dashboard in a browser"
PY=/usr/bin/python3
if ! [[ -x $PY ]] || ! $PY -c 'import selenium' 2>/dev/null; then
	skip "dashboard in a browser" "python3-selenium is not installed"
	exit 0
fi
SHOTS=$REPO_DIR/build/screenshots
WF=$T/workflows
mkdir -p "$WF" "$SHOTS"
chmod 777 "$WF"
# live: first takes long enough to be seen running, then done; hold runs
# until it is cancelled.
cat >"$WF/live.md" <<'MD'
---
name: live
---
## first
```sh
sleep 3
echo first done
```

## second
- depends: first

```sh
sleep 1
echo second done
```
MD
cat >"$WF/hold.md" <<'MD'
---
name: hold
---
## hold
```sh
echo holding
sleep 120
```
MD
# A finished run with every outcome, for the history page.
cp "$TESTS_DIR/data/report/shipit.md" "$WF/"
expect_exit "a finished run first" 1 "$WM" run "$WF/shipit.md"

expect_exit "a run key" 0 "$WM" serve token create --role run --name browser
KEY=$(grep -o 'wmk_[0-9a-f]*' <<<"$OUT" | head -1)
check "the key was printed" test -n "$KEY"
start_serve --workflows "$WF" --no-auth-read
HOME=$T $PY "$TESTS_DIR/browser/dashboard.py" "http://127.0.0.1:$PORT/" "$KEY" "$SHOTS"
rc=$?
check "the browser test ended cleanly" test "$rc" = 0
# Whatever the browser did, no run of this test outlives it.
for id in $(ls "$WM_STATE_DIR/runs"); do
	"$WM" cancel "$id" >/dev/null 2>&1
done
stop_serve
check "the server stopped cleanly" test "$SERVE_RC" = 0
for p in runs run history; do
	check "screenshot of the $p page" test "$(head -c 4 "$SHOTS/dashboard-$p.png" | tail -c 3)" = PNG
done
