#!/usr/bin/python3
"""Builds hillstrom_tx.csv, a transactions table (customer,date,amount) for
the RFM tests, from the first 3000 rows of Hillstrom's e-mail file.

The rules (the e2e test recomputes the same customers from them):
- customer: "c" and the 1-based data row number, five digits ("c00001");
- as-of date: 2008-03-20 (the day the challenge was published);
- purchases: n = 1 + mens + womens + (s - 1) // 2, where s is the leading
  digit of history_segment (1..7), so 1 <= n <= 6;
- dates: the last purchase is 30 x recency days before the as-of date,
  the others 45, 90, ... days before the last;
- amounts: history in cents, H = round(100 x history), split as
  floor(H / n) cents per purchase, the last purchase taking the remainder,
  so the amounts add up to history.
Rows are ordered by customer, then by date. Standard library only.

usage: make_hillstrom_tx.py HILLSTROM.csv OUT.csv
"""
import csv
import datetime
import sys

N_CUSTOMERS = 3000
AS_OF = datetime.date(2008, 3, 20)


def purchases(row):
    s = int(row["history_segment"][0])
    n = 1 + int(row["mens"]) + int(row["womens"]) + (s - 1) // 2
    last = AS_OF - datetime.timedelta(days=30 * int(row["recency"]))
    cents = round(float(row["history"]) * 100)
    each = cents // n
    out = []
    for j in range(n - 1, -1, -1):
        day = last - datetime.timedelta(days=45 * j)
        amount = each if j else cents - (n - 1) * each
        out.append((day.isoformat(), f"{amount // 100}.{amount % 100:02d}"))
    return out


def main():
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))[:N_CUSTOMERS]
    with open(sys.argv[2], "w", newline="") as f:
        f.write("customer,date,amount\n")
        for i, row in enumerate(rows, 1):
            for day, amount in purchases(row):
                f.write(f"c{i:05d},{day},{amount}\n")


if __name__ == "__main__":
    main()
