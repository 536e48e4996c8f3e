"""Exceptions raised by chartcoder, mapped from the C++ library's status codes."""


class ChartcoderError(Exception):
    """Base class of every chartcoder error."""


class InvalidArgumentError(ChartcoderError, ValueError):
    """Bad input or options."""


class NotFoundError(ChartcoderError, KeyError):
    """A file, key, code or record does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataLossError(ChartcoderError):
    """Corrupt, truncated or unauthenticated data."""


class FailedPreconditionError(ChartcoderError):
    """Wrong state or format version."""


class ResourceExhaustedError(ChartcoderError):
    """A size limit was exceeded."""


class InternalError(ChartcoderError):
    """A bug in chartcoder."""


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
    return _BY_CODE.get(code, ChartcoderError)(message)
