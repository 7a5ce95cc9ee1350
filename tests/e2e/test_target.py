#!/usr/bin/python3
"""End-to-end test of campaign targeting and the HTML report: `lift target`,
`lift report`, POST /v1/campaigns:target and GET /v1/models/{name}/report,
on the bank marketing file split as the peers split it (stratified 80/20,
seed 42, ../shared/peers/split.py), duration dropped, y = yes.

Checks numbers, not just exit codes: the plan's expected profit equals the
sum of the positive p * value - cost over `lift predict`'s scores; at cost 5
and value 100 the profit realised on the test labels beats contacting
everyone and each fixed top 10/20/30 %, and the top decile lifts >= 3x;
--budget 2000 spends at most 2000; the selection CSV matches the plan.
Bad economics (negative cost, value 0, a budget below one contact,
conflicting limits, a text value column, a value and a value column)
exit 1 / answer 422 with a clear
sentence. The report is rendered by headless Chromium (Debian's chromium):
the screenshot must not be blank and each chart must hold its expected
number of points, in the file and in the rendered DOM.

Prints `ok - name` / `not ok - name: why`, then `N passed, N failed`;
exits 1 when anything failed. Standard library only.
"""
import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")
BANK = os.path.join(DATA, "bank-marketing", "bank-additional-full.csv")
SPLIT = os.path.join(DATA, "..", "peers", "split.py")

results = {"passed": 0, "failed": 0}


def check(name, cond, why=""):
    if cond:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {str(why)[:400]}")
    sys.stdout.flush()
    return bool(cond)


def lift(*args):
    return subprocess.run([LIFT, *args], capture_output=True, text=True)


def target(model, data, *extra):
    out = lift("target", model, data, "--sep", ";", *extra)
    doc = None
    if out.returncode == 0 and "--json" in extra:
        doc = json.loads(out.stdout)
    return out, doc


# ---- PNG decoding (stdlib: zlib) -------------------------------------------

