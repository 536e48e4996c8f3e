"""Shared fixtures. ctest sets CHARTCODER_TEST_PACK (the built data pack),
CHARTCODER_CLI (the built CLI) and CHARTCODER_SOURCE_DIR; run by hand, the
defaults assume the build tree at <source>/build."""
import json
import os
import pathlib
import subprocess

import pytest

import chartcoder

SOURCE_DIR = pathlib.Path(os.environ.get("CHARTCODER_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[3]))
PACK = os.environ.get("CHARTCODER_TEST_PACK",
                      str(SOURCE_DIR / "build/share/chartcoder/chartcoder.ccpack"))
CLI = os.environ.get("CHARTCODER_CLI", str(SOURCE_DIR / "build/bin/chartcoder"))
EXAMPLE_CHARTS = SOURCE_DIR / "examples/charts"
DATA_SOURCE = pathlib.Path(os.environ.get("CHARTCODER_DATA_SOURCE", SOURCE_DIR / "../shared/data"))


def run_cli(*args, input=None, check=True):
    """Runs the built CLI; returns its stdout (str)."""
    proc = subprocess.run([CLI, *args], input=input, capture_output=True, text=True,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"chartcoder {' '.join(args)} exited {proc.returncode}: "
                             f"{proc.stderr}")
    return proc.stdout


def byte_to_index(text: str):
    """An independent byte offset -> str index conversion for the tests."""
    raw = text.encode("utf-8")
    return lambda b: len(raw[:b].decode("utf-8", errors="ignore"))


def json_lines(text: str):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def codes():
    return chartcoder.CodeSet(PACK)


@pytest.fixture(scope="session")
def pipeline(codes):
    return chartcoder.Pipeline(code_set=codes)


@pytest.fixture(scope="session")
def example_texts():
    """{file name: text} of examples/charts/*.txt."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLE_CHARTS.glob("*.txt"))}
