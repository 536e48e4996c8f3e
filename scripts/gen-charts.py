#!/usr/bin/python3
"""Writes JSON Lines of synthetic charts for `chartcoder code --input-format jsonl`
(throughput and memory measurements), varied from the example charts.

Usage: scripts/gen-charts.py --mb 100 --output build/bench/charts.jsonl
           [--examples examples/charts] [--seed 1] [--demographics-every 4]

Each output chart starts from one example chart of examples/charts/ and is
varied so the text is not the same bytes over and over: the sections after
the header block are shuffled; abbreviations and their expansions are swapped
both ways ("HTN" <-> "hypertension", "s/p" <-> "status post", "w/" <-> "with"
...); laterality words flip (left/right, L/R); numbers (vitals, labs, doses,
ages) are nudged and dates moved; header case varies; and a few filler
sentences of ordinary clinical prose are added. Lines are
{"id": "gen-000001", "text": ..., optional "demographics": {...}}. The output is
deterministic for a seed. Nothing here is real patient data: the examples are
synthetic and so is every variation.
"""
import argparse
import glob
import json
import os
import random
import re
import sys

# Abbreviation <-> expansion pairs that charts use interchangeably. Matching is
# on word boundaries; case follows the first letter of the original.
SWAPS = [
    ("HTN", "hypertension"),
    ("CHF", "congestive heart failure"),
    ("CKD", "chronic kidney disease"),
    ("T2DM", "type 2 diabetes mellitus"),
    ("DM2", "type 2 diabetes"),
    ("COPD", "chronic obstructive pulmonary disease"),
    ("CAD", "coronary artery disease"),
    ("AFib", "atrial fibrillation"),
    ("HLD", "hyperlipidemia"),
    ("GERD", "gastroesophageal reflux disease"),
    ("SOB", "shortness of breath"),
    ("h/o", "history of"),
    ("s/p", "status post"),
    ("w/", "with"),
    ("f/u", "follow-up"),
    ("pt", "patient"),
    ("yo", "year old"),
    ("hx", "history"),
    ("BID", "twice daily"),
    ("qhs", "at bedtime"),
]
LATERALITY = [("left", "right"), ("Left", "Right"), ("LEFT", "RIGHT"), ("L", "R")]
FILLER = [
    "Patient was seen and examined.",
    "Discussed the plan with the patient, who agrees.",
    "Medication list reviewed and reconciled.",
    "Vitals reviewed; see flowsheet.",
    "Questions answered; patient verbalized understanding.",
    "Will continue to monitor closely.",
    "Labs reviewed with the patient today.",
    "Total time spent on the date of the encounter was 35 minutes.",
]
HEADER = re.compile(r"^(?:[A-Z][A-Za-z /&]{1,40}:?|[A-Z][A-Z /&]{2,40})\s*$|^[A-Z][A-Za-z /&]{1,30}:")
NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d{2,3})(?![\d.])")
DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d\d)\b")
CODE_LIKE = re.compile(r"\b[A-Z]\d")
HEADER_ONLY = re.compile(r"^[A-Za-z][A-Za-z /&]{1,40}:?\s*$")


def swap_pattern():
    words = {}
    for a, b in SWAPS:
        words[a.lower()] = b
        words[b.lower()] = a
    alternatives = sorted(words, key=len, reverse=True)
    pat = re.compile(r"(?<![\w/])(" + "|".join(re.escape(w) for w in alternatives) + r")(?![\w/])",
                     re.IGNORECASE)
    return pat, words


def sections(text):
    """Splits a chart into its first block (title, dates) and its sections."""
    lines = text.split("\n")
    blocks, current = [], []
    for line in lines:
        if HEADER.match(line) and current and not CODE_LIKE.match(line):
            blocks.append(current)
            current = []
        current.append(line)
    blocks.append(current)
    return ["\n".join(b) for b in blocks]


def vary(text, rng, swap_pat, swap_words):
    parts = sections(text)
    head, rest = parts[0], parts[1:]
    if len(rest) > 2 and rng.random() < 0.7:
        # Keep the last section (assessment/plan, signature) near the end most times.
        tail = rest[-1:] if rng.random() < 0.6 else []
        body = rest[:-1] if tail else rest
        rng.shuffle(body)
        rest = body + tail
    text = "\n".join([head] + rest)

    def swap(m):
        if rng.random() >= 0.5:
            return m.group(0)
        out = swap_words[m.group(0).lower()]
        if m.group(0)[:1].isupper() and not out.isupper():
            out = out[:1].upper() + out[1:]
        return out

    text = swap_pat.sub(swap, text)
    if rng.random() < 0.5:
        a, b = rng.choice(LATERALITY)
        text = re.sub(r"\b(%s|%s)\b" % (a, b), lambda m: b if m.group(0) == a else a, text)

    def nudge(m):
        n = int(m.group(1))
        if rng.random() < 0.6:
            return m.group(0)
        return str(max(10, n + rng.randint(-n // 10 - 1, n // 10 + 1)))

    text = NUMBER.sub(nudge, text)
    year_shift = rng.randint(-2, 1)
    text = DATE.sub(lambda m: "%d/%d/%d" % (rng.randint(1, 12), rng.randint(1, 28),
                                            int(m.group(3)) + year_shift), text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if HEADER_ONLY.match(line) and rng.random() < 0.3:
            lines[i] = line.upper() if rng.random() < 0.5 else line.title()
    for _ in range(rng.randint(0, 3)):
        at = rng.randrange(len(lines) + 1)
        lines.insert(at, rng.choice(FILLER))
    return "\n".join(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, required=True, help="megabytes (10^6) of chart text")
    p.add_argument("--output", required=True)
    p.add_argument("--examples", default=os.path.join(here, "..", "examples", "charts"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--demographics-every", type=int, default=4,
                   help="every Nth chart carries demographics (0: none)")
    a = p.parse_args()

    paths = sorted(glob.glob(os.path.join(a.examples, "*.txt")))
    if not paths:
        sys.exit(f"gen-charts: no *.txt charts in {a.examples}")
    examples = [open(path, encoding="utf-8", newline="").read() for path in paths]
    rng = random.Random(a.seed)
    swap_pat, swap_words = swap_pattern()
    target = int(a.mb * 1_000_000)
    written = charts = 0
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    with open(a.output, "w", encoding="utf-8") as out:
        while written < target:
            charts += 1
            text = vary(rng.choice(examples), rng, swap_pat, swap_words)
            line = {"id": f"gen-{charts:06d}", "text": text}
            if a.demographics_every and charts % a.demographics_every == 0:
                line["demographics"] = {"age": rng.randint(65, 95), "sex": rng.choice("FM"),
                                        "dual": rng.choice(["none", "none", "none", "partial",
                                                            "full"])}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            written += len(text.encode("utf-8"))
    print(f"gen-charts: {charts} charts, {written / 1e6:.1f} MB of chart text -> {a.output}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
