#!/usr/bin/python3
"""End-to-end test of text: the Unicode analyser, text models, keywords.

Runs the binary named by $LIFT on the SMS Spam Collection in $DATA:

  SMS split (the peers' prep_sms.py CSV, split by their split.py:
  stratified by label, 20 % test, seed 42), logistic regression on the
  text with the default text settings:
      test AUC >= 0.991 and accuracy >= 0.976 (fastText with word
      bigrams: 0.9931 / 0.978; scikit-learn tf-idf + LR: 0.9851 / 0.965)
  the saved model scores the raw test records the same through
      `lift predict` as `lift eval` saw them (settings stored in the file)
  the raw TSV read directly (--sep tab --no-header --no-quote --columns
      label,text): `lift text keywords --target label --positive spam`
      puts spam words (free, txt, claim, prize, call, mobile, won,
      urgent ...) at the top; the terms that lower the odds are ham words
  `lift text tokenize` of a mixed Chinese / English / emoji file gives
      the exact terms; invalid UTF-8 is an error naming the line
  `lift serve`: a model trained with text params (lang, ngrams, stem,
      stop-words) scores raw text records; a bad language is 422

Prints `ok - name` or `not ok - name: why` per check, then `N passed,
N failed`; exits 1 when anything failed. Standard library only.
"""
import csv
import json
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
RAW = ["--sep", "tab", "--no-header", "--no-quote", "--columns", "label,text"]

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


def test_split(tmp):
    train, test = split_sms(tmp)
    model = os.path.join(tmp, "sms.lift")
    run("train", train, "--target", "label", "--positive", "spam", "--text",
        "text", "--model", "logistic", "-o", model)
    ev = json.loads(run("eval", model, test, "--json").stdout)
    auc, acc = ev["auc"], ev["accuracy"]

    def figures():
        assert auc >= 0.991, f"test AUC {auc:.4f} < 0.991"
        assert acc >= 0.976, f"test accuracy {acc:.4f} < 0.976"
    check(f"sms split: logistic AUC {auc:.4f} >= 0.991, accuracy "
          f"{acc:.4f} >= 0.976", figures)

    def predict_same():
        out = os.path.join(tmp, "scores.csv")
        run("predict", model, test, "-o", out)
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        with open(test, newline="", encoding="utf-8") as f:
            labels = [r["label"] for r in csv.DictReader(f)]
        assert len(rows) == len(labels), "row count differs"
        key = [k for k in rows[0] if "score" in k or "prob" in k]
        assert key, f"no score column in {list(rows[0])}"
        scores = [float(r[key[0]]) for r in rows]
        correct = sum((s >= 0.5) == (l == "spam")
                      for s, l in zip(scores, labels))
        assert abs(correct / len(labels) - acc) < 1e-9, (
            f"predict accuracy {correct / len(labels):.6f} != eval {acc:.6f}")
    check("sms split: the saved model predicts as eval scored", predict_same)


SPAM_WORDS = {"free", "txt", "claim", "prize", "call", "mobile", "won",
              "urgent", "win", "text", "reply", "stop", "cash", "www",
              "service", "guaranteed", "awarded", "tone", "ringtone",
              "nokia", "camera", "landline", "customer", "apply",
              "contact", "winner", "chat", "po", "box", "collection",
              "voucher", "offer", "draw", "entry", "150p", "18", "<num>",
              "<money>", "<url>"}


def test_keywords(tmp):
    p = run("text", "keywords", SMS, *RAW, "--text", "text", "--target",
            "label", "--positive", "spam", "--top", "30", "--json")
    doc = json.loads(p.stdout)
    raise_terms = [e["term"] for e in doc["raise"]]
    lower_terms = [e["term"] for e in doc["lower"]]

    def spam_on_top():
        assert doc["rows"] == 5574, f"{doc['rows']} rows, not 5574"
        assert doc["positives"] == 747, f"{doc['positives']} spam"
        top = raise_terms[:20]
        hits = [t for t in top if t in SPAM_WORDS]
        assert len(hits) >= 12, f"only {hits} of the top 20 {top}"
        for w in ("call", "free", "txt", "claim", "prize", "urgent",
                  "mobile", "won"):
            assert w in raise_terms, f"'{w}' not in the top 30: {top}"
        e = doc["raise"][0]
        assert e["positive_docs"] + e["negative_docs"] == e["docs"]
        assert e["log_odds"] > 1 and e["z"] > 10, f"top entry {e}"
    check("keywords of the raw SMS file: spam words raise the odds: "
          + ", ".join(raise_terms[:10]), spam_on_top)

    def ham_lower():
        assert not set(lower_terms[:20]) & SPAM_WORDS, lower_terms[:20]
        e = doc["lower"][0]
        assert e["log_odds"] < 0 and e["z"] < -3, f"bottom entry {e}"
    check("keywords: ham words lower the odds: "
          + ", ".join(lower_terms[:8]), ham_lower)

    def top_tfidf():
        d = json.loads(run("text", "keywords", SMS, *RAW, "--text", "text",
                           "--top", "10", "--json").stdout)
        assert len(d["terms"]) == 10
        s = [e["score"] for e in d["terms"]]
        assert s == sorted(s, reverse=True), "scores not descending"
    check("keywords without a target: top tf-idf terms, descending",
          top_tfidf)


