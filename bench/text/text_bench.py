#!/usr/bin/python3
"""bench/text/text_bench.py - lift's logistic regression on text against
fastText and scikit-learn (tf-idf + LogisticRegression) on the SMS Spam
Collection.

One run, standard library only:
  1. the peers' prep_sms.py makes the label,text CSV, split.py splits it
     (stratified by label, 20 % test, seed 42), so every tool sees the
     same rows;
  2. N repeats (default 5); in each, every tool runs once, in an order
     that rotates from one repeat to the next:
       lift      `lift train --text text --json` under /usr/bin/time -v
                 (whole-process wall, peak RSS; fit_s is its JSON train_s,
                 the learner alone; train_s its total_s: reading, the
                 text pipeline, the fit and writing the model), then
                 `lift eval --json` for AUC and accuracy; model size is
                 the .lift file;
       fasttext  fasttext_text.py --bucket 200000 (fasttext supervised
                 -epoch 5 -wordNgrams 2 -thread 2); fit_s and train_s are
                 the `fasttext supervised` process (reading, hashing,
                 training, saving), peak RSS the larger of its train and
                 predict processes, model size the .bin file;
       sklearn   sklearn_lr.py --text text under /usr/bin/time -v; model
                 size is its pickled pipeline (not written by the peer:
                 reported as null);
  3. print one comparable line per tool (medians) and the ratios of lift
     to fastText, and write every run to OUT/runs.jsonl and the summary to
     OUT/summary.json.

Whole-process wall is measured around each child, so it includes Python
start-up for the peers, and reading, the pipeline, the fit and writing
the model file for lift.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_time_v(path):
    with open(path) as f:
        for line in f:
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    return None


def run_timed(cmd, work, tag):
    report = os.path.join(work, tag + ".time")
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", "-o", report] + cmd,
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd), r.returncode,
                                              r.stderr[-2000:]))
    return r.stdout, wall, parse_time_v(report)


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in output")


def run_lift(a, train, test, work):
    model = os.path.join(work, "sms.lift")
    out, wall, rss = run_timed(
        [a.lift, "train", train, "--target", "label", "--positive", "spam",
         "--text", "text", "--model", "logistic", "-o", model, "--json"]
        + a.lift_args, work, "lift")
    tr = json.loads(out)
    ev = json.loads(subprocess.run([a.lift, "eval", model, test, "--json"],
                                   capture_output=True, text=True,
                                   check=True).stdout)
    return dict(tool="lift", auc=ev["auc"], accuracy=ev["accuracy"],
                fit_s=tr["train_s"], train_total_s=tr["total_s"],
                wall_s=wall, rss_mb=rss / 1024,
                model_bytes=os.path.getsize(model))


def run_fasttext(a, train, test, work):
    out, wall, rss = run_timed(
        ["/usr/bin/python3", os.path.join(a.peers, "fasttext_text.py"),
         "--train", train, "--test", test, "--target", "label", "--positive",
         "spam", "--text", "text", "--bucket", "200000"], work, "fasttext")
    d = last_json(out)
    peak = max(rss, d.get("train_maxrss_kb", 0), d.get("predict_maxrss_kb", 0))
    return dict(tool="fasttext", auc=d["auc"], accuracy=d["accuracy"],
                fit_s=d["train_s"], train_total_s=d["train_s"], wall_s=wall,
                rss_mb=peak / 1024, model_bytes=d.get("model_bytes"))


def run_sklearn(a, train, test, work):
    out, wall, rss = run_timed(
        ["/usr/bin/python3", os.path.join(a.peers, "sklearn_lr.py"),
         "--train", train, "--test", test, "--target", "label", "--positive",
         "spam", "--text", "text"], work, "sklearn")
    d = last_json(out)
    return dict(tool="sklearn", auc=d["auc"], accuracy=d["accuracy"],
                fit_s=d["train_s"], train_total_s=None, wall_s=wall,
                rss_mb=rss / 1024, model_bytes=None)


def med(runs, key):
    v = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(v) if v else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lift", required=True)
    p.add_argument("--sms", required=True)
    p.add_argument("--peers", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--lift-args", default="",
                   help="extra lift train flags, space separated")
    a = p.parse_args()
    a.lift_args = a.lift_args.split()
    os.makedirs(a.out, exist_ok=True)
    work = a.out
    csv_path = os.path.join(work, "sms.csv")
    subprocess.run(["/usr/bin/python3", os.path.join(a.peers, "prep_sms.py"),
                    a.sms, csv_path], check=True, capture_output=True)
    train, test = (os.path.join(work, "train.csv"),
                   os.path.join(work, "test.csv"))
    subprocess.run(["/usr/bin/python3", os.path.join(a.peers, "split.py"),
                    "--in", csv_path, "--stratify", "label", "--out-train",
                    train, "--out-test", test], check=True,
                   capture_output=True)
    tools = [run_lift, run_fasttext, run_sklearn]
    runs = []
    with open(os.path.join(work, "runs.jsonl"), "w") as f:
        for i in range(a.repeat):
            order = tools[i % 3:] + tools[:i % 3]
            for t in order:
                r = t(a, train, test, work)
                r["repeat"] = i
                runs.append(r)
                f.write(json.dumps(r) + "\n")
                log("repeat %d %-8s AUC %.4f acc %.4f fit %.3f s wall %.3f s"
                    % (i, r["tool"], r["auc"], r["accuracy"], r["fit_s"],
                       r["wall_s"]))
    summary = {}
    print("%-9s %7s %8s %8s %8s %8s %8s %12s" % (
        "tool", "AUC", "accuracy", "fit_s", "train_s", "wall_s", "rss_MB",
        "model_bytes"))
    for name in ("lift", "fasttext", "sklearn"):
        rs = [r for r in runs if r["tool"] == name]
        s = {k: med(rs, k) for k in ("auc", "accuracy", "fit_s",
                                    "train_total_s", "wall_s", "rss_mb",
                                    "model_bytes")}
        summary[name] = s
        print("%-9s %7.4f %8.4f %8.3f %8s %8.3f %8.1f %12s" % (
            name, s["auc"], s["accuracy"], s["fit_s"],
            "-" if s["train_total_s"] is None
            else "%.3f" % s["train_total_s"], s["wall_s"], s["rss_mb"],
            "-" if s["model_bytes"] is None else "%d" % s["model_bytes"]))
    L, F = summary["lift"], summary["fasttext"]
    ratios = dict(auc_minus_fasttext=L["auc"] - F["auc"],
                  fit_over_fasttext=L["fit_s"] / F["fit_s"],
                  train_over_fasttext=L["train_total_s"] / F["fit_s"],
                  wall_over_fasttext=L["wall_s"] / F["wall_s"],
                  model_fasttext_over_lift=F["model_bytes"] / L["model_bytes"])
    summary["ratios"] = ratios
    summary["repeat"] = a.repeat
    print("lift vs fasttext: AUC %+.4f, fit %.2fx (whole train %.2fx), "
          "wall %.2fx, model %.0fx smaller"
          % (ratios["auc_minus_fasttext"], ratios["fit_over_fasttext"],
                       ratios["train_over_fasttext"],
                       ratios["wall_over_fasttext"],
                       ratios["model_fasttext_over_lift"]))
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
