#!/usr/bin/python3
"""bench/serve/serve_bench.py - `lift serve` against nginx with wrk.

In one run, on 127.0.0.1 only, REPEATS times (default 3) and in turn so
that every measure sees the same machine:
  nginx      nginx with 2 workers answering a fixed '{"score":0.5}' to
             the same POST (peers/serving/nginx.conf.template): the HTTP
             ceiling of the machine
  predict1   `lift serve --threads 2` scoring one real bank record per
             POST /v1/models/bank:predict with the bank logistic model
  predict1k  the same route with 1000 real records per request
each as `wrk -t2 -c64 -d10s --timeout 30s -s post.lua` (post.lua prints
requests/s, p50, p99 and the non-2xx count as JSON from wrk's done hook).
The model is trained through the API (upload with sep=semicolon, train
{"name":"bank","dataset":"bank","target":"y","positive":"yes",
"drop":["duration"]}, poll the job) in a temp data dir.

Then, REPEATS times, bulk scoring of the bank file as a job (see
bulk_scoring): the job's own rows/s and the time from the POST to the CSV
result downloaded. --bulk-only runs that measure alone.

Then PROMOTE_PAIRS times (default 3) a pair of predict1 runs, one as
above and one while a client promotes the other of two ready versions
of the model every second (POST /v1/models/bank/versions/{v}:promote,
alternating v1 and v2; the second version is trained like the first),
the two in alternating order: the non-2xx count and the median over the
pairs of p99 with promotions / p99 without (target: zero and at most
1.3x). After each promotion one predict checks that the new version
answers. --promote-only runs that measure alone.

Before each wrk run the driver waits (at most QUIET_MAX s) for the
machine to be under QUIET_PCT % busy; after it, foreign_cores is the CPU
used by neither wrk nor the server, per second of wall time (other jobs
on a shared machine). Prints one line per measure (medians and the
issue's targets) and, with --results, replaces the "serve" section of
bench/RESULTS.md. With --perf, records the server under `perf record`
during one extra run of each lift measure and prints where time goes.
Standard library only; exits 1 when something fails to run (a missed
target is printed as MISSED, not an error: machines differ).
"""
import argparse
import csv
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
HZ = os.sysconf("SC_CLK_TCK")

# The targets.
TARGET_RATIO = 0.3         # throughput, single record, vs nginx
TARGET_P99_FLOOR_MS = 5.0  # p99 at most max(5 ms, 1.5x nginx's p99)
TARGET_P99_FACTOR = 1.5
TARGET_RECORDS_S = 200e3   # records/s in 1000-record requests
TARGET_BULK_ROWS_S = 500e3  # rows/s of a bulk scoring job (logistic)
TARGET_PROMOTE_P99 = 1.3   # p99 with a promote every second / without


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def stop(proc, sig=signal.SIGTERM):
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- machine load -----------------------------------------------------------

def machine_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def busy_pct(seconds=1.0):
    b0, t0 = machine_jiffies()
    time.sleep(seconds)
    b1, t1 = machine_jiffies()
    return 100.0 * (b1 - b0) / max(1, t1 - t0)


def wait_quiet(pct, max_s):
    """Waits until the machine is under pct % busy, at most max_s seconds;
    returns the last busy percentage seen."""
    waited = 0.0
    b = busy_pct()
    while b >= pct and waited < max_s:
        if waited == 0:
            log(f"  machine {b:.0f}% busy, waiting up to {max_s} s for quiet")
        time.sleep(2)
        waited += 3
        b = busy_pct()
    return b


