#!/bin/bash
# bench/mlp/run.sh - lift's mlp against PyTorch and scikit-learn on the
# bank and Hillstrom splits (`make bench`, or run it alone).
#
# Splits both files as the peers do (split.py: stratified, 20 % test,
# seed 42), then REPEAT times (default 3, seeds 1..REPEAT) runs
# `lift train --model mlp` + `lift eval`, torch_mlp.py (2 threads) and
# sklearn_mlp.py, each whole process under /usr/bin/time -v, and prints
# per data set the median AUC, fit seconds, whole-process wall seconds
# and peak RSS of each tool, the ratios and the targets, after the
# thread hand-over time of bench/mlp/handoff.c. Details:
# bench/mlp/mlp_bench.py; results: bench/RESULTS.md, section "mlp".
#
# Environment (bench/run.sh sets the first three): LIFT (the binary),
# DATA (the shared data folder), LIFT_ROOT, LIFT_PEERS (the peer
# scripts; default DATA/../peers), REPEAT, SETS (default
# bank,hillstrom), QUIET_PCT and QUIET_MAX (before each run wait at most
# QUIET_MAX s, default 120, for the machine to be under QUIET_PCT %
# busy, default 25).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${LIFT_ROOT:-$(cd "$HERE/../.." && pwd)}
LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
PEERS=${LIFT_PEERS:-$DATA/../peers}
OUT=$ROOT/bench/out/mlp

for f in "$LIFT" "$PEERS/split.py" "$PEERS/torch_mlp.py" \
    "$PEERS/sklearn_mlp.py"; do
    if [ ! -e "$f" ]; then
        echo "bench mlp: missing $f" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

# The peers come from Debian packages (install_peers.sh, as root).
peers_ready() {
    [ -x /usr/bin/time ] &&
        /usr/bin/python3 -c 'import torch, sklearn, pandas' 2>/dev/null
}
if ! peers_ready; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench mlp: installing the peers (install_peers.sh)" >&2
        bash "$PEERS/install_peers.sh" >"$OUT/install.log" 2>&1 || {
            echo "bench mlp: install_peers.sh failed, see" \
                "$OUT/install.log" >&2
            exit 1
        }
    else
        echo "bench mlp: peers missing; run" \
            "'sudo bash $PEERS/install_peers.sh'" >&2
        exit 1
    fi
fi

# What a second training thread would pay per batch (src/models/mlp.c's
# overview): a hand-over round trip, when a C compiler is at hand.
if command -v cc >/dev/null &&
    cc -O2 -pthread -o "$OUT/handoff" "$HERE/handoff.c" 2>/dev/null; then
    "$OUT/handoff" | sed 's/^/handoff: /'
fi

exec /usr/bin/python3 "$HERE/mlp_bench.py" --lift "$LIFT" --data "$DATA" \
    --peers "$PEERS" --out "$OUT" --repeat "${REPEAT:-3}" \
    --sets "${SETS:-bank,hillstrom}" --quiet-pct "${QUIET_PCT:-25}" \
    --quiet-max "${QUIET_MAX:-120}"
