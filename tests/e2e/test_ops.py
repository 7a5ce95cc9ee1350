#!/usr/bin/python3
"""End-to-end test of the operator's side of `lift serve`: roles per route,
GET /metrics, --metrics-listen, tenant and key management over the API,
the audit log (GET /v1/audit, `lift admin audit`), and that no key and no
record value reaches the server's log, the audit log or /metrics.

The real binary on 127.0.0.1 with ephemeral ports and a temporary data
dir; the small bank marketing file (bank-additional.csv, 4119 rows) for a
logistic model that scores in milliseconds.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import csv
import atexit
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
SMALL = os.path.join(DATA, "bank-marketing", "bank-additional.csv")

# values sent in requests that must never be written anywhere but the
# data dir's blobs
SECRET_CELL = "SECRETCELL_4242"
SECRET_JOB = "zz-secret-job-9181"
SECRET_NUM = "98765.4321"

WRITE_ACTIONS = {"dataset.create", "dataset.delete", "model.train",
                 "model.delete", "version.import", "version.delete",
                 "version.promote", "job.cancel", "tenant.create",
                 "key.create", "key.revoke"}

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
        with urllib.request.urlopen(req, timeout=60) as resp:
            payload, status = resp.read(), resp.status
            ctype_out = resp.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        payload, status = e.read(), e.code
        ctype_out = e.headers.get("Content-Type")
    if raw:
        return status, payload.decode(), ctype_out
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
    resp.read()
    conn.close()
    return resp.status


def cut_upload(port, key, name):
    """Sends the headers and part of a declared body, then hangs up."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((f"POST /v1/datasets?name={name} HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {key}\r\nContent-Type: text/csv\r\n"
               "Content-Length: 1000\r\n\r\na,b\n1,2\n").encode())
    time.sleep(0.2)
    s.close()


def message(doc):
    try:
        return doc["error"]["message"]
    except (TypeError, KeyError):
        return ""


