#!/usr/bin/env bash
# The page `wm report` writes, opened from file:// in headless Chromium: the
# graph and timeline show a real run's tasks, states and retries; the
# hostile log line stays text; a screenshot goes to build/screenshots/.
. "$(dirname "$0")/../lib.sh"

SHOTS=$REPO_DIR/build/screenshots
PY=/usr/bin/python3
if ! [[ -x $PY ]] || ! $PY -c 'import selenium' 2>/dev/null; then
	skip "report in a browser" "python3-selenium is not installed"
	exit 0
fi
W=$T/ws
mkdir -p "$W" "$SHOTS"
chmod 777 "$W"
cp "$TESTS_DIR/data/report/shipit.md" "$W/"
expect_exit "the run fails (broken)" 1 "$WM" run "$W/shipit.md"
ID=$(basename "$(run_dir_of "$OUT")")
expect_exit "report" 0 "$WM" report "$ID" -o "$T/report.html"
expect_exit "run document" 0 "$WM" report "$ID" --json -o "$T/doc.json"
# Chromium as root needs --no-sandbox; as anyone it needs a writable home.
HOME=$T $PY "$TESTS_DIR/browser/report.py" "$T/report.html" "$SHOTS/report.png" "$T/doc.json"
check "the screenshot is a PNG" test "$(head -c 4 "$SHOTS/report.png" | tail -c 3)" = PNG
