#!/bin/bash
# bench/run.sh - runs every benchmark (`make bench`).
#
# A benchmark is bench/<name>/run.sh: it runs lift (and the peers it is
# compared with) on the real files in the data folder and prints one
# comparable line per result. It gets LIFT (the binary), DATA (the data
# folder: ../shared/data beside the repository, or $LIFT_DATA) and
# LIFT_ROOT, and may write scratch files to bench/out/<name>/ (ignored by
# git). Exits 1 when any benchmark failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export LIFT=${LIFT:-$ROOT/build/lift}
export DATA=${LIFT_DATA:-$ROOT/../shared/data}
export LIFT_ROOT=$ROOT

n_run=0
n_failed=0
for script in bench/*/run.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$(dirname "$script")")
    mkdir -p "bench/out/$name"
    echo "== bench $name"
    n_run=$((n_run + 1))
    if ! bash "$script"; then
        echo "bench $name: FAILED"
        n_failed=$((n_failed + 1))
    fi
done

if [ $n_run -eq 0 ]; then
    echo "bench: no benchmarks yet (add bench/<name>/run.sh)"
fi
[ $n_failed -eq 0 ]
