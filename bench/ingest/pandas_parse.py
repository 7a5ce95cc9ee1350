#!/usr/bin/python3
"""bench/ingest/pandas_parse.py FILE SEP - times one pandas.read_csv.

The import of pandas is outside the clock (time.perf_counter around the
read only), as ingest_bench times only lift_table_read_csv. Prints one
JSON line: {"mode": "pandas", "parse_s": ..., "rows": ..., "cols": ...}.
"""
import json
import sys
import time

import pandas


def main():
    path, sep = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    df = pandas.read_csv(path, sep=sep)
    t1 = time.perf_counter()
    print(json.dumps({"mode": "pandas", "parse_s": round(t1 - t0, 6),
                      "rows": df.shape[0], "cols": df.shape[1]}))


if __name__ == "__main__":
    main()
