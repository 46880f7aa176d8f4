"""The domain's failures. The domain, the wire shapes and the store raise these, with no HTTP status:
``http/errors.py`` maps each to OpenAI's status and envelope, in one place."""

from __future__ import annotations


class NotFound(Exception):
    """No ``kind`` (thread, message) with this id in the caller's project."""

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"No {kind} found with id '{object_id}'.")
        self.kind = kind
        self.object_id = object_id


class BadCursor(Exception):
    """A pagination cursor (``after``/``before``) that names no object of the list."""

    def __init__(self, param: str, object_id: str) -> None:
        super().__init__(f"Invalid '{param}': no object with id '{object_id}' in this list.")
        self.param = param


class Conflict(Exception):
    """The run changed since it was read (another writer, a cancel, saved first): read it again."""


class InProgress(Exception):
    """The object a keyed request creates exists, but is not whole yet (a staged creation still running)."""


class Busy(Exception):
    """Another request is changing the object now (an upload being completed): the same request, retried after
    ``retry_after`` seconds, finds it done."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Unavailable(Exception):
    """DynamoDB throttled or failed past the client's retries; the request may be retried as is."""


class InvalidText(ValueError):
    """Text that is not valid Unicode (a lone UTF-16 surrogate): it cannot be stored as UTF-8."""


class Invalid(ValueError):
    """Input that is not what the API takes: a sentence that names the field (``param``), and OpenAI's
    ``code`` where it has one."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def invalid(message: str, param: str | None = None, code: str | None = None) -> Invalid:
    return Invalid(message, param=param, code=code)


def invalid_id(param: str, max_chars: int = 64) -> Invalid:
    """An id that is not 1 to ``max_chars`` characters of [A-Za-z0-9_-] (``limits.ID_MAX_CHARS``)."""
    return Invalid(
        f"Invalid '{param}': expected an id of 1 to {max_chars} characters of A-Z, a-z, 0-9, '_' and '-'.",
        param=param,
        code="invalid_value",
    )


class Refused(Exception):
    """A well-formed request that the state of its objects refuses (a run that cannot be cancelled, tool
    outputs a run did not ask for): ``param`` names the field where one is at fault."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class ActiveRun(Refused):
    """The thread has an active run (``run_id``): no second run, and no message, until it ends."""

    def __init__(self, thread_id: str, run_id: str, *, adding_messages: bool = False) -> None:
        message = (
            f"Can't add messages to {thread_id} while a run {run_id} is active."
            if adding_messages
            else f"Thread {thread_id} already has an active run {run_id}."
        )
        super().__init__(message)
        self.thread_id = thread_id
        self.run_id = run_id


class TooLarge(Invalid):
    """What the request would store exceeds what one item or one transaction holds: ``size`` and ``bound``
    in bytes, as stored."""

    def __init__(self, message: str, *, size: int, bound: int, param: str | None = None, code: str) -> None:
        super().__init__(message, param=param, code=code)
        self.size = size
        self.bound = bound


class PayloadTooLarge(Invalid):
    """The request carries more than the API takes in one request (a file over its bound): OpenAI's 413."""


class RunFailed(Exception):
    """A run that cannot go on, for a reason the client is told as the run's ``last_error`` (``code``: OpenAI's
    ``server_error`` or ``invalid_prompt``): the worker ends the run ``failed`` with it and releases the thread,
    and does not log it as unexpected (it is said in the run)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