def tree_jiffies(pid):
    """utime+stime of pid and its children (nginx's workers)."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


# ---- wrk --------------------------------------------------------------------

def run_wrk(a, url, body_file, auth, server_pid):
    """One wrk run: the JSON of post.lua's done hook plus CPU accounting."""
    env = dict(os.environ, BODY_FILE=body_file, AUTH=auth or "")
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.conns}", f"-d{a.duration}",
           "--timeout", a.wrk_timeout, "-s", os.path.join(HERE, "post.lua"),
           url]
    m0, _ = machine_jiffies()
    s0 = tree_jiffies(server_pid)
    c0 = children_cpu()
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    m1, _ = machine_jiffies()
    s1 = tree_jiffies(server_pid)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr.strip()}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    # wrk is the only child reaped meanwhile (the servers still run)
    res["wrk_cpu_s"] = round(children_cpu() - c0, 2)
    res["server_cpu_s"] = round((s1 - s0) / HZ, 2)
    res["wall_s"] = round(wall, 2)
    res["machine_cpu_s"] = round((m1 - m0) / HZ, 2)
    return res


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# ---- lift through its API --------------------------------------------------

class Api:
    def __init__(self, port, key):
        self.base = f"http://127.0.0.1:{port}"
        self.key = key

    def call(self, method, path, body=None, ctype="application/json",
             timeout=300):
        headers = {"Authorization": "Bearer " + self.key}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            headers["Content-Type"] = ctype
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.code} "
                               f"{e.read().decode(errors='replace')}")


def bank_records(path, n):
    """n real records of the bank file, spread over it, without y and
    duration; numbers as JSON numbers."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))

    def value(v):
        for conv in (int, float):
            try:
                return conv(v)
            except ValueError:
                pass
        return v

    step = max(1, len(rows) // n)
    out = []
    for i in range(n):
        r = rows[(i * step) % len(rows)]
        out.append({k: value(v) for k, v in r.items()
                    if k not in ("y", "duration")})
    return out


def start_lift(a, tmp):
    data_dir = os.path.join(tmp, "data")
    p = subprocess.run([a.lift, "admin", "tenant", "create", "bench",
                        "--data-dir", data_dir, "--json"],
                       capture_output=True, text=True, check=True)
    key = json.loads(p.stdout)["key"]
    port_file = os.path.join(tmp, "lift.port")
    logf = open(os.path.join(tmp, "lift.log"), "w")
    proc = subprocess.Popen([a.lift, "serve", "--data-dir", data_dir,
                             "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--threads", "2"],
                            stdout=logf, stderr=subprocess.STDOUT)
    end = time.monotonic() + 30
    port = None
    while time.monotonic() < end and port is None:
        if proc.poll() is not None:
            raise RuntimeError(f"lift serve exited with {proc.returncode}")
        try:
            with open(port_file) as f:
                port = int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    if port is None:
        stop(proc)
        raise RuntimeError("lift serve wrote no port file")
    wait_port(port, proc)
    return proc, port, key


def train_bank(api, csv_path):
    with open(csv_path, "rb") as f:
        blob = f.read()
    api.call("POST", "/v1/datasets?name=bank&sep=semicolon", blob,
             "text/csv")
    _, r = api.call("POST", "/v1/models", {
        "name": "bank", "dataset": "bank", "target": "y",
        "positive": "yes", "drop": ["duration"]})
    job = r["job"]["id"]
    end = time.monotonic() + 600
    while time.monotonic() < end:
        _, j = api.call("GET", f"/v1/jobs/{job}")
        if j["state"] == "succeeded":
            return j
        if j["state"] in ("failed", "cancelled"):
            raise RuntimeError(f"training job {job} {j['state']}: "
                               f"{j.get('error')}")
        time.sleep(0.2)
    raise RuntimeError(f"training job {job} not done after 600 s")


def start_nginx(a, tmp):
    d = os.path.join(tmp, "nginx")
    os.makedirs(d, exist_ok=True)
    port = free_port()
    with open(a.nginx_template) as f:
        conf = f.read()
    conf = (conf.replace("__DIR__", d).replace("__PORT__", str(port))
            .replace("__WORKERS__", "2"))
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["nginx", "-p", d, "-e",
                             os.path.join(d, "error.log"), "-c",
                             os.path.join(d, "nginx.conf"), "-g",
                             "daemon off;"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


# ---- bulk scoring ----------------------------------------------------------

def bulk_scoring(a, api, repeats):
    """Scores the stored bank dataset with the bank model as a job
    (POST /v1/models/bank:score {"dataset":"bank"}), `repeats` times, each
    after waiting for a quiet machine. Per run: the job's own
    rows_per_second and seconds (scoring and writing the rows, from its
    result), read_s (the dataset read), and end_to_end_s, from the POST to
    the CSV result downloaded (GET /v1/jobs/{id}/result), whose rows are
    counted. Returns {"runs", "rows_s", "e2e_s", "ok", "lines",
    "markdown"} with medians."""
    runs = []
    for rep in range(1, repeats + 1):
        busy = wait_quiet(a.quiet_pct, a.quiet_max)
        t0 = time.monotonic()
        _, r = api.call("POST", "/v1/models/bank:score", {"dataset": "bank"})
        job_id = r["job"]["id"]
        while True:
            _, j = api.call("GET", f"/v1/jobs/{job_id}")
            if j["state"] == "succeeded":
                break
            if j["state"] in ("failed", "cancelled"):
                raise RuntimeError(f"score job {job_id} {j['state']}: "
                                   f"{j.get('error')}")
            time.sleep(0.005)
        req = urllib.request.Request(
            f"{api.base}/v1/jobs/{job_id}/result",
            headers={"Authorization": "Bearer " + api.key})
        with urllib.request.urlopen(req, timeout=300) as resp:
            body = resp.read()
        e2e = time.monotonic() - t0
        res = j["result"]
        n_lines = body.count(b"\n")
        if n_lines != res["rows"] + 1 or res["rows"] != 41188:
            raise RuntimeError(f"score job {job_id}: {res['rows']} rows, "
                               f"{n_lines} lines")
        run = {"measure": "bulk", "repeat": rep, "rows": res["rows"],
               "rows_per_second": res["rows_per_second"],
               "seconds": res["seconds"], "read_s": res["read_s"],
               "end_to_end_s": round(e2e, 4), "bytes": len(body),
               "busy_pct_before": round(busy)}
        runs.append(run)
        log(json.dumps(run))
        with open(os.path.join(a.out, "runs.jsonl"), "a") as f:
            f.write(json.dumps(run) + "\n")
    rows_s = statistics.median(r["rows_per_second"] for r in runs)
    e2e_s = statistics.median(r["end_to_end_s"] for r in runs)
    read_s = statistics.median(r["read_s"] for r in runs)
    ok = rows_s >= TARGET_BULK_ROWS_S
    lines = [
        f"serve bulk scoring of the bank file (41188 rows) as a job: "
        f"{rows_s:,.0f} rows/s (target >= {TARGET_BULK_ROWS_S:,.0f}: "
        f"{verdict(ok)}); end to end (POST to CSV downloaded) "
        f"{e2e_s * 1000:.0f} ms, of which reading the dataset "
        f"{read_s * 1000:.0f} ms"]
    markdown = f"""
