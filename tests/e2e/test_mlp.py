#!/usr/bin/python3
"""End-to-end test of `lift train --model mlp` on the real data.

Runs the binary named by $LIFT on the files in $DATA, split at test time
by the peers' script ($LIFT_PEERS/split.py, default the peers folder beside $DATA:
stratified by the target, 20 % test, seed 42), and checks the numbers:

  bank (duration dropped, y = yes), 64,64 ReLU, Adam 1e-3, batch 32,
  10 epochs                         median test AUC over seeds 1..5
                                    >= 0.786 (PyTorch's same network:
                                    0.7872); same seed, byte-identical
                                    file (SOURCE_DATE_EPOCH=0), also
                                    with another OPENBLAS_NUM_THREADS;
                                    explain's base + contributions
                                    within 0.03 of
                                    the raw score (integrated gradients,
                                    64 midpoints: over the first 100 test
                                    records the gap was median 0.0049,
                                    max 0.025, at most 1.5 % of
                                    |raw - base|; 128 steps halve it)
  bank, hashed inputs (2^16)        test AUC >= 0.775 (lazy first layer)
  bank, 2^24 hashed inputs          refused by the 1 GiB memory limit,
                                    the message naming the bytes
  bank, job (multiclass)            macro-F1 > 0.275, accuracy > 0.515
  Hillstrom visit (= 1)             test AUC >= 0.635
  Hillstrom spend (regression)      RMSE and MAE in bands around the
                                    measured values, R2 > -0.005

Measured (2026-11-29, seed 42 unless said): bank AUC by seed 0.7822,
0.7912, 0.7897, 0.7830, 0.7875 (median 0.7875); hashed 2^16 0.7817;
job macro-F1 0.2858, accuracy 0.5268 (softmax: 0.2780, 0.5226);
Hillstrom visit 0.6407; spend RMSE 16.680, MAE 1.971, R2 -0.0007 (a
linear model: 16.665, 2.190, 0.0012 - spend is zero for 99 % of rows,
and neither model explains much of it).

Prints `ok - name` or `not ok - name: why` per check, then `N passed,
N failed`; exits 1 when anything failed. Standard library only.
"""
import csv
import json
import math
import os
import statistics
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
MLP = ["--model", "mlp", "--hidden", "64,64", "--activation", "relu",
       "--lr", "0.001", "--batch", "32", "--epochs", "10"]

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


def skip(name, why):
    print(f"ok - {name} # SKIP {why}")
    sys.stdout.flush()


def run(*args, env_extra=None):
    """Runs lift; returns (exit code, stdout, stderr)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", **(env_extra or {}))
    p = subprocess.run([LIFT, *args], capture_output=True, text=True,
                       timeout=600, env=env)
    return p.returncode, p.stdout, p.stderr


def run_ok(*args, env_extra=None):
    rc, out, err = run(*args, env_extra=env_extra)
    if rc != 0:
        raise AssertionError(f"lift {' '.join(args[:2])} exited {rc}: "
                             f"{err.strip()}")
    return out


def run_json(*args):
    return json.loads(run_ok(*args))


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


def first_record(path, sep, drop):
    """The first data record of path as JSON text, dropped columns out."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter=sep)
        names = next(rows)
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


