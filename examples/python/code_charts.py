#!/usr/bin/env python3
"""A tour of the chartcoder Python API on the example charts.

Codes every chart of a folder on all cores, prints each chart's codes with the
words that support them, its HCCs and a RAF score for a sample member, then
shows assertion of a phrase, a member scored from codes alone, and a sealed
round trip.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/code_charts.py examples/charts
"""
from __future__ import annotations

import argparse
import base64
import os
import pathlib
import sys

import chartcoder


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=pathlib.Path, help="folder of .txt charts")
    parser.add_argument("--data", help="data pack (default: the installed one)")
    parser.add_argument("--threads", type=int, default=None, help="default: every core")
    parser.add_argument("--limit", type=int, default=5, help="charts to print (default 5)")
    args = parser.parse_args(argv)

    paths = sorted(args.folder.glob("*.txt"))
    if not paths:
        print(f"{args.folder}: no .txt charts", file=sys.stderr)
        return 2
    pipeline = chartcoder.Pipeline(args.data)  # load once, reuse everywhere
    texts = [p.read_text(encoding="utf-8") for p in paths]
    member = chartcoder.Demographics(age=72, sex="F")
    results = pipeline.code_many(texts, ids=[p.name for p in paths], demographics=member,
                                 threads=args.threads)

    for result in results[:args.limit]:
        print(f"== {result.id}")
        for code in result.codes[:6]:
            best = code.evidence[0]  # strongest first
            words = result.text[best.start:best.end].replace("\n", " ")
            print(f"  {code.code:<9} {code.score:.2f}  {code.description[:55]:<55}  "
                  f"\"{words}\" ({best.section})")
        hccs = ", ".join(f"HCC{h.hcc}" for h in result.hccs.get("V28", []))
        assert result.raf is not None  # coded with demographics
        print(f"  V28 HCCs: {hccs or 'none'}; RAF (72F): {result.raf['V28'].raw_score:.3f}")
        negated = [m.text for m in result.mentions if m.assertion.negated][:3]
        if negated:
            print(f"  negated, not coded: {', '.join(negated)}")
    print(f"... {len(results)} charts coded")

    # Assertion of any phrase or span, with the cue that decided it.
    r = chartcoder.context("Denies chest pain but reports dyspnea.", "chest pain")
    cue = r.assertion.cues[0]
    print(f"\n'chest pain' negated: {r.assertion.negated} "
          f"(cue {cue.kind} at {cue.start}-{cue.end})")

    # A member scored from codes, every term explained.
    model = chartcoder.RiskModel("V28", code_set=pipeline.code_set)
    score = model.score(["E11.9", "I50.9", "N18.4"], age=72, sex="F")
    terms = ", ".join(f"{t.name} {t.coefficient:.3f}" for t in score.terms)
    print(f"V28 raw score {score.raw_score:.3f}: {terms}")

    # Sealed charts: keys from $CHARTCODER_KEY, or a throwaway key for the demo.
    keys = chartcoder.keys_from_environment() or chartcoder.keys_from_spec(
        "demo:" + base64.b64encode(os.urandom(32)).decode())
    sealed = chartcoder.seal(texts[0], keys)
    again = pipeline.code(chartcoder.unseal(sealed, keys))
    print(f"sealed {len(sealed)} bytes, coded again: {again.codes == results[0].codes}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
