#!/bin/bash
# scripts/build.sh - configure a build tree once, then build it.
#
# usage: scripts/build.sh [plain|asan|fuzz] [DIR]
#   plain  build/       the ordinary build: werror, debugoptimized
#   asan   build-asan/  AddressSanitizer + UBSan, debug info at -O1
#   fuzz   build-fuzz/  clang; libFuzzer binaries (-Dfuzz=true) and the
#                       whole library instrumented for coverage
# The options apply when DIR is first configured; later runs only call
# ninja (which re-runs meson itself when a meson.build changes). To change
# the options of an existing tree, remove it or use `meson configure DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-plain}
case $kind in
plain)
    dir=${2:-build}
    opts=()
    ;;
asan)
    dir=${2:-build-asan}
    opts=(-Db_sanitize=address,undefined -Db_lundef=false
        -Ddebug=true -Doptimization=1)
    ;;
fuzz)
    dir=${2:-build-fuzz}
    # The fuzz_* binaries add -fsanitize=fuzzer themselves; the library
    # needs fuzzer-no-link so that libFuzzer sees coverage inside it. A
    # warning that only clang gives must not stop a fuzzing session.
    opts=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
        -Dc_args=-fsanitize=fuzzer-no-link -Dwerror=false)
    export CC=clang
    ;;
*)
    echo "usage: scripts/build.sh [plain|asan|fuzz] [DIR]" >&2
    exit 2
    ;;
esac

if [ ! -f "$dir/build.ninja" ]; then
    if [ -d "$dir/meson-private" ]; then
        # an interrupted setup leaves a tree that meson will not redo
        meson setup --wipe "${opts[@]}" "$dir"
    else
        meson setup "${opts[@]}" "$dir"
    fi
fi
ninja -C "$dir"
