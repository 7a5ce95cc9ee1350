#!/usr/bin/python3
"""End-to-end test of deleting a tenant (DELETE /v1/tenants/{name} and
`lift admin tenant delete`): the real binary on 127.0.0.1 with an
ephemeral port and a temporary data dir, the small bank marketing file
(bank-additional.csv, 4119 rows).

Two tenants each upload the file, train a logistic model, score the file
as a bulk job (a result file) and predict; one of them also has a long
MLP training job running and a second job queued behind it when the
operator deletes it. Checked: the answer (200, the counts, the bytes
equal to the tenant's storage usage, the jobs cancelled), the tenant's
key is 401 on the very next request (it was just used, so it was in the
authentication cache), its loaded model is dropped (/metrics), its jobs
stopped (the one job worker serves another job at once), its files are gone from the
data dir's blobs/ (and nothing is left in tmp/), the other tenant's
datasets, model, job result and predictions are byte for byte what they
were and a new scoring job of it works, the tenant list, the audit log
(its entries kept and found by name, tenant.delete recorded for the
operator), a new tenant of the same name starts empty with a new id,
errors (a tenant key 403, unknown 404, bad name 422, twice 404), and
`lift admin check` after a restart. Then `lift admin tenant delete` beside
the running server: its JSON, the key refused once the server's key cache
expires, the files gone, the tenant's training job in the server stopped
(the one job worker serves another job within a minute, where the job's
100000 epochs would hold it for many), the audit entry (key 0), and its
errors.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import json
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
SMALL = os.path.join(DATA, "bank-marketing", "bank-additional.csv")
N_SMALL = 4119

results = {"passed": 0, "failed": 0}


def report(name, ok, why=""):
    if ok:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {str(why)[:600]}")
    sys.stdout.flush()


def check(name, cond, why=""):
    report(name, bool(cond), why)
    return bool(cond)


def call(port, method, path, body=None, key=None, ctype=None, raw=False):
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
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            payload, status = resp.read(), resp.status
    except urllib.error.HTTPError as e:
        payload, status = e.read(), e.code
    if raw:
        return status, payload
    try:
        doc = json.loads(payload) if payload else None
    except ValueError:
        doc = {"_raw": payload[:200]}
    return status, doc


def message(doc):
    try:
        return doc["error"]["message"]
    except (TypeError, KeyError):
        return ""


def lift(*args):
    return subprocess.run([LIFT, *args], capture_output=True, text=True)


def admin(ddir, *args):
    out = lift("admin", *args, "--data-dir", ddir, "--json")
    if out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return json.loads(out.stdout)


def start(ddir):
    port_file = os.path.join(ddir, "..", "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(ddir, "..", "server.log"), "a")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file],
                            stderr=log, text=True)
    for _ in range(600):
        if os.path.exists(port_file):
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return proc, int(text)
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + server_log(ddir))
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def stop(proc, ddir):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
        check("sigterm_stops_cleanly", rc == 0,
              f"exit {rc}; server log:\n{server_log(ddir)}")
    except subprocess.TimeoutExpired:
        proc.kill()
        check("sigterm_stops_cleanly", False, "did not stop in 60 s")


def server_log(ddir, lines=40):
    try:
        with open(os.path.join(ddir, "..", "server.log")) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no server log)"


def wait_job(port, key, job_id, states=("succeeded", "failed", "cancelled"),
             limit=300):
    deadline = time.time() + limit
    doc = None
    while time.time() < deadline:
        st, doc = call(port, "GET", f"/v1/jobs/{job_id}", key=key)
        if st != 200 or doc["state"] in states:
            return doc
        time.sleep(0.05)
    return doc


def blobs(ddir, sub="blobs"):
    return sorted(os.listdir(os.path.join(ddir, sub)))


RECORDS = [{"age": 41, "job": "admin.", "marital": "married",
            "education": "university.degree", "default": "no",
            "housing": "yes", "loan": "no", "contact": "cellular",
            "month": "may", "day_of_week": "mon", "campaign": 1,
            "pdays": 999, "previous": 0, "poutcome": "nonexistent",
            "emp.var.rate": -1.8, "cons.price.idx": 92.893,
            "cons.conf.idx": -46.2, "euribor3m": 1.299,
            "nr.employed": 5099.1},
           {"age": 63, "job": "retired", "marital": "divorced",
            "contact": "telephone", "month": "oct", "poutcome": "success",
            "pdays": 3, "previous": 2}]


def snapshots_loaded(port, op):
    """The lift_snapshots_loaded gauge of /metrics (-1 when absent)."""
    st, text = call(port, "GET", "/metrics", key=op, raw=True)
    for line in text.decode().splitlines() if st == 200 else []:
        if line.startswith("lift_snapshots_loaded "):
            return float(line.split()[1])
    return -1


def setup_tenant(port, key, bank):
    """A dataset, a trained model, a finished scoring job with its result:
    the scoring job's id and result bytes."""
    st, doc = call(port, "POST", "/v1/datasets?name=bank&sep=semicolon", bank,
                   key=key)
    if st != 201 or doc["rows"] != N_SMALL:
        raise RuntimeError(f"upload: {st} {doc}")
    st, doc = call(port, "POST", "/v1/models",
                   {"name": "resp", "dataset": "bank", "target": "y",
                    "positive": "yes", "model": "logistic",
                    "drop": ["duration"]}, key=key)
    if st != 202:
        raise RuntimeError(f"train: {st} {doc}")
    job = wait_job(port, key, doc["job"]["id"])
    if job["state"] != "succeeded":
        raise RuntimeError(f"training failed: {job}")
    st, doc = call(port, "POST", "/v1/models/resp:score", {"dataset": "bank"},
                   key=key)
    if st != 202:
        raise RuntimeError(f"score: {st} {doc}")
    job = wait_job(port, key, doc["job"]["id"])
    if job["state"] != "succeeded":
        raise RuntimeError(f"score failed: {job}")
    st, text = call(port, "GET", f"/v1/jobs/{job['id']}/result", key=key,
                    raw=True)
    if st != 200:
        raise RuntimeError(f"result: {st}")
    return job["id"], text


