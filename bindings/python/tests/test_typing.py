"""The typing stub matches the native module, and the package and examples
type-check with mypy --strict against it (skipped without mypy)."""
import os
import pathlib
import subprocess
import sys

import pytest

import chartcoder
from conftest import SOURCE_DIR

mypy = pytest.importorskip("mypy")
PACKAGE_DIR = pathlib.Path(chartcoder.__file__).parent
HERE = pathlib.Path(__file__).parent


def run(*args):
    env = dict(os.environ, MYPYPATH=str(PACKAGE_DIR.parent))
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                          env=env, cwd=PACKAGE_DIR.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stub_matches_the_native_module():
    run("mypy.stubtest", "chartcoder._chartcoder", "--allowlist",
        str(HERE / "stubtest_allowlist.txt"))


def test_package_and_examples_type_check():
    cache = os.environ.get("CHARTCODER_MYPY_CACHE")
    strict = ("mypy", "--strict", *(("--cache-dir", cache) if cache else
                                    ("--no-incremental", "--cache-dir", os.devnull)))
    run(*strict, "-p", "chartcoder")
    examples = sorted(str(p) for p in (SOURCE_DIR / "examples/python").glob("*.py"))
    assert examples
    # distributed ships no type information.
    run(*strict, "--ignore-missing-imports", "--allow-untyped-calls", *examples)


def test_stub_names_every_public_native_name():
    stub = (PACKAGE_DIR / "_chartcoder.pyi").read_text()
    for name in dir(chartcoder._chartcoder):
        if not name.startswith("_"):
            assert f"def {name}(" in stub or f"class {name}" in stub, name
