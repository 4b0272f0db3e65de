#!/usr/bin/env bash
# Other tools' Markdown: a maskfile, an xc README and a runme runbook run
# under wm, each task in its sandbox. Such files (and any README.md) are
# menus: `wm run FILE` lists the tasks and exits 2; named tasks run with
# what they depend on; --all runs them all. Mask's arguments and options
# are checked parameters; `$MASK sub` is warned about at its line; a
# transcript body is refused; `wm import` writes a native file that plans
# the same tasks.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W/src"
chmod -R 777 "$W"
cp "$REPO_DIR/tests/data/dialects/maskfile.md" "$W/maskfile.md"
cp "$REPO_DIR/tests/data/dialects/xc-README.md" "$W/README.md"
cp "$REPO_DIR/tests/data/dialects/runme.md" "$W/runbook.md"

# ---- menus ----
expect_exit "a maskfile run whole is refused" 2 "$WM" run "$W/maskfile.md"
expect_in "it lists its tasks with their first prose line" "db.migrate  Migrate the database." "$OUT"
expect_in "it asks for names or --all" "name the tasks to run" "$OUT"
check "nothing ran" test ! -e "$W/out.build"
check "no run was made" test ! -d "$WM_STATE_DIR/runs"
n=$(grep -c '^wm: ' <<<"$OUT")
expect_in "one wm: line" "1" "$n"

expect_exit "an xc README run whole is refused" 2 "$WM" run "$W/README.md"
expect_in "the xc menu lists ci" "ci" "$OUT"

# ---- mask: parameters and $MASK ----
expect_exit "a wrong-typed option is rejected" 2 "$WM" run "$W/maskfile.md" build -p target=x \
	-p jobs=many
expect_in "the error names the parameter" "parameter \`jobs\` (int)" "$OUT"
expect_exit "a missing argument is rejected" 2 "$WM" run "$W/maskfile.md" build -p jobs=2
expect_in "the error names the argument" "target" "$OUT"
check "nothing ran" test ! -e "$W/out.build"

expect_exit "a named mask task runs" 0 "$WM" run "$W/maskfile.md" build -p target=arm -p jobs=4 \
	-p release=true
expect_in "the \$MASK call is warned about at its line" "maskfile.md:27:1: warning:" "$OUT"
expect_in "the warning suggests depends" "- depends: build" "$OUT"
got=$(cat "$W/out.build" 2>&1)
expect_in "mask's variables are set" "build arm release=true jobs=4 dir=$W" "$got"
RUN_DIR=$(run_dir_of "$OUT")
check "only the named task ran" test "$(checkpoint "$RUN_DIR" | jq -r '.tasks | keys | join(",")')" = build
check "it ran under the standard policy" \
	test "$(checkpoint "$RUN_DIR" | jq -r '.tasks.build.policy // empty')" != minimal

expect_exit "a task calling \$MASK fails clearly" 1 "$WM" run "$W/maskfile.md" db.migrate
expect_in "the failure says why" "no-MASK-in-a-sandbox--declare-depends-instead" "$OUT"

# ---- xc: dependencies, directory, env, inputs ----
rm -f "$W/out.lint" "$W/out.build"
expect_exit "a named xc task runs with its dependencies" 0 "$WM" run "$W/README.md" build \
	-p VERSION=1.2
check "its dependency ran" test -e "$W/out.lint"
expect_in "Directory, Env and Inputs reach the script" "build 1.2 fast src" "$(cat "$W/out.build" 2>&1)"
RUN_DIR=$(run_dir_of "$OUT")
check "ci was not run" test "$(task_field "$RUN_DIR" ci state)" = null
expect_exit "--all runs every task" 0 "$WM" run "$W/README.md" --all -p VERSION=2
RUN_DIR=$(run_dir_of "$OUT")
check "ci ran with --all" test "$(task_field "$RUN_DIR" ci state)" = succeeded
expect_exit "--all and a task name exclude each other" 2 "$WM" run "$W/README.md" --all lint

# ---- a native README.md: a menu whose examples are not errors ----
mkdir -p "$W/proj"
cat >"$W/proj/README.md" <<'MD'
# Project

## Install

```
make install
```

## hello

Say hello.

```sh
echo hello > "$WM_WORKSPACE/hello.out"
```

## bye

```sh
echo bye > "$WM_WORKSPACE/bye.out"
```
MD
chmod -R 777 "$W/proj"
expect_exit "a native README.md run whole is refused" 2 "$WM" run "$W/proj/README.md"
expect_in "it lists hello with its first line" "Say hello." "$OUT"
expect_in "its untagged example is a warning" "README.md:5:1: warning: code block without a language" "$OUT"
expect_exit "a named task of a native README.md runs" 0 "$WM" run "$W/proj/README.md" hello
check "hello ran" test -e "$W/proj/hello.out"
check "bye did not" test ! -e "$W/proj/bye.out"

# An xc Interactive task is refused, by name; the others run.
cat >"$W/proj/tasks.md" <<'MD'
## Tasks

### shell

Interactive: true

```
sh
```

### build

