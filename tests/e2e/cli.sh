#!/usr/bin/env bash
# The command-line skeleton: help, version, usage errors and their exit codes.
. "$(dirname "$0")/../lib.sh"

expect_exit "version exits 0" 0 "$WM" --version
expect_in "version names wm" "wm " "$OUT"
expect_exit "help exits 0" 0 "$WM" help
expect_in "help lists every command" "sandbox" "$OUT"
expect_exit "help of one command" 0 "$WM" help plan
expect_in "help plan shows usage" "plan FILE" "$OUT"
expect_exit "no command is a usage error" 2 "$WM"
expect_exit "unknown command is a usage error" 2 "$WM" frobnicate
expect_in "unknown command is named" "frobnicate" "$OUT"
expect_exit "help of unknown command" 2 "$WM" help frobnicate
expect_exit "bad global option" 2 "$WM" --bogus plan x
