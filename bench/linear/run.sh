#!/bin/bash
# bench/linear/run.sh - lift's logistic regression against scikit-learn and
# LIBLINEAR on the bank marketing file (`make bench`, or run it alone).
#
# Splits bank-additional-full.csv as the peers do (split.py, stratified,
# 20 % test, seed 42), then REPEAT times (default 5) runs `lift train` +
# `lift eval`, the sklearn_lr peer and the liblinear peer, each whole
# process under /usr/bin/time -v, and prints one line per tool (median
# AUC, fit seconds, whole-process wall seconds, peak RSS MB) and the
# ratios. Details: bench/linear/linear_bench.py; results: bench/RESULTS.md.
#
# Environment (bench/run.sh sets the first three): LIFT (the binary),
# DATA (the shared data folder), LIFT_ROOT, LIFT_PEERS (the peer scripts;
# default DATA/../peers), REPEAT, QUIET_PCT and QUIET_MAX (before each run,
# wait at most QUIET_MAX s, default 120, for the machine to be under
# QUIET_PCT % busy, default 25).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${LIFT_ROOT:-$(cd "$HERE/../.." && pwd)}
LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
PEERS=${LIFT_PEERS:-$DATA/../peers}
REPEAT=${REPEAT:-5}
OUT=$ROOT/bench/out/linear
CSV=$DATA/bank-marketing/bank-additional-full.csv

for f in "$LIFT" "$CSV" "$PEERS/split.py" "$PEERS/sklearn_lr.py" \
    "$PEERS/liblinear.py"; do
    if [ ! -e "$f" ]; then
        echo "bench linear: missing $f" >&2
        exit 1
    fi
done

mkdir -p "$OUT"

# The peers come from Debian packages (install_peers.sh, as root).
peers_ready() {
    command -v liblinear-train >/dev/null &&
        [ -x /usr/bin/time ] &&
        /usr/bin/python3 -c 'import sklearn, pandas' 2>/dev/null
}
if ! peers_ready; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench linear: installing the peers (install_peers.sh)" >&2
        bash "$PEERS/install_peers.sh" >"$OUT.install.log" 2>&1 || {
            echo "bench linear: install_peers.sh failed, see" \
                "$OUT.install.log" >&2
            exit 1
        }
    else
        echo "bench linear: peers missing; run" \
            "'sudo bash $PEERS/install_peers.sh'" >&2
        exit 1
    fi
fi

exec /usr/bin/python3 "$HERE/linear_bench.py" --lift "$LIFT" --data "$CSV" \
    --peers "$PEERS" --out "$OUT" --repeat "$REPEAT" \
    --quiet-pct "${QUIET_PCT:-25}" --quiet-max "${QUIET_MAX:-120}"
