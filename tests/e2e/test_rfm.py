#!/usr/bin/python3
"""End-to-end test of `lift rfm` and POST /v1/rfm.

tests/data/hillstrom_tx.csv holds the purchases of Hillstrom's first 3000
customers, made by tests/data/make_hillstrom_tx.py from documented rules
(recency and history from the file, the number of purchases from the
merchandise flags and the history segment). The test checks the fixture
is what the rules give, then computes the RFM segments itself, from
Hillstrom's columns and the rules, with its own quintile rule (1 + floor(5
b / n), b the values strictly below; strictly above for recency) and its
own copy of the R x F table, and compares the segment sizes with lift's:
from the transactions (aggregated by lift), and from columns (all 64000
rows, frequency added by the rule). Also: the default as-of date, the
per-customer file, the server (a job whose result is the report), and
bad input (a date column that is not
a date, no mode).
"""
import bisect
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marketing_common import (scratch, HILLSTROM, Server, check, error_message,  # noqa
                              finish, lift, note)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "data", "hillstrom_tx.csv")
MAKER = os.path.join(HERE, "..", "data", "make_hillstrom_tx.py")

# R x F -> segment, as include/lift/rfm.h documents it (rows R = 5..1).
TABLE = {
    5: ["new", "potential loyalists", "potential loyalists", "champions",
        "champions"],
    4: ["new", "potential loyalists", "potential loyalists", "loyal",
        "champions"],
    3: ["hibernating", "hibernating", "potential loyalists", "loyal",
        "loyal"],
    2: ["hibernating", "hibernating", "at risk", "at risk", "can't lose"],
    1: ["lost", "lost", "at risk", "at risk", "can't lose"],
}
NAMES = ["champions", "loyal", "potential loyalists", "new", "at risk",
         "can't lose", "hibernating", "lost"]


def purchases(row):
    s = int(row["history_segment"][0])
    return 1 + int(row["mens"]) + int(row["womens"]) + (s - 1) // 2


def segments(recency, frequency):
    n = len(recency)
    rs, fs = sorted(recency), sorted(frequency)
    out = []
    for r, f in zip(recency, frequency):
        above = n - bisect.bisect_right(rs, r)
        below = bisect.bisect_left(fs, f)
        out.append(TABLE[1 + 5 * above // n][5 * below // n])
    return out


def sizes(segs):
    return {name: segs.count(name) for name in NAMES}


def lift_sizes(doc):
    return {s["segment"]: s["customers"] for s in doc["segments"]}


def main():
    with open(HILLSTROM, newline="") as f:
        rows = list(csv.DictReader(f))
    tmp = scratch("lift-rfm-")
    remade = os.path.join(tmp, "tx.csv")
    subprocess.run([sys.executable, MAKER, HILLSTROM, remade], check=True)
    with open(remade, "rb") as a, open(FIXTURE, "rb") as b:
        check("fixture_follows_rules", a.read() == b.read())

    first = rows[:3000]
    want_tx = segments([int(r["recency"]) for r in first],
                       [purchases(r) for r in first])
    rc, doc, err = lift("rfm", FIXTURE, "--customer", "customer", "--date",
                        "date", "--amount", "amount", "--as-of", "2008-03-20",
                        "--json")
    if check("transactions_run", rc == 0, err):
        check("transactions_customers", doc["customers"] == 3000 and
              doc["scored"] == 3000 and doc["as_of"] == "2008-03-20", doc)
        got = lift_sizes(doc)
        note(f"transactions: lift {got}")
        note(f"transactions: test {sizes(want_tx)}")
        check("transactions_segment_sizes", got == sizes(want_tx), got)
        m = {s["segment"]: s for s in doc["segments"]}
        check("transactions_monetary_is_history",
              abs(sum(s["monetary"] * s["customers"] for s in m.values()) -
                  sum(float(r["history"]) for r in first)) < 1e-3, m)
    rc, doc, err = lift("rfm", FIXTURE, "--customer", "customer", "--date",
                        "date", "--amount", "amount", "--json")
    check("default_as_of_day_after_latest", rc == 0 and
          doc["as_of"] == "2008-02-20" and
          lift_sizes(doc) == sizes(want_tx), err or doc["as_of"])
    out = os.path.join(tmp, "customers.csv")
    rc, _, err = lift("rfm", FIXTURE, "--customer", "customer", "--date",
                      "date", "--amount", "amount", "--as-of", "2008-03-20",
                      "-o", out)
    if check("per_customer_file", rc == 0, err):
        with open(out, newline="") as f:
            got = {r["customer"]: r["segment"] for r in csv.DictReader(f)}
        check("per_customer_segments",
              all(got[f"c{i + 1:05d}"] == want_tx[i] for i in range(3000)),
              list(got.items())[:3])

    cols = os.path.join(tmp, "hillstrom_f.csv")
    with open(cols, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["recency", "history", "frequency"])
        for r in rows:
            w.writerow([r["recency"], r["history"], purchases(r)])
    want_cols = segments([int(r["recency"]) for r in rows],
                         [purchases(r) for r in rows])
    rc, doc, err = lift("rfm", cols, "--recency", "recency", "--frequency",
                        "frequency", "--monetary", "history", "--json")
    if check("columns_run", rc == 0, err):
        got = lift_sizes(doc)
        note(f"columns (64000): lift {got}")
        check("columns_segment_sizes", got == sizes(want_cols),
              f"{got} vs {sizes(want_cols)}")

    bad = os.path.join(tmp, "bad_date.csv")
    with open(bad, "w") as f:
        f.write("customer,date,amount\na,2008-01-02,5\nb,2008-13-45,7\n")
    rc, _, err = lift("rfm", bad, "--customer", "customer", "--date", "date",
                      "--amount", "amount")
    check("date_not_a_date_fails", rc == 1 and "'2008-13-45'" in err and
          "not an ISO 8601 date" in err and "line 3" in err, err)
    rc, _, err = lift("rfm", cols, "--recency", "recency")
    check("incomplete_mode_fails", rc == 1 and "either" in err, err)
    rc, _, err = lift("rfm", FIXTURE, "--customer", "customer", "--date",
                      "date", "--amount", "amount", "--as-of", "soon")
    check("bad_as_of_usage", rc == 2 and "as-of" in err, err)

    with Server() as s:
        s.upload("tx", FIXTURE)
        s.upload("bad", open(bad, "rb").read())
        st, doc, res, job = s.run("/v1/rfm",
                                  {"dataset": "tx", "customer": "customer",
                                   "date": "date", "amount": "amount",
                                   "as-of": "2008-03-20"})
        check("server_rfm_202_job", st == 202 and
              doc["job"]["kind"] == "rfm" and doc["dataset"] == "tx", doc)
        check("server_rfm_job_result", job and job["state"] == "succeeded" and
              res and res["dataset"] == "tx" and
              lift_sizes(res) == sizes(want_tx), job)
        st, doc = s.call("POST", "/v1/rfm",
                         {"dataset": "bad", "customer": "customer",
                          "date": "date", "amount": "amount"})
        check("server_bad_date_422", st == 422 and
              "not an ISO 8601 date" in error_message(doc), doc)
    finish()


if __name__ == "__main__":
    main()
