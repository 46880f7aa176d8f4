"""The one retry loop of both providers: exponential backoff with full jitter, ``Retry-After`` honoured, and
never a wait (or an attempt) past the caller's deadline."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from threads_api.providers import ProviderError

# The OS's randomness, not the module's generator: restored SnapStart snapshots share the generator's state, so
# their jitter would be the same sequence on every container.
_JITTER = random.SystemRandom()

MIN_ATTEMPT_SECONDS = 0.05  # less time than this left: an attempt could not finish, so none is started


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
) -> T:
    """``attempt(seconds_left)`` until it returns, raises something else than ``Retryable``, or no retry is
    left: attempts ran out, or the next wait would end past ``deadline``. Then ``ProviderError`` with the last
    failure's code and message."""
    retry = 0
    while True:
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
            backoff.sleep(wait)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (a provider's HTTP-date form is rare, and treated as absent)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
