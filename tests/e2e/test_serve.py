#!/usr/bin/python3
"""End-to-end test of `lift serve`: the real binary on 127.0.0.1 with an
ephemeral port and a temporary data dir, driven over HTTP with the bank
marketing file (duration dropped, y = yes).

Covers: health checks without a key; 401 without or with a bad key; upload
(201, rows and schema), list, get; training as a job (202, polled to
succeeded, progress), the model and its metrics; predict (scores in (0,1)
equal to `lift predict` on the same records, warnings for unknown and
absent fields), explain (base + contributions == raw); evaluate (AUC and
lift table); a second version, promote and roll back; import of a model
trained by the CLI (PUT) and download (GET .../file, byte-identical);
cancel of a queued job; delete of versions, models and datasets; tenant
isolation (404 for another tenant's objects, lists empty); every error
status: 400 malformed JSON (with line and column), 422 wrong shape or
types, 404 unknown model, route or dataset, 405-style method errors, 413
body and record caps, 415 content type; graceful stop on SIGTERM.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import atexit
import http.client
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    def __init__(self, port, key=None):
        self.base = f"http://127.0.0.1:{port}"
        self.key = key

    def call(self, method, path, body=None, ctype=None, key="default",
             raw=False):
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
        except urllib.error.HTTPError as e:
            payload = e.read()
            status = e.code
        if raw:
            return status, payload
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = {"_raw": payload[:200]}
        return status, doc


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


def chunked(port, key, path, length):
    """Streams `length` bytes with no declared length."""
    def body():
        block = b"x" * (1 << 20)
        for _ in range(length >> 20):
            yield block
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body(), encode_chunked=True,
                 headers={"Authorization": "Bearer " + key,
                          "Content-Type": "text/csv",
                          "Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    conn.close()
    return resp.status, doc


def error_code(doc):
    try:
        return doc["error"]["code"]
    except (TypeError, KeyError):
        return None


def admin(ddir, *args):
    out = subprocess.run([LIFT, "admin", *args, "--data-dir", ddir, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return json.loads(out.stdout)


def start(ddir, extra=()):
    port_file = os.path.join(ddir, "..", "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(ddir, "..", "server.log"), "w")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file,
                             *extra], stderr=log, text=True)
    for _ in range(600):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, int(f.read().strip())
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + server_log(ddir))
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def server_log(ddir, lines=40):
    try:
        with open(os.path.join(ddir, "..", "server.log")) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no server log)"


def wait_job(c, job_id, limit=300):
    deadline = time.time() + limit
    doc = None
    while time.time() < deadline:
        status, doc = c.call("GET", f"/v1/jobs/{job_id}")
        if status != 200:
            return status, doc
        if doc["state"] in ("succeeded", "failed", "cancelled"):
            return status, doc
        time.sleep(0.2)
    return 0, doc


def records_of(path, n, drop=("y", "duration")):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    names = [h.strip('"') for h in lines[0].split(";")]
    out = []
    for line in lines[1:n + 1]:
        vals = [v.strip('"') for v in line.split(";")]
        rec = {}
        for k, v in zip(names, vals):
            if k in drop:
                continue
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v
        out.append(rec)
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="lift-serve-")
    atexit.register(lambda: results["failed"] or
                    shutil.rmtree(tmp, ignore_errors=True))
    ddir = os.path.join(tmp, "data")
    a = admin(ddir, "tenant", "create", "acme")
    b = admin(ddir, "tenant", "create", "rival")
    check("admin_prints_key_once", a["key"].startswith("lift_") and
          a["key"] != b["key"], str(a))
    check("data_dir_mode_0700",
          (os.stat(ddir).st_mode & 0o777) == 0o700, oct(os.stat(ddir).st_mode))
    proc, port = start(ddir, ["--max-body", "16M", "--max-records", "2000"])
    try:
        run(tmp, ddir, port, a["key"], b["key"])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
            check("sigterm_stops_cleanly", rc == 0,
                  f"exit {rc}; server log:\n{server_log(ddir)}")
        except subprocess.TimeoutExpired:
            proc.kill()
            check("sigterm_stops_cleanly", False, "did not stop in 60 s")
    out = subprocess.run([LIFT, "admin", "check", "--data-dir", ddir],
                         capture_output=True, text=True)
    check("registry_check_after_stop", out.returncode == 0, out.stderr)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


def run(tmp, ddir, port, key_a, key_b):
    c = Client(port, key_a)
    other = Client(port, key_b)
    st, doc = c.call("GET", "/healthz", key=None)
    check("healthz_without_key", st == 200 and doc["status"] == "ok", doc)
    st, doc = c.call("GET", "/readyz", key=None)
    check("readyz_without_key", st == 200, doc)
    st, doc = c.call("GET", "/v1/datasets", key=None)
    check("no_key_401", st == 401 and error_code(doc) == "unauthorized", doc)
    st, doc = c.call("GET", "/v1/datasets", key="lift_" + "A" * 43)
    check("bad_key_401", st == 401 and error_code(doc) == "unauthorized", doc)

    with open(BANK, "rb") as f:
        bank = f.read()
    st, doc = c.call("POST", "/v1/datasets?name=bank&sep=semicolon", bank)
    check("upload_201", st == 201 and doc["rows"] == 41188, doc)
    check("upload_schema", st == 201 and doc["schema"]["cols"] == 21, doc)
    st, doc = c.call("POST", "/v1/datasets?name=bank&sep=semicolon", bank)
    check("upload_same_name_409", st == 409 and error_code(doc) == "conflict",
          doc)
    st, doc = c.call("POST", "/v1/datasets?name=bad%2Fname", b"a,b\n1,2\n")
    check("upload_bad_name_422", st == 422, doc)
    st, doc = c.call("POST", "/v1/datasets?name=j", b'{"a":1}',
                     ctype="application/json")
    check("upload_json_415", st == 415 and
          error_code(doc) == "unsupported_media", doc)
    st, doc = c.call("POST", "/v1/datasets?name=ragged", b"a,b\n1,2\n3\n")
    check("upload_ragged_400", st == 400 and "line 3" in
          doc["error"]["message"], doc)
    st, doc = headers_only(port, key_a, "/v1/datasets?name=big", 17 << 20)
    check("upload_declared_over_cap_413_before_body", st == 413 and
          error_code(doc) == "too_large", doc)
    st, doc = chunked(port, key_a, "/v1/datasets?name=big", 17 << 20)
    check("upload_streamed_over_cap_413", st == 413 and
          error_code(doc) == "too_large", doc)
    st, doc = c.call("GET", "/v1/datasets")
    check("dataset_list", st == 200 and
          [d["name"] for d in doc["datasets"]] == ["bank"], doc)
    st, doc = c.call("GET", "/v1/datasets/bank")
    check("dataset_get", st == 200 and doc["rows"] == 41188, doc)

    # isolation
    st, doc = other.call("GET", "/v1/datasets/bank")
    check("isolation_dataset_404", st == 404, doc)
    st, doc = other.call("GET", "/v1/datasets")
    check("isolation_dataset_list_empty", st == 200 and
          doc["datasets"] == [], doc)

    # training
    body = {"name": "resp", "dataset": "bank", "target": "y",
            "positive": "yes", "model": "logistic", "drop": ["duration"],
            "params": {"valid": 0.1}, "cv_folds": 3}
    st, doc = c.call("POST", "/v1/models", body)
    ok = check("train_202", st == 202 and doc["job"]["state"] == "queued" and
               doc["version"] == 1, doc)
    if not ok:
        return
    st, job = wait_job(c, doc["job"]["id"])
    check("job_succeeded", st == 200 and job["state"] == "succeeded", job)
    st, doc = other.call("GET", f"/v1/jobs/{job['id']}")
    check("isolation_job_404", st == 404, doc)
    st, doc = c.call("GET", "/v1/models/resp")
    v1 = doc["versions"][0] if st == 200 else {}
    check("model_get", st == 200 and doc["serving"] == 1, doc)
    auc_cv = v1.get("info", {}).get("cv", {}).get("auc", {}).get("mean", 0)
    check("model_has_cv", 0.77 < auc_cv < 0.81, v1)
    check("model_has_importance",
          len(v1.get("info", {}).get("importance", [])) == 19, v1)
    st, doc = other.call("POST", "/v1/models/resp:predict",
                         {"records": [{}]})
    check("isolation_predict_404", st == 404, doc)

    recs = records_of(SMALL, 50)
    st, pred = c.call("POST", "/v1/models/resp:predict", {"records": recs})
    ok = check("predict_200", st == 200 and len(pred["scores"]) == 50 and
               all(0 < s < 1 for s in pred["scores"]), pred)
    if ok:
        # the same records through the CLI with the downloaded model
        st, blob = c.call("GET", "/v1/models/resp/versions/1/file", raw=True)
        mpath = os.path.join(tmp, "dl.lift")
        with open(mpath, "wb") as f:
            f.write(blob)
        sub = os.path.join(tmp, "sub.csv")
        with open(SMALL) as f:
            lines = f.read().splitlines()
        with open(sub, "w") as f:
            f.write("\n".join(lines[:51]) + "\n")
        out = subprocess.run([LIFT, "predict", mpath, sub],
                             capture_output=True, text=True)
        cli = [float(l.split(",")[1]) for l in out.stdout.splitlines()[1:]]
        diff = max(abs(x - y) for x, y in zip(cli, pred["scores"]))
        check("predict_equals_cli", len(cli) == 50 and diff < 1e-7,
              f"max diff {diff}")
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     {"records": [{"age": 41, "job": "admin.", "foo": 1}],
                      "explain": True})
    ok = check("explain_200", st == 200 and len(doc["explanations"]) == 1,
               doc)
    if ok:
        e = doc["explanations"][0]
        total = e["base"] + sum(e["contributions"].values())
        check("explain_sums_to_raw", abs(total - e["raw"]) < 1e-6,
              f"{total} vs {e['raw']}")
        check("predict_warns_unknown_field",
              any("'foo'" in w for w in doc["warnings"]), doc["warnings"])
        check("predict_warns_absent_field",
              any("absent" in w for w in doc["warnings"]), doc["warnings"])
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     {"records": [{"age": "forty"}]})
    check("predict_wrong_type_422", st == 422 and "age" in
          doc["error"]["message"], doc)
    st, doc = c.call("POST", "/v1/models/resp:predict", {"records": [[1]]})
    check("predict_record_not_object_422", st == 422, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict", {"rows": []})
    check("predict_no_records_422", st == 422, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     {"records": [{}] * 2001})
    check("predict_record_cap_413", st == 413, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     '{"records": [\n  {"age": 41,}\n]}',
                     ctype="application/json")
    check("predict_bad_json_400_line_col", st == 400 and
          "line 2" in doc["error"]["message"], doc)
    st, doc = c.call("POST", "/v1/models/resp:predict", '{"records": []}',
                     ctype="text/plain")
    check("predict_content_type_415", st == 415, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     '{"records": [], "records": []}',
                     ctype="application/json")
    check("predict_duplicate_keys_400", st == 400, doc)
    st, doc = c.call("POST", "/v1/models/nope:predict", {"records": []})
    check("predict_unknown_model_404", st == 404 and
          error_code(doc) == "not_found", doc)
    st, doc = c.call("GET", "/v1/nothing")
    check("unknown_route_404", st == 404, doc)
    st, doc = c.call("PATCH", "/v1/models")
    check("bad_method_405", st == 405, doc)

    st, doc = c.call("POST", "/v1/models/resp:evaluate", {"dataset": "bank"})
    check("evaluate_auc", st == 200 and 0.78 < doc["auc"] < 0.82 and
          len(doc["lift_table"]) == 10, doc)
    st, doc = c.call("POST", "/v1/models/resp:evaluate", {"dataset": "none"})
    check("evaluate_unknown_dataset_404", st == 404, doc)

    # bad training requests
    st, doc = c.call("POST", "/v1/models", {"name": "x", "dataset": "bank",
                                            "target": "nope"})
    check("train_unknown_target_422", st == 422, doc)
    st, doc = c.call("POST", "/v1/models", {"name": "x", "dataset": "none",
                                            "target": "y"})
    check("train_unknown_dataset_404", st == 404, doc)
    st, doc = c.call("POST", "/v1/models", {"name": "x", "dataset": "bank",
                                            "target": "y",
                                            "params": {"lr": "fast"}})
    check("train_bad_param_422", st == 422 and "lr" in
          doc["error"]["message"], doc)
    st, doc = c.call("POST", "/v1/models", {"name": 5})
    check("train_bad_shape_422", st == 422, doc)

    # a second version, promote and roll back
    body2 = dict(body, params={"l2": 0.01}, cv_folds=None)
    del body2["cv_folds"]
    st, doc = c.call("POST", "/v1/models", body2)
    st, job = wait_job(c, doc["job"]["id"])
    check("second_version_trained", job["state"] == "succeeded", job)
    st, doc = c.call("GET", "/v1/models/resp")
    check("first_version_still_serving", doc["serving"] == 1, doc)
    st, doc = c.call("POST", "/v1/models/resp/versions/2:promote")
    check("promote_200", st == 200 and doc["serving"] == 2, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     {"records": recs[:1]})
    check("predict_uses_promoted", st == 200 and doc["version"] == 2, doc)
    st, doc = c.call("POST", "/v1/models/resp/versions/1:promote")
    st, doc = c.call("POST", "/v1/models/resp:predict",
                     {"records": recs[:1]})
    check("rollback_serves_v1", st == 200 and doc["version"] == 1, doc)
    st, doc = c.call("POST", "/v1/models/resp/versions/9:promote")
    check("promote_unknown_version_404", st == 404, doc)

    # import a CLI-trained model, download it back
    cli_model = os.path.join(tmp, "cli.lift")
    subprocess.run([LIFT, "train", SMALL, "--target", "y", "--positive",
                    "yes", "--drop", "duration", "-o", cli_model],
                   check=True, capture_output=True)
    with open(cli_model, "rb") as f:
        blob = f.read()
    st, doc = c.call("PUT", "/v1/models/imported/versions", blob,
                     ctype="application/octet-stream")
    check("import_201", st == 201 and doc["version"] == 1 and
          doc["promoted"], doc)
    st, back = c.call("GET", "/v1/models/imported/versions/1/file", raw=True)
    check("download_identical", st == 200 and back == blob, len(back))
    st, doc = c.call("PUT", "/v1/models/broken/versions", blob[:-5],
                     ctype="application/octet-stream")
    check("import_corrupt_422", st == 422, doc)
    st, doc = c.call("PUT", "/v1/models/broken/versions", blob,
                     ctype="text/csv")
    check("import_content_type_415", st == 415, doc)

    # cancel: queue two slow jobs behind each other, cancel the second
    slow = {"name": "slow", "dataset": "bank", "target": "y",
            "positive": "yes", "cv_folds": 5}
    st1, d1 = c.call("POST", "/v1/models", slow)
    st2, d2 = c.call("POST", "/v1/models", slow)
    st, doc = c.call("DELETE", f"/v1/jobs/{d2['job']['id']}")
    check("cancel_accepted", st == 202, doc)
    st, j2 = wait_job(c, d2["job"]["id"])
    check("cancelled_job_state", j2["state"] == "cancelled", j2)
    st, doc = c.call("DELETE", f"/v1/jobs/{d1['job']['id']}")
    t0 = time.time()
    st, j1 = wait_job(c, d1["job"]["id"])
    check("running_job_cancelled_fast", j1["state"] in
          ("cancelled", "succeeded") and time.time() - t0 < 10, j1)
    st, doc = c.call("DELETE", f"/v1/jobs/{d1['job']['id']}")
    check("cancel_finished_409", st == 409, doc)

    # trees through the same routes: TreeSHAP explanations
    st, doc = c.call("POST", "/v1/models",
                     {"name": "trees", "dataset": "bank", "target": "y",
                      "positive": "yes", "model": "gbdt",
                      "drop": ["duration"],
                      "params": {"trees": 30, "depth": 3}})
    st, job = wait_job(c, doc["job"]["id"]) if st == 202 else (st, doc)
    check("gbdt_trained_as_job", job.get("state") == "succeeded", job)
    st, doc = c.call("POST", "/v1/models/trees:predict",
                     {"records": recs[:3], "explain": True})
    ok = check("gbdt_predict_explain", st == 200 and
               len(doc["explanations"]) == 3, doc)
    if ok:
        worst = max(abs(e["base"] + sum(e["contributions"].values()) -
                        e["raw"]) for e in doc["explanations"])
        check("gbdt_treeshap_sums_to_raw", worst < 1e-6, worst)
    # the version's info: gain importance beside |SHAP| (shares sum to 1)
    st, doc = c.call("GET", "/v1/models/trees")
    imp = doc["versions"][0].get("info", {}).get("importance", []) \
        if st == 200 else []
    check("gbdt_info_gain_importance",
          len(imp) == 19 and all("gain" in e and "gain_total" in e
                                 for e in imp) and
          abs(sum(e["gain"] for e in imp) - 1) < 1e-6 and
          max(imp, key=lambda e: e["gain"])["column"] == "nr.employed", imp)

    # deletes
    st, doc = c.call("DELETE", "/v1/models/resp/versions/2")
    check("delete_version", st == 200, doc)
    st, doc = other.call("DELETE", "/v1/models/resp")
    check("isolation_delete_404", st == 404, doc)
    st, doc = c.call("DELETE", "/v1/models/resp")
    check("delete_model", st == 200, doc)
    st, doc = c.call("POST", "/v1/models/resp:predict", {"records": []})
    check("deleted_model_404", st == 404, doc)
    st, doc = c.call("DELETE", "/v1/datasets/bank")
    check("delete_dataset", st == 200, doc)
    st, doc = c.call("GET", "/v1/datasets/bank")
    check("deleted_dataset_404", st == 404, doc)


if __name__ == "__main__":
    main()
