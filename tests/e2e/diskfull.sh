#!/usr/bin/env bash
# A state directory that is unwritable, or fills up mid-run: the run stops
# cleanly with a clear message, and once space is back `wm resume` finishes it.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
cat >"$W/steps.md" <<'MD'
# Steps
## one
```sh
echo one >> "$WM_WORKSPACE/ran"
sleep 1
```
## two
- depends: one

```sh
echo two >> "$WM_WORKSPACE/ran"
```
## three
- depends: two

```sh
echo three >> "$WM_WORKSPACE/ran"
```
MD

# ---- unwritable state directory ----
ro=$T/ro-state
mkdir -p "$ro"
chmod 555 "$ro"
if is_root; then
	expect_exit "unwritable state dir fails cleanly" 1 as_user env WM_STATE_DIR="$ro" "$WM" run "$W/steps.md"
else
	expect_exit "unwritable state dir fails cleanly" 1 env WM_STATE_DIR="$ro" "$WM" run "$W/steps.md"
fi
expect_in "the message names the directory" "$ro" "$OUT"
check "no task ran" test ! -e "$W/ran"

# ---- the disk fills up during the run ----
if ! is_root; then
	skip "disk full mid-run" "mounting a small tmpfs needs root"
	exit 0
fi
small=$T/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=2M tmpfs "$small"; then
	skip "disk full mid-run" "cannot mount a tmpfs here"
	exit 0
fi
trap 'umount "$small" 2>/dev/null; rm -rf "$T"' EXIT
export WM_STATE_DIR=$small/state
"$WM" run "$W/steps.md" >"$T/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^run ' "$T/out" && [[ -e $W/ran ]] && break; sleep 0.05; done
# Fill every free byte while task one sleeps.
dd if=/dev/zero of="$small/filler" bs=64k 2>/dev/null
wait "$pid"
rc=$?
check "a full disk stops the run with a failure status" test "$rc" -ne 0
check "the message says the disk is full" grep -q "No space left on device" "$T/out"
check "it says how to resume" grep -q "wm resume" "$T/out"
check "nothing after the full disk ran" test "$(cat "$W/ran")" = one
RUN=$(run_dir_of "$(cat "$T/out")")
rm -f "$small/filler"
expect_exit "with space back, resume finishes the run" 0 "$WM" resume "${RUN##*/}"
check "every task ran" test "$(sort -u "$W/ran" | tr "\n" " ")" = "one three two "
expect_exit "the audit log verifies after the full disk" 0 "$WM" audit verify "${RUN##*/}"
