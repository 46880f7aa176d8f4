"""Identifiers, ordering keys, and the clock they are made from."""

from __future__ import annotations

import re
import secrets
import string
import threading

from threads_api.domain import limits

_BASE62 = string.ascii_letters + string.digits

# An id in a path, a query, a cursor or a body: 1 to 64 characters of [A-Za-z0-9_-].
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{limits.ID_MAX_CHARS}}}")
# The prefix of each kind of object's ids (the kind is what a 404 names).
ID_PREFIXES = {
    "thread": "thread_",
    "message": "msg_",
    "assistant": "asst_",
    "run": "run_",
    "step": "step_",
    "file": "file-",
    "vector store": "vs_",
    "file batch": "vsfb_",
    "upload": "upload_",
    "part": "part_",
}


def new_id(prefix: str) -> str:
    """``prefix`` followed by 24 base62 characters from a cryptographic source, like OpenAI's ids.

    Bytes below 248 (4 x 62) map to base62 without bias; the rest are dropped. One call to the OS's
    random source instead of 24 (``secrets.choice`` costs about 4 us a character).
    """
    chars: list[str] = []
    while len(chars) < 24:
        chars += [_BASE62[b % 62] for b in secrets.token_bytes(32) if b < 248]
    return prefix + "".join(chars[:24])


def derived_id(prefix: str, seed: bytes) -> str:
    """``prefix`` and 24 base62 characters derived from ``seed`` (a SHA-256 digest): the same seed, the same id.

    The 256-bit digest read as a number, in base 62: 62**24 (about 2**143) divides 2**256 with a remainder
    too small (relative to the quotient) to bias any character measurably.
    """
    number = int.from_bytes(seed, "big")
    chars = []
    for _ in range(24):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return prefix + "".join(chars)


def order_key(ms: int, seq: int) -> str:
    """A sortable key: 12 hex digits of epoch milliseconds, then 8 of a sequence number.

    Messages given together at thread creation share a millisecond and are told apart by ``seq``.
    """
    return f"{ms:012x}{seq:08x}"


def next_order_key(ms: int, after: str | None) -> str:
    """A key for a new item that sorts after ``after`` (the thread's last message key), even on clock skew."""
    key = order_key(ms, secrets.randbits(32))
    if after is not None and key <= after:
        key = f"{int(after, 16) + 1:020x}"
    return key


class CreationOrder:
    """Keys that sort in the order this process made them: the order of a project's threads.

    A key is ``order_key(ms, seq)`` and 8 random hex digits. Within one process (a Lambda container) keys
    strictly increase, even within one millisecond (``seq`` counts up) or when the clock steps back (the
    last millisecond is kept until the clock passes it). Keys of different containers are ordered by
    millisecond; within one millisecond their order is arbitrary, but the random tail keeps them distinct,
    so a cursor (``gsk > key``) never skips a thread and a writer can recognise its own item by its key.
    No DynamoDB round trip: the sequence lives in the process.
    """

    _SEQ_LIMIT = 16**8  # order_key's eight hex digits

    def __init__(self) -> None:
        self._lock = threading.Lock()  # make serve runs handlers on threads; Lambda, one request at a time
        self._ms = -1
        self._seq = 0

    def next_key(self, ms: int) -> str:
        with self._lock:
            if ms > self._ms:
                self._ms, self._seq = ms, 0
            elif self._seq + 1 < self._SEQ_LIMIT:
                self._seq += 1
            else:  # a sequence spent within one millisecond: borrow the next one
                self._ms, self._seq = self._ms + 1, 0
            return f"{order_key(self._ms, self._seq)}{secrets.randbits(32):08x}"
