"""The typed values chartcoder returns.

Plain data classes, built by the native module (``_chartcoder``) from the C++
results. Every offset is an index into a Python ``str`` (code points), so
``result.text[e.start:e.end] == e.text``. ``to_dict()`` gives the JSON form of
``chartcoder code`` (docs/output-schema.md) with those offsets; floats are not
rounded. The classes are ordinary data classes: comparable, printable and
picklable (results can cross process boundaries, e.g. with Dask).

``Assertion`` and ``Cue`` are frozen (immutable, hashable) and fixed-length
sequences inside results are tuples (``Assertion.cues``, ``Evidence.spans``,
``AssignedCode.hccs`` values): a chart's result holds hundreds of small values,
and an assertion without cues is one of 32 shared objects, so a batch of
results costs fewer allocations and less work for Python's garbage collector.

The native module builds them positionally: the field order of each class is
part of the binding (bindings/python/*.cc) and is checked by the tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

Span = tuple[int, int]


def _span(start: int, end: int) -> list[int]:
    return [start, end]


# ---------------------------------------------------------------------------
# Assertion (ConText)


@dataclass(frozen=True, slots=True)
class Cue:
    """A phrase that bore on an assertion (immutable).

    ``kind`` is one of "negation", "uncertainty", "historical", "hypothetical",
    "family", "current", "pseudo", "terminator", "section_default",
    "double_negation"; ``attribute`` is the assertion attribute it bore on.
    """

    kind: str
    attribute: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "attribute": self.attribute, "span": _span(self.start, self.end)}


@dataclass(frozen=True, slots=True)
class Assertion:
    """Whether a span is negated, uncertain, historical, hypothetical or about
    someone other than the patient, with the cues that decided it. Immutable:
    results share the assertions that have no cues."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    cues: tuple[Cue, ...] = ()

    @property
    def affirmed(self) -> bool:
        """True when no attribute is set: a current condition of the patient."""
        return not (self.negated or self.uncertain or self.historical or self.hypothetical
                    or self.family)

    def flags(self) -> dict[str, bool]:
        return {"negated": self.negated, "uncertain": self.uncertain,
                "historical": self.historical, "hypothetical": self.hypothetical,
                "family": self.family}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = self.flags()
        d["cues"] = [c.to_dict() for c in self.cues]
        return d


