#!/bin/bash
# scripts/fuzz.sh - run one libFuzzer target for a while.
#
# usage: scripts/fuzz.sh TARGET [SECONDS]     (default 60 seconds)
#
# Builds build-fuzz/ (clang, -Dfuzz=true; scripts/build.sh fuzz), then runs
# build-fuzz/tests/fuzz/fuzz_TARGET over tests/fuzz/corpus/TARGET/ (read
# only) and tests/fuzz/findings/TARGET/new/, where libFuzzer writes the new
# inputs it finds. Crashes, leaks and timeouts land in
# tests/fuzz/findings/TARGET/ (ignored by git). tests/fuzz/TARGET.dict is
# used when it exists. To keep new inputs, merge them into the corpus:
#   build-fuzz/tests/fuzz/fuzz_TARGET -merge=1 tests/fuzz/corpus/TARGET \
#       tests/fuzz/findings/TARGET/new
# and copy a crash input into the corpus once it is fixed, so that it
# replays in every `make check`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET [SECONDS]" >&2
    exit 2
fi
target=$1
seconds=${2:-60}
case $seconds in
'' | *[!0-9]*)
    echo "fuzz: SECONDS must be a whole number, not '$seconds'" >&2
    exit 2
    ;;
esac

log=$(mktemp)
if ! scripts/build.sh fuzz >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "fuzz: the build of build-fuzz/ failed" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"

bin=build-fuzz/tests/fuzz/fuzz_$target
if [ ! -x "$bin" ]; then
    echo "fuzz: no target '$target'; built targets:" >&2
    find build-fuzz/tests/fuzz -maxdepth 1 -type f -name 'fuzz_*' \
        -printf '  %f\n' 2>/dev/null | sed 's/fuzz_//' >&2
    exit 2
fi

corpus=tests/fuzz/corpus/$target
findings=tests/fuzz/findings/$target
mkdir -p "$findings/new"
dirs=("$findings/new")
[ -d "$corpus" ] && dirs+=("$corpus")
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
    -artifact_prefix="$findings/" -print_final_stats=1)
[ -f "tests/fuzz/$target.dict" ] && args+=(-dict="tests/fuzz/$target.dict")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
"$bin" "${args[@]}" "${dirs[@]}" || rc=$?

n_new=$(find "$findings/new" -type f | wc -l)
n_bad=$(find "$findings" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
echo "fuzz: $target: $n_new new inputs in $findings/new," \
    "$n_bad problem inputs in $findings/"
exit $rc
