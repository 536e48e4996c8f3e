import json

import pytest

import chartcoder
from conftest import byte_to_index, json_lines, run_cli

CASES = [
    ("a1", "Denies chest pain but reports dyspnea.", "chest pain"),
    ("a2", "Denies chest pain but reports dyspnea.", "dyspnea"),
    ("a3", "Possible pneumonia on the left.", "pneumonia"),
    ("a4", "History of breast cancer, s/p lumpectomy.", "breast cancer"),
    ("a5", "Mother had colon cancer.", "colon cancer"),
    ("a6", "Return if fever develops.", "fever"),
    ("a7", "FAMILY HISTORY: diabetes in her father.\nASSESSMENT: hypertension.", "diabetes"),
    ("a8", "Zoë — 患者 😀 denies any chest pain.", "chest pain"),
    ("a9", "No such phrase here.", "pneumonia"),
    ("a10", "Pt ruled out for MI; café visit.", "MI"),
]


def test_context_matches_the_cli():
    lines = "".join(json.dumps({"id": i, "text": t, "target": g}) + "\n" for i, t, g in CASES)
    cli = {d["id"]: d for d in json_lines(run_cli("context", "--input", "-", input=lines))}
    for chart_id, text, target in CASES:
        r = chartcoder.context(text, target)
        expected = dict(cli[chart_id])
        del expected["id"]
        to = byte_to_index(text)
        if expected["span"] is not None:
            expected["span"] = [to(b) for b in expected["span"]]
        for cue in expected["cues"]:
            cue["span"] = [to(b) for b in cue["span"]]
        assert r.to_dict() == expected, chart_id
        if r.found:
            assert text[r.start:r.end].lower() == target.lower()


def test_context_on_spans():
    text = "Zoë — denies chest pain but reports dyspnea."
    start = text.index("chest pain")
    r = chartcoder.context(text, (start, start + len("chest pain")))
    assert r.found and r.assertion.negated and not r.assertion.affirmed
    cue = r.assertion.cues[0]
    assert text[cue.start:cue.end] == "denies" and cue.kind == "negation"
    later = text.index("dyspnea")
    assert chartcoder.context(text, (later, later + 7)).assertion.affirmed
    with pytest.raises(chartcoder.InvalidArgumentError, match="not within the text"):
        chartcoder.context(text, (40, 400))
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.context(text, (5, 2))
    with pytest.raises(TypeError):
        chartcoder.context(text, 5)
    missing = chartcoder.context(text, "pneumonia")
    assert not missing.found and missing.start is None
    assert missing.to_dict()["span"] is None


def test_assess_all_and_custom_triggers(tmp_path):
    rules = tmp_path / "triggers.tsv"
    rules.write_text("phrase\tkind\tdirection\tmax_scope\nno evidence whatsoever of\tnegation"
                     "\tforward\t\n")
    text = "No evidence whatsoever of pneumonia. Possible CHF."
    plain = chartcoder.Context()
    custom = chartcoder.Context(triggers=[rules])
    results = custom.assess_all(text, ["pneumonia", "CHF", (0, 2)])
    assert results[0].assertion.negated
    assert results[1].assertion.uncertain
    assert any(r[0] == "no evidence whatsoever of" for r in custom.rules())
    assert not any(r[0] == "no evidence whatsoever of" for r in plain.rules())
    bad = tmp_path / "bad.tsv"
    bad.write_text("phrase\tkind\tdirection\tmax_scope\nfoo\tnonsense\tforward\t\n")
    with pytest.raises(chartcoder.InvalidArgumentError, match="bad.tsv"):
        chartcoder.Context(triggers=[bad])
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.Context(triggers=[tmp_path / "missing.tsv"])
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.Context(forward_scope=0)


def test_context_with_the_pack_tables(codes):
    ctx = chartcoder.Context(code_set=codes)
    assert ctx.assess("Denies chest pain.", "chest pain").assertion.negated


def test_analyze():
    note = "PMH: DM2 on insulin, b.i.d.\nAssessment: Zoë — 患者 has CHF 😀; BP 140/90."
    doc = chartcoder.TextAnalyzer().analyze(note)
    assert doc.text is note
    kinds = [s.kind for s in doc.sections]
    assert kinds[0] == "past_medical_history" and "assessment" in kinds
    for t in doc.tokens:
        assert 0 <= t.start < t.end <= len(note)
    norms = [t.norm for t in doc.tokens]
    assert "bid" in norms and "chf" in norms
    chf = doc.tokens[norms.index("chf")]
    assert note[chf.start:chf.end] == "CHF"
    bp = next(t for t in doc.tokens if t.norm == "140/90")
    assert bp.kind == "measurement"
    for s in doc.sentences:
        tokens = doc.tokens[s.tokens.start:s.tokens.stop]
        assert tokens[0].start == s.start and tokens[-1].end == s.end
        sec = doc.sections[s.section]
        assert sec.start <= s.start and s.end <= sec.end
    assert doc.sentences[0].header
    header = doc.sections[0]
    assert note[header.header_start:header.header_end].startswith("PMH")


def test_analyze_bytes_and_encodings():
    raw = "Assessment: caf\xe9 \u2013 CHF.".encode("cp1252")
    doc = chartcoder.TextAnalyzer(encoding="windows-1252").analyze(raw)
    assert doc.text == raw.decode("cp1252")
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.TextAnalyzer().analyze(raw)
    repaired = chartcoder.TextAnalyzer(repair_invalid_utf8=True).analyze(raw)
    assert "\ufffd" in repaired.text
