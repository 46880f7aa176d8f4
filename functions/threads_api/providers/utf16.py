"""Text that a provider's JSON carries as escapes of UTF-16 surrogates (``"\\ud83d\\ude00"`` for 😀): JSON joins
a pair escaped in one string, but not one whose halves come in two stream chunks, and a half may never get its
pair. Python keeps such halves as lone surrogates, which no UTF-8 can hold: the run could not store its reply.
Here a pair becomes its character and a lone half U+FFFD, the replacement character."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def whole(text: str) -> str:
    """``text`` with each surrogate pair joined into its character and each lone half replaced with U+FFFD."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


class Pieces:
    """A streamed text, piece by piece (``add``): ``so_far()`` is always storable, and a prefix of ``final()``.
    A high half that ends a piece waits for the next one, which may start with its low half."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._waiting = ""  # a high half that ended the last piece
        self.added = False

    def add(self, piece: str) -> None:
        piece = self._waiting + piece
        self._waiting = piece[-1] if piece and _high(piece[-1]) else ""
        if self._waiting:
            piece = piece[:-1]
        if piece:
            self._parts.append(whole(piece))
        self.added = True

    def so_far(self) -> str:
        return "".join(self._parts)

    def final(self) -> str | None:
        """The whole text (a high half still waiting replaced), or None if no piece came."""
        if not self.added:
            return None
        return self.so_far() + ("\ufffd" if self._waiting else "")
