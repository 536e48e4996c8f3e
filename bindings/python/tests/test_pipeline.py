import dataclasses
import json
import os
import pickle
import signal
import threading
import time

import pytest

import chartcoder
from conftest import PACK, byte_to_index, json_lines, run_cli

# A chart whose diagnoses follow multi-byte characters of every UTF-8 length
# (2: é, 3: — and CJK, 4: emoji), so byte offsets and str indices differ.
NON_ASCII = (
    "Médecin: Dr. Zoë Ångström — 患者 😀 follow-up visit.\n"
    "HISTORY OF PRESENT ILLNESS: 72 y/o woman — café owner — with type 2 diabetes mellitus.\n"
    "She denies chest pain. Mother had breast cancer.\n"
    "ASSESSMENT AND PLAN:\n"
    "1. Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 4 😀.\n"
    "2. Congestive heart failure — chronic, stable.\n"
)


def cli_offsets_to_str(d: dict, text: str) -> dict:
    """The CLI's JSON object with its byte offsets turned into str indices."""
    to = byte_to_index(text)

    def span(s):
        return [to(s[0]), to(s[1])]

    d = json.loads(json.dumps(d))
    for c in d["codes"]:
        for e in c["evidence"]:
            e["span"] = span(e["span"])
            e["spans"] = [span(s) for s in e["spans"]]
            e["sentence"] = span(e["sentence"])
    for m in d["mentions"]:
        m["span"] = span(m["span"])
        for cue in m["cues"]:
            cue["span"] = span(cue["span"])
    return d


def assert_same(a, b, path="$"):
    """Equal structures; numbers equal within the CLI's 3-decimal rounding."""
    if isinstance(a, bool) or isinstance(b, bool):
        assert a is b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        assert abs(a - b) <= 6e-4, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def check_offsets(result: chartcoder.ChartResult):
    """Every span of the result indexes result.text."""
    text = result.text
    n = 0
    for c in result.codes:
        for e in c.evidence:
            assert text[e.start:e.end] == e.text
            assert e.sentence[0] <= e.start <= e.end <= e.sentence[1] <= len(text)
            for b, end in e.spans:
                assert 0 <= b < end <= len(text)
            n += 1
    for m in result.mentions:
        assert text[m.start:m.end] == m.text
        for cue in m.assertion.cues:
            assert 0 <= cue.start <= cue.end <= len(text)
        n += 1
    return n


def test_code_returns_typed_results(pipeline, example_texts):
    text = example_texts["office_t2dm_ckd3b_htn.txt"]
    r = pipeline.code(text, id="t2dm")
    assert isinstance(r, chartcoder.ChartResult)
    assert r.id == "t2dm" and r.text is text
    assert r.raf is None and r.blended_raf is None
    codes = [c.code for c in r.codes]
    assert "E11.22" in codes and "N18.32" in codes
    assert all(isinstance(c, chartcoder.AssignedCode) for c in r.codes)
    assert [c.score for c in r.codes] == sorted((c.score for c in r.codes), reverse=True)
    e11 = r.codes[codes.index("E11.22")]
    assert e11.hccs == {"V24": (18,), "V28": (37,)}
    assert all(isinstance(e, chartcoder.Evidence) for e in e11.evidence)
    assert {h.hcc for h in r.hccs["V28"]} >= {37, 328}
    assert set(r.hccs) == set(r.removed_hccs) == {"V24", "V28"}
    check_offsets(r)


def test_every_example_matches_the_cli_json(pipeline, example_texts):
    """to_dict() is the CLI's JSON with str offsets, for every example chart and
    a non-ASCII one; render() is the CLI's output byte for byte."""
    charts = dict(example_texts, non_ascii=NON_ASCII)
    lines = "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in charts.items())
    cli = {d["id"]: d for d in json_lines(run_cli("code", "--data", PACK, "--input-format",
                                                  "jsonl", "-", input=lines))}
    assert set(cli) == set(charts)
    ids = list(charts)
    results = pipeline.code_many([charts[i] for i in ids], ids=ids, threads=2)
    rendered = pipeline.render_many([charts[i] for i in ids], ids=ids, threads=2)
    for chart_id, r, line in zip(ids, results, rendered):
        assert r.id == chart_id
        assert json.loads(line) == cli[chart_id]
        assert_same(r.to_dict(), cli_offsets_to_str(cli[chart_id], charts[chart_id]), chart_id)
        assert check_offsets(r) > 0


