"""What the worker keeps while it works on a run in one invocation: the run as last saved, the reply's text so far
(saved on the run for the streams that read it, and told to the stream that runs here), and what a search round
read once and the next round reuses (``Memo``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from threads_api.domain.errors import TooLarge
from threads_api.domain.file_search import SearchRecord
from threads_api.domain.records import Message, Run
from threads_api.domain.vector_stores import VectorStore
from threads_api.observability import logger
from threads_api.store.run_items import metadata_room, stored_size
from threads_api.store.runs import save_run

PROGRESS_SECONDS = 0.25  # how often a streamed reply's text so far is saved (a write each time), at most
# The write units a second those saves may take: each rewrites the run's item (1 unit a KB), and one
# partition takes 1,000 a second, so a run with vast instructions or tools saves its text less often.
PROGRESS_WRITE_UNITS_PER_SECOND = 100


@dataclass(slots=True)
class Memo:
    """Read once an invocation, for every model call of its search rounds: the thread's messages (the thread
    takes none while the run holds it) and the run's replies (each round's own added as it is saved), the
    records of its file_search calls (those made here, and those read back), and the stores it searches."""

    history: list[Message] | None = None
    replies: dict[str, Message] = field(default_factory=dict)
    records: dict[tuple[str, int], SearchRecord] = field(default_factory=dict)
    stores: list[VectorStore] | None = None


class Progress:
    """The reply's text so far, saved on the run (``partial``) for the streams that read it: at most every
    ``PROGRESS_SECONDS``, and no more write units a second than ``PROGRESS_WRITE_UNITS_PER_SECOND``. A save
    that finds the run changed (cancelled) raises ``Conflict``: the model's answer is abandoned.

    The text is saved while the run's item holds it with room left for the largest metadata (a modify may
    come meanwhile); past that, no more: the reply's message carries the whole text, and a stream sends the
    rest from it once the run has ended (``events``)."""

    def __init__(self, project: str, run: Run, observe: Callable[[Run], None] | None = None) -> None:
        self.project = project
        self.run = run
        self.memo = Memo()
        self._observe = observe
        self._saved_at = 0.0
        self._full = False  # the text so far no longer fits the run's item: it is saved no more
        self.heard: str | None = None  # the reply's text so far, all of it (a stream may have been told it)

    @cached_property
    def _base_bytes(self) -> int:
        return stored_size(self.project, dataclasses.replace(self.run, partial=None))

    def interval(self, so_far: str) -> float:
        """Seconds between two saves of the run with ``so_far`` as its text."""
        units = (self._base_bytes + len(so_far.encode())) / 1024
        return max(PROGRESS_SECONDS, units / PROGRESS_WRITE_UNITS_PER_SECOND)

    @property
    def observed(self) -> bool:
        return self._observe is not None

    def tell(self, run: Run) -> None:
        """The observer, told ``run``; whatever it does wrong (a client gone), the run goes on."""
        if self._observe is None:
            return
        try:
            self._observe(run)
        except Exception:
            logger.exception("stream observer failed", extra={"run_id": run.id})
            self._observe = None

    def text(self, so_far: str) -> None:
        self.heard = so_far
        self.tell(dataclasses.replace(self.run, partial=so_far))
        since = time.monotonic() - self._saved_at
        if self._full or since < PROGRESS_SECONDS or since < self.interval(so_far):
            return
        try:
            saving = dataclasses.replace(self.run, partial=so_far)
            self.run = save_run(self.project, saving, headroom=metadata_room(self.run))
        except TooLarge:  # nothing was written
            self._full = True
            return
        self._saved_at = time.monotonic()

    def next_round(self, run: Run) -> None:
        """A search round was saved (``run``): the next model call's reply starts from nothing. What this one
        said is saved (a failure next must not keep it twice), and the run's item has grown (its pace of saves
        is measured again)."""
        self.run = run
        self.heard = None
        self._saved_at = 0.0
        self._full = False
        self.__dict__.pop("_base_bytes", None)
