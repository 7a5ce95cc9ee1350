#!/usr/bin/python3
"""End-to-end test of tenant quotas and the training-thread cap of
`lift serve`: the real binary on 127.0.0.1 with an ephemeral port and a
temporary data dir, the bank marketing files cut to size.

One tenant per limit, set with `lift admin tenant quota` before the
server starts (and changed while it runs), beside a tenant that only has
the server's --quota-* defaults:

- storage bytes: uploads up to the limit pass and GET /v1/quota counts
  their exact sizes; a declared Content-Length over the room is 403
  before the body, a chunked body over it is stopped (403), a
  Content-Length that lies under a chunked body gains nothing; two
  uploads racing for the last room: exactly one passes; deleting frees
  the room; a trained model file over the room fails its job; an
  imported model file and a bulk scoring result count too, and a result
  over the room fails its job;
- datasets: the third of two is 403, after a delete it passes, and an
  operator raising the limit on the running server takes effect at once;
- models: a second model (import or training) is 403, a new version of
  the first is not; deleting frees the slot;
- concurrent jobs: a second job while one runs is 429 with Retry-After
  and leaves no model behind; after a cancel it is accepted;
- requests per second: past the burst 429 with an integer Retry-After
  >= 1 naming the limit; the other tenant and /healthz are unaffected;
  after Retry-After seconds it passes; refused writes are not audited;
  `--rps unlimited` lifts it;
- the admin round trip (tenant quota / tenant list, JSON and text,
  usage errors) and the defaults of `lift serve --quota-*`;
- the operator's GET and PUT /v1/tenants/{name}/quota: the same numbers
  as the tenant's own view, changes applied at once and audited, 422 for
  bad bodies, 404 for an unknown tenant, 403 for a tenant key;
- --train-threads: a gbdt job asking for more threads than the cap gets
  the cap (job result and the version's params say so), the server's
  thread count during training never passes the cap, two jobs that
  each take the whole cap run one after the other, an MLP adds no BLAS
  thread; the default cap is the cores less one.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
BANK = os.path.join(DATA, "bank-marketing", "bank-additional-full.csv")
SMALL = os.path.join(DATA, "bank-marketing", "bank-additional.csv")

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
    def __init__(self, port, key):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.key = key

    def call(self, method, path, body=None, ctype=None, key="default",
             headers_out=None):
        key = self.key if key == "default" else key
        data = None
        headers = {}
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                headers["Content-Type"] = ctype or "application/json"
            else:
                data = body if isinstance(body, bytes) else body.encode()
                headers["Content-Type"] = ctype or "text/csv"
        if key:
            headers["Authorization"] = "Bearer " + key
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                payload = resp.read()
                status = resp.status
                hdrs = resp.headers
        except urllib.error.HTTPError as e:
            payload = e.read()
            status = e.code
            hdrs = e.headers
        if headers_out is not None:
            headers_out.update({k.lower(): v for k, v in hdrs.items()})
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = {"_raw": payload[:200]}
        return status, doc

    def upload(self, name, data):
        return self.call("POST", f"/v1/datasets?name={name}&sep=semicolon",
                         data)

    def quota(self):
        st, doc = self.call("GET", "/v1/quota")
        if st != 200:
            raise RuntimeError(f"GET /v1/quota: {st} {doc}")
        return doc


def error_code(doc):
    try:
        return doc["error"]["code"]
    except (TypeError, KeyError):
        return None


def message(doc):
    try:
        return doc["error"]["message"]
    except (TypeError, KeyError):
        return ""


def headers_only(port, key, path, length):
    """Declares a body of `length` bytes, sends none, reads the answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Authorization", "Bearer " + key)
    conn.putheader("Content-Type", "text/csv")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    conn.close()
    return resp.status, doc


