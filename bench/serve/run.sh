#!/bin/bash
# bench/serve/run.sh - `lift serve` against nginx, driven by wrk on
# loopback (`make bench`, or run it alone).
#
# usage: bench/serve/run.sh [REPEATS]        (default 3)
# Starts nginx (2 workers, fixed small JSON body: the HTTP ceiling of the
# machine) and `lift serve --threads 2` with a temp data dir, trains the
# bank logistic model through the API, then REPEATS times and in turn runs
# `wrk -t2 -c64 -d10s` against nginx, single-record predict and
# 1000-record predict, then REPEATS bulk scoring jobs of the bank file
# (the job's rows/s, and POST to CSV downloaded), then PROMOTE_PAIRS
# (default 3) pairs of single-record runs without and with a promotion
# every second; prints one line per measure (medians, ratios, the issue's
# targets) and rewrites the "serve" section of bench/RESULTS.md.
# Details: bench/serve/serve_bench.py.
#
# Environment (bench/run.sh sets the first three): LIFT (the binary),
# DATA (the shared data folder), LIFT_ROOT, LIFT_PEERS (the peer scripts;
# default DATA/../peers), SERVE_PERF=1 (profile the server with perf
# during one more run of each lift measure), QUIET_PCT and QUIET_MAX
# (before each run wait at most QUIET_MAX s, default 60, for the machine
# to be under QUIET_PCT % busy, default 25), PROMOTE_PAIRS (pairs of runs
# without and with promotions, default 3).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${LIFT_ROOT:-$(cd "$HERE/../.." && pwd)}
LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
PEERS=${LIFT_PEERS:-$DATA/../peers}
REPEATS=${1:-3}
OUT=$ROOT/bench/out/serve
CSV=$DATA/bank-marketing/bank-additional-full.csv
TEMPLATE=$PEERS/serving/nginx.conf.template

for f in "$LIFT" "$CSV" "$TEMPLATE"; do
    if [ ! -e "$f" ]; then
        echo "bench serve: missing $f" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

# wrk and nginx come from Debian (install_peers.sh, as root).
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench serve: installing wrk and nginx (install_peers.sh)" >&2
        bash "$PEERS/install_peers.sh" >"$OUT/install.log" 2>&1 || {
            echo "bench serve: install_peers.sh failed, see" \
                "$OUT/install.log" >&2
            exit 1
        }
    else
        echo "bench serve: wrk or nginx missing; run" \
            "'sudo bash $PEERS/install_peers.sh'" >&2
        exit 1
    fi
fi
perf=()
if [ "${SERVE_PERF:-0}" = 1 ]; then
    perf=(--perf)
fi

cd "$ROOT"
rm -f "$OUT/runs.jsonl"
exec /usr/bin/python3 "$HERE/serve_bench.py" --lift "$LIFT" --data "$CSV" \
    --nginx-template "$TEMPLATE" --out "$OUT" --repeats "$REPEATS" \
    --quiet-pct "${QUIET_PCT:-25}" --quiet-max "${QUIET_MAX:-60}" \
    --promote-pairs "${PROMOTE_PAIRS:-3}" \
    "${perf[@]}" --results bench/RESULTS.md \
    --command "bench/serve/run.sh $REPEATS"