@dataclass(slots=True)
class ContextResult:
    """The assertion of one target in a text (``chartcoder.context``).

    ``found`` is False when a target phrase does not occur in the text; then
    ``start``/``end`` are None and the assertion is empty.
    """

    found: bool
    start: Optional[int]
    end: Optional[int]
    assertion: Assertion

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``chartcoder context`` (without the id)."""
        span = None
        if self.found and self.start is not None and self.end is not None:
            span = _span(self.start, self.end)
        d: dict[str, Any] = {"found": self.found, "span": span}
        d.update(self.assertion.to_dict())
        return d


# ---------------------------------------------------------------------------
# Text analysis


@dataclass(slots=True)
class Token:
    """A token: ``norm`` is its matching form ("bid" for "b.i.d."); ``kind`` one
    of "word", "number", "punct", "icd_code", "measurement", "date", "time",
    "abbreviation"."""

    start: int
    end: int
    norm: str
    kind: str


@dataclass(slots=True)
class Sentence:
    """A sentence; ``section`` is the index of its section in
    ``Document.sections``; ``tokens`` the range of its tokens in
    ``Document.tokens``."""

    start: int
    end: int
    section: int
    tokens: range
    header: bool
    list_item: bool


@dataclass(slots=True)
class Section:
    """A section: ``kind`` is its canonical kind ("past_medical_history", ...;
    "none" before the first header); the header phrase is
    ``[header_start, header_end)``, empty for the leading "none" section."""

    kind: str
    start: int
    end: int
    header_start: int
    header_end: int


@dataclass(slots=True)
class Document:
    """A note split into tokens, sentences and sections (``TextAnalyzer``)."""

    text: str
    tokens: list[Token]
    sentences: list[Sentence]
    sections: list[Section]


# ---------------------------------------------------------------------------
# Chart results


@dataclass(slots=True)
class Evidence:
    """One mention supporting an assigned code.

    ``spans`` are its matched words, ``sentence`` the sentence holding it;
    ``source`` where the lexicon phrase comes from ("index", "description",
    "curated", "learned" from a coding profile, ...); ``lexicon`` the phrase
    that matched; ``mention_code`` the code the mention itself named;
    ``weight`` its support in [0, 1].
    """

    start: int
    end: int
    text: str
    spans: tuple[Span, ...]
    sentence: Span
    section: str
    source: str
    lexicon: str
    mention_code: str
    weight: float
    assertion: Assertion

    def to_dict(self) -> dict[str, Any]:
        a = self.assertion
        return {"span": [self.start, self.end], "text": self.text,
                "spans": [[b, e] for b, e in self.spans],
                "sentence": [self.sentence[0], self.sentence[1]], "section": self.section,
                "source": self.source, "lexicon": self.lexicon,
                "mention_code": self.mention_code, "weight": self.weight,
                "assertion": {"negated": a.negated, "uncertain": a.uncertain,
                              "historical": a.historical, "hypothetical": a.hypothetical,
                              "family": a.family}}


@dataclass(slots=True)
class AssignedCode:
    """An ICD-10-CM code assigned to a chart, with its evidence (strongest first).

    ``hccs`` maps each model ("V24", "V28") to the payment HCCs this code
    produced in the chart; ``derivation`` says how the code was reached
    ("lexicon", "combination of E11.9 and N18.32", ...). ``evidence`` keeps at
    most the pipeline's ``max_evidence`` spans; ``evidence_count`` counts every
    span that supports the code.
    """

    code: str
    description: str
    score: float
    derivation: str
    hccs: dict[str, tuple[int, ...]]
    evidence: list[Evidence]
    evidence_count: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "score": self.score,
                "derivation": self.derivation,
                "hccs": {m: list(h) for m, h in self.hccs.items()},
                "evidence": [e.to_dict() for e in self.evidence],
                "evidence_count": self.evidence_count}


@dataclass(slots=True)
class Mention:
    """A phrase of the chart naming a code, with its assertion. ``coded`` is
    True when it is evidence of an assigned code (also when the code's
    ``evidence`` list was cut at ``max_evidence`` before it)."""

    start: int
    end: int
    text: str
    code: str
    section: str
    source: str
    lexicon: str
    coded: bool
    assertion: Assertion

    def to_dict(self) -> dict[str, Any]:
        a = self.assertion
        return {"span": [self.start, self.end], "text": self.text, "code": self.code,
                "section": self.section, "source": self.source, "lexicon": self.lexicon,
                "coded": self.coded, "negated": a.negated, "uncertain": a.uncertain,
                "historical": a.historical, "hypothetical": a.hypothetical,
                "family": a.family,
                "cues": [{"kind": c.kind, "span": [c.start, c.end]} for c in a.cues]}


@dataclass(slots=True)
class Hcc:
    """A payment HCC of a chart under one model, with the assigned codes behind
    it. In ``ChartResult.removed_hccs``, ``removed_by`` is the HCC whose
    hierarchy removed it (0 otherwise)."""

    hcc: int
    label: str
    codes: list[str]
    removed_by: int = 0


# ---------------------------------------------------------------------------
# Risk adjustment


@dataclass(slots=True)
class Demographics:
    """What CMS knows about a member.

    age: whole years on February 1 of the payment year (0-130).
    sex: "F"/"M" (also "female", "male", "1", "2").
    dual: "none", "partial", "full", or a two-digit CMS dual status code.
    orec: original reason for entitlement: 0 age, 1 disability, 2 ESRD, 3 both.
    institutional: long-term institutional (the INS segment).
    new_enrollee: fewer than 12 months of Part B (the NE segment).
    chronic_snp: enrolled in a chronic-condition SNP.
    segment: force a segment ("CNA", "INS", ...) instead of choosing it.
    """

    age: int
    sex: str
    dual: str = "none"
    orec: int = 0
    institutional: bool = False
    new_enrollee: bool = False
    chronic_snp: bool = False
    segment: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"age": self.age, "sex": self.sex, "dual": self.dual, "orec": self.orec,
                "institutional": self.institutional, "new_enrollee": self.new_enrollee,
                "chronic_snp": self.chronic_snp}


@dataclass(slots=True)
class ScoredHcc:
    """An HCC of a member after hierarchies; ``coefficient`` is None when the
    member's segment has none for it (``scored`` False)."""

    hcc: int
    label: str
    codes: list[str]
    scored: bool
    coefficient: Optional[float]

    def to_dict(self) -> dict[str, Any]:
        return {"hcc": self.hcc, "label": self.label, "codes": list(self.codes),
                "scored": self.scored, "coefficient": self.coefficient}


