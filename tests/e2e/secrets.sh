#!/usr/bin/env bash
# Secrets: `--secret NAME` (from the environment) and `--secret NAME=@FILE`
# hand values to tasks, and wm never writes them down: not in the state
# directory (options.json, checkpoints, journal, audit log, logs), not in
# an export bundle, not in --json events. Task output shows *** instead,
# also when a value reaches wm in two pieces. `wm resume` asks for the
# values again. Every file of a run is 0600 (its scripts 0644, inside the
# 0700 run directory), every directory 0700.
. "$(dirname "$0")/../lib.sh"

S=$WM_STATE_DIR
W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
# Values that appear nowhere but in the environment and the secret file.
TOKEN=tok-$RANDOM$RANDOM-zq
DBPASS=db-$RANDOM$RANDOM-xk
TOKEN2=tok-$RANDOM$RANDOM-yv

# found_nowhere NAME DIR: no file under DIR holds $TOKEN, $TOKEN2 or
# $DBPASS, zstd-compressed checkpoints read decompressed.
found_nowhere() {
	local name=$1 dir=$2 hits f
	hits=$(grep -rlF -e "$TOKEN" -e "$TOKEN2" -e "$DBPASS" "$dir")
	for f in $(find "$dir" -name '*.zst*' -type f); do
		zstdcat "$f" 2>/dev/null | grep -qF -e "$TOKEN" -e "$TOKEN2" -e "$DBPASS" &&
			hits+=" $f"
	done
	if [[ -z $hits ]]; then pass "$name"; else fail "$name" "value found in: $hits"; fi
}

cat >"$W/deploy.md" <<'MD'
---
secrets: [API_TOKEN]
---
# Deploy

## show
```sh
echo "token is $API_TOKEN"
echo "db is $DB_PASSWORD"
printf '%s' "$API_TOKEN" > "$WM_WORKSPACE/seen-token"
printf '%s' "$DB_PASSWORD" > "$WM_WORKSPACE/seen-db"
```

## split
- depends: show

```bash
# The value reaches wm in two reads of the pipe.
printf 'x=%s' "${API_TOKEN:0:6}"; sleep 0.3; printf '%s.\n' "${API_TOKEN:6}"
```

## gate
- depends: split

```sh
echo "gate sees $API_TOKEN"
test -e "$WM_WORKSPACE/open"
```
MD
printf '%s\n' "$DBPASS" >"$T/db.secret"
chmod 600 "$T/db.secret"

# ---- what must be given, before anything runs ----
expect_exit "a declared secret not given: exit 2" 2 env -u API_TOKEN "$WM" run "$W/deploy.md"
expect_in "it is named, with how to give it" "declares secret API_TOKEN: give it with --secret API_TOKEN" "$OUT"
check "nothing ran" test ! -e "$S/runs" -o -z "$(ls "$S/runs" 2>/dev/null)"
expect_exit "--secret of an unset variable: exit 2" 2 env -u API_TOKEN "$WM" run --secret API_TOKEN "$W/deploy.md"
expect_in "the unset one is named" "secret API_TOKEN is not set in the environment" "$OUT"
expect_exit "a value on the command line is refused" 2 "$WM" run --secret "API_TOKEN=$TOKEN" "$W/deploy.md"
expect_not_in "and not repeated" "$TOKEN" "$OUT"
expect_exit "an unreadable secret file: exit 2" 2 env API_TOKEN="$TOKEN" "$WM" run --secret API_TOKEN \
	--secret DB_PASSWORD=@"$T/nope" "$W/deploy.md"
expect_in "the file is named" "secret DB_PASSWORD: cannot read \`$T/nope\`" "$OUT"
check "still nothing ran" test -z "$(ls "$S/runs" 2>/dev/null)"
expect_exit "plan shows the names" 0 "$WM" plan --format json "$W/deploy.md"
check "plan json lists secrets" jq -e '.workflow.secrets == ["API_TOKEN"]' <<<"$OUT"

# ---- a run: tasks get the values, wm writes *** ----
(umask 022 && API_TOKEN=$TOKEN "$WM" run --json --secret API_TOKEN --secret DB_PASSWORD=@"$T/db.secret" \
	"$W/deploy.md" >"$T/events.json" 2>"$T/err")