def test_bank(tmp):
    train, test = split(BANK, ";", "y", tmp, "bank")
    base = ["--target", "y", "--positive", "yes", "--drop", "duration"]
    models = {}

    def seeds():
        aucs = []
        for seed in range(1, 6):
            model = os.path.join(tmp, f"bank{seed}.lift")
            info = run_json("train", train, *base, *MLP, "--seed", str(seed),
                            "-o", model, "--json")
            if info["kind"] != "mlp" or info["inputs"] != 19:
                return False, f"kind {info['kind']}, {info['inputs']} inputs"
            models[seed] = model
            aucs.append(run_json("eval", model, test, "--json")["auc"])
        med = statistics.median(aucs)
        return med >= 0.786, (f"median {med:.4f} of "
                              f"{', '.join(f'{a:.4f}' for a in aucs)} "
                              f"(want >= 0.786)")
    check("bank_mlp_median_auc_seeds_1_to_5_at_least_0.786", seeds)
    if 1 not in models:
        return

    def same_seed():
        # whatever OpenBLAS's own thread count (it once changed the
        # importances: the 65-row explanation batch ran threaded); the
        # seeds above ran with the environment's count, this with another
        own = os.environ.get("OPENBLAS_NUM_THREADS")
        for n in ("2",) if own == "1" else ("1",):
            again = os.path.join(tmp, f"bank1_again{n}.lift")
            run_ok("train", train, *base, *MLP, "--seed", "1", "-o", again,
                   env_extra={"OPENBLAS_NUM_THREADS": n})
            with open(models[1], "rb") as f, open(again, "rb") as g:
                a, b = f.read(), g.read()
            if a != b:
                return False, (f"OPENBLAS_NUM_THREADS={n}: {len(a)} vs "
                               f"{len(b)} bytes differ")
        return True, ""
    check("bank_mlp_same_seed_byte_identical_any_openblas_threads",
          same_seed)

    def explain():
        rec = first_record(test, ";", {"duration", "y"})
        ex = run_json("explain", models[1], "--record", rec, "--json")
        total = ex["base"] + sum(c["contribution"]
                                 for c in ex["contributions"])
        gap = abs(total - ex["raw"])
        sig = 1.0 / (1.0 + math.exp(-ex["raw"]))
        print(f"# integrated gradients: base + contributions - raw = "
              f"{total - ex['raw']:.2g} (raw - base {ex['raw'] - ex['base']:.3g})")
        return (gap < 0.03 and abs(sig - ex["score"]) < 1e-9 and
                len(ex["contributions"]) == 19,
                f"base + contributions {total} vs raw {ex['raw']} "
                f"(gap {gap:.2g}, want < 0.03)")
    check("bank_mlp_explain_base_plus_contributions_near_raw", explain)

    def hashed():
        model = os.path.join(tmp, "bank_hash.lift")
        run_ok("train", train, *base, *MLP, "--index", "hash", "--bits",
               "16", "-o", model)
        auc = run_json("eval", model, test, "--json")["auc"]
        return auc >= 0.775, f"auc {auc:.4f} (want >= 0.775)"
    check("bank_mlp_hashed_2e16_auc_at_least_0.775", hashed)

    def too_big():
        rc, out, err = run("train", train, *base, *MLP, "--index", "hash",
                           "--bits", "24", "-o",
                           os.path.join(tmp, "big.lift"))
        return (rc == 1 and "memory limit of 1073741824 bytes" in err and
                "16777216 inputs" in err and
                not os.path.exists(os.path.join(tmp, "big.lift")),
                f"exit {rc}, stderr {err.strip()!r}")
    check("bank_mlp_2e24_inputs_refused_by_memory_limit", too_big)

    def multiclass():
        job = os.path.join(tmp, "job.lift")
        run_ok("train", train, "--target", "job", *MLP, "--drop",
               "duration,y", "-o", job)
        m = run_json("eval", job, test, "--json")
        return (m["task"] == "multiclass" and m["macro_f1"] > 0.275 and
                m["accuracy"] > 0.515,
                f"macro_f1 {m['macro_f1']:.4f} (want > 0.275), accuracy "
                f"{m['accuracy']:.4f} (want > 0.515)")
    check("bank_job_mlp_macro_f1_above_0.275", multiclass)


def test_hillstrom(tmp):
    train, test = split(HILLSTROM, ",", "visit", tmp, "hill")

    def visit():
        model = os.path.join(tmp, "visit.lift")
        run_ok("train", train, "--target", "visit", "--positive", "1", *MLP,
               "--drop", "conversion,spend", "-o", model)
        ev = run_json("eval", model, test, "--json")
        return (ev["rows"] == 12800 and ev["auc"] >= 0.635,
                f"rows {ev['rows']}, auc {ev['auc']:.4f} (want >= 0.635)")
    check("hillstrom_visit_mlp_auc_at_least_0.635", visit)

    def spend():
        model = os.path.join(tmp, "spend.lift")
        run_ok("train", train, "--target", "spend", "--task", "regression",
               *MLP, "--drop", "visit,conversion", "-o", model)
        ev = run_json("eval", model, test, "--json")
        rmse, mae, r2 = ev["rmse"], ev["mae"], ev["r2"]
        ok = (ev["task"] == "regression" and 16.55 <= rmse <= 16.78 and
              1.85 <= mae <= 2.15 and r2 > -0.005)
        return ok, (f"rmse {rmse} (want [16.55, 16.78]), mae {mae} "
                    f"(want [1.85, 2.15]), r2 {r2} (want > -0.005)")
    check("hillstrom_spend_mlp_regression_rmse_mae_in_band", spend)


def main():
    if not os.access(LIFT, os.X_OK):
        report("lift_binary_exists", False, f"no executable {LIFT}")
        return 1
    if not os.path.exists(os.path.join(PEERS, "split.py")):
        skip("mlp", f"no {PEERS}/split.py")
        return 0
    with tempfile.TemporaryDirectory(prefix="lift-e2e-mlp-") as tmp:
        for path, fn in ((BANK, test_bank), (HILLSTROM, test_hillstrom)):
            if not os.path.exists(path):
                skip(fn.__name__, f"no {path}")
                continue
            fn(tmp)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
