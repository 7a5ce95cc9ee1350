#!/usr/bin/python3
"""bench/ingest/ingest.py - lift's CSV ingest against pandas (and libcsv).

Measures, on one file, in the same run and alternating the contenders on
every repeat so that both see the same machine state:
  parse      in-process parse time: lift_table_read_csv (ingest_bench
             --mode table) against pandas.read_csv (pandas_parse.py; the
             import is outside the clock)
  scan       the hand-written record scanner alone against libcsv's
             csv_parse, both over the file already in memory (skipped when
             ingest_bench was built without libcsv)
  process    whole-process wall time of `lift inspect FILE --sep S --json`
             against `python3 -c 'import pandas; pandas.read_csv(...)'`
  rss        the peak resident set size of the same two processes
             (/usr/bin/time -v), and lift's as a multiple of the file size
Each prints one comparable line: medians over the repeats, the ratio, and
the issue's target where there is one. With --results FILE the ingest
section of FILE (bench/RESULTS.md) is replaced by this run's figures.
Standard library only; exits 1 when a run fails (a missed target is
printed as MISSED, not an error: machines differ).
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # the interpreter that has pandas (Debian)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: "
                           f"{p.stderr.strip()[-500:]}")
    return p


def parse_json_line(text):
    return json.loads(text.strip().splitlines()[-1])


def timed_process(cmd):
    """Runs cmd under /usr/bin/time -v with stdout to /dev/null: (wall
    seconds, peak RSS bytes). The wall time is taken here with
    perf_counter (time -v prints it in hundredths of a second only)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: "
                           f"{p.stderr.strip()[-500:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if not rss:
        raise RuntimeError("cannot read /usr/bin/time -v output")
    return seconds, int(rss.group(1)) * 1024


def median(xs):
    return statistics.median(xs)


def fmt_s(x):
    return f"{x * 1000:.1f} ms"


def fmt_mb(x):
    return f"{x / 1e6:.1f} MB"


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


def versions():
    pandas = run([PYTHON, "-c", "import pandas, sys; "
                  "print(pandas.__version__, sys.version.split()[0])"])
    pd_version, py_version = pandas.stdout.split()
    return pd_version, py_version


def git_head(root):
    try:
        p = subprocess.run(["git", "-C", root, "rev-parse", "--short",
                            "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--", "src", "include"],
                               capture_output=True, text=True).stdout.strip()
        return p.stdout.strip() + ("+local changes" if dirty else "")
    except OSError:
        return "unknown"