check "the run ends with gate failing (exit 1)" test $? = 1
RUN=$(ls -d "$S"/runs/*/ | head -1)
RUN=${RUN%/}
ID=${RUN##*/}
check "the task got the real token" test "$(cat "$W/seen-token")" = "$TOKEN"
check "the task got the file's value, its newline dropped" test "$(cat "$W/seen-db")" = "$DBPASS"
check "every --json line parses" jq -e . "$T/events.json" >/dev/null
check "--json has the events" grep -q '"event":"task.end"' "$T/events.json"
check "run.start names the secrets, not their values" \
	jq -s -e 'map(select(.event == "run.start"))[0].secrets == [{"name": "API_TOKEN", "file": null}, {"name": "DB_PASSWORD", "file": "'"$T"'/db.secret"}]' "$T/events.json"
found_nowhere "no value in the --json stream" "$T/events.json"
found_nowhere "no value anywhere in the state directory" "$S"
check "options.json keeps names and the file's path" \
	jq -e '.secrets == [{"file": null, "name": "API_TOKEN"}, {"file": "'"$T"'/db.secret", "name": "DB_PASSWORD"}]' "$RUN/options.json"
expect_exit "wm logs" 0 "$WM" logs "$ID" show
expect_in "the log shows *** for the token" "token is ***" "$OUT"
expect_in "and for the file's value" "db is ***" "$OUT"
expect_exit "wm logs of the split value" 0 "$WM" logs "$ID" split
expect_in "a value split across two reads is masked" "x=***." "$OUT"
expect_not_in "no piece of it is left" "${TOKEN:6}" "$OUT"

# Modes: with umask 022, still private.
check "no file of the run is other than 0600" test -z "$(find "$RUN" ! -type d ! -perm 600 ! -path "*/scripts/*")"
check "no directory of the run is other than 0700" test -z "$(find "$RUN" -type d ! -perm 700)"
check "scripts are 0644 inside the 0700 run directory" \
	test -z "$(find "$RUN/scripts" -type f ! -perm 644)" -a -n "$(ls "$RUN/scripts")"
check "there were files to check" test "$(find "$RUN" -type f | wc -l)" -gt 10

# ---- export ----
expect_exit "export" 0 "$WM" export "$ID" -o "$T/bundle.tar.zst"
check "the bundle is 0600" test "$(stat -c %a "$T/bundle.tar.zst")" = 600
mkdir "$T/x"
check "the bundle extracts" tar -I zstd -xf "$T/bundle.tar.zst" -C "$T/x"
check "it holds the logs" test -s "$T/x/$ID/logs/show.log"
found_nowhere "no value in the export bundle" "$T/x"

# ---- resume asks again ----
touch "$W/open"
expect_exit "resume without the variable: exit 2" 2 env -u API_TOKEN "$WM" resume "$ID"
expect_in "resume names what is missing" "secret API_TOKEN is not set in the environment" "$OUT"
mv "$T/db.secret" "$T/db.moved"
expect_exit "resume without the secret file: exit 2" 2 env API_TOKEN="$TOKEN" "$WM" resume "$ID"
expect_in "resume names the file" "secret DB_PASSWORD: cannot read \`$T/db.secret\`" "$OUT"
mv "$T/db.moved" "$T/db.secret"
check "nothing ran meanwhile" test "$(task_field "$RUN" gate attempts)" = 1
# A changed value is not a changed task: show and split are kept.
expect_exit "resume with the variable set again" 0 env API_TOKEN="$TOKEN2" "$WM" resume "$ID"
check "the run succeeded" test "$(checkpoint "$RUN" | jq -r .state)" = succeeded
check "show and split were kept" grep -q '"event":"run.resume".*"kept":\["show","split"\]' "$RUN/audit.jsonl"
expect_exit "wm logs gate" 0 "$WM" logs "$ID" gate
expect_in "the new value is masked too" "gate sees ***" "$OUT"
found_nowhere "no value in the state directory after resume" "$S"
check "still no file other than 0600" test -z "$(find "$RUN" ! -type d ! -perm 600 ! -path "*/scripts/*")"

# ---- values too short to mask, -e next to --secret ----
cat >"$W/short.md" <<'MD'
## pin
```sh
echo "pin $PIN"
```
MD
expect_exit "a 3-byte secret runs" 0 env PIN=987 "$WM" run --secret PIN "$W/short.md"
expect_in "with a warning that it is not masked" "secret PIN is shorter than 4 bytes" "$OUT"
expect_exit "its log" 0 "$WM" logs "$(basename "$(run_dir_of "$OUT")")" pin
expect_in "shows it (too short to mask)" "pin 987" "$OUT"
expect_exit "-e and --secret for one name: exit 2" 2 env PIN=9876 "$WM" run --secret PIN -e PIN=1 "$W/short.md"
expect_in "the conflict is named" "PIN is given both with -e and with --secret" "$OUT"

# ---- events: a value in an event's fields is masked in the audit log and --json ----
# The missing output's name is the value, so the decision's reason holds it.
export WM_STATE_DIR=$T/state-events
cat >"$W/events.md" <<'MD'
## out
- outputs: report-7731.txt

```sh
true
```
MD
expect_exit "a missing output fails" 1 env REPORT=report-7731.txt "$WM" run --json --secret REPORT "$W/events.md"
expect_in "--json masks the reason" "declared output '***' is missing" "$OUT"
expect_not_in "--json has no value" "report-7731" "$OUT"
ERUN=$(ls -d "$WM_STATE_DIR"/runs/*/ | head -1)
check "the audit log masks it" grep -q "declared output '\*\*\*' is missing" "$ERUN/audit.jsonl"
check "the audit log has no value" test -z "$(grep -F report-7731 "$ERUN/audit.jsonl")"
ERUN=${ERUN%/}
expect_exit "the audit log still verifies" 0 "$WM" audit verify "${ERUN##*/}"
export WM_STATE_DIR=$S

