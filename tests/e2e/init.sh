#!/usr/bin/env bash
# wm init: writing a starting workflow, and every template planning and
# running for real, offline, with the files each task produces checked. As
# root (or the user running the tests) in full, then each template again
# rootless as nobody.
. "$(dirname "$0")/../lib.sh"

umask 022
TEMPLATES=(basic release ci data nightly incident security-scan rollout)

# ---- the command itself ----
expect_exit "init --list exits 0" 0 "$WM" init --list
list=$OUT
for t in "${TEMPLATES[@]}"; do
	line=$(grep -E "^$t +[A-Z]" <<<"$list")
	[[ -n $line ]] && pass "--list names $t with a description" ||
		fail "--list names $t with a description" "$list"
done
[[ $(wc -l <<<"$list") == "${#TEMPLATES[@]}" ]] && pass "--list: one line per template" ||
	fail "--list: one line per template" "$list"
expect_in "--list marks the default" "(default)" "$(grep '^basic ' <<<"$list")"
expect_exit "--list takes nothing else" 2 "$WM" init --list x.md

mkdir -p "$T/cmd"
cd "$T/cmd" || exit 1
expect_exit "init writes workflow.md" 0 "$WM" init
expect_in "init says what it wrote" "wrote workflow.md from the template 'basic'" "$OUT"
check "workflow.md is the basic template" cmp -s workflow.md "$REPO_DIR/templates/basic.md"
[[ $(stat -c %a workflow.md) == 644 ]] && pass "workflow.md is 0644 under umask 022" ||
	fail "workflow.md is 0644 under umask 022" "$(stat -c %a workflow.md)"
echo "my own work" >workflow.md
expect_exit "an existing file is refused" 2 "$WM" init
expect_in "the refusal names the file and --force" "\`workflow.md\` already exists; 'wm init --force'" "$OUT"
[[ $(grep -c '^wm: ' <<<"$OUT") == 1 ]] && pass "the refusal is one line" || fail "the refusal is one line" "$OUT"
[[ $(cat workflow.md) == "my own work" ]] && pass "the existing file is untouched" ||
	fail "the existing file is untouched" "$(head -3 workflow.md)"
ln -s workflow.md link.md
expect_exit "an existing symbolic link is refused too" 2 "$WM" init link.md
expect_exit "--force replaces it" 0 "$WM" init --force --template release
check "--force wrote the release template" cmp -s workflow.md "$REPO_DIR/templates/release.md"
expect_exit "FILE names another file" 0 "$WM" init -t ci checks.md
check "checks.md is the ci template" cmp -s checks.md "$REPO_DIR/templates/ci.md"
expect_exit "unknown template" 2 "$WM" init --template relase new.md
expect_in "unknown template: did you mean" "unknown template 'relase' (did you mean 'release'?)" "$OUT"
[[ ! -e new.md ]] && pass "nothing written for an unknown template" ||
	fail "nothing written for an unknown template" "new.md exists"
expect_exit "unknown template, nothing close" 2 "$WM" init -t zzzzzz new.md
expect_in "unknown template: the list is named" "see 'wm init --list'" "$OUT"
mkdir sub
expect_exit "a directory is not a file name" 2 "$WM" init sub
expect_in "a directory: the hint" "give a file name, e.g. sub/workflow.md" "$OUT"
expect_exit "a missing directory" 2 "$WM" init "$T/none/x.md"
expect_in "a missing directory is named" "No such file or directory" "$OUT"
expect_exit "two files are a usage error" 2 "$WM" init a.md b.md

# ---- every template plans and runs ----
# init_ws NAME: a fresh workspace $WS holding the template NAME as workflow.md.
init_ws() {
	WS=$T/ws-$1
	rm -rf "$WS"
	mkdir -p "$WS"
	(cd "$WS" && "$WM" init -t "$1" >/dev/null) || fail "init -t $1" "exit $?"
}
# expect_run NAME WANT [ARGS...]: wm run ARGS in $WS, which must exit WANT;
# sets $OUT, $RC and $RD (the run directory).
expect_run() {
	OUT=$(cd "$WS" && "$WM" run "${@:3}" workflow.md 2>&1)
	RC=$?
	RD=$(run_dir_of "$OUT")
	[[ $RC == "$2" ]] && pass "$1: run exits $2" || fail "$1: run exits $2" "exit $RC: $(tail -15 <<<"$OUT")"
}
file_has() { # NAME FILE NEEDLE
	expect_in "$1" "$3" "$(cat "$2" 2>&1)"
}

for t in "${TEMPLATES[@]}"; do
	init_ws "$t"
	out=$("$WM" plan "$WS/workflow.md" 2>&1)
	rc=$?
	[[ $rc == 0 ]] && pass "$t: plans" || fail "$t: plans" "$out"
	expect_not_in "$t: plans without a warning" "warning" "$out"
	expect_in "$t: the description is its heading" \
		"# $(grep "^$t " <<<"$list" | sed -E 's/^[^ ]+ +//; s/ \(default\)$//')" \
		"$(cat "$WS/workflow.md")"