def update_results(path, section):
    """Replaces the '## ingest' section of path (or appends it)."""
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if not text:
        text = ("# Benchmark results\n\n"
                "Each section is written by its bench/<name>/run.sh; the "
                "command to rerun it is in the section.\n\n")
    pattern = re.compile(r"^## ingest\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lift", required=True, help="the lift binary")
    ap.add_argument("--bench", required=True, help="the ingest_bench binary")
    ap.add_argument("--file", required=True, help="the CSV file")
    ap.add_argument("--sep", default=";")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--results", help="RESULTS.md to update")
    ap.add_argument("--command", default="",
                    help="the command line to record in the results")
    a = ap.parse_args()

    size = os.path.getsize(a.file)
    sep_arg = "tab" if a.sep == "\t" else a.sep
    pandas_parse = [PYTHON, os.path.join(HERE, "pandas_parse.py"), a.file,
                    a.sep]
    pandas_proc = [PYTHON, "-c", "import sys, pandas; "
                   "pandas.read_csv(sys.argv[1], sep=sys.argv[2])",
                   a.file, a.sep]
    lift_proc = [a.lift, "inspect", a.file, "--sep", sep_arg, "--json"]
    have_libcsv = subprocess.run(
        [a.bench, a.file, "--sep", sep_arg, "--mode", "libcsv"],
        capture_output=True).returncode == 0

    load_before = os.getloadavg()[0]
    m = {k: [] for k in ("lift_parse", "pandas_parse", "lift_scan",
                         "libcsv_scan", "lift_wall", "pandas_wall",
                         "lift_rss", "pandas_rss")}
    # one warm-up of each so that the file and the programs are in the
    # page cache for every measured repeat
    run([a.bench, a.file, "--sep", sep_arg])
    run(pandas_parse)
    for i in range(a.repeats):
        # alternate which contender goes first on each repeat
        order = [0, 1] if i % 2 == 0 else [1, 0]
        for who in order:
            if who == 0:
                d = parse_json_line(run([a.bench, a.file, "--sep",
                                         sep_arg]).stdout)
                m["lift_parse"].append(d["parse_s"])
            else:
                d = parse_json_line(run(pandas_parse).stdout)
                m["pandas_parse"].append(d["parse_s"])
        if have_libcsv:
            for who in order:
                mode = "scan" if who == 0 else "libcsv"
                d = parse_json_line(run([a.bench, a.file, "--sep", sep_arg,
                                         "--mode", mode]).stdout)
                m["lift_scan" if who == 0 else "libcsv_scan"].append(
                    d["parse_s"])
        for who in order:
            cmd = lift_proc if who == 0 else pandas_proc
            wall, rss = timed_process(cmd)
            key = "lift" if who == 0 else "pandas"
            m[key + "_wall"].append(wall)
            m[key + "_rss"].append(rss)

    load_after = os.getloadavg()[0]
    # what the lift process holds before any data: its code and libraries
    tiny = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                        f"ingest-tiny-{os.getpid()}.csv")
    with open(tiny, "w") as f:
        f.write("a;b\n1;x\n")
    try:
        _, base_rss = timed_process([a.lift, "inspect", tiny, "--sep",
                                     sep_arg, "--json"])
    finally:
        os.unlink(tiny)
    med = {k: median(v) for k, v in m.items() if v}
    parse_ratio = med["pandas_parse"] / med["lift_parse"]
    wall_ratio = med["pandas_wall"] / med["lift_wall"]
    rss_ratio = med["pandas_rss"] / med["lift_rss"]
    rss_x_file = med["lift_rss"] / size
    ok_parse = parse_ratio >= 3.0
    ok_rss = rss_x_file < 3.0
    name = os.path.basename(a.file)
    lines = [
        f"ingest parse   {name}: lift {fmt_s(med['lift_parse'])}, pandas "
        f"{fmt_s(med['pandas_parse'])}, pandas/lift {parse_ratio:.2f}x "
        f"(target >= 3x: {'met' if ok_parse else 'MISSED'})",
    ]
    if have_libcsv:
        scan_ratio = med["libcsv_scan"] / med["lift_scan"]
        lines.append(
            f"ingest scan    {name}: lift scanner "
            f"{fmt_s(med['lift_scan'])}, libcsv "
            f"{fmt_s(med['libcsv_scan'])}, libcsv/lift {scan_ratio:.2f}x")
    lines += [
        f"ingest process {name}: lift inspect {fmt_s(med['lift_wall'])}, "
        f"python3+pandas {fmt_s(med['pandas_wall'])}, pandas/lift "
        f"{wall_ratio:.2f}x",
        f"ingest rss     {name}: lift inspect {fmt_mb(med['lift_rss'])} "
        f"({rss_x_file:.2f}x the file's {size} bytes; target < 3x: "
        f"{'met' if ok_rss else 'MISSED'}; {fmt_mb(base_rss)} of it before "
        f"any data), python3+pandas {fmt_mb(med['pandas_rss'])}, "
        f"pandas/lift {rss_ratio:.2f}x",
    ]
    for line in lines:
        print(line)

    if a.results:
        pd_version, py_version = versions()
        root = os.path.dirname(os.path.dirname(HERE))
        rows = [
            ("in-process parse (median)", fmt_s(med["lift_parse"]),
             fmt_s(med["pandas_parse"]), f"{parse_ratio:.2f}x faster"),
        ]
        if have_libcsv:
            rows.append(("scanner only vs libcsv (median)",
                         fmt_s(med["lift_scan"]),
                         f"libcsv {fmt_s(med['libcsv_scan'])}",
                         f"{med['libcsv_scan'] / med['lift_scan']:.2f}x "
                         "faster"))
        rows += [
            ("whole process, wall (median)", fmt_s(med["lift_wall"]),
             fmt_s(med["pandas_wall"]), f"{wall_ratio:.2f}x faster"),
            ("whole process, peak RSS (median)", fmt_mb(med["lift_rss"]),
             fmt_mb(med["pandas_rss"]), f"{rss_ratio:.2f}x smaller"),
        ]
        table = "\n".join(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |"
                          for r in rows)
        runs = "\n".join(
            f"- {k}: " + ", ".join(
                (fmt_mb(x) if k.endswith("rss") else fmt_s(x)) for x in v)
            for k, v in m.items() if v)
        section = f"""## ingest

`{a.command or 'bench/ingest/run.sh'}`

File `{name}` ({size} bytes, separator `{sep_arg}`), {a.repeats} repeats
alternating lift and pandas; medians. Run on {time.strftime('%Y-%m-%d')},
{machine()} (load average {load_before:.1f} before, {load_after:.1f}
after: other jobs shared the machine), lift {git_head(root)}, pandas
{pd_version}, Python {py_version}.

| measure | lift | pandas | lift is |
|---|---:|---:|---:|
{table}

lift's peak RSS is {rss_x_file:.2f}x the file size (target: under 3x,
{'met' if ok_rss else 'missed'}); of it, {fmt_mb(base_rss)} is the process
before any data (`lift inspect` of a two-line file: the binary and the
libraries it links), the rest the table. Its in-process parse is {parse_ratio:.2f}x
faster than pandas.read_csv (target: at least 3x, {'met' if ok_parse else
'missed'}).

What is timed: *in-process parse* is `lift_table_read_csv` (read the file,
scan it, infer the types, build the typed columns) in
`bench/ingest/ingest_bench.c` against `pandas.read_csv(FILE, sep=...)` in
`bench/ingest/pandas_parse.py`, the import outside the clock. *Scanner
only* is the record scanner of `src/data/csv.c` against libcsv's
`csv_parse` over the same bytes in memory. *Whole process* is
`lift inspect FILE --sep S --json > /dev/null` against
`python3 -c 'import pandas; pandas.read_csv(...)'` under `/usr/bin/time -v`
(peak RSS from it; wall time by the driver's clock around it).

Every run:
{runs}
"""
        update_results(a.results, section)
        print(f"ingest: results written to {a.results}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"ingest: {e}", file=sys.stderr)
        sys.exit(1)
