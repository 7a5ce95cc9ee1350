#!/bin/bash
# scripts/demo-api.sh - the bank campaign through lift's HTTP API (the
# second half of `make demo`).
#
# usage: scripts/demo-api.sh [LIFT] [CSV]
#        (defaults build/lift and build/demo/bank-additional-full.csv)
#
# Starts `lift serve` on a free 127.0.0.1 port with a temp data dir, makes
# a tenant key with `lift admin`, then with curl: uploads the CSV, trains
# a response model with 5-fold cross-validation while printing the job's
# progress, evaluates it (AUC, the top decile's lift), scores three
# customers with explanations, prints a summary and stops the server with
# SIGTERM. Needs curl and python3 (to read the JSON answers).
#
# Never hangs: every curl call has a timeout, the job poll a deadline,
# the server's start and stop too. The server is stopped and the temp dir
# removed on any exit (trap). Exits 1 when a step fails.
set -euo pipefail

LIFT=${1:-build/lift}
CSV=${2:-build/demo/bank-additional-full.csv}
JOB_TIMEOUT=${DEMO_JOB_TIMEOUT:-300} # seconds for the training job

for tool in curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "demo: needs $tool (make deps)" >&2
        exit 1
    fi
done
for f in "$LIFT" "$CSV"; do
    if [ ! -e "$f" ]; then
        echo "demo: missing $f (run make demo)" >&2
        exit 1
    fi
done

TMP=$(mktemp -d -t lift-demo.XXXXXX)
SERVER_PID=
SERVER_RC=

# SIGTERM, then wait at most 10 s for the graceful stop, then SIGKILL.
stop_server() {
    local pid=$SERVER_PID i
    [ -n "$pid" ] || return 0
    SERVER_PID=
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "demo: the server did not stop in 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    SERVER_RC=0
    wait "$pid" 2>/dev/null || SERVER_RC=$?
}
cleanup() {
    stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Reads the JSON file $1 with the Python expression $2 over `d`.
jq_() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

# api METHOD PATH OUT [curl options...]: one call; the body goes to OUT;
# a non-2xx answer prints the error and fails.
api() {
    local method=$1 path=$2 out=$3 code
    shift 3
    code=$(curl -sS --connect-timeout 5 --max-time 120 -o "$out" \
        -w '%{http_code}' -X "$method" -H "Authorization: Bearer $KEY" \
        "$@" "$API$path") || {
        echo "demo: $method $path: curl failed" >&2
        return 1
    }
    case $code in
    2??) return 0 ;;
    *)
        echo "demo: $method $path: HTTP $code: $(cat "$out")" >&2
        return 1
        ;;
    esac
}

# ---- the server --------------------------------------------------------------
DATA_DIR=$TMP/data
"$LIFT" admin tenant create marketing --data-dir "$DATA_DIR" --json \
    >"$TMP/tenant.json"
KEY=$(jq_ "$TMP/tenant.json" 'd["key"]')

"$LIFT" serve --data-dir "$DATA_DIR" --listen 127.0.0.1:0 \
    --port-file "$TMP/port" >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 100); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "demo: lift serve exited:" >&2
        cat "$TMP/serve.log" >&2
        exit 1
    fi
    PORT=$(cat "$TMP/port" 2>/dev/null || true)
    [ -n "$PORT" ] && break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "demo: lift serve wrote no port in 10 s" >&2
    exit 1
fi
API=http://127.0.0.1:$PORT
curl -sS --connect-timeout 5 --max-time 10 -o /dev/null "$API/readyz"
echo "lift serve listens on $API (data dir $DATA_DIR, pid $SERVER_PID);"
echo "tenant 'marketing' has key ${KEY:0:9}... (made by lift admin)"

# ---- upload ------------------------------------------------------------------
echo
echo "== upload the customers: POST /v1/datasets?name=bank&sep=semicolon&..."
api POST '/v1/datasets?name=bank&sep=semicolon&missing=unknown&target=y' \
    "$TMP/dataset.json" -H 'Content-Type: text/csv' --data-binary "@$CSV"
python3 - "$TMP/dataset.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["schema"]
t = s["target"]
print(f"{d['rows']} customers, {s['cols']} columns, {d['bytes'] / 1e6:.1f} MB; "
      f"{t['levels']['yes']} said yes to the last campaign "
      f"({100 * t['rates']['yes']:.1f} %)")
EOF

# ---- train -------------------------------------------------------------------
echo
echo "== train a response model with 5-fold cross-validation: POST /v1/models"
echo "   (duration is dropped: it is only known after the call)"
api POST /v1/models "$TMP/created.json" -H 'Content-Type: application/json' \
    -d '{"name":"response","dataset":"bank","target":"y","positive":"yes",
         "drop":["duration"],"cv_folds":5}'
