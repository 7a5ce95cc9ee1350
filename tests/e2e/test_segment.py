#!/usr/bin/python3
"""End-to-end test of `lift segment` and POST /v1/segments.

On Hillstrom's numeric and categorical columns (visit, conversion and
spend dropped: 5 numeric, 4 categorical, 21 encoded columns), k = 4 and 8
with the defaults (k-means++, 10 restarts, seed 42): the inertia is
within 1 % of scikit-learn's KMeans(k-means++, n_init=10,
random_state=42) on the same encoding, built here: numeric columns
standardised with the population std, one 0/1 column per level. The
reference runs in /usr/bin/python3 with scikit-learn; without it the
comparison is skipped with a `# skip` line. Segment sizes add up to the
rows, response rates with --target lie in [0, 1], k chosen by silhouette
is in 2..k-max; the server's job gives the CLI's report as its result;
k larger than the rows and an unknown column are clear errors, from the
CLI and at once (no job) from the server.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marketing_common import (scratch, HILLSTROM, Server, check, error_message,  # noqa
                              finish, lift, note)

REFERENCE = r"""
import csv, json, sys
import numpy as np
from sklearn.cluster import KMeans
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
cols = []
for c in ["recency", "history", "mens", "womens", "newbie"]:
    v = np.array([float(r[c]) for r in rows])
    sd = v.std()
    cols.append((v - v.mean()) / (sd if sd > 0 else 1.0))
for c in ["history_segment", "zip_code", "channel", "segment"]:
    levels = sorted({r[c] for r in rows})
    for lv in levels:
        cols.append(np.array([1.0 if r[c] == lv else 0.0 for r in rows]))
x = np.column_stack(cols)
out = {"features": x.shape[1]}
for k in (4, 8):
    km = KMeans(n_clusters=k, init="k-means++", n_init=10,
                random_state=42).fit(x)
    out[str(k)] = km.inertia_
print(json.dumps(out))
"""


def reference():
    try:
        out = subprocess.run(["/usr/bin/python3", "-c", REFERENCE, HILLSTROM],
                             capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if out.returncode != 0:
        return None, out.stderr[-300:]
    return json.loads(out.stdout), ""


def main():
    ref, why = reference()
    if ref is None:
        note(f"skip: no scikit-learn reference ({why.strip()})")
    for k in (4, 8):
        rc, doc, err = lift("segment", HILLSTROM, "--k", str(k), "--drop",
                            "visit,conversion,spend", "--json")
        if not check(f"k{k}_runs", rc == 0, err):
            continue
        check(f"k{k}_encoding", doc["features"] == 21 and doc["k"] == k,
              doc["features"])
        sizes = [s["size"] for s in doc["segments"]]
        check(f"k{k}_sizes_add_up", sum(sizes) == 64000 and
              sizes == sorted(sizes, reverse=True) and len(sizes) == k, sizes)
        if ref:
            rel = (doc["inertia"] - ref[str(k)]) / ref[str(k)]
            note(f"k = {k}: lift inertia {doc['inertia']:.3f}, scikit-learn "
                 f"{ref[str(k)]:.3f}, difference {100 * rel:+.4f} %")
            check(f"k{k}_inertia_within_1pct_of_sklearn",
                  ref["features"] == 21 and abs(rel) <= 0.01,
                  f"{doc['inertia']} vs {ref[str(k)]}")
        seg = doc["segments"][0]
        check(f"k{k}_centroid_original_units",
              1 <= seg["centroid"]["recency"] <= 12 and
              set(seg["levels"]) == {"history_segment", "zip_code",
                                     "channel", "segment"}, seg["centroid"])
    rc, doc, err = lift("segment", HILLSTROM, "--k", "3", "--columns",
                        "recency,history,zip_code,channel", "--target",
                        "visit", "--json")
    if check("target_runs", rc == 0, err):
        rates = [s["response_rate"] for s in doc["segments"]]
        overall = sum(s["response_rate"] * s["size"]
                      for s in doc["segments"]) / 64000
        check("target_response_rates", all(0 <= r <= 1 for r in rates) and
              abs(overall - 0.146781) < 1e-5, rates)
        check("columns_only_named", doc["features"] == 2 + 3 + 3,
              doc["features"])
        check("distinguishing_levels",
              all(d["share"] > d["overall"] for s in doc["segments"]
                  for d in s["distinguishing"]), doc["segments"][0])
    rc, doc, err = lift("segment", HILLSTROM, "--columns",
                        "recency,history,channel", "--n-init", "2",
                        "--k-max", "5", "--sample", "2000", "--json")
    if check("auto_k_runs", rc == 0, err):
        sil = {int(k): v for k, v in doc["silhouette"].items()}
        check("auto_k_by_silhouette", sorted(sil) == [2, 3, 4, 5] and
              doc["k"] == max(sil, key=sil.get), sil)
    tmp = scratch("lift-segment-")
    small = os.path.join(tmp, "small.csv")
    with open(small, "w") as f:
        f.write("a,b\n1,x\n2,y\n3,x\n")
    rc, _, err = lift("segment", small, "--k", "5")
    check("k_larger_than_rows_fails", rc == 1 and
          "larger than the 3 rows" in err, err)
    rc, _, err = lift("segment", small, "--k", "2", "--drop", "nope")
    check("unknown_column_fails", rc == 1 and "'nope'" in err, err)
    rc, _, err = lift("segment", small, "--k", "two")
    check("bad_k_usage", rc == 2 and "'k'" in err, err)
    rc, cli, err = lift("segment", HILLSTROM, "--k", "4", "--drop",
                        "visit,conversion,spend", "--n-init", "3",
                        "--json")
    with Server() as s:
        s.upload("hill", HILLSTROM)
        s.upload("small", open(small, "rb").read())
        st, doc, res, job = s.run("/v1/segments",
                                  {"dataset": "hill", "k": 4, "n-init": 3,
                                   "drop": "visit,conversion,spend"})
        check("server_segments_202_job", st == 202 and
              doc["job"]["kind"] == "segments" and
              doc["job"]["state"] == "queued" and doc["dataset"] == "hill",
              doc)
        check("server_segments_job_result_equals_cli",
              job and job["state"] == "succeeded" and res and cli and
              res["inertia"] == cli["inertia"] and
              res["segments"] == cli["segments"] and
              res["dataset"] == "hill", str(job)[:300])
        st, doc = s.call("POST", "/v1/segments", {"dataset": "small", "k": 5})
        check("server_k_larger_than_rows_422", st == 422 and
              "larger than the 3 rows" in error_message(doc), doc)
        st, doc = s.call("POST", "/v1/segments",
                         {"dataset": "small", "k": 2, "drop": "nope"})
        check("server_unknown_column_404", st == 404 and
              "'nope'" in error_message(doc), doc)
    finish()


if __name__ == "__main__":
    main()