def test_non_ascii_offsets_are_str_indices(pipeline):
    r = pipeline.code(NON_ASCII)
    assert r.text is NON_ASCII
    assert check_offsets(r) > 0
    dm = next(m for m in r.mentions if "diabetes" in m.text)
    assert NON_ASCII[dm.start:dm.end] == dm.text
    pain = next(m for m in r.mentions if m.text == "chest pain")
    assert pain.assertion.negated
    cue = pain.assertion.cues[0]
    assert NON_ASCII[cue.start:cue.end] == "denies"
    cancer = next(m for m in r.mentions if "breast cancer" in m.text)
    assert cancer.assertion.family and not cancer.coded


def test_bytes_input_gives_the_same_result(pipeline):
    from_str = pipeline.code(NON_ASCII)
    from_bytes = pipeline.code(NON_ASCII.encode("utf-8"))
    assert from_bytes == from_str
    assert from_bytes.text == NON_ASCII


def test_windows_1252_bytes(codes):
    p = chartcoder.Pipeline(code_set=codes, encoding="windows-1252")
    raw = "Caf\xe9 owner \u2013 assessment: congestive heart failure.".encode("cp1252")
    assert b"\x96" in raw
    r = p.code(raw)
    assert r.text == raw.decode("cp1252")
    chf = next(m for m in r.mentions if m.text == "congestive heart failure")
    assert r.text[chf.start:chf.end] == "congestive heart failure"
    with pytest.raises(chartcoder.InvalidArgumentError, match="pass bytes"):
        p.code("a str is UTF-8")


def test_invalid_utf8_names_the_byte(pipeline, codes):
    bad = b"Assessment: CHF \xff and diabetes."
    with pytest.raises(chartcoder.InvalidArgumentError, match="16"):
        pipeline.code(bad)
    repaired = chartcoder.Pipeline(code_set=codes, repair_invalid_utf8=True).code(bad)
    assert "\ufffd" in repaired.text
    check_offsets(repaired)


def test_lone_surrogate_is_invalid_argument(pipeline):
    with pytest.raises(chartcoder.InvalidArgumentError, match="surrogate at index 4"):
        pipeline.code("CHF \ud800 here")


def test_wrong_types_raise_type_error(pipeline):
    with pytest.raises(TypeError):
        pipeline.code(42)
    with pytest.raises(TypeError):
        pipeline.code_many(["ok", 3])
    with pytest.raises(TypeError, match="unknown field"):
        pipeline.code("CHF", {"age": 70, "sex": "F", "colour": "blue"})


def test_demographics_add_raf(pipeline, example_texts):
    text = example_texts["office_t2dm_ckd3b_htn.txt"]
    r = pipeline.code(text, {"age": 72, "sex": "F"})
    same = pipeline.code(text, chartcoder.Demographics(age=72, sex="female"))
    assert r == same
    assert set(r.raf) == {"V24", "V28"}
    v28 = r.raf["V28"]
    assert isinstance(v28, chartcoder.RiskScore)
    assert v28.demographics.sex == "F" and v28.segment == "CNA"
    assert {h.hcc for h in v28.hccs} == {h.hcc for h in r.hccs["V28"]}
    direct = chartcoder.RiskModel("V28", code_set=pipeline.code_set).score(
        [c.code for c in r.codes], age=72, sex="F")
    assert direct.raw_score == pytest.approx(v28.raw_score)


def test_blend(codes, example_texts):
    p = chartcoder.Pipeline(code_set=codes, blend={"V24": 0.33, "V28": 0.67})
    r = p.code(example_texts["office_t2dm_ckd3b_htn.txt"], {"age": 72, "sex": "F"})
    b = r.blended_raf
    assert b.weights == {"V24": 0.33, "V28": 0.67}
    assert b.raw_score == pytest.approx(0.33 * r.raf["V24"].raw_score
                                        + 0.67 * r.raf["V28"].raw_score)
    assert r.to_dict()["raf"]["blended"]["weights"] == {"V24": 0.33, "V28": 0.67}


