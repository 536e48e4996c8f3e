#!/usr/bin/env python3
"""Codes a folder of charts on a Dask LocalCluster through chartcoder's bindings.

The folder is listed as ``chartcoder code`` lists it (recursively: .txt, .text,
.note and .sealed files, hidden files skipped, sorted by path) and cut into
batches. Each batch is one Dask task: a worker process reads its files
(sealed ones are decrypted with the keys of --keyring or $CHARTCODER_KEY) and
codes them with ``Pipeline.render_many`` on ``--threads`` C++ threads. Every
worker process creates its Pipeline once, lazily, on its first task, and
keeps it for the next ones (loading the data pack and lexicons takes about a
second; coding a chart a few milliseconds). The client gathers the JSON lines
in file order and writes them: the same lines ``chartcoder code FOLDER``
prints, including the error record of a chart that cannot be read or coded
(the exit code is then 2, as the CLI's).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/dask_code_directory.py \\
        examples/charts --workers 2 --output results.jsonl

On a real cluster replace LocalCluster by the scheduler's address
(``Client("tcp://scheduler:8786")``); each worker machine needs chartcoder and
its data pack installed (or $CHARTCODER_DATA), and the keys for sealed charts
in its environment. Charts are PHI: nothing here logs chart text, and
--seal-output keeps the results sealed at rest.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
from typing import Any, Optional

import chartcoder

EXTENSIONS = {".txt", ".text", ".note", ".sealed"}
MAX_CHART_BYTES = 16 << 20  # as `chartcoder code`


def list_charts(folder: str) -> list[str]:
    """The chart files of ``folder`` in the CLI's order."""
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = pathlib.Path(root, name)
            if not name.startswith(".") and path.suffix in EXTENSIONS and path.is_file():
                found.append(str(path))
    return sorted(found)


def worker_state(data: Optional[str], keyring: Optional[str]) -> tuple[Any, Any]:
    """This worker's Pipeline and keys, made on its first task and kept on the
    Worker object for the tasks after it."""
    from distributed import get_worker

    worker = get_worker()
    wanted = (data, keyring)
    state = getattr(worker, "_chartcoder_state", None)
    if state is None or state[0] != wanted:
        keys = chartcoder.Keyring(keyring) if keyring else chartcoder.keys_from_environment()
        state = (wanted, chartcoder.Pipeline(data), keys)
        worker._chartcoder_state = state  # type: ignore[attr-defined]
    return state[1], state[2]


def code_batch(paths: list[str], data: Optional[str], keyring: Optional[str],
               threads: int) -> tuple[list[str], int]:
    """Runs on a worker: the JSON lines of ``paths`` in order, and how many
    are error records."""
    pipeline, keys = worker_state(data, keyring)
    texts: list[bytes] = []
    ids: list[str] = []
    lines: list[Optional[str]] = []
    failed = 0
    for path in paths:
        try:
            texts.append(chartcoder.read_chart_bytes(path, keys, max_bytes=MAX_CHART_BYTES))
            ids.append(path)
            lines.append(None)  # filled by render_many below
        except chartcoder.ChartcoderError as e:
            lines.append(chartcoder.error_record(path, e))
            failed += 1
    coded = iter(pipeline.render_many(texts, ids=ids, threads=threads, error_records=True))
    out = []
    for line in lines:
        if line is None:
            line = next(coded)
            failed += "error" in json.loads(line)  # an error record: no chart text in it
        out.append(line)
    return out, failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Code a folder of charts on a Dask LocalCluster (JSON Lines out).")
    parser.add_argument("folder", help="folder of chart files (plain or sealed)")
    parser.add_argument("--output", help="output file (default: stdout); written atomically")
    parser.add_argument("--seal-output", action="store_true",
                        help="seal the output file with the active key")
    parser.add_argument("--keyring", help="keyring for sealed charts (default: $CHARTCODER_KEY)")
    parser.add_argument("--data", help="data pack (default: the installed one)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.add_argument("--threads", type=int, default=1,
                        help="C++ threads per worker for each batch (default 1)")
    parser.add_argument("--batch", type=int, default=16, help="charts per task (default 16)")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.threads < 1 or args.batch < 1:
        parser.error("--workers, --threads and --batch must be at least 1")
    if args.seal_output and not args.output:
        parser.error("--seal-output needs --output")
    if not os.path.isdir(args.folder):
        print(f"dask_code_directory: {args.folder}: not a folder", file=sys.stderr)
        return 2

    from distributed import Client, LocalCluster

    paths = list_charts(args.folder)
    batches = [paths[i:i + args.batch] for i in range(0, len(paths), args.batch)]
    keys = None
    if args.seal_output:
        keys = chartcoder.Keyring(args.keyring) if args.keyring \
            else chartcoder.keys_from_environment()
    start = time.monotonic()
    coded = failed = 0
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        futures = client.map(code_batch, batches, data=args.data, keyring=args.keyring,
                             threads=args.threads, pure=False)
        out = (chartcoder.open_output(args.output, keys, seal=args.seal_output)
               if args.output else None)
        try:
            for future in futures:  # in file order, as each batch is done
                lines, batch_failed = future.result()
                future.release()
                for line in lines:
                    if out is not None:
                        out.write(line)
                    else:
                        sys.stdout.write(line)
                coded += len(lines)
                failed += batch_failed
            if out is not None:
                out.commit()
        finally:
            if out is not None and not out.committed:
                out.discard()  # nothing half-written is left behind
    print(f"dask_code_directory: {coded} charts ({failed} not coded) in "
          f"{time.monotonic() - start:.1f} s on {args.workers} workers", file=sys.stderr)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
