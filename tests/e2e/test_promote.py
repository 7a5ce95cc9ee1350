#!/usr/bin/python3
"""End-to-end test of promotion under load in `lift serve`.

A logistic model with 2^20 hashed weights (an 8 MB file, so a load takes
milliseconds) is trained once by the CLI and imported twice (versions 1
and 2 of model "m"). Six client threads then score one record each, in a
loop on keep-alive connections, while the main thread promotes the other
version PROMOTIONS times (default 60); after each promotion answers 200,
three predicts must be answered by the promoted version.

This is the race the snapshot cache had: a request that missed the
cache read the serving version, a promotion committed and dropped the
cache entry, then the request cached the old version, which went on
answering after the promotion until the next one (about a third of the
promotions here). Also checked: the scoring clients get only 200s, see
both versions, and every score equals the one the CLI gives; and SIGTERM
while promotions keep coming (they run off the HTTP threads, on a
suspended connection) stops the server cleanly.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
SMALL = os.path.join(DATA, "bank-marketing", "bank-additional.csv")
PROMOTIONS = int(os.environ.get("LIFT_PROMOTIONS", "60"))
CLIENTS = 6

results = {"passed": 0, "failed": 0}


def report(name, ok, why=""):
    if ok:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


def check(name, cond, why=""):
    report(name, bool(cond), why)
    return bool(cond)


class Client:
    """One keep-alive connection."""

    def __init__(self, port, key):
        self.port = port
        self.key = key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, ctype="application/json"):
        headers = {"Authorization": "Bearer " + self.key}
        if body is not None:
            headers["Content-Type"] = ctype
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None

    def close(self):
        self.conn.close()


def first_record():
    with open(SMALL) as f:
        head, row = f.readline(), f.readline()
    rec = {}
    for k, v in zip(head.strip().split(";"), row.strip().split(";")):
        k, v = k.strip('"'), v.strip('"')
        if k in ("y", "duration"):
            continue
        try:
            rec[k] = float(v)
        except ValueError:
            rec[k] = v
    return rec, head + row


def main():
    tmp = tempfile.mkdtemp(prefix="lift-promote-")
    ddir = os.path.join(tmp, "data")
    model = os.path.join(tmp, "m.lift")
    out = subprocess.run([LIFT, "train", SMALL, "--target", "y", "--positive",
                          "yes", "--drop", "duration", "--index", "hash",
                          "--bits", "20", "--optimizer", "adam", "--epochs",
                          "1", "-o", model], capture_output=True, text=True)
    if not check("train a model of 2^20 hashed weights", out.returncode == 0,
                 out.stderr):
        return
    rec, csv = first_record()
    one = os.path.join(tmp, "one.csv")
    with open(one, "w") as f:
        f.write(csv)
    out = subprocess.run([LIFT, "predict", model, one], capture_output=True,
                         text=True)
    cli_score = float(out.stdout.splitlines()[1].split(",")[-1])
    key = json.loads(subprocess.run(
        [LIFT, "admin", "tenant", "create", "t", "--data-dir", ddir,
         "--json"], capture_output=True, text=True, check=True).stdout)["key"]
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
    promoter = None
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file,
                             "--threads", "4"], stderr=log)
    try:
        for _ in range(1000):
            if os.path.exists(port_file) or proc.poll() is not None:
                break
            time.sleep(0.01)
        with open(port_file) as f:
            port = int(f.read())
        run(port, key, model, rec, cli_score)
        # promotions still coming when the server is told to stop: the
        # one being handled (off the HTTP threads) finishes, then it stops
        stop = threading.Event()
        answered = []

        def promote_on():
            cl = Client(port, key)
            try:
                i = 0
                while not stop.is_set():
                    st, _ = cl.call("POST",
                                    f"/v1/models/m/versions/{1 + i % 2}"
                                    ":promote")
                    answered.append(st)
                    i += 1
            except (OSError, http.client.HTTPException, ValueError):
                pass
            finally:
                cl.close()
        promoter = threading.Thread(target=promote_on)
        promoter.start()
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        log.close()
        with open(os.path.join(tmp, "server.log")) as f:
            text = f.read()
        check("server stops cleanly while promotions come in", rc == 0,
              f"exit {rc}: {text[-2000:]}")
        if promoter:
            stop.set()
            promoter.join(60)
            check("promotions before the stop answered 200",
                  answered and set(answered) == {200}, answered[-5:])
        shutil.rmtree(tmp, ignore_errors=True)


def run(port, key, model, rec, cli_score):
    c = Client(port, key)
    with open(model, "rb") as f:
        blob = f.read()
    for v in (1, 2):
        st, doc = c.call("PUT", "/v1/models/m/versions", blob,
                         "application/octet-stream")
        if not check(f"import version {v}", st == 201 and
                     doc["version"] == v and doc["promoted"] == (v == 1),
                     f"{st} {doc}"):
            return
    body = json.dumps({"records": [rec]})
    stop = threading.Event()
    seen = {"statuses": {}, "versions": {}, "errors": [], "scores": set()}
    mu = threading.Lock()

    def score():
        cl = Client(port, key)
        try:
            while not stop.is_set():
                st, doc = cl.call("POST", "/v1/models/m:predict", body)
                with mu:
                    seen["statuses"][st] = seen["statuses"].get(st, 0) + 1
                    if st == 200:
                        v = doc["version"]
                        seen["versions"][v] = seen["versions"].get(v, 0) + 1
                        seen["scores"].add(round(doc["scores"][0], 6))
        except (OSError, http.client.HTTPException, ValueError) as e:
            with mu:
                seen["errors"].append(str(e))
        finally:
            cl.close()

    threads = [threading.Thread(target=score) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    stale = []
    bad = []
    t0 = time.monotonic()
    for i in range(PROMOTIONS):
        v = 2 - i % 2
        st, doc = c.call("POST", f"/v1/models/m/versions/{v}:promote")
        if st != 200 or doc["serving"] != v:
            bad.append(f"promote v{v}: {st} {doc}")
            continue
        got = []
        for _ in range(3):
            st, doc = c.call("POST", "/v1/models/m:predict", body)
            got.append(doc["version"] if st == 200 else st)
        if got != [v, v, v]:
            stale.append(f"promotion {i + 1} to v{v}, then {got}")
    secs = time.monotonic() - t0
    stop.set()
    for t in threads:
        t.join(60)
    c.close()
    check(f"{PROMOTIONS} promotions answered 200 in {secs:.1f} s", not bad,
          "; ".join(bad[:3]))
    check("the promoted version answers right after each promotion",
          not stale, f"{len(stale)} of {PROMOTIONS}: " + "; ".join(stale[:3]))
    n = sum(seen["statuses"].values())
    check(f"scoring clients got only 200s during promotions ({n} requests)",
          n > 0 and set(seen["statuses"]) == {200} and not seen["errors"],
          f"{seen['statuses']} {seen['errors'][:3]}")
    check("scoring clients saw both versions",
          set(seen["versions"]) == {1, 2}, seen["versions"])
    check("every score equals the CLI's",
          seen["scores"] and
          all(abs(s - cli_score) < 1e-6 for s in seen["scores"]),
          f"{sorted(seen['scores'])[:5]} vs {cli_score}")


if __name__ == "__main__":
    main()
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
