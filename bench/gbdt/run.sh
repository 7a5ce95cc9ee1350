#!/bin/bash
# bench/gbdt/run.sh - lift's gradient-boosted trees against XGBoost (hist)
# and scikit-learn's HistGradientBoostingClassifier on the bank marketing
# file (`make bench`, or run it alone): 200 trees, depth 6, lr 0.1, two
# threads each; medians over REPEAT runs (default 5) of test AUC, fit
# time, whole-process wall and peak RSS. Details: gbdt_bench.py; results:
# bench/RESULTS.md.
#
# Environment: LIFT (the binary), DATA (the shared data folder),
# LIFT_ROOT, LIFT_PEERS (default DATA/../peers), REPEAT, QUIET_PCT and
# QUIET_MAX (before each run, wait at most QUIET_MAX s, default 120, for
# the machine to be under QUIET_PCT % busy, default 25).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${LIFT_ROOT:-$(cd "$HERE/../.." && pwd)}
LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
PEERS=${LIFT_PEERS:-$DATA/../peers}
REPEAT=${REPEAT:-5}
OUT=$ROOT/bench/out/gbdt
CSV=$DATA/bank-marketing/bank-additional-full.csv

for f in "$LIFT" "$CSV" "$PEERS/split.py" "$PEERS/xgb.py" \
    "$PEERS/common.py"; do
    if [ ! -e "$f" ]; then
        echo "bench gbdt: missing $f" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

peers_ready() {
    [ -x /usr/bin/time ] &&
        /usr/bin/python3 -c 'import xgboost, sklearn, pandas' 2>/dev/null
}
if ! peers_ready; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench gbdt: installing the peers (install_peers.sh)" >&2
        bash "$PEERS/install_peers.sh" >"$OUT.install.log" 2>&1 || {
            echo "bench gbdt: install_peers.sh failed, see" \
                "$OUT.install.log" >&2
            exit 1
        }
    else
        echo "bench gbdt: peers missing; run" \
            "'sudo bash $PEERS/install_peers.sh'" >&2
        exit 1
    fi
fi

exec /usr/bin/python3 "$HERE/gbdt_bench.py" --lift "$LIFT" --data "$CSV" \
    --peers "$PEERS" --out "$OUT" --repeat "$REPEAT" \
    --quiet-pct "${QUIET_PCT:-25}" --quiet-max "${QUIET_MAX:-120}"
