import base64
import os
import stat

import pytest

import chartcoder

SPEC = "k1:" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER = "k2:" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()


@pytest.fixture
def keys():
    return chartcoder.keys_from_spec(SPEC)


def test_seal_and_unseal_bytes(keys):
    chart = "Assessment: CHF — Zoë. ".encode() * 5000  # several segments
    sealed = chartcoder.seal(chart, keys, segment_size=4096)
    assert chartcoder.looks_sealed(sealed) and not chartcoder.looks_sealed(chart)
    assert chart not in sealed
    assert chartcoder.unseal(sealed, keys) == chart
    assert chartcoder.unseal(chartcoder.seal("a str", keys), keys) == b"a str"
    with pytest.raises(chartcoder.ResourceExhaustedError):
        chartcoder.unseal(sealed, keys, max_bytes=100)


def test_tampering_is_data_loss(keys):
    sealed = bytearray(chartcoder.seal(b"ASSESSMENT: CKD stage 4." * 100, keys))
    for change in (lambda b: b.__setitem__(300, b[300] ^ 1),  # a flipped bit
                   lambda b: b.extend(b"x"),                   # an appended byte
                   lambda b: b.__delitem__(slice(len(b) - 5, None))):  # truncation
        damaged = bytearray(sealed)
        change(damaged)
        with pytest.raises(chartcoder.DataLossError):
            chartcoder.unseal(bytes(damaged), keys)
    with pytest.raises(chartcoder.DataLossError):
        chartcoder.unseal(b"not sealed at all", keys)


def test_wrong_keys(keys):
    sealed = chartcoder.seal(b"chart", keys)
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.unseal(sealed, chartcoder.keys_from_spec(OTHER))
    both = chartcoder.keys_from_spec(OTHER + "," + SPEC)
    assert both.active_key_id == "k2"
    assert chartcoder.unseal(sealed, both) == b"chart"
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.keys_from_spec("k1:not-base64!")


def test_keyring_lifecycle(tmp_path):
    path = tmp_path / "ring"
    ring = chartcoder.Keyring.create(path, key_id="first")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [k.id for k in ring.keys()] == ["first"] and ring.keys()[0].active
    sealed = chartcoder.seal(b"chart", ring)
    new_id = chartcoder.Keyring.rotate(path)
    reopened = chartcoder.Keyring(path)
    assert reopened.active_key_id == new_id != "first"
    assert chartcoder.unseal(sealed, reopened) == b"chart"
    assert "first" not in repr(chartcoder.seal(b"x", reopened))
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.Keyring.create(path)
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.Keyring(tmp_path / "missing")
    os.chmod(path, 0o644)
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.Keyring(path)


def test_protected_keyring(tmp_path):
    path = tmp_path / "ring"
    ring = chartcoder.Keyring.create(path, passphrase="correct horse", scrypt_log2_n=10)
    assert ring.is_protected
    assert chartcoder.Keyring(path, passphrase=b"correct horse").keys()[0].active
    assert chartcoder.Keyring(path, passphrase=bytearray(b"correct horse")).is_protected
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.Keyring(path)
    with pytest.raises(chartcoder.DataLossError):
        chartcoder.Keyring(path, passphrase="wrong")
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.Keyring(path, passphrase="")


def test_files(keys, tmp_path):
    plain = tmp_path / "chart.txt"
    plain.write_text("Assessment: type 2 diabetes — Zoë.", encoding="utf-8")
    sealed = tmp_path / "chart.sealed"
    conv = chartcoder.seal_file(plain, sealed, keys)
    assert conv.key_id == "k1" and conv.plaintext_bytes == plain.stat().st_size
    info = chartcoder.inspect_sealed(sealed)
    assert info.key_id == "k1" and info.size_consistent
    assert info.plaintext_size == plain.stat().st_size
    assert chartcoder.read_chart(sealed, keys) == plain.read_text(encoding="utf-8")
    assert chartcoder.read_chart(plain) == plain.read_text(encoding="utf-8")
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.read_chart(sealed)
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.seal_file(sealed, tmp_path / "twice.sealed", keys)
    out = tmp_path / "back.txt"
    chartcoder.unseal_file(sealed, out, keys)
    assert out.read_bytes() == plain.read_bytes()
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9")
    with pytest.raises(chartcoder.InvalidArgumentError, match="byte offset 3"):
        chartcoder.read_chart(bad)
    assert chartcoder.read_chart_bytes(bad) == b"caf\xe9"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(chartcoder.DataLossError):
        chartcoder.read_chart(empty)
    assert chartcoder.read_chart(empty, allow_empty=True) == ""


def test_open_output_commits_or_leaves_nothing(keys, tmp_path):
    path = tmp_path / "results.jsonl.sealed"
    with chartcoder.open_output(path, keys, seal=True) as out:
        out.write('{"id":"a"}\n')
        out.write(b'{"id":"b"}\n')
        assert not path.exists()  # appears only at commit
    assert out.committed and out.sealed
    assert chartcoder.unseal(path.read_bytes(), keys) == b'{"id":"a"}\n{"id":"b"}\n'
    failed = tmp_path / "failed.jsonl"
    with pytest.raises(RuntimeError):
        with chartcoder.open_output(failed) as out:
            out.write("partial")
            raise RuntimeError("boom")
    assert not failed.exists()
    with pytest.raises(chartcoder.FailedPreconditionError):
        out.write("more")
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.open_output(tmp_path / "x", seal=True)  # no keys
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.open_output(tmp_path / "no/such/dir/x")


def test_keys_from_environment(monkeypatch):
    monkeypatch.delenv("CHARTCODER_KEY", raising=False)
    monkeypatch.delenv("CHARTCODER_KEY_FD", raising=False)
    assert chartcoder.keys_from_environment() is None
    monkeypatch.setenv("CHARTCODER_KEY", SPEC)
    env = chartcoder.keys_from_environment()
    assert env.active_key_id == "k1"
    assert "0123456789abcdef" not in repr(env) + env.describe()
