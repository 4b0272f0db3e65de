#!/usr/bin/env bash
# The JSON Schemas of share/wm/schema/ agree with wm's own parsers: every
# policy and front matter wm accepts is valid (the fixtures, the built-ins,
# the templates, what `wm policy show` prints), and what wm rejects for its
# shape is invalid, checked with python3-jsonschema (tests/tools/schema_check.py).
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
CHECK=$REPO_DIR/tests/tools/schema_check.py
POLICY=$REPO_DIR/share/wm/schema/policy.schema.json
FM=$REPO_DIR/share/wm/schema/workflow-frontmatter.schema.json
if ! "$PY" -c 'import jsonschema, yaml; jsonschema.Draft202012Validator' 2>/dev/null; then
	skip "schemas" "$PY lacks jsonschema (python3-jsonschema) or yaml (python3-yaml)"
	exit 0
fi
export XDG_CONFIG_HOME=$T/config # nothing of the user's
cd "$T" || exit 1

for s in "$POLICY" "$FM"; do
	check "${s##*/} is JSON" jq -e '."$schema" == "https://json-schema.org/draft/2020-12/schema"' "$s"
done

# schema_says WANT KIND FILE...: the schema of KIND accepts (WANT ok) or
# rejects (WANT bad) each file.
schema_says() {
	local want=$1 kind=$2 schema=$POLICY out rc f verb=accepts
	[[ $kind == frontmatter ]] && schema=$FM
	[[ $want == bad ]] && verb=rejects
	shift 2
	for f in "$@"; do
		out=$("$PY" "$CHECK" "$schema" "$kind" "$f" 2>&1)
		rc=$?
		[[ ($want == ok && $rc == 0) || ($want == bad && $rc == 1) ]] &&
			pass "schema $verb ${f#"$REPO_DIR"/}" || fail "schema $verb ${f#"$REPO_DIR"/}" "$out"
	done
}
valid() { schema_says ok "$@"; }
invalid() { schema_says bad "$@"; }

