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

# The image's User: a name from its /etc/passwd, or uid:gid, is the task's
# ids inside its user namespace.
mkdir -p "$T/urootfs"
cp -a "$T/rootfs/." "$T/urootfs/"
echo 'app:x:1234:4321::/data:/bin/sh' >"$T/urootfs/etc/passwd"
echo 'app:x:4321:' >"$T/urootfs/etc/group"
mk_image "$T/U" named "$T/urootfs" PATH=/bin
umoci config --image "$T/U:named" --config.user app
mk_image "$T/U" numeric "$T/urootfs" PATH=/bin
umoci config --image "$T/U:numeric" --config.user 1000:100
mk_image "$T/U" nobody "$T/urootfs" PATH=/bin
umoci config --image "$T/U:nobody" --config.user ghost
chmod -R a+rX "$T/U"
ids='while read -r k v rest; do case $k in Uid:|Gid:) echo "$k $v";; esac; done </proc/self/status
echo mine >/data/mine && echo wrote-data'
for tag in named numeric; do
	printf '# u\n\n## who\n- image: oci:../U:%s\n\n```sh\n%s\n```\n' "$tag" "$ids" >"$W/user-$tag.md"
done
chmod 644 "$W"/user-*.md
want_named=$'Uid: 1234\nGid: 4321'
want_numeric=$'Uid: 1000\nGid: 100'
for u in "${users[@]}"; do
	for tag in named numeric; do
		if [[ $u == nobody ]]; then
			OUT=$(as_user env XDG_CACHE_HOME="$T/cache-nobody" "$WM" run --yes "$W/user-$tag.md" 2>&1)
			run=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
			log=$(as_user "$WM" logs "$run" who 2>&1)
		else
			OUT=$("$WM" run "$W/user-$tag.md" 2>&1)
			run=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' <<<"$OUT" | head -1)
			log=$("$WM" logs "$run" who 2>&1)
		fi
		want=want_$tag
		expect_in "User $tag as $u: the task's ids" "${!want}" "$log"
		expect_in "User $tag as $u: owns the image's files" wrote-data "$log"
	done
done
printf '# u\n\n## who\n- image: oci:../U:nobody\n\n```sh\ntrue\n```\n' >"$W/user-ghost.md"
expect_exit "a User the image does not know is bad input" 2 "$WM" run "$W/user-ghost.md"
expect_in "it says so" "User \`ghost\` is not in its /etc/passwd" "$OUT"

# Two runs preparing the same image at once: both run, one entry, no leftovers.
export XDG_CACHE_HOME=$T/race
sed -i "s|oci:../L@sha256:[0-9a-f]*|oci:../L:t|" "$W/one.md"
"$WM" run "$W/one.md" >"$T/race1.out" 2>&1 &
p1=$!
"$WM" run "$W/one.md" >"$T/race2.out" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
[[ $r1 == 0 && $r2 == 0 ]] && pass "two runs preparing at once both run" ||
	fail "two runs preparing at once" "$r1 $r2: $(cat "$T/race1.out" "$T/race2.out")"
ls "$T/race/wm/images" >"$T/race.ls"
[[ $(wc -l <"$T/race.ls") == 1 && $(grep -c '^\.tmp-' "$T/race.ls") == 0 ]] &&
	pass "they leave one entry and nothing else" || fail "race leftovers" "$(cat "$T/race.ls")"

# SIGKILL while the image is being extracted: what is left is never used.
mkdir -p "$T/big/bin"
cp -a "$T/rootfs/." "$T/big/"
head -c 48M /dev/urandom >"$T/big/data/blob"
mk_image "$T/B" t "$T/big" PATH=/bin
sed "s|oci:../L:t|oci:../B:t|" "$W/one.md" >"$W/big.md"
export XDG_CACHE_HOME=$T/killed
mkdir -p "$T/killed"
"$WM" run "$W/big.md" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 500); do
	ls -d "$T/killed/wm/images/.tmp-"* >/dev/null 2>&1 && break
	sleep 0.01
done
kill -KILL $pid
wait $pid 2>/dev/null
if ls -d "$T/killed/wm/images/.tmp-"* >/dev/null 2>&1; then
	bdigest=$("$WM" image inspect "oci:$T/B:t" --json | jq -r .digest)
	check "killed mid-extraction: no entry under the image's name" \
		test ! -e "$T/killed/wm/images/${bdigest#sha256:}"
	expect_exit "a later run prepares it afresh" 0 "$WM" run "$W/big.md"
	check "and its tree is whole" cmp -s "$T/big/data/blob" \
		"$T/killed/wm/images/${bdigest#sha256:}/rootfs/data/blob"
	expect_exit "image prune removes the leftover" 0 "$WM" image prune
	expect_in "it says so" "removed 1 cache entry" "$OUT"
	check "no temporary directory remains" \
		bash -c "! ls -d '$T/killed/wm/images/.tmp-'* 2>/dev/null"
else
	skip "SIGKILL mid-extraction" "the extraction was not caught under way"
fi

# wm image ls, inspect, rm.
OUT=$("$WM" image ls 2>&1)
expect_in "image ls lists the cached image" "oci:$T/B@sha256:" "$OUT"
OUT=$("$WM" image ls --json 2>&1)
check "image ls --json is one entry" test "$(jq length <<<"$OUT")" = 1
OUT=$("$WM" image inspect "oci:$T/B:t" 2>&1)
expect_in "image inspect gives the digest" "digest   $bdigest" "$OUT"
expect_in "image inspect says it is cached" "cached   yes" "$OUT"
OUT=$("$WM" image inspect "${bdigest:7:12}" --json 2>&1)
check "image inspect DIGEST --json" test "$(jq -r '.layers | length' <<<"$OUT")" = 1
expect_exit "image rm REF" 0 "$WM" image rm "oci:$T/B:t"
check "image rm removed the tree" test ! -e "$T/killed/wm/images/${bdigest#sha256:}"
expect_exit "image rm of what is not cached" 2 "$WM" image rm "${bdigest:7:12}"
expect_in "says so" "no such cached image" "$OUT"
expect_exit "image inspect of a missing layout" 2 "$WM" image inspect oci:/nonexistent:t
expect_exit "image: a bad reference in a workflow" 2 "$WM" plan /dev/stdin <<<$'# a\n\n## t\n- image: alpine\n\n```sh\ntrue\n```'
expect_in "says what an image is" "is not an image: want oci:PATH" "$OUT"

# wm doctor says how a task's writable layer is made here.
OUT=$("$WM" doctor 2>&1)
expect_in "doctor: the image layer" "image_layer" "$OUT"
expect_in "doctor: overlayfs or a copy" "overlayfs" "$OUT"
