"""Sealed files (encrypted, authenticated charts and results) and their keys."""
from __future__ import annotations

from typing import NamedTuple, Optional, Union

from . import _args
from . import _chartcoder
from ._args import PathLike
from ._errors import InvalidArgumentError
from ._types import SealedFileInfo

KeyProvider = _chartcoder.KeyProvider
Keyring = _chartcoder.Keyring
OutputFile = _chartcoder.OutputFile


class FileConversion(NamedTuple):
    """What seal_file / unseal_file did."""

    plaintext_bytes: int
    output_bytes: int
    key_id: str


def keys_from_spec(spec: Union[str, bytes]) -> KeyProvider:
    """Keys from "ID:BASE64KEY" specs (comma, space or newline separated; the
    first is active), the form of $CHARTCODER_KEY and ``chartcoder keys export``."""
    return _chartcoder.keys_from_spec(spec)


def keys_from_environment() -> Optional[KeyProvider]:
    """Keys from $CHARTCODER_KEY_FD or $CHARTCODER_KEY; None when neither is set."""
    return _chartcoder.keys_from_environment()


def seal(data: Union[bytes, str], keys: KeyProvider, *, key_id: Optional[str] = None,
         segment_size: int = 64 * 1024) -> bytes:
    """``data`` (a str is sealed as UTF-8) as a sealed file in memory, with the
    active key or ``key_id``."""
    return _chartcoder.seal(data, keys, key_id=key_id or "", segment_size=segment_size)


def unseal(data: bytes, keys: KeyProvider, *, max_bytes: Optional[int] = None) -> bytes:
    """The plaintext of a sealed buffer; nothing is returned unless all of it
    authenticated. DataLossError: damaged, truncated, extended, wrong key or
    not sealed; NotFoundError: its key id is not among the keys."""
    return _chartcoder.unseal(bytes(data), keys, max_bytes=max_bytes)


def looks_sealed(data: bytes) -> bool:
    """True when ``data`` starts like a sealed file (also a damaged one)."""
    return _chartcoder.looks_sealed(bytes(data[:8]))


def inspect_sealed(path: PathLike) -> SealedFileInfo:
    """A sealed file's header and sizes (SealedFileInfo); no key needed."""
    return _chartcoder.inspect_sealed(_args.path(path))


def seal_file(src: PathLike, dst: PathLike, keys: KeyProvider, *, key_id: Optional[str] = None,
              mode: int = 0o600) -> FileConversion:
    """Seals the file ``src`` into ``dst`` (streamed; ``dst`` appears only when
    complete). FailedPreconditionError if ``src`` is already sealed."""
    return FileConversion(*_chartcoder.seal_file(_args.path(src), _args.path(dst), keys,
                                                 key_id=key_id or "", mode=mode))


def unseal_file(src: PathLike, dst: PathLike, keys: KeyProvider) -> FileConversion:
    """Decrypts the sealed file ``src`` into ``dst``, which appears only after
    the whole file authenticated."""
    return FileConversion(*_chartcoder.unseal_file(_args.path(src), _args.path(dst), keys))


def read_chart_bytes(path: PathLike, keys: Optional[KeyProvider] = None, *,
                     max_bytes: int = 64 << 20, allow_empty: bool = False) -> bytes:
    """A chart file's bytes, decrypted if sealed (detected by its magic).
    NotFoundError: no file or unknown key id; FailedPreconditionError: sealed
    and no keys; DataLossError: damaged, or empty (unless allow_empty);
    ResourceExhaustedError: more than max_bytes."""
    return _chartcoder.read_chart_bytes(_args.path(path), keys, max_bytes=max_bytes,
                                        allow_empty=allow_empty)


def read_chart(path: PathLike, keys: Optional[KeyProvider] = None, *,
               max_bytes: int = 64 << 20, allow_empty: bool = False) -> str:
    """``read_chart_bytes`` decoded as UTF-8 (InvalidArgumentError names the
    first invalid byte)."""
    data = read_chart_bytes(path, keys, max_bytes=max_bytes, allow_empty=allow_empty)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgumentError(
            f"{_args.path(path)}: not valid UTF-8 at byte offset {e.start}") from None


def open_output(path: PathLike, keys: Optional[KeyProvider] = None, *, seal: bool = False,
                key_id: Optional[str] = None, mode: int = 0o600) -> OutputFile:
    """An output file that appears at ``path`` only when committed: as a
    context manager it commits on success and leaves nothing on an exception.

        with chartcoder.open_output("results.jsonl.sealed", ring, seal=True) as out:
            for r in results:
                out.write(r.to_json() + "\\n")
    """
    return OutputFile(_args.path(path), keys, seal=seal, key_id=key_id or "", mode=mode)