def png_pixels(path):
    """(width, height, channels, rows of bytes) of an 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or interlace:
        raise ValueError(f"unsupported PNG depth {depth} interlace {interlace}")
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, ch, rows


def png_stats(path):
    """Distinct colours and the share of non-white pixels (every 2nd)."""
    w, h, ch, rows = png_pixels(path)
    colours, nonwhite, total = set(), 0, 0
    for y in range(0, h, 2):
        row = rows[y]
        for x in range(0, w, 2):
            px = row[x * ch:x * ch + min(ch, 3)]
            colours.add(px)
            total += 1
            if any(v < 240 for v in px):
                nonwhite += 1
    return w, h, len(colours), nonwhite / max(total, 1)


# ---- the charts in the HTML -------------------------------------------------

def charts(html):
    """{id: (declared data-points, counted class="pt")}."""
    out = {}
    for m in re.finditer(r'<svg class="chart" id="([a-z]+)" '
                         r'data-points="(\d+)"(.*?)</svg>', html, re.S):
        out[m.group(1)] = (int(m.group(2)),
                           len(re.findall(r'class="pt"', m.group(3))))
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="lift-target-")
    try:
        run(tmp)
    finally:
        if results["failed"] == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"# files kept in {tmp}")
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


def run(tmp):
    train = os.path.join(tmp, "train.csv")
    test = os.path.join(tmp, "test.csv")
    model = os.path.join(tmp, "bank.lift")
    out = subprocess.run(["/usr/bin/python3", SPLIT, "--in", BANK, "--sep",
                          ";", "--stratify", "y", "--out-train", train,
                          "--out-test", test], capture_output=True, text=True)
    if not check("peer_split", out.returncode == 0, out.stderr):
        return
    out = lift("train", train, "--sep", ";", "--target", "y", "--positive",
               "yes", "--drop", "duration", "-o", model)
    if not check("train", out.returncode == 0, out.stderr):
        return
    cli_checks(tmp, model, test)
    report_checks(tmp, model, test)
    server_checks(tmp, model, test)


def cli_checks(tmp, model, test):
    sel = os.path.join(tmp, "selected.csv")
    out, doc = target(model, test, "--cost", "5", "--value", "100", "--json",
                      "-o", sel)
    if not check("target_no_limit_runs", out.returncode == 0, out.stderr):
        return
    k = doc["cutoff"]["contacts"]
    real = doc["realised"]
    print(f"# cut-off {k} of {doc['rows']}, expected profit "
          f"{doc['plan']['profit']:.2f}, realised {real['plan']['profit']:.2f}"
          f" (everyone {real['everyone']['profit']:.2f}, top 10/20/30 % "
          f"{real['top_10']['profit']:.2f} / {real['top_20']['profit']:.2f} /"
          f" {real['top_30']['profit']:.2f}), top-decile lift "
          f"{doc['lift_table'][0]['lift']:.2f}")
    check("cutoff_inside", 0 < k < doc["rows"], k)
    check("realised_beats_everyone",
          real["plan"]["profit"] > real["everyone"]["profit"], real)
    for top in ("top_10", "top_20", "top_30"):
        check(f"realised_beats_{top}",
              real["plan"]["profit"] > real[top]["profit"], real)
    check("top_decile_lift_3x", doc["lift_table"][0]["lift"] >= 3,
          doc["lift_table"][0])
    check("plan_beats_random_and_everyone",
          doc["plan"]["profit"] > doc["everyone"]["profit"] and
          doc["plan"]["profit"] > doc["random"]["profit"], doc["plan"])
    check("totals_consistent",
          abs(doc["plan"]["cost"] - 5 * k) < 1e-6 and
          abs(doc["plan"]["revenue"] - 100 * doc["plan"]["conversions"])
          < 1e-6 * doc["plan"]["revenue"] and
          abs(doc["plan"]["profit"] - (doc["plan"]["revenue"] -
                                       doc["plan"]["cost"])) < 1e-6, doc["plan"])

    # the expected profit, from lift predict's scores independently
    out = lift("predict", model, test, "--sep", ";")
    scores = [float(line.split(",")[1]) for line in out.stdout.split()[1:]]
    gains = sorted((p * 100 - 5 for p in scores), reverse=True)
    best = sum(g for g in gains if g > 0)
    check("expected_profit_matches_predict",
          abs(best - doc["plan"]["profit"]) < 1e-6 * best and
          k == sum(1 for g in gains if g > 0),
          f"{best} vs {doc['plan']['profit']}")

    # the selection file
    with open(sel, newline="") as f:
        rows = list(csv.reader(f))
    check("csv_header", rows[0] == ["row", "score", "expected_profit"],
          rows[0])
    body = rows[1:]
    check("csv_count_is_cutoff", len(body) == k, f"{len(body)} vs {k}")
    ep = [float(r[2]) for r in body]
    check("csv_ranked_by_expected_profit",
          all(a >= b for a, b in zip(ep, ep[1:])) and ep[-1] > 0, ep[-3:])
    check("csv_rows_are_1_based",
          all(1 <= int(r[0]) <= len(scores) for r in body) and
          abs(float(body[0][1]) - scores[int(body[0][0]) - 1]) < 1e-6,
          body[:2])
    check("csv_written_atomically",
          not [n for n in os.listdir(tmp) if ".tmp." in n], os.listdir(tmp))

    # the limits
    out, b = target(model, test, "--cost", "5", "--value", "100", "--budget",
                    "2000", "--json")
    if check("budget_2000_runs", out.returncode == 0, out.stderr):
        print(f"# budget 2000: {b['cutoff']['contacts']} contacts, cost "
              f"{b['plan']['cost']:.2f}, expected profit "
              f"{b['plan']['profit']:.2f}, realised "
              f"{b['realised']['plan']['profit']:.2f}")
        check("budget_2000_spends_at_most_2000",
              b["plan"]["cost"] <= 2000 and b["cutoff"]["contacts"] == 400,
              b["plan"])
    out, b = target(model, test, "--cost", "5", "--value", "100",
                    "--max-contacts", "100", "--json")
    check("max_contacts_100", out.returncode == 0 and
          b["cutoff"]["contacts"] == 100, out.stderr)
    out, b = target(model, test, "--cost", "5", "--value", "100",
                    "--min-roi", "3", "--json")
    check("min_roi_3", out.returncode == 0 and b["plan"]["roi"] >= 3 and
          0 < b["cutoff"]["contacts"] < k, out.stderr or b["plan"])
    out, b = target(model, test, "--cost", "5", "--value", "100", "--id",
                    "job", "-o", sel)
    with open(sel) as f:
        head = f.readline().strip()
    check("id_column_header", out.returncode == 0 and
          head == "job,score,expected_profit", head)

    # a value column: twice the constant's profit at twice the value
    vfile = os.path.join(tmp, "valued.csv")
    with open(test) as f, open(vfile, "w") as g:
        for i, line in enumerate(f):
            g.write(line.rstrip("\n") + (';"order"\n' if i == 0 else ";200\n"))
    out, v = target(model, vfile, "--cost", "10", "--value-col", "order",
                    "--json")
    check("value_column", out.returncode == 0 and
          abs(v["plan"]["profit"] - 2 * doc["plan"]["profit"]) <
          1e-6 * v["plan"]["profit"] and
          v["cutoff"]["contacts"] == k, out.stderr or v["plan"])

    # bad economics: exit 1, a sentence, no output file
    bad = os.path.join(tmp, "bad.csv")
    cases = [
        ("negative_cost", ["--cost", "-5", "--value", "100"], "cost"),
        ("value_zero", ["--cost", "5", "--value", "0"], "must be > 0"),
        ("budget_below_one_contact",
         ["--cost", "5", "--value", "100", "--budget", "3"],
         "below the cost of one contact"),
        ("conflicting_limits",
         ["--cost", "5", "--value", "100", "--budget", "2000",
          "--max-contacts", "10"], "conflicting limits"),
        ("text_value_column", ["--cost", "5", "--value-col", "job"],
         "value column 'job' is categorical, not numeric"),
        ("unknown_value_column", ["--cost", "5", "--value-col", "nope"],
         "nope"),
        ("value_and_value_column",
         ["--cost", "5", "--value", "100", "--value-col", "age"],
         "not both"),
    ]
    for name, args, want in cases:
        out, _ = target(model, test, *args, "-o", bad)
        check(f"bad_{name}_exit_1", out.returncode == 1 and
              want in out.stderr and out.stderr.startswith("lift: error: ")
              and not os.path.exists(bad), f"{out.returncode} {out.stderr}")
    out, _ = target(model, test, "--cost", "five", "--value", "100")
    check("cost_not_a_number_usage_2", out.returncode == 2, out.stderr)


def report_checks(tmp, model, test):
    html_path = os.path.join(tmp, "report.html")
    out = lift("report", model, test, "--sep", ";", "--cost", "5", "--value",
               "100", "-o", html_path)
    if not check("report_runs", out.returncode == 0, out.stderr):
        return
    with open(html_path) as f:
        html = f.read()
    check("report_self_contained",
          "<script" not in html and "<link" not in html and
          not re.search(r'(src|href)="', html) and "@import" not in html and
          "<style>" in html, "external reference")
    _, doc = target(model, test, "--cost", "5", "--value", "100", "--json")
    ev = json.loads(lift("eval", model, test, "--sep", ";",
                         "--json").stdout)
    n_cal = sum(1 for b in ev["calibration"]["bins"] if b["count"])
    expected = {"gain": 11, "lift": 10, "profit": len(doc["profit_curve"]),
                "calibration": n_cal, "importance": 10}
    got = charts(html)
    for cid, want in expected.items():
        declared, counted = got.get(cid, (None, None))
        check(f"chart_{cid}_points", declared == counted == want,
              f"declared {declared}, counted {counted}, want {want}")
    declared, counted = got.get("roc", (None, None))
    check("chart_roc_points", declared == counted and 50 <= counted <= 101,
          f"{declared} {counted}")
    check("report_cutoff_marker", html.count('class="cutoff"') == 1, "")
    lifts = re.search(r'id="lift".*?</svg>', html, re.S).group(0)
    first = float(re.search(r'class="pt"[^>]*data-y="([0-9.e+-]+)"',
                            lifts).group(1))
    check("report_lift_matches_plan",
          abs(first - doc["lift_table"][0]["lift"]) < 1e-4, first)
    out = lift("report", model, test, "--sep", ";", "--cost", "-1",
               "--value", "100", "-o", os.path.join(tmp, "no.html"))
    check("report_bad_economics_exit_1", out.returncode == 1 and
          "cost" in out.stderr and
          not os.path.exists(os.path.join(tmp, "no.html")), out.stderr)
    render(tmp, html_path, expected)


def chromium(tmp, *args):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180)


def render(tmp, html_path, expected):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        check("render_chromium", False, "chromium is not installed "
              "(scripts/install-deps.sh)")
        return
    png = os.path.join(tmp, "report.png")
    url = "file://" + os.path.abspath(html_path)
    out = chromium(tmp, f"--screenshot={png}", "--window-size=1200,2400", url)
    if not check("render_screenshot", out.returncode == 0 and
                 os.path.exists(png), out.stderr[-400:]):
        return
    w, h, colours, share = png_stats(png)
    print(f"# screenshot {w}x{h}: {colours} distinct colours, "
          f"{100 * share:.1f} % non-white")
    check("render_not_blank", colours >= 8 and share > 0.03,
          f"{colours} colours, {share:.4f} non-white")
    out = chromium(tmp, "--dump-dom", url)
    dom = charts(out.stdout)
    for cid, want in expected.items():
        declared, counted = dom.get(cid, (None, None))
        check(f"render_dom_{cid}_points", counted == want,
              f"counted {counted}, want {want}")


# ---- the server -------------------------------------------------------------

def call(port, key, method, path, body=None, ctype=None):
    data, headers = None, {"Authorization": "Bearer " + key}
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        else:
            data = body
            headers["Content-Type"] = ctype
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def jcall(*args, **kw):
    st, _, payload = call(*args, **kw)
    try:
        return st, json.loads(payload)
    except ValueError:
        return st, {"_raw": payload[:200]}


def start_server(tmp):
    ddir = os.path.join(tmp, "data")
    out = lift("admin", "tenant", "create", "acme", "--data-dir", ddir,
               "--json")
    key = json.loads(out.stdout)["key"]
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen([LIFT, "serve", "--data-dir", ddir, "--listen",
                             "127.0.0.1:0", "--port-file", port_file],
                            stderr=log)
    for _ in range(600):
        if os.path.exists(port_file):
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return proc, int(text), key
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def records_of(path, n):
    """n records spread over the file (its first rows, May 2008, are
    customers nobody should call)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    out = []
    step = max(1, (len(rows) - 1) // n)
    for vals in rows[1::step][:n]:
        rec = {}
        for k, v in zip(rows[0], vals):
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v
        out.append(rec)
    return out


def server_checks(tmp, model, test):
    try:
        proc, port, key = start_server(tmp)
    except (RuntimeError, KeyError, ValueError) as e:
        check("server_starts", False, e)
        return
    try:
        serve(tmp, port, key, model, test)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve(tmp, port, key, model, test):
    with open(model, "rb") as f:
        st, _, _ = call(port, key, "PUT", "/v1/models/bank/versions", f.read(),
                        "application/octet-stream")
    check("server_import_model", st == 201, st)
    with open(test, "rb") as f:
        st, _, _ = call(port, key, "POST",
                        "/v1/datasets?name=test&sep=semicolon", f.read(),
                        "text/csv")
    check("server_upload_dataset", st == 201, st)
    _, cli = target(model, test, "--cost", "5", "--value", "100", "--json")
    st, doc = jcall(port, key, "POST", "/v1/campaigns:target",
                    {"model": "bank", "dataset": "test", "cost": 5,
                     "value": 100, "list": 20})
    check("route_target_200", st == 200 and "plan" in doc, doc)
    if st == 200:
        check("route_target_equals_cli",
              doc["cutoff"]["contacts"] == cli["cutoff"]["contacts"] and
              abs(doc["plan"]["profit"] - cli["plan"]["profit"]) < 1e-6 *
              abs(cli["plan"]["profit"]) and
              abs(doc["realised"]["plan"]["profit"] -
                  cli["realised"]["plan"]["profit"]) < 1e-6, doc["plan"])
        check("route_target_lists_first_rows", len(doc["selected"]) == 20 and
              doc["selected"][0]["row"] >= 1, doc["selected"][:2])
    st, doc = jcall(port, key, "POST", "/v1/campaigns:target",
                    {"model": "bank", "dataset": "test", "cost": 5,
                     "value": 100, "budget": 2000})
    check("route_target_budget_2000", st == 200 and
          doc["plan"]["cost"] <= 2000, doc.get("plan", doc))
    recs = records_of(test, 200)
    st, doc = jcall(port, key, "POST", "/v1/campaigns:target",
                    {"model": "bank", "records": recs, "cost": 5,
                     "value": 100, "id": "age", "list": 5})
    check("route_target_inline_records", st == 200 and doc["rows"] == 200 and
          "id" in doc["selected"][0] and "realised" in doc, doc)
    bad = [
        ("negative_cost", {"cost": -5, "value": 100}, "cost"),
        ("budget_below_one_contact", {"cost": 5, "value": 100, "budget": 3},
         "below the cost of one contact"),
        ("conflicting_limits", {"cost": 5, "value": 100, "budget": 100,
                                "min_roi": 1}, "conflicting limits"),
        ("text_value_column", {"cost": 5, "value_col": "job"},
         "not numeric"),
        ("cost_not_a_number", {"cost": "5", "value": 100}, "'cost'"),
        ("no_dataset_nor_records", {"cost": 5, "value": 100, "dataset": None},
         "dataset"),
    ]
    for name, eco, want in bad:
        body = {"model": "bank", "dataset": "test", **eco}
        body = {k: v for k, v in body.items() if v is not None}
        st, doc = jcall(port, key, "POST", "/v1/campaigns:target", body)
        msg = doc.get("error", {}).get("message", "")
        check(f"route_bad_{name}_422", st == 422 and want in msg and
              doc["error"]["code"] == "unprocessable", f"{st} {doc}")
    st, doc = jcall(port, key, "POST", "/v1/campaigns:target",
                    {"model": "nope", "dataset": "test", "cost": 5,
                     "value": 100})
    check("route_unknown_model_404", st == 404, doc)
    st, ctype, payload = call(port, key, "GET",
                              "/v1/models/bank/report?dataset=test&cost=5"
                              "&value=100")
    html = payload.decode("utf-8", "replace")
    got = charts(html)
    check("route_report_html", st == 200 and ctype.startswith("text/html")
          and got.get("gain") == (11, 11) and got.get("lift") == (10, 10) and
          "profit" in got, f"{st} {ctype} {got}")
    st, ctype, payload = call(port, key, "GET",
                              "/v1/models/bank/report?dataset=test")
    got = charts(payload.decode("utf-8", "replace"))
    check("route_report_without_economics", st == 200 and
          "profit" not in got and "roc" in got, f"{st} {got}")
    st, doc = jcall(port, key, "GET",
                    "/v1/models/bank/report?dataset=test&cost=5&value=0")
    check("route_report_bad_economics_422", st == 422, doc)
    st, doc = jcall(port, key, "GET", "/v1/models/bank/report")
    check("route_report_needs_dataset_422", st == 422, doc)


if __name__ == "__main__":
    main()
