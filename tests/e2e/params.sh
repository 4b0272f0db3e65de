#!/usr/bin/env bash
# Parameters: `- params:` and front matter `params:` declare them, `wm run
# -p NAME=VALUE` gives them, the task reads PARAM_<NAME>. Every mistake on
# the command line (unknown name, missing value, wrong type, not a choice)
# is an error before anything runs, exit 2. `wm run FILE TASK --help`
# lists a task's parameters. Values are kept for `wm resume`, and a resume
# with another value reruns the task. Also the parser's warnings and
# refusals of the same change: transcripts, {.bash} fences.
. "$(dirname "$0")/../lib.sh"

W=$T/ws
mkdir -p "$W"
chmod 777 "$W"

cat >"$W/build.md" <<'MD'
---
params:
  region: {type: choice, choices: [eu, us], default: eu, help: where it goes}
---
## build
- params: target, mode=debug, count:int=3, level:choice(low|high)=low, verbose:bool=false

```sh
env | grep '^PARAM_' | sort > "$WM_WORKSPACE/params.$WM_ATTEMPT"
echo "WM_TASK_ID=$WM_TASK_ID" >> "$WM_WORKSPACE/params.$WM_ATTEMPT"
```
MD

# run_ok NAME CMD...: a run that succeeds; its output in $OUT.
expect_exit "run with parameters" 0 "$WM" run "$W/build.md" -p target=app -p count=7 \
	--param verbose=true
RUN_DIR=$(run_dir_of "$OUT")
want="PARAM_COUNT=7
PARAM_LEVEL=low
PARAM_MODE=debug
PARAM_REGION=eu
PARAM_TARGET=app
PARAM_VERBOSE=true
WM_TASK_ID=build"
got=$(cat "$W/params.1" 2>&1)
if [[ $got == "$want" ]]; then pass "the task reads given values and defaults"; else
	fail "the task reads given values and defaults" "got: $got"; fi
opts=$(jq -c .params "$RUN_DIR/options.json")
expect_in "options.json keeps -p" '["target=app","count=7","verbose=true"]' "$opts"

# A parameter named like wm's own variables is still PARAM_*: WM_TASK_ID stays.
cat >"$W/clash.md" <<'MD'
## clash
- params: wm_task_id=x, path=/nowhere

```sh
echo "$WM_TASK_ID $PARAM_WM_TASK_ID $PATH" > "$WM_WORKSPACE/clash"
```
MD
expect_exit "a parameter named like wm's own variable runs" 0 "$WM" run "$W/clash.md" \
	-p wm_task_id=evil
got=$(cat "$W/clash" 2>&1)
expect_in "WM_TASK_ID is wm's, PARAM_WM_TASK_ID the parameter" "clash evil " "$got"
expect_not_in "PATH is not the parameter" "/nowhere" "$got"

# A variable the task's policy fixes (env.set) wins over a parameter.
cat >"$W/fixed.yaml" <<'YAML'
version: 1
policies:
  fixed:
    inherits: standard
    env:
      set: {PARAM_MODE: from-policy}
YAML
cat >"$W/fixed.md" <<'MD'
---
policies: fixed.yaml
---
## fixed
- policy: fixed
- params: mode=debug, level=low

```sh
echo "$PARAM_MODE $PARAM_LEVEL" > "$WM_WORKSPACE/fixed"
```
MD
expect_exit "a policy fixing PARAM_MODE runs" 0 "$WM" run "$W/fixed.md" -p mode=mine -p level=high
expect_in "the policy's value wins, the other parameter is given" "from-policy high" \
	"$(cat "$W/fixed" 2>&1)"

