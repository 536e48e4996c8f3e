"""ConText assertion of any span or phrase, and the clinical text front end."""
from __future__ import annotations

import threading
from typing import Iterable, Optional, Sequence, Union

from . import _args
from . import _chartcoder
from ._args import PathLike
from ._types import ContextResult, Document

Target = Union[str, tuple[int, int]]
Text = Union[str, bytes]


class Context:
    """ConText-style assertion: is a phrase or span of a text negated,
    uncertain, historical, hypothetical or about a relative, and which cue
    decided it (the ``chartcoder context`` command as a class).

        ctx = chartcoder.Context()
        r = ctx.assess("Denies chest pain but reports dyspnea.", "chest pain")
        r.assertion.negated, r.assertion.cues[0]  # True, Cue('negation', ..., 0, 6)

    The trigger lexicon and section headers are those compiled into
    chartcoder, or the data pack's with ``data``/``code_set``; ``triggers``
    and ``sections`` add rule files. Immutable; safe to share between threads.
    """

    def __init__(self, *, data: Optional[PathLike] = None,
                 code_set: Optional[_chartcoder.CodeSet] = None,
                 triggers: Iterable[PathLike] = (), sections: Iterable[PathLike] = (),
                 use_builtin_triggers: bool = True, forward_scope: int = 12,
                 backward_scope: int = 5) -> None:
        if code_set is None and data is not None:
            code_set = _chartcoder.CodeSet(_args.path(data))
        self._native = _chartcoder.Context(
            code_set=code_set, triggers=_args.paths(triggers), sections=_args.paths(sections),
            use_builtin_triggers=use_builtin_triggers, forward_scope=forward_scope,
            backward_scope=backward_scope)

    def assess(self, text: Text, target: Target) -> ContextResult:
        """The assertion of ``target`` in ``text``: a phrase (found as the CLI
        finds it: any case, the first occurrence, one at word boundaries
        preferred; ``found`` False if absent) or a (start, end) span of str
        indices (InvalidArgumentError if outside the text)."""
        return self._native.assess(text, [target])[0]

    def assess_all(self, text: Text, targets: Sequence[Target]) -> list[ContextResult]:
        """``assess`` for many targets of one text, analyzing it once."""
        return self._native.assess(text, list(targets))

    def rules(self) -> list[tuple[str, str, str, int]]:
        """The trigger rules in effect: (phrase, kind, direction, max_scope)."""
        return self._native.rules()


class TextAnalyzer:
    """Tokens, sentences and sections of a clinical note, with str offsets.

        doc = chartcoder.TextAnalyzer().analyze(note)
        for s in doc.sentences:
            print(doc.sections[s.section].kind, note[s.start:s.end])
    """

    def __init__(self, *, data: Optional[PathLike] = None,
                 code_set: Optional[_chartcoder.CodeSet] = None,
                 sections: Iterable[PathLike] = (), extra_abbreviations: Iterable[str] = (),
                 encoding: str = "utf-8", repair_invalid_utf8: bool = False) -> None:
        if code_set is None and data is not None:
            code_set = _chartcoder.CodeSet(_args.path(data))
        self._native = _chartcoder.TextAnalyzer(
            code_set=code_set, sections=_args.paths(sections),
            extra_abbreviations=list(extra_abbreviations), encoding=encoding,
            repair_invalid_utf8=repair_invalid_utf8)

    def analyze(self, text: Text) -> Document:
        """The Document of ``text`` (str, or bytes in the analyzer's encoding)."""
        return self._native.analyze(text)


_default_lock = threading.Lock()
_default_context: Optional[Context] = None


def context(text: Text, target: Target) -> ContextResult:
    """``Context().assess(text, target)`` with a default Context made once."""
    global _default_context
    if _default_context is None:
        with _default_lock:
            if _default_context is None:
                _default_context = Context()
    return _default_context.assess(text, target)
