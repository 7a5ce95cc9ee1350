#!/usr/bin/python3
"""bench/gbdt/gbdt_bench.py - lift's gradient-boosted trees against XGBoost
(hist) and scikit-learn's HistGradientBoostingClassifier on the bank
marketing file, duration dropped, all with 200 trees, depth 6, lr 0.1 and
two threads.

One run, standard library only:
  1. split the data with the peers' split.py (stratified by y, 20 % test,
     seed 42), so every tool sees the same rows;
  2. N repeats (default 5); in each every tool runs once, the order
     rotating from repeat to repeat so that a burst of other work on a
     shared machine does not always land on the same tool:
       lift         `lift train --model gbdt ... --threads 2 --json` under
                    /usr/bin/time -v (whole-process wall and peak RSS;
                    train_s from its JSON is the fit alone), then
                    `lift eval --json` for the test AUC;
       xgb_hist     ../shared/peers/xgb.py (nthread 2) under time -v;
       sklearn_hgb  bench/gbdt/sklearn_hgb.py (OMP_NUM_THREADS=2);
     every process also gives its CPU time (user + system), which a
     busy machine disturbs less than wall time;
  3. print one line per tool (medians), the ratios and the targets, and
     write every run to OUT/runs.jsonl, the summary to OUT/summary.json
     and a Markdown section for bench/RESULTS.md to OUT/section.md.

Before each run the driver waits (at most --quiet-max s) for the machine
to be under --quiet-pct % busy and records what it saw.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SEP, TARGET, POSITIVE, DROP, SEED = ";", "y", "yes", "duration", 42
TREES, DEPTH, LR = 200, 6, 0.1


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def time_report(report):
    """Peak RSS (kB) and CPU seconds (user + system) from time -v."""
    rss, cpu = None, 0.0
    with open(report) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss = int(line.rsplit(":", 1)[1])
            elif line.startswith(("User time", "System time")):
                cpu += float(line.rsplit(":", 1)[1])
    return rss, cpu


def timed(cmd, work, tag, env=None):
    """cmd under /usr/bin/time -v: (stdout, wall s, peak RSS kB, CPU s)."""
    report = os.path.join(work, tag + ".time")
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", "-o", report] + cmd,
                       capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode,
                                              r.stderr[-2000:]))
    rss, cpu = time_report(report)
    return r.stdout, wall, rss, cpu


def busy_pct(interval=1.0):
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


def wait_quiet(limit, max_wait):
    waited, b = 0.0, busy_pct()
    while b >= limit and waited < max_wait:
        if waited == 0:
            log("  machine %.0f%% busy, waiting for quiet..." % b)
        time.sleep(2.0)
        waited += 3.0
        b = busy_pct()
    return b


def run_lift(a, train, test, work):
    model = os.path.join(work, "bank.lift")
    cmd = [a.lift, "train", train, "--target", TARGET, "--positive",
           POSITIVE, "--drop", DROP, "--model", "gbdt", "--trees", str(TREES),
           "--depth", str(DEPTH), "--lr", str(LR), "--threads", "2",
           "--json", "-o", model]
    out, wall, rss, cpu = timed(cmd, work, "lift_train")
    info = json.loads(out)
    r = subprocess.run([a.lift, "eval", model, test, "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("lift eval failed: " + r.stderr)
    ev = json.loads(r.stdout)
    return {"tool": "lift", "auc": ev["auc"], "fit_s": info["train_s"],
            "inproc_s": info["total_s"], "wall_s": wall, "rss_kb": rss,
            "cpu_s": cpu, "model_bytes": os.path.getsize(model)}


def run_peer(a, tool, train, test, work):
    script = (os.path.join(a.peers, "xgb.py") if tool == "xgb_hist" else
              os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "sklearn_hgb.py"))
    env = dict(os.environ, OMP_NUM_THREADS="2", LIFT_PEERS=a.peers)
    cmd = ["/usr/bin/python3", script, "--train", train, "--test", test,
           "--target", TARGET, "--positive", POSITIVE, "--sep", SEP,
           "--drop", DROP, "--seed", str(SEED)]
    out, wall, rss, cpu = timed(cmd, work, tool, env)
    j = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    return {"tool": tool, "auc": j["auc"], "fit_s": j["train_s"],
            "inproc_s": j["total_s"], "wall_s": wall, "rss_kb": rss,
            "cpu_s": cpu, "version": j.get("version")}


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lift", required=True)
    p.add_argument("--data", required=True, help="bank-additional-full.csv")
    p.add_argument("--peers", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quiet-pct", type=float, default=25.0)
    p.add_argument("--quiet-max", type=float, default=120.0)
    a = p.parse_args()
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

    tools = ["lift", "xgb_hist", "sklearn_hgb"]
    runs = {t: [] for t in tools}
    with open(os.path.join(a.out, "runs.jsonl"), "w") as jl:
        for rep in range(a.repeat):
            order = tools[rep % 3:] + tools[:rep % 3]
            for tool in order:
                busy = wait_quiet(a.quiet_pct, a.quiet_max)
                row = (run_lift(a, train, test, a.out) if tool == "lift"
                       else run_peer(a, tool, train, test, a.out))
                row.update(repeat=rep + 1, busy_pct_before=round(busy, 1))
                runs[tool].append(row)
                jl.write(json.dumps(row) + "\n")
                jl.flush()
                log("  run %d/%d %-11s auc %.4f fit %.3f s wall %.3f s "
                    "rss %.0f MB (machine %.0f%% busy before)"
                    % (rep + 1, a.repeat, tool, row["auc"], row["fit_s"],
                       row["wall_s"], row["rss_kb"] / 1024, busy))

    med = {t: {k: statistics.median(r[k] for r in runs[t])
               for k in ("auc", "fit_s", "wall_s", "cpu_s", "rss_kb")}
           for t in tools}
    lift, xgb, hgb = med["lift"], med["xgb_hist"], med["sklearn_hgb"]
    fit_ratio = lift["fit_s"] / xgb["fit_s"]
    auc_gap = lift["auc"] - xgb["auc"]
    rss_mb = lift["rss_kb"] / 1024
    targets = {
        "fit time <= 0.5x XGBoost's": fit_ratio <= 0.5,
        "AUC within 0.002 of XGBoost's or better": auc_gap >= -0.002,
        "whole-process peak RSS < 100 MB": rss_mb < 100,
    }
    lines = ["| tool | AUC | fit (s) | whole process (s) | whole process "
             "CPU (s) | peak RSS (MB) |",
             "|---|---:|---:|---:|---:|---:|"]
    for t in tools:
        m = med[t]
        lines.append("| %s | %.4f | %.3f | %.3f | %.3f | %.1f |"
                     % (t, m["auc"], m["fit_s"], m["wall_s"], m["cpu_s"],
                        m["rss_kb"] / 1024))
    print("gbdt: bank-additional-full, duration dropped, 80/20 split seed "
          "42, 200 trees, depth 6, lr 0.1, 2 threads; medians of %d runs"
          % a.repeat)
    print("\n".join(lines))
    print("lift fit / XGBoost fit: %.3fx; lift fit / sklearn fit: %.3fx; "
          "AUC lift - XGBoost: %+.4f"
          % (fit_ratio, lift["fit_s"] / hgb["fit_s"], auc_gap))
    for name, met in targets.items():
        print("target %-42s %s" % (name, "MET" if met else "NOT MET"))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump({"medians": med, "targets": targets, "repeat": a.repeat,
                   "fit_ratio_vs_xgb": fit_ratio, "auc_minus_xgb": auc_gap},
                  f, indent=2)
        f.write("\n")
    busy = [r["busy_pct_before"] for t in tools for r in runs[t]]
    with open(os.path.join(a.out, "section.md"), "w") as f:
        f.write("\n".join(lines) + "\n\nEvery run (fit s): "
                + "; ".join("%s %s" % (t, ", ".join("%.3f" % r["fit_s"]
                                                     for r in runs[t]))
                            for t in tools)
                + "\n\nMachine busy before the runs: %.0f-%.0f %%.\n"
                % (min(busy), max(busy)))


if __name__ == "__main__":
    main()
