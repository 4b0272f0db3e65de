#!/usr/bin/env bash
# wm outputs and wm cp: where a run's task outputs are, and copying them
# out safely. A task is hostile: it plants links to files only root can
# read (/etc/shadow, a 0600 file of this test), a FIFO, a setuid file and a
# link to a directory; wm cp never follows, opens or keeps any of them.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"
# A file only root can read, outside every run.
echo "root only" >"$T/root-only"
chmod 600 "$T/root-only"

cat >"$W/outs.md" <<MD
---
name: outs
---
## build
\`\`\`sh
mkdir -p "\$WM_OUT/dist/sub"
echo hello >"\$WM_OUT/report.txt"
head -c 3000 /dev/zero >"\$WM_OUT/dist/app.bin"
echo deep >"\$WM_OUT/dist/sub/deep.txt"
printf 'secret' >"\$WM_OUT/private.key"
chmod 640 "\$WM_OUT/private.key"
cp /bin/true "\$WM_OUT/tool"
chmod 4755 "\$WM_OUT/tool"
chmod 2755 "\$WM_OUT/dist"
ln -s /etc/shadow "\$WM_OUT/shadow"
ln -s $T/root-only "\$WM_OUT/root-only"
ln -s / "\$WM_OUT/root"
ln -s report.txt "\$WM_OUT/latest"
mkfifo "\$WM_OUT/pipe"
\`\`\`

## test
- depends: build

\`\`\`sh
true
\`\`\`

## publish
- depends: test
- only_if: false

\`\`\`sh
true
\`\`\`
MD

expect_exit "the planting run" 0 "$WM" run "$W/outs.md"
R=$(run_dir_of "$OUT")
id=${R##*/}
short=${id:0:17}
O=$R/out/build
check "the task left its links" test -L "$O/shadow" -a -L "$O/root-only" -a -p "$O/pipe"

# ---- wm outputs ----
expect_exit "outputs" 0 "$WM" outputs "$short"
expect_in "names each task's directory" "build: $O/  (5 files," "$OUT"
expect_in "each file with its size" "    2.9K  dist/app.bin" "$OUT"
expect_in "bytes below 1K" "      6B  report.txt" "$OUT"
expect_in "a link with its target, not followed" "shadow -> /etc/shadow  (symbolic link, not followed)" "$OUT"
expect_in "a FIFO named as such" "pipe  (FIFO, not copied)" "$OUT"
expect_in "a task with nothing" "test: $R/out/test/  (empty)" "$OUT"
expect_in "every task" "publish: " "$OUT"
expect_exit "outputs of one task" 0 "$WM" outputs "$id" test
expect_not_in "only that task" "build:" "$OUT"
expect_exit "an unknown task" 2 "$WM" outputs "$id" bild
expect_in "did you mean" "run $id has no task 'bild' (did you mean 'build'?)" "$OUT"
expect_exit "a task far from any" 2 "$WM" outputs "$id" zzzzzz
expect_in "lists the tasks" "(its tasks: build, test, publish)" "$OUT"
expect_exit "an unknown run" 2 "$WM" outputs 19990101
J=$("$WM" outputs "$id" build --json)
check "--json: an object per task" test "$(jq -r 'length, .[0].task, .[0].exists' <<<"$J" | xargs)" = "1 build true"
check "--json: file sizes" test "$(jq '.[0].entries[] | select(.path == "dist/app.bin") | .size' <<<"$J")" = 3000
check "--json: the total" test "$(jq ".[0].files" <<<"$J")" = 5
check "--json: link targets" test "$(jq -r '.[0].entries[] | select(.path == "shadow") | .target' <<<"$J")" = /etc/shadow
check "--json: modes" test "$(jq -r '.[0].entries[] | select(.path == "tool") | .mode' <<<"$J")" = 4755
check "--json: the directory" test "$(jq -r '.[0].dir' <<<"$J")" = "$O"

# ---- wm cp: refusals ----
D=$T/dest
mkdir -p "$D"
expect_exit "cp a link to /etc/shadow is refused" 1 "$WM" cp "$id:build/shadow" "$D/"
expect_in "named, with its target" "shadow\` is a symbolic link (to \`/etc/shadow\`): wm cp never follows links a task left" "$OUT"
check "nothing was written" test -z "$(ls -A "$D")"
expect_exit "cp a link to a root-only file is refused" 1 "$WM" cp "$id:build/root-only" "$D/copy"
check "not even under another name" test ! -e "$D/copy"
expect_exit "cp through a link to a directory is refused" 1 "$WM" cp "$id:build/root/etc/passwd" "$D/"
expect_in "the link is named" "build/root\` is a symbolic link" "$OUT"
check "nothing was written through it" test -z "$(ls -A "$D")"
expect_exit "cp a FIFO is refused, without hanging" 1 timeout 20 "$WM" cp "$id:build/pipe" "$D/"
expect_in "named as a FIFO" "pipe\` is a FIFO: only regular files and directories are copied" "$OUT"
expect_exit "cp with .. is refused" 2 "$WM" cp "$id:build/../test" "$D/"
expect_in "saying why" "\`..\` in \`build/../test\`" "$OUT"
expect_exit "cp of a task that is not there" 2 "$WM" cp "$id:biuld/report.txt" "$D/"
expect_in "did you mean" "(did you mean 'build'?)" "$OUT"
expect_exit "cp of a path that is not there" 2 "$WM" cp "$id:build/nope.txt" "$D/"
expect_exit "cp of an unknown run" 2 "$WM" cp "19990101:build" "$D/"
expect_exit "cp without RUN:" 2 "$WM" cp build/report.txt "$D/"
expect_exit "cp without DEST" 2 "$WM" cp "$id:build/report.txt"
check "still nothing written" test -z "$(ls -A "$D")"

# ---- wm cp: files and trees ----
expect_exit "cp a file into a directory" 0 "$WM" cp "$short:build/report.txt" "$D"
check "it is there" test "$(cat "$D/report.txt")" = hello
expect_in "says what it copied" "copied 1 file (6B) to $D/report.txt" "$OUT"
expect_exit "cp a file to a new name" 0 "$WM" cp "$id:build/private.key" "$D/key"
check "with its content" test "$(cat "$D/key")" = secret
check "and its mode" test "$(stat -c %a "$D/key")" = 640
expect_exit "cp a setuid file" 0 "$WM" cp "$id:build/tool" "$D/tool"
check "loses setuid, keeps the rest" test "$(stat -c %a "$D/tool")" = 755
expect_exit "cp over an existing file" 0 "$WM" cp "$id:build/report.txt" "$D/key"
check "replaces its content" test "$(cat "$D/key")" = hello
expect_exit "cp onto the file itself is refused" 1 "$WM" cp "$id:build/report.txt" "$O/report.txt"
check "which is intact" test "$(cat "$O/report.txt")" = hello
expect_exit "cp a directory with a trailing /" 0 "$WM" cp "$id:build/dist/" "$D/dist-copy"
check "its files" test "$(cat "$D/dist-copy/sub/deep.txt")" = deep
check "its sizes" test "$(stat -c %s "$D/dist-copy/app.bin")" = 3000
check "a directory loses setgid" test "$(stat -c %a "$D/dist-copy")" = 755

mkdir "$D/tree"
expect_exit "cp a whole task's outputs: links and FIFOs are left" 1 "$WM" cp "$id:build" "$D/tree"
expect_in "each is a warning" "wm: warning: \`$O/shadow\` is a symbolic link (to \`/etc/shadow\`)" "$OUT"
expect_in "the FIFO too" "wm: warning: \`$O/pipe\` is a FIFO" "$OUT"
expect_in "the exit says how many" "5 entries were not copied (see the warnings above)" "$OUT"
expect_in "what was copied is said" "copied 5 files in 3 directories" "$OUT"
check "the files are there" test -f "$D/tree/build/report.txt" -a -f "$D/tree/build/dist/sub/deep.txt"
check "no link was copied or followed" test -z "$(find "$D/tree" -type l -o -type p)"
check "no shadow, no root-only content" test -z "$(grep -rl -e 'root only' -e 'root:' "$D/tree")"
setuid=$(find "$D" -perm /6000 | head -1)
check "no setuid or setgid bit anywhere" test -z "$setuid"

# ---- as an unprivileged user ----
if is_root; then
	if userns_ok; then
		expect_exit "as nobody: the planting run" 0 as_user "$WM" run "$W/outs.md"
		nid=$(sed -n 's/^run \([0-9-]*[0-9a-f]\{4\}\).*/\1/p' <<<"$OUT" | head -1)
		mkdir -p "$T/nobody-dest"
		chown nobody "$T/nobody-dest"
		expect_exit "as nobody: cp a link to a root-only file is refused" 1 as_user "$WM" cp "$nid:build/root-only" "$T/nobody-dest/"
		expect_in "as nobody: refused as a link, not for lack of permission" "is a symbolic link (to \`$T/root-only\`)" "$OUT"
		expect_exit "as nobody: cp a file" 0 as_user "$WM" cp "$nid:build/private.key" "$T/nobody-dest/k"
		check "as nobody: it is the user's, mode kept" test "$(stat -c '%U %a' "$T/nobody-dest/k")" = "nobody 640"
		expect_exit "as nobody: outputs" 0 as_user "$WM" outputs "$nid" build
		expect_in "as nobody: lists the files" "2.9K  dist/app.bin" "$OUT"
	else
		skip "wm cp as nobody" "unprivileged user namespaces are disabled on this host"
	fi
fi
