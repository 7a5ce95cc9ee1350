#!/usr/bin/python3
"""Single-record scoring latency while uplift and segmentation jobs run.

usage: bench/serve/mkt_latency.py [N] [JOBS]   (default 2000 requests, 2 jobs)

Starts `lift serve --threads 2` (one job worker) on a temp data dir,
uploads Hillstrom, trains a logistic model of `visit` through the API,
then sends N single-record :predict requests one after another, twice:
alone, and while JOBS marketing jobs are queued or running (an uplift
with 1000 bootstrap resamples and a k-means with k chosen by silhouette,
alternately, posted just before). Prints the p50 and p99 latency of each
run, their ratio, and how many marketing jobs finished meanwhile. Before
these routes ran as jobs, each such request held one of the two HTTP
threads for seconds; now the POST is answered once its checks are done
and the fit runs in the job worker, so scoring keeps the HTTP threads
(the job takes one core; the other serves).

Environment: LIFT (the binary, default build/lift), DATA (the shared data
folder, default ../shared/data). Standard library only; a measure, not a
test: it asserts nothing.
"""
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
HILLSTROM = os.path.join(DATA, "hillstrom", "hillstrom.csv")
RECORD = {"recency": 6, "history_segment": "2) $100 - $200",
          "history": 142.44, "mens": 1, "womens": 0, "zip_code": "Surburban",
          "newbie": 0, "channel": "Phone", "segment": "Womens E-Mail"}
JOB_BODIES = [
    {"dataset": "hill", "treatment": "segment", "control": "No E-Mail",
     "target": "visit", "drop": "spend,conversion", "bootstrap": 1000},
    {"dataset": "hill", "k-max": 6, "n-init": 4,
     "drop": "visit,conversion,spend"},
]


class Client:
    def __init__(self, port, key):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.key = key

    def call(self, method, path, body=None, ctype="application/json"):
        headers = {"Authorization": "Bearer " + self.key}
        if body is not None:
            headers["Content-Type"] = ctype
            if isinstance(body, dict):
                body = json.dumps(body).encode()
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data or b"null")


def wait_job(c, job_id):
    while True:
        st, doc = c.call("GET", f"/v1/jobs/{job_id}")
        if st != 200 or doc["state"] not in ("queued", "running"):
            return doc
        time.sleep(0.2)


def latencies(c, n):
    body = json.dumps({"records": [RECORD]}).encode()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        st, _ = c.call("POST", "/v1/models/visit:predict", body)
        out.append(time.perf_counter() - t0)
        if st != 200:
            raise RuntimeError(f"predict answered {st}")
    out.sort()
    return out[len(out) // 2], out[min(len(out) - 1, int(0.99 * len(out)))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    tmp = tempfile.mkdtemp(prefix="lift-mkt-bench-")
    ddir = os.path.join(tmp, "data")
    out = subprocess.run([LIFT, "admin", "tenant", "create", "acme",
                          "--data-dir", ddir, "--json"], capture_output=True,
                         text=True, check=True)
    key = json.loads(out.stdout)["key"]
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file,
                             "--threads", "2", "--max-body", "64M"],
                            stderr=log)
    try:
        while not os.path.exists(port_file):
            time.sleep(0.05)
        time.sleep(0.05)
        port = int(open(port_file).read())
        c = Client(port, key)
        with open(HILLSTROM, "rb") as f:
            st, _ = c.call("POST", "/v1/datasets?name=hill", f.read(),
                           "text/csv")
        st, doc = c.call("POST", "/v1/models",
                         {"name": "visit", "dataset": "hill",
                          "target": "visit",
                          "drop": ["spend", "conversion"]})
        wait_job(c, doc["job"]["id"])
        latencies(c, min(n, 200))  # warm the snapshot cache
        p50a, p99a = latencies(c, n)
        ids = []
        t0 = time.perf_counter()
        for i in range(jobs):
            st, doc = c.call("POST", "/v1/uplift" if i % 2 == 0 else
                             "/v1/segments", JOB_BODIES[i % 2])
            ids.append(doc["job"]["id"])
        post_s = time.perf_counter() - t0
        p50b, p99b = latencies(c, n)
        done = sum(c.call("GET", f"/v1/jobs/{i}")[1]["state"] == "succeeded"
                   for i in ids)
        for i in ids:
            c.call("DELETE", f"/v1/jobs/{i}")
        print(f"alone:     p50 {p50a * 1e3:.3f} ms  p99 {p99a * 1e3:.3f} ms")
        print(f"with jobs: p50 {p50b * 1e3:.3f} ms  p99 {p99b * 1e3:.3f} ms"
              f"  ({jobs} posted in {post_s:.2f} s, {done} finished during"
              f" the run)")
        print(f"p99 ratio: {p99b / p99a:.2f}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


if __name__ == "__main__":
    main()
