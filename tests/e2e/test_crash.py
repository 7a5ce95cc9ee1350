#!/usr/bin/python3
"""End-to-end crash test of `lift serve`: kill -9 at random moments while
clients upload datasets, train models and promote versions, then restart
on the same data dir and check that nothing acknowledged was lost and
nothing half-written is visible.

Setup: a tenant made by `lift admin`, the server on an ephemeral port
(--port-file) with two HTTP and two job threads, and two training
datasets uploaded before the first kill (the bank sample and the full
bank file). Then LIFT_CRASH_KILLS cycles (default 50; scripts/check.sh
runs 15 under ASan), each:

  1. four client threads work against the server: an uploader (the bank
     sample, the full bank file, Hillstrom and the SMS corpus, sent in
     blocks of 16 to 256 KiB with short pauses so that a kill lands
     mid-body; and deletes of older uploads), two trainers (logistic,
     logistic with 3-fold cross-validation, gbdt with 150 trees on the
     full file, mlp; each submits, polls its job every 30 ms and
     downloads the model file once the job succeeded) and a promoter (a
     random ready version of a model, again 0-30 ms after each answer);
  2. after a random delay the server gets SIGKILL (in one cycle of
     eight a first restart is also killed within 60 ms of its start, so
     the clean-up on open is interrupted too);
  3. the server restarts on the same data dir, and:
     (e) DIR/tmp is empty;
     (a) `lift admin check --data-dir D --json` exits 0 and says ok, with
         no missing, wrong-size or unreferenced blob and no temp file;
     (b) every acknowledged dataset (201 seen) is listed with its rows and
         bytes, and its blob is byte-identical to the file sent; every
         acknowledged model version (job seen succeeded) is ready and
         downloads byte-identical to the file downloaded after its job;
         every model predicts through its serving version (which is the
         one last promoted with a 200 answer, or one whose promotion was
         in flight), and every ready version predicts once through
         `lift predict` on its downloaded file;
     (c) nothing else is visible: a listed dataset was acknowledged or
         its upload was in flight at the kill (then it must be whole:
         rows, bytes and content as sent); a deleted one (200 seen) is
         gone; a ready version's job was acknowledged or in flight; the
         blobs folder holds exactly one file per listed dataset and ready
         version;
     (d) no version is "training" and no known job is queued or running:
         a job that was in flight at the kill is "failed" with an error
         that says "interrupted" (or "succeeded" when it finished just
         before the kill), its version failed (or ready) to match, and a
         job seen finished keeps its state.
     Objects committed but not acknowledged (the answer was lost with
     the server) are legitimate; from the check on they count as
     acknowledged and must survive every later kill.

The seed (LIFT_CRASH_SEED, else the clock) is printed first; it fixes
every choice of the clients and the kill delays, though not the
scheduling of the threads. Prints `ok - name` / `not ok - name: why`,
then `N passed, N failed`; exits 1 when anything failed. Standard
library only.
"""
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
KILLS = int(os.environ.get("LIFT_CRASH_KILLS", "50"))
SEED = int(os.environ.get("LIFT_CRASH_SEED", str(time.time_ns() % 10**9)))

BANK = os.path.join(DATA, "bank-marketing", "bank-additional-full.csv")
SMALL = os.path.join(DATA, "bank-marketing", "bank-additional.csv")
HILL = os.path.join(DATA, "hillstrom", "hillstrom.csv")
SMS = os.path.join(DATA, "sms-spam-collection", "SMSSpamCollection")

# (file, query, rows per data/README.md, weight)
UPLOADS = [
    (SMALL, "sep=semicolon", 4119, 4),
    (BANK, "sep=semicolon", 41188, 2),
    (HILL, "sep=comma", 64000, 1),
    (SMS, "sep=tab&header=false&quote=false&utf8=replace", 5574, 2),
]
# (model name, training request without the name); trained on the two
# datasets uploaded before the first kill
BANK_COMMON = {"target": "y", "positive": "yes", "drop": ["duration"]}
TRAININGS = [
    ("lr", dict(BANK_COMMON, dataset="small", model="logistic")),
    ("lrcv", dict(BANK_COMMON, dataset="small", model="logistic",
                  cv_folds=3)),
    ("gb", dict(BANK_COMMON, dataset="full", model="gbdt",
                params={"trees": 150})),
    ("nn", dict(BANK_COMMON, dataset="full", model="mlp",
                params={"epochs": 3, "hidden": "32"})),
]
FINAL = ("succeeded", "failed", "cancelled")
MAX_UPLOADS_KEPT = 4

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


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Lost(Exception):
    """The server went away mid-request (the kill)."""


