"""The ingestion worker: invoked asynchronously, one event per file (``vector_stores.starter.event``), by the
functions that add files to vector stores (``vector_stores.ingestion.on_event``)."""

from typing import Any

from threads_api import embeddings
from threads_api.observability import with_lambda_context
from threads_api.vector_stores import ingestion

EMBEDDER = embeddings.from_environment()  # once per container: settings read, clients built, key fetched lazily


@with_lambda_context
def handler(event: dict[str, Any], context: Any = None) -> None:
    def seconds_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 if context is not None else 600.0

    ingestion.on_event(event, EMBEDDER, seconds_left)
