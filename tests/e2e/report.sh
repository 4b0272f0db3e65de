#!/usr/bin/env bash
# wm report: one self-contained HTML page per run, its run document as
# JSON, and what the page must never do (load anything, let a log escape).
. "$(dirname "$0")/../lib.sh"

HOSTILE='</script><script>alert(1)</script>'
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
# tests/data/report/shipit.md: prep logs a line meant to break out of the
# page's <script> element; build fails once and is retried; broken fails
# for good, so after-broken is skipped; ship waits for build and test.
cp "$TESTS_DIR/data/report/shipit.md" "$W/"
expect_exit "the run fails (broken)" 1 "$WM" run "$W/shipit.md"
RUN=$(run_dir_of "$OUT")
ID=${RUN##*/}

cd "$T" || exit 1
expect_exit "report -o FILE" 0 "$WM" report "$ID" -o "$T/r.html"
expect_in "says where it wrote" "to $T/r.html" "$OUT"
check "the page is there" test -s "$T/r.html"
check "the page is 0600 (it holds logs)" test "$(stat -c %a "$T/r.html")" = 600
P=$(cat "$T/r.html")
expect_in "an HTML document" "<!doctype html>" "$P"
expect_in "style inline" "<style>" "$P"
expect_in "drawing code inline" "function renderRun" "$P"
expect_in "the run document inline" '<script type="application/json" id="wm-run">' "$P"
expect_in "a CSP that lets the page load nothing" "default-src 'none'" "$P"

# Self-contained: no URL of any kind, nothing fetched from anywhere.
check "no http:// anywhere" bash -c "! grep -q 'http://' '$T/r.html'"
check "no https:// anywhere" bash -c "! grep -q 'https://' '$T/r.html'"
check "no src or href naming another place" \
	bash -c "! grep -Eiq '(src|href)[[:space:]]*=[[:space:]]*[\"'\'']?[^\"'\'' >]*(//|:)' '$T/r.html'"
check "no external script or stylesheet" bash -c "! grep -Eiq '<script[^>]* src|<link' '$T/r.html'"
check "no @import or url() of a file" bash -c "! grep -Eiq '@import|url\\([^#)]' '$T/r.html'"

# The hostile log line is data: it never appears raw, the page has exactly
# its own three script elements, and the document gives the line back.
check "the hostile line is not in the page raw" bash -c "! grep -qF '$HOSTILE' '$T/r.html'"
check "exactly three script elements end" test "$(grep -o '</script>' "$T/r.html" | wc -l)" = 3
sed -n 's|.*<script type="application/json" id="wm-run">\(.*\)</script>.*|\1|p' "$T/r.html" >"$T/doc.json"
check "the embedded document parses" jq -e . "$T/doc.json"
check "the log tail round-trips" \
	test "$(jq -r '.logs.prep.tail | split("\n")[1]' "$T/doc.json")" = "before $HOSTILE after"
check "invalid UTF-8 became U+FFFD" test "$(jq -r '.logs.prep.tail | split("\n")[2]' "$T/doc.json")" = $'not utf-8: \xef\xbf\xbd'
st() { jq -r --arg t "$1" '.plan.tasks[] | select(.id == $t) | .state' "$T/doc.json"; }
check "broken failed" test "$(st broken)" = failed
check "after-broken skipped" test "$(st after-broken)" = skipped
check "ship succeeded" test "$(st ship)" = succeeded
check "ship is at level 2" test "$(jq '.plan.tasks[] | select(.id == "ship") | .level' "$T/doc.json")" = 2
check "ship has two edges in" test "$(jq '[.plan.edges[] | select(.to == "ship")] | length' "$T/doc.json")" = 2
check "build has two attempts, the first retried" \
	test "$(jq -c '[.attempts[] | select(.task == "build") | .outcome]' "$T/doc.json")" = '["retry","succeed"]'
check "every attempt was queued before it started" \
	jq -e '[.attempts[] | .queued_ms <= .started_ms and .started_ms <= .ended_ms] | all' "$T/doc.json"
check "the failure's reason is a decision" \
	jq -e '[.decisions[] | select(.task == "broken" and .what == "fail")] | length == 1' "$T/doc.json"
check "the critical path ends in ship" test "$(jq -r '.critical_path[-1]' "$T/doc.json")" = ship
check "the audit log is intact" jq -e '.audit.verified and .audit.intact' "$T/doc.json"
check "status is wm status --json's" \
	test "$(jq -c '.status | del(.live, .orphaned)' "$T/doc.json")" = "$("$WM" status --json "$ID" | jq -c 'del(.live, .orphaned)')"

expect_exit "report --json" 0 "$WM" report "$ID" --json
check "--json is the run document" test "$(jq -r .format <<<"$OUT")" = wm-run-document
expect_exit "report -o - writes the page to stdout" 0 "$WM" report "${ID:0:17}" -o -
expect_in "stdout has the page" "<!doctype html>" "$OUT"
expect_exit "report --json -o FILE" 0 "$WM" report "$ID" --json -o "$T/doc2.json"
check "the JSON file parses" jq -e '.run_id' "$T/doc2.json"

# A tampered audit log shows on the badge.
cp "$RUN/audit.jsonl" "$T/audit.saved"
sed -i '3s/"policy":"[a-z]*"/"policy":"minimal"/' "$RUN/audit.jsonl"
expect_exit "report of a tampered run" 0 "$WM" report "$ID" --json
check "the badge says not intact" jq -e '.audit.verified and (.audit.intact | not)' <<<"$OUT"
cp "$T/audit.saved" "$RUN/audit.jsonl"

# Writing the page never follows a link planted where it goes.
echo keep >"$T/target"
ln -s "$T/target" "$T/link.html"
expect_exit "report over a symbolic link" 0 "$WM" report "$ID" -o "$T/link.html"
check "the link's target is untouched" test "$(cat "$T/target")" = keep
check "the link was replaced by the page" test -f "$T/link.html" -a ! -L "$T/link.html"

# Bad input: exit 2, one clear message.
expect_exit "an unknown run id is exit 2" 2 "$WM" report 19990101-000000-dead -o "$T/x.html"
expect_in "says the run is unknown" "unknown run id" "$OUT"
check "no page for an unknown run" test ! -e "$T/x.html"
expect_exit "no -o is exit 2" 2 "$WM" report "$ID"
expect_in "says -o is needed" "-o FILE.html" "$OUT"
expect_exit "no run id is exit 2" 2 "$WM" report -o "$T/x.html"
expect_exit "two run ids is exit 2" 2 "$WM" report "$ID" "$ID" -o "$T/x.html"
expect_exit "an unknown option is exit 2" 2 "$WM" report "$ID" --html
expect_exit "-o naming a directory is exit 2" 2 "$WM" report "$ID" -o "$T/"
expect_exit "-o into a missing directory fails" 1 "$WM" report "$ID" -o "$T/no/such/r.html"
expect_in "names the file" "$T/no/such/r.html" "$OUT"

# Rootless: an unprivileged user reports their own run.
if ! userns_ok; then
	skip "report as an unprivileged user" "no unprivileged user namespaces here"
else
	printf '## hello\n```sh\necho hi\n```\n' >"$W/hello.md"
	chmod 644 "$W/hello.md"
	expect_exit "unprivileged run" 0 as_user "$WM" run "$W/hello.md"
	expect_exit "unprivileged report" 0 as_user "$WM" report "$(run_dir_of "$OUT" | xargs basename)" -o - --json
	check "unprivileged report verifies the audit log" jq -e '.audit.intact' <<<"$OUT"
	check "and carries the log" test "$(jq -r '.logs.hello.tail | split("\n")[1]' <<<"$OUT")" = hi
fi
