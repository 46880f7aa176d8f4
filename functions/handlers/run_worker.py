"""The run worker: invoked asynchronously (``{"thread_id", "run_id"}``) by the functions that start runs."""

from typing import Any

from threads_api import providers
from threads_api.observability import with_lambda_context
from threads_api.runs import worker

PROVIDER = providers.from_environment()  # once per container: settings read, clients built, key fetched lazily


@with_lambda_context
def handler(event: dict[str, Any], context: Any = None) -> None:
    def seconds_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 if context is not None else 600.0

    invocation = getattr(context, "aws_request_id", None)  # Lambda's retries of an invocation keep its id
    worker.execute(str(event["thread_id"]), str(event["run_id"]), PROVIDER, seconds_left, invocation)
