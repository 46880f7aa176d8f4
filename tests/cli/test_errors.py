"""AWS's errors put into words (in process: the cases no local server produces)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from infra.ops import cli_errors
from infra.ops.cli_errors import CliError


def _client_error(code: str, message: str = "It says no.", operation: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (_client_error("ExpiredTokenException"), "Your AWS credentials have expired."),
        (_client_error("UnrecognizedClientException"), "AWS did not accept your credentials"),
        (_client_error("ProvisionedThroughputExceededException"), "AWS is throttling Query on table t"),
        (_client_error("AccessDeniedException", "User u is not authorized"), "AWS denied Query on table t"),
        (_client_error("ResourceNotFoundException"), "Table t does not exist in eu-west-1."),
        (_client_error("ValidationException", "The table does not have the specified index"), "no by_owner index"),
        (_client_error("SomethingElse", "Odd."), "AWS refused Query on table t: SomethingElse: Odd."),
        (NoCredentialsError(), "No AWS credentials were found."),
        (EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"), "Could not reach AWS"),
    ],
)
def test_aws_errors_in_words(error: Exception, sentence: str) -> None:
    said = cli_errors.aws(error, "on table t", region="eu-west-1", table="t")
    assert sentence in said.message
    assert said.code == cli_errors.FAILURE
    assert "\n" not in said.message


def test_run_prints_the_sentence_and_returns_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise cli_errors.usage("KEY is empty.")

    assert cli_errors.run(fail, debug=False) == cli_errors.USAGE
    assert capsys.readouterr().err == "KEY is empty.\n"


def test_run_turns_a_bug_into_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def bug() -> None:
        raise KeyError("oops")

    assert cli_errors.run(bug, debug=False) == cli_errors.FAILURE
    err = capsys.readouterr().err
    assert "Unexpected error: KeyError" in err
    assert "--debug" in err
    assert "Traceback" not in err


def test_cli_error_defaults_to_failure() -> None:
    assert CliError("x").code == 1
