#!/usr/bin/env python3
"""Writes the JSON Lines input of the `chartcoder context` end-to-end run in
docs/PERFORMANCE.md: each note of benchmarks/data/ with 50 random words of four
or more letters as targets, 25 times (5,000 lines).

Usage: benchmarks/make_context_input.py OUTPUT.jsonl
"""
import glob
import json
import os
import random
import re
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    random.seed(5)
    here = os.path.dirname(os.path.abspath(__file__))
    notes = [open(f, encoding="utf-8").read() for f in sorted(glob.glob(os.path.join(here, "data", "*.txt")))]
    lines = []
    for _ in range(25):
        for note in notes:
            words = re.findall(r"[A-Za-z][A-Za-z'-]{3,}", note)
            for word in random.sample(words, 50):
                lines.append(json.dumps({"id": "n%d" % len(lines), "text": note, "target": word}))
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
