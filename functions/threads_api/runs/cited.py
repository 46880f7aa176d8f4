"""A reply's text as a stream sends it, with its citations: each delta carries the annotations of the markers
it completes (``domain.citations``), their ``start_index``/``end_index`` in the whole text and their ``index``
among the reply's annotations, so that the SDK's snapshot, merged from the deltas, equals the stored message.

Text from a ``【`` that is not closed yet is held back until it closes (or until it is too far from the end to
be a marker: ``citations.settled``): a marker is never split across deltas, so no delta's annotation points
at text the client does not have yet.
"""

from __future__ import annotations

from threads_api.domain import citations
from threads_api.domain.records import JsonObject
from threads_api.runs.event_objects import text_delta


class CitedText:
    """One reply's text, as sent so far. ``sources``: for each search of the run, its results' file ids."""

    def __init__(self, sources: list[list[str]]) -> None:
        self.sources = sources
        self.sent = ""

    def delta(self, message_id: str, text: str) -> str | None:
        """The delta event of what ``text`` (the reply so far) adds to what was sent, or None: nothing new, or
        a retried answer that restarts (its text is sent once it passes what was)."""
        if not text.startswith(self.sent):
            return None
        return self._piece(message_id, text[: citations.settled(text)])

    def rest(self, message_id: str, message: JsonObject) -> str | None:
        """At the reply's end (``message``, as stored): the delta of the text not sent yet, held back or not,
        with the stored annotations that start in it; None if it was all sent (or differs: a retry's)."""
        text = "".join(p["text"]["value"] for p in message["content"] if p.get("type") == "text")
        if not text.startswith(self.sent) or len(text) <= len(self.sent):
            return None
        stored = [a for p in message["content"] if p.get("type") == "text" for a in p["text"]["annotations"]]
        start = len(self.sent)
        self.sent = text
        fresh = [{"index": i, **a} for i, a in enumerate(stored) if a.get("start_index", 0) >= start]
        return text_delta(message_id, text[start:], fresh)

    def _piece(self, message_id: str, settled: str) -> str | None:
        start = len(self.sent)
        if len(settled) <= start:
            return None
        found = citations.annotations(settled, self.sources)
        fresh = [{"index": i, **a} for i, a in enumerate(found) if a["start_index"] >= start]
        self.sent = settled
        return text_delta(message_id, settled[start:], fresh)