# ---- rootless ----
if ! is_root; then
	skip "as nobody" "not root: the run above was rootless"
elif ! userns_ok; then
	skip "as nobody" "unprivileged user namespaces are not available"
else
	NW=$T/ws-nobody
	mkdir -p "$NW"
	cp "$W/deploy.md" "$NW/"
	printf '%s\n' "$DBPASS" >"$NW/db.secret"
	chmod 600 "$NW/db.secret"
	chown -R nobody "$NW"
	expect_exit "as nobody: the run stops at gate" 1 as_user env API_TOKEN="$TOKEN" \
		"$WM" run --secret API_TOKEN --secret DB_PASSWORD=@"$NW/db.secret" "$NW/deploy.md"
	NRUN=$(run_dir_of "$OUT")
	NRUN=${NRUN/#$S/$S.nobody}
	check "as nobody: the task got the token" test "$(cat "$NW/seen-token")" = "$TOKEN"
	check "as nobody: and the file's value" test "$(cat "$NW/seen-db")" = "$DBPASS"
	found_nowhere "as nobody: no value in the state directory" "$S.nobody"
	check "as nobody: the log masks it" grep -q "token is \*\*\*" "$NRUN/logs/show.log"
	check "as nobody: the split value is masked" grep -q "x=\*\*\*\." "$NRUN/logs/split.log"
	check "as nobody: the run belongs to nobody" test "$(stat -c %U "$NRUN/options.json")" = nobody
	check "as nobody: files 0600" test -z "$(find "$NRUN" ! -type d ! -perm 600 ! -path "*/scripts/*")"
	check "as nobody: directories 0700" test -z "$(find "$NRUN" -type d ! -perm 700)"
	as_user touch "$NW/open"
	expect_exit "as nobody: resume without the variable: exit 2" 2 as_user "$WM" resume "${NRUN##*/}"
	expect_in "as nobody: it is named" "secret API_TOKEN is not set" "$OUT"
	expect_exit "as nobody: resume with it" 0 as_user env API_TOKEN="$TOKEN2" "$WM" resume "${NRUN##*/}"
	check "as nobody: the new value is masked" grep -q "gate sees \*\*\*" "$NRUN/logs/gate.log"
	found_nowhere "as nobody: no value in the state directory after resume" "$S.nobody"
fi