def call(port, key, method, path, body=None, ctype="application/json",
         timeout=20):
    """One request on its own connection: (status, body bytes). Raises
    Lost when the connection breaks."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": "Bearer " + key}
    if body is not None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        headers["Content-Type"] = ctype
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise Lost(str(e))
    finally:
        conn.close()


def call_json(port, key, method, path, body=None):
    st, data = call(port, key, method, path, body)
    try:
        return st, json.loads(data) if data else None
    except ValueError:
        return st, {"_raw": data[:200].decode(errors="replace")}


def upload(port, key, name, query, data, rng):
    """POSTs data as a dataset in blocks with short pauses, so that a kill
    can land mid-body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", f"/v1/datasets?name={name}&{query}")
        conn.putheader("Authorization", "Bearer " + key)
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        at = 0
        while at < len(data):
            n = rng.choice((16384, 65536, 262144))
            conn.send(data[at:at + n])
            at += n
            if rng.random() < 0.3:
                time.sleep(0.002)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, json.loads(body) if body else None
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise Lost(str(e))
    finally:
        conn.close()


class World:
    """What the clients know. Guarded by mu while the threads run."""

    def __init__(self):
        self.mu = threading.Lock()
        # name -> {"file", "rows", "bytes", "sha", "state"}; state is
        # pending (upload sent, no answer), acked, deleting (delete sent,
        # no answer)
        self.datasets = {}
        self.deleted = set()  # deletes answered 200
        # (model, version) -> {"acked": job seen succeeded,
        #                       "sha": of the downloaded file or None,
        #                       "verified": predicted once by the CLI}
        self.versions = {}
        # job id -> {"model", "version", "last": state last seen}
        self.jobs = {}
        self.submits_lost = 0  # POST /v1/models with no answer
        self.serving = {}  # model -> version last known to serve
        self.promoting = {}  # model -> version of a promotion in flight
        self.errors = []  # unexpected answers while the server was up
        self.n_uploads = 0
        self.acks = {"uploads": 0, "deletes": 0, "jobs": 0, "promotes": 0}

    def error(self, what):
        with self.mu:
            self.errors.append(what)


