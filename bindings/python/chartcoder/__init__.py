"""chartcoder: code medical charts to ICD-10-CM, CMS-HCC and RAF from Python.

    import chartcoder

    pipeline = chartcoder.Pipeline()                      # loads the data pack once
    result = pipeline.code(text, demographics={"age": 72, "sex": "F"})
    for code in result.codes:                              # ranked, with evidence
        print(code.code, code.description, code.score)
        for e in code.evidence:
            print("   ", text[e.start:e.end], e.section, e.assertion.affirmed)
    result.raf["V28"].raw_score
    results = pipeline.code_many(texts, threads=8)         # C++ threads, GIL released

    chartcoder.RiskModel("V28").score(["E11.9", "I50.9"], age=72, sex="F")
    chartcoder.context("Denies chest pain.", "chest pain").assertion.negated  # True
    chartcoder.CodeSet().find("E11.9").description
    chartcoder.read_chart("chart.sealed", chartcoder.Keyring("~/.chartcoder-keyring"))

Offsets in every result are indices into the Python ``str`` of the chart.
Errors raise subclasses of ``ChartcoderError`` named after the C++ status
codes: InvalidArgumentError (a ValueError), NotFoundError (a KeyError),
DataLossError, FailedPreconditionError, ResourceExhaustedError, InternalError.
Charts are PHI: chartcoder never logs chart text, and error messages never
hold it.
"""
from ._errors import (ChartcoderError, DataLossError, FailedPreconditionError, InternalError,
                      InvalidArgumentError, NotFoundError, ResourceExhaustedError)
from ._types import (Assertion, AssignedCode, BlendedRiskScore, Categorization, ChartResult, Code,
                     CodeOutcome, ContextResult, Cue, DataPackInfo, Demographics, Document, Edit,
                     Evidence, Hcc, HccCategory, IndexTerm, KeyInfo, Mention, Note, RemovedHcc,
                     RiskScore, ScoredHcc, ScoreTerm, SealedFileInfo, SearchHit, Section, Sentence,
                     Table, Token)
from ._chartcoder import CodeSet, default_data_pack_path, library_version
from ._hcc import BlendedModel, RiskModel, published_blend
from ._pipeline import Pipeline, error_record
from ._sealed import (FileConversion, KeyProvider, Keyring, OutputFile, inspect_sealed,
                      keys_from_environment, keys_from_spec, looks_sealed, open_output,
                      read_chart, read_chart_bytes, seal, seal_file, unseal, unseal_file)
from ._text import Context, TextAnalyzer, context

__version__ = library_version()

__all__ = [
    # errors
    "ChartcoderError", "DataLossError", "FailedPreconditionError", "InternalError",
    "InvalidArgumentError", "NotFoundError", "ResourceExhaustedError",
    # coding charts
    "Pipeline", "error_record", "ChartResult", "AssignedCode", "Evidence", "Mention", "Hcc",
    "Assertion", "Cue",
    # risk adjustment
    "RiskModel", "BlendedModel", "Demographics", "RiskScore", "BlendedRiskScore",
    "Categorization", "ScoredHcc", "RemovedHcc", "Edit", "ScoreTerm", "CodeOutcome",
    "published_blend",
    # text and assertion
    "Context", "ContextResult", "context", "TextAnalyzer", "Document", "Token", "Sentence",
    "Section",
    # code set
    "CodeSet", "Code", "Note", "SearchHit", "HccCategory", "IndexTerm", "DataPackInfo", "Table",
    "default_data_pack_path",
    # sealed files and keys
    "KeyProvider", "Keyring", "KeyInfo", "keys_from_spec", "keys_from_environment", "seal",
    "unseal", "looks_sealed", "inspect_sealed", "SealedFileInfo", "seal_file", "unseal_file",
    "FileConversion", "read_chart", "read_chart_bytes", "OutputFile", "open_output",
    "library_version",
]