def admin(ddir, *args):
    out = subprocess.run([LIFT, "admin", *args, "--data-dir", ddir, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return json.loads(out.stdout)


# ---- the Prometheus text format (0.0.4), parsed strictly -----------------

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_metrics(text):
    """{(name, frozenset(labels)): value}; raises ValueError on a line
    that breaks the format (HELP and TYPE before a family's samples, one
    declaration per family, well-formed labels and values, histogram
    buckets cumulative with +Inf equal to _count)."""
    types, samples = {}, {}
    helped = set()
    if not text.endswith("\n"):
        raise ValueError("no final line feed")
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if name in helped:
                raise ValueError(f"second HELP for {name}")
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if name not in helped or name in types:
                raise ValueError(f"TYPE out of place: {line}")
            if typ not in ("counter", "gauge", "histogram"):
                raise ValueError(f"bad type: {line}")
            types[name] = typ
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError(f"bad sample line: {line!r}")
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and types.get(base) == "histogram":
                family = base
        if family not in types:
            raise ValueError(f"sample before its TYPE: {line}")
        labels = {}
        rest = labels_text
        while rest:
            lm = LABEL_RE.match(rest)
            if not lm:
                raise ValueError(f"bad labels: {labels_text!r}")
            labels[lm.group(1)] = lm.group(2)
            rest = rest[lm.end():]
            if rest.startswith(","):
                rest = rest[1:]
            elif rest:
                raise ValueError(f"bad labels: {labels_text!r}")
        v = float(value)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise ValueError(f"duplicate series: {line}")
        samples[key] = v
    # histograms: cumulative buckets, +Inf == _count
    series = {}
    for (name, labels), v in samples.items():
        if name.endswith("_bucket"):
            d = dict(labels)
            le = d.pop("le")
            series.setdefault((name[:-7], frozenset(d.items())), []).append(
                (float(le), v))
    for (base, labels), buckets in series.items():
        buckets.sort()
        counts = [c for _, c in buckets]
        if counts != sorted(counts) or buckets[-1][0] != float("inf"):
            raise ValueError(f"buckets of {base} {dict(labels)} not cumulative")
        if samples.get((base + "_count", labels)) != counts[-1]:
            raise ValueError(f"+Inf of {base} {dict(labels)} is not _count")
        if (base + "_sum", labels) not in samples:
            raise ValueError(f"no _sum for {base} {dict(labels)}")
    return types, samples


def val(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(port, key):
    status, text, ctype = call(port, "GET", "/metrics", key=key, raw=True)
    if status != 200:
        raise RuntimeError(f"/metrics: {status} {text[:200]}")
    return text, ctype


# ---- the test ------------------------------------------------------------

def records(n, secret=False):
    with open(SMALL, newline="") as f:
        lines = f.read().splitlines()
    names = [h.strip('"') for h in lines[0].split(";")]
    out = []
    for line in lines[1:n + 1]:
        rec = {}
        for k, v in zip(names, [v.strip('"') for v in line.split(";")]):
            if k in ("y", "duration"):
                continue
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v
        out.append(rec)
    if secret:
        out[0]["job"] = SECRET_JOB
        out[0]["euribor3m"] = float(SECRET_NUM)
    return out


def wait_job(port, key, job_id, limit=120):
    deadline = time.time() + limit
    doc = None
    while time.time() < deadline:
        status, doc = call(port, "GET", f"/v1/jobs/{job_id}", key=key)
        if status != 200 or doc["state"] in ("succeeded", "failed",
                                             "cancelled"):
            return doc
        time.sleep(0.1)
    return doc


def run(tmp, ddir, port, mport, keys, key_ids):
    acme, rival, op = keys["acme"], keys["rival"], keys["op"]
    texts = []  # everything that must hold no secret

    # -- roles
    st, doc = call(port, "GET", "/metrics", key=acme)
    check("tenant key gets 403 on /metrics",
          st == 403 and "operator key" in message(doc), f"{st} {doc}")
    st, doc = call(port, "GET", "/metrics")
    check("no key gets 401 on /metrics", st == 401, f"{st} {doc}")
    denied = [call(port, "GET", "/v1/tenants", key=acme),
              call(port, "POST", "/v1/tenants", {"name": "x"}, key=acme),
              call(port, "GET", "/v1/tenants/acme/keys", key=acme),
              call(port, "POST", "/v1/tenants/acme/keys", key=acme),
              call(port, "DELETE", f"/v1/keys/{key_ids['acme']}", key=acme)]
    check("tenant key gets 403 on tenant management",
          all(s == 403 and "operator key" in message(d) for s, d in denied),
          str(denied))
    denied = [call(port, "GET", "/v1/datasets", key=op),
              call(port, "GET", "/v1/models", key=op),
              call(port, "POST", "/v1/models/resp:predict",
                   {"records": []}, key=op)]
    check("operator key gets 403 on tenant data routes",
          all(s == 403 and "tenant key" in message(d) for s, d in denied),
          str(denied))

    # -- tenant writes (audited) and reads (not)
    with open(SMALL, "rb") as f:
        bank = f.read()
    n_writes = 0
    st, doc = call(port, "POST", "/v1/datasets?name=bank&sep=semicolon",
                   bank, key=acme)
    n_writes += 1
    check("upload the bank file", st == 201 and doc["rows"] == 4119,
          f"{st} {doc}")
    secret_csv = f"a,b\n{SECRET_CELL},1\nplain,2\n".encode()
    st, _ = call(port, "POST", "/v1/datasets?name=secrets", secret_csv,
                 key=acme)
    n_writes += 1
    st2, _ = call(port, "POST", "/v1/datasets?name=bank&sep=semicolon",
                  bank, key=acme)
    n_writes += 1
    check("a duplicate upload fails with 409", st == 201 and st2 == 409,
          f"{st} {st2}")
    st, doc = call(port, "POST", "/v1/models",
                   {"name": "resp", "dataset": "bank", "target": "y",
                    "positive": "yes", "drop": ["duration"],
                    "model": "logistic"}, key=acme)
    n_writes += 1
    job = wait_job(port, acme, doc["job"]["id"]) if st == 202 else doc
    check("train a logistic model", job and job.get("state") == "succeeded",
          f"{st} {job}")
    st, _ = call(port, "DELETE", "/v1/datasets/nothing-here", key=acme)
    n_writes += 1
    st2, _ = call(port, "POST", "/v1/models", b'{"name": oops',
                  key=acme, ctype="application/json")
    n_writes += 1
    st3 = headers_only(port, acme, "/v1/datasets?name=huge", 100 << 20)
    n_writes += 1
    check("failed writes answer 404, 400 and 413 (before the handler)",
          st == 404 and st2 == 400 and st3 == 413, f"{st} {st2} {st3}")
    call(port, "POST", "/v1/datasets?name=x", b"a\n1\n", key="lift_bad")
    st, _ = call(port, "POST", "/v1/datasets?name=r1", b"a,b\n1,2\n",
                 key=rival)
    check("rival uploads", st == 201, str(st))

    # -- /metrics rises with traffic
    before, ctype = scrape(port, op)
    check("/metrics content type is the 0.0.4 text",
          ctype == "text/plain; version=0.0.4", str(ctype))
    try:
        _, m0 = parse_metrics(before)
        check("/metrics parses as Prometheus text", True)
    except ValueError as e:
        check("/metrics parses as Prometheus text", False, str(e))
        return
    texts.append(before)
    pr = "/v1/models/{name}:predict"
    for i in range(3):
        st, doc = call(port, "POST", "/v1/models/resp:predict",
                       {"records": records(5, secret=(i == 0))}, key=acme)
        if st != 200 or len(doc["scores"]) != 5:
            check("predict 5 records", False, f"{st} {doc}")
    st, _ = call(port, "POST", "/v1/models/resp:predict", {"records": 3},
                 key=acme)
    check("a bad predict body is 422", st == 422, str(st))
    call(port, "GET", "/v1/datasets", key=acme)
    call(port, "POST", "/v1/models/resp:evaluate", {"dataset": "bank"},
         key=acme)
    after, _ = scrape(port, op)
    texts.append(after)
    types, m1 = parse_metrics(after)
    check("predictions counter rises by the records scored",
          val(m1, "lift_predictions_total") -
          val(m0, "lift_predictions_total") == 15,
          f"{val(m0, 'lift_predictions_total')} -> "
          f"{val(m1, 'lift_predictions_total')}")
    d200 = (val(m1, "lift_http_requests_total", route=pr, method="POST",
                status="200") -
            val(m0, "lift_http_requests_total", route=pr, method="POST",
                status="200"))
    d422 = (val(m1, "lift_http_requests_total", route=pr, method="POST",
                status="422") -
            val(m0, "lift_http_requests_total", route=pr, method="POST",
                status="422"))
    check("request counter by route and status rises", d200 == 3 and
          d422 == 1, f"200: +{d200}, 422: +{d422}")
    dh = (val(m1, "lift_http_request_duration_seconds_count", route=pr,
              method="POST") -
          val(m0, "lift_http_request_duration_seconds_count", route=pr,
              method="POST"))
    check("duration histogram count rises", dh == 4, f"+{dh}")
    check("metric types", types.get("lift_http_requests_total") == "counter"
          and types.get("lift_http_request_duration_seconds") == "histogram"
          and types.get("lift_models") == "gauge", str(types))
    check("403s on /metrics and 201s of uploads counted",
          val(m1, "lift_http_requests_total", route="/metrics",
              method="GET", status="403") >= 1 and
          val(m1, "lift_http_requests_total", route="/v1/datasets",
              method="POST", status="201") == 3, "")
    check("gauges from the store", val(m1, "lift_tenants") == 2 and
          val(m1, "lift_datasets") == 3 and val(m1, "lift_models") == 1,
          f"tenants {val(m1, 'lift_tenants')} datasets "
          f"{val(m1, 'lift_datasets')} models {val(m1, 'lift_models')}")
    check("jobs counted by kind and outcome",
          val(m1, "lift_jobs_total", kind="train", state="succeeded") == 1
          and val(m1, "lift_jobs", state="queued") == 0
          and val(m1, "lift_jobs", state="running") == 0, "")
    check("memory, uptime and loaded snapshots",
          val(m1, "lift_process_resident_memory_bytes") > 1e6 and
          val(m1, "lift_uptime_seconds") > 0 and
          val(m1, "lift_snapshots_loaded") == 1, "")
    routes = {dict(k[1]).get("route") for k in m1 if dict(k[1]).get("route")}
    check("route labels are templates, never object names",
          all(r.startswith("/") or r in ("unmatched", "other")
              for r in routes) and
          not any(n in r for r in routes
                  for n in ("resp", "bank", "secrets", "nothing-here")),
          str(sorted(routes)))

    # -- the metrics listener
    st, text, ctype = call(mport, "GET", "/metrics", raw=True)
    ok = st == 200 and ctype == "text/plain; version=0.0.4"
    if ok:
        texts.append(text)
        _, m2 = parse_metrics(text)
        ok = val(m2, "lift_predictions_total") == val(
            m1, "lift_predictions_total")
    check("--metrics-listen serves /metrics without a key", ok,
          f"{st} {text[:200]}")
    st, _ = call(mport, "GET", "/v1/datasets", key=acme)
    st2, _ = call(mport, "POST", "/metrics", b"x")
    check("the metrics listener serves nothing else", st == 404 and
          st2 == 405, f"{st} {st2}")

    # -- tenant management over the API
    st, doc = call(port, "POST", "/v1/tenants", {"name": "gamma"}, key=op)
    ok = st == 201 and doc["name"] == "gamma" and \
        doc["key"]["key"].startswith("lift_")
    check("operator creates a tenant with its first key", ok, f"{st} {doc}")
    if not ok:
        return
    gkey, gkey_id = doc["key"]["key"], doc["key"]["id"]
    keys["gamma1"] = gkey
    st, doc = call(port, "GET", "/v1/datasets", key=gkey)
    check("the new tenant's key works", st == 200 and doc["datasets"] == [],
          f"{st} {doc}")
    st, doc = call(port, "POST", "/v1/tenants", {"name": "gamma"}, key=op)
    st2, doc2 = call(port, "POST", "/v1/tenants", {"name": "bad/name"},
                     key=op)
    st3, _ = call(port, "POST", "/v1/tenants", {"nom": "x"}, key=op)
    check("tenant create: 409 existing, 422 bad or missing name",
          st == 409 and st2 == 422 and st3 == 422, f"{st} {st2} {st3}")
    st, doc = call(port, "GET", "/v1/tenants", key=op)
    names = [t["name"] for t in doc.get("tenants", [])]
    check("tenant list", st == 200 and names == ["acme", "rival", "gamma"],
          str(doc))
    st, doc = call(port, "GET", "/v1/tenants/acme", key=op)
    st2, _ = call(port, "GET", "/v1/tenants/nope", key=op)
    check("tenant get with counts; 404 unknown",
          st == 200 and doc["name"] == "acme" and doc["datasets"] == 2 and
          doc["models"] == 1 and st2 == 404, f"{st} {doc} {st2}")
    st, doc = call(port, "POST", "/v1/tenants/gamma/keys", key=op)
    ok = st == 201 and doc["tenant"] == "gamma" and doc["key"] != gkey
    check("operator makes a second key", ok, f"{st} {doc}")
    gkey2 = doc.get("key", "")
    keys["gamma2"] = gkey2
    st, doc = call(port, "GET", "/v1/tenants/gamma/keys", key=op)
    check("key list shows ids, never a secret",
          st == 200 and len(doc["keys"]) == 2 and
          all("key" not in k for k in doc["keys"]) and
          gkey not in json.dumps(doc) and gkey2 not in json.dumps(doc),
          str(doc))
    st, doc = call(port, "DELETE", f"/v1/keys/{gkey_id}", key=op)
    check("revoke a key", st == 200 and doc == {"id": gkey_id,
                                                 "revoked": True}, str(doc))
    st, _ = call(port, "GET", "/v1/datasets", key=gkey)
    st2, _ = call(port, "GET", "/v1/datasets", key=gkey2)
    check("a revoked key is refused at once; the other works",
          st == 401 and st2 == 200, f"{st} {st2}")
    st, _ = call(port, "DELETE", "/v1/keys/999999", key=op)
    st2, _ = call(port, "DELETE", "/v1/keys/abc", key=op)
    st3, _ = call(port, "POST", "/v1/tenants/nope/keys", key=op)
    check("key routes: 404 unknown key or tenant, 422 bad id",
          st == 404 and st2 == 422 and st3 == 404, f"{st} {st2} {st3}")

    # -- the audit log
    cut_upload(port, acme, "cut")
    n_writes += 1
    for _ in range(50):  # the server notices the hang-up on its own time
        st, doc = call(port, "GET", "/v1/audit?limit=1", key=acme)
        if st == 200 and doc["entries"] and \
                doc["entries"][0]["object"] == "cut":
            break
        time.sleep(0.1)
    check("an upload cut short is audited with status 0",
          doc["entries"][0]["status"] == 0 and
          not os.listdir(os.path.join(ddir, "tmp")), str(doc))
    st, doc = call(port, "GET", "/v1/audit", key=acme)
    texts.append(json.dumps(doc))
    entries = doc.get("entries", []) if st == 200 else []
    ids = [e["id"] for e in entries]
    check("audit: newest first", st == 200 and ids == sorted(ids,
                                                             reverse=True),
          str(ids))
    check("audit: every write of the tenant, reads not",
          len(entries) == n_writes and
          all(e["action"] in WRITE_ACTIONS for e in entries),
          f"{n_writes} writes, entries {entries}")
    got = {(e["action"], e["object"], e["status"]) for e in entries}
    want = {("dataset.create", "bank", 201), ("dataset.create", "secrets", 201),
            ("dataset.create", "bank", 409), ("model.train", "resp", 202),
            ("dataset.delete", "nothing-here", 404),
            ("model.train", "", 400), ("dataset.create", "huge", 413),
            ("dataset.create", "cut", 0)}
    check("audit: who, what and outcome, failed attempts included",
          got == want and all(e["tenant"] == "acme" and
                              e["key"] == key_ids["acme"] and
                              e["time"] > 1.7e9 for e in entries),
          f"{sorted(got)}")
    st, doc = call(port, "GET", "/v1/audit", key=rival)
    check("audit: a tenant sees only its own",
          st == 200 and [e["object"] for e in doc["entries"]] == ["r1"],
          str(doc))
    st, doc = call(port, "GET", "/v1/audit?tenant=acme", key=rival)
    check("audit: another tenant's log is 403 for a tenant key", st == 403,
          f"{st} {doc}")
    paged, before, pages = [], None, 0
    while pages < 10:
        q = "/v1/audit?limit=2" + (f"&before={before}" if before else "")
        st, doc = call(port, "GET", q, key=acme)
        if st != 200:
            break
        pages += 1
        paged += doc["entries"]
        before = doc["next_before"]
        if before is None:
            break
    check("audit: paging with limit and before",
          [e["id"] for e in paged] == ids and pages == (len(ids) + 1) // 2,
          f"{pages} pages for {len(ids)} entries")
    bad = [call(port, "GET", f"/v1/audit?{q}", key=acme)[0]
           for q in ("limit=0", "limit=abc", "limit=1001", "before=-3",
                     "limit=")]
    check("audit: bad limit or cursor is 422", bad == [422] * 5, str(bad))
    st, doc = call(port, "GET", "/v1/audit?tenant=acme", key=op)
    check("audit: the operator reads a tenant's log",
          st == 200 and [e["id"] for e in doc["entries"]] == ids, str(st))
    st, _ = call(port, "GET", "/v1/audit?tenant=nope", key=op)
    check("audit: unknown tenant is 404", st == 404, str(st))
    st, doc = call(port, "GET", "/v1/audit?limit=1000", key=op)
    texts.append(json.dumps(doc))
    ops_entries = [e for e in doc.get("entries", []) if e["tenant"] is None]
    got = [(e["action"], e["object"], e["status"]) for e in ops_entries]
    check("audit: operator actions recorded with tenant null",
          ("tenant.create", "gamma", 201) in got and
          ("tenant.create", "gamma", 409) in got and
          ("key.create", "gamma", 201) in got and
          ("key.revoke", str(gkey_id), 200) in got and
          ("key.revoke", "999999", 404) in got and
          all(e["key"] == key_ids["op"] for e in ops_entries), str(got))
    all_entries = doc.get("entries", [])

    # -- the export
    out_jsonl = os.path.join(tmp, "audit.jsonl")
    r = subprocess.run([LIFT, "admin", "audit", "--data-dir", ddir,
                        "-o", out_jsonl], capture_output=True, text=True)
    lines = open(out_jsonl).read().splitlines() if r.returncode == 0 else []
    exported = [json.loads(x) for x in lines]
    check("admin audit exports jsonl (every entry, newest first)",
          r.returncode == 0 and exported == all_entries,
          f"rc {r.returncode} {r.stderr} {len(exported)} vs "
          f"{len(all_entries)}")
    out_csv = os.path.join(tmp, "acme.csv")
    r = subprocess.run([LIFT, "admin", "audit", "--data-dir", ddir,
                        "--tenant", "acme", "--format", "csv", "-o", out_csv],
                       capture_output=True, text=True)
    rows = list(csv.DictReader(io.StringIO(open(out_csv).read()))) \
        if r.returncode == 0 else []
    check("admin audit exports csv of one tenant",
          r.returncode == 0 and [int(x["id"]) for x in rows] == ids and
          all(x["tenant"] == "acme" and x["time"].endswith("Z")
              for x in rows) and
          {(x["action"], x["object"], int(x["status"])) for x in rows} ==
          want, f"rc {r.returncode} {r.stderr} {rows[:2]}")
    left = [f for f in os.listdir(tmp) if ".tmp" in f]
    check("the export leaves no temp file", left == [], str(left))
    r1 = subprocess.run([LIFT, "admin", "audit", "--data-dir", ddir,
                         "--format", "xml"], capture_output=True, text=True)
    r2 = subprocess.run([LIFT, "admin", "audit", "--data-dir", ddir,
                         "--tenant", "nope"], capture_output=True, text=True)
    check("admin audit: bad format is a usage error, unknown tenant fails",
          r1.returncode == 2 and "jsonl or csv" in r1.stderr and
          r2.returncode == 1 and "nope" in r2.stderr,
          f"{r1.returncode} {r1.stderr} {r2.returncode} {r2.stderr}")
    texts.append(open(out_jsonl).read())
    texts.append(open(out_csv).read())
    final, _ = scrape(port, op)
    texts.append(final)
    return texts


def main():
    tmp = tempfile.mkdtemp(prefix="lift-ops-")
    atexit.register(lambda: results["failed"] or
                    shutil.rmtree(tmp, ignore_errors=True))
    ddir = os.path.join(tmp, "data")
    a = admin(ddir, "tenant", "create", "acme")
    b = admin(ddir, "tenant", "create", "rival")
    o = admin(ddir, "key", "create", "--operator")
    keys = {"acme": a["key"], "rival": b["key"], "op": o["key"]}
    key_ids = {"op": o["id"]}
    for k in admin(ddir, "key", "list"):
        if k["tenant"] in ("acme", "rival"):
            key_ids[k["tenant"]] = k["id"]
    port_file = os.path.join(tmp, "port")
    log_path = os.path.join(tmp, "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file,
                             "--metrics-listen", "127.0.0.1:0"],
                            stderr=log, text=True)
    texts = None
    try:
        for _ in range(600):
            if os.path.exists(port_file) or proc.poll() is not None:
                break
            time.sleep(0.05)
        port = int(open(port_file).read())
        m = re.search(r"metrics on \S+, port (\d+)", open(log_path).read())
        check("serve prints the metrics port", m, open(log_path).read())
        if m:
            texts = run(tmp, ddir, port, int(m.group(1)), keys, key_ids)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
            check("sigterm stops cleanly", rc == 0, f"exit {rc}")
        except subprocess.TimeoutExpired:
            proc.kill()
            check("sigterm stops cleanly", False, "did not stop in 60 s")
    log.close()
    if texts is not None:
        texts.append(open(log_path).read())
        found = [(s[:12] + "...") for s in
                 list(keys.values()) + [SECRET_CELL, SECRET_JOB, SECRET_NUM]
                 if any(s in t for t in texts)]
        check("no key and no record value in the log, the audit log or "
              "/metrics", not found and len(texts) >= 8, str(found))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