class Cycle:
    """The clients of one cycle: threads that stop at the first broken
    connection (the kill) or when told to."""

    def __init__(self, world, port, key, rng, cycle, datas, tmp):
        self.w = world
        self.port = port
        self.key = key
        self.cycle = cycle
        self.datas = datas
        self.tmp = tmp
        self.stop = threading.Event()
        self.rngs = [random.Random(rng.getrandbits(64)) for _ in range(4)]
        self.threads = [
            threading.Thread(target=self.guard, args=(self.uploader, 0)),
            threading.Thread(target=self.guard, args=(self.trainer, 1)),
            threading.Thread(target=self.guard, args=(self.trainer, 2)),
            threading.Thread(target=self.guard, args=(self.promoter, 3)),
        ]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
            if t.is_alive():
                self.w.error("a client thread hung after the kill")

    def guard(self, fn, i):
        try:
            fn(self.rngs[i])
        except Lost:
            pass
        except Exception as e:  # a bug in the test or an odd answer
            self.w.error(f"{fn.__name__}: {type(e).__name__}: {e}")

    def uploader(self, rng):
        w = self.w
        while not self.stop.is_set():
            with w.mu:
                mine = sorted((n for n, d in w.datasets.items()
                               if d["state"] == "acked" and
                               n.startswith("u")),
                              key=lambda n: w.datasets[n]["order"])
            if len(mine) > MAX_UPLOADS_KEPT:
                name = mine[0]
                with w.mu:
                    w.datasets[name]["state"] = "deleting"
                st, doc = call_json(self.port, self.key, "DELETE",
                                    f"/v1/datasets/{name}")
                with w.mu:
                    if st == 200:
                        del w.datasets[name]
                        w.deleted.add(name)
                        w.acks["deletes"] += 1
                    else:
                        w.errors.append(f"delete {name}: {st} {doc}")
                        return
                continue
            path, query, rows, _ = rng.choices(
                UPLOADS, weights=[u[3] for u in UPLOADS])[0]
            data, digest = self.datas[path]
            with w.mu:
                w.n_uploads += 1
                name = f"u{self.cycle}_{w.n_uploads}"
                w.datasets[name] = {"file": path, "rows": rows,
                                    "bytes": len(data), "sha": digest,
                                    "state": "pending",
                                    "order": w.n_uploads}
            st, doc = upload(self.port, self.key, name, query, data, rng)
            with w.mu:
                d = w.datasets[name]
                if st == 201 and doc["rows"] == rows and \
                        doc["bytes"] == len(data):
                    d["state"] = "acked"
                    w.acks["uploads"] += 1
                else:
                    w.errors.append(f"upload {name} of {path}: {st} "
                                    f"{str(doc)[:300]}")
                    del w.datasets[name]
                    return

    def trainer(self, rng):
        w = self.w
        while not self.stop.is_set():
            model, req = rng.choice(TRAININGS)
            body = dict(req, name=model)
            with w.mu:
                w.submits_lost += 1
            st, doc = call_json(self.port, self.key, "POST", "/v1/models",
                                body)
            with w.mu:
                w.submits_lost -= 1
                if st != 202:
                    w.errors.append(f"train {model}: {st} {doc}")
                    return
                job, version = doc["job"]["id"], doc["version"]
                w.jobs[job] = {"model": model, "version": version,
                               "last": "queued"}
            state = "queued"
            while state not in FINAL:
                if self.stop.is_set():
                    return
                time.sleep(0.03)
                st, doc = call_json(self.port, self.key, "GET",
                                    f"/v1/jobs/{job}")
                if st != 200:
                    w.error(f"job {job}: {st} {doc}")
                    return
                state = doc["state"]
                with w.mu:
                    w.jobs[job]["last"] = state
            if state != "succeeded" or doc["result"]["version"] != version:
                w.error(f"job {job} of {model} v{version} ended {state}: "
                        f"{doc.get('error')} {doc.get('result')}")
                return
            with w.mu:
                w.versions[(model, version)] = {"acked": True, "sha": None,
                                                "verified": False}
                w.acks["jobs"] += 1
                if model not in w.serving and doc["result"]["promoted"]:
                    w.serving[model] = version
            st, data = call(self.port, self.key, "GET",
                            f"/v1/models/{model}/versions/{version}/file")
            if st != 200:
                w.error(f"download {model} v{version}: {st} {data[:200]}")
                return
            with w.mu:
                w.versions[(model, version)]["sha"] = sha256(data)

    def promoter(self, rng):
        w = self.w
        while not self.stop.is_set():
            time.sleep(rng.uniform(0.0, 0.03))
            with w.mu:
                choices = []
                for (m, v), info in w.versions.items():
                    if info["acked"] and m in w.serving and \
                            w.serving[m] != v and m not in w.promoting:
                        choices.append((m, v))
                if not choices:
                    continue
                m, v = rng.choice(sorted(choices))
                w.promoting[m] = v
            st, doc = call_json(self.port, self.key, "POST",
                                f"/v1/models/{m}/versions/{v}:promote")
            with w.mu:
                del w.promoting[m]
                if st == 200 and doc["serving"] == v:
                    w.serving[m] = v
                    w.acks["promotes"] += 1
                else:
                    w.errors.append(f"promote {m} v{v}: {st} {doc}")
                    return


