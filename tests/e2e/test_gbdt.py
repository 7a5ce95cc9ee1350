#!/usr/bin/python3
"""End-to-end test of gradient-boosted trees (`--model gbdt`).

Runs the binary named by $LIFT on the real files in $DATA, split at test
time by the peers' own script (the peers folder beside $DATA, or
$LIFT_PEERS/split.py: stratified by the target, 20 % test, seed 42) into a
temporary folder, and checks the numbers:

  bank (duration dropped, y = yes), 200 trees, depth 6, lr 0.1
      test AUC >= 0.800 (XGBoost 1.7.4 hist, same settings: 0.8015);
      `lift explain --record` of a test record: base + contributions ==
      raw and the score is sigmoid(raw); the same seed gives a
      byte-identical model file (SOURCE_DATE_EPOCH=0), at 1 and 2
      threads alike but for the recorded thread count; `lift explain
      MODEL`'s gain shares sum to 1, nr.employed first and euribor3m in
      the top 3, the same gains at 1 and 2 threads
  bank with --valid 0.1: early stopping keeps at most the trees asked for
      and reports the validation AUC
  Hillstrom visit (= 1), conversion and spend dropped, gbdt defaults
      test AUC >= 0.640
  bank job (multiclass): explain sums to the raw score of the class

Prints `ok - name` or `not ok - name: why` per check, then `N passed,
N failed`; exits 1 when anything failed. Standard library only.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
PEERS = os.environ.get(
    "LIFT_PEERS",
    os.path.join(os.path.dirname(os.path.abspath(DATA.rstrip("/"))), "peers"))
PYTHON = "/usr/bin/python3"

BANK = os.path.join(DATA, "bank-marketing", "bank-additional-full.csv")
HILLSTROM = os.path.join(DATA, "hillstrom", "hillstrom.csv")

results = {"passed": 0, "failed": 0}


def report(name, ok, why=""):
    if ok:
        results["passed"] += 1
        print(f"ok - {name}")
        if why:  # the figure behind the check, for the log
            print(f"#   {str(why)[:300]}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


def run(*args):
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")
    p = subprocess.run([LIFT, *args], capture_output=True, text=True,
                       timeout=900, env=env)
    if p.returncode != 0:
        raise AssertionError(f"lift {' '.join(args[:2])} exited "
                             f"{p.returncode}: {p.stderr.strip()}")
    return p.stdout


def run_json(*args):
    return json.loads(run(*args))


def check(name, fn):
    """Runs fn(); it returns (ok, why). An exception is a failure."""
    try:
        ok, why = fn()
    except Exception as e:  # the check's own failure, reported as such
        ok, why = False, f"{type(e).__name__}: {e}"
    report(name, ok, why)


def split(path, sep, target, tmp, stem):
    train = os.path.join(tmp, f"{stem}_train.csv")
    test = os.path.join(tmp, f"{stem}_test.csv")
    subprocess.run([PYTHON, os.path.join(PEERS, "split.py"), "--in", path,
                    "--sep", sep, "--stratify", target, "--out-train", train,
                    "--out-test", test], check=True, capture_output=True,
                   timeout=300)
    return train, test


def record_of(path, sep, drop, index=0):
    """Data record `index` of path as a JSON object text: numbers as
    numbers, the rest as strings, the dropped columns left out."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter=sep)
        names = next(rows)
        for _ in range(index + 1):
            values = next(rows)
    rec = {}
    for name, v in zip(names, values):
        if name in drop:
            continue
        try:
            rec[name] = float(v) if "." in v or "e" in v.lower() else int(v)
        except ValueError:
            rec[name] = v
    return json.dumps(rec)


def explain_sums(model, rec, extra=()):
    ex = run_json("explain", model, "--record", rec, "--json", *extra)
    total = ex["base"] + sum(c["contribution"] for c in ex["contributions"])
    return ex, total


