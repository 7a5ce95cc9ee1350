#!/bin/bash
# scripts/check.sh - the whole test suite, as CI runs it (`make check`).
#
# Steps, each printing one line per build, test program or script:
#   1. build build/ (werror)
#   2. unit tests: every test of meson suite 'unit' (tests/unit/meson.build),
#      run directly; cmocka's "[  PASSED  ] N" / "[  FAILED  ] N" summary
#      lines are counted, and a program that exits non-zero without a
#      FAILED line (a crash, a leak report, a timeout) counts one failure
#   3. end-to-end tests: every tests/e2e/test_*.sh (bash) and test_*.py
#      (python3), run from the repository root with LIFT (the binary),
#      DATA (../shared/data beside the repository, or $LIFT_DATA) and
#      LIFT_ROOT set; their "ok - name" / "not ok - name" lines are
#      counted ("ok - name # SKIP why" is a skip); a script that exits
#      non-zero without a "not ok" line, or prints no result, counts one
#      failure
#   4. fuzz corpus replay: every test of meson suite 'fuzz'
#      (tests/fuzz/meson.build registers replay_<target> over
#      tests/fuzz/corpus/<target>/), one result each
#   5. the same 1-4 in build-asan/ (ASan + UBSan), unless CHECK_QUICK=1;
#      its end-to-end pass runs the scripts in ASAN_E2E (the CLI from
#      reading to explaining on the real files, and the server): the
#      heavy learners' scripts would take minutes under ASan, and their
#      code runs under ASan in their unit tests
#   6. format: clang-format --dry-run -Werror over the tracked *.c and *.h
# Builds count one result each; a failed build skips the tests of its
# tree. The last line is "N passed, N failed" (", N skipped" when any
# were) and the exit status is 1 when anything failed. Full logs go to
# build/check-logs/; a failure prints the tail of its log (or the
# sanitizer report). Suite tests run from the repository root with no
# arguments but those of their meson test(); meson's env and workdir are
# not applied.
#
# Environment: CHECK_QUICK=1 skips the sanitizer step; LIFT_DATA overrides
# the data folder; LIFT_BUILD and LIFT_ASAN_BUILD the build folders;
# LIFT_TEST_TIMEOUT (seconds, default 900) bounds each program or script.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

