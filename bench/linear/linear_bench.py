#!/usr/bin/python3
"""bench/linear/linear_bench.py - lift's logistic regression against the
scikit-learn and LIBLINEAR peer scripts on the bank marketing file.

One run, standard library only:
  1. split the data with the peers' split.py (stratified by the target,
     20 % test, seed 42), so every tool sees the same rows;
  2. N repeats (default 5); in each, every tool runs once, and the order
     of the tools rotates from one repeat to the next, so a burst of other
     work on a shared machine does not always land on the same tool:
       lift      `lift train ... --json` under /usr/bin/time -v (wall of
                 the whole process, peak RSS; train_s from its JSON is the
                 fit alone), then `lift eval --json` for the test AUC;
       sklearn   sklearn_lr.py under /usr/bin/time -v;
       liblinear liblinear.py under /usr/bin/time -v (its JSON gives
                 convert_s, the CSV -> svmlight conversion, and train_s,
                 the liblinear-train process);
  3. print one comparable line per tool (medians) and the ratios of lift
     to each peer, over all runs and again over the runs that started on
     a quiet machine (when some did not), and write every run as a JSON
     line to OUT/runs.jsonl and the summary to OUT/summary.json.
     `--from-runs A.jsonl [B.jsonl ...]` only summarises earlier runs.

The machine may be shared: before each run the driver waits (at most
--quiet-max s) until the whole machine is under --quiet-pct % busy, as the
peers' run_all.sh does, and records the busy share it saw.

Whole-process wall is measured here around the /usr/bin/time child
(time.perf_counter), so it includes interpreter start-up and imports for
the Python peers, and reading, the pipeline, the fit and writing the
model file for lift.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TARGET = "y"
POSITIVE = "yes"
DROP = "duration"
SEP = ";"
SEED = 42


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_time_v(path):
    """Peak RSS (kB) and elapsed seconds from a /usr/bin/time -v report."""
    rss_kb, elapsed = None, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss_kb = int(line.rsplit(":", 1)[1])
            elif line.startswith("Elapsed (wall clock) time"):
                clock = line.rsplit(" ", 1)[1].split(":")
                elapsed = 0.0
                for part in clock:
                    elapsed = elapsed * 60 + float(part)
    return rss_kb, elapsed


def run_timed(cmd, work, tag):
    """Runs cmd under /usr/bin/time -v; returns (stdout, wall s, rss kB)."""
    report = os.path.join(work, tag + ".time")
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", "-o", report] + cmd,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode,
                                              r.stderr[-2000:]))
    rss_kb, _ = parse_time_v(report)
    return r.stdout, wall, rss_kb


def last_json_line(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in: " + text[-500:])


def busy_pct(interval=1.0):
    """Share of the machine's CPU time spent busy over `interval` s."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v), v[3] + v[4]
    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except OSError:
        return 0.0
    return 100.0 * (1.0 - (i1 - i0) / max(t1 - t0, 1))


def wait_quiet(limit_pct, max_wait):
    """Waits (at most max_wait s) until the machine is under limit_pct %
    busy, as the peers' run_all.sh does; returns the last busy %."""
    waited = 0.0
    while True:
        b = busy_pct()
        if b < limit_pct or waited >= max_wait:
            return b
        if waited == 0:
            log("  machine %.0f%% busy, waiting for quiet..." % b)
        time.sleep(2.0)
        waited += 3.0


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return None


def run_lift(a, train, test, work):
    model = os.path.join(work, "bank.lift")
    cmd = [a.lift, "train", train, "--target", TARGET, "--positive",
           POSITIVE, "--drop", DROP, "--json", "-o", model]
    out, wall, rss = run_timed(cmd, work, "lift_train")
    info = json.loads(out)
    t = time.perf_counter()
    r = subprocess.run([a.lift, "eval", model, test, "--json"],
                       capture_output=True, text=True)
    eval_wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("lift eval failed (exit %d): %s" % (r.returncode, r.stderr))
    ev = json.loads(r.stdout)
    return {"tool": "lift", "auc": ev["auc"], "logloss": ev["logloss"],
            "fit_s": info["train_s"], "inproc_s": info["total_s"],
            "wall_s": wall, "rss_kb": rss, "eval_wall_s": eval_wall,
            "features": info.get("features"),
            "model_bytes": os.path.getsize(model)}


