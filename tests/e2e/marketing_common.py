"""Helpers shared by the uplift, segment and RFM end-to-end tests: the
`ok - name` / `not ok - name: why` report, running the CLI, and a real
`lift serve` on 127.0.0.1 (ephemeral port, temporary data dir, a tenant
made by `lift admin tenant create`). Standard library only."""
import atexit
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
HILLSTROM = os.path.join(DATA, "hillstrom", "hillstrom.csv")

results = {"passed": 0, "failed": 0}


def check(name, cond, why=""):
    if cond:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {str(why)[:600]}")
    sys.stdout.flush()
    return bool(cond)


def scratch(prefix):
    """A temporary folder, removed at exit when every check passed (kept,
    and named, when one failed, to look into)."""
    path = tempfile.mkdtemp(prefix=prefix)

    def clean():
        if results["failed"]:
            print(f"# kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)
    atexit.register(clean)
    return path


def note(text):
    print(f"# {text}")
    sys.stdout.flush()


def finish():
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


def lift(*args):
    """Runs the CLI; returns (exit code, parsed JSON or None, stderr)."""
    out = subprocess.run([LIFT, *args], capture_output=True, text=True)
    doc = None
    if out.returncode == 0 and "--json" in args:
        doc = json.loads(out.stdout)
    return out.returncode, doc, out.stderr


class Server:
    """`lift serve` with one tenant; use as a context manager."""

    def __enter__(self):
        self.tmp = scratch("lift-mkt-")
        ddir = os.path.join(self.tmp, "data")
        out = subprocess.run([LIFT, "admin", "tenant", "create", "acme",
                              "--data-dir", ddir, "--json"],
                             capture_output=True, text=True, check=True)
        self.key = json.loads(out.stdout)["key"]
        port_file = os.path.join(self.tmp, "port")
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        self.proc = subprocess.Popen(
            [LIFT, "serve", "--data-dir", ddir, "--listen", "127.0.0.1:0",
             "--port-file", port_file, "--max-body", "64M"],
            stderr=self.log, text=True)
        for _ in range(600):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("server did not start")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def call(self, method, path, body=None, ctype=None):
        headers = {"Authorization": "Bearer " + self.key}
        data = None
        if body is not None:
            if isinstance(body, dict):
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = body
                headers["Content-Type"] = ctype or "text/csv"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                     data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                return e.code, json.loads(payload)
            except ValueError:
                return e.code, {"_raw": payload[:200]}

    def job(self, job_id, timeout=300):
        """Polls GET /v1/jobs/{id} until the job has finished; returns its
        last JSON document (state "timeout" when it never finished)."""
        deadline = time.time() + timeout
        doc = {}
        while time.time() < deadline:
            st, doc = self.call("GET", f"/v1/jobs/{job_id}")
            if st != 200:
                return {"state": f"http {st}", "error": doc}
            if doc["state"] in ("succeeded", "failed", "cancelled"):
                return doc
            time.sleep(0.05)
        return dict(doc, state="timeout")

    def run(self, path, body, timeout=300):
        """POST path as a job, then polls it: returns (status of the POST,
        its answer, the result of the job or None, the job's document)."""
        st, doc = self.call("POST", path, body)
        if st != 202:
            return st, doc, None, None
        job = self.job(doc["job"]["id"], timeout)
        return st, doc, job.get("result"), job

    def upload(self, name, path_or_bytes):
        if isinstance(path_or_bytes, bytes):
            data = path_or_bytes
        else:
            with open(path_or_bytes, "rb") as f:
                data = f.read()
        return self.call("POST", f"/v1/datasets?name={name}", data)


def error_code(doc):
    try:
        return doc["error"]["code"]
    except (TypeError, KeyError):
        return None


def error_message(doc):
    try:
        return doc["error"]["message"]
    except (TypeError, KeyError):
        return ""
