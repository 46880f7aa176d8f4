"""The operator's commands answer in sentences: expected failures as ``CliError``, AWS's errors put into words.

A ``CliError`` carries one or two sentences (what went wrong, what to do next) and an exit code: ``USAGE``
(2) for a missing, empty or invalid argument, ``FAILURE`` (1) for everything else. ``run`` prints the
sentences, not a traceback, unless ``--debug`` asked for one.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

OK = 0
FAILURE = 1
USAGE = 2


class CliError(Exception):
    """An expected failure: the message is what the operator reads."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def usage(message: str) -> CliError:
    return CliError(message, USAGE)


def run(command: Callable[[], None], debug: bool) -> int:
    """Run ``command``; a ``CliError`` becomes its sentences on stderr and its exit code."""
    try:
        command()
    except CliError as exc:
        if debug:
            traceback.print_exc()
        print(exc.message, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"Unexpected error: {type(exc).__name__}: {exc}. Run the command again with --debug (DEBUG=1 for make) "
            "to see the traceback.",
            file=sys.stderr,
        )
        return FAILURE
    return OK


# -- AWS's errors, in words ------------------------------------------------------------------------------

_CREDENTIALS_REFUSED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "AuthFailure",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}
_SSO = {"SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError", "SSOError"}


def is_aws(exc: BaseException) -> bool:
    """An error of botocore's (a service's answer, or a failure to get one)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def aws(
    exc: BaseException, doing: str, *, region: str | None = None, table: str | None = None, endpoint: str | None = None
) -> CliError:
    """One or two sentences for a botocore error met while ``doing`` something (e.g. "on table T")."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        return _refused(exc, doing, region=region, table=table, endpoint=endpoint)
    if isinstance(exc, NoCredentialsError):
        return CliError(
            "No AWS credentials were found. Configure them (`aws configure`, `aws sso login`, or AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run this again."
        )
    if type(exc).__name__ in _SSO:
        return CliError(
            f"Your AWS SSO sign-in is missing or has expired ({exc}). Run `aws sso login`, then this again."
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError | ReadTimeoutError):
        if endpoint:
            return CliError(f"Could not reach the local API's DynamoDB at {endpoint}: {exc}. Restart `make serve`.")
        return CliError(f"Could not reach AWS {doing}: {exc}. Check your network, proxy and AWS region.")
    return CliError(f"The AWS call failed {doing}: {exc}.")


def _refused(exc: ClientError, doing: str, *, region: str | None, table: str | None, endpoint: str | None) -> CliError:
    """A service's error answer (a ``ClientError``) in words."""
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", "")).rstrip(".")
    operation = exc.operation_name
    if code == "ResourceNotFoundException" and table is not None:
        if endpoint is not None:
            return CliError(
                f"The local API's table {table} is missing from its DynamoDB at {endpoint}. Restart the API "
                "with `make serve`."
            )
        return CliError(
            f"Table {table} does not exist in {region or 'this AWS region'}. Check TABLE_NAME (or the stack's "
            "TableName output) and the region (AWS_DEFAULT_REGION, AWS_PROFILE)."
        )
    if code == "ValidationException" and "index" in message.lower() and table is not None:
        return CliError(
            f"Table {table} has no by_owner index, so it is not a Threads API table ({message}). Check TABLE_NAME."
        )
    if code in {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}:
        return CliError(
            f"AWS denied {operation} {doing}: {message}. Use credentials that are allowed it (AWS_PROFILE=...), "
            "or ask for the permission."
        )
    if code in _CREDENTIALS_REFUSED:
        return CliError(
            f"AWS did not accept your credentials ({code}: {message}). Check AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or sign in again (`aws sso login`)."
        )
    if code in _EXPIRED:
        return CliError(
            "Your AWS credentials have expired. Refresh them (`aws sso login`, or new temporary keys), then "
            "run this again."
        )
    if code in _THROTTLED:
        return CliError(f"AWS is throttling {operation} {doing} ({code}). Wait a moment and run this again.")
    return CliError(f"AWS refused {operation} {doing}: {code}: {message}.")