@dataclass(slots=True)
class RemovedHcc:
    """An HCC dropped by a hierarchy (``reason`` "hierarchy", ``removed_by`` set)
    or by a CMS rule that keeps it only with others ("requirement", ``rule``
    set)."""

    hcc: int
    label: str
    codes: list[str]
    reason: str
    removed_by: Optional[int]
    rule: Optional[str]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"hcc": self.hcc, "label": self.label, "codes": list(self.codes),
                             "reason": self.reason}
        if self.reason == "hierarchy":
            d["removed_by"] = self.removed_by
        else:
            d["rule"] = self.rule
        return d


@dataclass(slots=True)
class Edit:
    """An age/sex edit applied to a code: ``action`` "invalid" (the code counts
    for nothing) or "override" (it maps to ``hcc`` instead)."""

    code: str
    action: str
    hcc: Optional[int]
    description: str

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "action": self.action}
        if self.action == "override":
            d["hcc"] = self.hcc
        d["description"] = self.description
        return d


@dataclass(slots=True)
class ScoreTerm:
    """One variable of a score: ``kind`` "demographic", "originally_disabled",
    "medicaid", "hcc", "interaction" or "hcc_count"; ``variable`` the
    coefficient's name ("CNA_HCC38")."""

    kind: str
    name: str
    variable: str
    coefficient: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "variable": self.variable,
                "coefficient": self.coefficient}


@dataclass(slots=True)
class CodeOutcome:
    """What happened to one input code: ``status`` "mapped", "no_hcc",
    "not_billable", "invalid" or "removed_by_edit"; ``hccs`` the HCCs it
    produced before hierarchies."""

    code: str
    status: str
    hccs: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.status, "hccs": list(self.hccs)}


