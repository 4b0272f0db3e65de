#!/usr/bin/env bash
# Hostile YAML in policy files and front matter (issue 12 item 3): each is
# refused with an error naming the limit, the process finishes, and its peak
# memory (GNU time's maxrss) stays under 100 MB. No clock is checked.
. "$(dirname "$0")/../lib.sh"
export XDG_CONFIG_HOME=$T/config
TIME=/usr/bin/time
# Under `make asan`, freed memory sits in ASan's quarantine (256 MB by
# default) and counts in maxrss: measure what wm itself holds.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
if [[ ! -x $TIME ]]; then
	fail "GNU time" "$TIME missing (tools/install-deps installs the time package)"
	exit 0
fi

# bounded NAME NEEDLE CMD...: CMD exits 2 naming NEEDLE, with maxrss < 100 MB.
bounded() {
	local name=$1 needle=$2 rss rc
	shift 2
	"$TIME" -v -o "$T/time.txt" "$@" >"$T/out.txt" 2>&1
	rc=$?
	rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$T/time.txt")
	if [[ $rc != 2 ]]; then
		fail "$name: exit" "exit $rc, wanted 2: $(head -c 400 "$T/out.txt")"
	elif ! grep -qF -- "$needle" "$T/out.txt"; then
		fail "$name: message" "'$needle' not in: $(head -c 400 "$T/out.txt")"
	elif [[ -z $rss ]] || ((rss >= 102400)); then
		fail "$name: memory" "maxrss ${rss:-?} kB"
	else
		pass "$name (maxrss ${rss} kB)"
	fi
}

py() { python3 -c "$1" >"$2"; }

# 20,000 aliases of a 500 KB string (one of 1 MB is over the size limit).
py 'import sys
print("version: 1\npolicies:\n  a:\n    description: &s \"" + "x" * 500000 + "\"")
print("    env: {keep: [" + ", ".join(["*s"] * 20000) + "]}")' "$T/alias.yaml"
bounded "policy alias bomb" "aliases (*s) are not allowed in the policy file" \
	"$WM" policy check "$T/alias.yaml"
# Nesting 40,000 deep.
py 'print("version: 1\npolicies: " + "[" * 40000)' "$T/deep.yaml"
bounded "policy nesting" "nesting deeper than the limit of 32 levels" \
	"$WM" policy check "$T/deep.yaml"
# An inheritance chain of 8,000 levels.
py 'print("version: 1\npolicies:\n  p0: {inherits: standard}")
for i in range(1, 8000): print("  p%d: {inherits: p%d}" % (i, i - 1))' "$T/chain.yaml"
bounded "policy inheritance chain" "through more than 64 levels (the limit of inheritance)" \
	"$WM" policy check "$T/chain.yaml"
# A policy file of 4 GB (sparse): read no further than the limit.
printf 'version: 1\n' >"$T/huge.yaml"
truncate -s 4G "$T/huge.yaml"
bounded "huge policy file" "larger than the limit of 1048576 bytes" \
	"$WM" policy check "$T/huge.yaml"
# The same through the user's config and a workflow's policies: file.
mkdir -p "$XDG_CONFIG_HOME/wm"
cp "$T/alias.yaml" "$XDG_CONFIG_HOME/wm/policies.yaml"
bounded "alias bomb in the user's config" "aliases (*s) are not allowed" "$WM" policy list
rm "$XDG_CONFIG_HOME/wm/policies.yaml"

# Front matter.
wf() { # wf FILE FRONT-MATTER-PYTHON-EXPR
	py "print('---'); print($2); print('---'); print('## A'); print('\`\`\`sh'); print('true'); print('\`\`\`')" "$1"
}
wf "$T/alias.md" '"name: &s \"" + "x" * 500000 + "\"\nenv: {" + ", ".join("V%d: *s" % i for i in range(20000)) + "}"'
bounded "front matter alias bomb" "not allowed in the front matter" "$WM" plan "$T/alias.md"
bounded "front matter alias bomb, run" "not allowed in the front matter" \
	"$WM" run --dry-run "$T/alias.md"
wf "$T/deep.md" '"env: " + "[" * 40000'
bounded "front matter nesting" "nesting deeper than the limit of 16 levels in the front matter" \
	"$WM" plan "$T/deep.md"
printf -- '---\nname: x\n---\n## A\n```sh\ntrue\n```\n' >"$T/huge.md"
truncate -s 4G "$T/huge.md"
bounded "huge workflow" "larger than the limit of 16777216 bytes" "$WM" plan "$T/huge.md"
# A workflow whose policies: file is a bomb.
cp "$T/chain.yaml" "$T/wfpol.yaml"
printf -- '---\npolicies: wfpol.yaml\n---\n## A\n```sh\ntrue\n```\n' >"$T/wfpol.md"
bounded "workflow policies: chain" "through more than 64 levels" "$WM" run --dry-run "$T/wfpol.md"

# NUL bytes are errors at their place, not U+FFFD.
printf -- '## A\n```sh\necho a\0b\n```\n' >"$T/nul.md"
expect_exit "NUL byte in a body" 2 "$WM" plan "$T/nul.md"
expect_in "NUL byte located" "nul.md:3:7: error: NUL byte in the workflow" "$OUT"
