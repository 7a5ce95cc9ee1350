#!/usr/bin/python3
"""End-to-end test of `lift serve --tls-cert F --tls-key F`: HTTPS with a
certificate made by certtool at test time.

A temp dir gets a self-signed CA and a server certificate for IP
127.0.0.1 signed by it (certtool templates), a second key that matches
nothing, and an expired certificate. The real binary serves HTTPS on an
ephemeral port; Python's ssl verifies the chain against the CA and the
host name 127.0.0.1.

Covers: healthz over verified HTTPS, TLS >= 1.2 negotiated, an unverified
client refused (the chain is real); upload of the small bank file, a
training job, predict; a gbdt model trained by the CLI (76 KB, several TLS
records) uploaded and downloaded byte-identical (file responses over
TLS); plain HTTP to the TLS port closed at once, without an answer;
TLS 1.0 and 1.1 refused while 1.2 and 1.3 work (gnutls-cli, and Python's
ssl when its OpenSSL still offers 1.1); a client trickling its TLS
ClientHello one byte a second closed by --request-timeout; startup
errors with exit 1 and a clear message, before the data dir is made:
unreadable certificate and key (path and reason), a file that is not a
PEM certificate or key, a key that does not match, an expired
certificate, a directory; only one of the two flags is a usage error
(exit 2).

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only (plus the certtool
and gnutls-cli programs of gnutls-bin).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
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


def certtool(*args):
    out = subprocess.run(["certtool", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"certtool {args}: {out.stderr}")


def make_pki(d):
    """CA, server cert for 127.0.0.1, a stray key, an expired cert."""
    p = lambda name: os.path.join(d, name)
    with open(p("ca.tmpl"), "w") as f:
        f.write('cn = "lift test CA"\nca\ncert_signing_key\n'
                'expiration_days = 2\n')
    with open(p("server.tmpl"), "w") as f:
        f.write('cn = "127.0.0.1"\nip_address = "127.0.0.1"\n'
                'tls_www_server\nsigning_key\nencryption_key\n'
                'expiration_days = 2\n')
    with open(p("expired.tmpl"), "w") as f:
        f.write('cn = "127.0.0.1"\nip_address = "127.0.0.1"\n'
                'tls_www_server\nsigning_key\n'
                'activation_date = "2020-01-01 00:00:00"\n'
                'expiration_date = "2020-02-01 00:00:00"\n')
    for key in ("ca.key", "server.key", "other.key"):
        certtool("--generate-privkey", "--key-type", "ecdsa",
                 "--outfile", p(key))
    certtool("--generate-self-signed", "--load-privkey", p("ca.key"),
             "--template", p("ca.tmpl"), "--outfile", p("ca.pem"))
    for tmpl, out in (("server.tmpl", "server.pem"),
                      ("expired.tmpl", "expired.pem")):
        certtool("--generate-certificate", "--load-privkey", p("server.key"),
                 "--load-ca-certificate", p("ca.pem"),
                 "--load-ca-privkey", p("ca.key"), "--template", p(tmpl),
                 "--outfile", p(out))


def admin(ddir, *args):
    out = subprocess.run([LIFT, "admin", *args, "--data-dir", ddir, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"lift admin {args}: {out.stderr}")
    return json.loads(out.stdout)


def start(tmp, ddir, extra):
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
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


def server_log(tmp, lines=40):
    try:
        with open(os.path.join(tmp, "server.log")) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no server log)"


class Client:
    """HTTPS calls verified against the test CA, one connection each."""

    def __init__(self, port, key, ctx):
        self.port, self.key, self.ctx = port, key, ctx

    def call(self, method, path, body=None, ctype=None, raw=False):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.ctx, timeout=120)
        headers = {"Authorization": "Bearer " + self.key}
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            else:
                data = body
                headers["Content-Type"] = ctype or "text/csv"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        version = conn.sock.version() if conn.sock else None
        conn.close()
        if raw:
            return resp.status, payload
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = {"_raw": payload[:200]}
        self.last_version = version
        return resp.status, doc


def wait_job(c, job_id, limit=300):
    deadline = time.time() + limit
    doc = None
    while time.time() < deadline:
        status, doc = c.call("GET", f"/v1/jobs/{job_id}")
        if status != 200 or doc["state"] in ("succeeded", "failed",
                                             "cancelled"):
            return status, doc
        time.sleep(0.2)
    return 0, doc


def records_of(path, n, drop=("y", "duration")):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    names = [h.strip('"') for h in lines[0].split(";")]
    out = []
    for line in lines[1:n + 1]:
        rec = {}
        for k, v in zip(names, [v.strip('"') for v in line.split(";")]):
            if k in drop:
                continue
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v
        out.append(rec)
    return out


def gnutls_cli(port, ca, version):
    """True when gnutls-cli completes a handshake offering only version."""
    out = subprocess.run(
        ["gnutls-cli", "--x509cafile", ca, "--priority",
         f"NORMAL:-VERS-ALL:+VERS-{version}", "-p", str(port), "127.0.0.1"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    return "Handshake was completed" in out.stdout, out.stdout + out.stderr


def run(tmp, pki, port, key):
    ca = os.path.join(pki, "ca.pem")
    ctx = ssl.create_default_context(cafile=ca)
    c = Client(port, key, ctx)

    st, doc = c.call("GET", "/healthz")
    check("https_healthz", st == 200 and doc == {"status": "ok"}, doc)
    check("https_version_at_least_1_2",
          c.last_version in ("TLSv1.2", "TLSv1.3"), c.last_version)
    try:
        Client(port, key, ssl.create_default_context()).call("GET",
                                                             "/healthz")
        check("https_unknown_ca_refused_by_client", False, "verified")
    except ssl.SSLCertVerificationError:
        check("https_unknown_ca_refused_by_client", True)
    st, doc = Client(port, "lift_" + "A" * 43, ctx).call("GET",
                                                          "/v1/datasets")
    check("https_bad_key_401", st == 401 and
          doc["error"]["code"] == "unauthorized", doc)

    with open(SMALL, "rb") as f:
        small = f.read()
    st, doc = c.call("POST", "/v1/datasets?name=small&sep=semicolon", small)
    check("https_upload_201", st == 201 and doc["rows"] == 4119, doc)
    st, doc = c.call("POST", "/v1/models",
                     {"name": "resp", "dataset": "small", "target": "y",
                      "positive": "yes", "model": "logistic",
                      "drop": ["duration"]})
    ok = check("https_train_202", st == 202, doc)
    if ok:
        st, job = wait_job(c, doc["job"]["id"])
        ok = check("https_job_succeeded", st == 200 and
                   job["state"] == "succeeded", job)
    if ok:
        st, pred = c.call("POST", "/v1/models/resp:predict",
                          {"records": records_of(SMALL, 20)})
        check("https_predict", st == 200 and len(pred["scores"]) == 20 and
              all(0 < s < 1 for s in pred["scores"]), pred)

    # a model file several TLS records long, up and down byte-identical
    gpath = os.path.join(tmp, "g.lift")
    out = subprocess.run([LIFT, "train", SMALL, "--target", "y",
                          "--positive", "yes", "--drop", "duration",
                          "--model", "gbdt", "-o", gpath],
                         capture_output=True, text=True)
    ok = check("cli_trains_gbdt", out.returncode == 0, out.stderr)
    if ok:
        with open(gpath, "rb") as f:
            blob = f.read()
        st, doc = c.call("PUT", "/v1/models/big/versions", blob,
                         ctype="application/octet-stream")
        ok = check("https_model_upload_201", st == 201, doc)
    if ok:
        st, got = c.call("GET", "/v1/models/big/versions/1/file", raw=True)
        check("https_download_byte_identical",
              st == 200 and len(blob) > 65536 and got == blob,
              f"status {st}, {len(got)} of {len(blob)} bytes")
        st, got = c.call("GET", "/v1/models/resp/versions/1/file", raw=True)
        check("https_download_trained_model",
              st == 200 and got[:4] == blob[:4] and len(got) > 1000,
              f"status {st}, {got[:16]!r}")

    # plain HTTP to the TLS port: closed at once, no HTTP answer
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        got = s.recv(4096)
    except (ConnectionResetError, socket.timeout) as e:
        got = repr(e).encode()
    s.close()
    took = time.time() - t0
    check("plain_http_to_tls_port_closed_fast",
          not got.startswith(b"HTTP/") and b"timed out" not in got and
          took < 3, f"{got[:60]!r} after {took:.2f} s")
    st, doc = c.call("GET", "/healthz")
    check("https_still_serves_after_plain_http", st == 200, doc)

    # protocol versions (gnutls-cli offers exactly the one asked)
    if shutil.which("gnutls-cli"):
        for v, want in (("TLS1.0", False), ("TLS1.1", False),
                        ("TLS1.2", True), ("TLS1.3", True)):
            done, text = gnutls_cli(port, ca, v)
            check(f"gnutls_cli_{v.replace('.', '_')}_"
                  f"{'accepted' if want else 'refused'}", done == want,
                  text[-300:])
    else:
        report("gnutls_cli_versions # SKIP gnutls-cli not installed", True)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(ca)
    try:
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        Client(port, key, old).call("GET", "/healthz")
        check("python_tls_1_1_refused", False, "handshake completed")
    except ssl.SSLError as e:
        if "NO_PROTOCOLS_AVAILABLE" in str(e) or "no protocols" in str(e):
            report("python_tls_1_1_refused # SKIP this OpenSSL cannot "
                   "offer TLS 1.1", True)
        else:  # the server closed or alerted: no 1.1 session
            check("python_tls_1_1_refused", True)
    except (ValueError, ConnectionError) as e:
        check("python_tls_1_1_refused", isinstance(e, ConnectionError),
              repr(e))

    # the deadline covers the TLS handshake: a ClientHello one byte a
    # second is closed after --request-timeout (2 s) + the reaper's tick
    bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(bio_in, bio_out, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = bio_out.read()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.time()
    closed_at = None
    for i in range(min(len(hello), 12)):
        try:
            s.sendall(hello[i:i + 1])
        except OSError:
            closed_at = time.time() - t0
            break
        time.sleep(1)
    if closed_at is None:
        try:
            s.settimeout(5)
            s.recv(1)
            closed_at = time.time() - t0
        except OSError:
            closed_at = time.time() - t0
    s.close()
    check("slow_tls_handshake_closed_by_deadline",
          closed_at is not None and 1.8 <= closed_at <= 4.5,
          f"closed after {closed_at}")


def startup_errors(tmp, pki):
    p = lambda name: os.path.join(pki, name)

    def serve(*flags):
        ddir = os.path.join(tmp, "never")
        out = subprocess.run([LIFT, "serve", "--data-dir", ddir, "--listen",
                              "127.0.0.1:0", *flags],
                             capture_output=True, text=True, timeout=30)
        return out.returncode, out.stderr.strip(), os.path.exists(ddir)

    missing = os.path.join(pki, "nope.pem")
    cases = [
        ("missing_cert", ["--tls-cert", missing, "--tls-key",
                          p("server.key")], 1,
         [f"cannot open TLS certificate '{missing}'",
          "No such file or directory"]),
        ("missing_key", ["--tls-cert", p("server.pem"), "--tls-key",
                         missing], 1,
         [f"cannot open TLS key '{missing}'", "No such file or directory"]),
        ("cert_not_pem", ["--tls-cert", p("server.tmpl"), "--tls-key",
                          p("server.key")], 1,
         [f"no PEM certificate in '{p('server.tmpl')}'"]),
        ("key_not_pem", ["--tls-cert", p("server.pem"), "--tls-key",
                         p("server.pem")], 1,
         [f"no PEM private key in '{p('server.pem')}'"]),
        ("key_mismatch", ["--tls-cert", p("server.pem"), "--tls-key",
                          p("other.key")], 1,
         [f"the private key in '{p('other.key')}' does not match the "
          f"certificate in '{p('server.pem')}'"]),
        ("cert_expired", ["--tls-cert", p("expired.pem"), "--tls-key",
                          p("server.key")], 1,
         [f"the certificate in '{p('expired.pem')}' expired on "
          "2020-02-01"]),
        ("cert_is_directory", ["--tls-cert", pki, "--tls-key",
                               p("server.key")], 1,
         [f"TLS certificate '{pki}' is not a regular file"]),
        ("cert_without_key_usage", ["--tls-cert", p("server.pem")], 2,
         ["--tls-cert needs --tls-key too"]),
        ("key_without_cert_usage", ["--tls-key", p("server.key")], 2,
         ["--tls-key needs --tls-cert too"]),
    ]
    for name, flags, want_rc, needles in cases:
        rc, err, made = serve(*flags)
        check(f"startup_{name}",
              rc == want_rc and all(n in err for n in needles) and
              err.startswith("lift: error: ") and not made,
              f"exit {rc}, data dir made: {made}, stderr: {err}")


def main():
    if not shutil.which("certtool"):
        print("not ok - certtool: not installed (gnutls-bin)")
        print("0 passed, 1 failed")
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="lift-tls-")
    pki = os.path.join(tmp, "pki")
    os.mkdir(pki)
    make_pki(pki)
    startup_errors(tmp, pki)
    ddir = os.path.join(tmp, "data")
    key = admin(ddir, "tenant", "create", "acme")["key"]
    proc, port = start(tmp, ddir, [
        "--tls-cert", os.path.join(pki, "server.pem"), "--tls-key",
        os.path.join(pki, "server.key"), "--request-timeout", "2"])
    try:
        run(tmp, pki, port, key)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
            check("sigterm_stops_cleanly", rc == 0,
                  f"exit {rc}; server log:\n{server_log(tmp)}")
        except subprocess.TimeoutExpired:
            proc.kill()
            check("sigterm_stops_cleanly", False, "did not stop in 60 s")
    log = server_log(tmp, 400)
    check("server_log_names_https", "serving HTTPS on 127.0.0.1:0" in log,
          log[:300])
    check("server_log_reports_slow_handshake",
          "request headers not received within 2 s" in log, log[-600:])
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