JOB=$(jq_ "$TMP/created.json" 'd["job"]["id"]')
echo "job $JOB queued"
deadline=$((SECONDS + JOB_TIMEOUT))
last=
while :; do
    api GET "/v1/jobs/$JOB" "$TMP/job.json"
    line=$(python3 - "$TMP/job.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
p = j.get("progress") or {}
s = f"  {j['state']}"
if j["state"] in ("running", "succeeded") and p.get("stage"):
    if p["stage"] == "cv":
        s += f": cross-validation, fold {p.get('epoch')}/{p.get('epochs')}"
    else:
        s += f": {p['stage']}, epoch {p.get('epoch')}/{p.get('epochs')}"
        if p.get("loss") is not None:
            s += f", loss {p['loss']:.4f}"
if j["state"] == "succeeded":
    s = f"  succeeded: the final fit took {j['result']['train_s']:.2f} s"
if j.get("error"):
    s += f": {j['error']}"
print(s)
EOF
)
    if [ "$line" != "$last" ]; then
        echo "$line"
        last=$line
    fi
    state=$(jq_ "$TMP/job.json" 'd["state"]')
    case $state in
    succeeded) break ;;
    failed | cancelled)
        echo "demo: training $state" >&2
        exit 1
        ;;
    esac
    if [ $SECONDS -ge $deadline ]; then
        echo "demo: the job is not done after $JOB_TIMEOUT s" >&2
        exit 1
    fi
    sleep 0.1
done
api GET /v1/models/response "$TMP/model.json"
python3 - "$TMP/model.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
v = next(v for v in m["versions"] if v["version"] == m["serving"])
i = v["info"]
auc = i["cv"]["auc"]
print(f"model 'response' version {v['version']} ({i['kind']}, {i['inputs']} "
      f"inputs, {i['features']} features) serves; "
      f"5-fold CV AUC {auc['mean']:.4f} +- {auc['std']:.4f}")
print("what drives the score: " + ", ".join(
    f"{c['column']} {c['importance']:.2f}" for c in i["importance"][:5]))
EOF

# ---- evaluate ------------------------------------------------------------------
echo
echo "== evaluate: POST /v1/models/response:evaluate"
api POST /v1/models/response:evaluate "$TMP/eval.json" \
    -H 'Content-Type: application/json' -d '{"dataset":"bank"}'
python3 - "$TMP/eval.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
print(f"AUC {e['auc']:.4f} on all {e['rows']} customers (the data it learnt "
      f"from; the CV figure above is the honest one)")
print("decile  customers  buyers  rate     lift  share of all buyers")
for r in e["lift_table"][:3]:
    print(f"{r['decile']:>6}  {r['rows']:>9}  {r['positives']:>6}  "
          f"{100 * r['rate']:5.1f} %  {r['lift']:4.2f}x  "
          f"{100 * r['cum_gain']:5.1f} % (cumulative)")
EOF

# ---- score ---------------------------------------------------------------------
echo
echo "== score three customers with explanations: POST /v1/models/response:predict"
python3 - "$CSV" >"$TMP/customers.json" <<'EOF'
import csv, json, sys
want = (0, 30000, 39000)  # three customers of different years and profiles
rows = []
with open(sys.argv[1], newline="") as f:
    for i, r in enumerate(csv.DictReader(f, delimiter=";")):
        if i in want:
            rows.append(r)
def value(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v
recs = [{k: value(v) for k, v in r.items() if k not in ("y", "duration")}
        for r in rows]
print(json.dumps({"records": recs, "explain": True}))
EOF
api POST /v1/models/response:predict "$TMP/scores.json" \
    -H 'Content-Type: application/json' --data-binary "@$TMP/customers.json"
python3 - "$TMP/customers.json" "$TMP/scores.json" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))["records"]
out = json.load(open(sys.argv[2]))
for r, s, x in zip(recs, out["scores"], out["explanations"]):
    print(f"customer: {r['age']}, {r['job']}, {r['marital']}, contacted by "
          f"{r['contact']} in {r['month']}, previous outcome {r['poutcome']}")
    top = sorted(x["contributions"].items(), key=lambda kv: -abs(kv[1]))[:3]
    print(f"  P(yes) = {s:.3f}; log-odds {x['raw']:+.2f} = base "
          f"{x['base']:+.2f} " + " ".join(f"{v:+.2f} ({k})" for k, v in top) +
          " + the rest")
for w in out["warnings"]:
    print(f"  warning: {w}")
EOF

# ---- summary -------------------------------------------------------------------
echo
echo "== summary"
python3 - "$TMP/dataset.json" "$TMP/model.json" "$TMP/eval.json" <<'EOF'
import json, sys
d, m, e = (json.load(open(p)) for p in sys.argv[1:4])
v = next(v for v in m["versions"] if v["version"] == m["serving"])
top = e["lift_table"][0]
rate = e["positives"] / e["rows"]
print(f"Of {d['rows']} customers {100 * rate:.1f} % bought. The model ranks "
      f"them with a cross-validated AUC of {v['info']['cv']['auc']['mean']:.3f}:")
print(f"calling the top 10 % ({top['rows']} customers) reaches "
      f"{100 * top['cum_gain']:.0f} % of the buyers, {top['lift']:.1f}x "
      f"the rate of calling at random ({100 * top['rate']:.0f} % instead of "
      f"{100 * rate:.0f} %).")
print("Every step above went through the HTTP API with curl: any "
      "application can do the same.")
EOF

echo
stop_server
echo "server stopped by SIGTERM (exit status $SERVER_RC)"
[ "$SERVER_RC" -eq 0 ]
