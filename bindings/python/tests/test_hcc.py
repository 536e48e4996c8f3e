import csv
import json

import pytest

import chartcoder
from conftest import DATA_SOURCE, PACK, run_cli
from test_pipeline import assert_same


@pytest.fixture(scope="module")
def v28(codes):
    return chartcoder.RiskModel("V28", code_set=codes)


@pytest.fixture(scope="module")
def v24(codes):
    return chartcoder.RiskModel("V24", code_set=codes)


def test_score_explains_every_step(v28):
    s = v28.score(["E11.9", "I509", "n18.4", "E11.9"], age=72, sex="F")
    assert s.model == "V28" and s.segment == "CNA"
    assert s.raw_score == pytest.approx(1.723)
    assert [h.hcc for h in s.hccs] == [38, 226, 327]
    assert s.hccs[0].codes == ["E11.9"] and s.hccs[0].coefficient == pytest.approx(0.166)
    assert [t.name for t in s.terms] == ["F70_74", "HCC38", "HCC226", "HCC327",
                                         "DIABETES_HF_V28", "HF_KIDNEY_V28", "D3"]
    assert [c.code for c in s.codes] == ["E11.9", "I50.9", "N18.4"]  # duplicates folded
    assert s.demographic_score + s.disease_score == pytest.approx(s.raw_score)


def test_score_matches_the_cli(v28, v24):
    codes = ["E11.9", "I50.9", "N18.4", "E11", "XYZ", "E11.22", "E11.9", "Z99.2", "F20.9"]
    for model, name in ((v28, "V28"), (v24, "V24")):
        for member, flags in (({"age": 72, "sex": "F"}, ["--age", "72", "--sex", "F"]),
                              ({"age": 50, "sex": "M", "dual": "full", "orec": 1},
                               ["--age", "50", "--sex", "M", "--dual", "full", "--orec", "1"]),
                              ({"age": 80, "sex": "F", "institutional": True},
                               ["--age", "80", "--sex", "F", "--institutional"])):
            cli = json.loads(run_cli("raf", "--data", PACK, "--model", name, "--json", *flags,
                                     *codes))
            assert_same(model.score(codes, member).to_dict(), cli, f"{name} {member}")


def test_removed_hccs_and_edits(v28, v24):
    s = v24.score(["E11.9", "E11.22"], age=70, sex="M")  # HCC 18 removes HCC 19
    assert [h.hcc for h in s.hccs] == [18]
    removed = s.removed_hccs[0]
    assert (removed.hcc, removed.reason, removed.removed_by, removed.rule) == (19, "hierarchy",
                                                                             18, None)
    edited = v28.score(["D66"], age=40, sex="F")  # hemophilia in a female: an override edit
    assert edited.edits and edited.edits[0].action in ("override", "invalid")


def test_code_outcomes(v28):
    s = v28.score(["E11.9", "E11", "XYZ", "Z00.00"], age=70, sex="F")
    assert s.invalid_codes == ["XYZ"]
    assert s.not_billable_codes == ["E11"]
    assert s.unmapped_codes == ["Z00.00"]
    assert {c.code: c.status for c in s.codes}["E11.9"] == "mapped"


def test_member_arguments(v28):
    a = v28.score(["I50.9"], age=72, sex="F")
    b = v28.score(["I50.9"], {"age": 72, "sex": "F"})
    c = v28.score(["I50.9"], chartcoder.Demographics(72, "2"))
    assert a == b == c
    with pytest.raises(TypeError, match="not both"):
        v28.score(["I50.9"], {"age": 72, "sex": "F"}, age=70)
    with pytest.raises(TypeError, match="age= and sex="):
        v28.score(["I50.9"], age=72)
    with pytest.raises(TypeError, match="single string"):
        v28.score("I50.9", age=72, sex="F")
    with pytest.raises(chartcoder.InvalidArgumentError):
        v28.score(["I50.9"], age=72, sex="F", dual="sometimes")
    with pytest.raises(chartcoder.InvalidArgumentError):
        v28.score(["I50.9"], age=72, sex="F", orec=7)
    with pytest.raises(chartcoder.InvalidArgumentError, match="age"):
        v28.score(["I50.9"], age=72.5, sex="F")
    forced = v28.score(["I50.9"], age=72, sex="F", segment="INS")
    assert forced.segment == "INS" and forced.segment_forced


def test_categorize(v28):
    c = v28.categorize(["E11.9", "E11.22", "I50.9"])
    assert isinstance(c, chartcoder.Categorization)
    assert [h.hcc for h in c.hccs] == [37, 226]
    assert not any(h.scored for h in c.hccs)
    assert c.removed_hccs[0].hcc == 38 and c.payment_hcc_count == 2


def test_model_facts(v28, codes):
    assert v28.payment_year == codes.info.hcc_payment_year
    assert 38 in v28.hccs() and len(v28.hccs()) == 115
    assert v28.hcc_label(38).startswith("Diabetes")
    with pytest.raises(chartcoder.NotFoundError):
        v28.hcc_label(9999)
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.RiskModel("V99", code_set=codes)
    with pytest.raises(chartcoder.FailedPreconditionError):
        chartcoder.RiskModel("V28", code_set=codes, payment_year=1999)
    own = chartcoder.RiskModel("V28", code_set=codes, normalization_factor=1.1,
                               coding_intensity_adjustment=0.05)
    s = own.score(["I50.9"], age=72, sex="F")
    assert own.normalization_source == "option"
    assert s.normalized_score == pytest.approx(round(s.raw_score / 1.1, 3))
    assert s.payment_score == pytest.approx(round(s.normalized_score * 0.95, 3))


def test_blended_model_matches_the_cli(codes):
    blend = chartcoder.BlendedModel({"V24": 0.33, "V28": 0.67}, code_set=codes)
    s = blend.score(["E11.9", "I50.9"], age=72, sex="F")
    assert set(s.components) == {"V24", "V28"}
    cli = json.loads(run_cli("raf", "--data", PACK, "--blend", "V24=0.33,V28=0.67", "--age",
                             "72", "--sex", "F", "--json", "E11.9", "I50.9"))
    assert_same(s.to_dict(), cli["blend"])
    with pytest.raises(chartcoder.InvalidArgumentError):
        chartcoder.BlendedModel({"V24": 0.5, "V28": 0.6}, code_set=codes).score(
            ["I50.9"], age=70, sex="F")
    assert chartcoder.published_blend(1990) is None


def golden_cases():
    path = DATA_SOURCE / "hcc/golden_raf_cases_hccinfhir.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("case", golden_cases(), ids=lambda c: f"{c['case_id']}-{c['model'][-3:]}")
def test_golden_raf_cases(case, codes):
    model = chartcoder.RiskModel(case["model"][-3:], code_set=codes)
    dual = case["dual_elgbl_cd"] or "NA"
    s = model.score(case["dx_codes"].split(), age=int(case["age"]), sex=case["sex"],
                    dual=dual, orec=int(case["orec"]), institutional=case["lti"] == "1",
                    new_enrollee=case["new_enrollee"] == "1")
    assert s.raw_score == pytest.approx(float(case["risk_score"]), abs=1e-3)
