"""The examples in examples/python run, and the Dask one writes exactly what
`chartcoder code` writes for the same folder."""
import base64
import os
import shutil
import subprocess
import sys

import pytest

import chartcoder
from conftest import CLI, EXAMPLE_CHARTS, PACK, SOURCE_DIR

EXAMPLES = SOURCE_DIR / "examples/python"
KEY = "ex1:" + base64.b64encode(b"example-key-material-32-bytes!!!").decode()


def run_example(name, *args, env=None):
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})), timeout=600)


def test_code_charts_example():
    proc = run_example("code_charts.py", str(EXAMPLE_CHARTS), "--data", PACK, "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    assert "charts coded" in proc.stdout and "V28 raw score 1.723" in proc.stdout
    assert "coded again: True" in proc.stdout


@pytest.fixture
def mixed_folder(tmp_path):
    """Example charts, one of them sealed, plus an empty and a non-UTF-8 chart."""
    folder = tmp_path / "charts"
    (folder / "sub").mkdir(parents=True)
    names = sorted(p.name for p in EXAMPLE_CHARTS.glob("*.txt"))[:5]
    for name in names[:4]:
        shutil.copy(EXAMPLE_CHARTS / name, folder / name)
    chartcoder.seal_file(EXAMPLE_CHARTS / names[4], folder / "sub" / "sealed.sealed",
                         chartcoder.keys_from_spec(KEY))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin1.note").write_bytes(b"Assessment: caf\xe9 and CHF.")
    (folder / ".hidden.txt").write_text("Assessment: CHF.")
    (folder / "notes.md").write_text("not a chart")
    return folder


def test_dask_example_matches_the_cli(mixed_folder, tmp_path):
    pytest.importorskip("distributed")
    env = {"CHARTCODER_KEY": KEY}
    out = tmp_path / "dask.jsonl"
    proc = run_example("dask_code_directory.py", str(mixed_folder), "--workers", "2",
                       "--batch", "3", "--data", PACK, "--output", str(out), env=env)
    assert proc.returncode == 2, proc.stderr  # two charts could not be coded
    assert "7 charts (2 not coded)" in proc.stderr
    cli = subprocess.run([CLI, "code", "--data", PACK, str(mixed_folder)], capture_output=True,
                         text=True, env=dict(os.environ, **env))
    assert cli.returncode == 2
    assert out.read_text() == cli.stdout


def test_dask_example_seals_its_output(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "results.jsonl.sealed"
    proc = run_example("dask_code_directory.py", str(EXAMPLE_CHARTS), "--workers", "1",
                       "--threads", "2", "--data", PACK, "--output", str(out), "--seal-output",
                       env={"CHARTCODER_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    lines = chartcoder.unseal(out.read_bytes(), chartcoder.keys_from_spec(KEY)).splitlines()
    assert len(lines) == len(list(EXAMPLE_CHARTS.glob("*.txt")))
