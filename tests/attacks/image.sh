#!/usr/bin/env bash
# Hostile images: layers that climb out with `..` or an absolute path, write
# through a symbolic link, hard-link /etc/passwd, claim a huge size or hold
# too many entries; blobs that do not match their digest, are missing or
# truncated; malformed JSON. Each is refused with its own error (exit 2),
# nothing is written outside the cache (a canary) and nothing is left in it.
. "$(dirname "$0")/../lib.sh"

export XDG_CACHE_HOME=$T/cache
canary=$(mktemp -d /tmp/wm-image-canary.XXXXXX)
trap 'rm -rf "$T" "$canary"' EXIT

# mkoci.py LAYOUT CASE: an OCI layout whose one layer is the hostile CASE.
cat >"$T/mkoci.py" <<'PY'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

layout, case, canary = sys.argv[1], sys.argv[2], sys.argv[3]

def tar_of(entries, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def file(name, data=b"x"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)

def link(name, target, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)

def dirent(name):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; return (i, None)

plain = [dirent("etc"), file("etc/hello", b"hi\n")]
def special(name, kind, mode):
    i = tarfile.TarInfo(name); i.type = kind; i.mode = mode; return (i, None)
suid = tarfile.TarInfo("etc/suid"); suid.size = 1; suid.mode = 0o4755
# Extended attributes (pax SCHILY.xattr): a user one to keep, a trusted one
# (which root could set) to drop.
attrs = tarfile.TarInfo("etc/attrs"); attrs.size = 1
attrs.pax_headers = {"SCHILY.xattr.user.wm": "kept", "SCHILY.xattr.trusted.wm": "dropped"}
full = plain + [link("etc/hello2", "etc/hello", tarfile.LNKTYPE),
                special("etc/null", tarfile.CHRTYPE, 0o666), (suid, b"x"), (attrs, b"x")]
cases = {
    "ok": full, "zstd": full, "plain": full,
    "dotdot": plain + [file("../../../../../.." + canary + "/dotdot")],
    "absolute": plain + [file(canary + "/absolute")],
    "symlink": plain + [link("out", canary, tarfile.SYMTYPE), file("out/through")],
    "hardlink": plain + [link("pw", "/etc/passwd", tarfile.LNKTYPE)],
    "hardlink-up": plain + [link("pw", "../../../../etc/passwd", tarfile.LNKTYPE)],
    "many": [file("f%d" % i, b"") for i in range(1500)],
}
# Cases of two layers: whiteouts of what the first one holds.
lower = [dirent("etc"), file("etc/a"), file("etc/b"), dirent("d"), file("d/x"),
         link("l", canary, tarfile.SYMTYPE)]
two = {
    "whiteout": [lower, [file("etc/.wh.a"), dirent("d"), file("d/.wh..wh..opq"), file("d/y"),
                         file("etc/hello", b"hi\n"),
                         # the same layer's file, then a marker: the file stays
                         dirent("e"), file("e/z"), file("e/.wh..wh..opq"),
                         file("etc/c"), file("etc/.wh.c")]],
    "whiteout-link": [lower, [file("l/.wh.victim")]],
}
if case == "huge":
    # A header claiming 10 GB, with no data behind it.
    i = tarfile.TarInfo("huge"); i.size = 10 * 10**9
    raws = [i.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024]
elif case in two:
    raws = [tar_of(l) for l in two[case]]
else:
    raws = [tar_of(cases.get(case, plain),
                   tarfile.PAX_FORMAT if case in ("ok", "zstd", "plain") else tarfile.GNU_FORMAT)]
if case == "zstd":
    blobs = [subprocess.run(["zstd", "-q", "-c"], input=r, stdout=subprocess.PIPE,
                            check=True).stdout for r in raws]
elif case == "plain":
    blobs = raws
else:
    blobs = [gzip.compress(raw, compresslevel=1) for raw in raws]
if case == "truncated":
    blobs[0] = blobs[0][: len(blobs[0]) // 2]

def put(data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(layout + "/blobs/sha256", exist_ok=True)
    with open(layout + "/blobs/sha256/" + d, "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)

layers = [put(b) for b in blobs]
ldig, lsize = layers[0]
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Env": ["PATH=/bin"]},
                  "rootfs": {"type": "layers",
                             "diff_ids": ["sha256:" + hashlib.sha256(r).hexdigest()
                                          for r in raws]}}).encode()
cdig, csize = put(cfg)
man = json.dumps({"schemaVersion": 2,
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": cdig, "size": csize},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                              "digest": d, "size": n} for d, n in layers]}).encode()
mdig, msize = put(man)
index = {"schemaVersion": 2,
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": mdig, "size": msize,
                        "annotations": {"org.opencontainers.image.ref.name": "t"}}]}
with open(layout + "/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
with open(layout + "/index.json", "w") as f:
    f.write("{ not json" if case == "badjson" else json.dumps(index))
if case == "baddigest":
    with open(layout + "/blobs/sha256/" + ldig[7:], "r+b") as f:
        f.seek(lsize // 2); b = f.read(1); f.seek(lsize // 2); f.write(bytes([b[0] ^ 1]))
if case == "missing":
    os.unlink(layout + "/blobs/sha256/" + ldig[7:])
print(ldig)
PY

# try_case NAME CASE WANT [ENV=VALUE]: the task in an image of CASE is refused
# with WANT in the message, exit 2, nothing in the cache, the canary untouched.
try_case() {
	local name=$1 case=$2 want=$3 layer
	shift 3
	rm -rf "$T/$case" "$T/cache"
	layer=$(/usr/bin/python3 "$T/mkoci.py" "$T/$case" "$case" "$canary") ||
		{ fail "$name: build the image"; return; }
	printf '# a\n\n## t\n- image: oci:%s:t\n\n```sh\ncat /etc/hello\n```\n' "$case" >"$T/$case.md"
	expect_exit "$name: refused" 2 env "$@" "$WM" run "$T/$case.md"
	expect_in "$name: says why" "$want" "$OUT"
	[[ $case == badjson ]] || expect_in "$name: names the image" "image oci:$T/$case" "$OUT"
	check "$name: nothing left in the cache" \
		bash -c "[ -z \"\$(ls -A '$T/cache/wm/images' 2>/dev/null)\" ]"
	check "$name: nothing written outside" bash -c "[ -z \"\$(ls -A '$canary')\" ]"
}

/usr/bin/python3 "$T/mkoci.py" "$T/ok" ok "$canary" >/dev/null
printf '# a\n\n## t\n- image: oci:ok:t\n\n```sh\n[ -e /bin ] || echo no-bin\n```\n' >"$T/ok.md"
# The plain image has no shell: the task cannot start, but the image is fine.
OUT=$("$WM" run "$T/ok.md" 2>&1)
expect_not_in "a well-formed layer is accepted" "image oci:" "$OUT"
check "and cached" bash -c "ls '$T/cache/wm/images/'*/rootfs/etc/hello >/dev/null"
tree=$(ls -d "$T/cache/wm/images/"*/rootfs | head -1)
check "a hard link inside the image is kept" test "$tree/etc/hello" -ef "$tree/etc/hello2"
check "device nodes are skipped" test ! -e "$tree/etc/null"
check "as root, setuid bits are kept" test -u "$tree/etc/suid"
xattr() { /usr/bin/python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$@" 2>&1; }
if /usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.wmprobe", b"1")' "$T/ok.md" 2>/dev/null; then
	expect_in "a user.* attribute is restored" "kept" "$(xattr "$tree/etc/attrs" user.wm)"
	expect_in "a trusted.* attribute is not" "No data available" "$(xattr "$tree/etc/attrs" trusted.wm)"
else
	skip "extended attributes" "this filesystem takes no user.* attributes"
fi
for c in zstd plain; do
	/usr/bin/python3 "$T/mkoci.py" "$T/$c" "$c" "$canary" >/dev/null
	printf '# a\n\n## t\n- image: oci:%s:t\n\n```sh\ntrue\n```\n' "$c" >"$T/$c.md"
	OUT=$("$WM" run "$T/$c.md" 2>&1)
	expect_not_in "a $c layer is read" "image oci:" "$OUT"
done
check "zstd and plain layers are extracted" test "$(ls -d "$T/cache/wm/images/"*/rootfs/etc/hello | wc -l)" = 3
if is_root && userns_ok; then
	chmod -R a+rX "$T/ok" && chmod a+r "$T/ok.md"
	as_user env XDG_CACHE_HOME="$T/cache-nobody" "$WM" run --yes "$T/ok.md" >/dev/null 2>&1
	t2=$(ls -d "$T/cache-nobody/wm/images/"*/rootfs | head -1)
	check "rootless: the image is extracted" test -f "$t2/etc/suid"
	check "rootless: setuid bits are dropped" test ! -u "$t2/etc/suid"
fi

try_case "../ escape" dotdot "has a path outside the image"
try_case "absolute path" absolute "has a path outside the image"
try_case "symlink then file" symlink "out/through"
try_case "hard link to /etc/passwd" hardlink "hard link to \`/etc/passwd\`, outside the image"
try_case "hard link up and out" hardlink-up "outside the image"
start=$(date +%s%N)
try_case "10 GB sparse claim" huge "claims 10000000000 bytes"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 5000)) && pass "the huge claim is refused at once (${ms} ms)" || fail "huge claim" "took ${ms} ms"
try_case "too many entries" many "more than 1000 entries" WM_IMAGE_MAX_ENTRIES=1000
try_case "a lower size limit" ok "past the limit of 2 bytes" WM_IMAGE_MAX_SIZE=2
try_case "wrong digest" baddigest "does not match its digest"
try_case "missing blob" missing "blobs/sha256/"
try_case "truncated layer" truncated "layer 1 (sha256:"
try_case "malformed index.json" badjson "index.json: malformed JSON"

# Whiteouts: `.wh.a` removes the lower layer's etc/a, the opaque marker empties
# d of what lower layers put there and keeps what its own layer adds.
rm -rf "$T/cache"
/usr/bin/python3 "$T/mkoci.py" "$T/whiteout" whiteout "$canary" >/dev/null
printf '# a\n\n## t\n- image: oci:whiteout:t\n\n```sh\ntrue\n```\n' >"$T/whiteout.md"
"$WM" run "$T/whiteout.md" >/dev/null 2>&1
tree=$(ls -d "$T/cache/wm/images/"*/rootfs 2>/dev/null | head -1)
check "whiteout: the layers are applied" test -f "$tree/etc/hello"
check "whiteout: .wh.a removes a" test ! -e "$tree/etc/a"
check "whiteout: its sibling stays" test -f "$tree/etc/b"
check "opaque: the lower layer's d/x is gone" test ! -e "$tree/d/x"
check "opaque: its own layer's d/y stays" test -f "$tree/d/y"
check "opaque after its own layer's file: the file stays" test -f "$tree/e/z"
check "whiteout of its own layer's file: the file stays" test -f "$tree/etc/c"
check "whiteout markers are not extracted" bash -c "! find '$tree' -name '.wh.*' | grep -q ."

# A whiteout through a symbolic link must not remove what the link points at.
victims=$(mktemp -d /tmp/wm-image-victim.XXXXXX)
touch "$victims/victim"
rm -rf "$T/cache" "$T/wl"
/usr/bin/python3 "$T/mkoci.py" "$T/wl" whiteout-link "$victims" >/dev/null
printf '# a\n\n## t\n- image: oci:wl:t\n\n```sh\ntrue\n```\n' >"$T/wl.md"
expect_exit "whiteout through a link: refused" 2 "$WM" run "$T/wl.md"
expect_in "whiteout through a link: says where" "whiteout below \`l\`" "$OUT"
check "whiteout through a link: the target stays" test -f "$victims/victim"
rm -rf "$victims"