Bulk scoring: `POST /v1/models/bank:score {{"dataset":"bank"}}` scores
the stored bank file (41188 rows) in the job pool into a CSV result;
*rows/s* is the job's own `rows_per_second` (scoring, printing and writing
the rows), *end to end* the time from the POST to the CSV downloaded from
`GET /v1/jobs/{{id}}/result` (polling every 5 ms), which adds reading the
dataset, queueing, the fsync and the download; {repeats} repeats, medians.

| measure | median | every run |
|---|---:|---|
| bulk scoring, rows/s (job) | {rows_s:,.0f} | {", ".join(f"{r['rows_per_second']:,.0f}" for r in runs)} |
| bulk scoring, end to end ms | {e2e_s * 1000:.0f} | {", ".join(f"{r['end_to_end_s'] * 1000:.0f}" for r in runs)} |
| of which reading the dataset, ms | {read_s * 1000:.0f} | {", ".join(f"{r['read_s'] * 1000:.0f}" for r in runs)} |

| target | measured | |
|---|---|---|
| bulk scoring >= {TARGET_BULK_ROWS_S:,.0f} rows/s (logistic) | {rows_s:,.0f} | {verdict(ok)} |
"""
    return {"runs": runs, "rows_s": rows_s, "e2e_s": e2e_s, "ok": ok,
            "lines": lines, "markdown": markdown}


# ---- promotion under load ---------------------------------------------------

def train_second_version(api):
    """Trains bank again (v2, ready but not serving); returns the two
    version numbers."""
    _, r = api.call("POST", "/v1/models", {
        "name": "bank", "dataset": "bank", "target": "y",
        "positive": "yes", "drop": ["duration"]})
    job = r["job"]["id"]
    end = time.monotonic() + 600
    while time.monotonic() < end:
        _, j = api.call("GET", f"/v1/jobs/{job}")
        if j["state"] == "succeeded":
            break
        if j["state"] in ("failed", "cancelled"):
            raise RuntimeError(f"training job {job} {j['state']}: "
                               f"{j.get('error')}")
        time.sleep(0.2)
    else:
        raise RuntimeError(f"training job {job} not done after 600 s")
    _, m = api.call("GET", "/v1/models/bank")
    ready = [v["version"] for v in m["versions"] if v["state"] == "ready"]
    if len(ready) < 2:
        raise RuntimeError(f"bank has ready versions {ready}, not two")
    return m["serving"], [v for v in ready if v != m["serving"]][0]


class Promoter(threading.Thread):
    """Promotes the other of two versions every `every` seconds until
    stopped; after each promotion one predict checks that the promoted
    version answers (stale: it did not)."""

    def __init__(self, api, versions, body, every=1.0):
        super().__init__(daemon=True)
        self.api = api
        self.versions = versions  # [serving now, the other]
        self.body = body
        self.every = every
        self.halt = threading.Event()
        self.n = 0
        self.failed = []
        self.stale = 0
        self.promote_ms = []

    def run(self):
        at = time.monotonic()
        while not self.halt.wait(max(0.0, at + self.every -
                                     time.monotonic())):
            at += self.every
            v = self.versions[(self.n + 1) % 2]
            t0 = time.monotonic()
            try:
                _, r = self.api.call(
                    "POST", f"/v1/models/bank/versions/{v}:promote",
                    timeout=30)
                self.promote_ms.append((time.monotonic() - t0) * 1e3)
                self.n += 1
                _, p = self.api.call("POST", "/v1/models/bank:predict",
                                     self.body, timeout=30)
                if r.get("serving") != v or p.get("version") != v:
                    self.stale += 1
            except (RuntimeError, OSError) as e:
                self.failed.append(str(e)[:200])

    def stop(self):
        self.halt.set()
        self.join(60)


def measure_promotions(a, api, url, body_file, auth, pid, out_dir):
    """PROMOTE_PAIRS pairs of predict1 runs without and with a promotion
    every second, in alternating order; a list of
    {"base": run, "promote": run} with the promoter's counts in the
    latter."""
    versions = list(train_second_version(api))
    with open(body_file, "rb") as f:
        body = f.read()
    pairs = []
    for rep in range(1, a.promote_pairs + 1):
        pair = {}
        order = ("base", "promote") if rep % 2 else ("promote", "base")
        for kind in order:
            busy = wait_quiet(a.quiet_pct, a.quiet_max)
            promoter = None
            if kind == "promote":
                promoter = Promoter(api, versions, body)
                promoter.start()
            try:
                r = run_wrk(a, url, body_file, auth, pid)
            finally:
                if promoter:
                    promoter.stop()
            if promoter:
                versions = [promoter.versions[promoter.n % 2],
                            promoter.versions[(promoter.n + 1) % 2]]
                r["promotions"] = promoter.n
                r["promote_failed"] = promoter.failed
                r["stale"] = promoter.stale
                r["promote_ms_max"] = round(max(promoter.promote_ms,
                                                default=0), 2)
            r["busy_pct_before"] = round(busy)
            r["foreign_cores"] = round(max(
                0.0, r["machine_cpu_s"] - r["server_cpu_s"] -
                r["wrk_cpu_s"]) / r["wall_s"], 2)
            r["repeat"] = rep
            r["measure"] = f"predict1_{kind}"
            pair[kind] = r
            log(json.dumps(r))
            with open(os.path.join(out_dir, "runs.jsonl"), "a") as f:
                f.write(json.dumps(r) + "\n")
        pairs.append(pair)
    return pairs


def promotion_report(a, pairs):
    """The printed line and the RESULTS.md part of measure_promotions."""
    ratios = [p["promote"]["p99_ms"] / p["base"]["p99_ms"] for p in pairs]
    ratio = statistics.median(ratios)
    non2xx = sum(p["promote"]["non_2xx"] for p in pairs)
    sock = sum(sum(p["promote"]["errors"].values()) for p in pairs)
    n = sum(p["promote"]["promotions"] for p in pairs)
    failed = sum(len(p["promote"]["promote_failed"]) for p in pairs)
    stale = sum(p["promote"]["stale"] for p in pairs)
    ok_ratio = ratio <= TARGET_PROMOTE_P99
    ok_2xx = non2xx == 0 and sock == 0 and failed == 0
    p99_with = statistics.median(p["promote"]["p99_ms"] for p in pairs)
    p99_base = statistics.median(p["base"]["p99_ms"] for p in pairs)
    line = (f"serve promote every second during predict 1 record: p99 "
            f"{p99_with:.2f} ms vs {p99_base:.2f} ms without (medians), "
            f"median ratio {ratio:.2f}x (target <= "
            f"{TARGET_PROMOTE_P99}x: {verdict(ok_ratio)}); non-2xx {non2xx}, "
            f"socket errors {sock}, failed promotions {failed} of {n} "
            f"(target 0: {verdict(ok_2xx)}); new version not answering "
            f"right after its promotion: {stale}")
    rows = "\n".join(
        f"| {i} | {p['base']['rps']:,.0f} | {p['base']['p99_ms']:.2f} | "
        f"{p['promote']['rps']:,.0f} | {p['promote']['p99_ms']:.2f} | "
        f"{r:.2f} | {p['promote']['promotions']} | "
        f"{p['promote']['non_2xx']} | {p['promote']['promote_ms_max']:.1f} |"
        for i, (p, r) in enumerate(zip(pairs, ratios), 1))
    section = f"""
