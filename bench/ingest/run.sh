#!/bin/bash
# bench/ingest/run.sh - lift's CSV ingest against pandas (and libcsv).
#
# usage: bench/ingest/run.sh [REPEATS]        (default 7)
# Times the in-process parse (lift_table_read_csv vs pandas.read_csv), the
# scanner alone (vs libcsv), and the whole process (lift inspect vs
# python3+pandas: wall time and peak RSS) on the bank marketing file,
# alternating the contenders on each repeat; prints one line per measure
# (medians and ratios) and rewrites the "ingest" section of
# bench/RESULTS.md. Environment (bench/run.sh sets them): LIFT (the lift
# binary; its build folder holds bench/ingest_bench), DATA (the data
# folder), INGEST_FILE and INGEST_SEP to time another file.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

LIFT=${LIFT:-$ROOT/build/lift}
DATA=${DATA:-${LIFT_DATA:-$ROOT/../shared/data}}
FILE=${INGEST_FILE:-$DATA/bank-marketing/bank-additional-full.csv}
SEP=${INGEST_SEP:-;}
REPEATS=${1:-7}
BENCH=$(dirname "$LIFT")/bench/ingest_bench

for f in "$LIFT" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "ingest: $f is missing: build first (make)" >&2
        exit 1
    fi
done
if [ ! -f "$FILE" ]; then
    echo "ingest: no file $FILE" >&2
    exit 1
fi
if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
    echo "ingest: /usr/bin/python3 has no pandas (apt-get install" \
        "python3-pandas)" >&2
    exit 1
fi

exec /usr/bin/python3 bench/ingest/ingest.py --lift "$LIFT" \
    --bench "$BENCH" --file "$FILE" --sep "$SEP" --repeats "$REPEATS" \
    --results bench/RESULTS.md --command "bench/ingest/run.sh $REPEATS"