def test_bank(tmp):
    train, test = split(BANK, ";", "y", tmp, "bank")
    model = os.path.join(tmp, "bank.lift")
    base = ["--target", "y", "--positive", "yes", "--drop", "duration",
            "--model", "gbdt", "--trees", "200", "--depth", "6", "--lr",
            "0.1"]
    info = {}

    def train_json():
        info.update(run_json("train", train, *base, "--threads", "2", "-o",
                             model, "--json"))
        return (info["kind"] == "gbdt" and info["rows"]["train"] == 32950
                and info["inputs"] == 19 and info["train_s"] > 0,
                f"kind {info.get('kind')}, rows {info.get('rows')}")
    check("bank_gbdt_train_json_describes_model", train_json)
    if not os.path.exists(model):
        return

    def eval_auc():
        ev = run_json("eval", model, test, "--json")
        return (ev["rows"] == 8238 and ev["auc"] >= 0.800,
                f"rows {ev['rows']}, auc {ev['auc']:.4f} (want >= 0.800)")
    check("bank_gbdt_eval_auc_at_least_0.800", eval_auc)

    def explain():
        worst = 0.0
        for i in range(5):
            rec = record_of(test, ";", {"duration", "y"}, i)
            ex, total = explain_sums(model, rec)
            worst = max(worst, abs(total - ex["raw"]))
            if abs(ex["score"] - 1 / (1 + math.exp(-ex["raw"]))) > 1e-9:
                return False, f"score {ex['score']} != sigmoid({ex['raw']})"
            if len(ex["contributions"]) != 19:
                return False, f"{len(ex['contributions'])} contributions"
        return worst < 1e-6, f"base + contributions - raw up to {worst:g}"
    check("bank_gbdt_explain_base_plus_contributions_equals_raw", explain)

    def same_bytes():
        a, b = os.path.join(tmp, "a.lift"), os.path.join(tmp, "b.lift")
        run("train", train, *base, "--threads", "2", "-o", a)
        with open(model, "rb") as f, open(a, "rb") as g:
            same = f.read() == g.read()
        # one thread: the trees are the same, only params.threads differs
        run("train", train, *base, "--threads", "1", "-o", b)
        s1 = run("eval", a, test, "--json")
        s2 = run("eval", b, test, "--json")
        return (same and json.loads(s1)["auc"] == json.loads(s2)["auc"],
                f"same seed same bytes: {same}; 1 vs 2 threads auc "
                f"{json.loads(s1)['auc']} vs {json.loads(s2)['auc']}")
    check("bank_gbdt_same_seed_byte_identical_any_threads", same_bytes)

    def gain_importance():
        imp = run_json("explain", model, "--json")["importance"]
        gain = {e["column"]: e["gain"] for e in imp}
        raw = {e["column"]: e["gain_total"] for e in imp}
        top = sorted(gain, key=lambda c: -gain[c])[:3]
        total = sum(raw.values())
        shares_ok = all(abs(gain[c] - raw[c] / total) < 1e-9 for c in gain)
        # 1 and 2 threads grow the same trees: the same gains, to the bit
        g1 = run_json("explain", os.path.join(tmp, "b.lift"), "--json")
        g2 = run_json("explain", os.path.join(tmp, "a.lift"), "--json")
        same = ([(e["column"], e["gain_total"]) for e in g1["importance"]] ==
                [(e["column"], e["gain_total"]) for e in g2["importance"]])
        text = run("explain", model).splitlines()
        return (len(gain) == 19 and abs(sum(gain.values()) - 1) < 1e-9
                and shares_ok and top[0] == "nr.employed"
                and "euribor3m" in top and same
                and text[0].split() == ["column", "|SHAP|", "gain"],
                f"top 3 by gain {top}, shares sum {sum(gain.values())}, "
                f"shares match totals {shares_ok}, 1 vs 2 threads same {same}, "
                f"header {text[:1]}")
    check("bank_gbdt_gain_importance_ranks_nr_employed_first", gain_importance)

    def early_stop():
        es = os.path.join(tmp, "es.lift")
        out = run_json("train", train, *base, "--valid", "0.1", "--patience",
                       "10", "-o", es, "--json")
        vm = out.get("valid_metrics", {})
        ev = run_json("eval", es, test, "--json")
        return (vm.get("auc", 0) > 0.75 and ev["auc"] >= 0.79,
                f"valid auc {vm.get('auc')}, test auc {ev['auc']:.4f}")
    check("bank_gbdt_early_stopping_keeps_a_good_model", early_stop)

    def multiclass():
        mc = os.path.join(tmp, "job.lift")
        run("train", train, "--target", "job", "--drop", "duration,y",
            "--model", "gbdt", "--task", "multiclass", "--trees", "10",
            "--depth", "3", "-o", mc)
        rec = record_of(test, ";", {"duration", "y", "job"}, 0)
        ex, total = explain_sums(mc, rec, ("--class", "2"))
        return abs(total - ex["raw"]) < 1e-6, f"{total} vs raw {ex['raw']}"
    check("bank_gbdt_multiclass_explain_sums_to_raw", multiclass)


def test_hillstrom(tmp):
    train, test = split(HILLSTROM, ",", "visit", tmp, "hill")
    model = os.path.join(tmp, "hill.lift")

    def auc():
        run("train", train, "--target", "visit", "--positive", "1",
            "--drop", "conversion,spend", "--model", "gbdt", "--threads", "2",
            "-o", model)
        ev = run_json("eval", model, test, "--json")
        return (ev["auc"] >= 0.640,
                f"auc {ev['auc']:.4f} (want >= 0.640)")
    check("hillstrom_visit_gbdt_defaults_auc_at_least_0.640", auc)


def main():
    for f in (LIFT, BANK, HILLSTROM, os.path.join(PEERS, "split.py")):
        if not os.path.exists(f):
            print(f"not ok - setup: missing {f}")
            return 1
    with tempfile.TemporaryDirectory() as tmp:
        test_bank(tmp)
        test_hillstrom(tmp)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
