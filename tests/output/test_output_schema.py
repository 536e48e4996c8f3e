"""`chartcoder code --format jsonl` against docs/chart-result.schema.json.

Every chart of examples/charts is coded without and with demographics (so
`raf` is covered) and each line is validated, as are error records. The schema
is strict (additionalProperties: false, every field required), and the
mutation tests below prove it: a renamed or added field anywhere in a real
record fails validation.
"""
import copy
import json
import pathlib

import jsonschema
import pytest

from conftest import SCHEMA_PATH, json_lines, run_cli


@pytest.fixture(scope="module")
def schema():
    s = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def validator(schema, definition=None):
    if definition is None:
        return jsonschema.Draft202012Validator(schema)
    sub = {"$schema": schema["$schema"], "$defs": schema["$defs"],
           "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(sub)


def assert_valid(v, record, what):
    errors = sorted(v.iter_errors(record), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])


def assert_offsets(record, chart_bytes):
    """Offsets are UTF-8 byte offsets of the chart: in range and the text matches."""
    n = record["bytes"]
    assert n == len(chart_bytes)

    def check(span, text=None):
        b, e = span
        assert 0 <= b <= e <= n, f"{record['id']}: span {span} outside 0..{n}"
        if text is not None:
            assert chart_bytes[b:e].decode("utf-8") == text, f"{record['id']}: {span}"

    for c in record["codes"]:
        for ev in c["evidence"]:
            check(ev["span"], ev["text"])
            check(ev["sentence"])
            sb, se = ev["sentence"]
            for w in ev["spans"]:
                check(w)
            assert sb <= ev["span"][0] and ev["span"][1] <= se, "evidence outside its sentence"
    for m in record["mentions"]:
        check(m["span"], m["text"])
        for cue in m["cues"]:
            check(cue["span"])


def test_every_example_validates(schema, coded_examples):
    v = validator(schema, "chart_result")
    for path, record in coded_examples.items():
        assert_valid(v, record, path.name)
        assert "raf" not in record, "raf without demographics"
        assert_offsets(record, path.read_bytes())
        assert set(record["hccs"]) == {"V24", "V28"}
        scores = [c["score"] for c in record["codes"]]
        assert scores == sorted(scores, reverse=True), f"{path.name}: codes not ranked by score"


def test_evidence_words_lie_inside_the_evidence_span(coded_examples):
    outside = []
    for path, record in coded_examples.items():
        for c in record["codes"]:
            for ev in c["evidence"]:
                b, e = ev["span"]
                outside += [(path.name, c["code"], ev["text"], w) for w in ev["spans"]
                            if not (b <= w[0] and w[1] <= e)]
    assert not outside, outside[:5]


def test_every_example_validates_with_demographics(schema, charts):
    _, out, _ = run_cli(["code", "--threads", "2", "--age", "72", "--sex", "F",
                         *map(str, charts)], check_exit=0)
    records = json_lines(out)
    assert len(records) == len(charts)
    v = validator(schema, "chart_result")
    top = validator(schema)
    for path, record in zip(charts, records):
        assert_valid(v, record, path.name)
        assert_valid(top, record, path.name)
        assert set(record["raf"]) >= {"V24", "V28"}
        for model in ("V24", "V28"):
            raf = record["raf"][model]
            assert raf["demographics"]["age"] == 72 and raf["demographics"]["sex"] == "F"
            assert raf["raw_score"] == pytest.approx(
                sum(t["coefficient"] for t in raf["terms"]), abs=1e-6)
            # The chart's HCCs are the scored HCCs (the age/sex edits may only remove some).
            assert {h["hcc"] for h in raf["hccs"]} <= {h["hcc"] for h in record["hccs"][model]}