def test_bad_demographics(pipeline):
    with pytest.raises(chartcoder.InvalidArgumentError, match="age 200"):
        pipeline.code("CHF", {"age": 200, "sex": "F"})
    with pytest.raises(chartcoder.InvalidArgumentError):
        pipeline.code("CHF", {"age": 70, "sex": "X"})
    with pytest.raises(TypeError, match="sex"):
        pipeline.code("CHF", {"age": 70})


def test_code_many_matches_code(pipeline, example_texts):
    texts = list(example_texts.values())[:6] + [NON_ASCII]
    one_by_one = [pipeline.code(t) for t in texts]
    for threads in (1, 2, 3, 16):
        assert pipeline.code_many(texts, threads=threads) == one_by_one
    assert pipeline.code_many([]) == []
    assert pipeline.code_many(iter(texts[:2])) == one_by_one[:2]


def test_code_many_ids_and_demographics(pipeline, example_texts):
    texts = list(example_texts.values())[:3]
    members = [{"age": 70, "sex": "M"}, None, chartcoder.Demographics(80, "F", dual="full")]
    rs = pipeline.code_many(texts, ids=["a", "b", "c"], demographics=members)
    assert [r.id for r in rs] == ["a", "b", "c"]
    assert rs[0].raf["V28"].demographics.age == 70
    assert rs[1].raf is None
    assert rs[2].raf["V28"].segment == "CFA"
    everyone = pipeline.code_many(texts, demographics={"age": 66, "sex": "F"})
    assert all(r.raf["V24"].demographics.age == 66 for r in everyone)
    with pytest.raises(chartcoder.InvalidArgumentError, match="2 ids for 3 charts"):
        pipeline.code_many(texts, ids=["a", "b"])
    with pytest.raises(chartcoder.InvalidArgumentError, match="1 entries for 3 charts"):
        pipeline.code_many(texts, demographics=[None])
    with pytest.raises(chartcoder.InvalidArgumentError, match=r"demographics\[1\]"):
        pipeline.code_many(texts, demographics=[None, {"age": -1, "sex": "F"}, None])


def test_code_many_errors_name_the_chart(codes):
    p = chartcoder.Pipeline(code_set=codes, max_chart_bytes=100)
    texts = ["CHF.", "x" * 101, "Diabetes.", b"bad \xff utf-8"]
    for threads in (1, 2):
        with pytest.raises(chartcoder.ResourceExhaustedError, match=r"^chart 1 \(big\): "):
            p.code_many(texts, ids=["a", "big", "c", "d"], threads=threads)
        out = p.code_many(texts, return_errors=True, threads=threads)
        assert isinstance(out[0], chartcoder.ChartResult)
        assert isinstance(out[1], chartcoder.ResourceExhaustedError)
        assert str(out[1]).startswith("chart 1: ")
        assert isinstance(out[2], chartcoder.ChartResult)
        assert isinstance(out[3], chartcoder.InvalidArgumentError)
        assert "xxxx" not in str(out[1])  # never chart text


def test_code_many_releases_the_gil(pipeline, example_texts):
    texts = list(example_texts.values()) * 2
    counter = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        pipeline.code_many(texts, threads=1)
    finally:
        done.set()
        t.join()
    # With the GIL held for the whole call the counter could not move.
    assert counter[0] > 10_000


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_code_many(pipeline, example_texts, threads):
    texts = list(example_texts.values()) * 200  # 5,000+ charts: many seconds of work
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        pipeline.code_many(texts, threads=threads)
    elapsed = time.monotonic() - start
    timer.join()
    assert elapsed < 2.0  # stopped soon after the signal, not at the end


def test_code_iter(pipeline, example_texts):
    texts = list(example_texts.values())[:7]
    expected = pipeline.code_many(texts)
    assert list(pipeline.code_iter(texts, batch_size=3)) == expected
    pairs = [(f"id{i}", t) for i, t in enumerate(texts)]
    got = list(pipeline.code_iter(iter(pairs), threads=2, batch_size=2))
    assert [r.id for r in got] == [f"id{i}" for i in range(7)]
    with_member = list(pipeline.code_iter([("m", texts[0], {"age": 70, "sex": "F"})]))
    assert with_member[0].raf is not None


