import pytest

import chartcoder
from chartcoder import _errors


def test_hierarchy():
    assert issubclass(chartcoder.InvalidArgumentError, ValueError)
    assert issubclass(chartcoder.NotFoundError, KeyError)
    for cls in (chartcoder.InvalidArgumentError, chartcoder.NotFoundError,
                chartcoder.DataLossError, chartcoder.FailedPreconditionError,
                chartcoder.ResourceExhaustedError, chartcoder.InternalError):
        assert issubclass(cls, chartcoder.ChartcoderError)


def test_mapping():
    assert isinstance(_errors.exception_for("DATA_LOSS", "m"), chartcoder.DataLossError)
    other = _errors.exception_for("UNAVAILABLE", "m")
    assert type(other) is chartcoder.ChartcoderError
    with pytest.raises(chartcoder.NotFoundError) as e:
        _errors.raise_status("NOT_FOUND", "no pack at /x")
    assert str(e.value) == "no pack at /x"  # not quoted as KeyError would


def test_native_errors_map():
    with pytest.raises(ValueError):
        chartcoder.RiskModel("V99")
    with pytest.raises(KeyError):
        chartcoder.CodeSet("/nonexistent/pack.ccpack")


def test_code_attribute_and_pickle():
    import pickle
    assert chartcoder.DataLossError("m").code == "DATA_LOSS"
    other = _errors.exception_for("UNAVAILABLE", "down")
    assert other.code == "UNAVAILABLE"
    again = pickle.loads(pickle.dumps(other))
    assert again.code == "UNAVAILABLE" and str(again) == "down"
    assert pickle.loads(pickle.dumps(chartcoder.NotFoundError("k"))).code == "NOT_FOUND"