# ---- policies ----
valid policy "$REPO_DIR"/policies/builtin/*.yaml "$REPO_DIR/policies.example.yaml"
for p in minimal development testing standard hardened paranoid; do
	"$WM" policy show "$p" >"$T/show-$p.yaml" 2>/dev/null
	valid policy "$T/show-$p.yaml"
done
# Every policy fixture: the schema says what `wm policy check` says.
for f in "$REPO_DIR"/tests/data/policies/*.yaml; do
	if "$WM" policy check "$f" >/dev/null 2>&1; then valid policy "$f"; else invalid policy "$f"; fi
done

# sample KIND NAME WANT TEXT: wm and the schema both accept (WANT ok) or
# both reject (WANT bad) TEXT, a policy file or a front matter.
n=0
sample() {
	local kind=$1 name=$2 want=$3 text=$4 f rc
	n=$((n + 1))
	if [[ $kind == policy ]]; then
		f=$T/p$n.yaml
		printf 'version: 1\npolicies:\n  p:\n%s\n' "$text" >"$f"
		"$WM" policy check "$f" >"$T/wm.out" 2>&1
	else
		f=$T/w$n.md
		printf -- '---\n%s\n---\n## a\n```sh\ntrue\n```\n' "$text" >"$f"
		"$WM" plan "$f" >"$T/wm.out" 2>&1
	fi
	rc=$?
	if [[ $want == ok ]]; then
		[[ $rc == 0 ]] && pass "wm accepts $kind: $name" ||
			fail "wm accepts $kind: $name" "$(cat "$T/wm.out")"
		valid "$kind" "$f"
	else
		[[ $rc == 2 ]] && pass "wm rejects $kind: $name" ||
			fail "wm rejects $kind: $name" "exit $rc: $(cat "$T/wm.out")"
		invalid "$kind" "$f"
	fi
}

sample policy "every limit" ok '    inherits: standard
    limits: {memory: 512MiB, pids: "100", cpu: 0.5, timeout: 1h30m, nofile: unlimited, fsize: 1G, core: 0, out: none, strict: true}'
sample policy "seccomp none" ok '    inherits: minimal
    seccomp: none'
sample policy "seccomp rules" ok '    seccomp:
      default_action: errno
      default_errno: ENOSYS
      allow: [read, write]
      rules:
        - {names: [kill], action: errno, errno: 1, args: [{index: 0, op: masked_eq, value: 0xff, value_two: 1}]}'
sample policy "filesystem" ok '    filesystem: {view: system, workspace: ro, tmp: none, shm: 64M, rootfs: none, hide: [/home], devices: [tty, pts], bind: [{src: /tmp, mode: rw}]}'
sample policy "env" ok '    env: {keep: [PATH, LANG], set: {CI: 1, EMPTY: }}'
sample policy "empty policy" ok '    description: nothing changed'
sample policy "network" bad '    network: internet'
sample policy "size unit" bad '    limits: {memory: 1X}'
sample policy "timeout without unit" bad '    limits: {timeout: 30}'
sample policy "negative cpu" bad '    limits: {cpu: -1}'
sample policy "strict maybe" bad '    limits: {strict: maybe}'
sample policy "workspace mode" bad '    filesystem: {workspace: rwx}'
sample policy "relative hide" bad '    filesystem: {hide: [home]}'
sample policy "relative bind, from the file's directory" ok '    filesystem: {bind: [{src: cache}]}'
sample policy "unknown bind key" bad '    filesystem: {bind: [{src: /tmp, to: /x}]}'
sample policy "default action" bad '    seccomp: {default_action: deny}'
sample policy "rule without action" bad '    seccomp: {rules: [{names: [read]}]}'
sample policy "argument index" bad '    seccomp: {rules: [{names: [read], action: errno, args: [{index: 7, op: eq}]}]}'
sample policy "seccomp string" bad '    seccomp: off'
sample policy "env name" bad '    env: {keep: [1BAD]}'
sample policy "yes is not a boolean" bad '    user_namespace: yes'
sample policy "unknown key" bad '    netwrok: none'
printf 'policies:\n  p: {}\n' >"$T/noversion.yaml"
check "wm rejects a file without version" sh -c "! '$WM' policy check '$T/noversion.yaml' >/dev/null 2>&1"
invalid policy "$T/noversion.yaml"
printf 'version: 2\n' >"$T/v2.yaml"
invalid policy "$T/v2.yaml"
printf 'version: "1"\npolicies:\n' >"$T/v1s.yaml"
valid policy "$T/v1s.yaml"

# ---- workflow front matter ----
shopt -s nullglob
valid frontmatter "$REPO_DIR"/tests/data/valid/*.md "$REPO_DIR"/templates/*.md \
	"$REPO_DIR/examples/demo.md"
# An invalid fixture's front matter is invalid exactly when its .expect
# has an error inside the front matter (up to the closing ---), or when
# the front matter never ends.
for f in "$REPO_DIR"/tests/data/invalid/*.md "$FIXTURES"/*.md; do
	e=${f%.md}.expect
	[[ -f $e ]] || continue
	# The closing line's number; 0: no front matter; -1: never closed.
	end=$(awk 'NR == 1 && !/^---[ \t]*\r?$/ { r = 0; exit }
		NR > 1 && /^---[ \t]*\r?$/ { r = NR; exit }
		END { print (NR == 0 ? 0 : r == "" ? -1 : r) }' "$f")
	if ((end == -1)) || { ((end > 0)) && awk -v end="$end" '$1 == "error" {
		split($2, at, ":"); if (at[1] != "*" && at[1] + 0 <= end) found = 1 }
		END { exit !found }' "$e"; }; then
		invalid frontmatter "$f"
	else
		valid frontmatter "$f"
	fi
done

printf 'version: 1\n' >"$T/p.yaml"
sample frontmatter "every key" ok 'name: release
policy: standard
policies: ./p.yaml
max_parallel: 4
keep_going: yes
rollback: off
env: {PORT: 8080, EMPTY: , LANG: C.UTF-8}
interpreters: {awk: [awk, -f]}
secrets: [API_TOKEN, _db_pass2]
executor: local
slurm: {partition: batch, account: lab, qos: normal, extra: [--exclusive, --constraint=avx2], max_queued: 100000}
schedule: 0 3 * * 1-5
jitter: 5m
timezone: Europe/Berlin
concurrency: queue
catchup: latest
notify:
  - {on: [run.failed, sla.breach], webhook: "http://127.0.0.1:9/h", secret_env: HOOK_KEY, timeout: 2s, retries: 1}
  - {on: run.succeeded, command: [logger, -t, wm], policy: testing}'
sample frontmatter "notify with both targets" bad 'notify: [{on: [run.failed], webhook: "http://127.0.0.1:9/", command: [x]}]'
sample frontmatter "unknown event" bad 'notify: [{on: [run.fail], webhook: "http://127.0.0.1:9/"}]'
sample frontmatter "bad concurrency" bad 'concurrency: parallel'
sample frontmatter "webhook trigger" ok 'trigger: {webhook: deploy, secret_env: HOOK_SECRET, params: [ref, sha]}'
sample frontmatter "paths trigger" ok 'trigger: {paths: ["src/**/*.c", Makefile]}'
sample frontmatter "unsigned webhook" bad 'trigger: {webhook: deploy}'
sample frontmatter "paths outside" bad 'trigger: {paths: [../x]}'
sample frontmatter "quoted number, On" ok 'max_parallel: "8"
keep_going: On'
sample frontmatter "numeric name" ok 'name: 2024'
sample frontmatter "empty" ok ''
sample frontmatter "max_parallel 0" bad 'max_parallel: 0'
sample frontmatter "max_parallel too big" bad 'max_parallel: 70000'
sample frontmatter "keep_going maybe" bad 'keep_going: maybe'
sample frontmatter "rollback true" bad 'rollback: true'
sample frontmatter "rollback sometimes" bad 'rollback: sometimes'
sample frontmatter "env name" bad 'env: {1X: a}'
sample frontmatter "env list value" bad 'env: {A: [1]}'
sample frontmatter "executor" bad 'executor: cloud'
sample frontmatter "slurm extra" bad 'slurm: {extra: [--uid=0]}'
sample frontmatter "slurm max_queued" bad 'slurm: {max_queued: 0}'
sample frontmatter "slurm key" bad 'slurm: {partitoin: batch}'
sample frontmatter "empty interpreter" bad 'interpreters: {awk: []}'
sample frontmatter "empty secrets" ok 'secrets: []'
sample frontmatter "secret name" bad 'secrets: [API-TOKEN]'
sample frontmatter "secret WM_" bad 'secrets: [WM_RUN_ID]'
sample frontmatter "secret twice" bad 'secrets: [A, A]'
sample frontmatter "secrets map" bad 'secrets: {A: b}'
sample frontmatter "secrets empty value" bad 'secrets:'
sample frontmatter "empty name" bad 'name: ""'
sample frontmatter "unknown key" bad 'polcy: standard'
sample frontmatter "params" ok 'params: {region: eu, n: {type: int, default: 3, help: how many}, lvl: {choices: [low, high], default: low}, flag: {type: bool, default: false}, req: {type: choice, choices: [a]}}'
sample frontmatter "params required" ok 'params: {target: }'
sample frontmatter "params type" bad 'params: {n: {type: float}}'
sample frontmatter "params key" bad 'params: {n: {typ: int}}'
sample frontmatter "params choice without choices" bad 'params: {n: {type: choice}}'
sample frontmatter "params int default" bad 'params: {n: {type: int, default: many}}'
sample frontmatter "params name" bad 'params: {1n: a}'
sample frontmatter "params list" bad 'params: [a, b]'
