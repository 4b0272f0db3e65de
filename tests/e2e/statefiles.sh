#!/usr/bin/env bash
# Hostile state files: links a task plants in its run directory are never
# followed (nothing outside is written, even as root), and FIFOs, devices,
# links and huge files in place of state files give a clear error, never a
# hang or a memory blow-up. Every planted link points into this test's own
# $T; reads that could blow up run under a memory cap and a hang guard, so
# a wm that fails these checks harms nothing.
. "$(dirname "$0")/../lib.sh"

MKRUN=$(dirname "$WM")/tests/mkrun
S=$WM_STATE_DIR
V=$T/victims
mkdir -p "$V/outdir" "$T/ws"
chmod 777 "$T/ws"
for f in log script tmp; do echo precious >"$V/$f"; done
echo keep >"$V/outdir/keep"
chmod -R a+rwX "$V"
intact() { [[ $(cat "$V/$1") == precious ]]; }

# guard CMD...: runs CMD with a hang guard and a memory cap: 1 GB of
# address space, or under AddressSanitizer (which reserves terabytes of
# address space for its shadow) its own resident-memory limit.
if ldd "$WM" 2>/dev/null | grep -q libasan; then
	guard() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1500" timeout 30 "$@"; }
else
	guard() { (ulimit -v 1000000; timeout 30 "$@"); }
fi

# ---- links planted in the run directory ----
# A task cannot reach its run directory at all: the state directory is
# masked in every sandbox, minimal's included, so its attempt fails.
cat >"$T/ws/plant-task.md" <<'MD'
# Plant from a task
## plant
- policy: minimal

```sh
R=$(dirname "$(dirname "$WM_OUT")")
ln -s "$VICTIMS/log" "$R/logs/by-log.log"
```
MD
expect_exit "a task cannot plant links in its run directory" 1 env VICTIMS="$V" "$WM" run --yes "$T/ws/plant-task.md"
RUN=$(run_dir_of "$OUT")
check "the task's link was never made" test ! -L "$RUN/logs/by-log.log"
check "the log target is untouched after the task's attempt" intact log

# Links planted from outside (a state directory someone else could write):
# the "wait" task holds the run until the test has planted them.
cat >"$T/ws/plant.md" <<'MD'
# Plant
## dep
- policy: minimal

```sh
echo out > "$WM_OUT/file"
```

## wait
- depends: dep
- policy: minimal

```sh
while [ ! -e "$WM_WORKSPACE/planted" ]; do sleep 0.05; done
```

## by-log
- depends: wait
- policy: minimal

```sh
echo hello
```

## by-script
- depends: wait
- policy: minimal

```sh
echo hello
```

## by-out
- depends: dep, wait
- policy: minimal