@dataclass(slots=True)
class RiskScore:
    """The CMS-HCC score of one member under one model, explained.

    ``raw_score`` is the sum of the terms' coefficients; the normalized and
    payment scores are None when the normalization factor or coding-intensity
    adjustment is not known (given or published). ``codes`` has one outcome
    per distinct input code, in input order.
    """

    model: str
    payment_year: int
    segment: str
    segment_description: str
    segment_forced: bool
    demographics: Demographics
    disabled: bool
    originally_disabled: bool
    medicaid: bool
    hccs: list[ScoredHcc]
    removed_hccs: list[RemovedHcc]
    edits: list[Edit]
    terms: list[ScoreTerm]
    payment_hcc_count: int
    raw_score: float
    demographic_score: float
    disease_score: float
    normalization_factor: Optional[float]
    normalized_score: Optional[float]
    coding_intensity_adjustment: Optional[float]
    payment_score: Optional[float]
    codes: list[CodeOutcome]

    def _codes_with(self, status: str) -> list[str]:
        return [c.code for c in self.codes if c.status == status]

    @property
    def unmapped_codes(self) -> list[str]:
        """Valid codes that map to no HCC of the model."""
        return self._codes_with("no_hcc")

    @property
    def not_billable_codes(self) -> list[str]:
        return self._codes_with("not_billable")

    @property
    def invalid_codes(self) -> list[str]:
        return self._codes_with("invalid")

    @property
    def edited_out_codes(self) -> list[str]:
        return self._codes_with("removed_by_edit")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``chartcoder raf --json`` (docs/raf.md)."""
        demo = self.demographics.to_dict()
        demo.update(disabled=self.disabled, originally_disabled=self.originally_disabled,
                    medicaid=self.medicaid)
        return {
            "model": self.model, "payment_year": self.payment_year, "segment": self.segment,
            "segment_description": self.segment_description,
            "segment_forced": self.segment_forced, "demographics": demo,
            "hccs": [h.to_dict() for h in self.hccs],
            "removed_hccs": [h.to_dict() for h in self.removed_hccs],
            "edits": [e.to_dict() for e in self.edits],
            "terms": [t.to_dict() for t in self.terms],
            "payment_hcc_count": self.payment_hcc_count, "raw_score": self.raw_score,
            "demographic_score": self.demographic_score, "disease_score": self.disease_score,
            "normalization_factor": self.normalization_factor,
            "normalized_score": self.normalized_score,
            "coding_intensity_adjustment": self.coding_intensity_adjustment,
            "payment_score": self.payment_score,
            "codes": [c.to_dict() for c in self.codes],
            "unmapped_codes": self.unmapped_codes,
            "not_billable_codes": self.not_billable_codes,
            "invalid_codes": self.invalid_codes,
            "edited_out_codes": self.edited_out_codes,
        }


@dataclass(slots=True)
class Categorization:
    """The HCCs of codes without a member (``RiskModel.categorize``): the
    mapping, the CMS rules that keep an HCC only with others, and the
    hierarchies; no age/sex edits and no score (``scored`` is False)."""

    model: str
    hccs: list[ScoredHcc]
    removed_hccs: list[RemovedHcc]
    payment_hcc_count: int
    codes: list[CodeOutcome]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "hccs": [h.to_dict() for h in self.hccs],
                "removed_hccs": [h.to_dict() for h in self.removed_hccs],
                "payment_hcc_count": self.payment_hcc_count,
                "codes": [c.to_dict() for c in self.codes]}


@dataclass(slots=True)
class BlendedRiskScore:
    """Scores of one member under several models blended with ``weights``
    (model -> weight): CMS normalizes each model's score, blends, then applies
    the coding adjustment once. ``components`` holds each model's score when
    the blend was made by ``BlendedModel.score`` (empty in chart results,
    whose ``raf`` has them)."""

    weights: dict[str, float]
    raw_score: float
    normalized_score: Optional[float]
    coding_intensity_adjustment: Optional[float]
    payment_score: Optional[float]
    components: dict[str, RiskScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "raw_score": self.raw_score,
                "normalized_score": self.normalized_score,
                "coding_intensity_adjustment": self.coding_intensity_adjustment,
                "payment_score": self.payment_score}


@dataclass(slots=True)
class ChartResult:
    """One coded chart.

    ``text`` is the chart as analyzed (the input ``str``, or the decoded bytes);
    every offset indexes it. ``codes`` are ranked by score; ``mentions`` are
    every diagnosis phrase in text order with its assertion; ``hccs`` and
    ``removed_hccs`` map each model ("V24", "V28") to its payment HCCs and to
    those a hierarchy dropped; ``raf`` (model -> RiskScore) and
    ``blended_raf`` are set when the chart was coded with demographics.
    """

    id: str
    text: str
    codes: list[AssignedCode]
    mentions: list[Mention]
    hccs: dict[str, list[Hcc]]
    removed_hccs: dict[str, list[Hcc]]
    raf: Optional[dict[str, RiskScore]] = None
    blended_raf: Optional[BlendedRiskScore] = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``chartcoder code`` (schema 1) with str offsets."""
        d: dict[str, Any] = {
            "schema": 1, "id": self.id, "bytes": len(self.text.encode("utf-8")),
            "codes": [c.to_dict() for c in self.codes],
            "mentions": [m.to_dict() for m in self.mentions],
            "hccs": {m: [{"hcc": h.hcc, "label": h.label, "codes": list(h.codes)} for h in hs]
                     for m, hs in self.hccs.items()},
            "removed_hccs": {m: [{"hcc": h.hcc, "label": h.label, "removed_by": h.removed_by}
                                 for h in hs]
                             for m, hs in self.removed_hccs.items()},
        }
        if self.raf:
            raf: dict[str, Any] = {m: s.to_dict() for m, s in self.raf.items()}
            if self.blended_raf is not None:
                raf["blended"] = self.blended_raf.to_dict()
            d["raf"] = raf
        return d

    def to_json(self) -> str:
        """``to_dict()`` as one line of JSON (str offsets)."""
        import json
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Code set


