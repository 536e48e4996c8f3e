"""chartcoder.RiskModel and chartcoder.BlendedModel: CMS-HCC scores of members."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from . import _args
from . import _chartcoder
from ._args import DemographicsLike, PathLike
from ._types import BlendedRiskScore, Categorization, RiskScore


def _codes(codes: Iterable[str]) -> list[str]:
    if isinstance(codes, (str, bytes)):
        raise TypeError("codes: expected a list of codes, got a single string")
    return [str(c) for c in codes]


class RiskModel:
    """One CMS-HCC model ("V24" or "V28") for the data pack's payment year.

        model = chartcoder.RiskModel("V28")
        score = model.score(["E11.9", "I50.9", "N18.4"], age=72, sex="F")
        score.raw_score, [h.hcc for h in score.hccs], score.terms

    Every step is explained: each code's outcome, HCCs after hierarchies,
    edits, interaction and count terms with their coefficients, raw,
    normalized and payment scores. Immutable; safe to share between threads.

    data / code_set: the pack (default: the installed one), or a loaded CodeSet
    to share. payment_year: must be the pack's (default). normalization_factor,
    coding_intensity_adjustment: instead of the published values (a missing
    value leaves the normalized/payment scores None).
    """

    def __init__(self, model: str = "V28", *, data: Optional[PathLike] = None,
                 code_set: Optional[_chartcoder.CodeSet] = None,
                 payment_year: Optional[int] = None,
                 normalization_factor: Optional[float] = None,
                 coding_intensity_adjustment: Optional[float] = None) -> None:
        self._native = _chartcoder.RiskModel(
            code_set=code_set, data=_args.path(data), model=model,
            payment_year=payment_year or 0, normalization_factor=normalization_factor,
            coding_intensity_adjustment=coding_intensity_adjustment)

    def score(self, codes: Iterable[str], demographics: Optional[DemographicsLike] = None, *,
              age: Optional[int] = None, sex: Optional[str] = None, dual: Optional[str] = None,
              orec: Optional[int] = None, institutional: Optional[bool] = None,
              new_enrollee: Optional[bool] = None, chronic_snp: Optional[bool] = None,
              segment: Optional[str] = None) -> RiskScore:
        """The RiskScore of a member with these diagnosis codes (dotted or not,
        any case; duplicates folded). The member is ``demographics`` (a
        Demographics or dict) or the keywords (age and sex required).
        InvalidArgumentError: bad demographics; ResourceExhaustedError: too
        many codes."""
        member = _args.member(demographics, dict(
            age=age, sex=sex, dual=dual, orec=orec, institutional=institutional,
            new_enrollee=new_enrollee, chronic_snp=chronic_snp, segment=segment))
        return self._native.score(_codes(codes), member)

    def categorize(self, codes: Iterable[str]) -> Categorization:
        """The HCCs of codes without a member: mapping, CMS rules and
        hierarchies, no age/sex edits and no score."""
        return self._native.categorize(_codes(codes))

    @property
    def model(self) -> str:
        return self._native.model

    @property
    def payment_year(self) -> int:
        return self._native.payment_year

    @property
    def normalization_factor(self) -> Optional[float]:
        return self._native.normalization_factor

    @property
    def coding_intensity_adjustment(self) -> Optional[float]:
        return self._native.coding_intensity_adjustment

    @property
    def normalization_source(self) -> str:
        """"option", or the publication the factor comes from."""
        return self._native.normalization_source

    @property
    def coding_adjustment_source(self) -> str:
        return self._native.coding_adjustment_source

    def hccs(self) -> list[int]:
        """The model's payment HCCs, ascending."""
        return self._native.hccs()

    def hcc_label(self, hcc: int) -> str:
        """The label of a payment HCC (NotFoundError if the model has none)."""
        return self._native.hcc_label(hcc)

    def __repr__(self) -> str:
        return f"<chartcoder.RiskModel {self.model} PY{self.payment_year}>"


class BlendedModel:
    """CMS-HCC models blended as CMS does for a payment year: each model's
    score is normalized, the normalized scores are blended with ``weights``
    ({"V24": 0.33, "V28": 0.67}; default: the published blend of the pack's
    payment year, NotFoundError if none), then the coding adjustment applies
    once. ``normalization`` overrides factors per model.
    """

    def __init__(self, weights: Optional[Mapping[str, float]] = None, *,
                 data: Optional[PathLike] = None, code_set: Optional[_chartcoder.CodeSet] = None,
                 normalization: Optional[Mapping[str, float]] = None,
                 coding_intensity_adjustment: Optional[float] = None) -> None:
        self._native = _chartcoder.BlendedModel(
            code_set=code_set, data=_args.path(data),
            weights=_args.model_values(weights, "weights"),
            normalization=_args.model_values(normalization, "normalization"),
            coding_intensity_adjustment=coding_intensity_adjustment)

    def score(self, codes: Iterable[str], demographics: Optional[DemographicsLike] = None,
              **member: Any) -> BlendedRiskScore:
        """The BlendedRiskScore of a member (arguments as RiskModel.score),
        with each model's RiskScore in ``components``."""
        fields = {k: member.pop(k, None) for k in ("age", "sex", "dual", "orec", "institutional",
                                                   "new_enrollee", "chronic_snp", "segment")}
        if member:
            raise TypeError(f"unexpected keyword(s): {', '.join(sorted(member))}")
        return self._native.score(_codes(codes), _args.member(demographics, fields))

    @property
    def weights(self) -> dict[str, float]:
        return self._native.weights

    @property
    def payment_year(self) -> int:
        return self._native.payment_year

    def __repr__(self) -> str:
        return f"<chartcoder.BlendedModel {self.weights} PY{self.payment_year}>"


def published_blend(payment_year: int) -> Optional[tuple[dict[str, float], str]]:
    """The model weights CMS published for a payment year and the source, or None."""
    return _chartcoder.published_blend(payment_year)