```
echo built > "$WM_WORKSPACE/built.out"
```
MD
expect_exit "an xc Interactive task is refused" 2 "$WM" run "$W/proj/tasks.md" shell
expect_in "the refusal names it" "task 'shell' is interactive" "$OUT"
expect_exit "--all refuses it too" 2 "$WM" run "$W/proj/tasks.md" --all
check "nothing ran" test ! -e "$W/proj/built.out"
expect_exit "the other task runs" 0 "$WM" run "$W/proj/tasks.md" build
check "build ran" test -e "$W/proj/built.out"

# ---- --dialect ----
cp "$W/maskfile.md" "$W/tasks.md"
expect_exit "plan --dialect mask reads any file name" 0 "$WM" plan --dialect mask "$W/tasks.md"
expect_in "the mask plan has db.migrate" "db.migrate" "$OUT"
expect_exit "an unknown dialect is a usage error" 2 "$WM" plan --dialect make "$W/tasks.md"
expect_exit "--dialect wm reads a README natively" 2 "$WM" run --dialect wm "$W/README.md"
expect_exit "run --dialect mask, a task that fails" 1 "$WM" run --dialect mask "$W/tasks.md" db.migrate
RUN_DIR=$(run_dir_of "$OUT")
expect_in "options.json keeps the dialect" mask "$(jq -r .dialect "$RUN_DIR/options.json" 2>&1)"
expect_exit "resume reads the file in the same dialect" 1 "$WM" resume "$(basename "$RUN_DIR")"
expect_in "and reruns the same task" "db.migrate" "$OUT"
expect_not_in "without complaining about the file" "error:" "$OUT"

# wm stats reads a run's copy of its file in the dialect it was run in.
printf '## db\n\n### migrate\n\n```sh\ntrue\n```\n' >"$W/plain.md"
expect_exit "run --dialect mask of a plain file" 0 "$WM" run --dialect mask "$W/plain.md" db.migrate
RUN_DIR=$(run_dir_of "$OUT")
got=$("$WM" stats "$(basename "$RUN_DIR")" --json 2>&1 | jq -c .critical_path 2>&1)
expect_in "stats: the critical path has the mask id" '["db.migrate"]' "$got"

# ---- transcripts are refused in a dialect file too ----
cat >"$W/maskfile2.md" <<'MD'
## setup

```sh
$ make install
```
MD
expect_exit "a transcript body is refused" 2 "$WM" run --dialect mask "$W/maskfile2.md" setup
expect_in "at its place" "maskfile2.md:3:" "$OUT"

# ---- runme ----
expect_exit "a named runme block runs in its cwd" 0 "$WM" run "$W/runbook.md" setup
expect_in "with the front matter's shell" "setup 5" "$(cat "$W/out.setup" 2>&1)"
expect_not_in "runme's other keys are not noted without -v" "note:" "$OUT"
expect_exit "run -v" 0 "$WM" run -v "$W/runbook.md" setup
expect_in "-v notes runme's other keys" "runbook.md:13:1: note: runme block \`setup\`: \`interactive\` accepted" "$OUT"

# ---- import round trip ----
for f in maskfile.md README.md runbook.md; do
	expect_exit "import $f" 0 "$WM" import "$W/$f" -o "$W/native-$f"
	a=$("$WM" plan --format json "$W/$f" 2>/dev/null | jq -c '[.tasks[] | {id, depends, params}]')
	b=$("$WM" plan --format json "$W/native-$f" 2>/dev/null | jq -c '[.tasks[] | {id, depends, params}]')
	if [[ -n $a && $a == "$b" ]]; then pass "import of $f plans the same tasks"; else
		fail "import of $f plans the same tasks" "$a vs $b"; fi
done
expect_exit "the imported file is native: it runs whole" 0 "$WM" run "$W/native-runbook.md"
expect_exit "import refuses a native file" 2 "$WM" import "$W/native-runbook.md"

# ---- the examples ----
EX=$REPO_DIR/examples
expect_exit "the mask example plans" 0 "$WM" plan "$EX/maskfile.md"
expect_in "its subcommands have dotted ids" "report.python" "$OUT"
expect_exit "the mask example's greet runs" 0 "$WM" run "$EX/maskfile.md" greet -p name=world \
	-p loud=true
RUN_DIR=$(run_dir_of "$OUT")
expect_in "its option reached the script" "HELLO WORLD" "$(cat "$RUN_DIR/logs/greet.log" 2>&1)"
expect_exit "the xc example plans" 0 "$WM" plan "$EX/xc-tasks.md"
expect_exit "the xc example's package runs after what it requires" 0 "$WM" run "$EX/xc-tasks.md" \
	package -p VERSION=1.0
RUN_DIR=$(run_dir_of "$OUT")
check "prepare ran first" test "$(task_field "$RUN_DIR" prepare state)" = succeeded
expect_in "Env reached build" "building in release mode" "$(cat "$RUN_DIR/logs/build.log" 2>&1)"

# ---- rootless ----
if userns_ok; then
	mkdir -p "$WM_STATE_DIR.nobody" && chmod 777 "$WM_STATE_DIR.nobody"
	rm -f "$W/out.build"
	expect_exit "as nobody: a named mask task runs" 0 as_user "$WM" run "$W/maskfile.md" build \
		-p target=u -p jobs=1
	expect_in "as nobody: its output" "build u release= jobs=1" "$(cat "$W/out.build" 2>&1)"
	expect_exit "as nobody: the menu is refused" 2 as_user "$WM" run "$W/maskfile.md"
else
	skip "as nobody" "no unprivileged user namespaces here"
fi
