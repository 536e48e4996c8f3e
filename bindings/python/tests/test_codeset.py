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
