#!/usr/bin/python3
"""End-to-end test of `lift admin` on a temporary data dir.

Runs the binary named by $LIFT: tenant create (text and --json, the key
printed once and never stored), tenant list, key create for a tenant and
for the operator, key list (all and per tenant), key revoke, check (clean,
a missing blob, an unreferenced blob while another process holds the dir,
and --repair); then the failures: a duplicate tenant, a bad name, an
unknown tenant, an unknown key, and usage errors (exit 2).

Prints `ok - name` or `not ok - name: why` per check, then `N passed,
N failed`; exits 1 when anything failed. Standard library only.
"""
import fcntl
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile

LIFT = os.environ.get("LIFT", "build/lift")

results = {"passed": 0, "failed": 0}
KEY_RE = re.compile(r"^lift_[A-Za-z0-9_-]{43}$")


def report(name, ok, why=""):
    if ok:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


def run(*args):
    """Runs lift with the arguments; returns (exit code, stdout, stderr)."""
    p = subprocess.run([LIFT, *args], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def run_json(*args):
    """Runs lift with --json; returns (exit code, parsed stdout or None,
    stderr)."""
    rc, out, err = run(*args, "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    return rc, doc, err


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def file_holds(path, needle):
    try:
        with open(path, "rb") as f:
            return needle in f.read()
    except FileNotFoundError:
        return False


def test_tenants(d):
    rc, out, err = run("admin", "tenant", "create", "acme", "--data-dir", d)
    lines = out.splitlines()
    key_a = lines[-1] if lines else ""
    report("tenant create prints a key", rc == 0 and KEY_RE.match(key_a)
           and "acme" in out, f"rc {rc}, out {out!r}, err {err!r}")
    report("data dir made 0700 with a 0600 secret",
           mode(d) == 0o700 and mode(os.path.join(d, "secret")) == 0o600
           and os.path.getsize(os.path.join(d, "secret")) == 32
           and mode(os.path.join(d, "registry.db")) == 0o600,
           f"modes {oct(mode(d))}")

    rc, doc, err = run_json("admin", "tenant", "create", "bravo",
                            "--data-dir", d)
    ok = (rc == 0 and isinstance(doc, dict) and doc.get("tenant") == "bravo"
          and KEY_RE.match(doc.get("key", "")))
    report("tenant create --json gives tenant and key", ok,
           f"rc {rc}, doc {doc}, err {err!r}")
    key_b = doc.get("key", "") if isinstance(doc, dict) else ""
    report("two tenants get different keys", key_a != key_b and key_b != "")

    rc, doc, err = run_json("admin", "tenant", "list", "--data-dir", d)
    names = [t.get("name") for t in doc] if isinstance(doc, list) else None
    report("tenant list --json", rc == 0 and names == ["acme", "bravo"]
           and all(t.get("keys") == 1 for t in doc), f"rc {rc}, doc {doc}")
    rc, out, err = run("admin", "tenant", "list", "--data-dir", d)
    report("tenant list text", rc == 0 and "acme" in out and "bravo" in out
           and "lift_" not in out, f"rc {rc}, out {out!r}")

    rc, out, err = run("admin", "tenant", "create", "acme", "--data-dir", d)
    report("duplicate tenant fails", rc == 1 and out == ""
           and err.strip() == "lift: error: tenant 'acme' already exists",
           f"rc {rc}, err {err!r}")
    for bad in [".hidden", "a/b", "x" * 65, "spa ce", ""]:
        rc, out, err = run("admin", "tenant", "create", bad, "--data-dir", d)
        report(f"bad tenant name {bad[:12]!r} fails", rc == 1
               and "invalid tenant name" in err or
               (bad == "" and rc == 1 and "empty" in err),
               f"rc {rc}, err {err!r}")
    return key_a, key_b


def test_keys(d, key_a, key_b):
    rc, doc, err = run_json("admin", "key", "create", "--tenant", "acme",
                            "--data-dir", d)
    ok = (rc == 0 and isinstance(doc, dict) and doc.get("tenant") == "acme"
          and doc.get("operator") is False and KEY_RE.match(doc.get("key", ""))
          and isinstance(doc.get("id"), int))
    report("key create --tenant", ok, f"rc {rc}, doc {doc}, err {err!r}")
    key_a2 = doc.get("key", "") if isinstance(doc, dict) else ""
    id_a2 = doc.get("id") if isinstance(doc, dict) else None

    rc, doc, err = run_json("admin", "key", "create", "--operator",
                            "--data-dir", d)
    ok = (rc == 0 and isinstance(doc, dict) and doc.get("operator") is True
          and doc.get("tenant") is None and KEY_RE.match(doc.get("key", "")))
    report("key create --operator", ok, f"rc {rc}, doc {doc}, err {err!r}")
    key_op = doc.get("key", "") if isinstance(doc, dict) else ""

    rc, out, err = run("admin", "key", "create", "--tenant", "zulu",
                       "--data-dir", d)
    report("key create for an unknown tenant fails", rc == 1
           and err.strip() == "lift: error: no tenant 'zulu'",
           f"rc {rc}, err {err!r}")
    rc, out, err = run("admin", "key", "create", "--tenant", "acme",
                       "--operator", "--data-dir", d)
    report("key create with --tenant and --operator is a usage error",
           rc == 2, f"rc {rc}, err {err!r}")
    rc, out, err = run("admin", "key", "create", "--data-dir", d)
    report("key create with neither is a usage error", rc == 2,
           f"rc {rc}, err {err!r}")

    rc, doc, err = run_json("admin", "key", "list", "--data-dir", d)
    ok = (rc == 0 and isinstance(doc, list) and len(doc) == 4
          and sum(1 for k in doc if k.get("operator")) == 1
          and all(k.get("revoked") is None for k in doc))
    report("key list --json, all keys", ok, f"rc {rc}, doc {doc}")
    rc, doc, err = run_json("admin", "key", "list", "--tenant", "acme",
                            "--data-dir", d)
    ok = (rc == 0 and isinstance(doc, list) and len(doc) == 2
          and all(k.get("tenant") == "acme" for k in doc))
    report("key list --tenant", ok, f"rc {rc}, doc {doc}")
    rc, out, err = run("admin", "key", "list", "--tenant", "nobody",
                       "--data-dir", d)
    report("key list for an unknown tenant fails", rc == 1
           and "no tenant 'nobody'" in err, f"rc {rc}, err {err!r}")
    rc, out, err = run("admin", "key", "list", "--data-dir", d)
    report("key list text shows no key", rc == 0 and "operator" in out
           and "lift_" not in out, f"rc {rc}, out {out!r}")

    rc, out, err = run("admin", "key", "revoke", str(id_a2), "--data-dir", d)
    report("key revoke", rc == 0 and "revoked" in out, f"rc {rc}, {err!r}")
    rc, doc, err = run_json("admin", "key", "list", "--tenant", "acme",
                            "--data-dir", d)
    revoked = [k for k in doc if k.get("id") == id_a2] if doc else []
    report("revoked key listed with its time", len(revoked) == 1
           and isinstance(revoked[0].get("revoked"), int), f"doc {doc}")
    rc, out, err = run("admin", "key", "revoke", "9999", "--data-dir", d)
    report("revoke an unknown key fails", rc == 1
           and "no key with id 9999" in err, f"rc {rc}, err {err!r}")
    rc, out, err = run("admin", "key", "revoke", "abc", "--data-dir", d)
    report("revoke a non-number is a usage error", rc == 2,
           f"rc {rc}, err {err!r}")

    # only keyed hashes are stored: no key text, no base64 body
    files = [os.path.join(d, f) for f in os.listdir(d)]
    leaked = [f for f in files for k in (key_a, key_b, key_a2, key_op)
              if os.path.isfile(f) and (file_holds(f, k.encode())
                                        or file_holds(f, k[5:30].encode()))]
    report("no key text in the data dir", not leaked, f"found in {leaked}")


def test_check(d):
    rc, doc, err = run_json("admin", "check", "--data-dir", d)
    report("check of a sound dir", rc == 0 and isinstance(doc, dict)
           and doc.get("ok") is True and doc.get("integrity") == "ok",
           f"rc {rc}, doc {doc}, err {err!r}")
    rc, out, err = run("admin", "check", "--data-dir", d)
    report("check text", rc == 0 and out.strip().endswith("ok"),
           f"rc {rc}, out {out!r}")

    # an unreferenced blob while another process (a server) has the dir
    # open: open leaves it, check finds it, repair is skipped
    orphan = os.path.join(d, "blobs", "0123456789abcdef0123456789abcdef")
    with open(orphan, "w") as f:
        f.write("x")
    lock = open(os.path.join(d, "lock"), "r+")
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        rc, doc, err = run_json("admin", "check", "--data-dir", d)
        report("check finds an unreferenced blob", rc == 1
               and doc and doc.get("orphans") == [os.path.basename(orphan)]
               and "unreferenced" in err, f"rc {rc}, doc {doc}, {err!r}")
        rc, doc, err = run_json("admin", "check", "--repair", "--data-dir", d)
        report("repair waits for a dir nobody else uses", rc == 1
               and doc and "skipped" in doc.get("repair", "")
               and os.path.exists(orphan), f"rc {rc}, doc {doc}")
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    rc, doc, err = run_json("admin", "check", "--repair", "--data-dir", d)
    report("alone, the next open removes it", rc == 0 and doc
           and doc.get("ok") is True and not os.path.exists(orphan),
           f"rc {rc}, doc {doc}, err {err!r}")

    # a dataset row whose blob is gone
    db = sqlite3.connect(os.path.join(d, "registry.db"))
    db.execute("INSERT INTO datasets (tenant_id, name, blob, bytes, rows, "
               "created) VALUES (1, 'lost', "
               "'fedcba9876543210fedcba9876543210', 10, 1, 0)")
    db.commit()
    db.close()
    rc, doc, err = run_json("admin", "check", "--data-dir", d)
    missing = doc.get("missing") if doc else None
    report("check finds a missing blob", rc == 1 and missing
           and missing[0].get("name") == "lost"
           and missing[0].get("tenant") == "acme"
           and "1 missing blobs" in err, f"rc {rc}, doc {doc}, err {err!r}")
    rc, out, err = run("admin", "check", "--data-dir", d)
    report("check text names the missing blob", rc == 1
           and "missing blob: dataset 'lost' of tenant 'acme'" in out,
           f"rc {rc}, out {out!r}")


def test_usage(d):
    for args, what in [(["admin"], "no command"),
                       (["admin", "frob"], "unknown group"),
                       (["admin", "tenant"], "no action"),
                       (["admin", "tenant", "rename", "x", "--data-dir", d],
                        "unknown action"),
                       (["admin", "tenant", "list"], "no --data-dir"),
                       (["admin", "tenant", "create", "--data-dir", d],
                        "no name"),
                       (["admin", "tenant", "list", "--data-dir", d, "--x"],
                        "unknown flag")]:
        rc, out, err = run(*args)
        report(f"usage error: {what}", rc == 2 and "lift: error:" in err
               or (what == "no command" and rc == 2 and "usage" in err),
               f"rc {rc}, err {err!r}")
    rc, out, err = run("admin", "--help")
    report("admin --help", rc == 0 and "lift admin tenant create" in out,
           f"rc {rc}")
    # a data dir that cannot be made
    rc, out, err = run("admin", "tenant", "list", "--data-dir",
                       "/proc/lift-none/x")
    report("unmakeable data dir fails", rc == 1 and "lift: error:" in err,
           f"rc {rc}, err {err!r}")


def main():
    base = tempfile.mkdtemp(prefix="lift-admin-")
    try:
        d = os.path.join(base, "data")
        key_a, key_b = test_tenants(d)
        test_keys(d, key_a, key_b)
        test_check(d)
        test_usage(d)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
