#!/usr/bin/python3
"""bench/mlp/mlp_bench.py - lift's mlp against PyTorch (torch_mlp.py, 2
threads) and scikit-learn (sklearn_mlp.py) on the bank and Hillstrom
splits, one run, standard library only.

The network is the product brief's: Dense(64, relu) -> Dense(64, relu)
-> 1 logit, Adam 1e-3, binary cross-entropy, batch 32, 10 epochs, Keras
initialisation (torch_mlp.py's default --init keras).

  1. split each file with the peers' split.py (stratified by the
     target, 20 % test, seed 42), so every tool sees the same rows;
  2. R repeats (default 3); repeat r runs every tool once with model
     seed r (so the AUC medians are over seeds, not one draw), the order
     of the tools rotating from repeat to repeat:
       lift    `lift train ... --model mlp --json` under /usr/bin/time -v
               (train_s from its JSON is the fit alone: no CSV reading,
               pipeline, importance or file writing), then `lift eval`;
       torch   torch_mlp.py under /usr/bin/time -v (its train_s is the
               training loop alone);
       sklearn sklearn_mlp.py likewise (train_s: MLPClassifier.fit);
     whole-process wall is measured around the /usr/bin/time child and
     includes interpreter start-up and imports for the peers;
  3. print per data set one line per tool (medians: AUC, fit s, wall s,
     peak RSS MB), the ratios and the targets (fit >= 5x faster than
     PyTorch's, AUC within 0.003 of PyTorch's or better, lift's peak RSS
     under 100 MB); write every run to OUT/runs.jsonl, the summary to
     OUT/summary.json and a Markdown section to OUT/section.md.

The machine may be shared: before each run the driver waits (at most
--quiet-max s) until it is under --quiet-pct % busy, and records the busy
share and load it saw. PyTorch's two threads suffer most from a busy
machine (one fit took 209 s at a load of 8 on 2 cores, 4 s when quiet).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SETS = {
    "bank": dict(file="bank-marketing/bank-additional-full.csv", sep=";",
                 target="y", positive="yes", drop="duration"),
    "hillstrom": dict(file="hillstrom/hillstrom.csv", sep=",",
                      target="visit", positive="1", drop="conversion,spend"),
}
TOOLS = ["lift", "torch_mlp", "sklearn_mlp"]
MLP = ["--model", "mlp", "--hidden", "64,64", "--activation", "relu",
       "--lr", "0.001", "--batch", "32", "--epochs", "10"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def peak_rss_kb(report):
    with open(report) as f:
        for line in f:
            if line.strip().startswith("Maximum resident set size"):
                return int(line.rsplit(":", 1)[1])
    return None


def timed(cmd, report):
    """Runs cmd under /usr/bin/time -v: (stdout, wall s, peak RSS kB)."""
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", "-o", report] + cmd,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode,
                                              r.stderr[-2000:]))
    return r.stdout, wall, peak_rss_kb(report)


def busy_pct(interval=1.0):
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v), v[3] + v[4]
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 100.0 * (1.0 - (i1 - i0) / max(t1 - t0, 1))


def wait_quiet(limit, max_wait):
    start = time.monotonic()
    while True:
        b = busy_pct()
        if b < limit or time.monotonic() - start >= max_wait:
            return b
        time.sleep(1.0)


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_lift(a, ds, train, test, seed, out):
    model = os.path.join(out, "model.lift")
    cmd = [a.lift, "train", train, "--sep", ds["sep"], "--target",
           ds["target"], "--positive", ds["positive"], "--drop", ds["drop"],
           *MLP, "--seed", str(seed), "--json", "-o", model]
    text, wall, rss = timed(cmd, os.path.join(out, "lift.time"))
    info = json.loads(text)
    r = subprocess.run([a.lift, "eval", model, test, "--sep", ds["sep"],
                        "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("lift eval failed: " + r.stderr)
    ev = json.loads(r.stdout)
    return dict(auc=ev["auc"], fit_s=info["train_s"],
                inproc_s=info["total_s"], wall_s=wall, rss_kb=rss)


def run_peer(a, tool, ds, train, test, seed, out):
    cmd = ["/usr/bin/python3", os.path.join(a.peers, tool + ".py"),
           "--train", train, "--test", test, "--target", ds["target"],
           "--positive", ds["positive"], "--sep", ds["sep"], "--drop",
           ds["drop"], "--seed", str(seed)]
    text, wall, rss = timed(cmd, os.path.join(out, tool + ".time"))
    j = json.loads(text.strip().splitlines()[-1])
    return dict(auc=j["auc"], fit_s=j["train_s"], inproc_s=j["total_s"],
                wall_s=wall, rss_kb=rss)


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lift", required=True)
    p.add_argument("--data", required=True, help="the shared data folder")
    p.add_argument("--peers", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sets", default="bank,hillstrom")
    p.add_argument("--quiet-pct", type=float, default=25.0)
    p.add_argument("--quiet-max", type=float, default=120.0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sets = [s for s in a.sets.split(",") if s]
    runs = {s: {t: [] for t in TOOLS} for s in sets}
    splits = {}
    for name in sets:
        ds = SETS[name]
        train = os.path.join(a.out, name + ".train.csv")
        test = os.path.join(a.out, name + ".test.csv")
        subprocess.run(["/usr/bin/python3", os.path.join(a.peers, "split.py"),
                        "--in", os.path.join(a.data, ds["file"]), "--sep",
                        ds["sep"], "--stratify", ds["target"], "--out-train",
                        train, "--out-test", test], check=True,
                       capture_output=True)
        splits[name] = (train, test)
    with open(os.path.join(a.out, "runs.jsonl"), "w") as jl:
        for rep in range(a.repeat):
            seed = rep + 1
            order = TOOLS[rep % 3:] + TOOLS[:rep % 3]
            for name in sets:
                ds = SETS[name]
                train, test = splits[name]
                for tool in order:
                    busy = wait_quiet(a.quiet_pct, a.quiet_max)
                    load = load1()
                    row = (run_lift(a, ds, train, test, seed, a.out)
                           if tool == "lift" else
                           run_peer(a, tool, ds, train, test, seed, a.out))
                    row.update(set=name, tool=tool, seed=seed,
                               busy_pct_before=round(busy, 1),
                               loadavg_1m=load)
                    runs[name][tool].append(row)
                    jl.write(json.dumps(row) + "\n")
                    jl.flush()
                    log("  %-9s seed %d %-11s auc %.4f fit %7.3f s wall "
                        "%7.3f s rss %6.1f MB (busy %.0f%%, load %.1f)"
                        % (name, seed, tool, row["auc"], row["fit_s"],
                           row["wall_s"], row["rss_kb"] / 1024, busy, load))

    summary, md = {}, []
    for name in sets:
        s = {t: {k: med(runs[name][t], k)
                 for k in ("auc", "fit_s", "inproc_s", "wall_s", "rss_kb")}
             for t in TOOLS}
        lift, torch = s["lift"], s["torch_mlp"]
        ratios = dict(
            torch_fit_over_lift_fit=torch["fit_s"] / lift["fit_s"],
            torch_wall_over_lift_wall=torch["wall_s"] / lift["wall_s"],
            sklearn_fit_over_lift_fit=s["sklearn_mlp"]["fit_s"] /
            lift["fit_s"],
            lift_auc_minus_torch_auc=lift["auc"] - torch["auc"],
        )
        targets = {
            "fit >= 5x faster than PyTorch's":
                ratios["torch_fit_over_lift_fit"] >= 5,
            "AUC within 0.003 of PyTorch's or better":
                ratios["lift_auc_minus_torch_auc"] >= -0.003,
            "peak RSS < 100 MB": lift["rss_kb"] / 1024 < 100,
        }
        summary[name] = dict(medians=s, ratios=ratios, targets=targets)
        print("mlp: %s, medians of %d runs (seeds 1..%d)"
              % (name, a.repeat, a.repeat))
        print("%-12s %7s %8s %8s %8s" % ("tool", "auc", "fit_s", "wall_s",
                                         "rss_mb"))
        for t in TOOLS:
            print("%-12s %7.4f %8.3f %8.3f %8.1f"
                  % (t, s[t]["auc"], s[t]["fit_s"], s[t]["wall_s"],
                     s[t]["rss_kb"] / 1024))
        print("lift fit %.1fx faster than torch, %.1fx than sklearn; whole "
              "process %.1fx faster than torch; AUC %+.4f vs torch"
              % (ratios["torch_fit_over_lift_fit"],
                 ratios["sklearn_fit_over_lift_fit"],
                 ratios["torch_wall_over_lift_wall"],
                 ratios["lift_auc_minus_torch_auc"]))
        for k, v in targets.items():
            print("target %-42s %s" % (k, "MET" if v else "NOT MET"))
        md.append("### %s (%s, target `%s`)\n" % (name, SETS[name]["file"],
                                                   SETS[name]["target"]))
        md.append("| tool | AUC | fit s | whole process s | peak RSS MB |")
        md.append("|---|---:|---:|---:|---:|")
        for t in TOOLS:
            md.append("| %s | %.4f | %.3f | %.2f | %.1f |"
                      % (t, s[t]["auc"], s[t]["fit_s"], s[t]["wall_s"],
                         s[t]["rss_kb"] / 1024))
        md.append("")
        md.append("lift's fit is %.1fx faster than PyTorch's (%.1fx than "
                  "scikit-learn's); the whole process %.1fx; AUC %+.4f "
                  "against PyTorch's. Targets: %s."
                  % (ratios["torch_fit_over_lift_fit"],
                     ratios["sklearn_fit_over_lift_fit"],
                     ratios["torch_wall_over_lift_wall"],
                     ratios["lift_auc_minus_torch_auc"],
                     "; ".join("%s %s" % (k, "met" if v else "NOT met")
                               for k, v in targets.items())))
        md.append("")
        md.append("Every run: " + "; ".join(
            "%s seed %d: AUC %.4f, fit %.2f s, wall %.2f s (load %.1f)"
            % (r["tool"], r["seed"], r["auc"], r["fit_s"], r["wall_s"],
               r["loadavg_1m"])
            for t in TOOLS for r in runs[name][t]) + ".")
        md.append("")
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(dict(summary=summary, repeat=a.repeat), f, indent=2)
        f.write("\n")
    with open(os.path.join(a.out, "section.md"), "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