def run_peer(a, name, train, test, work):
    script = os.path.join(a.peers, name + ".py")
    cmd = ["/usr/bin/python3", script, "--train", train, "--test", test,
           "--target", TARGET, "--positive", POSITIVE, "--sep", SEP,
           "--drop", DROP, "--seed", str(SEED)]
    out, wall, rss = run_timed(cmd, work, name)
    j = last_json_line(out)
    row = {"tool": name, "auc": j["auc"], "logloss": j["logloss"],
           "fit_s": j["train_s"], "inproc_s": j["total_s"], "wall_s": wall,
           "rss_kb": rss, "import_s": j.get("import_s")}
    if name == "liblinear":
        row["convert_s"] = j["convert_s"]
        row["convert_train_s"] = j["convert_s"] + j["train_s"]
        row["train_maxrss_kb"] = j.get("train_maxrss_kb")
    return row


def median(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lift", help="the lift binary")
    p.add_argument("--data",
                   help="bank-additional-full.csv (';'-separated)")
    p.add_argument("--peers", help="folder of the peer scripts")
    p.add_argument("--out", help="scratch and result folder")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quiet-pct", type=float, default=25.0,
                   help="before each run, wait until the machine is under "
                        "this %% busy")
    p.add_argument("--quiet-max", type=float, default=120.0,
                   help="... but at most this many seconds")
    p.add_argument("--from-runs", nargs="+", metavar="RUNS_JSONL",
                   help="only summarise earlier runs.jsonl files")
    a = p.parse_args()
    if a.from_runs:
        runs = {t: [] for t in ("lift", "sklearn_lr", "liblinear")}
        for path in a.from_runs:
            with open(path) as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        runs[row["tool"]].append(row)
        report(runs, a.repeat, a.quiet_pct, None)
        return
    if not (a.lift and a.data and a.peers and a.out):
        p.error("--lift, --data, --peers and --out are needed to run")
    os.makedirs(a.out, exist_ok=True)
    train = os.path.join(a.out, "bank.train.csv")
    test = os.path.join(a.out, "bank.test.csv")
    r = subprocess.run(["/usr/bin/python3", os.path.join(a.peers, "split.py"),
                        "--in", a.data, "--sep", SEP, "--test-frac", "0.2",
                        "--seed", str(SEED), "--stratify", TARGET,
                        "--out-train", train, "--out-test", test],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("split.py failed: " + r.stderr)
    log("split: " + r.stdout.strip())

    tools = ["lift", "sklearn_lr", "liblinear"]
    runs = {t: [] for t in tools}
    with open(os.path.join(a.out, "runs.jsonl"), "w") as jl:
        for rep in range(a.repeat):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            for tool in order:
                busy = wait_quiet(a.quiet_pct, a.quiet_max)
                load = loadavg()
                if tool == "lift":
                    row = run_lift(a, train, test, a.out)
                else:
                    row = run_peer(a, tool, train, test, a.out)
                row.update(repeat=rep + 1, loadavg_1m=load,
                           busy_pct_before=round(busy, 1))
                runs[tool].append(row)
                jl.write(json.dumps(row) + "\n")
                jl.flush()
                log("  run %d/%d %-10s auc %.4f fit %.3f s wall %.3f s "
                    "(machine %.0f%% busy before)"
                    % (rep + 1, a.repeat, tool, row["auc"], row["fit_s"],
                       row["wall_s"], busy))

    report(runs, a.repeat, a.quiet_pct, a.out)


def summarise(runs, tools):
    summary = {}
    for tool in tools:
        rows = runs[tool]
        s = {k: median(rows, k) for k in ("auc", "fit_s", "inproc_s",
                                           "wall_s", "rss_kb")}
        s["rss_mb"] = s.pop("rss_kb") / 1024.0
        s["runs"] = len(rows)
        if tool == "liblinear":
            s["convert_train_s"] = median(rows, "convert_train_s")
        summary[tool] = s
    lift = summary["lift"]
    sk, ll = summary["sklearn_lr"], summary["liblinear"]
    ratios = {
        "sklearn_wall_over_lift_wall": sk["wall_s"] / lift["wall_s"],
        "liblinear_wall_over_lift_wall": ll["wall_s"] / lift["wall_s"],
        "liblinear_convert_train_over_lift_wall":
            ll["convert_train_s"] / lift["wall_s"],
        "sklearn_fit_over_lift_fit": sk["fit_s"] / lift["fit_s"],
        "liblinear_fit_over_lift_fit": ll["fit_s"] / lift["fit_s"],
        "lift_rss_over_sklearn_rss": lift["rss_mb"] / sk["rss_mb"],
        "lift_auc_minus_sklearn_auc": lift["auc"] - sk["auc"],
        "lift_auc_minus_liblinear_auc": lift["auc"] - ll["auc"],
    }
    targets = {
        "lift train >= 10x faster than sklearn_lr (whole process)":
            ratios["sklearn_wall_over_lift_wall"] >= 10,
        "lift train >= 3x faster than liblinear convert+train":
            ratios["liblinear_convert_train_over_lift_wall"] >= 3,
        "lift fit time <= liblinear's":
            lift["fit_s"] <= ll["fit_s"],
    }
    return summary, ratios, targets


def print_summary(title, tools, summary, ratios, targets):
    print(title)
    print("%-10s %4s %7s %8s %8s %8s" % ("tool", "runs", "auc", "fit_s",
                                         "wall_s", "rss_mb"))
    for tool in tools:
        s = summary[tool]
        print("%-10s %4d %7.4f %8.3f %8.3f %8.1f"
              % (tool, s["runs"], s["auc"], s["fit_s"], s["wall_s"],
                 s["rss_mb"]))
    ll = summary["liblinear"]
    # speed-ups are peer time / lift time: above 1, lift is faster
    print("speed-up of lift over sklearn_lr: whole process %.2fx, fit %.2fx;"
          " AUC %+.4f; RSS %.2fx of sklearn's"
          % (ratios["sklearn_wall_over_lift_wall"],
             ratios["sklearn_fit_over_lift_fit"],
             ratios["lift_auc_minus_sklearn_auc"],
             ratios["lift_rss_over_sklearn_rss"]))
    print("speed-up of lift over liblinear:  whole process %.2fx, "
          "convert+train (%.3f s) %.2fx, fit %.2fx; AUC %+.4f"
          % (ratios["liblinear_wall_over_lift_wall"], ll["convert_train_s"],
             ratios["liblinear_convert_train_over_lift_wall"],
             ratios["liblinear_fit_over_lift_fit"],
             ratios["lift_auc_minus_liblinear_auc"]))
    for name, met in targets.items():
        print("target %-58s %s" % (name, "MET" if met else "NOT MET"))


def report(runs, repeat, quiet_pct, out):
    """Prints the medians of all runs and, when every tool has some, of
    the runs that started on a quiet machine; writes summary.json."""
    tools = ["lift", "sklearn_lr", "liblinear"]
    doc = {"repeat": repeat, "quiet_pct": quiet_pct}
    summary, ratios, targets = summarise(runs, tools)
    print_summary("linear: bank-additional-full, duration dropped, 80/20 "
                  "split seed 42, medians of all runs", tools, summary,
                  ratios, targets)
    doc["all"] = {"summary": summary, "ratios": ratios, "targets": targets}
    quiet = {t: [r for r in runs[t]
                 if (r.get("busy_pct_before") or 0) < quiet_pct]
             for t in tools}
    if all(quiet[t] for t in tools) and any(len(quiet[t]) < len(runs[t])
                                            for t in tools):
        summary, ratios, targets = summarise(quiet, tools)
        print_summary("medians of the runs started with the machine under "
                      "%.0f%% busy" % quiet_pct, tools, summary, ratios,
                      targets)
        doc["quiet"] = {"summary": summary, "ratios": ratios,
                        "targets": targets}
    if out:
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
