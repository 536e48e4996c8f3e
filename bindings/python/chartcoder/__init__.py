"""chartcoder: code medical charts to ICD-10-CM, CMS-HCC and RAF from Python.

    import chartcoder
    codes = chartcoder.CodeSet()
    codes.find("E11.9")["description"]
"""
from ._errors import (ChartcoderError, DataLossError, FailedPreconditionError, InternalError,
                      InvalidArgumentError, NotFoundError, ResourceExhaustedError)
from ._chartcoder import CodeSet, library_version

__version__ = library_version()

__all__ = [
    "ChartcoderError", "CodeSet", "DataLossError", "FailedPreconditionError", "InternalError",
    "InvalidArgumentError", "NotFoundError", "ResourceExhaustedError", "library_version",
]