### Promotion under load

{len(pairs)} pairs of *predict 1* runs (the same wrk command), one plain
and one while a client promotes the other of two ready versions of the
bank model every second (`POST /v1/models/bank/versions/{{v}}:promote`),
the two in alternating order; after each promotion one predict checks
that the promoted version answers.

| pair | req/s without | p99 ms without | req/s with | p99 ms with | p99 ratio | promotions | non-2xx | slowest promote ms |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

| target | measured | |
|---|---|---|
| zero non-2xx while promoting | {non2xx} non-2xx, {sock} socket errors, {failed} failed promotions | {verdict(ok_2xx)} |
| p99 with promotions <= {TARGET_PROMOTE_P99}x without (median of the pairs) | {ratio:.2f}x | {verdict(ok_ratio)} |

The promoted version answered the predict right after its promotion in
{n - stale - failed} of {n} promotions.
"""
    return line, section


# ---- perf -------------------------------------------------------------------

def profile(a, name, url, body, auth, pid, out_dir):
    """perf record on the server during one wrk run; the top of the flat
    and the cumulative profile go to OUT/perf-NAME.txt and stderr."""
    data = os.path.join(out_dir, f"perf-{name}.data")
    rec = subprocess.Popen(["perf", "record", "-F", "999", "--call-graph",
                            "dwarf,16384", "-p", str(pid), "-o", data, "--",
                            "sleep", "4"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    short = argparse.Namespace(**vars(a))
    short.duration = "5s"
    run_wrk(short, url, body, auth, pid)
    rec.wait()
    text = []
    for mode in (["--no-children", "--sort", "dso,sym"],
                 ["--children", "--sort", "sym"]):
        p = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g",
                            "none", "--percent-limit", "1.5", *mode],
                           capture_output=True, text=True)
        lines = [ln for ln in p.stdout.splitlines()
                 if ln.strip() and not ln.startswith("#")]
        text.append(f"perf report {' '.join(mode)}:\n" +
                    "\n".join(lines[:30]))
    report = "\n\n".join(text)
    with open(os.path.join(out_dir, f"perf-{name}.txt"), "w") as f:
        f.write(report + "\n")
    log(f"== profile of the server during {name}\n{report}")


# ---- results ----------------------------------------------------------------

def med(runs, key):
    return statistics.median(r[key] for r in runs)


def verdict(ok):
    return "met" if ok else "MISSED"


def git_head(root):
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short",
                               "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--", "src", "include"], capture_output=True,
                               text=True).stdout.strip()
        return head + ("+local changes" if dirty else "")
    except OSError:
        return "unknown"


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.processor()}, {os.cpu_count()} cores"


def update_results(path, section):
    """Replaces the '## serve' section of path (or appends it), keeping
    every other section as it is."""
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if not text:
        text = ("# Benchmark results\n\n"
                "Each section is written by its bench/<name>/run.sh; the "
                "command to rerun it is in the section.\n\n")
    pattern = re.compile(r"^## serve\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lift", required=True)
    ap.add_argument("--data", required=True, help="bank-additional-full.csv")
    ap.add_argument("--nginx-template", required=True)
    ap.add_argument("--out", required=True, help="scratch folder")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--wrk-timeout", default="30s")
    ap.add_argument("--quiet-pct", type=float, default=25)
    ap.add_argument("--quiet-max", type=float, default=60)
    ap.add_argument("--promote-pairs", type=int, default=3)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--results", help="RESULTS.md to update")
    ap.add_argument("--command", default="bench/serve/run.sh")
    ap.add_argument("--bulk-only", action="store_true",
                    help="only the bulk scoring measure (no nginx, no wrk, "
                    "no RESULTS.md)")
    ap.add_argument("--promote-only", action="store_true",
                    help="only the promotion pairs (no nginx, no "
                    "RESULTS.md)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.bulk_only:
        return bulk_only(a)
    if a.promote_only:
        return promote_only(a)

    tmp = tempfile.mkdtemp(prefix="lift-serve-bench.")
    nginx = lift = None
    try:
        nginx, nginx_port = start_nginx(a, tmp)
        lift, lift_port, key = start_lift(a, tmp)
        api = Api(lift_port, key)
        t0 = time.monotonic()
        job = train_bank(api, a.data)
        log(f"trained bank through the API in {time.monotonic() - t0:.1f} s "
            f"(job {job['id']}, train_s {job['result']['train_s']:.2f})")

        one = os.path.join(a.out, "predict1.json")
        many = os.path.join(a.out, "predict1k.json")
        with open(one, "w") as f:
            json.dump({"records": bank_records(a.data, 1)}, f,
                      separators=(",", ":"))
        with open(many, "w") as f:
            json.dump({"records": bank_records(a.data, 1000)}, f,
                      separators=(",", ":"))
        # every body is checked once before it is timed
        for body, n in ((one, 1), (many, 1000)):
            with open(body, "rb") as f:
                _, r = api.call("POST", "/v1/models/bank:predict", f.read())
            if len(r["scores"]) != n or r["warnings"]:
                raise RuntimeError(f"unexpected answer for {body}: "
                                   f"{json.dumps(r)[:300]}")
        log(f"one record: {open(one).read()}")

        predict_url = f"http://127.0.0.1:{lift_port}/v1/models/bank:predict"
        measures = [
            ("nginx", f"http://127.0.0.1:{nginx_port}/predict", one, None,
             nginx.pid),
            ("predict1", predict_url, one, "Bearer " + key, lift.pid),
            ("predict1k", predict_url, many, "Bearer " + key, lift.pid),
        ]
        runs = {m[0]: [] for m in measures}
        for rep in range(1, a.repeats + 1):
            for name, url, body, auth, pid in measures:
                busy = wait_quiet(a.quiet_pct, a.quiet_max)
                r = run_wrk(a, url, body, auth, pid)
                r["busy_pct_before"] = round(busy)
                r["foreign_cores"] = round(max(
                    0.0, r["machine_cpu_s"] - r["server_cpu_s"] -
                    r["wrk_cpu_s"]) / r["wall_s"], 2)
                r["repeat"] = rep
                r["measure"] = name
                runs[name].append(r)
                log(json.dumps(r))
                with open(os.path.join(a.out, "runs.jsonl"), "a") as f:
                    f.write(json.dumps(r) + "\n")

        bulk = bulk_scoring(a, api, a.repeats)
        promotions = measure_promotions(a, api, predict_url, one,
                                        "Bearer " + key, lift.pid, a.out)

        if a.perf:
            for name, url, body, auth, pid in measures[1:]:
                profile(a, name, url, body, auth, pid, a.out)
    finally:
        stop(nginx, signal.SIGQUIT)
        stop(lift)
        shutil.rmtree(tmp, ignore_errors=True)

    # ---- the figures
    n_rps, n_p50, n_p99 = (med(runs["nginx"], k)
                           for k in ("rps", "p50_ms", "p99_ms"))
    s_rps, s_p50, s_p99 = (med(runs["predict1"], k)
                           for k in ("rps", "p50_ms", "p99_ms"))
    k_rps, k_p50, k_p99 = (med(runs["predict1k"], k)
                           for k in ("rps", "p50_ms", "p99_ms"))
    records_s = k_rps * 1000
    ratio = s_rps / n_rps
    p99_cap = max(TARGET_P99_FLOOR_MS, TARGET_P99_FACTOR * n_p99)
    non2xx = {k: sum(r["non_2xx"] for r in v) for k, v in runs.items()}
    sock = {k: sum(sum(r["errors"].values()) for r in v)
            for k, v in runs.items()}
    lift_non2xx = non2xx["predict1"] + non2xx["predict1k"]
    ok_ratio = ratio >= TARGET_RATIO
    ok_p99 = s_p99 <= p99_cap
    ok_rec = records_s >= TARGET_RECORDS_S
    ok_2xx = lift_non2xx == 0
    foreign = max(r["foreign_cores"] for v in runs.values() for r in v)

    # Per second of the server's own CPU: what the figures would be with
    # the cores to itself (a shared machine lends it less than 2 cores).
    def per_cpu(name, scale=1):
        return statistics.median(r["requests"] * scale / r["server_cpu_s"]
                                 for r in runs[name] if r["server_cpu_s"])
    n_cpu, s_cpu, k_cpu = (per_cpu("nginx"), per_cpu("predict1"),
                           per_cpu("predict1k", 1000))

    lines = [
        f"serve nginx (2 workers, fixed body): {n_rps:,.0f} req/s, p50 "
        f"{n_p50:.2f} ms, p99 {n_p99:.2f} ms, non-2xx {non2xx['nginx']}",
        f"serve predict 1 record: {s_rps:,.0f} req/s = {ratio:.2f}x nginx "
        f"(target >= {TARGET_RATIO}x: {verdict(ok_ratio)}), p50 "
        f"{s_p50:.2f} ms, p99 {s_p99:.2f} ms (target <= {p99_cap:.2f} ms: "
        f"{verdict(ok_p99)}), non-2xx {non2xx['predict1']}",
        f"serve predict 1000 records: {k_rps:,.1f} req/s = "
        f"{records_s:,.0f} records/s (target >= {TARGET_RECORDS_S:,.0f}: "
        f"{verdict(ok_rec)}), p50 {k_p50:.1f} ms, p99 {k_p99:.1f} ms, "
        f"non-2xx {non2xx['predict1k']}",
        f"serve per server CPU-second: nginx {n_cpu:,.0f} requests, "
        f"predict 1 record {s_cpu:,.0f} requests ({s_cpu / n_cpu:.2f}x "
        f"nginx), predict 1000 records {k_cpu:,.0f} records",
        f"serve non-2xx from lift: {lift_non2xx} (target 0: "
        f"{verdict(ok_2xx)}); socket errors: " +
        ", ".join(f"{k} {v}" for k, v in sock.items()) +
        f"; most foreign load in a run: {foreign:.2f} cores",
    ]
    lines += bulk["lines"]
    promote_line, promote_section = promotion_report(a, promotions)
    lines.append(promote_line)
    print("\n".join(lines), flush=True)

    if a.results:
        def row(name, label):
            v = runs[name]
            return (f"| {label} | {med(v, 'rps'):,.1f} | "
                    f"{med(v, 'p50_ms'):.2f} | {med(v, 'p99_ms'):.2f} | "
                    f"{non2xx[name]} | " +
                    ", ".join(f"{r['rps']:,.0f}" for r in v) + " | " +
                    ", ".join(f"{r['foreign_cores']:.2f}" for r in v) + " |")
        section = f"""## serve