# Each mistake: exit 2, the parameter named, nothing run.
rm -f "$W"/params.*
expect_exit "missing required value" 2 "$WM" run "$W/build.md"
expect_in "missing: names it" "parameter \`target\` (task \`build\`)" "$OUT"
expect_in "missing: says how" "-p target=VALUE" "$OUT"
expect_exit "unknown name" 2 "$WM" run "$W/build.md" -p target=a -p levl=high
expect_in "unknown: did you mean" "no parameter \`levl\` (did you mean \`level\`?)" "$OUT"
expect_exit "wrong type" 2 "$WM" run "$W/build.md" -p target=a -p count=many
expect_in "wrong type: says it" "\`many\` is not a whole number" "$OUT"
expect_exit "not a bool" 2 "$WM" run "$W/build.md" -p target=a -p verbose=yes
expect_in "not a bool: says it" "\`yes\` is not true or false" "$OUT"
expect_exit "not a choice" 2 "$WM" run "$W/build.md" -p target=a -p region=asia
expect_in "not a choice: lists them" "\`asia\` is not one of the choices (eu, us)" "$OUT"
expect_exit "-p without =" 2 "$WM" run "$W/build.md" -p target
expect_in "-p without =: says the shape" "-p wants NAME=VALUE" "$OUT"
if ls "$W"/params.* >/dev/null 2>&1; then fail "nothing ran after a bad -p"; else
	pass "nothing ran after a bad -p"; fi

# wm run FILE TASK: the parameters of tasks not run are not required, and
# a value for one of them is not an unknown name.
cat >"$W/two.md" <<'MD'
## needs
- params: must

```sh
true
```

## other
```sh
touch "$WM_WORKSPACE/ran-other"
```
MD
expect_exit "a task not run needs no value" 0 "$WM" run "$W/two.md" other
check "the task asked for ran" test -e "$W/ran-other"
expect_exit "a value for a task not run is fine" 0 "$WM" run "$W/two.md" other -p must=1
expect_exit "a name no task declares is not" 2 "$WM" run "$W/two.md" other -p mist=1
expect_in "unknown in the whole file: did you mean" "no parameter \`mist\` (did you mean \`must\`?)" "$OUT"

# Errors in the declaration are at FILE:LINE:COL.
cat >"$W/bad.md" <<'MD'
## bad
- params: n:float, c:choice(a|b)=z

```sh
true
```
MD
expect_exit "bad declaration" 2 "$WM" plan "$W/bad.md"
expect_in "bad type at its place" "bad.md:2:13: error: params: \`float\` is not a type" "$OUT"
expect_in "bad default at its place" "bad.md:2:20: error: params: the default of \`c\`" "$OUT"

# --help after FILE TASK lists the task's parameters; exit 0.
expect_exit "run FILE TASK --help" 0 "$WM" run "$W/build.md" build --help
expect_in "--help: usage" "-p target=VALUE [-p mode=VALUE]" "$OUT"
expect_in "--help: a choice" "level (choice low|high, default low)" "$OUT"
expect_in "--help: the workflow's, with help" "region (choice eu|us, default eu): where it goes" "$OUT"
expect_in "--help: required" "target (string, required)" "$OUT"
expect_exit "run FILE --help is the command's" 0 "$WM" run "$W/build.md" --help
expect_in "run --help: usage" "usage: wm run FILE" "$OUT"
expect_exit "run FILE NOPE --help" 2 "$WM" run "$W/build.md" nope --help
expect_in "run FILE NOPE --help: names it" "has no task 'nope'" "$OUT"

# wm plan shows them, in text and JSON.
expect_exit "plan" 0 "$WM" plan "$W/build.md"
expect_in "plan text" "param count (int, default 3)" "$OUT"
got=$("$WM" plan --format json "$W/build.md" | jq -c '.tasks[0].params[] | select(.name == "target" or .name == "count")')
expect_in "plan json: required" '{"name":"target","type":"string","default":null,"required":true}' "$got"
expect_in "plan json: default" '{"name":"count","type":"int","default":"3","required":false}' "$got"

