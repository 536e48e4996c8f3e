"""Argument normalization shared by the package's classes (no C++ logic here:
values are only reshaped; the native module validates them)."""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from ._types import Demographics

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
DemographicsLike = Union[Demographics, Mapping[str, Any]]

_DEMOGRAPHIC_KEYS = {"age", "sex", "dual", "orec", "institutional", "new_enrollee",
                     "chronic_snp", "segment"}
# Spellings of the CLI and of JSON Lines input.
_ALIASES = {"csnp": "chronic_snp", "new-enrollee": "new_enrollee"}


def demographics(value: Optional[DemographicsLike]) -> Optional[Demographics]:
    """None, a Demographics, or a mapping with its fields (as in the
    "demographics" object of ``chartcoder code`` JSON Lines input)."""
    if value is None or isinstance(value, Demographics):
        return value
    if isinstance(value, Mapping):
        fields = {_ALIASES.get(k, k): v for k, v in value.items()}
        unknown = sorted(set(fields) - _DEMOGRAPHIC_KEYS)
        if unknown:
            raise TypeError(f"demographics: unknown field(s) {', '.join(unknown)}")
        missing = [k for k in ("age", "sex") if k not in fields]
        if missing:
            raise TypeError(f"demographics: {' and '.join(missing)} required")
        return Demographics(**fields)
    raise TypeError(f"demographics: expected chartcoder.Demographics or a dict, got "
                    f"{type(value).__name__}")


def member(demographics_value: Optional[DemographicsLike], fields: dict[str, Any]) -> Demographics:
    """A member given as a Demographics/dict or as keyword fields (not both)."""
    given = {k: v for k, v in fields.items() if v is not None}
    if demographics_value is not None:
        if given:
            raise TypeError("give demographics or age=/sex=/... keywords, not both")
        d = demographics(demographics_value)
        assert d is not None
        return d
    if "age" not in given or "sex" not in given:
        raise TypeError("a member needs age= and sex= (or demographics=)")
    return Demographics(**given)


def path(value: Optional[PathLike]) -> str:
    """A path as str ("" for None)."""
    if value is None:
        return ""
    p = os.fspath(value)
    return os.fsdecode(p) if isinstance(p, bytes) else p


def paths(values: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    if isinstance(values, (str, bytes, os.PathLike)):
        return [path(values)]
    return [path(v) for v in values]


# Demographics for a batch of charts: none, one member for all, or one (or
# None) per chart.
ChartsDemographics = Union[None, DemographicsLike, Sequence[Optional[DemographicsLike]]]


def charts_demographics(
        value: ChartsDemographics) -> Union[None, Demographics, list[Optional[Demographics]]]:
    """None, one Demographics for every chart, or a list with one (or None) per chart."""
    if value is None or isinstance(value, (Demographics, Mapping)):
        return demographics(value)
    return [demographics(d) for d in value]


def threads(value: Optional[int]) -> int:
    """None (every core) or a positive count."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"threads must be a positive whole number or None, got {value!r}")
    return value


def model_values(value: Optional[Mapping[str, float]], what: str) -> list[tuple[str, float]]:
    """{"V24": 0.33, "V28": 0.67} -> [("V24", 0.33), ("V28", 0.67)]."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise TypeError(f"{what}: expected a dict of model -> value, e.g. {{'V28': 1.0}}")
    return [(str(k), float(v)) for k, v in value.items()]