def test_code_iter_error_index_counts_across_batches(codes):
    p = chartcoder.Pipeline(code_set=codes, max_chart_bytes=10)
    texts = ["CHF."] * 5 + ["y" * 11]
    with pytest.raises(chartcoder.ResourceExhaustedError, match="^chart 5: "):
        list(p.code_iter(texts, batch_size=2))


def test_code_file_plain_and_sealed(pipeline, example_texts, tmp_path):
    name = "office_t2dm_ckd3b_htn.txt"
    path = tmp_path / name
    path.write_text(example_texts[name], encoding="utf-8")
    plain = pipeline.code_file(path)
    assert plain.id == str(path)
    assert plain.codes == pipeline.code(example_texts[name]).codes
    keys = chartcoder.keys_from_spec("k1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=")
    sealed = tmp_path / "chart.sealed"
    chartcoder.seal_file(path, sealed, keys)
    assert pipeline.code_file(sealed, keys, id="s").codes == plain.codes
    with pytest.raises(chartcoder.FailedPreconditionError):
        pipeline.code_file(sealed)
    with pytest.raises(chartcoder.NotFoundError):
        pipeline.code_file(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(chartcoder.DataLossError):
        pipeline.code_file(empty)


def test_render_formats(pipeline, example_texts):
    text = example_texts["office_t2dm_ckd3b_htn.txt"]
    line = pipeline.render(text, id="x")
    assert line.endswith("\n") and json.loads(line)["id"] == "x"
    fhir = json.loads(pipeline.render(text, "fhir"))
    assert fhir["resourceType"] == "Bundle"
    assert pipeline.render(text, "html").startswith("<!DOCTYPE html>")
    with pytest.raises(chartcoder.InvalidArgumentError, match="unknown output format"):
        pipeline.render(text, "xml")


def test_render_many_error_records(codes):
    p = chartcoder.Pipeline(code_set=codes, max_chart_bytes=10)
    out = p.render_many(["CHF.", "z" * 11], ids=["a", "b"], error_records=True)
    err = json.loads(out[1])
    assert err["id"] == "b" and err["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert out[1].count("\n") == 1 and out[1].endswith("}\n")  # one JSON line, as the CLI
    exc = p.code_many(["z" * 11], return_errors=True)[0]
    assert chartcoder.error_record("b", exc).replace("chart 0: ", "") == out[1]
    with pytest.raises(chartcoder.ResourceExhaustedError, match=r"chart 1 \(b\)"):
        p.render_many(["CHF.", "z" * 11], ids=["a", "b"])


def test_results_pickle_and_compare(pipeline, example_texts):
    r = pipeline.code(example_texts["office_t2dm_ckd3b_htn.txt"], {"age": 70, "sex": "F"})
    again = pickle.loads(pickle.dumps(r))
    assert again == r
    assert dataclasses.asdict(again)["codes"][0]["code"] == r.codes[0].code
    assert json.loads(r.to_json()) == json.loads(json.dumps(r.to_dict()))


def test_assertions_are_immutable_and_shared(pipeline):
    """Assertions and cues are frozen; those without cues are shared between
    mentions and evidence (and charts); spans and HCC lists are tuples."""
    r = pipeline.code(NON_ASCII)
    plain = [m.assertion for m in r.mentions if not m.assertion.cues]
    plain += [e.assertion for c in r.codes for e in c.evidence if not e.assertion.cues]
    assert len(plain) > 2
    affirmed = [a for a in plain if a.affirmed]
    assert len(affirmed) > 1 and all(a is affirmed[0] for a in affirmed)
    assert pipeline.code("Type 2 diabetes.").codes[0].evidence[0].assertion is affirmed[0]
    assert affirmed[0] == chartcoder.Assertion() and hash(affirmed[0]) == hash(chartcoder.Assertion())
    negated = next(m.assertion for m in r.mentions if m.assertion.negated)
    assert isinstance(negated.cues, tuple) and isinstance(negated.cues[0], chartcoder.Cue)
    with pytest.raises(dataclasses.FrozenInstanceError):
        affirmed[0].negated = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        negated.cues[0].start = 0  # type: ignore[misc]
    e = r.codes[0].evidence[0]
    assert isinstance(e.spans, tuple) and all(isinstance(s, tuple) for s in e.spans)
    assert all(isinstance(h, tuple) for c in r.codes for h in c.hccs.values())
    again = pickle.loads(pickle.dumps(r))
    assert again == r and again.mentions[0].assertion == r.mentions[0].assertion


def test_pipeline_options(codes):
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.Pipeline(code_set=codes, models=["V99"])
    with pytest.raises(chartcoder.InvalidArgumentError, match="min_score"):
        chartcoder.Pipeline(code_set=codes, min_score=2)
    with pytest.raises(chartcoder.InvalidArgumentError, match="encoding"):
        chartcoder.Pipeline(code_set=codes, encoding="ebcdic")
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.Pipeline("/nonexistent/pack.ccpack")
    with pytest.raises(chartcoder.InvalidArgumentError, match="V23"):
        chartcoder.Pipeline(code_set=codes, normalization={"V23": 1.0})
    v28 = chartcoder.Pipeline(code_set=codes, models="V28")
    assert v28.models == ["V28"]
    assert set(v28.code("Congestive heart failure.").hccs) == {"V28"}
    strict = chartcoder.Pipeline(code_set=codes, min_score=0.99)
    loose = chartcoder.Pipeline(code_set=codes, min_score=0.0)
    text = "Assessment: possible CHF. Diabetes type 2. Hypertension."
    assert len(strict.code(text).codes) <= len(loose.code(text).codes)
    assert v28.code_set.info.path == codes.info.path


def test_pipeline_loads_the_default_pack():
    # CHARTCODER_DATA points the default at the test pack.
    os.environ["CHARTCODER_DATA"] = PACK
    try:
        p = chartcoder.Pipeline()
        assert p.code_set.info.path == PACK
        assert chartcoder.default_data_pack_path() == PACK
    finally:
        del os.environ["CHARTCODER_DATA"]


def test_coding_profile_matches_the_cli(codes):
    if "profile/codiesp" not in codes.table_names():
        pytest.skip("the pack has no codiesp profile (no ../shared/data/codiesp)")
    text = "Patient with renal colic and hematuria; ultrasound showed hydronephrosis."
    p = chartcoder.Pipeline(code_set=codes, profile="codiesp")
    cli = json_lines(run_cli("code", "--data", PACK, "--profile", "codiesp", "--input-format",
                             "jsonl", "-", input=json.dumps({"id": "p", "text": text}) + "\n"))
    assert json.loads(p.render(text, id="p")) == cli[0]
    assert_same(p.code(text, id="p").to_dict(), cli_offsets_to_str(cli[0], text))
    with pytest.raises(chartcoder.ChartcoderError, match="no_such_profile"):
        chartcoder.Pipeline(code_set=codes, profile="no_such_profile")


def test_evidence_is_capped_and_counted(pipeline, codes):
    """A chart saying "diabetes" more often than max_evidence keeps the
    strongest 20 pieces, counts them all, and marks every mention coded, as
    the CLI's JSON does (non-ASCII, so offsets are converted)."""
    text = "Zoë — ASSESSMENT:\n" + "".join(
        f"{i}. Type 2 diabetes mellitus without complications — stable.\n" for i in range(1, 31))
    r = pipeline.code(text, id="cap")
    e11 = next(c for c in r.codes if c.code == "E11.9")
    assert len(e11.evidence) == 20
    assert e11.evidence_count == 30
    used = [m for m in r.mentions if m.code.startswith("E11")]
    assert len(used) == 30 and all(m.coded for m in used)
    cli = json_lines(run_cli("code", "--data", PACK, "--input-format", "jsonl", "-",
                             input=json.dumps({"id": "cap", "text": text}) + "\n"))
    assert_same(r.to_dict(), cli_offsets_to_str(cli[0], text))
    assert list(r.to_dict()["codes"][0])[-2:] == ["evidence", "evidence_count"]

    everything = chartcoder.Pipeline(code_set=codes, max_evidence=0).code(text)
    all_e11 = next(c for c in everything.codes if c.code == "E11.9")
    assert len(all_e11.evidence) == all_e11.evidence_count == 30
    assert all_e11.evidence[:20] == e11.evidence
    one = chartcoder.Pipeline(code_set=codes, max_evidence=1).code(text)
    assert [len(c.evidence) for c in one.codes] == [1] * len(one.codes)
    with pytest.raises(chartcoder.InvalidArgumentError, match="max_evidence"):
        chartcoder.Pipeline(code_set=codes, max_evidence=-1)
