#!/bin/bash
# bench/text/run.sh - lift's logistic regression on text against fastText
# (`fasttext supervised -epoch 5 -wordNgrams 2 -thread 2 -bucket 200000`)
# and scikit-learn (TfidfVectorizer + LogisticRegression) on the SMS Spam
# Collection (`make bench`, or run it alone).
#
# Prepares and splits the SMS file as the peers do (prep_sms.py, split.py:
# stratified, 20 % test, seed 42), then REPEAT times (default 5) runs the
# three tools in a rotating order and prints one line per tool (median
# AUC, accuracy, fit seconds, whole-process wall seconds, peak RSS MB,
# model bytes) and lift's ratios to fastText. Details:
# bench/text/text_bench.py; results: bench/RESULTS.md. The text pipeline
# alone (read, fit, map; in process, min and median of N repeats):
# build/bench/pipeline_bench train.csv --text text --target label
# [--repeat N] [--no-memo] (LIFT_BENCH_CPU=1: CPU time, for a loaded
# machine).
#
# Environment: LIFT (the binary), DATA (the shared data folder),
# LIFT_ROOT, LIFT_PEERS (default DATA/../peers), REPEAT, LIFT_ARGS (extra
# `lift train` flags).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${LIFT_ROOT:-$(cd "$HERE/../.." && pwd)}
LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
PEERS=${LIFT_PEERS:-$DATA/../peers}
REPEAT=${REPEAT:-5}
OUT=$ROOT/bench/out/text
SMS=$DATA/sms-spam-collection/SMSSpamCollection

for f in "$LIFT" "$SMS" "$PEERS/prep_sms.py" "$PEERS/split.py" \
    "$PEERS/fasttext_text.py" "$PEERS/sklearn_lr.py"; do
    if [ ! -e "$f" ]; then
        echo "bench text: missing $f" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

peers_ready() {
    command -v fasttext >/dev/null && [ -x /usr/bin/time ] &&
        /usr/bin/python3 -c 'import sklearn, pandas, numpy' 2>/dev/null
}
if ! peers_ready; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench text: installing the peers (install_peers.sh)" >&2
        bash "$PEERS/install_peers.sh" >"$OUT.install.log" 2>&1 || {
            echo "bench text: install_peers.sh failed, see" \
                "$OUT.install.log" >&2
            exit 1
        }
    else
        echo "bench text: peers missing; run" \
            "'sudo bash $PEERS/install_peers.sh'" >&2
        exit 1
    fi
fi

exec /usr/bin/python3 "$HERE/text_bench.py" --lift "$LIFT" --sms "$SMS" \
    --peers "$PEERS" --out "$OUT" --repeat "$REPEAT" \
    --lift-args "${LIFT_ARGS:-}"
