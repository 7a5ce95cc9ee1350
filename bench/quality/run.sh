#!/bin/bash
# bench/quality: lift's linear learners against scikit-learn on the
# accuracy targets of the learn-and-evaluate issue, on the peers' split
# (split.py, seed 42). Accuracy only: timings are bench/linear's.
#
#   bench/quality/run.sh            (from the repository root)
# Prints one line per figure: lift, scikit-learn, difference, target.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${LIFT_DATA:-$ROOT/../shared/data}
PEERS=${LIFT_PEERS:-$ROOT/../shared/peers}
LIFT=${LIFT:-$ROOT/build/lift}
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
split() { "$PY" "$PEERS/split.py" --in "$1" --sep "$2" --stratify "$3" \
          --out-train "$W/$4.train.csv" --out-test "$W/$4.test.csv" >/dev/null; }
split "$DATA/bank-marketing/bank-additional-full.csv" ';' y bank
split "$DATA/hillstrom/hillstrom.csv" , visit hill
split "$DATA/bank-marketing/bank-additional-full.csv" ';' job job

"$PY" "$(dirname "$0")/sklearn_quality.py" --peers "$PEERS" --work "$W" > "$W/sk.jsonl"
sk() { "$PY" -c "import json,sys
for l in open('$W/sk.jsonl'):
    d=json.loads(l)
    if d['figure']=='$1': print(d.get('mean', d.get('value')))"; }
get() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

cv=$("$LIFT" cv "$W/bank.train.csv" --target y --positive yes --drop duration --folds 5 --json | get "['auc']['mean']")
"$LIFT" train "$W/hill.train.csv" --target visit --positive 1 --drop conversion,spend -o "$W/hv.lift" >/dev/null
hv=$("$LIFT" eval "$W/hv.lift" "$W/hill.test.csv" --json | get "['auc']")
"$LIFT" train "$W/hill.train.csv" --target spend --task regression --drop visit,conversion -o "$W/hs.lift" >/dev/null
hs=$("$LIFT" eval "$W/hs.lift" "$W/hill.test.csv" --json | get "['rmse']")
"$LIFT" train "$W/job.train.csv" --target job --model softmax --drop duration -o "$W/job.lift" >/dev/null
jf=$("$LIFT" eval "$W/job.lift" "$W/job.test.csv" --json | get "['macro_f1']")

"$PY" - "$cv" "$(sk bank_cv_auc)" "$hv" "$(sk hill_visit_auc)" "$hs" "$(sk hill_spend_rmse)" "$jf" "$(sk bank_job_macro_f1)" <<'PYEOF'
import sys
v = [float(x) for x in sys.argv[1:]]
rows = [
    ("bank 5-fold CV AUC", v[0], v[1], "within 0.002", abs(v[0] - v[1]) <= 0.002),
    ("hillstrom visit AUC", v[2], v[3], ">= sklearn - 0.002", v[2] >= v[3] - 0.002),
    ("hillstrom spend RMSE", v[4], v[5], "<= 1.01 x Ridge", v[4] <= 1.01 * v[5]),
    ("bank job macro-F1", v[6], v[7], "within 0.01", abs(v[6] - v[7]) <= 0.01),
]
for name, l, s, target, ok in rows:
    print(f"{name:24s} lift {l:.4f}  sklearn {s:.4f}  diff {l - s:+.4f}  "
          f"target {target}: {'met' if ok else 'NOT met'}")
PYEOF