def test_jsonl_input_with_demographics_per_line(schema, charts, tmp_path):
    lines = [
        {"id": "a", "text": charts[0].read_text(), "demographics": {"age": 80, "sex": "M",
                                                                     "dual": "full"}},
        {"id": "b", "text": charts[1].read_text()},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    _, out, _ = run_cli(["code", "--input-format", "jsonl", str(path)], check_exit=0)
    a, b = json_lines(out)
    v = validator(schema)
    assert_valid(v, a, "a")
    assert_valid(v, b, "b")
    assert a["raf"]["V28"]["segment"] == "CFA"
    assert "raf" not in b


def error_records(tmp_path):
    good = tmp_path / "charts" / "a_good.txt"
    good.parent.mkdir()
    good.write_text("ASSESSMENT: Type 2 diabetes mellitus with diabetic CKD stage 3b.\n")
    bad_utf8 = tmp_path / "charts" / "b_latin1.txt"
    bad_utf8.write_bytes(b"ASSESSMENT: caf\xe9 au lait spots; CHF.\n")
    with open(tmp_path / "charts" / "c_huge.txt", "wb") as f:
        f.truncate(17 << 20)  # sparse: over the 16 MiB chart limit
    _, out, _ = run_cli(["code", str(good.parent)], check_exit=2)
    records = json_lines(out)
    jl = tmp_path / "in.jsonl"
    jl.write_text('{"id": "ok", "text": "Assessment: COPD."}\n{"id": "x", "text": \n'
                  '{"id": "y"}\n{"id": "z", "text": "HTN", "demographics": {"age": "old"}}\n')
    _, out2, _ = run_cli(["code", "--input-format", "jsonl", str(jl)], check_exit=2)
    return records + json_lines(out2)


def test_error_records_validate(schema, tmp_path):
    records = error_records(tmp_path)
    assert len(records) == 7, records
    errors = [r for r in records if "error" in r]
    assert len(errors) == 5
    v = validator(schema, "error_record")
    top = validator(schema)
    for r in errors:
        assert_valid(v, r, r["id"])
        assert_valid(top, r, r["id"])
        assert "caf" not in r["error"]["message"], "chart text in an error record"
    codes = {r["id"].rsplit("/", 1)[-1]: r["error"]["code"] for r in errors}
    assert codes["b_latin1.txt"] == "INVALID_ARGUMENT"
    assert codes["c_huge.txt"] == "RESOURCE_EXHAUSTED"
    assert codes["line 2"] == "INVALID_ARGUMENT"
    assert codes["y"] == "INVALID_ARGUMENT"
    assert codes["z"] == "INVALID_ARGUMENT"
    # An error record is not a chart result, and a result is not an error record.
    assert not validator(schema, "chart_result").is_valid(errors[0])
    ok = [r for r in records if "error" not in r]
    assert ok and not validator(schema, "error_record").is_valid(ok[0])


# --- The schema is strict: mutations of a real record must fail. ---------------


def object_paths(node, path=()):
    """Paths of every JSON object in `node`, one per distinct shape (array
    indices collapsed), so each kind of object is mutated once."""
    seen = {}

    def walk(n, p, shape):
        if isinstance(n, dict):
            seen.setdefault(shape, p)
            for k, v in n.items():
                # Model-keyed maps (hccs, raf, weights) are one shape per key.
                walk(v, p + (k,), shape + (k,))
        elif isinstance(n, list):
            for i, v in enumerate(n):
                walk(v, p + (i,), shape + ("[]",))

    walk(node, path, ())
    return list(seen.values())


def at(node, path):
    for p in path:
        node = node[p]
    return node


@pytest.fixture(scope="module")
def rich_record(charts):
    # A chart with codes, mentions with cues, HCCs, removed HCCs, and RAF.
    chart = next(c for c in charts if c.name == "office_t2dm_ckd3b_htn.txt")
    _, out, _ = run_cli(["code", "--age", "72", "--sex", "F", str(chart)], check_exit=0)
    (record,) = json_lines(out)
    assert any(m["cues"] for m in record["mentions"])
    assert any(record["removed_hccs"].values())
    return record


def test_added_field_anywhere_fails(schema, rich_record):
    v = validator(schema, "chart_result")
    assert_valid(v, rich_record, "unmutated")
    paths = object_paths(rich_record)
    assert len(paths) > 15
    for path in paths:
        mutated = copy.deepcopy(rich_record)
        target = at(mutated, path)
        target["unexpected_field"] = 1
        assert not v.is_valid(mutated), f"adding a field at /{'/'.join(map(str, path))} passed"


def test_renamed_field_anywhere_fails(schema, rich_record):
    v = validator(schema, "chart_result")
    for path in object_paths(rich_record):
        for key in list(at(rich_record, path)):
            mutated = copy.deepcopy(rich_record)
            target = at(mutated, path)
            target[key + "_renamed"] = target.pop(key)
            assert not v.is_valid(mutated), (
                f"renaming /{'/'.join(map(str, path + (key,)))} passed")


def test_enums_are_closed(schema, rich_record):
    v = validator(schema, "chart_result")
    for path, bad in [(("codes", 0, "evidence", 0, "section"), "assessment_plan"),
                      (("codes", 0, "evidence", 0, "source"), "lexicon"),
                      (("mentions", 0, "section"), "HPI"),
                      (("codes", 0, "code"), "E1122"),
                      (("codes", 0, "score"), 1.5),
                      (("codes", 0, "evidence", 0, "span"), [1, 2, 3])]:
        mutated = copy.deepcopy(rich_record)
        at(mutated, path[:-1])[path[-1]] = bad
        assert not v.is_valid(mutated), f"{path} = {bad!r} passed"
    cue_mention = next(i for i, m in enumerate(rich_record["mentions"]) if m["cues"])
    mutated = copy.deepcopy(rich_record)
    mutated["mentions"][cue_mention]["cues"][0]["kind"] = "negative"
    assert not v.is_valid(mutated)