BUILD=${LIFT_BUILD:-build}
ASAN_BUILD=${LIFT_ASAN_BUILD:-build-asan}
DATA=${LIFT_DATA:-$ROOT/../shared/data}
[ -d "$DATA" ] && DATA=$(cd "$DATA" && pwd)
TIMEOUT=${LIFT_TEST_TIMEOUT:-900}
case $BUILD in
/*) LOGS=$BUILD/check-logs ;;
*) LOGS=$ROOT/$BUILD/check-logs ;;
esac

n_passed=0
n_failed=0
n_skipped=0
# One line per failing build, program or script, repeated at the end so
# that the last lines of a long run (all a CI page may show) name them.
failures=()
pass_name=

# A clean environment for the programs under test.
unset LIFT_FAIL_ALLOC CMOCKA_XML_FILE
export CMOCKA_MESSAGE_OUTPUT=stdout
ulimit -c 0

mkdir -p "$LOGS"
rm -f "$LOGS"/*.log

# Prints a result line: name padded to a column, then the outcome.
row() {
    if [ -n "${2:-}" ]; then
        printf '   %-44s %s\n' "$1" "$2"
    else
        printf '   %s\n' "$1"
    fi
}

# Adds to the totals: passed, failed, skipped.
count() {
    n_passed=$((n_passed + $1))
    n_failed=$((n_failed + $2))
    n_skipped=$((n_skipped + ${3:-0}))
}

# Describes a non-zero exit status (bash: 128 + signal; timeout: 124).
describe_status() {
    case $1 in
    124) echo "timed out after ${TIMEOUT}s" ;;
    134) echo "aborted (SIGABRT)" ;;
    139) echo "crashed (SIGSEGV)" ;;
    *) if [ "$1" -gt 128 ]; then
        echo "killed by signal $(($1 - 128))"
    else
        echo "exit status $1"
    fi ;;
    esac
}

# The path relative to the repository root, for messages.
relpath() {
    local p=$1
    echo "${p#"$ROOT"/}"
}

# Shows the telling part of a failing log, indented: from two lines before
# the first sanitizer report when there is one (a replay names its input
# there, above ASan's rule), else the last lines.
show_tail() {
    local at
    at=$(grep -n -m 1 -E '^==[0-9]+==ERROR: |runtime error: ' "$1" | cut -d: -f1)
    if [ -n "$at" ]; then
        at=$((at > 2 ? at - 2 : 1))
        echo "      --- sanitizer report in $2 ---"
        tail -n "+$at" "$1" | head -n 30 | sed 's/^/      | /'
    else
        echo "      --- last lines of $2 ---"
        tail -n "${3:-25}" "$1" | sed 's/^/      | /'
    fi
}

# run_logged LOG CMD...: runs CMD with a time limit, output to LOG, and
# notes in LOG how it ended when that was not a clean exit. Returns the
# status. The braces keep bash's own "Segmentation fault" notice out of
# the check's output.
run_logged() {
    local log=$1 rc
    shift
    { timeout -k 10 "$TIMEOUT" "$@" </dev/null >"$log" 2>&1; } 2>/dev/null
    rc=$?
    [ $rc -gt 128 ] || [ $rc -eq 124 ] &&
        echo "check: $(describe_status $rc)" >>"$log"
    return $rc
}

# Sums the numbers in the cmocka summary lines matching $2 in log $1.
sum_cmocka() {
    grep -o "$2" "$1" | grep -o '[0-9]\+' | awk '{ s += $1 } END { print s + 0 }'
}

# Lists the tests of one meson suite: name, then the command and its
# arguments, tab-separated, one test a line.
list_suite() {
    local intro=$1/meson-info/intro-tests.json
    [ -f "$intro" ] || return 0
    python3 - "$intro" "$2" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    tests = json.load(f)
for t in sorted(tests, key=lambda t: t["name"]):
    if any(s.split(":")[-1] == sys.argv[2] for s in t["suite"]):
        print("\t".join([t["name"]] + t["cmd"]))
PY
}

# step_build KIND DIR: configure once and build; counts one result.
step_build() {
    local log=$LOGS/build-$1.log start=$SECONDS
    if scripts/build.sh "$1" "$2" >"$log" 2>&1; then
        row "build $2/" "ok ($((SECONDS - start))s)"
        count 1 0
        return 0
    fi
    row "build $2/" "FAILED"
    show_tail "$log" "$(relpath "$log")" 40
    failures+=("build $2/: see $(relpath "$log")")
    count 0 1
    return 1
}

# report NAME LOG STATUS PASSED FAILED SKIPPED [NOTE]: prints the result
# line of one program or script and counts it. A non-zero exit without a
# counted failure (a crash, a leak report, a timeout) is one failure, and
# so is a clean exit that reported no result at all.
report() {
    local name=$1 log=$2 rc=$3 p=$4 f=$5 s=$6 note=${7:-}
    local status="$p ok"
    [ "$s" -gt 0 ] && status="$status, $s skipped"
    [ "$f" -gt 0 ] && status="$status, $f FAILED"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        status="$status, $(describe_status "$rc")"
    elif [ $((p + f + s)) -eq 0 ]; then
        f=1
        status="no results reported"
    fi
    [ -n "$note" ] && status="$status ($note)"
    row "$name" "$status"
    count "$p" "$f" "$s"
    if [ "$f" -gt 0 ]; then
        show_tail "$log" "$(relpath "$log")"
        failures+=("$pass_name $name: $status ($(relpath "$log"))")
        local bad
        while IFS= read -r bad; do
            failures+=("    ${bad:0:240}")
        done < <(grep -E '^not ok\b|^\[  FAILED  \] [^0-9]|^\[  ERROR   \]' "$log" | head -n 8)
    fi
}

# judge_unit NAME LOG STATUS: cmocka's summary lines.
judge_unit() {
    local p f s
    p=$(sum_cmocka "$2" '\[  PASSED  \] [0-9]\+ test(s)\.')
    f=$(sum_cmocka "$2" '\[  FAILED  \] [0-9]\+ test(s), listed below:')
    s=$(sum_cmocka "$2" '\[  SKIPPED \] [0-9]\+ test(s), listed below:')
    report "test_$1" "$2" "$3" "$p" "$f" "$s"
}

# judge_replay NAME LOG STATUS: one result; the count of inputs as a note.
judge_replay() {
    local note=
    [ "$3" -eq 0 ] &&
        note="$(sed -n 's/.*: ran \([0-9]*\) inputs$/\1/p' "$2") inputs"
    report "$1" "$2" "$3" $(($3 == 0)) 0 0 "$note"
}

# judge_e2e NAME LOG STATUS: TAP-like "ok" / "not ok" lines.
judge_e2e() {
    local ok notok skip
    ok=$(grep -c '^ok\b' "$2")
    notok=$(grep -c '^not ok\b' "$2")
    skip=$(grep -ci '^ok\b.*#[[:space:]]*skip' "$2")
    report "$1" "$2" "$3" $((ok - skip)) "$notok" "$skip"
}

# step_suite DIR SUITE JUDGE: runs every test of a meson suite in DIR.
step_suite() {
    local dir=$1 suite=$2 judge=$3 line log rc found=0
    while IFS=$'\t' read -r -a line; do
        [ ${#line[@]} -ge 2 ] || continue
        found=1
        log=$LOGS/$suite-$(basename "$dir")-${line[0]}.log
        run_logged "$log" "${line[@]:1}"
        rc=$?
        "$judge" "${line[0]}" "$log" $rc
    done < <(list_suite "$dir" "$suite")
    [ $found -eq 1 ] || row "(no tests in suite '$suite')"
}

# The sanitizer build's end-to-end pass.
ASAN_E2E=${ASAN_E2E:-"test_inspect.py test_learn.py test_admin.py test_serve.py test_target.py test_ops.py test_bulk.py test_tls.py test_slow.py test_uplift.py test_text.py test_crash.py test_promote.py test_text_terms.py test_quota.py test_mkt_jobs.py test_tenant_delete.py"}

# step_e2e LIFT_BINARY TAG [ONLY]: every tests/e2e/test_*.sh and test_*.py,
# or only those named (space-separated basenames) in ONLY.
step_e2e() {
    local lift=$1 tag=$2 only=${3:-} script log rc runner
    local scripts=()
    for script in tests/e2e/test_*.sh tests/e2e/test_*.py; do
        [ -f "$script" ] || continue
        if [ -n "$only" ] && [[ " $only " != *" $(basename "$script") "* ]]; then
            continue
        fi
        scripts+=("$script")
    done
    if [ ${#scripts[@]} -eq 0 ]; then
        row "(no e2e tests yet)"
        return
    fi
    [ -d "$DATA" ] || echo "   warning: data folder $DATA not found"
    for script in "${scripts[@]}"; do
        log=$LOGS/e2e-$tag-$(basename "$script").log
        runner=bash
        [ "${script%.py}" != "$script" ] && runner=/usr/bin/python3
        LIFT=$lift DATA=$DATA LIFT_ROOT=$ROOT \
            run_logged "$log" "$runner" "$script"
        rc=$?
        judge_e2e "$(basename "$script")" "$log" $rc
    done
}

step_format() {
    local log=$LOGS/format.log files=()
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # tracked files still present (a deletion may not be committed yet)
        mapfile -t files < <(git ls-files '*.c' '*.h' |
            while read -r f; do [ -f "$f" ] && echo "$f"; done)
    else
        mapfile -t files < <(find src include tests bench \
            \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
    fi
    if [ ${#files[@]} -eq 0 ]; then
        row "clang-format" "no files"
        count 1 0
        return
    fi
    if clang-format --dry-run -Werror "${files[@]}" >"$log" 2>&1; then
        row "clang-format (${#files[@]} files)" "ok"
        count 1 0
    else
        row "clang-format (${#files[@]} files)" "FAILED (run: make format)"
        failures+=("format: clang-format --dry-run found unformatted files")
        grep -o '^[^:]*:[0-9]*:[0-9]*: error' "$log" | cut -d: -f1 |
            uniq | sed 's/^/      needs formatting: /'
        count 0 1
    fi
}

# run_build KIND DIR TAG: build DIR, then its unit, e2e and replay tests.
run_build() {
    pass_name=$3
    echo "== $3: build"
    if ! step_build "$1" "$2"; then
        echo "   (tests of $2/ skipped: the build failed)"
        return
    fi
    echo "== $3: unit tests"
    step_suite "$2" unit judge_unit
    echo "== $3: end-to-end tests (LIFT=$2/lift)"
    local lift=$2/lift
    [ "${lift#/}" = "$lift" ] && lift=$ROOT/$lift
    local only=
    [ "$1" = asan ] && only=$ASAN_E2E
    # test_crash.py: 15 of its 50 kills under the sanitizers (~20 s)
    [ "$1" = asan ] && export LIFT_CRASH_KILLS=${LIFT_CRASH_KILLS:-15}
    step_e2e "$lift" "$(basename "$2")" "$only"
    echo "== $3: fuzz corpus replay"
    step_suite "$2" fuzz judge_replay
}

start=$SECONDS
run_build plain "$BUILD" plain

if [ "${CHECK_QUICK:-0}" = 1 ]; then
    echo "== sanitizers: skipped (CHECK_QUICK=1)"
else
    # allocator_may_return_null: a huge malloc returns NULL as glibc's does,
    # so the library's out-of-memory paths run instead of ASan aborting
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
    export ASAN_OPTIONS
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_build asan "$ASAN_BUILD" "asan+ubsan"
    unset ASAN_OPTIONS UBSAN_OPTIONS
fi

echo "== format"
step_format

if [ ${#failures[@]} -gt 0 ]; then
    echo "== failures"
    printf '   %s\n' "${failures[@]}"
fi
echo "== done in $((SECONDS - start))s; logs in $(relpath "$LOGS")/"
if [ "$n_skipped" -gt 0 ]; then
    echo "$n_passed passed, $n_failed failed, $n_skipped skipped"
else
    echo "$n_passed passed, $n_failed failed"
fi
[ "$n_failed" -eq 0 ]
