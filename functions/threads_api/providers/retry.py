"""The one retry loop of both providers: exponential backoff with full jitter, ``Retry-After`` honoured, and
never a wait (or an attempt) past the caller's deadline."""

from __future__ import annotations

import contextlib
import contextvars
import math
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from threads_api.providers import ProviderError, ShouldStop, Stopped

# The OS's randomness, not the module's generator: restored SnapStart snapshots share the generator's state, so
# their jitter would be the same sequence on every container.
_JITTER = random.SystemRandom()

MIN_ATTEMPT_SECONDS = 0.05  # less time than this left: an attempt could not finish, so none is started
STOP_CHECK_SECONDS = 1.0  # how often ``should_stop`` is asked while an attempt, or a wait, goes on


class Retryable(Exception):
    """An attempt failed in a way another attempt may not: a connection error, a timeout, a 429 or a 5xx.

    ``code`` and ``message`` are the ``ProviderError``'s if it was the last attempt.
    """

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 0.5  # seconds: the first wait is up to this, each next one up to twice the last
    cap: float = 8.0
    max_attempts: int = 8  # a bound on top of the deadline's, so a provider that says "Retry-After: 0" is not hammered
    sleep: Callable[[float], None] = time.sleep  # a test's records the waits instead

    def delay(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**retry)] (AWS's "Exponential Backoff And Jitter")."""
        return _JITTER.uniform(0, min(self.cap, self.base * 2**retry))


def call[T](
    attempt: Callable[[float], T],
    *,
    deadline: float,
    backoff: Backoff,
    should_stop: ShouldStop | None = None,
) -> T:
    """``attempt(seconds_left)`` until it returns, raises something else than ``Retryable``, or no retry is
    left: attempts ran out, or the next wait would end past ``deadline``. Then ``ProviderError`` with the last
    failure's code and message. ``should_stop()`` is asked before each attempt and between the slices of each
    wait: True raises ``Stopped`` (no attempt starts after it)."""
    retry = 0
    while True:
        if should_stop is not None and should_stop():
            raise Stopped
        left = deadline - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise ProviderError("server_error", "The model provider did not answer before the run's time ran out.")
        try:
            return attempt(left)
        except Retryable as failure:
            wait = failure.retry_after if failure.retry_after is not None else backoff.delay(retry)
            retry += 1
            if retry >= backoff.max_attempts or time.monotonic() + wait + MIN_ATTEMPT_SECONDS > deadline:
                raise ProviderError(failure.code, failure.message) from failure
            _pause(backoff, wait, should_stop)


def _pause(backoff: Backoff, seconds: float, should_stop: ShouldStop | None) -> None:
    """Wait ``seconds``: with a ``should_stop``, in slices of ``STOP_CHECK_SECONDS``, asking it between them."""
    if should_stop is None:
        backoff.sleep(seconds)
        return
    while seconds > STOP_CHECK_SECONDS:
        backoff.sleep(STOP_CHECK_SECONDS)
        seconds -= STOP_CHECK_SECONDS
        if should_stop():
            raise Stopped
    backoff.sleep(seconds)  # the next attempt asks again first


@dataclass(slots=True)
class Watch:
    stopped: bool = False  # should_stop() said so while the attempt went on (and ``abort`` was called)


@contextlib.contextmanager
def watching(should_stop: ShouldStop | None, abort: Callable[[], None]) -> Iterator[Watch]:
    """While an attempt goes on (inside the block): ``should_stop()`` every ``STOP_CHECK_SECONDS``, from a
    thread of its own (in the caller's context), and once it says stop, ``abort()`` then and at each check
    after (it closes the attempt's connection, which ends any wait on it: an answer slow to come, a stream of
    keep-alives). The attempt then sees ``watch.stopped``. A failing ``should_stop`` is taken as "go on"."""
    watch = Watch()
    if should_stop is None:
        yield watch
        return
    done = threading.Event()

    def check() -> None:
        while not done.wait(STOP_CHECK_SECONDS):
            with contextlib.suppress(Exception):
                watch.stopped = watch.stopped or should_stop()
                if watch.stopped:
                    abort()

    watcher = threading.Thread(target=contextvars.copy_context().run, args=(check,), name="stop-watch", daemon=True)
    watcher.start()
    try:
        yield watch
    finally:
        done.set()
        watcher.join(STOP_CHECK_SECONDS)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (a provider's HTTP-date form is rare, and treated as absent)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def watched[T](attempt: Callable[[list[Any]], T], should_stop: ShouldStop | None) -> T:
    """``attempt(sockets)``, which adds the sockets it opens to ``sockets``, abandoned when ``should_stop()``
    says so while it goes on: they are shut down (``watching``), which ends whatever it waits for (an answer's
    headers, the next chunk, a keep-alive), and whatever it then raises becomes ``Stopped``."""
    sockets: list[Any] = []
    with watching(should_stop, lambda: _shut_down(sockets)) as watch:
        try:
            return attempt(sockets)
        except Exception as exc:
            if watch.stopped:
                raise Stopped from exc
            raise


def _shut_down(sockets: list[Any]) -> None:
    """End every wait on these sockets now (from another thread): a read returns at once, with nothing. The
    plain socket's shutdown, also under TLS: an SSLSocket's own would unwrap it under the reading thread."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