def view(port, key, job_id):
    """What a tenant sees of its data, to compare before and after."""
    out = {}
    for path in ("/v1/datasets", "/v1/datasets/bank", "/v1/models",
                 "/v1/models/resp", f"/v1/jobs/{job_id}"):
        out[path] = call(port, "GET", path, key=key)
    out["result"] = call(port, "GET", f"/v1/jobs/{job_id}/result", key=key,
                         raw=True)
    out["file"] = call(port, "GET", "/v1/models/resp/versions/1/file",
                       key=key, raw=True)
    out["predict"] = call(port, "POST", "/v1/models/resp:predict",
                          {"records": RECORDS, "explain": True}, key=key)
    return out


def api_delete(tmp, ddir, port, keys):
    acme, rival, op = keys["acme"], keys["rival"], keys["op"]
    with open(SMALL, "rb") as f:
        bank = f.read()
    acme_job, _ = setup_tenant(port, acme, bank)
    acme_blobs = set(blobs(ddir))
    rival_job, rival_csv = setup_tenant(port, rival, bank)
    rival_blobs = set(blobs(ddir)) - acme_blobs
    before_rival = view(port, rival, rival_job)
    keys["rival_scores"] = (before_rival["predict"][1] or {}).get("scores")
    check("rival_sees_its_data", all(
        v[0] == 200 for v in before_rival.values()),
        {k: v[0] for k, v in before_rival.items()})
    # acme: its model loaded for scoring, then a long job and a queued one
    st, _ = call(port, "POST", "/v1/models/resp:predict",
                 {"records": RECORDS}, key=acme)
    check("acme_predicts_before", st == 200, st)
    st, doc = call(port, "POST", "/v1/models",
                   {"name": "long", "dataset": "bank", "target": "y",
                    "positive": "yes", "model": "mlp", "drop": ["duration"],
                    "params": {"epochs": 100000, "hidden": "64,64"}}, key=acme)
    long_id = doc["job"]["id"] if st == 202 else None
    st2, doc2 = call(port, "POST", "/v1/models/resp:score",
                     {"dataset": "bank"}, key=acme)
    queued_id = doc2["job"]["id"] if st2 == 202 else None
    job = wait_job(port, acme, long_id, states=("running", "succeeded",
                                                "failed", "cancelled"))
    check("long_job_running", job and job["state"] == "running", job)
    st, doc = call(port, "GET", f"/v1/jobs/{queued_id}", key=acme)
    check("second_job_queued", st == 200 and doc["state"] == "queued", doc)
    loaded = snapshots_loaded(port, op)
    check("both_models_loaded", loaded == 2, loaded)
    st, quota = call(port, "GET", "/v1/quota", key=acme)
    used = quota["storage_bytes"]["used"] if st == 200 else -1
    all_blobs = set(blobs(ddir))

    # -- refused
    st, doc = call(port, "DELETE", "/v1/tenants/acme", key=acme)
    check("tenant_key_403", st == 403 and "operator key" in message(doc),
          f"{st} {doc}")
    st, doc = call(port, "DELETE", "/v1/tenants/acme", key=rival)
    check("other_tenant_key_403", st == 403, f"{st} {doc}")
    st, doc = call(port, "DELETE", "/v1/tenants/acme")
    check("no_key_401", st == 401, f"{st} {doc}")
    st, doc = call(port, "DELETE", "/v1/tenants/nobody", key=op)
    check("unknown_tenant_404", st == 404 and
          message(doc) == "no tenant 'nobody'", f"{st} {doc}")
    st, doc = call(port, "DELETE", "/v1/tenants/.bad", key=op)
    check("bad_name_422", st == 422, f"{st} {doc}")
    st, doc = call(port, "GET", "/v1/datasets", key=acme)
    check("refusals_deleted_nothing", st == 200 and
          len(doc["datasets"]) == 1 and set(blobs(ddir)) == all_blobs,
          f"{st} {doc}")

    # -- the delete
    t0 = time.time()
    st, doc = call(port, "DELETE", "/v1/tenants/acme", key=op)
    took = time.time() - t0
    print(f"# delete answered in {took:.2f} s: {json.dumps(doc)}")
    check("delete_200", st == 200 and doc.get("deleted") == "acme", doc)
    if st != 200:
        return
    # files: its dataset, its resp version, its score result (the long
    # job's version never got a file)
    check("delete_counts", doc["keys"] == 1 and doc["datasets"] == 1 and
          doc["models"] == 2 and doc["versions"] == 2 and
          doc["jobs"] == 4 and doc["results"] == 1 and
          doc["files"] == 3 and doc["jobs_cancelled"] == 2, doc)
    check("delete_bytes_are_its_storage", doc["bytes"] == used > 0,
          f"{doc['bytes']} vs {used}")
    st, doc = call(port, "GET", "/v1/datasets", key=acme)
    check("key_401_at_once", st == 401, f"{st} {doc}")
    st, doc = call(port, "POST", "/v1/models/resp:predict",
                   {"records": RECORDS}, key=acme)
    check("predict_401_at_once", st == 401, f"{st} {doc}")
    loaded = snapshots_loaded(port, op)
    check("its_loaded_model_dropped", loaded == 1, loaded)
    left = set(blobs(ddir))
    check("its_files_gone", left == rival_blobs and len(left) == 3,
          f"left {sorted(left)}, rival {sorted(rival_blobs)}")
    check("no_temp_files", blobs(ddir, "tmp") == [], blobs(ddir, "tmp"))
    # one job worker (the default): had the long training not stopped, a
    # new job would wait many minutes behind its 100000 epochs
    st, doc = call(port, "POST", "/v1/models/resp:score", {"dataset": "bank"},
                   key=rival)
    t0 = time.time()
    job = wait_job(port, rival, doc["job"]["id"], limit=60) if st == 202 \
        else doc
    check("its_jobs_stopped_worker_free", job.get("state") == "succeeded",
          f"{job} after {time.time() - t0:.1f} s")
    st, text = call(port, "GET", f"/v1/jobs/{job.get('id')}/result",
                    key=rival, raw=True)
    check("other_tenant_scores_again", st == 200 and text == rival_csv, st)

    # -- the other tenant: unchanged, and it still works
    after = view(port, rival, rival_job)
    same = [k for k in before_rival if before_rival[k] == after[k]]
    check("other_tenant_unchanged", len(same) == len(before_rival),
          [k for k in before_rival if k not in same])

    # -- the operator's views
    st, doc = call(port, "GET", "/v1/tenants", key=op)
    check("tenant_list_without_it", st == 200 and
          [t["name"] for t in doc["tenants"]] == ["rival"], doc)
    st, doc = call(port, "GET", "/v1/tenants/acme", key=op)
    check("tenant_get_404", st == 404, f"{st} {doc}")
    st, doc = call(port, "DELETE", "/v1/tenants/acme", key=op)
    check("delete_twice_404", st == 404 and
          message(doc) == "no tenant 'acme'", f"{st} {doc}")
    st, doc = call(port, "GET", "/v1/audit?tenant=acme&limit=1000", key=op)
    acts = [e["action"] for e in doc.get("entries", [])]
    check("audit_keeps_its_entries_by_name", st == 200 and
          acts.count("dataset.create") == 1 and
          acts.count("model.train") == 2 and
          acts.count("model.score") == 2 and
          all(e["tenant"] == "acme" for e in doc["entries"]), f"{st} {doc}")
    st, doc = call(port, "GET", "/v1/audit?limit=1000", key=op)
    dels = [e for e in doc.get("entries", [])
            if e["action"] == "tenant.delete"]
    # newest first; the tenant keys' 403 and the 401 are not audited
    check("audit_records_tenant_delete", st == 200 and
          [(e["object"], e["status"]) for e in dels] ==
          [("acme", 404), ("acme", 200), (".bad", 422), ("nobody", 404)] and
          all(e["tenant"] is None and e["key"] == keys["op_id"]
              for e in dels), dels)
    out = lift("admin", "audit", "--data-dir", ddir, "--tenant", "acme")
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    check("admin_audit_finds_deleted_tenant", out.returncode == 0 and
          len(lines) == len(acts) and
          all(e["tenant"] == "acme" for e in lines), out.stderr)

    # -- the name again: a new tenant, a new id, nothing of the old one
    st, doc = call(port, "POST", "/v1/tenants", {"name": "acme"}, key=op)
    new_key = doc["key"]["key"] if st == 201 else None
    check("name_reusable_new_id", st == 201 and doc["id"] > keys["acme_id"],
          doc)
    if new_key:
        st, doc = call(port, "GET", "/v1/datasets", key=new_key)
        st2, doc2 = call(port, "POST", "/v1/models/resp:predict",
                         {"records": RECORDS}, key=new_key)
        st3, doc3 = call(port, "GET", "/v1/audit", key=new_key)
        check("new_tenant_starts_empty", st == 200 and
              doc["datasets"] == [] and st2 == 404 and st3 == 200 and
              doc3["entries"] == [], f"{doc} {st2} {doc3}")
        keys["acme2"] = new_key


