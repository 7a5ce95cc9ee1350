#!/usr/bin/python3
"""End-to-end test of text columns in gradient-boosted trees (`--text-terms`).

Runs the binary named by $LIFT on the SMS Spam Collection in $DATA, split
at test time by the peers' scripts (prep_sms.py, then split.py: stratified
by label, 20 % test, seed 42), and checks:

  gbdt on the text with --text-terms 200 (the tf-idf weights of the 200
      terms in most training rows, each a binned numeric column):
      test AUC >= 0.975 (measured 0.9819; logistic on every term: 0.9915)
  `lift explain --record`: the term columns' TreeSHAP contributions come
      back as one contribution of the column `text`, summing with the
      base to the raw score; global importance lists `text`
  `lift predict` on new rows with words never seen in training (and an
      empty text): one score per row, spam-like text above ham-like
  the same seed gives a byte-identical model file (SOURCE_DATE_EPOCH=0)
  bad counts: --text-terms 0 and 5000 are usage errors naming the range
      (1 to 4096); --text-terms with a logistic model is refused
  `lift serve`: params {"text-terms": 50} train a gbdt whose explanations
      group to `text`; {"text-terms": 5000} is 422 naming the limit

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
SMS = os.path.join(DATA, "sms-spam-collection", "SMSSpamCollection")

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


def run(*args, check=True):
    p = subprocess.run([LIFT, *args], capture_output=True, text=True,
                       timeout=900, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
    if check and p.returncode != 0:
        raise AssertionError(f"lift {' '.join(args[:2])} exited "
                             f"{p.returncode}: {p.stderr.strip()}")
    return p


def check(name, fn):
    try:
        fn()
        report(name, True)
    except AssertionError as e:
        report(name, False, str(e))
    except Exception as e:  # a crash of the test itself is a failure too
        report(name, False, f"{type(e).__name__}: {e}")


def split_sms(tmp):
    csv_path = os.path.join(tmp, "sms.csv")
    subprocess.run([PYTHON, os.path.join(PEERS, "prep_sms.py"), SMS,
                    csv_path], check=True, capture_output=True)
    train = os.path.join(tmp, "train.csv")
    test = os.path.join(tmp, "test.csv")
    subprocess.run([PYTHON, os.path.join(PEERS, "split.py"), "--in",
                    csv_path, "--stratify", "label", "--out-train", train,
                    "--out-test", test], check=True, capture_output=True)
    return train, test


SPAM = ("WINNER!! zorbulent quixotry: you have won a FREE prize, call "
        "09061701461 now to claim")
HAM = "ok lar, flimbertal grommish see you at lunch then"


def train_gbdt(train, model, *extra):
    run("train", train, "--target", "label", "--positive", "spam", "--text",
        "text", "--model", "gbdt", "-o", model, *extra)


def test_cli(tmp):
    train, test = split_sms(tmp)
    model = os.path.join(tmp, "g.lift")
    train_gbdt(train, model, "--text-terms", "200")
    ev = json.loads(run("eval", model, test, "--json").stdout)
    auc = ev["auc"]

    def figure():
        assert auc >= 0.975, f"test AUC {auc:.4f} < 0.975"
    check(f"sms split: gbdt --text-terms 200 AUC {auc:.4f} >= 0.975", figure)

    def explain():
        rec = json.dumps({"text": SPAM})
        doc = json.loads(run("explain", model, "--record", rec,
                             "--json").stdout)
        cols = [c["column"] for c in doc["contributions"]]
        assert cols == ["text"], f"contribution columns {cols}"
        total = doc["base"] + sum(c["contribution"]
                                  for c in doc["contributions"])
        assert abs(total - doc["raw"]) < 1e-6, (
            f"base + contributions {total} != raw {doc['raw']}")
        assert abs(1 / (1 + math.exp(-doc["raw"])) - doc["score"]) < 1e-6, (
            f"score {doc['score']} != sigmoid(raw {doc['raw']})")
        assert doc["contributions"][0]["contribution"] > 0, doc
        imp = json.loads(run("explain", model, "--json").stdout)
        names = [i["column"] for i in imp["importance"]]
        assert names == ["text"], f"importance columns {names}"
        assert imp["importance"][0]["importance"] > 0, imp
        # every split is on a term column: all the gain is the text's
        assert abs(imp["importance"][0]["gain"] - 1) < 1e-12, imp
        assert imp["importance"][0]["gain_total"] > 0, imp
    check("explain: the term columns group to the text column", explain)

    def unseen():
        new = os.path.join(tmp, "new.csv")
        with open(new, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["label", "text"])
            w.writerow(["spam", SPAM])
            w.writerow(["ham", HAM])
            w.writerow(["ham", "zzyzx qwopple"])
            w.writerow(["ham", ""])
        out = os.path.join(tmp, "new_scores.csv")
        run("predict", model, new, "-o", out)
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 4, f"{len(rows)} scores for 4 rows"
        s = [float(r["score"]) for r in rows]
        assert all(0 < x < 1 for x in s), f"scores {s}"
        assert s[0] > 0.5 > s[1], f"spam {s[0]}, ham {s[1]}"
    check("predict: new rows with unseen words and an empty text score",
          unseen)

    def same_bytes():
        again = os.path.join(tmp, "g2.lift")
        train_gbdt(train, again, "--text-terms", "200")
        with open(model, "rb") as a, open(again, "rb") as b:
            assert a.read() == b.read(), "model files differ"
    check("same seed: byte-identical model file", same_bytes)

    def bad_counts():
        for n in ("0", "5000"):
            p = run("train", train, "--target", "label", "--text", "text",
                    "--model", "gbdt", "--text-terms", n, "-o",
                    os.path.join(tmp, "bad.lift"), check=False)
            assert p.returncode == 2, f"{n}: exit {p.returncode}"
            assert "text-terms" in p.stderr and "1 to 4096" in p.stderr, (
                p.stderr)
        p = run("train", train, "--target", "label", "--text", "text",
                "--model", "logistic", "--text-terms", "50", "-o",
                os.path.join(tmp, "bad.lift"), check=False)
        assert p.returncode != 0 and "gbdt" in p.stderr, p.stderr
        assert not os.path.exists(os.path.join(tmp, "bad.lift")), (
            "a refused training wrote a file")
    check("bad --text-terms: usage errors naming the range", bad_counts)
    return train


def test_server(tmp, train):
    """The server passes text-terms through and explains by column."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_serve as S  # its client, admin and start helpers
    S.LIFT = LIFT
    ddir = os.path.join(tmp, "serve", "data")
    os.makedirs(os.path.dirname(ddir), exist_ok=True)
    key = S.admin(ddir, "tenant", "create", "acme")["key"]
    proc, port = S.start(ddir)
    try:
        c = S.Client(port, key)
        with open(train, "rb") as f:
            st, doc = c.call("POST", "/v1/datasets?name=sms", f.read())
        assert st in (200, 201), f"upload: {st} {doc}"
        body = {"name": "spam", "dataset": "sms", "target": "label",
                "positive": "spam", "model": "gbdt", "text": ["text"],
                "params": {"text-terms": 50}}
        st, doc = c.call("POST", "/v1/models", body)
        assert st == 202, f"train: {st} {doc}"
        st, job = S.wait_job(c, doc["job"]["id"])
        assert st == 200 and job["state"] == "succeeded", f"job: {job}"
        st, pred = c.call("POST", "/v1/models/spam:predict",
                          {"records": [{"text": SPAM}, {"text": HAM}],
                           "explain": True})
        assert st == 200, f"predict: {st} {pred}"
        s = pred["scores"]
        assert s[0] > 0.5 > s[1], f"scores {s}"
        for e in pred["explanations"]:
            assert list(e["contributions"]) == ["text"], e
            total = e["base"] + e["contributions"]["text"]
            assert abs(total - e["raw"]) < 1e-6, e
        body["name"] = "bad"
        body["params"]["text-terms"] = 5000
        st, doc = c.call("POST", "/v1/models", body)
        assert st == 422 and "4096" in json.dumps(doc), f"5000: {st} {doc}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    if not os.path.exists(SMS):
        print(f"ok - skipped: no {SMS}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        train = None
        try:
            train = test_cli(tmp)
        except Exception as e:
            report("cli", False, f"{type(e).__name__}: {e}")
        if train:
            check("server: text-terms trains a gbdt explained by column; "
                  "5000 is 422", lambda: test_server(tmp, train))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
