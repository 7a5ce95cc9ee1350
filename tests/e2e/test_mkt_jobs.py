#!/usr/bin/python3
"""End-to-end test of POST /v1/uplift, /v1/segments and /v1/rfm as jobs.

A real `lift serve` (one job worker, two HTTP threads) on Hillstrom:
- every bad request is answered at once with its 4xx and no job: bad
  JSON, another Content-Type, a body that is not an object, a missing or
  bad dataset name, an unknown dataset, a member that is an array, a bad
  option, an unknown column, a treatment column with one level, k larger
  than the rows, a date column that is not a date;
- a good one is 202 with a job of its kind; GET /v1/jobs/{id} shows the
  stage the run is at ("bootstrap" with its resample, "choose_k" or
  "kmeans"), and the result once it succeeded;
- DELETE /v1/jobs/{id} stops a running uplift between bootstrap
  resamples and a running k-means between Lloyd iterations: the job ends
  "cancelled" within seconds, short of its last step; a queued job is
  cancelled before it starts;
- while such jobs run, the HTTP threads stay free: /healthz and a dataset
  read answer;
- the audit log has uplift.run / segments.run / rfm.run with the dataset
  as object and the answer's status, 202 or the 4xx;
- the server stops cleanly (exit 0; under ASan no sanitizer report).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marketing_common import (scratch, HILLSTROM, Server, check, error_code,  # noqa
                              error_message, finish)

UPLIFT = {"dataset": "hill", "treatment": "segment", "control": "No E-Mail",
          "target": "visit", "drop": "spend,conversion"}


def wait_stage(s, job_id, stages, timeout=120):
    """Polls the job until its progress is at one of stages; returns the
    last job document."""
    deadline = time.time() + timeout
    doc = {}
    while time.time() < deadline:
        st, doc = s.call("GET", f"/v1/jobs/{job_id}")
        if st != 200 or doc["state"] not in ("queued", "running"):
            return doc
        if (doc.get("progress") or {}).get("stage") in stages:
            return doc
        time.sleep(0.05)
    return doc


def errors(s, tmp):
    one = os.path.join(tmp, "one.csv")
    with open(one, "w") as f:
        f.write("arm,y,x\n" + "".join(f"ctrl,{i % 2},{i}\n"
                                      for i in range(40)))
    bad_date = os.path.join(tmp, "bad_date.csv")
    with open(bad_date, "w") as f:
        f.write("customer,date,amount\na,2008-01-02,5\nb,2008-13-45,7\n")
    s.upload("one", open(one, "rb").read())
    s.upload("baddate", open(bad_date, "rb").read())
    cases = [
        ("bad_json_400", "/v1/segments", b'{"dataset": "hill", "k": ', 400,
         "bad JSON at line 1"),
        ("not_an_object_422", "/v1/rfm", b'["hill"]', 422,
         "must be a JSON object"),
        ("no_dataset_422", "/v1/segments", {"k": 4}, 422, "'dataset'"),
        ("bad_dataset_name_422", "/v1/segments",
         {"dataset": "../etc", "k": 4}, 422, "not a dataset name"),
        ("unknown_dataset_404", "/v1/uplift", dict(UPLIFT, dataset="nope"),
         404, "no dataset 'nope'"),
        ("array_member_422", "/v1/segments",
         {"dataset": "hill", "columns": ["recency"]}, 422,
         "'columns' must be a string, a number or a boolean"),
        ("bad_option_422", "/v1/uplift", dict(UPLIFT, bootstrap=-1), 422,
         "'bootstrap'"),
        ("unknown_option_422", "/v1/segments", {"dataset": "hill", "kk": 4},
         422, "'kk'"),
        ("unknown_column_404", "/v1/segments",
         {"dataset": "hill", "k": 4, "columns": "recency,nope"}, 404,
         "no column 'nope'"),
        ("one_level_treatment_422", "/v1/uplift",
         {"dataset": "one", "treatment": "arm", "control": "ctrl",
          "target": "y"}, 422, "one level"),
        ("k_larger_than_rows_422", "/v1/segments",
         {"dataset": "baddate", "k": 3, "columns": "amount"}, 422,
         "larger than the 2 rows"),
        ("date_not_a_date_422", "/v1/rfm",
         {"dataset": "baddate", "customer": "customer", "date": "date",
          "amount": "amount"}, 422, "not an ISO 8601 date"),
        ("rfm_incomplete_mode_422", "/v1/rfm",
         {"dataset": "hill", "recency": "recency"}, 422, "either"),
    ]
    for name, path, body, want, text in cases:
        t0 = time.time()
        if isinstance(body, bytes):
            st, doc = s.call("POST", path, body, "application/json")
        else:
            st, doc = s.call("POST", path, body)
        check(name, st == want and text in error_message(doc) and
              "job" not in doc, (st, doc, round(time.time() - t0, 2)))
    st, doc = s.call("POST", "/v1/segments", b'{"dataset":"hill","k":2}',
                     "text/plain")
    check("other_content_type_415", st == 415 and
          error_code(doc) == "unsupported_media", doc)


def main():
    tmp = scratch("lift-mktjobs-")
    with Server() as s:
        st, _ = s.upload("hill", HILLSTROM)
        check("upload", st == 201, st)
        errors(s, tmp)

        # an uplift with many resamples, stopped between two of them
        st, up = s.call("POST", "/v1/uplift", dict(UPLIFT, bootstrap=100000))
        check("uplift_202", st == 202 and up["job"]["kind"] == "uplift" and
              up["job"]["state"] == "queued" and up["dataset"] == "hill", up)
        up_id = up["job"]["id"]
        # queued behind it (one worker): cancelled before it starts
        st, seg = s.call("POST", "/v1/segments", {"dataset": "hill", "k": 3})
        check("segments_202_queued", st == 202, seg)
        st, doc = s.call("GET", f"/v1/jobs/{seg['job']['id']}")
        check("queued_job_kind", st == 200 and doc["kind"] == "segments" and
              doc["state"] == "queued", doc)
        st, doc = s.call("DELETE", f"/v1/jobs/{seg['job']['id']}")
        check("queued_cancel_202", st == 202, doc)
        doc = s.job(seg["job"]["id"], 30)
        check("queued_job_cancelled_before_start",
              doc["state"] == "cancelled" and doc["started"] is None and
              "before it started" in (doc["error"] or ""), doc)

        doc = wait_stage(s, up_id, ("bootstrap",))
        pg = doc.get("progress") or {}
        check("uplift_progress_bootstrap", doc["state"] == "running" and
              pg.get("stage") == "bootstrap" and pg.get("steps") == 100000 and
              1 <= pg.get("step", 0) <= 100000, doc)
        t0 = time.time()
        st, _ = s.call("GET", "/healthz")
        st2, _ = s.call("GET", "/v1/datasets/hill")
        check("http_free_while_uplift_runs", st == 200 and st2 == 200 and
              time.time() - t0 < 5, (st, st2, time.time() - t0))
        st, doc = s.call("DELETE", f"/v1/jobs/{up_id}")
        check("uplift_cancel_202", st == 202 and doc["state"] == "cancelling",
              doc)
        t0 = time.time()
        doc = s.job(up_id, 60)
        took = time.time() - t0
        check("uplift_cancelled_between_resamples",
              doc["state"] == "cancelled" and took < 10 and
              "cancelled" in (doc["error"] or "") and doc["result"] is None,
              (doc, took))

        # a k-means with k chosen (10 candidates), stopped in Lloyd's loop
        st, km = s.call("POST", "/v1/segments",
                        {"dataset": "hill", "k-max": 10, "n-init": 10,
                         "drop": "visit,conversion,spend"})
        check("segments_auto_k_202", st == 202, km)
        doc = wait_stage(s, km["job"]["id"], ("kmeans", "choose_k"))
        pg = doc.get("progress") or {}
        check("segments_progress", doc["state"] == "running" and
              pg.get("stage") in ("kmeans", "choose_k") and
              pg.get("steps") in (10, 9), doc)
        s.call("DELETE", f"/v1/jobs/{km['job']['id']}")
        t0 = time.time()
        doc = s.job(km["job"]["id"], 60)
        check("segments_cancelled_in_kmeans", doc["state"] == "cancelled" and
              time.time() - t0 < 10 and doc["result"] is None, doc)

        # the RFM job's result is the report
        st, doc, res, job = s.run("/v1/rfm",
                                  {"dataset": "hill", "recency": "recency",
                                   "frequency": "mens", "monetary": "history"})
        check("rfm_job_succeeded", st == 202 and job and
              job["kind"] == "rfm" and job["state"] == "succeeded" and res and
              res["mode"] == "columns" and res["customers"] == 64000 and
              sum(g["customers"] for g in res["segments"]) == 64000 and
              res["dataset"] == "hill", job)
        if job:
            st, doc = s.call("DELETE", f"/v1/jobs/{job['id']}")
            check("finished_job_cancel_409", st == 409 and
                  "already succeeded" in error_message(doc), doc)

        st, audit = s.call("GET", "/v1/audit?limit=100")
        entries = audit.get("entries", []) if st == 200 else []
        seen = {(e["action"], e["object"], e["status"]) for e in entries}
        check("audit_runs", ("uplift.run", "hill", 202) in seen and
              ("segments.run", "hill", 202) in seen and
              ("rfm.run", "hill", 202) in seen and
              ("uplift.run", "one", 422) in seen and
              ("rfm.run", "baddate", 422) in seen and
              ("uplift.run", "nope", 404) in seen, sorted(seen))
        check("audit_no_body_values", all(
            e["object"] in ("", "hill", "one", "baddate", "nope") or
            e["action"] in ("dataset.create", "job.cancel")
            for e in entries), entries)
    with open(os.path.join(s.tmp, "server.log")) as f:
        log = f.read()
    check("server_exits_cleanly", s.proc.returncode == 0 and
          "ERROR: AddressSanitizer" not in log and
          "ERROR: LeakSanitizer" not in log and "runtime error" not in log,
          (s.proc.returncode, log[-2000:]))
    finish()


if __name__ == "__main__":
    main()