class Server:
    def __init__(self, tmp, ddir):
        self.tmp = tmp
        self.ddir = ddir
        self.proc = None
        self.port = None
        self.log = os.path.join(tmp, "server.log")

    def spawn(self):
        self.port_file = os.path.join(self.tmp, "port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [LIFT, "serve", "--data-dir", self.ddir, "--listen",
                 "127.0.0.1:0", "--port-file", self.port_file, "--threads",
                 "2", "--job-threads", "2", "--timeout", "10"],
                stdout=log, stderr=log)

    def wait_port(self):
        for _ in range(1200):
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read().strip())
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: "
                                   + self.tail())
            time.sleep(0.01)
        raise RuntimeError("server did not start in 12 s")

    def start(self):
        self.spawn()
        self.wait_port()

    def kill(self):
        """SIGKILL; False when the server had already died by itself."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return alive

    def tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no server log)"


def admin(ddir, *args):
    out = subprocess.run([LIFT, "admin", *args, "--data-dir", ddir, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return json.loads(out.stdout)


def registry_blobs(ddir):
    """Dataset name -> blob file name, read from the registry (read-only)."""
    db = sqlite3.connect(f"file:{ddir}/registry.db?mode=ro", uri=True,
                         timeout=10)
    try:
        return dict(db.execute("SELECT name, blob FROM datasets"))
    finally:
        db.close()


def verify(k, w, srv, key, tmp, tiny, record, seen_blobs):
    """The checks after restart k; updates w to what is now durable."""
    tag = f"kill {k}"
    port = srv.port
    ddir = srv.ddir

    # (e) the clean-up on open ran before the port file was written
    left = os.listdir(os.path.join(ddir, "tmp"))
    check(f"{tag}: tmp/ is empty after restart", not left, left)

    # (a) the integrity check, beside the live server
    out = subprocess.run([LIFT, "admin", "check", "--data-dir", ddir,
                          "--json"], capture_output=True, text=True)
    try:
        rep = json.loads(out.stdout)
    except ValueError:
        rep = {}
    check(f"{tag}: lift admin check ok",
          out.returncode == 0 and rep.get("ok") is True and
          rep.get("integrity") == "ok" and not rep.get("missing") and
          not rep.get("size_mismatch") and not rep.get("orphans") and
          not rep.get("temp"),
          f"exit {out.returncode}: {out.stdout[:600]} {out.stderr[:300]}")

    # (b)(c) datasets
    st, doc = call_json(port, key, "GET", "/v1/datasets")
    listed = {d["name"]: d for d in doc["datasets"]} if st == 200 else {}
    blobs = registry_blobs(ddir)
    bad = []
    for name, d in sorted(w.datasets.items()):
        got = listed.get(name)
        if d["state"] == "acked" and not got:
            bad.append(f"acknowledged dataset {name} is gone")
    for name, got in sorted(listed.items()):
        d = w.datasets.get(name)
        if name in w.deleted:
            bad.append(f"deleted dataset {name} is back")
            continue
        if d is None:
            bad.append(f"dataset {name} was never sent")
            continue
        if got["rows"] != d["rows"] or got["bytes"] != d["bytes"]:
            bad.append(f"dataset {name}: {got['rows']} rows, {got['bytes']} "
                       f"bytes; sent {d['rows']} rows, {d['bytes']} bytes")
            continue
        blob = blobs.get(name)
        if blob not in seen_blobs:
            try:
                with open(os.path.join(ddir, "blobs", blob), "rb") as f:
                    digest = sha256(f.read())
            except (OSError, TypeError) as e:
                bad.append(f"dataset {name}: blob {blob}: {e}")
                continue
            if digest != d["sha"]:
                bad.append(f"dataset {name}: blob differs from "
                           f"{os.path.basename(d['file'])}")
                continue
            seen_blobs.add(blob)
    check(f"{tag}: datasets are exactly the acknowledged ones, whole "
          f"({len(listed)} listed)", st == 200 and not bad,
          f"{st}: " + "; ".join(bad[:5]))
    # committed but unacknowledged uploads now count as acknowledged;
    # the rest never happened
    for name in list(w.datasets):
        if name in listed:
            w.datasets[name]["state"] = "acked"
        else:
            del w.datasets[name]

    # (b)(c)(d) models, versions, jobs
    st, doc = call_json(port, key, "GET", "/v1/models")
    names = sorted(m["name"] for m in doc["models"]) if st == 200 else []
    bad = []
    n_ready = 0
    state_of = {}
    error_of = {}
    for m in names:
        st, md = call_json(port, key, "GET", f"/v1/models/{m}")
        if st != 200:
            bad.append(f"model {m}: {st} {md}")
            continue
        for ver in md["versions"]:
            v = ver["version"]
            state_of[(m, v)] = ver["state"]
            error_of[(m, v)] = ver["error"] or ""
            if ver["state"] == "ready":
                n_ready += 1
        serving = md["serving"]
        known = w.serving.get(m)
        allowed = {known, w.promoting.get(m)} - {None}
        if known is None:  # the first version to finish became it
            ok = serving is None or state_of.get((m, serving)) == "ready"
        else:
            ok = serving in allowed
        if not ok:
            bad.append(f"model {m} serves v{serving}, expected one of "
                       f"{sorted(allowed)}")
        if serving is not None:
            w.serving[m] = serving
            st, p = call_json(port, key, "POST", f"/v1/models/{m}:predict",
                              {"records": [record]})
            if st != 200 or p["version"] != serving or \
                    not 0 < p["scores"][0] < 1:
                bad.append(f"predict {m}: {st} {str(p)[:200]}")
    w.promoting.clear()
    for (m, v), s in sorted(state_of.items()):
        if s == "training":
            bad.append(f"{m} v{v} is still training")
        elif s == "failed" and "interrupted" not in error_of[(m, v)]:
            bad.append(f"{m} v{v} failed: {error_of[(m, v)]}")
    for (m, v), info in sorted(w.versions.items()):
        if info["acked"] and state_of.get((m, v)) != "ready":
            bad.append(f"acknowledged {m} v{v} is {state_of.get((m, v))}")
    # jobs
    job_versions = {}
    for job, j in sorted(w.jobs.items()):
        mv = (j["model"], j["version"])
        job_versions[mv] = job
        st, jd = call_json(port, key, "GET", f"/v1/jobs/{job}")
        if st != 200:
            bad.append(f"job {job}: {st} {jd}")
            continue
        s = jd["state"]
        if j["last"] in FINAL and s != j["last"]:
            bad.append(f"job {job} was {j['last']}, now {s}")
        elif s not in ("succeeded", "failed"):
            bad.append(f"job {job} of {mv} is {s} after restart")
        elif s == "failed" and "interrupted" not in (jd["error"] or ""):
            bad.append(f"interrupted job {job} failed with: {jd['error']}")
        vs = state_of.get(mv)
        if (s == "succeeded") != (vs == "ready"):
            bad.append(f"job {job} {s} ({jd['error']}) but {mv[0]} "
                       f"v{mv[1]} is {vs}")
        j["last"] = s
        if s == "succeeded" and mv not in w.versions:
            w.versions[mv] = {"acked": True, "sha": None, "verified": False}
    # a ready version nobody asked for
    for mv, s in sorted(state_of.items()):
        if s == "ready" and mv not in w.versions and \
                (mv not in job_versions and w.submits_lost == 0):
            bad.append(f"{mv[0]} v{mv[1]} is ready but no job made it")
    check(f"{tag}: model versions and jobs consistent, interrupted ones "
          f"failed ({n_ready} ready, {len(w.jobs)} jobs)",
          not bad, "; ".join(bad[:5]))
    w.submits_lost = 0

    # every ready version downloads as acknowledged; new ones predict
    bad = []
    for mv, s in sorted(state_of.items()):
        if s != "ready":
            continue
        info = w.versions.setdefault(mv, {"acked": True, "sha": None,
                                          "verified": False})
        info["acked"] = True
        st, data = call(port, key, "GET",
                        f"/v1/models/{mv[0]}/versions/{mv[1]}/file")
        if st != 200:
            bad.append(f"download {mv}: {st}")
            continue
        digest = sha256(data)
        if info["sha"] is not None and info["sha"] != digest:
            bad.append(f"{mv[0]} v{mv[1]} is not the file downloaded "
                       f"after its job")
            continue
        info["sha"] = digest
        if not info["verified"]:
            path = os.path.join(tmp, "v.lift")
            with open(path, "wb") as f:
                f.write(data)
            out = subprocess.run([LIFT, "predict", path, tiny],
                                 capture_output=True, text=True)
            scores = [float(line.split(",")[-1])
                      for line in out.stdout.splitlines()[1:]]
            if out.returncode != 0 or len(scores) != 5 or \
                    not all(0 < x < 1 for x in scores):
                bad.append(f"lift predict with {mv}: {out.returncode} "
                           f"{out.stderr[:200]}")
                continue
            info["verified"] = True
    check(f"{tag}: ready versions download byte-identical and predict",
          not bad, "; ".join(bad[:5]))

    # (c)(e) nothing unreferenced in blobs/
    files = os.listdir(os.path.join(ddir, "blobs"))
    check(f"{tag}: blobs/ holds exactly the listed objects",
          len(files) == len(listed) + n_ready,
          f"{len(files)} files, {len(listed)} datasets + {n_ready} ready "
          f"versions")


def setup(w, srv, key, datas):
    """The two training datasets, before any kill."""
    for name, path in (("small", SMALL), ("full", BANK)):
        st, doc = upload(srv.port, key, name, "sep=semicolon",
                         datas[path][0], random.Random(0))
        if not check(f"setup: upload {name}", st == 201, doc):
            return False
        w.datasets[name] = {"file": path, "rows": doc["rows"],
                            "bytes": doc["bytes"], "sha": datas[path][1],
                            "state": "acked", "order": 0}
    return True


def main():
    print(f"# seed {SEED} (LIFT_CRASH_SEED={SEED} repeats the choices), "
          f"{KILLS} kills")
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="lift-crash-")
    ddir = os.path.join(tmp, "data")
    key = admin(ddir, "tenant", "create", "crash")["key"]
    datas = {}
    for path, *_ in UPLOADS:
        with open(path, "rb") as f:
            data = f.read()
        datas[path] = (data, sha256(data))
    with open(SMALL) as f:
        lines = f.read().splitlines()
    tiny = os.path.join(tmp, "tiny.csv")
    with open(tiny, "w") as f:
        f.write("\n".join(lines[:6]) + "\n")
    head = [h.strip('"') for h in lines[0].split(";")]
    record = {}
    for h, v in zip(head, lines[1].split(";")):
        if h not in ("y", "duration"):
            v = v.strip('"')
            try:
                record[h] = float(v)
            except ValueError:
                record[h] = v

    w = World()
    srv = Server(tmp, ddir)
    seen_blobs = set()
    t_start = time.monotonic()
    inflight = {"uploads": 0, "jobs running": 0, "jobs queued": 0,
                "promotions": 0, "restarts": 0}
    try:
        srv.start()
        if not setup(w, srv, key, datas):
            return
        for k in range(1, KILLS + 1):
            crng = random.Random(rng.getrandbits(64))
            cyc = Cycle(w, srv.port, key, crng, k, datas, tmp)
            delay = crng.uniform(0.05, 1.6)
            cyc.start()
            time.sleep(delay)
            with w.mu:
                up = sum(d["state"] in ("pending", "deleting")
                         for d in w.datasets.values())
                run = sum(j["last"] == "running" for j in w.jobs.values())
                que = sum(j["last"] == "queued" for j in w.jobs.values())
                pro = len(w.promoting)
            alive = srv.kill()
            cyc.join()
            if not check(f"kill {k}: server alive until the kill at "
                         f"{delay:.2f} s", alive,
                         f"exit {srv.proc.returncode}: {srv.tail()}"):
                break
            inflight["uploads"] += up > 0
            inflight["jobs running"] += run > 0
            inflight["jobs queued"] += que > 0
            inflight["promotions"] += pro > 0
            if not check(f"kill {k}: clients saw only expected answers",
                         not w.errors, "; ".join(w.errors[:3])):
                w.errors.clear()
            if crng.random() < 1 / 8:
                # kill a restart during its clean-up, then restart again
                srv.spawn()
                time.sleep(crng.uniform(0.0, 0.06))
                srv.kill()
                inflight["restarts"] += 1
            srv.start()
            verify(k, w, srv, key, tmp, tiny, record, seen_blobs)
        secs = time.monotonic() - t_start
        what = (f"kills landed during uploads ({inflight['uploads']}), "
                f"running jobs ({inflight['jobs running']}), queued jobs "
                f"({inflight['jobs queued']}), promotions "
                f"({inflight['promotions']}) and restarts "
                f"({inflight['restarts']}) in {secs:.0f} s")
        if KILLS >= 20:  # fewer kills may miss one by chance
            check(what, inflight["uploads"] and inflight["jobs running"] and
                  inflight["promotions"], inflight)
        else:
            print(f"# {what}")
        print(f"# acknowledged: {w.acks}")
        log = open(srv.log, errors="replace").read()
        check("server log has no assertion or sanitizer report",
              "assertion failed" not in log and "Sanitizer" not in log,
              srv.tail())
    except (RuntimeError, Lost, KeyError, TypeError) as e:
        check("crash test ran to the end", False,
              f"{type(e).__name__}: {e}\n{srv.tail()}")
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.proc.send_signal(signal.SIGTERM)
            try:
                srv.proc.wait(30)
            except subprocess.TimeoutExpired:
                srv.proc.kill()
                srv.proc.wait()
        if not results["failed"]:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"# data dir kept: {ddir}")


if __name__ == "__main__":
    main()
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