@dataclass(slots=True)
class Code:
    """An ICD-10-CM code of the data pack: ``parent`` and ``children`` are
    dotted codes; ``chapter`` "4", ``block`` "E08-E13"."""

    code: str
    description: str
    billable: bool
    parent: Optional[str]
    children: list[str]
    chapter: str
    chapter_description: str
    block: str
    block_description: str
    requires_seventh_character: bool
    depth: int

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description, "billable": self.billable,
                "parent": self.parent, "children": list(self.children),
                "chapter": self.chapter, "chapter_description": self.chapter_description,
                "block": self.block, "block_description": self.block_description,
                "requires_seventh_character": self.requires_seventh_character,
                "depth": self.depth}


@dataclass(slots=True)
class Note:
    """An instructional note of the Tabular List: ``kind`` "excludes1",
    "use_additional_code", ...; ``refs`` the codes or ranges it names ("E08.-",
    "I10-I16")."""

    kind: str
    text: str
    refs: list[str]


@dataclass(slots=True)
class SearchHit:
    """A code found by free-text search; ``matched`` is the description,
    inclusion term or index path that matched, ``source`` which of those."""

    code: str
    description: str
    billable: bool
    score: float
    matched: str
    source: str


@dataclass(slots=True)
class HccCategory:
    """A payment-model category of a code: ``model`` as CMS names it
    ("CMS-HCC Model V28"), ``hcc`` "HCC38"."""

    model: str
    hcc: str
    label: str


@dataclass(slots=True)
class IndexTerm:
    """A term of the Alphabetic Index or the Table of Neoplasms."""

    title: str
    path: str
    code: str
    manifestation_code: str
    see: str
    see_also: str
    level: int
    children: list[str]


@dataclass(slots=True)
class DataPackInfo:
    """What a data pack holds and where it came from."""

    path: str
    format_version: int
    size_bytes: int
    icd10cm_fiscal_year: int
    icd10cm_index_year: int
    hcc_payment_year: int
    hcc_models: list[str]
    code_count: int
    billable_code_count: int
    index_term_count: int
    neoplasm_term_count: int
    metadata: dict[str, str]


@dataclass(slots=True)
class Table:
    """A reference table of the data pack ("hcc/ra_labels", "curated/...")."""

    name: str
    columns: list[str]
    rows: list[tuple[str, ...]]


# ---------------------------------------------------------------------------
# Sealed files and keys


@dataclass(slots=True)
class KeyInfo:
    """A key of a keyring (never the key itself): ``created`` RFC 3339 UTC;
    ``active`` for the key new files are sealed with."""

    id: str
    created: str
    active: bool


@dataclass(slots=True)
class SealedFileInfo:
    """A sealed file's header and what its size implies; nothing decrypted.
    ``size_consistent`` is False for a truncated or extended file (the counts
    are then 0)."""

    format_version: int
    key_id: str
    segment_size: int
    file_size: int
    size_consistent: bool
    segment_count: int
    plaintext_size: int