`{a.command}`

`lift serve --threads 2` against nginx (2 workers, a fixed
`{{"score":0.5}}` body) in the same run, each driven by
`wrk -t{a.threads} -c{a.conns} -d{a.duration} --timeout {a.wrk_timeout}`
on 127.0.0.1 with keep-alive POSTs (bench/serve/post.lua); {a.repeats}
repeats taken in turn, medians. The model is the bank logistic model
trained through the API (`{{"name":"bank","dataset":"bank","target":"y",
"positive":"yes","drop":["duration"]}}`); *predict 1* posts one real bank
record to `POST /v1/models/bank:predict`, *predict 1000* posts 1000
records spread over the file. Run on {time.strftime('%Y-%m-%d %H:%M')},
{machine()}, lift {git_head(os.path.dirname(os.path.dirname(HERE)))}.
*foreign cores*: CPU used by neither wrk nor the server per second of the
run (other jobs on this shared machine; over ~0.25 the figures are low).

| measure | requests/s | p50 ms | p99 ms | non-2xx | every run, req/s | foreign cores |
|---|---:|---:|---:|---:|---|---|
{row("nginx", "nginx, fixed body")}
{row("predict1", "lift, predict 1 record")}
{row("predict1k", "lift, predict 1000 records")}

| target | measured | |
|---|---|---|
| throughput >= {TARGET_RATIO}x nginx | {ratio:.2f}x | {verdict(ok_ratio)} |
| p99 <= max(5 ms, 1.5x nginx's p99) = {p99_cap:.2f} ms | {s_p99:.2f} ms | {verdict(ok_p99)} |
| >= 200k records/s in 1000-record requests | {records_s:,.0f} | {verdict(ok_rec)} |
| zero non-2xx | {lift_non2xx} | {verdict(ok_2xx)} |

Per second of the server's own CPU time (medians; what each server would
do with cores to itself, as the CPU other jobs took shows it did not):
nginx {n_cpu:,.0f} requests, lift {s_cpu:,.0f} single-record requests
({s_cpu / n_cpu:.2f}x nginx), lift {k_cpu:,.0f} records in 1000-record
requests.
"""
        section += bulk["markdown"] + promote_section
        update_results(a.results, section)
    return 0


def bulk_only(a):
    """--bulk-only: lift alone, trained through the API, then the bulk
    scoring measure; prints its line."""
    tmp = tempfile.mkdtemp(prefix="lift-serve-bench.")
    lift = None
    try:
        lift, lift_port, key = start_lift(a, tmp)
        api = Api(lift_port, key)
        train_bank(api, a.data)
        bulk = bulk_scoring(a, api, a.repeats)
    finally:
        stop(lift)
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(bulk["lines"]), flush=True)
    return 0


def promote_only(a):
    """--promote-only: lift alone, trained through the API, then the
    promotion pairs; prints their line."""
    tmp = tempfile.mkdtemp(prefix="lift-serve-bench.")
    lift = None
    try:
        lift, lift_port, key = start_lift(a, tmp)
        api = Api(lift_port, key)
        train_bank(api, a.data)
        one = os.path.join(a.out, "predict1.json")
        with open(one, "w") as f:
            json.dump({"records": bank_records(a.data, 1)}, f,
                      separators=(",", ":"))
        url = f"http://127.0.0.1:{lift_port}/v1/models/bank:predict"
        pairs = measure_promotions(a, api, url, one, "Bearer " + key,
                                   lift.pid, a.out)
    finally:
        stop(lift)
        shutil.rmtree(tmp, ignore_errors=True)
    print(promotion_report(a, pairs)[0], flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log(f"serve: error: {e}")
        sys.exit(1)
