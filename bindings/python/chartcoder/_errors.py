"""Exceptions raised by chartcoder, mapped from the C++ library's status codes."""
from typing import Optional


class ChartcoderError(Exception):
    """Base class of every chartcoder error. ``code`` is the C++ status code
    name ("INVALID_ARGUMENT", ...)."""

    code = "UNKNOWN"

    def __init__(self, message: str = "", code: Optional[str] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgumentError(ChartcoderError, ValueError):
    """Bad input or options."""

    code = "INVALID_ARGUMENT"


class NotFoundError(ChartcoderError, KeyError):
    """A file, key, code or record does not exist."""

    code = "NOT_FOUND"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataLossError(ChartcoderError):
    """Corrupt, truncated or unauthenticated data."""

    code = "DATA_LOSS"


class FailedPreconditionError(ChartcoderError):
    """Wrong state or format version."""

    code = "FAILED_PRECONDITION"


class ResourceExhaustedError(ChartcoderError):
    """A size limit was exceeded."""

    code = "RESOURCE_EXHAUSTED"


class InternalError(ChartcoderError):
    """A bug in chartcoder."""

    code = "INTERNAL"


_BY_CODE = {
    "INVALID_ARGUMENT": InvalidArgumentError,
    "NOT_FOUND": NotFoundError,
    "DATA_LOSS": DataLossError,
    "FAILED_PRECONDITION": FailedPreconditionError,
    "RESOURCE_EXHAUSTED": ResourceExhaustedError,
    "INTERNAL": InternalError,
}


def raise_status(code: str, message: str) -> None:
    """Raises the exception for an absl status code name."""
    raise exception_for(code, message)


def exception_for(code: str, message: str) -> ChartcoderError:
    """The exception (not raised) for an absl status code name."""
    cls = _BY_CODE.get(code)
    return cls(message) if cls is not None else ChartcoderError(message, code)
