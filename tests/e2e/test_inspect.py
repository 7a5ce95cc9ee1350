#!/usr/bin/python3
"""End-to-end test of `lift inspect` on the real data files.

Runs the binary named by $LIFT on the four files in $DATA (the shared data
folder) and on small malformed files written to a temporary folder, and
checks the numbers measured in DATA/README.md: shapes, column types, the
bank target's class balance, the 12718 `unknown` cells, the SMS labels;
then exit codes and messages of failures (1) and usage errors (2).

Prints `ok - name` or `not ok - name: why` per check, then `N passed,
N failed`; exits 1 when anything failed. Standard library only.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

LIFT = os.environ.get("LIFT", "build/lift")
DATA = os.environ.get("DATA", "../shared/data")

BANK_FULL = os.path.join(DATA, "bank-marketing", "bank-additional-full.csv")
BANK = os.path.join(DATA, "bank-marketing", "bank-additional.csv")
SMS = os.path.join(DATA, "sms-spam-collection", "SMSSpamCollection")
HILLSTROM = os.path.join(DATA, "hillstrom", "hillstrom.csv")

UNKNOWN_PER_COLUMN = {
    "default": 8597,
    "education": 1731,
    "housing": 990,
    "loan": 990,
    "job": 330,
    "marital": 80,
}

results = {"passed": 0, "failed": 0}


def report(name, ok, why=""):
    if ok:
        results["passed"] += 1
        print(f"ok - {name}")
    else:
        results["failed"] += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


def skip(name, why):
    print(f"ok - {name} # SKIP {why}")


def run(*args):
    """Runs lift with the arguments; returns (exit code, stdout, stderr)."""
    p = subprocess.run([LIFT, *args], capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def inspect_json(*args):
    """`lift inspect ARGS --json`: the parsed document, or raises."""
    code, out, err = run("inspect", *args, "--json")
    if code != 0:
        raise AssertionError(f"exit {code}: {err.strip()}")
    return json.loads(out)


def columns(doc):
    return {c["name"]: c for c in doc["columns"]}


def check(name, fn):
    """Runs fn(); it returns None when fine or a reason string."""
    try:
        why = fn()
    except Exception as e:  # a crash of the check is a failure
        why = f"{type(e).__name__}: {e}"
    report(name, why is None, why or "")


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


# ---- real files --------------------------------------------------------------


def bank_full_shape_types_target():
    d = inspect_json(BANK_FULL, "--target", "y", "--positive", "yes")
    expect((d["rows"], d["cols"]) == (41188, 21),
           f"shape {d['rows']} x {d['cols']}")
    expect(d["sep"] == ";", f"sep {d['sep']!r}")
    cols = columns(d)
    want = {"age": "numeric", "job": "categorical", "duration": "numeric",
            "emp.var.rate": "numeric", "euribor3m": "numeric",
            "y": "categorical"}
    for name, t in want.items():
        expect(cols[name]["type"] == t, f"{name} is {cols[name]['type']}")
    expect(cols["age"]["min"] == 17 and cols["age"]["max"] == 98,
           f"age range {cols['age']['min']}..{cols['age']['max']}")
    tg = d["target"]
    expect(tg["levels"] == {"no": 36548, "yes": 4640},
           f"levels {tg['levels']}")
    expect(math.isclose(tg["positive_rate"], 4640 / 41188, rel_tol=1e-9),
           f"positive_rate {tg['positive_rate']}")
    expect(tg["missing"] == 0, f"target missing {tg['missing']}")
    expect(sum(c["missing"] for c in d["columns"]) == 0,
           "missing cells without --missing")


def bank_full_missing_unknown_12718():
    d = inspect_json(BANK_FULL, "--missing", "unknown")
    total = sum(c["missing"] for c in d["columns"])
    expect(total == 12718, f"{total} missing cells")
    cols = columns(d)
    for name, n in UNKNOWN_PER_COLUMN.items():
        expect(cols[name]["missing"] == n,
               f"{name}: {cols[name]['missing']} missing, want {n}")
        expect(all(t["value"] != "unknown" for t in cols[name]["top"]),
               f"{name} still lists 'unknown'")


def bank_full_pdays_sentinel_39673():
    d = inspect_json(BANK_FULL, "--missing", "pdays=999")
    cols = columns(d)
    expect(cols["pdays"]["missing"] == 39673,
           f"pdays missing {cols['pdays']['missing']}")
    expect(cols["pdays"]["type"] == "numeric", cols["pdays"]["type"])
    expect(cols["pdays"]["max"] == 27, f"pdays max {cols['pdays']['max']}")
    expect(cols["job"]["missing"] == 0, "the sentinel leaked to job")


def bank_sample_shape_target():
    d = inspect_json(BANK, "--target", "y", "--positive", "yes")
    expect((d["rows"], d["cols"]) == (4119, 21),
           f"shape {d['rows']} x {d['cols']}")
    expect(d["target"]["levels"] == {"no": 3668, "yes": 451},
           f"levels {d['target']['levels']}")


def sms_tab_no_header_no_quote():
    d = inspect_json(SMS, "--sep", "tab", "--no-header", "--no-quote",
                     "--columns", "label,text", "--target", "label",
                     "--positive", "spam")
    expect((d["rows"], d["cols"]) == (5574, 2),
           f"shape {d['rows']} x {d['cols']}")
    expect(d["sep"] == "tab", f"sep {d['sep']!r}")
    cols = columns(d)
    expect(list(cols) == ["label", "text"], f"names {list(cols)}")
    expect(cols["label"]["type"] == "categorical", cols["label"]["type"])
    expect(cols["text"]["type"] == "text", cols["text"]["type"])
    expect(cols["text"]["distinct"] == 5171,
           f"text distinct {cols['text']['distinct']}")
    expect(d["target"]["levels"] == {"ham": 4827, "spam": 747},
           f"levels {d['target']['levels']}")
    expect(math.isclose(d["target"]["positive_rate"], 747 / 5574,
                        rel_tol=1e-9), f"rate {d['target']['positive_rate']}")
    expect(d["replaced_bytes"] == 0, f"replaced {d['replaced_bytes']}")


def sms_with_quoting_bare_quote_error():
    code, _, err = run("inspect", SMS, "--sep", "tab", "--no-header")
    expect(code == 1, f"exit {code}")
    expect("inside an unquoted field" in err and "line " in err,
           f"stderr {err.strip()!r}")


def hillstrom_shape_visit_zip():
    d = inspect_json(HILLSTROM, "--target", "visit", "--positive", "1")
    expect((d["rows"], d["cols"]) == (64000, 12),
           f"shape {d['rows']} x {d['cols']}")
    expect(d["sep"] == ",", f"sep {d['sep']!r}")
    expect(d["target"]["levels"] == {"0": 54606, "1": 9394},
           f"levels {d['target']['levels']}")
    cols = columns(d)
    expect(cols["visit"]["type"] == "numeric", cols["visit"]["type"])
    zip_top = cols["zip_code"]["top"][0]
    expect(zip_top == {"value": "Surburban", "count": 28776},
           f"zip_code top {zip_top}")
    expect(cols["history_segment"]["distinct"] == 7,
           f"history_segment distinct {cols['history_segment']['distinct']}")
    expect(cols["segment"]["type"] == "categorical", cols["segment"]["type"])


def bank_full_text_output():
    code, out, err = run("inspect", BANK_FULL, "--sep", ";")
    expect(code == 0, f"exit {code}: {err.strip()}")
    expect("41188 rows x 21 columns, separator ';'" in out.splitlines()[0],
           f"first line {out.splitlines()[0]!r}")


# ---- failures ------------------------------------------------------------------


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def expect_failure(args, message):
    code, out, err = run("inspect", *args)
    expect(code == 1, f"exit {code}, stderr {err.strip()!r}")
    expect(err == f"lift: error: {message}\n", f"stderr {err!r}")
    expect(out == "", f"stdout {out!r}")


def failure_checks(tmp):
    ragged = write(tmp, "ragged.csv", b"a;b\r\n1;2\r\n3;4;5\r\n")
    unterminated = write(tmp, "quote.csv", b'id,note\n1,"ok"\n2,"open\n3,x\n')
    bad_utf8 = write(tmp, "utf8.csv", b"name,city\nAna,S\xffo Paulo\n")
    rows = write(tmp, "rows.csv", b"a\n1\n2\n3\n")
    dup = write(tmp, "dup.csv", b"id,x,id\n1,2,3\n")
    empty = write(tmp, "empty.csv", b"")

    check("error_ragged_row_exit_1", lambda: expect_failure(
        [ragged], f"line 3: expected 2 fields, found 3 in '{ragged}'"))
    check("error_unterminated_quote_exit_1", lambda: expect_failure(
        [unterminated],
        f"line 3, column 3: unterminated quoted field in '{unterminated}'"))
    check("error_invalid_utf8_exit_1", lambda: expect_failure(
        [bad_utf8],
        f"line 2, column 6: invalid UTF-8 byte 0xff in '{bad_utf8}'"))
    check("error_too_many_rows_exit_1", lambda: expect_failure(
        [rows, "--max-rows", "2"],
        f"more data records than the limit of 2 in '{rows}'"))
    check("error_duplicate_names_exit_1", lambda: expect_failure(
        [dup], f"duplicate column name 'id' (columns 1 and 3) in '{dup}'"))
    check("error_empty_file_exit_1", lambda: expect_failure(
        [empty], f"empty input '{empty}'"))
    missing = os.path.join(tmp, "nope.csv")
    check("error_missing_file_exit_1", lambda: expect_failure(
        [missing], f"cannot open '{missing}': No such file or directory"))
    check("error_unknown_target_exit_1", lambda: expect_failure(
        [rows, "--target", "zz"], "no column 'zz'"))

    def replaced():
        d = inspect_json(bad_utf8, "--utf8", "replace")
        expect(d["replaced_bytes"] == 1, f"replaced {d['replaced_bytes']}")
        top = columns(d)["city"]["top"][0]["value"]
        expect(top == "S\ufffdo Paulo", f"city {top!r}")
    check("utf8_replace_counts_and_stores_fffd", replaced)

    def usage(args, fragment):
        code, _, err = run("inspect", *args)
        expect(code == 2, f"exit {code}, stderr {err.strip()!r}")
        expect(err.startswith("lift: error: ") and fragment in err,
               f"stderr {err!r}")

    cases = [
        ("usage_no_file_exit_2", [], "no input file"),
        ("usage_unknown_flag_exit_2", [ragged, "--bogus"],
         "unknown argument '--bogus'"),
        ("usage_bad_utf8_policy_exit_2", [ragged, "--utf8", "lenient"],
         "--utf8 takes strict or replace"),
        ("usage_bad_number_exit_2", [ragged, "--max-rows", "ten"],
         "--max-rows takes a whole number"),
        ("usage_bad_separator_exit_2", [ragged, "--sep", "ab"],
         "bad separator 'ab'"),
        ("usage_missing_value_exit_2", [ragged, "--sep"], "--sep needs a value"),
        ("usage_positive_without_target_exit_2",
         [ragged, "--positive", "yes"], "--positive needs --target"),
        ("usage_two_files_exit_2", [ragged, rows], "unexpected argument"),
    ]
    for name, args, fragment in cases:
        check(name, lambda a=args, f=fragment: usage(a, f))


def main():
    if not os.access(LIFT, os.X_OK):
        report("lift_binary_present", False, f"{LIFT} is not executable")
    elif not os.path.isdir(DATA):
        for name in ("bank_full", "bank_sample", "sms", "hillstrom"):
            skip(name, f"no data folder {DATA}")
    else:
        check("bank_full_shape_types_target", bank_full_shape_types_target)
        check("bank_full_missing_unknown_12718",
              bank_full_missing_unknown_12718)
        check("bank_full_pdays_sentinel_39673",
              bank_full_pdays_sentinel_39673)
        check("bank_full_text_output", bank_full_text_output)
        check("bank_sample_shape_target", bank_sample_shape_target)
        check("sms_tab_no_header_no_quote", sms_tab_no_header_no_quote)
        check("sms_with_quoting_bare_quote_error",
              sms_with_quoting_bare_quote_error)
        check("hillstrom_shape_visit_zip", hillstrom_shape_visit_zip)
    if os.access(LIFT, os.X_OK):
        with tempfile.TemporaryDirectory(prefix="lift-e2e-") as tmp:
            failure_checks(tmp)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
