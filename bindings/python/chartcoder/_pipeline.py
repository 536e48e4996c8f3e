"""chartcoder.Pipeline: charts in, codes with evidence, HCCs and RAF out."""
from __future__ import annotations

import itertools
import os
from typing import Any, Iterable, Iterator, Literal, Mapping, Optional, Sequence, Union, overload

from . import _args
from . import _chartcoder
from ._args import DemographicsLike, PathLike
from ._errors import ChartcoderError, InvalidArgumentError
from ._types import ChartResult

Text = Union[str, bytes]


def _normalization(value: Optional[Mapping[str, float]]) -> dict[str, float]:
    """{"V28": 1.045} (also "v28", "28") -> {"V28": 1.045}."""
    out = {}
    for name, factor in _args.model_values(value, "normalization"):
        key = name.upper() if name.upper().startswith("V") else "V" + name
        if key not in ("V24", "V28"):
            raise InvalidArgumentError(f"normalization: unknown model '{name}' (V24 or V28)")
        out[key] = factor
    return out


class Pipeline:
    """Codes medical charts: the ICD-10-CM codes the text supports (most
    specific billable code, ranked by score, with evidence), every diagnosis
    mention with its assertion (negated, uncertain, historical, hypothetical,
    family), the CMS-HCC V24/V28 categories and, with a member's demographics,
    the RAF score.

        pipeline = chartcoder.Pipeline()
        result = pipeline.code(text, demographics={"age": 72, "sex": "F"})
        for c in result.codes:
            print(c.code, c.score, [text[e.start:e.end] for e in c.evidence])
        results = pipeline.code_many(texts, threads=8)  # C++ threads, GIL released

    Creating one loads the data pack and compiles the lexicons (about a second):
    make one and reuse it. It is immutable and safe to share between Python
    threads. Offsets in results are indices into the chart's ``str``.

    data: the data pack (default: the one installed with chartcoder, or
      $CHARTCODER_DATA). code_set: an already loaded CodeSet to share instead.
    models: HCC models to report ("V24", "V28").
    min_score: codes scoring below this are not assigned (0..1, default 0.5).
    inpatient: code uncertain diagnoses as established (guideline II.H).
    keep_symptoms: keep symptom codes a diagnosis of the same sentence explains.
    profile: a coding profile learned from a coded corpus and compiled into the
      pack (``chartcoder pack --train NAME=FILE``; the build learns "codiesp"),
      for text like that corpus. Default none.
    normalization: {"V24": factor, "V28": factor} instead of the published
      normalization factors; coding_intensity_adjustment: a fraction (0.059).
    blend: {"V24": 0.33, "V28": 0.67} model weights for a blended RAF (default:
      the published blend of the pack's payment year, if any).
    sections, triggers: more section-header and ConText trigger rule files
      (formats of data/section_headers.tsv and data/context_triggers.tsv).
    encoding: how bytes input is read ("utf-8", "windows-1252", "latin-1");
      repair_invalid_utf8: replace invalid UTF-8 by U+FFFD instead of failing.
    max_chart_bytes: larger charts fail with ResourceExhaustedError.
    max_evidence: the most evidence kept per assigned code, strongest first (0
      keeps all; default 20). ``AssignedCode.evidence_count`` still counts every
      span and ``Mention.coded`` marks every mention used.

    Raises NotFoundError (no pack), DataLossError (corrupt pack),
    InvalidArgumentError (bad options).
    """

    def __init__(self, data: Optional[PathLike] = None, *,
                 code_set: Optional[_chartcoder.CodeSet] = None,
                 models: Sequence[str] = ("V24", "V28"), min_score: float = 0.5,
                 inpatient: bool = False, keep_symptoms: bool = False,
                 profile: Optional[str] = None,
                 normalization: Optional[Mapping[str, float]] = None,
                 coding_intensity_adjustment: Optional[float] = None,
                 blend: Optional[Mapping[str, float]] = None,
                 sections: Iterable[PathLike] = (), triggers: Iterable[PathLike] = (),
                 encoding: str = "utf-8", repair_invalid_utf8: bool = False,
                 max_chart_bytes: int = 16 << 20, max_evidence: int = 20) -> None:
        if isinstance(models, str):
            models = [models]
        norm = _normalization(normalization)
        self._native = _chartcoder.Pipeline(
            code_set=code_set, data=_args.path(data), models=list(models),
            min_score=float(min_score), inpatient=inpatient, keep_symptoms=keep_symptoms,
            profile=profile or "",
            normalization_v24=norm.get("V24"), normalization_v28=norm.get("V28"),
            coding_intensity_adjustment=coding_intensity_adjustment,
            blend=_args.model_values(blend, "blend"), sections=_args.paths(sections),
            triggers=_args.paths(triggers), encoding=encoding,
            repair_invalid_utf8=repair_invalid_utf8, max_chart_bytes=max_chart_bytes,
            max_evidence=max_evidence)

    @property
    def code_set(self) -> _chartcoder.CodeSet:
        """The loaded data pack (share it with RiskModel, Context, another Pipeline)."""
        return self._native.code_set

    @property
    def models(self) -> list[str]:
        return self._native.models

    def code(self, text: Text, demographics: Optional[DemographicsLike] = None, *,
             id: str = "") -> ChartResult:
        """Codes one chart (str, or bytes in the pipeline's encoding).

        With demographics (a Demographics or {"age": 72, "sex": "F", ...}) the
        result also has RAF scores. InvalidArgumentError: invalid UTF-8 (byte
        named) or bad demographics; ResourceExhaustedError: chart too large.
        """
        return self._native.code(text, id=id, demographics=_args.demographics(demographics))

    @overload
    def code_many(self, texts: Sequence[Text], *, threads: Optional[int] = None,
                  ids: Optional[Sequence[str]] = None,
                  demographics: _args.ChartsDemographics = None,
                  return_errors: Literal[False] = False) -> list[ChartResult]: ...

    @overload
    def code_many(self, texts: Sequence[Text], *, threads: Optional[int] = None,
                  ids: Optional[Sequence[str]] = None,
                  demographics: _args.ChartsDemographics = None,
                  return_errors: Literal[True]) -> list[Union[ChartResult, ChartcoderError]]: ...

    def code_many(self, texts: Sequence[Text], *, threads: Optional[int] = None,
                  ids: Optional[Sequence[str]] = None,
                  demographics: _args.ChartsDemographics = None,
                  return_errors: bool = False) -> list[Any]:
        """Codes many charts on ``threads`` C++ threads (default: every core)
        with the GIL released, while the calling thread builds the results of
        the charts already coded; results come back in input order.

        ids: one id per chart (default ""); demographics: one member for all
        charts, or one (or None) per chart. A chart that cannot be coded
        raises its error naming the chart ("chart 7 (id): ..."), after the
        threads stopped; with return_errors=True its exception object takes
        its place in the list instead and the others are coded.
        """
        if not isinstance(texts, (list, tuple)):
            texts = list(texts)
        return self._native.code_many(
            texts, ids=None if ids is None else [str(i) for i in ids],
            demographics=_args.charts_demographics(demographics), threads=_args.threads(threads),
            return_errors=return_errors)

    @overload
    def code_iter(self, charts: Iterable[Union[Text, tuple[Any, ...]]], *,
                  threads: Optional[int] = None, batch_size: Optional[int] = None,
                  return_errors: Literal[False] = False) -> Iterator[ChartResult]: ...

    @overload
    def code_iter(self, charts: Iterable[Union[Text, tuple[Any, ...]]], *,
                  threads: Optional[int] = None, batch_size: Optional[int] = None,
                  return_errors: Literal[True]
                  ) -> Iterator[Union[ChartResult, ChartcoderError]]: ...

    def code_iter(self, charts: Iterable[Union[Text, tuple[Any, ...]]], *,
                  threads: Optional[int] = None, batch_size: Optional[int] = None,
                  return_errors: bool = False) -> Iterator[Union[ChartResult, ChartcoderError]]:
        """Codes a stream of charts lazily, in batches of ``batch_size``
        (default 64 per thread) through ``code_many``, yielding results in
        order: memory stays bounded whatever the number of charts.

        Each item is a text, or a tuple (id, text) or (id, text, demographics).
        """
        n = _args.threads(threads)
        size = batch_size or 64 * (n or os.cpu_count() or 1)
        if size < 1:
            raise ValueError("batch_size must be positive")
        it = iter(charts)
        first = 0
        while True:
            batch = list(itertools.islice(it, size))
            if not batch:
                return
            texts, ids, members = [], [], []
            for item in batch:
                if isinstance(item, tuple):
                    if len(item) not in (2, 3):
                        raise TypeError("a chart tuple is (id, text) or (id, text, demographics)")
                    ids.append(str(item[0]))
                    texts.append(item[1])
                    members.append(_args.demographics(item[2]) if len(item) == 3 else None)
                else:
                    ids.append("")
                    texts.append(item)
                    members.append(None)
            yield from self._native.code_many(
                texts, ids=ids,
                demographics=members if any(m is not None for m in members) else None,
                threads=n, return_errors=return_errors, first_index=first)
            first += len(batch)

    def code_file(self, path: PathLike, keys: Optional[_chartcoder.KeyProvider] = None, *,
                  demographics: Optional[DemographicsLike] = None,
                  id: Optional[str] = None) -> ChartResult:
        """Reads a chart file (sealed files are decrypted with ``keys``) and
        codes it; the id defaults to the path. NotFoundError: no such file;
        FailedPreconditionError: sealed and no keys; DataLossError: damaged or
        empty."""
        return self._native.code_file(_args.path(path), keys=keys, id=id,
                                      demographics=_args.demographics(demographics))

    def render(self, text: Text, format: str = "jsonl", *, id: str = "",
               demographics: Optional[DemographicsLike] = None) -> str:
        """Codes one chart and returns it exactly as ``chartcoder code
        --format FORMAT`` writes it: "jsonl" (one JSON line with byte offsets,
        newline-terminated), "fhir" (a FHIR R4 Bundle) or "html" (an evidence
        report). Errors raise as for ``code``."""
        return self._native.render(text, format=format, id=id,
                                   demographics=_args.demographics(demographics))

    def render_many(self, texts: Sequence[Text], format: str = "jsonl", *,
                    threads: Optional[int] = None, ids: Optional[Sequence[str]] = None,
                    demographics: _args.ChartsDemographics = None,
                    error_records: bool = False) -> list[str]:
        """``render`` for many charts on C++ threads, in input order. With
        error_records=True a chart that cannot be coded gives the CLI's error
        record ({"id":...,"error":{...}}) instead of raising."""
        if not isinstance(texts, (list, tuple)):
            texts = list(texts)
        return self._native.render_many(
            texts, format=format, ids=None if ids is None else [str(i) for i in ids],
            demographics=_args.charts_demographics(demographics), threads=_args.threads(threads),
            error_records=error_records)

    def __repr__(self) -> str:
        return f"<chartcoder.Pipeline models={self.models} pack={self.code_set.info.path!r}>"


def error_record(id: str, error: ChartcoderError, format: str = "jsonl") -> str:
    """The record ``chartcoder code`` writes in place of a chart it could not
    read or code ({"schema":1,"id":...,"error":{"code":...,"message":...}} for
    jsonl; a FHIR OperationOutcome; an HTML page), newline-terminated. Use it
    to report charts that failed before reaching the pipeline (e.g.
    ``read_chart`` errors) the way the CLI does."""
    return _chartcoder.error_record(id, error.code, str(error), format)
