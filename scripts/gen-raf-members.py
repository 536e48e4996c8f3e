#!/usr/bin/python3
"""Writes a CSV of synthetic members for `chartcoder raf --input` (benchmarks, load tests).

Usage: scripts/gen-raf-members.py --members 1000000 --output /tmp/members.csv
           [--source ../shared/data] [--seed 1] [--bad-every N]

Columns: member_id,age,sex,dual,orec,institutional,new_enrollee,codes (docs/raf.md).
Deterministic for a seed. Demographics: ages 65-99 (one member in ten 30-64 and
entitled by disability), one in five dual (partial or full), one in thirty
institutional, one in twenty a new enrollee. Codes: 5 to 15 per member (10 on
average), dotted, from the CMS mapping table in the reference-data folder: half
from codes with a CMS-HCC V24 or V28 HCC, half from codes that only other models
(RxHCC, ESRD) map, so they are valid but map to no CMS-HCC; one code in fifty is
a category header or a malformed code. --bad-every N makes every Nth row
invalid (an age that is not a number) to exercise error reporting. Nothing here
is real patient data.
"""
import argparse
import csv
import os
import random
import sys


def dotted(code):
    return code if len(code) <= 3 else code[:3] + "." + code[3:]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--source", default=os.path.join(here, "..", "..", "shared", "data"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bad-every", type=int, default=0)
    a = p.parse_args()

    cms, other = set(), set()
    path = os.path.join(a.source, "hcc", "ra_dx_to_cc_2026.csv")
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["model_name"] in ("CMS-HCC Model V24", "CMS-HCC Model V28"):
                cms.add(row["diagnosis_code"])
            else:
                other.add(row["diagnosis_code"])
    other -= cms
    cms, other = sorted(cms), sorted(other)
    if not cms or not other:
        sys.exit(f"{path}: no CMS-HCC codes found")
    odd = ["I21.1", "R05", "E11", "E11.99999", "XYZ"]

    rng = random.Random(a.seed)
    with open(a.output, "w", newline="") as out:
        out.write("member_id,age,sex,dual,orec,institutional,new_enrollee,codes\n")
        for i in range(1, a.members + 1):
            disabled = rng.random() < 0.1
            age = rng.randint(30, 64) if disabled else rng.randint(65, 99)
            orec = 1 if disabled else (1 if rng.random() < 0.05 else 0)
            r = rng.random()
            dual = "full" if r < 0.1 else ("partial" if r < 0.2 else "none")
            inst = 1 if rng.random() < 1 / 30 else 0
            new = 1 if rng.random() < 0.05 else 0
            codes = []
            for _ in range(rng.randint(5, 15)):
                if rng.random() < 0.02:
                    codes.append(rng.choice(odd))
                else:
                    codes.append(dotted(rng.choice(cms if rng.random() < 0.5 else other)))
            age_text = "unknown" if a.bad_every and i % a.bad_every == 0 else str(age)
            out.write(f"M{i:08d},{age_text},{rng.choice('FM')},{dual},{orec},{inst},{new},"
                      f"{' '.join(codes)}\n")


if __name__ == "__main__":
    main()
