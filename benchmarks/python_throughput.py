#!/usr/bin/env python3
"""Charts per second: Pipeline.code_many from Python against `chartcoder code`.

Builds a JSON Lines corpus (the example charts repeated, or --corpus FILE with
{"id", "text"} lines), then measures on the same texts and thread count:
  cli        chartcoder code --input-format jsonl --threads N CORPUS > /dev/null
             (whole process), minus the same command on a one-chart corpus
             (start-up: loading the pack and lexicons), i.e. steady state;
  code_many  Pipeline.code_many(texts, threads=N): typed results, str offsets;
  +gc        the same, then one full collection of Python's cyclic garbage
             collector while the results are alive: what the result objects
             cost a caller that keeps them (every object is traversed at least
             once more after code_many returns; more when the program lives on);
  code_iter  Pipeline.code_iter(texts, threads=N), each result dropped as it
             arrives (a streaming caller), with the collector running as usual;
  +to_dict   code_many, then every result's to_dict() (what a JSON writer needs);
  render     Pipeline.render_many(texts, threads=N): the CLI's JSON lines.
Each figure is the median of --repeat runs, measured interleaved so drift on a
shared machine hits every mode alike.

    PYTHONPATH=build/python /usr/bin/python3 benchmarks/python_throughput.py \\
        --cli build/bin/chartcoder --data build/share/chartcoder/chartcoder.ccpack
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

import chartcoder

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[1]


def corpus_lines(args: argparse.Namespace) -> list[str]:
    if args.corpus:
        return [line for line in pathlib.Path(args.corpus).read_text().splitlines() if line]
    charts = sorted((SOURCE_DIR / "examples/charts").glob("*.txt"))
    return [json.dumps({"id": f"{p.stem}-{i}", "text": p.read_text(encoding="utf-8")})
            for i in range(args.copies) for p in charts]


def cpu_seconds() -> float:
    """CPU time of this process (every thread) and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def code_many_gc(pipeline: chartcoder.Pipeline, texts: list[str], ids: list[str],
                 threads: int) -> object:
    results = pipeline.code_many(texts, ids=ids, threads=threads)
    gc.collect()
    return results


def code_iter(pipeline: chartcoder.Pipeline, texts: list[str], ids: list[str],
              threads: int) -> object:
    n = 0
    for result in pipeline.code_iter(zip(ids, texts), threads=threads):
        n += len(result.codes)
    return n


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of fn(). The collector's debt of earlier runs is
    paid first, outside the timing, so no mode pays for another's objects."""
    gc.collect()
    cpu, start = cpu_seconds(), time.perf_counter()
    result = fn()
    del result
    return time.perf_counter() - start, cpu_seconds() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=str(SOURCE_DIR / "build/bin/chartcoder"))
    parser.add_argument("--data", default=None, help="data pack for both")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--copies", type=int, default=40,
                        help="times the example charts are repeated (default 40)")
    parser.add_argument("--corpus", help="a JSON Lines corpus instead of the examples")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    lines = corpus_lines(args)
    texts = [json.loads(line)["text"] for line in lines]
    ids = [str(json.loads(line)["id"]) for line in lines]
    total_bytes = sum(len(t.encode("utf-8")) for t in texts)
    data = ["--data", args.data] if args.data else []

    with tempfile.TemporaryDirectory() as tmp:
        corpus = pathlib.Path(tmp, "corpus.jsonl")
        corpus.write_text("\n".join(lines) + "\n")
        one = pathlib.Path(tmp, "one.jsonl")
        one.write_text(lines[0] + "\n")

        def cli(path: pathlib.Path) -> Callable[[], object]:
            cmd = [args.cli, "code", *data, "--input-format", "jsonl", "--threads",
                   str(args.threads), str(path)]
            return lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)

        pipeline = chartcoder.Pipeline(args.data)
        modes: dict[str, Callable[[], object]] = {
            "cli": cli(corpus),
            "cli_startup": cli(one),
            "code_many": lambda: pipeline.code_many(texts, ids=ids, threads=args.threads),
            "code_many+gc": lambda: code_many_gc(pipeline, texts, ids, args.threads),
            "code_iter": lambda: code_iter(pipeline, texts, ids, args.threads),
            "code_many+to_dict": lambda: [r.to_dict() for r in pipeline.code_many(
                texts, ids=ids, threads=args.threads)],
            "render_many": lambda: pipeline.render_many(texts, ids=ids, threads=args.threads),
        }
        for fn in modes.values():  # warm up: page cache, lazy imports
            fn()
        walls: dict[str, list[float]] = {name: [] for name in modes}
        cpus: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.repeat):
            for name, fn in modes.items():
                wall, cpu = timed(fn)
                walls[name].append(wall)
                cpus[name].append(cpu)

    wall = {name: statistics.median(t) for name, t in walls.items()}
    cpu = {name: statistics.median(t) for name, t in cpus.items()}

    def row(name: str) -> tuple[float, float]:
        if name == "cli (steady state)":
            return wall["cli"] - wall["cli_startup"], cpu["cli"] - cpu["cli_startup"]
        key = "cli" if name == "cli (whole process)" else name
        return wall[key], cpu[key]

    names = ["cli (steady state)", "cli (whole process)", "code_many", "code_many+gc",
             "code_iter", "code_many+to_dict", "render_many"]
    print(f"{len(texts)} charts, {total_bytes / 1e6:.2f} MB, {args.threads} threads, median of "
          f"{args.repeat}; CLI start-up {wall['cli_startup'] * 1000:.0f} ms wall; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  {'mode':<22} {'wall s':>7} {'charts/s':>9} {'MB/s':>6} {'vs CLI':>7}   "
          f"{'CPU s':>7} {'vs CLI':>7}")
    base_wall, base_cpu = row(names[0])
    for name in names:
        w, c = row(name)
        print(f"  {name:<22} {w:7.3f} {len(texts) / w:9.1f} {total_bytes / w / 1e6:6.2f} "
              f"{base_wall / w:7.1%}   {c:7.3f} {base_cpu / c:7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