def cli_delete(ddir, port, keys):
    op = keys["op"]
    carol = admin(ddir, "tenant", "create", "carol")
    ck = carol["key"]
    st, doc = call(port, "POST", "/v1/datasets?name=mini&sep=semicolon",
                   "a;b\n1;2\n3;4\n", key=ck)
    check("carol_uploads", st == 201, f"{st} {doc}")
    st, _ = call(port, "GET", "/v1/datasets", key=ck)  # cached key
    st, doc = call(port, "POST", "/v1/datasets?name=bank&sep=semicolon",
                   open(SMALL, "rb").read(), key=ck)
    # a model of carol's, loaded in the server by a prediction
    st, doc = call(port, "POST", "/v1/models",
                   {"name": "quick", "dataset": "bank", "target": "y",
                    "positive": "yes", "model": "logistic",
                    "drop": ["duration"]}, key=ck)
    job = wait_job(port, ck, doc["job"]["id"]) if st == 202 else doc
    st, doc = call(port, "POST", "/v1/models/quick:predict",
                   {"records": RECORDS}, key=ck)
    check("carol_predicts", job.get("state") == "succeeded" and st == 200,
          f"{job} {st} {doc}")
    st, blob = call(port, "GET", "/v1/models/quick/versions/1/file", key=ck,
                    raw=True)
    quick_bytes = len(blob) if st == 200 else -1
    loaded = snapshots_loaded(port, op)
    # a long training job of carol's, running in the server
    st, doc = call(port, "POST", "/v1/models",
                   {"name": "long", "dataset": "bank", "target": "y",
                    "positive": "yes", "model": "mlp", "drop": ["duration"],
                    "params": {"epochs": 100000, "hidden": "64,64"}}, key=ck)
    job = wait_job(port, ck, doc["job"]["id"], states=(
        "running", "succeeded", "failed", "cancelled")) if st == 202 else doc
    check("carol_long_job_running", job.get("state") == "running", job)
    before = set(blobs(ddir))
    out = lift("admin", "tenant", "delete", "carol", "--data-dir", ddir,
               "--json")
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        doc = {}
    check("cli_delete_json", out.returncode == 0 and
          doc.get("deleted") == "carol" and doc.get("id") == carol["id"] and
          doc.get("datasets") == 2 and doc.get("files") == 3 and
          doc.get("bytes") == 12 + len(open(SMALL, "rb").read()) +
          quick_bytes and
          doc.get("keys") == 1 and doc.get("jobs") == 2 and
          doc.get("models") == 2 and doc.get("versions") == 2,
          out.stdout + out.stderr)
    check("cli_delete_removes_files", len(before - set(blobs(ddir))) == 3
          and set(blobs(ddir)) < before, sorted(before - set(blobs(ddir))))
    # the server's sweep notices the deletion within a second or so and
    # drops carol's loaded model (5 s of slack for a loaded machine)
    t0 = time.time()
    now = loaded
    while time.time() < t0 + 5:
        now = snapshots_loaded(port, op)
        if now == loaded - 1:
            break
        time.sleep(0.05)
    print(f"# carol's model dropped by the server after "
          f"{time.time() - t0:.2f} s")
    check("cli_delete_drops_its_loaded_model_in_the_server",
          loaded >= 1 and now == loaded - 1, (loaded, now))
    t0 = time.time()
    said = ""
    while time.time() < t0 + 5 and not said:
        said = next((x for x in server_log(ddir, 200).splitlines()
                     if f"tenant {carol['id']} was deleted by another "
                     f"process" in x), "")
        time.sleep(0.05)
    check("cli_delete_noticed_in_the_server_log",
          "dropped 1 loaded models" in said, said or server_log(ddir))
    # the server's worker (one) is free again soon: the job noticed its
    # row was gone at its next progress report
    st, doc = call(port, "POST", "/v1/models/resp:score", {"dataset": "bank"},
                   key=keys["rival"])
    t0 = time.time()
    job = wait_job(port, keys["rival"], doc["job"]["id"], limit=60) \
        if st == 202 else doc
    check("cli_delete_stops_its_job_in_the_server",
          job.get("state") == "succeeded", f"{job} {time.time() - t0:.1f} s")
    # the server caches a key for a second (AUTH_TTL_NS); 3 s of slack for
    # a loaded machine
    t0 = time.time()
    st = 0
    while time.time() < t0 + 3:
        st, _ = call(port, "GET", "/v1/datasets", key=ck)
        if st == 401:
            break
        time.sleep(0.05)
    print(f"# carol's key refused by the server after {time.time() - t0:.2f} s")
    check("cli_delete_key_401_after_the_key_cache", st == 401, st)
    out = lift("admin", "tenant", "delete", "carol", "--data-dir", ddir)
    check("cli_delete_twice_fails", out.returncode == 1 and
          "no tenant 'carol'" in out.stderr, out.stderr)
    out = lift("admin", "tenant", "delete", "--data-dir", ddir)
    check("cli_delete_without_name_usage", out.returncode == 2 and
          "tenant name" in out.stderr, out.stderr)
    out = lift("admin", "tenant", "delete", "../x", "--data-dir", ddir)
    check("cli_delete_bad_name_fails", out.returncode == 1 and
          "invalid tenant name" in out.stderr, out.stderr)
    st, doc = call(port, "GET", "/v1/audit?limit=5", key=op)
    dels = [x for x in doc.get("entries", [])
            if x["action"] == "tenant.delete"] if st == 200 else []
    e = dels[0] if dels else {}
    check("cli_delete_audited", e.get("action") == "tenant.delete" and
          e.get("object") == "carol" and e.get("key") == 0 and
          e.get("tenant") is None and e.get("status") == 200, doc)
    out = lift("admin", "tenant", "create", "dave", "--data-dir", ddir)
    check("cli_human_delete", out.returncode == 0, out.stderr)
    out = lift("admin", "tenant", "delete", "dave", "--data-dir", ddir)
    check("cli_human_delete_says_what", out.returncode == 0 and
          out.stdout.startswith("tenant 'dave' deleted (id ") and
          "1 keys, 0 datasets" in out.stdout, out.stdout + out.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="lift-tdel-")
    ddir = os.path.join(tmp, "data")
    a = admin(ddir, "tenant", "create", "acme")
    b = admin(ddir, "tenant", "create", "rival")
    o = admin(ddir, "key", "create", "--operator")
    keys = {"acme": a["key"], "rival": b["key"], "op": o["key"],
            "acme_id": a["id"], "op_id": o["id"]}
    proc, port = start(ddir)
    try:
        api_delete(tmp, ddir, port, keys)
        cli_delete(ddir, port, keys)
    finally:
        stop(proc, ddir)
    out = lift("admin", "check", "--data-dir", ddir, "--json")
    try:
        rep = json.loads(out.stdout)
    except ValueError:
        rep = {}
    check("check_passes_after_stop", out.returncode == 0 and
          rep.get("orphans") == [] and rep.get("missing") == [],
          out.stdout + out.stderr)
    proc, port = start(ddir)
    try:
        st, doc = call(port, "POST", "/v1/models/resp:predict",
                       {"records": RECORDS}, key=keys["rival"])
        st2, _ = call(port, "GET", "/v1/datasets", key=keys["acme"])
        check("after_restart_other_predicts_same_deleted_key_401",
              st == 200 and doc.get("scores") == keys.get("rival_scores") and
              len(doc["scores"]) == 2 and st2 == 401, f"{st} {doc} {st2}")
    finally:
        stop(proc, ddir)
    out = lift("admin", "check", "--data-dir", ddir)
    check("check_passes_after_restart", out.returncode == 0,
          out.stdout + out.stderr)
    print(f"{results['passed']} passed, {results['failed']} failed")
    if not results["failed"]:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        report("setup", False, e)
        print(f"{results['passed']} passed, {results['failed']} failed")
        sys.exit(1)