def test_tokenize(tmp):
    path = os.path.join(tmp, "mixed.tsv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("id\ttext\n1\tWin £100 at https://x.cn/a! 我们喜欢😀\n")

    def exact():
        p = run("text", "tokenize", path, "--sep", "tab", "--text", "text",
                "--no-stop-words", "--ngrams", "1", "--char-ngrams", "0",
                "--json")
        terms = json.loads(p.stdout)["rows"][0]["terms"]
        want = ["win", "£100", "at", "https://x.cn/a", "我", "我们", "们",
                "们喜", "喜", "喜欢", "欢", "😀"]
        assert terms == want, f"{terms} != {want}"
    check("tokenize: mixed Chinese, English, amounts, URL and emoji", exact)

    def invalid():
        bad = os.path.join(tmp, "bad.csv")
        with open(bad, "wb") as f:
            f.write(b"text\nfine\nbad \xff byte\n")
        p = run("text", "tokenize", bad, "--text", "text", check=False)
        assert p.returncode == 1, f"exit {p.returncode}"
        assert "line 3" in p.stderr and "UTF-8" in p.stderr, p.stderr
    check("tokenize: invalid UTF-8 is an error naming the line", invalid)


def test_server(tmp):
    """The server trains with text params and scores raw text."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_serve as S  # its client, admin and start helpers
    S.LIFT = LIFT
    ddir = os.path.join(tmp, "serve", "data")
    os.makedirs(os.path.dirname(ddir), exist_ok=True)
    key = S.admin(ddir, "tenant", "create", "acme")["key"]
    proc, port = S.start(ddir)
    try:
        c = S.Client(port, key)
        with open(os.path.join(tmp, "train.csv"), "rb") as f:
            st, doc = c.call("POST", "/v1/datasets?name=sms", f.read())
        assert st in (200, 201), f"upload: {st} {doc}"
        body = {"name": "spam", "dataset": "sms", "target": "label",
                "positive": "spam", "model": "logistic", "text": ["text"],
                "params": {"lang": "en", "ngrams": 1, "stem": True,
                           "stop-words": "lar wif"}}
        st, doc = c.call("POST", "/v1/models", body)
        assert st == 202, f"train: {st} {doc}"
        st, job = S.wait_job(c, doc["job"]["id"])
        assert st == 200 and job["state"] == "succeeded", f"job: {job}"
        recs = [{"text": "URGENT! You have WON a FREE prize, call 09061701461"
                         " to claim"},
                {"text": "Ok lar, see you at lunch then"},
                {"text": "我们明天见 😀"}]
        st, pred = c.call("POST", "/v1/models/spam:predict",
                          {"records": recs})
        assert st == 200, f"predict: {st} {pred}"
        scores = pred.get("scores", [])
        assert len(scores) == 3, f"predictions: {pred}"
        assert scores[0] > 0.5 > scores[1], f"scores {scores}"
        body["params"]["lang"] = "xx"
        body["name"] = "bad"
        st, doc = c.call("POST", "/v1/models", body)
        assert st == 422, f"bad lang: {st} {doc}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main():
    if not os.path.exists(SMS):
        print(f"ok - skipped: no {SMS}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for t in (test_split, test_keywords, test_tokenize):
            try:
                t(tmp)
            except Exception as e:
                report(t.__name__, False, f"{type(e).__name__}: {e}")
        check("server: text params train a model that scores raw text; a "
              "bad language is 422", lambda: test_server(tmp))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