def chunked(port, key, path, data):
    """Streams data in 8 KiB chunks with no declared length."""
    def body():
        for i in range(0, len(data), 8192):
            yield data[i:i + 8192]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body(), encode_chunked=True,
                 headers={"Authorization": "Bearer " + key,
                          "Content-Type": "text/csv",
                          "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    conn.close()
    return resp.status, doc


def lying(port, key, path, data, declared):
    """Declares `declared` bytes and sends a chunked body of data: the
    status line's code (0 when the server closed without one)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {declared}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    out = bytearray(head)
    for i in range(0, len(data), 8192):
        part = data[i:i + 8192]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    out += b"0\r\n\r\n"
    answer = b""
    try:
        s.sendall(out)
        while True:
            got = s.recv(65536)
            if not got:
                break
            answer += got
            if b"\r\n\r\n" in answer:
                head_end = answer.index(b"\r\n\r\n")
                if b"content-length" in answer[:head_end].lower():
                    break
    except OSError:
        pass
    s.close()
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def admin(ddir, *args, check_rc=True):
    out = subprocess.run([LIFT, "admin", *args, "--data-dir", ddir, "--json"],
                         capture_output=True, text=True)
    if check_rc and out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return out


def admin_json(ddir, *args):
    return json.loads(admin(ddir, *args).stdout)


def start(tmp, ddir, extra=()):
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(tmp, "server.log"), "a")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file,
                             *extra], stderr=log, text=True)
    for _ in range(600):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, int(f.read().strip())
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + server_log(tmp))
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(tmp, proc, name):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
        check(name, rc == 0, f"exit {rc}; server log:\n{server_log(tmp)}")
    except subprocess.TimeoutExpired:
        proc.kill()
        check(name, False, "did not stop in 60 s")


def server_log(tmp, lines=40):
    try:
        with open(os.path.join(tmp, "server.log")) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no server log)"


def wait_job(c, job_id, limit=300, sample=None):
    deadline = time.time() + limit
    doc = None
    while time.time() < deadline:
        st, doc = c.call("GET", f"/v1/jobs/{job_id}")
        if st != 200:
            return doc
        if doc["state"] in ("succeeded", "failed", "cancelled"):
            return doc
        if sample:
            t_end = time.time() + 0.1
            while time.time() < t_end:
                sample()
                time.sleep(0.005)
        else:
            time.sleep(0.05)
    return doc


def head_lines(path, n):
    """The header and the first n records of a file, as bytes."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    return b"\n".join(lines[:n + 1]) + b"\n"


def n_tasks(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return -1


# ---- the quota server ------------------------------------------------------


def test_defaults(c):
    q = c.quota()
    check("defaults_from_serve_flags",
          q["tenant"] == "free" and q["storage_bytes"]["limit"] == 1 << 30 and
          q["datasets"]["limit"] == 20 and q["models"]["limit"] == 20 and
          q["jobs"]["limit"] == 4 and q["rps"] == {"limit": 1000,
                                                   "burst": 1000}, q)
    check("defaults_usage_zero",
          [q[k]["used"] for k in ("storage_bytes", "datasets", "models",
                                  "jobs")] == [0, 0, 0, 0], q)


def test_storage(c, port, key, tiny, limit, free):
    q = c.quota()
    check("storage_override_shown", q["storage_bytes"]["limit"] == limit and
          q["datasets"]["limit"] == 20, q)
    st, d1 = c.upload("a1", tiny)
    st2, d2 = c.upload("a2", tiny)
    check("storage_uploads_under_limit_201", st == 201 and st2 == 201,
          (d1, d2))
    q = c.quota()
    check("storage_used_equals_uploaded_bytes",
          q["storage_bytes"]["used"] == 2 * len(tiny) and
          d1.get("bytes") == len(tiny) and q["datasets"]["used"] == 2, q)
    st, doc = c.upload("a3", tiny)
    check("storage_over_limit_403", st == 403 and
          error_code(doc) == "quota_exceeded" and
          "storage quota" in message(doc) and str(limit) in message(doc), doc)
    st, doc = headers_only(port, key, "/v1/datasets?name=a3&sep=semicolon",
                           len(tiny))
    check("storage_declared_length_403_before_body", st == 403 and
          error_code(doc) == "quota_exceeded" and
          str(2 * len(tiny)) in message(doc), doc)
    st, doc = chunked(port, key, "/v1/datasets?name=a3&sep=semicolon", tiny)
    check("storage_chunked_over_room_403", st == 403 and
          error_code(doc) == "quota_exceeded", doc)
    code = lying(port, key, "/v1/datasets?name=a3&sep=semicolon", tiny, 10)
    q = c.quota()
    st, doc = c.call("GET", "/v1/datasets/a3")
    check("storage_lying_content_length_gains_nothing",
          not 200 <= code < 300 and st == 404 and
          q["storage_bytes"]["used"] == 2 * len(tiny), (code, q))
    # the other tenant is unaffected by this one's full storage
    st, doc = free.upload("f1", tiny)
    check("storage_other_tenant_unaffected", st == 201, doc)
    st, doc = c.call("DELETE", "/v1/datasets/a1")
    q = c.quota()
    check("storage_delete_frees", st == 200 and
          q["storage_bytes"]["used"] == len(tiny), q)
    st, doc = c.upload("a3", tiny)
    check("storage_upload_after_delete_201", st == 201, doc)

    # two uploads racing for the last room: each fits alone, not both
    for name in ("a2", "a3"):
        c.call("DELETE", f"/v1/datasets/{name}")
    big = head_lines(SMALL, 1)  # grown below to 60 % of the limit
    with open(SMALL, "rb") as f:
        lines = f.read().split(b"\n")
    n = 1
    while len(big) < limit * 0.6:
        n += 1
        big = b"\n".join(lines[:n + 1]) + b"\n"
    answers = []
    conns = []
    for name in ("r1", "r2"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.putrequest("POST", f"/v1/datasets?name={name}&sep=semicolon")
        conn.putheader("Authorization", "Bearer " + key)
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Content-Length", str(len(big)))
        conn.endheaders()
        conn.send(big[:100])
        conns.append(conn)
    time.sleep(0.5)  # both admitted, neither complete

    def finish(conn):
        try:
            conn.send(big[100:])
        except OSError:
            pass  # answered early: the answer is still there to read
        try:
            resp = conn.getresponse()
            answers.append((resp.status, json.loads(resp.read())))
        except (OSError, http.client.HTTPException, ValueError) as e:
            answers.append((0, {"error": {"code": "", "message": str(e)}}))
        conn.close()
    threads = [threading.Thread(target=finish, args=(cn,)) for cn in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a[0] for a in answers)
    lost = [a[1] for a in answers if a[0] != 201]
    q = c.quota()
    # both were admitted at a usage of 0: the refusal is the store's, in
    # the transaction that adopts the blob, with the winner counted
    check("storage_race_exactly_one_passes",
          codes == [201, 403] and error_code(lost[0]) == "quota_exceeded" and
          f"from {len(big)} to {2 * len(big)}" in message(lost[0]) and
          q["storage_bytes"]["used"] == len(big), (codes, lost, q))
    st, doc = c.call("GET", "/v1/datasets")
    check("storage_race_no_half_object", st == 200 and
          len(doc["datasets"]) == 1 and
          doc["datasets"][0]["bytes"] == len(big), doc)

    # a trained model file larger than the room left fails its job
    st, doc = c.call("POST", "/v1/models",
                     {"name": "big", "dataset": doc["datasets"][0]["name"],
                      "target": "y", "positive": "yes", "model": "gbdt",
                      "drop": ["duration"], "params": {"trees": 200}})
    job = wait_job(c, doc["job"]["id"]) if st == 202 else doc
    st, m = c.call("GET", "/v1/models/big")
    v = m["versions"][0] if st == 200 and m.get("versions") else {}
    check("storage_model_file_over_room_fails_job",
          job.get("state") == "failed" and
          "storage quota exceeded: the model file of" in job.get("error", "")
          and v.get("state") == "failed" and m.get("serving") is None and
          c.quota()["storage_bytes"]["used"] == len(big), (job, m))
    c.call("DELETE", "/v1/models/big")


def test_datasets(c, ddir, tiny):
    names = []
    for name in ("d1", "d2"):
        st, doc = c.upload(name, tiny)
        names.append(st)
    check("datasets_under_limit_201", names == [201, 201], names)
    st, doc = c.upload("d3", tiny)
    check("datasets_third_403", st == 403 and
          error_code(doc) == "quota_exceeded" and
          "dataset quota" in message(doc) and "2" in message(doc), doc)
    q = c.quota()
    check("datasets_used_counted", q["datasets"] == {"limit": 2, "used": 2} and
          q["storage_bytes"]["used"] == 2 * len(tiny), q)
    st, doc = c.call("DELETE", "/v1/datasets/d1")
    st2, doc2 = c.upload("d3", tiny)
    check("datasets_delete_frees", st == 200 and st2 == 201, (doc, doc2))
    # the operator raises the limit on the running server
    admin(ddir, "tenant", "quota", "ds", "--datasets", "3")
    st, doc = c.upload("d4", tiny)
    check("datasets_raised_limit_applies_at_once", st == 201 and
          c.quota()["datasets"] == {"limit": 3, "used": 3}, doc)


def test_models(c, model_file, tiny):
    with open(model_file, "rb") as f:
        blob = f.read()
    st, doc = c.call("PUT", "/v1/models/m1/versions", blob,
                     ctype="application/octet-stream")
    check("models_first_import_201", st == 201, doc)
    st, doc = c.call("PUT", "/v1/models/m2/versions", blob,
                     ctype="application/octet-stream")
    check("models_second_model_403", st == 403 and
          error_code(doc) == "quota_exceeded" and
          "model quota" in message(doc), doc)
    st, doc = c.call("PUT", "/v1/models/m1/versions", blob,
                     ctype="application/octet-stream")
    check("models_new_version_of_same_model_201", st == 201 and
          doc["version"] == 2, doc)
    st, doc = c.upload("data", tiny)
    st, doc = c.call("POST", "/v1/models",
                     {"name": "m3", "dataset": "data", "target": "y",
                      "positive": "yes", "drop": ["duration"]})
    check("models_training_new_model_403", st == 403 and
          error_code(doc) == "quota_exceeded", doc)
    st, doc = c.call("GET", "/v1/models")
    check("models_refused_leave_nothing", st == 200 and
          [m["name"] for m in doc["models"]] == ["m1"], doc)
    q = c.quota()
    check("models_storage_counts_files",
          q["models"] == {"limit": 1, "used": 1} and
          q["storage_bytes"]["used"] == len(tiny) + 2 * len(blob), q)
    st, doc = c.call("DELETE", "/v1/models/m1")
    st2, doc2 = c.call("PUT", "/v1/models/m2/versions", blob,
                       ctype="application/octet-stream")
    check("models_delete_frees", st == 200 and st2 == 201 and
          c.quota()["storage_bytes"]["used"] == len(tiny) + len(blob),
          (doc, doc2))


def test_results(c, ddir, tiny, blob_len):
    """Bulk scoring results count toward storage; one that does not fit
    fails its job. Tenant md holds the dataset "data" and model m2."""
    st, doc = c.call("POST", "/v1/models/m2:score", {"dataset": "data"})
    job = wait_job(c, doc["job"]["id"]) if st == 202 else doc
    body = b""
    if job.get("state") == "succeeded":
        req = urllib.request.Request(
            f"{c.base}/v1/jobs/{job['id']}/result",
            headers={"Authorization": "Bearer " + c.key})
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = resp.read()
    used = c.quota()["storage_bytes"]["used"]
    check("results_count_toward_storage", len(body) > 0 and
          job["result"]["bytes"] == len(body) and
          used == len(tiny) + blob_len + len(body), (job, used, len(body)))
    rows = body.count(b"\n") - 1
    # the smallest result of these rows: header, then "N,s\n" a row
    floor = 8 + sum(len(str(i)) + 3 for i in range(1, rows + 1))
    admin(ddir, "tenant", "quota", "md", "--storage", str(used + floor - 1))
    st, doc = c.call("POST", "/v1/models/m2:score", {"dataset": "data"})
    check("results_no_room_403_before_queueing", st == 403 and
          error_code(doc) == "quota_exceeded" and "job" not in doc and
          f"the result of scoring {rows} rows needs at least {floor} bytes" in
          message(doc) and c.quota()["storage_bytes"]["used"] == used,
          (st, doc))
    # room for the smallest result but not for this one: the job runs and
    # fails when its file is adopted, with nothing kept
    admin(ddir, "tenant", "quota", "md", "--storage", str(used + floor))
    st, doc = c.call("POST", "/v1/models/m2:score", {"dataset": "data"})
    job = wait_job(c, doc["job"]["id"]) if st == 202 else doc
    check("results_over_room_fail_the_job", job.get("state") == "failed" and
          "storage quota exceeded: the result file of" in job.get("error", "")
          and c.quota()["storage_bytes"]["used"] == used and
          not os.listdir(os.path.join(ddir, "tmp")), job)
    admin(ddir, "tenant", "quota", "md", "--storage", "default")


def test_jobs(c):
    # enough rows that 5000 trees run for many seconds: still running
    # when the second job comes
    st, doc = c.upload("data", head_lines(SMALL, 4000))
    body = {"name": "j1", "dataset": "data", "target": "y",
            "positive": "yes", "model": "gbdt", "drop": ["duration"],
            "params": {"trees": 5000, "depth": 6}}
    st, j1 = c.call("POST", "/v1/models", body)
    ok = check("jobs_first_202", st == 202, j1)
    hdrs = {}
    st, doc = c.call("POST", "/v1/models", dict(body, name="j2"),
                     headers_out=hdrs)
    retry = hdrs.get("retry-after", "")
    check("jobs_second_429_retry_after", st == 429 and
          error_code(doc) == "rate_limited" and
          "job quota" in message(doc) and retry.isdigit() and
          int(retry) >= 1, (st, doc, hdrs))
    st, doc = c.call("GET", "/v1/models")
    check("jobs_refused_leave_no_model", st == 200 and
          [m["name"] for m in doc["models"]] == ["j1"], doc)
    check("jobs_used_counted", c.quota()["jobs"] == {"limit": 1, "used": 1})
    # the marketing jobs share the quota
    hdrs = {}
    st, doc = c.call("POST", "/v1/segments", {"dataset": "data", "k": 2},
                     headers_out=hdrs)
    check("jobs_segments_429", st == 429 and
          error_code(doc) == "rate_limited" and "job quota" in message(doc)
          and hdrs.get("retry-after", "").isdigit(), (st, doc, hdrs))
    if not ok:
        return
    c.call("DELETE", f"/v1/jobs/{j1['job']['id']}")
    job = wait_job(c, j1["job"]["id"])
    st, j2 = c.call("POST", "/v1/models", dict(body, name="j2"))
    check("jobs_after_cancel_202", job["state"] == "cancelled" and st == 202,
          (job, j2))
    if st == 202:
        c.call("DELETE", f"/v1/jobs/{j2['job']['id']}")
        wait_job(c, j2["job"]["id"])


def test_rps(c, free, ddir):
    statuses = []
    last = None
    t0 = time.time()
    for _ in range(12):
        hdrs = {}
        st, doc = c.call("GET", "/v1/datasets", headers_out=hdrs)
        statuses.append(st)
        if st == 429:
            last = (doc, hdrs)
    elapsed = time.time() - t0
    n_ok = statuses.count(200)
    # a burst of 4, then 2 tokens a second while the loop ran
    check("rps_burst_then_429", 4 <= n_ok <= 4 + int(elapsed * 2) + 1 and
          statuses.count(429) == 12 - n_ok and statuses[:4] == [200] * 4,
          (statuses, elapsed))
    if last:
        doc, hdrs = last
        retry = hdrs.get("retry-after", "")
        check("rps_429_retry_after_integer", retry.isdigit() and
              int(retry) >= 1, hdrs)
        check("rps_429_names_limit", error_code(doc) == "rate_limited" and
              "requests per second" in message(doc) and
              "limit is 2 requests per second (burst 4)" in message(doc),
              doc)
    st, doc = free.call("GET", "/v1/datasets")
    st2, doc2 = c.call("GET", "/healthz", key=None)
    check("rps_other_tenant_and_health_unaffected", st == 200 and st2 == 200,
          (doc, doc2))
    time.sleep(int(last[1].get("retry-after", "1")) if last else 1)
    st, doc = c.call("GET", "/v1/datasets")
    check("rps_passes_after_retry_after", st == 200, doc)
    # writes refused by the rate are not audited (no registry write per
    # refused request); those let through are
    deletes = [c.call("DELETE", "/v1/datasets/nope")[0] for _ in range(6)]
    time.sleep(2.2)  # the bucket refills
    st, doc = c.call("GET", "/v1/audit?limit=100")
    logged = [e["status"] for e in doc.get("entries", [])
              if e["action"] == "dataset.delete"] if st == 200 else None
    check("rps_refused_writes_not_audited", 429 in deletes and
          logged == [404] * deletes.count(404), (deletes, st, logged))
    admin(ddir, "tenant", "quota", "rt", "--rps", "unlimited")
    time.sleep(1.2)  # the server re-reads a tenant's rate every second
    statuses = [c.call("GET", "/v1/datasets")[0] for _ in range(12)]
    check("rps_unlimited_applies_within_a_second",
          statuses == [200] * 12, statuses)


def test_admin(ddir):
    doc = admin_json(ddir, "tenant", "quota", "ds")
    check("admin_quota_json", doc["name"] == "ds" and
          doc["quota"] == {"datasets": 3, "models": None} and
          doc["usage"]["datasets"] == 3, doc)
    doc = admin_json(ddir, "tenant", "quota", "ds", "--storage", "2G",
                     "--rps", "7,9", "--models", "default")
    check("admin_quota_set_fields", doc["quota"] == {
        "storage_bytes": 2 << 30, "datasets": 3, "rps": 7, "burst": 9}, doc)
    lst = admin_json(ddir, "tenant", "list")
    ds = [t for t in lst if t["name"] == "ds"]
    check("admin_tenant_list_shows_quota_and_usage", len(ds) == 1 and
          ds[0]["quota"] == doc["quota"] and ds[0]["usage"] == doc["usage"],
          lst)
    out = subprocess.run([LIFT, "admin", "tenant", "list", "--data-dir",
                          ddir], capture_output=True, text=True)
    row = [ln for ln in out.stdout.splitlines() if " ds " in ln]
    check("admin_tenant_list_text", out.returncode == 0 and len(row) == 1 and
          "/2.0G" in row[0] and "3/3" in row[0] and "7,9" in row[0],
          out.stdout)
    doc = admin_json(ddir, "tenant", "quota", "ds", "--storage", "default",
                     "--datasets", "default", "--rps", "default")
    check("admin_quota_back_to_defaults", doc["quota"] == {}, doc)
    out = admin(ddir, "tenant", "quota", "ds", "--storage", "12X",
                check_rc=False)
    out2 = admin(ddir, "tenant", "quota", "ds", "--rps", "0",
                 check_rc=False)
    out3 = admin(ddir, "tenant", "quota", "nobody", "--jobs", "1",
                 check_rc=False)
    check("admin_quota_errors", out.returncode == 2 and
          "--storage" in out.stderr and out2.returncode == 2 and
          out3.returncode == 1 and "no tenant 'nobody'" in out3.stderr,
          (out.stderr, out2.stderr, out3.stderr))


def test_operator_routes(port, keys, op, model_file):
    opc = Client(port, op)
    md = Client(port, keys["md"])
    st, doc = opc.call("GET", "/v1/tenants/md/quota")
    own = md.quota()
    check("operator_get_tenant_quota", st == 200 and
          doc["override"] == {"models": 1} and
          all(doc[k] == own[k] for k in ("tenant", "storage_bytes",
                                         "datasets", "models", "jobs",
                                         "rps")), (doc, own))
    st, doc = opc.call("PUT", "/v1/tenants/md/quota",
                       {"models": 2, "rps": 50, "burst": 80,
                        "storage_bytes": None})
    check("operator_put_tenant_quota", st == 200 and doc["override"] == {
        "models": 2, "rps": 50, "burst": 80, "storage_bytes": None} and
        doc["models"]["limit"] == 2 and doc["storage_bytes"]["limit"] is None
        and doc["rps"] == {"limit": 50, "burst": 80}, doc)
    with open(model_file, "rb") as f:
        blob = f.read()
    st, doc = md.call("PUT", "/v1/models/m3/versions", blob,
                      ctype="application/octet-stream")
    check("operator_raised_limit_applies_at_once", st == 201, doc)
    st, doc = opc.call("PUT", "/v1/tenants/md/quota",
                       {"rps": "default", "burst": "default",
                        "storage_bytes": "default"})
    check("operator_put_default_drops_override", st == 200 and
          doc["override"] == {"models": 2} and
          doc["storage_bytes"]["limit"] == 1 << 30, doc)
    bad = [opc.call("PUT", "/v1/tenants/md/quota", body)[0] for body in (
        {"modles": 3}, {"rps": 0}, {"jobs": -1}, {"jobs": "many"},
        {"burst": 5})]
    st, _ = opc.call("PUT", "/v1/tenants/nobody/quota", {"jobs": 1})
    st2, _ = md.call("GET", "/v1/tenants/md/quota")
    st3, _ = md.call("PUT", "/v1/tenants/md/quota", {"models": 99})
    check("operator_quota_errors", bad == [422] * 5 and st == 404 and
          st2 == 403 and st3 == 403, (bad, st, st2, st3))
    st, doc = opc.call("GET", "/v1/audit?limit=1000")
    got = [(e["action"], e["object"], e["status"])
           for e in doc.get("entries", []) if e["tenant"] is None]
    check("operator_quota_changes_audited",
          got.count(("tenant.quota", "md", 200)) == 2 and
          ("tenant.quota", "md", 422) in got, got)


def test_serve_flags(tmp):
    bad = []
    for flags in (["--quota-rps", "0"], ["--quota-storage", "9Q"],
                  ["--quota-jobs", "-1"], ["--train-threads", "0"],
                  ["--quota-rps", "5,0"]):
        out = subprocess.run([LIFT, "serve", "--data-dir",
                              os.path.join(tmp, "never"), *flags],
                             capture_output=True, text=True, timeout=30)
        bad.append((out.returncode, flags[0] in out.stderr))
    check("serve_bad_quota_flags_usage_error",
          bad == [(2, True)] * 5 and
          not os.path.exists(os.path.join(tmp, "never")), bad)


def quota_server(tmp, model_file):
    ddir = os.path.join(tmp, "data")
    keys = {}
    for name in ("free", "st", "ds", "md", "jb", "rt"):
        keys[name] = admin_json(ddir, "tenant", "create", name)["key"]
    tiny = head_lines(SMALL, 60)
    limit = int(2.5 * len(tiny))
    admin(ddir, "tenant", "quota", "st", "--storage", str(limit))
    admin(ddir, "tenant", "quota", "ds", "--datasets", "2", "--models",
          "unlimited")
    admin(ddir, "tenant", "quota", "md", "--models", "1")
    admin(ddir, "tenant", "quota", "jb", "--jobs", "1")
    admin(ddir, "tenant", "quota", "rt", "--rps", "2,4")
    op = admin_json(ddir, "key", "create", "--operator")["key"]
    proc, port = start(tmp, ddir, ["--quota-storage", "1G",
                                   "--quota-datasets", "20",
                                   "--quota-models", "20", "--quota-jobs", "4",
                                   "--quota-rps", "1000"])
    try:
        free = Client(port, keys["free"])
        test_defaults(free)
        test_storage(Client(port, keys["st"]), port, keys["st"], tiny, limit,
                     free)
        test_datasets(Client(port, keys["ds"]), ddir, tiny)
        test_models(Client(port, keys["md"]), model_file, tiny)
        test_results(Client(port, keys["md"]), ddir, tiny,
                     os.path.getsize(model_file))
        test_jobs(Client(port, keys["jb"]))
        test_rps(Client(port, keys["rt"]), free, ddir)
        test_admin(ddir)
        test_operator_routes(port, keys, op, model_file)
        # the default thread cap: cores less one
        st, doc = free.upload("small", head_lines(SMALL, 2000))
        st, doc = free.call("POST", "/v1/models",
                            {"name": "g", "dataset": "small", "target": "y",
                             "positive": "yes", "model": "gbdt",
                             "drop": ["duration"],
                             "params": {"trees": 10, "threads": 64}})
        job = wait_job(free, doc["job"]["id"]) if st == 202 else doc
        cores = len(os.sched_getaffinity(0))
        check("train_threads_default_cores_less_one",
              job.get("state") == "succeeded" and
              job["result"]["threads"] == max(1, cores - 1) and
              job["result"]["threads_requested"] == 64, job)
    finally:
        stop(tmp, proc, "quota_server_stops_cleanly")
    out = subprocess.run([LIFT, "admin", "check", "--data-dir", ddir],
                         capture_output=True, text=True)
    check("registry_check_after_stop", out.returncode == 0,
          out.stdout + out.stderr)


# ---- the thread cap --------------------------------------------------------


def threads_server(tmp):
    ddir = os.path.join(tmp, "data-threads")
    key = admin_json(ddir, "tenant", "create", "acme")["key"]
    proc, port = start(tmp, ddir, ["--train-threads", "2", "--job-threads",
                                   "2"])
    try:
        c = Client(port, key)
        with open(BANK, "rb") as f:
            st, doc = c.upload("bank", f.read())
        check("threads_upload", st == 201, doc)
        base = n_tasks(proc.pid)
        seen = [base]
        body = {"name": "t", "dataset": "bank", "target": "y",
                "positive": "yes", "model": "gbdt", "drop": ["duration"],
                "params": {"trees": 800, "depth": 4, "threads": 4}}
        st, doc = c.call("POST", "/v1/models", body)
        job = wait_job(c, doc["job"]["id"],
                       sample=lambda: seen.append(n_tasks(proc.pid)))
        ok = job.get("state") == "succeeded"
        check("threads_job_capped", ok and job["result"]["threads"] == 2 and
              job["result"]["threads_requested"] == 4, job)
        st, m = c.call("GET", "/v1/models/t")
        check("threads_version_params_record_cap", st == 200 and
              m["versions"][0]["info"]["params"]["threads"] == 2, m)
        # a job of 2 threads adds one to its worker: never more
        check("threads_task_count_within_cap", max(seen) <= base + 1 and
              min(seen) >= base, (base, sorted(set(seen))))
        # 800 trees take about 1 s (10 under ASan), long enough for
        # the sampling to see the pool's thread
        check("threads_task_count_shows_the_pool",
              ok and job["result"]["train_s"] > 0.3 and max(seen) == base + 1,
              (job.get("result", {}).get("train_s"), base,
               sorted(set(seen))))

        # two jobs that each take the whole cap run one after the other
        ids = []
        for name in ("s1", "s2"):
            st, doc = c.call("POST", "/v1/models",
                             dict(body, name=name,
                                  params={"trees": 20, "depth": 4,
                                          "threads": 2}))
            ids.append(doc["job"]["id"] if st == 202 else None)
        seen = [base]
        jobs = [wait_job(c, i, sample=lambda: seen.append(n_tasks(proc.pid)))
                if i else {} for i in ids]
        ok = all(j.get("state") == "succeeded" for j in jobs)
        first, second = sorted(jobs, key=lambda j: j.get("started") or 0) \
            if ok else ({}, {})
        check("threads_full_cap_jobs_serialised", ok and
              second["started"] >= first["finished"] and
              max(seen) <= base + 1, (jobs, base, sorted(set(seen))))

        # the MLP trains on one thread and OpenBLAS adds none
        seen = [base]
        st, doc = c.call("POST", "/v1/models",
                         {"name": "n", "dataset": "bank", "target": "y",
                          "positive": "yes", "model": "mlp",
                          "drop": ["duration"],
                          "params": {"epochs": 1, "threads": 4}})
        job = wait_job(c, doc["job"]["id"],
                       sample=lambda: seen.append(n_tasks(proc.pid)))
        check("threads_mlp_one_thread_no_blas_threads",
              job.get("state") == "succeeded" and
              job["result"]["threads"] == 1 and max(seen) <= base,
              (job, base, sorted(set(seen))))
    finally:
        stop(tmp, proc, "threads_server_stops_cleanly")


def main():
    tmp = tempfile.mkdtemp(prefix="lift-quota-")
    atexit.register(lambda: results["failed"] or
                    shutil.rmtree(tmp, ignore_errors=True))
    model_file = os.path.join(tmp, "small.lift")
    out = subprocess.run([LIFT, "train", SMALL, "--target", "y", "--positive",
                          "yes", "--drop", "duration", "-o", model_file],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"not ok - train_model_file: {out.stderr}")
        print("0 passed, 1 failed")
        sys.exit(1)
    test_serve_flags(tmp)
    quota_server(tmp, model_file)
    threads_server(tmp)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