done

# basic
init_ws basic
expect_run basic 0
file_has "basic: the report greets" "$RD/out/report/report.txt" "Hello, Grace!"
file_has "basic: the report counts" "$RD/out/report/report.txt" "greeted 3 people"

# release: a reproducible tarball, published with its checksums, never twice.
init_ws release
printf 'echo ok\n' >"$WS/build.sh"
printf 'def f():\n    return 1\n' >"$WS/lib.py"
expect_run release 0 -e VERSION=1.2.3
first=$RD
D=$WS/dist/1.2.3
check "release: tarball published" test -s "$D/myproject-1.2.3.tar.gz"
check "release: checksums verify" sh -c "cd '$D' && sha256sum --quiet -c SHA256SUMS"
file_has "release: notes name the version" "$D/NOTES.txt" "myproject 1.2.3"
listing=$(tar -tzf "$D/myproject-1.2.3.tar.gz")
expect_in "release: tarball holds the sources" "myproject-1.2.3/lib.py" "$listing"
expect_not_in "release: tarball leaves dist/ out" "dist/" "$listing"
file_has "release: test checked the script" "$first/out/test/test.log" "ok build.sh"
expect_run "release again" 1 -e VERSION=1.2.3
expect_in "release: a published version is not overwritten" "already published" \
	"$("$WM" logs "${RD##*/}" publish 2>&1)"
[[ $(sha256sum <"$first/out/package/myproject-1.2.3.tar.gz") == \
	$(sha256sum <"$RD/out/package/myproject-1.2.3.tar.gz") ]] &&
	pass "release: the same tree gives the same tarball" ||
	fail "release: the same tree gives the same tarball"

# ci: clean, then with findings.
init_ws ci
printf '#!/bin/sh\necho fine\n' >"$WS/good.sh"
expect_run ci 0
file_has "ci: every check clean" "$RD/out/report/report.txt" "python-syntax: clean"
printf 'if then\n' >"$WS/bad.sh"
printf 'x = 1 \n' >"$WS/trailing.py"
expect_run "ci with findings" 1
file_has "ci: shell syntax finding" "$RD/out/report/report.txt" "bad.sh: 1: Syntax error"
file_has "ci: whitespace finding" "$RD/out/report/report.txt" "trailing.py:1:x = 1  (trailing blank)"
[[ $(task_field "$RD" python-syntax state) == succeeded ]] &&
	pass "ci: the other checks still ran (keep_going)" ||
	fail "ci: the other checks still ran (keep_going)" "$(task_field "$RD" python-syntax state)"

# data: a sample when there is no input, then a given file with a bad row.
init_ws data
expect_run data 0
check "data: 200 sample rows kept" test "$(wc -l <"$RD/out/validate/clean.csv")" = 201
check "data: summary is JSON with units" jq -e '.units > 0 and .rejected_rows == 0' \
	"$RD/out/summarize/summary.json"
check "data: archive checksum verifies" sh -c "cd '$RD/out/archive' && sha256sum --quiet -c SHA256SUMS"
mkdir -p "$WS/data"
printf 'date,region,product,units,price\n2026-11-01,north,widget,2,2.50\n2026-11-02,south,gizmo,1,9.99\nnot-a-date,east,widget,1,1\n2026-11-03,north,gadget,3,4.00\n' \
	>"$WS/data/sales.csv"
expect_run "data with a file" 0
check "data: the bad row is set aside" grep -q '^4,' "$RD/out/validate/rejected.csv"
check "data: revenue from the good rows" jq -e '.revenue == 26.99 and .units == 6 and .best_region == "north"' \
	"$RD/out/summarize/summary.json"
file_has "data: per-region totals" "$RD/out/aggregate/by_region.csv" "north,5,17.00"
[[ -z $(find "$WS" -newer "$WS/data/sales.csv" ! -path "$WS") ]] &&
	pass "data: nothing written into the workspace" || fail "data: nothing written into the workspace"

# nightly: rotation, pruning, backups.
init_ws nightly
mkdir -p "$WS/logs" "$WS/backups/db"
echo old >"$WS/logs/old.log" && touch -d '3 days ago' "$WS/logs/old.log"
echo now >"$WS/logs/today.log"
echo gz >"$WS/logs/ancient.log.gz" && touch -d '30 days ago' "$WS/logs/ancient.log.gz"
echo dump >"$WS/backups/db/db.dump"
(cd "$WS/backups/db" && sha256sum db.dump >SHA256SUMS)
expect_run nightly 0 -e MAX_DISK_PERCENT=100
check "nightly: old log compressed" test -f "$WS/logs/old.log.gz" -a ! -e "$WS/logs/old.log"
check "nightly: today's log left alone" test -f "$WS/logs/today.log"
check "nightly: old archive pruned" test ! -e "$WS/logs/ancient.log.gz"
file_has "nightly: report names the rotation" "$RD/out/report/report.txt" "logs/old.log"
file_has "nightly: report checks the backup" "$RD/out/report/report.txt" "ok: backups/db/SHA256SUMS"
echo tampered >>"$WS/backups/db/db.dump"
expect_run "nightly, backup damaged" 1 -e MAX_DISK_PERCENT=100
file_has "nightly: damaged backup reported" "$RD/out/report/report.txt" "MISMATCH: backups/db/SHA256SUMS"

# incident: evidence collected and sealed, report drafted.
init_ws incident
mkdir -p "$WS/logs"
printf 'all good\nERROR: disk quota exceeded\n' >"$WS/logs/app.log"
expect_run incident 0 -e INCIDENT=INC-42
file_has "incident: log errors collected" "$RD/out/log-errors/errors.txt" "logs/app.log:2:ERROR: disk quota"
file_has "incident: machine snapshot" "$RD/out/snapshot/system.txt" "== load"
file_has "incident: report drafted" "$RD/out/report/report.md" "# Incident INC-42"
check "incident: evidence checksums verify" sh -c "cd '$RD/out' && sha256sum --quiet -c seal-evidence/evidence.sha256"
file_has "incident: the seal covers the errors" "$RD/out/seal-evidence/evidence.sha256" "log-errors/errors.txt"

# security-scan: clean, then a planted key and a world-writable file.
init_ws security-scan
printf 'print("hi")\n' >"$WS/app.py"
expect_run security-scan 0
file_has "security-scan: clean report" "$RD/out/report/report.txt" "secrets: 0 finding(s)"
file_has "security-scan: inventory" "$RD/out/inventory/inventory.sha256" "./app.py"
printf 'aws = "AKIA%s"\n' ABCDEFGHIJKLMNOP >"$WS/settings.py"
touch "$WS/open" && chmod 666 "$WS/open"
expect_run "security-scan with findings" 1
file_has "security-scan: the key is found" "$RD/out/secrets/findings.txt" "./settings.py:1: possible secret"
expect_not_in "security-scan: the secret is not copied" "ABCDEFGHIJKLMNOP" "$(cat "$RD/out/secrets/findings.txt")"
file_has "security-scan: world-writable file" "$RD/out/permissions/findings.txt" "./open: world-writable"

# rollout: v1, then v2 failing its health check and rolled back, then v2.
init_ws rollout
expect_run rollout 0
check "rollout: v1 active" test "$(readlink "$WS/deploy/current")" = releases/v1
file_has "rollout: v1 rendered" "$WS/deploy/current/app.conf" "release = v1"
printf '#!/bin/sh\necho "service did not answer" >&2\nexit 1\n' >"$WS/health-check.sh"
chmod 755 "$WS/health-check.sh"
expect_run "rollout v2, unhealthy" 1 -e RELEASE=v2
check "rollout: rolled back to v1" test "$(readlink "$WS/deploy/current")" = releases/v1
check "rollout: staged v2 removed" test ! -e "$WS/deploy/releases/v2"
ev=$("$WM" audit show "${RD##*/}" --event rollback.end 2>&1)
expect_in "rollout: activate rolled back" "activate" "$ev"
expect_in "rollout: stage rolled back" "stage" "$ev"
rm "$WS/health-check.sh"
expect_run "rollout v2" 0 -e RELEASE=v2
check "rollout: v2 active" test "$(readlink "$WS/deploy/current")" = releases/v2
check "rollout: previous is recorded" grep -qx releases/v1 "$WS/deploy/previous"

# ---- rootless: every template as nobody ----
if ! is_root; then
	skip "templates as nobody" "not root: the runs above were rootless already"
	exit 0
fi
if ! userns_ok; then
	skip "templates as nobody" "no unprivileged user namespaces here"
	exit 0
fi
for t in "${TEMPLATES[@]}"; do
	ws=$T/nobody-$t
	mkdir -p "$ws"
	chown nobody:nogroup "$ws"
	out=$(as_user sh -c "cd '$ws' && '$WM' init -t $t >/dev/null && '$WM' run -e MAX_DISK_PERCENT=100 workflow.md" 2>&1)
	rc=$?
	[[ $rc == 0 ]] && pass "$t: runs as nobody" || fail "$t: runs as nobody" "exit $rc: $(tail -15 <<<"$out")"
	[[ $(stat -c %U "$ws/workflow.md") == nobody ]] && pass "$t: nobody's workflow.md is nobody's" ||
		fail "$t: nobody's workflow.md is nobody's" "$(stat -c %U "$ws/workflow.md")"
done
check "nobody: basic report" grep -q "greeted 3 people" "$WM_STATE_DIR".nobody/runs/*/out/report/report.txt
check "nobody: release published" test -s "$T/nobody-release/dist/0.1.0/myproject-0.1.0.tar.gz"
check "nobody: rollout active" test "$(readlink "$T/nobody-rollout/deploy/current")" = releases/v1
