"""Shared fixtures for the output-format tests (JSON Lines schema, FHIR, HTML).

ctest runs these with CHARTCODER_CLI (the built `chartcoder`) and
CHARTCODER_SOURCE_DIR (the repository) in the environment; see
tests/CMakeLists.txt.
"""
import json
import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("CHARTCODER_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
CHART_DIR = SOURCE_DIR / "examples" / "charts"
SCHEMA_PATH = SOURCE_DIR / "docs" / "chart-result.schema.json"


def cli_path():
    path = os.environ.get("CHARTCODER_CLI")
    if not path:
        pytest.fail("CHARTCODER_CLI is not set: run these tests through ctest")
    return path


def run_cli(args, stdin=None, check_exit=None):
    """Runs the built chartcoder; returns (exit code, stdout bytes, stderr str)."""
    proc = subprocess.run([cli_path(), *args], input=stdin, capture_output=True, timeout=600)
    if check_exit is not None:
        assert proc.returncode == check_exit, (
            f"chartcoder {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def example_charts():
    charts = sorted(CHART_DIR.glob("*.txt"))
    assert len(charts) >= 20, f"expected the example charts in {CHART_DIR}"
    return charts


def json_lines(data):
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def charts():
    return example_charts()


@pytest.fixture(scope="session")
def coded_examples(charts):
    """`chartcoder code` JSON Lines of every example chart, keyed by path."""
    _, out, _ = run_cli(["code", "--threads", "2", *map(str, charts)], check_exit=0)
    records = json_lines(out)
    assert [r["id"] for r in records] == [str(c) for c in charts]
    return {pathlib.Path(r["id"]): r for r in records}
