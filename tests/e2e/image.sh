#!/usr/bin/env bash
# Tasks in OCI images and docker-archives (image: and rootfs.image): they
# see the image's files, Env and WorkingDir and not the host's, write to a
# layer of their own that leaves the shared cache as it was, as root and
# rootless, under standard and paranoid; the cache is built once, safely
# when two runs race or one is killed; `wm image` manages it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../image_lib.sh"

if ! have_image_tools; then
	skip "images" "umoci or skopeo missing (tools/install-deps installs them)"
	exit 0
fi
export XDG_CACHE_HOME=$T/cache
mk_rootfs "$T/rootfs"
mk_image "$T/L" t "$T/rootfs" GREETING=hello-from-image PATH=/bin ||
	{ fail "build the test image"; exit 1; }
skopeo copy -q "oci:$T/L:t" "docker-archive:$T/d.tar:wm/test:t" ||
	{ fail "build the docker-archive"; exit 1; }
chmod a+r "$T/d.tar"

# A marker only the host has: tasks must not see it.
host_marker=$(mktemp /tmp/wm-image-host-only.XXXXXX)
trap 'rm -rf "$T" "$host_marker"' EXIT
chmod 644 "$host_marker"

W=$T/wf
mkdir -p "$W"
chmod 777 "$W"
body='cat /data/marker
echo "greeting=$GREETING pwd=$PWD"
if [ -e '"$host_marker"' ] || [ -e /etc/passwd ] || [ -e /usr ]; then echo HOST-VISIBLE; fi
echo written >/data/new && cat /data/new'
for p in standard paranoid; do
	cat >"$W/$p.md" <<MD
# images under $p

## oci
- image: oci:../L:t
- policy: $p

\`\`\`sh
$body
\`\`\`

## archive
- image: docker-archive:../d.tar:wm/test:t
- policy: $p

\`\`\`sh
$body
\`\`\`
MD
done
chmod 644 "$W"/*.md

users=(root)
if is_root && userns_ok; then users+=(nobody); else skip "rootless images" "no user namespaces for nobody here"; fi
for u in "${users[@]}"; do
	for p in standard paranoid; do
		if [[ $u == nobody ]]; then
			OUT=$(as_user env XDG_CACHE_HOME="$T/cache-nobody" "$WM" run --yes "$W/$p.md" 2>&1)
		else
			OUT=$("$WM" run "$W/$p.md" 2>&1)
		fi
		rc=$?
		[[ $rc == 0 ]] && pass "$p as $u: runs" || fail "$p as $u: runs" "exit $rc: $OUT"
		run=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
		for task in oci archive; do
			if [[ $u == nobody ]]; then
				log=$(as_user "$WM" logs "$run" "$task" 2>&1)
			else
				log=$("$WM" logs "$run" "$task" 2>&1)
			fi
			expect_in "$p as $u, $task: reads the image's file" only-in-image "$log"
			expect_in "$p as $u, $task: the image's Env and WorkingDir" \
				"greeting=hello-from-image pwd=/data" "$log"
			expect_not_in "$p as $u, $task: blind to the host's files" HOST-VISIBLE "$log"
			expect_in "$p as $u, $task: writes its own layer" written "$log"
		done
	done
done

digest=$("$WM" image inspect "oci:$T/L:t" --json | jq -r .digest)
tree=$T/cache/wm/images/${digest#sha256:}/rootfs
check "the cache holds the image's tree" test -f "$tree/data/marker"
check "a task's writes stay out of the cache" test ! -e "$tree/data/new"
check "no temporary directory is left" bash -c "! ls -d '$T/cache/wm/images/.tmp-'* 2>/dev/null"
n=$(ls "$T/cache/wm/images" | wc -l)
[[ $n == 2 ]] && pass "one cache entry per image (oci, docker-archive)" ||
	fail "one cache entry per image" "$(ls "$T/cache/wm/images")"
if [[ " ${users[*]} " == *" nobody "* ]]; then
	t2=$T/cache-nobody/wm/images/${digest#sha256:}/rootfs
	check "rootless: the tree is the user's" test "$(stat -c %u "$t2/data/marker")" = 65534
	check "rootless: writes stay out of the cache" test ! -e "$t2/data/new"
fi
if is_root; then
	check "as root: the image's root files go to the sandbox's root id" \
		test "$(stat -c %u "$tree/data/marker")" = 65534
fi

# The image's digest is in the definition hash: a changed image is a new task.
cat >"$W/one.md" <<'MD'
# one

## show
- image: oci:../L:t

```sh
cat /data/marker
```
MD
OUT=$("$WM" run "$W/one.md" 2>&1)
rd=$(run_dir_of "$OUT")
h1=$(task_field "$rd" show definition_hash)
echo changed >"$T/rootfs/data/marker"
mk_image "$T/L" t "$T/rootfs" GREETING=hello-from-image PATH=/bin
OUT=$("$WM" resume "$(basename "$rd")" 2>&1)
expect_in "resume reruns a task whose image changed" "ok        show" "$OUT"
h2=$(task_field "$rd" show definition_hash)
[[ -n $h1 && $h1 != null && $h1 != "$h2" ]] && pass "a changed image changes the definition hash" ||
	fail "a changed image changes the definition hash" "$h1 vs $h2"
run=$(basename "$rd")
expect_in "the new image is used" changed "$("$WM" logs "$run" show 2>&1)"
audit=$("$WM" audit show "$run" --json 2>&1)
expect_in "the audit log records the pinned image" "oci:$T/L@sha256:" "$audit"

# Pinning by digest, and a digest that is not the image's.
digest=$("$WM" image inspect "oci:$T/L:t" --json | jq -r .digest)
sed -i "s|oci:../L:t|oci:../L@$digest|" "$W/one.md"
expect_exit "a digest pin runs" 0 "$WM" run "$W/one.md"
sed -i "s|@sha256:[0-9a-f]*|@sha256:$(printf '0%.0s' {1..64})|" "$W/one.md"
expect_exit "an unknown digest is bad input" 2 "$WM" run "$W/one.md"
expect_in "it says which" "no manifest sha256:000" "$OUT"

# rootfs.image in a policy file, relative to the file.
cat >"$W/policies.yaml" <<'YAML'
version: 1
policies:
  boxed:
    inherits: standard
    filesystem:
      rootfs:
        image: oci:../L:t
YAML
cat >"$W/pol.md" <<'MD'
# by policy

## show
- policy: boxed

```sh
cat /data/marker
```
MD
OUT=$("$WM" run --policies "$W/policies.yaml" "$W/pol.md" 2>&1)
run=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
[[ -n $run ]] && expect_in "rootfs.image: the policy's image is the root" changed \
	"$("$WM" logs "$run" show 2>&1)" || fail "rootfs.image: the policy's image is the root" "$OUT"
OUT=$("$WM" policy show boxed --policies "$W/policies.yaml" 2>&1)
expect_in "policy show gives rootfs.image" "image: \"oci:$W/../L:t\"" "$OUT"
