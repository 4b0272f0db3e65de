# Helpers for tests that need OCI images, built offline with umoci (source
# it after lib.sh). `umoci insert` is never used: Debian's 0.4.7 writes
# truncated layers with it.

# have_image_tools: umoci and skopeo are installed (tools/install-deps).
have_image_tools() { command -v umoci >/dev/null && command -v skopeo >/dev/null; }

# mk_rootfs DIR: a small root filesystem: dash as /bin/sh, cat, their
# libraries (from ldd), and /data/marker, a file only the image has.
mk_rootfs() {
	local dir=$1 bin lib
	mkdir -p "$dir/bin" "$dir/data" "$dir/etc"
	cp /bin/dash "$dir/bin/sh"
	cp /bin/cat "$dir/bin/cat"
	for bin in /bin/dash /bin/cat; do
		for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
			mkdir -p "$dir$(dirname "$lib")"
			cp -L "$lib" "$dir$lib"
		done
	done
	echo only-in-image >"$dir/data/marker"
}

# mk_image LAYOUT TAG ROOTFS [NAME=VALUE]...: LAYOUT:TAG, one layer holding
# ROOTFS, the variables as its Env, /data its WorkingDir. Readable by all.
mk_image() {
	local layout=$1 tag=$2 rootfs=$3 bundle args=() kv
	shift 3
	bundle=$(mktemp -d "$T/bundle.XXXXXX")
	rmdir "$bundle"
	[[ -d $layout ]] || umoci init --layout "$layout" || return 1
	umoci new --image "$layout:$tag" &&
		umoci unpack $(is_root || echo --rootless) --image "$layout:$tag" "$bundle" >/dev/null &&
		cp -a "$rootfs/." "$bundle/rootfs/" &&
		umoci repack --image "$layout:$tag" "$bundle" || return 1
	for kv in "$@"; do args+=(--config.env "$kv"); done
	umoci config --image "$layout:$tag" --config.workingdir /data "${args[@]}" || return 1
	rm -rf "$bundle"
	chmod -R a+rX "$layout"
}

# cache_tree CACHE_HOME: the one prepared tree under XDG_CACHE_HOME=CACHE_HOME.
cache_tree() { ls -d "$1"/wm/images/[0-9a-f]*/rootfs 2>/dev/null; }