```sh
ls "$WM_IN/dep"
```
MD
rm -f "$T/ws/planted"
"$WM" run --yes --keep-going "$T/ws/plant.md" >"$T/plant.out" 2>&1 &
runner=$!
R=
for _ in $(seq 100); do
	R=$(ls -d "$S"/runs/*/ 2>/dev/null | while read -r d; do
		grep -qs '^## wait' "$d/workflow.md" && [[ -e $d/out/dep/file ]] && echo "${d%/}"
	done | head -1)
	[[ -n $R ]] && break
	sleep 0.1
done
if [[ -n $R ]]; then
	ln -s "$V/log" "$R/logs/by-log.log"
	mkdir -p "$R/scripts"
	ln -s "$V/script" "$R/scripts/by-script.body"
	rm -rf "$R/out/dep"
	ln -s "$V/outdir" "$R/out/dep"
	ln -s "$V/tmp" "$R/checkpoint.json.zst.tmp"
fi
touch "$T/ws/planted"
wait "$runner"
rc=$?
OUT=$(cat "$T/plant.out")
check "the plant run was found while it waited" test -n "$R"
check "a run with planted links fails" test "$rc" = 1
check "the planted log target is untouched" intact log
check "the planted script target is untouched" intact script
check "the planted checkpoint temporary's target is untouched" intact tmp
check "the linked output directory keeps its file" test -e "$V/outdir/keep"
expect_in "the log link is named" "logs/by-log.log\` is a symbolic link" "$OUT"
expect_in "the script link is named" "by-script.body\` is a symbolic link" "$OUT"
expect_in "the checkpoint temporary link is named" "checkpoint.json.zst.tmp\` is a symbolic link" "$OUT"
expect_in "the output directory link is named" "out/dep\` is a symbolic link" "$OUT"
check "the task behind a linked log did not run" test "$(jq -r '.tasks["by-log"].state' < <("$WM" status --json "${R##*/}"))" = failed
check "the task reading a linked \$WM_IN did not run" test "$(jq -r '.tasks["by-out"].state' < <("$WM" status --json "${R##*/}"))" = failed

# Links a task plants inside its own $WM_OUT: emptying it before the retry
# removes the links, never what they point at.
cat >"$T/ws/retry.md" <<'MD'
# Retry
## flaky
- retries: 1
- backoff: 10ms

```sh
if [ "$WM_ATTEMPT" = 1 ]; then
	ln -s "$VICTIMS/outdir" "$WM_OUT/dir-link"
	ln -s "$VICTIMS/log" "$WM_OUT/file-link"
	mkdir -p "$WM_OUT/deep/er" && ln -s "$VICTIMS" "$WM_OUT/deep/er/up"
	exit 1
fi
test ! -e "$WM_OUT/dir-link"
```
MD
expect_exit "a task that plants links in its \$WM_OUT and retries" 0 env VICTIMS="$V" "$WM" run "$T/ws/retry.md"
check "the linked directory keeps its file after the emptying" test -e "$V/outdir/keep"
check "the linked file is untouched" intact log
check "the victims directory is still there" test -d "$V"

if [[ ! -x $MKRUN ]]; then
	skip "special state files" "build/tests/mkrun not built"
	exit 0
fi

# ---- FIFOs, devices, links, huge files in place of state files ----
# fresh_run: a finished run and an orphan, made through the state API.
id=$("$MKRUN" --tasks 3 --run-state succeeded --name fifo)
R=$S/runs/$id

swap_fifo() { rm -f "$1" && mkfifo "$1"; }
restore() { rm -rf "$R" && cp -a "$T/saved" "$R"; }

cp -a "$R" "$T/saved"

for f in checkpoint.json.zst journal.jsonl lock; do
	restore
	swap_fifo "$R/$f"
	[[ $f == checkpoint.json.zst ]] && rm -f "$R/checkpoint.json.zst.prev" "$R/summary.json"
	expect_exit "FIFO as $f: list does not hang" 0 guard "$WM" list
	expect_exit "FIFO as $f: orphans does not hang" 0 guard "$WM" orphans
	guard "$WM" status "$id" >"$T/st.out" 2>&1
	rc=$?
	check "FIFO as $f: status does not hang" test "$rc" != 124
	if [[ $f != lock ]]; then
		expect_in "FIFO as $f: named as a FIFO" "$f\` is a FIFO" "$(cat "$T/st.out")"
	fi
done

restore
swap_fifo "$R/audit.jsonl"
expect_exit "FIFO as audit.jsonl: verify exits 2" 2 guard "$WM" audit verify "$id"
expect_in "FIFO as audit.jsonl: named" "audit.jsonl\` is a FIFO" "$OUT"
expect_exit "FIFO as audit.jsonl: show exits 2" 2 guard "$WM" audit show "$id"

restore
rm -f "$R/audit.jsonl"
ln -s /dev/zero "$R/audit.jsonl"
expect_exit "audit.jsonl -> /dev/zero: verify exits 2" 2 guard "$WM" audit verify "$id"
expect_in "audit.jsonl -> /dev/zero: the link is named" "audit.jsonl\` is a symbolic link" "$OUT"

restore
rm -f "$R/audit.jsonl"
if mknod "$R/audit.jsonl" c 1 5 2>/dev/null; then
	expect_exit "a device as audit.jsonl: verify exits 2" 2 guard "$WM" audit verify "$id"
	expect_in "a device as audit.jsonl: named" "character device" "$OUT"
else
	skip "a device as audit.jsonl" "mknod needs root"
fi

restore
rm -f "$R/audit.jsonl"
truncate -s 3G "$R/audit.jsonl" # sparse: no disk used
expect_exit "a 3 GB audit.jsonl: verify exits 2" 2 guard "$WM" audit verify "$id"
expect_in "a 3 GB audit.jsonl: the limit is named" "over the limit" "$OUT"

restore
rm -f "$R/checkpoint.json.zst" "$R/checkpoint.json.zst.prev" "$R/summary.json"
truncate -s 1G "$R/checkpoint.json.zst"
guard "$WM" status "$id" >"$T/st.out" 2>&1
check "a 1 GB checkpoint: status exits" test "$?" != 124
expect_in "a 1 GB checkpoint: the limit is named" "over the limit" "$(cat "$T/st.out")"

# audit.key: a link to a copy of itself is still refused, exit 2.
restore
cp -a "$S/audit.key" "$T/key.copy"
mv "$S/audit.key" "$T/key.orig"
ln -s "$T/key.copy" "$S/audit.key"
expect_exit "a symlinked audit.key: verify exits 2" 2 "$WM" audit verify "$id"
expect_in "a symlinked audit.key: the link is named" "audit.key\` is a symbolic link" "$OUT"
rm -f "$S/audit.key"
mkfifo "$S/audit.key"
expect_exit "a FIFO as audit.key: verify exits 2" 2 guard "$WM" audit verify "$id"
rm -f "$S/audit.key"
mv "$T/key.orig" "$S/audit.key"
expect_exit "with the real key back, verify is intact" 0 "$WM" audit verify "$id"

# resume with a FIFO as options.json: a clear error, exit 2.
oid=$("$MKRUN" --tasks 2 --states succeeded,running --run-state running --name orph)
swap_fifo "$S/runs/$oid/options.json"
expect_exit "FIFO as options.json: resume exits 2" 2 guard "$WM" resume "$oid"
expect_in "FIFO as options.json: named" "options.json\` is a FIFO" "$OUT"

# The state directory the user names may itself be a link (to another
# disk, say); runs/ inside it may not.
printf '## ok\n```sh\ntrue\n```\n' >"$T/ws/ok.md"
mkdir -p "$T/real-state" "$T/elsewhere" "$T/s2"
ln -s "$T/real-state" "$T/linked-state"
lid=$(WM_STATE_DIR="$T/linked-state" "$MKRUN" --tasks 2 --run-state succeeded)
check "a run in a linked state directory" test -d "$T/real-state/runs/$lid"
expect_exit "lists" 0 env WM_STATE_DIR="$T/linked-state" "$WM" list
expect_in "with its run" "$lid  succeeded" "$OUT"
expect_exit "verifies" 0 env WM_STATE_DIR="$T/linked-state" "$WM" audit verify "$lid"
ln -s "$T/elsewhere" "$T/s2/runs"
expect_exit "a linked runs/ is refused" 1 env WM_STATE_DIR="$T/s2" "$WM" run "$T/ws/ok.md"
expect_in "the link is named" "runs\` is a symbolic link" "$OUT"
check "nothing was written through it" test -z "$(ls "$T/elsewhere")"
