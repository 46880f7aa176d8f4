"""Citation markers in a reply, and the ``file_citation`` annotations they become: pure, no I/O.

A file_search call's excerpts reach the model each headed by a marker, ``【s:r†label】`` (s: the call's number
among the run's file_search calls, r: the excerpt's number in that call), OpenAI's own shape. A reply that copies
a marker gets an annotation spanning it (its ``text`` is the marker, which stays in the text, as OpenAI's replies
kept it); ``【r†label】`` names an excerpt of the latest search. The label is only for the reader: (s, r) decide
the file. A marker naming an excerpt the run never gave stays in the text with no annotation.

Indices are Python string indices (code points) of the reply's text. The final message, a read during the run
and a stream's deltas all call ``annotations`` on the same text and the same sources, so they agree; a stream
sends text only up to ``settled``, so that a marker is never cut between two deltas.
"""

# No ``from __future__ import annotations``: it would be shadowed by this module's ``annotations`` (nothing here
# needs deferred annotations).
import re

from threads_api.domain.records import JsonObject

# Numbers of at most 4 digits (a run has at most 8 searches of at most 50 results), a label of at most 256
# characters without brackets or line breaks: a match is at most 268 characters.
MARKER = re.compile(r"【(\d{1,4})(?::(\d{1,4}))?†([^【】\n]{0,256})】")
# A stream holds back text from an unclosed 【 this close to the end (a marker may still be being written);
# farther back, the 【 cannot open a marker any more (MARKER's longest is shorter), so the text is sent.
MARKER_MAX_CHARS = 300
LABEL_MAX_CHARS = 64

# Characters a label may not hold: they would end the marker or the line early, or open another one.
_UNSAFE = re.compile(r"[【】†\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def label(filename: str) -> str:
    """A file name made safe to write inside a marker: brackets, daggers and line breaks become spaces, at most
    ``LABEL_MAX_CHARS`` characters."""
    return _UNSAFE.sub(" ", filename)[:LABEL_MAX_CHARS]


def marker(number: int, index: int, filename: str) -> str:
    """The marker of excerpt ``index`` of search ``number``, as the model is shown it."""
    return f"【{number}:{index}†{label(filename)}】"


def annotations(text: str, sources: list[list[str]]) -> list[JsonObject]:
    """The ``file_citation`` annotations of ``text``, in order: one per marker that names an excerpt the run
    gave. ``sources[s][r]`` is the file id of excerpt r of search s (``file_search.sources``)."""
    found: list[JsonObject] = []
    for match in MARKER.finditer(text):
        first, second = int(match.group(1)), match.group(2)
        number, index = (first, int(second)) if second is not None else (len(sources) - 1, first)
        if not 0 <= number < len(sources) or index >= len(sources[number]):
            continue  # a number the run never gave: the text stays, unannotated
        found.append(
            {
                "type": "file_citation",
                "text": match.group(0),
                "file_citation": {"file_id": sources[number][index]},
                "start_index": match.start(),
                "end_index": match.end(),
            }
        )
    return found


def settled(text: str) -> int:
    """How much of ``text``, a reply still being written, may be sent now: all of it, or up to its last 【 when
    that one is unclosed and near enough to the end to become a marker still. Never smaller for a longer text
    that starts with this one, so a stream never takes back what it sent."""
    opened = text.rfind("【")
    if opened < 0 or "】" in text[opened:] or len(text) - opened > MARKER_MAX_CHARS:
        return len(text)
    return opened