# Resume: the same values without -p; another value reruns the task.
ID=$(basename "$RUN_DIR")
expect_exit "resume, nothing changed" 0 "$WM" resume "$ID"
expect_in "resume: nothing to do" "nothing to do" "$OUT"
expect_exit "resume with another value" 0 "$WM" resume "$ID" -p count=9
expect_in "resume: the task ran again" "PARAM_COUNT=9" "$(cat "$W/params.2" 2>&1)"
expect_in "resume: the other values kept" "PARAM_TARGET=app" "$(cat "$W/params.2" 2>&1)"
expect_exit "resume with a bad value" 2 "$WM" resume "$ID" -p count=x
expect_in "resume: the bad value said" "\`x\` is not a whole number" "$OUT"
opts=$(jq -c .params "$RUN_DIR/options.json")
expect_in "resume: options.json has the new value" '"count=9"' "$opts"
expect_not_in "resume: a refused value is not kept" '"count=x"' "$opts"

# Unprivileged, the same.
if userns_ok; then
	mkdir -p "$WM_STATE_DIR.nobody" && chmod 777 "$WM_STATE_DIR.nobody"
	rm -f "$W"/params.*
	expect_exit "as nobody: run with parameters" 0 as_user "$WM" run "$W/build.md" -p target=u
	expect_in "as nobody: the value" "PARAM_TARGET=u" "$(cat "$W/params.1" 2>&1)"
	expect_exit "as nobody: bad value" 2 as_user "$WM" run "$W/build.md" -p target=u -p count=z
else
	skip "as nobody" "no unprivileged user namespaces here"
fi

# ---- warnings and refusals instead of silence ----

# A transcript is refused (nothing runs), unless the task says it is meant.
cat >"$W/transcript.md" <<'MD'
## setup
```sh
$ touch "$WM_WORKSPACE/ran-transcript"
```
MD
expect_exit "a transcript body is refused" 2 "$WM" run "$W/transcript.md"
expect_in "transcript: at its place" "transcript.md:2:1: error: the body of task \`setup\` is a shell transcript" "$OUT"
expect_in "transcript: says what to do" "remove the prompts" "$OUT"
check "transcript: nothing ran" test ! -e "$W/ran-transcript"
cat >"$W/transcript-ok.md" <<'MD'
## setup
- transcript: ok

```sh
$ true
```
MD
# As written the shell runs `$`, which does not exist: the run fails, but it runs.
expect_exit "- transcript: ok runs it" 1 "$WM" run "$W/transcript-ok.md"
expect_in "- transcript: ok: the shell ran the prompt" "failed" "$OUT"

# Pandoc-style info strings are their language; the task runs.
cat >"$W/fences.md" <<'MD'
---
title: Fences         # a site generator's key: a warning, not an error
...
## braces
```{.bash .numberLines}
echo "$BASH_VERSION" > "$WM_WORKSPACE/fence-bash"
```

## glued
```sh{name=glued}
echo glued > "$WM_WORKSPACE/fence-glued"
```

```sh
echo never > "$WM_WORKSPACE/fence-second"
```

## deploy [env]
```sh
true
```
MD
expect_exit "{.bash} and sh{name=x} fences run" 0 "$WM" run "$W/fences.md"
check "{.bash}: bash ran it" test -s "$W/fence-bash"
check "sh{name=x}: sh ran it" test -s "$W/fence-glued"
check "the second runnable block did not run" test ! -e "$W/fence-second"
expect_in "warning: a front matter key not wm's" "fences.md:2:1: warning: front matter key \`title\` is not wm's: ignored" "$OUT"
expect_in "warning: the second block" "fences.md:14:1: warning: a second runnable block in task \`glued\` is not run" "$OUT"
expect_in "warning: a heading with arguments" "fences.md:18:1: warning: heading \`deploy [env]\` looks like it takes arguments" "$OUT"
expect_in "warning: suggests params" "\`- params: env\`" "$OUT"
printf -- '---\npolcy: standard\n---\n## a\n```sh\ntrue\n```\n' >"$W/near.md"
expect_exit "a near-miss front matter key is an error" 2 "$WM" plan "$W/near.md"
expect_in "near miss: did you mean" "near.md:2:1: error: unknown front matter key \`polcy\` (did you mean \`policy\`?)" "$OUT"
