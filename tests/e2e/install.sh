#!/usr/bin/env bash
# make install / uninstall into a DESTDIR: every file in place with sane
# modes, the units pointing at the installed binary, nothing left behind.
. "$(dirname "$0")/../lib.sh"

# Install the build under test: BUILD is the directory holding $WM, which
# must be the repository's own build (build/, build-asan/...).
wm_abs=$(readlink -f "$WM" 2>/dev/null)
build=${wm_abs%/wm}
build=${build#"$REPO_DIR"/}
if [[ ! -x $wm_abs ]]; then
	skip "make install" "build/wm missing"
	exit 0
fi
if [[ $build == /* || $build == */* ]]; then
	skip "make install" "$WM is not a build of this repository"
	exit 0
fi

root=$T/root
# A clean make: not the flags or jobserver of a make this test may run under.
make_repo() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$REPO_DIR" BUILD="$build" "$@"; }
expect_exit "make install exits 0" 0 make_repo install DESTDIR="$root" PREFIX=/usr
[[ -d $root/usr ]] || exit 0 # nothing installed: the failure above says why

# mode_of FILE: octal permission bits.
mode_of() { stat -c %a "$1" 2>/dev/null; }
want_file() {
	local path=$root$1 mode=$2
	if [[ ! -f $path ]]; then
		fail "installed $1" "missing"
	elif [[ $(mode_of "$path") != "$mode" ]]; then
		fail "installed $1" "mode $(mode_of "$path"), wanted $mode"
	elif [[ ! -s $path ]]; then
		fail "installed $1" "empty"
	else
		pass "installed $1 ($mode)"
	fi
}
want_file /usr/bin/wm 755
want_file /usr/libexec/wm/wm-notify 755
check "wm itself links no libcurl" bash -c "! ldd '$root/usr/bin/wm' | grep -q libcurl"
want_file /usr/share/man/man1/wm.1 644
want_file /usr/share/bash-completion/completions/wm 644
want_file /usr/share/zsh/site-functions/_wm 644
want_file /usr/share/fish/vendor_completions.d/wm.fish 644
want_file /usr/share/wm/policies.example.yaml 644
want_file /usr/share/wm/systemd/wm-run@.service 644
want_file /usr/share/wm/systemd/wm-run@.timer 644
want_file /usr/share/wm/systemd/wm-serve.service 644
want_file /usr/libexec/wm/wm-serve 755
for s in workflow-frontmatter policy; do
	want_file "/usr/share/wm/schema/$s.schema.json" 644
	check "installed $s schema is the source's" cmp -s "$root/usr/share/wm/schema/$s.schema.json" \
		"$REPO_DIR/share/wm/schema/$s.schema.json"
done

check "installed binary is the build" cmp -s "$root/usr/bin/wm" "$wm_abs"
expect_exit "installed binary runs" 0 "$root/usr/bin/wm" --version

if command -v man >/dev/null; then
	page=$(MANWIDTH=80 man -l "$root/usr/share/man/man1/wm.1" 2>&1)
	expect_in "man page renders NAME" "wm - run a Markdown workflow" "$page"
	for section in COMMANDS "WORKFLOW FORMAT" POLICIES "STATE AND RESUME" "AUDIT LOG" \
		"EXIT STATUS" ENVIRONMENT FILES; do
		expect_in "man page has $section" "$section" "$page"
	done
	for c in run resume plan status list orphans cancel logs stats "audit show" "audit verify" \
		"policy list" sandbox export doctor help; do
		expect_in "man page documents '$c'" "$c" "$page"
	done
else
	skip "man page renders" "man is not installed"
fi

units=$root/usr/share/wm/systemd
expect_in "service runs the installed binary" "ExecStart=/usr/bin/wm run --json" \
	"$(cat "$units/wm-run@.service")"
expect_in "wm-serve.service runs the installed binary" "ExecStart=/usr/bin/wm serve" \
	"$(cat "$units/wm-serve.service")"
expect_not_in "no /usr/local left in the units" "/usr/local" "$(cat "$units"/*)"
if command -v systemd-analyze >/dev/null; then
	# Verify copies that point at the binary under test (/usr/bin/wm may not exist here).
	mkdir -p "$T/units"
	for u in "$units"/*; do
		sed "s|/usr/bin/wm|$wm_abs|g" "$u" >"$T/units/${u##*/}"
	done
	expect_exit "systemd-analyze verify: service" 0 systemd-analyze verify --man=no \
		"$T/units/wm-run@.service"
	expect_exit "systemd-analyze verify: timer" 0 systemd-analyze verify --man=no \
		"$T/units/wm-run@.timer"
	expect_exit "systemd-analyze verify: wm-serve" 0 systemd-analyze verify --man=no \
		"$T/units/wm-serve.service"
fi

expect_exit "make uninstall exits 0" 0 make_repo uninstall DESTDIR="$root" PREFIX=/usr
left=$(find "$root" -type f)
[[ -z $left ]] && pass "uninstall removes every file" || fail "uninstall removes every file" "$left"
[[ ! -e $root/usr/share/wm ]] && pass "uninstall removes share/wm" ||
	fail "uninstall removes share/wm" "still there"
