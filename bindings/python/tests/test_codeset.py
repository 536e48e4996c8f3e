import os

import pytest

import chartcoder

PACK = os.environ.get("CHARTCODER_TEST_PACK", "")


@pytest.fixture(scope="module")
def codes():
    return chartcoder.CodeSet(PACK)


def test_find_dotted_and_undotted(codes):
    assert codes.find("E11.9").description == "Type 2 diabetes mellitus without complications"
    assert codes.find("e119").code == "E11.9"
    assert codes.find("E11").billable is False
    assert codes.find("NOPE") is None


def test_hcc_categories(codes):
    hccs = {(h.model, h.hcc) for h in codes.hcc_categories("E11.9")}
    assert ("CMS-HCC Model V24", "HCC19") in hccs
    assert ("CMS-HCC Model V28", "HCC38") in hccs


def test_missing_pack_raises_not_found():
    with pytest.raises(chartcoder.NotFoundError):
        chartcoder.CodeSet("/nonexistent/pack.ccpack")


def test_corrupt_pack_raises_data_loss(tmp_path):
    bad = tmp_path / "bad.ccpack"
    bad.write_bytes(b"not a pack at all")
    with pytest.raises(chartcoder.DataLossError):
        chartcoder.CodeSet(str(bad))


def test_code_fields(codes):
    c = codes["E11.22"]
    assert c.parent == "E11.2" and c.billable and c.depth == 2
    assert c.block == "E08-E13" and c.chapter == "4"
    assert "E11.9" in codes["E11"].children
    assert "E11.22" in codes.descendants("E11")
    assert "E11.22" in codes and "ZZZ" not in codes
    assert len(codes) == codes.info.code_count
    with pytest.raises(chartcoder.NotFoundError) as e:
        codes["ZZZ.9"]
    assert isinstance(e.value, KeyError) and str(e.value).startswith("no ICD-10-CM code")
    assert codes["S72.001A"].billable and codes["S72.001"].requires_seventh_character
    assert "A00" in codes.categories()


def test_is_billable(codes):
    assert codes.is_billable("E11.9") and not codes.is_billable("E11")
    assert not codes.is_billable("nope")


def test_search(codes):
    hits = codes.search("congestive heart failure", limit=3)
    assert len(hits) == 3 and hits[0].code.startswith("I50")
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert all(h.source in ("description", "inclusion_term", "index") for h in hits)
    assert all(h.billable for h in codes.search("diabetes", billable_only=True))
    with pytest.raises(chartcoder.InvalidArgumentError):
        codes.search("x", limit=0)


def test_notes(codes):
    excludes = codes.notes("E11", kind="excludes1")
    assert excludes and all(n.kind == "excludes1" for n in excludes)
    assert any("E08.-" in n.refs for n in excludes)
    in_effect = codes.notes("E11.9", kind="excludes1", in_effect=True)
    assert any("E08.-" in n.refs for n in in_effect)
    assert codes.notes("E11.9", in_effect=True)
    with pytest.raises(chartcoder.InvalidArgumentError, match="unknown note kind"):
        codes.notes("E11", kind="nonsense")


def test_index(codes):
    t = codes.lookup_index("Failure > heart > congestive")
    assert t is not None and t.code.startswith("I50")
    assert codes.lookup_index(["Failure", "heart"]).children
    assert codes.lookup_index("No such term > at all") is None
    with pytest.raises(chartcoder.InvalidArgumentError):
        codes.lookup_index("Failure", table="drugs")


def test_tables(codes):
    names = codes.table_names()
    assert "hcc/ra_labels" in names
    labels = codes.table("hcc/ra_labels")
    assert labels.columns[0] == "cc" and len(labels.rows) > 100
    assert all(len(r) == len(labels.columns) for r in labels.rows)
    with pytest.raises(chartcoder.NotFoundError):
        codes.table("no/such")


def test_info(codes):
    i = codes.info
    assert i.path == PACK and i.icd10cm_fiscal_year >= 2023
    assert "CMS-HCC Model V28" in i.hcc_models
    assert i.billable_code_count < i.code_count
    assert isinstance(i.metadata, dict)
    assert "CodeSet" in repr(codes)


def test_pathlike_pack():
    import pathlib
    assert chartcoder.CodeSet(pathlib.Path(PACK)).info.path == PACK
